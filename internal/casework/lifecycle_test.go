package casework

import (
	"strings"
	"testing"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/org"
)

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// relations: one letter each.
var relations = map[byte]Relation{
	'O': {Owner: true},
	'L': {LeadStaff: true},
	'S': {Specialist: true},
	'V': {Supervisor: true},
	'C': {Creator: true},
	'-': {},
}

// The lifecycle as a table: for every status and every target, which
// relations may make the move ("" means the move does not exist).
var lifecycle = map[Status]map[Status]string{
	New:        {Triaged: "SV", Closed: "SV"},
	Triaged:    {InProgress: "OLSV", Closed: "SV"},
	InProgress: {Monitoring: "OSV", Closed: "OSV"},
	Monitoring: {InProgress: "OLSV", Closed: "OSV"},
	Closed:     {Reopened: "SV"},
	Reopened:   {Triaged: "SV", InProgress: "OLSV"},
}

// full is a move that carries everything any transition needs.
func full(to Status) Move {
	return Move{To: to, Severity: High, LeadOrgID: 7, OwnerID: 70, OwnerOrgID: 7, Reason: "səbəb",
		Outcome: OutcomeResolved, ReviewAt: t0.Add(30 * 24 * time.Hour)}
}

func TestEveryTransitionByEveryRelation(t *testing.T) {
	d := DefaultDeadlines()
	for _, from := range Statuses() {
		for _, to := range Statuses() {
			allowed := lifecycle[from][to]
			for letter, rel := range relations {
				c := Case{ID: 1, Status: from, Severity: Medium, LeadOrgID: 7, OwnerID: 70, Version: 3}
				got, err := Apply(c, rel, full(to), d, t0)
				exists := allowed != ""
				may := exists && strings.IndexByte(allowed, letter) >= 0
				switch {
				case !exists && apperr.CodeOf(err) != apperr.Conflict:
					t.Errorf("%s→%s by %c: %v, want a conflict (no such move)", from, to, letter, err)
				case exists && !may && apperr.CodeOf(err) != apperr.Forbidden:
					t.Errorf("%s→%s by %c: %v, want forbidden", from, to, letter, err)
				case may && err != nil:
					t.Errorf("%s→%s by %c: %v, want allowed", from, to, letter, err)
				case may && got.Status != to:
					t.Errorf("%s→%s by %c: status %s", from, to, letter, got.Status)
				}
				// Transitions agrees with Apply.
				listed := false
				for _, s := range Transitions(c, rel) {
					listed = listed || s == to
				}
				if listed != may {
					t.Errorf("%s→%s by %c: Transitions lists it %v, Apply allows it %v", from, to, letter, listed, may)
				}
			}
		}
	}
}

func TestTransitionNeeds(t *testing.T) {
	d := DefaultDeadlines()
	spec := Relation{Specialist: true}
	cases := []struct {
		name   string
		from   Status
		lead   int64
		move   Move
		fields string // the fields named, in order
	}{
		{"triage needs lead and owner", New, 0, Move{To: Triaged}, "lead_org owner"},
		{"triage keeps severity", New, 0, Move{To: Triaged, LeadOrgID: 7, OwnerID: 70, OwnerOrgID: 7}, ""},
		{"triage: bad severity", New, 0, Move{To: Triaged, Severity: "dire", LeadOrgID: 7, OwnerID: 70, OwnerOrgID: 7}, "severity"},
		{"triage: owner outside the lead body", New, 0, Move{To: Triaged, LeadOrgID: 7, OwnerID: 70, OwnerOrgID: 8}, "owner"},
		{"close needs reason and outcome", InProgress, 7, Move{To: Closed}, "reason outcome"},
		{"close: outcome off the list", InProgress, 7, Move{To: Closed, Reason: "x", Outcome: "happy"}, "outcome"},
		{"close: blank reason", InProgress, 7, Move{To: Closed, Reason: "   ", Outcome: OutcomeResolved}, "reason"},
		{"close: reason too long", InProgress, 7, Move{To: Closed, Reason: strings.Repeat("ə", MaxReason+1), Outcome: OutcomeResolved}, "reason"},
		{"monitoring needs a review date", InProgress, 7, Move{To: Monitoring}, "review_at"},
		{"monitoring: review date in the past", InProgress, 7, Move{To: Monitoring, ReviewAt: t0.Add(-time.Hour)}, "review_at"},
		{"monitoring: review date too far", InProgress, 7, Move{To: Monitoring, ReviewAt: t0.AddDate(2, 0, 0)}, "review_at"},
		{"reopen needs a reason", Closed, 7, Move{To: Reopened}, "reason"},
		{"reopen with a reason", Closed, 7, Move{To: Reopened, Reason: "yeni məlumat"}, ""},
		{"unknown status", New, 0, Move{To: "archived"}, "to"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Case{Status: tc.from, Severity: Medium, LeadOrgID: tc.lead}
			if tc.lead != 0 {
				c.OwnerID = 70
			}
			_, err := Apply(c, spec, tc.move, d, t0)
			var got []string
			if err != nil {
				e := apperr.As(err)
				if e.Code != apperr.Invalid {
					t.Fatalf("error %v, want a validation error", err)
				}
				for _, f := range e.Fields {
					got = append(got, f.Field)
				}
			}
			if strings.Join(got, " ") != tc.fields {
				t.Errorf("fields %q, want %q", got, tc.fields)
			}
		})
	}
}

func TestTransitionEffects(t *testing.T) {
	d := DefaultDeadlines()
	spec := Relation{Specialist: true}
	c := Open(NewCase{Type: "violence.bullying", Severity: Medium, Title: "t", Source: FromSchool, ChildIDs: []int64{1},
		DetectedAt: t0.Add(-48 * time.Hour)}, d, t0)
	if c.Status != New || c.Version != 1 {
		t.Fatalf("opened %+v", c)
	}
	if want := t0.Add(24 * time.Hour); !c.ReportDue.Equal(want) {
		t.Errorf("report due %v, want %v (detected + 3 days)", c.ReportDue, want)
	}
	if want := t0.Add(72 * time.Hour); !c.RespondDue.Equal(want) || !c.Due().Equal(want) {
		t.Errorf("respond due %v, due %v, want %v", c.RespondDue, c.Due(), want)
	}
	if c.Overdue(t0.Add(71*time.Hour)) || !c.Overdue(t0.Add(73*time.Hour)) {
		t.Error("overdue is wrong around the response deadline")
	}
	c, err := Apply(c, spec, Move{To: Triaged, Severity: Critical, LeadOrgID: 7, OwnerID: 70, OwnerOrgID: 7}, d, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if c.Severity != Critical || c.LeadOrgID != 7 || c.OwnerID != 70 {
		t.Errorf("triage did not set the assignment: %+v", c)
	}
	if want := t0.Add(time.Hour + 72*time.Hour); !c.ResolveDue.Equal(want) || !c.Due().Equal(want) {
		t.Errorf("resolve due %v, want %v", c.ResolveDue, want)
	}
	owner := Relation{Owner: true}
	if c, err = Apply(c, owner, Move{To: InProgress}, d, t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	review := t0.AddDate(0, 1, 0)
	if c, err = Apply(c, owner, Move{To: Monitoring, ReviewAt: review}, d, t0.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if !c.Due().Equal(review) {
		t.Errorf("monitoring due %v, want the review date", c.Due())
	}
	if c, err = Apply(c, owner, Move{To: Closed, Reason: "uşaq təhlükəsizdir", Outcome: OutcomeResolved}, d, t0.Add(4*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if !c.Due().IsZero() || c.ClosedAt.IsZero() || c.ClosureOutcome != OutcomeResolved || c.Overdue(t0.AddDate(5, 0, 0)) {
		t.Errorf("closed case: %+v", c)
	}
	if c, err = Apply(c, spec, Move{To: Reopened, Reason: "yenidən"}, d, t0.Add(5*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if c.ClosureOutcome != "" || !c.ClosedAt.IsZero() || !c.RespondDue.Equal(t0.Add(9*time.Hour)) {
		t.Errorf("reopened case keeps its closure or has the wrong deadline: %+v", c)
	}
}

func TestRelationOf(t *testing.T) {
	c := Case{LeadOrgID: 7, OwnerID: 70, CreatedBy: 71, District: "BAK-06"}
	p := func(user, orgID int64, t org.Type, district string, roles ...access.Role) access.Principal {
		return access.Principal{UserID: user, OrgID: orgID, OrgType: t, District: district, Roles: roles}
	}
	cases := []struct {
		name string
		p    access.Principal
		want Relation
	}{
		{"owner in the lead body", p(70, 7, org.Police, "", access.AgencyOfficer), Relation{Owner: true, LeadStaff: true}},
		{"colleague in the lead body", p(72, 7, org.Police, "", access.AgencyOfficer), Relation{LeadStaff: true}},
		{"lead body's supervisor", p(73, 7, org.Police, "", access.AgencySupervisor), Relation{LeadStaff: true, Supervisor: true}},
		{"creator elsewhere", p(71, 9, org.School, "BAK-06", access.SchoolPsychologist), Relation{Creator: true}},
		{"city specialist", p(80, 1, org.CityDepartment, "", access.CitySpecialist), Relation{Specialist: true}},
		{"city admin", p(81, 1, org.CityDepartment, "", access.CityAdmin), Relation{Supervisor: true}},
		{"district specialist, same district", p(82, 2, org.District, "BAK-06", access.CitySpecialist), Relation{Specialist: true}},
		{"district specialist, other district", p(83, 3, org.District, "BAK-07", access.CitySpecialist), Relation{}},
		{"analyst in the lead body sees no child data", p(84, 7, org.Police, "", access.Analyst), Relation{}},
		{"nobody", access.Principal{}, Relation{}},
	}
	for _, tc := range cases {
		if got := RelationOf(tc.p, c); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestApplyEdit(t *testing.T) {
	d := DefaultDeadlines()
	s := func(v string) *string { return &v }
	sev := func(v Severity) *Severity { return &v }
	id := func(v int64) *int64 { return &v }
	base := Case{Status: InProgress, Severity: Medium, Title: "Köhnə", LeadOrgID: 7, OwnerID: 70, Type: "violence.bullying"}
	cases := []struct {
		name    string
		rel     Relation
		status  Status
		edit    Edit
		code    apperr.Code
		changed string
	}{
		{"owner retitles", Relation{Owner: true}, InProgress, Edit{Title: s("  Yeni   başlıq ")}, "", "title"},
		{"no change", Relation{Owner: true}, InProgress, Edit{Title: s("Köhnə")}, "", ""},
		{"owner may not raise severity", Relation{Owner: true}, InProgress, Edit{Severity: sev(High)}, apperr.Invalid, ""},
		{"specialist raises severity", Relation{Specialist: true}, InProgress, Edit{Severity: sev(High)}, "", "severity"},
		{"specialist reassigns", Relation{Specialist: true}, InProgress, Edit{OwnerID: id(71), OwnerOrgID: 7}, "", "owner"},
		{"owner outside lead", Relation{Specialist: true}, InProgress, Edit{OwnerID: id(71), OwnerOrgID: 9}, apperr.Invalid, ""},
		{"creator may not edit", Relation{Creator: true}, InProgress, Edit{Title: s("x")}, apperr.Forbidden, ""},
		{"closed case", Relation{Specialist: true}, Closed, Edit{Title: s("x")}, apperr.Conflict, ""},
		{"bad type", Relation{Owner: true}, InProgress, Edit{Type: s("Zorakılıq!")}, apperr.Invalid, ""},
		{"empty title", Relation{Owner: true}, InProgress, Edit{Title: s("  ")}, apperr.Invalid, ""},
	}
	for _, tc := range cases {
		c := base
		c.Status = tc.status
		_, changed, err := ApplyEdit(c, tc.rel, tc.edit, d, t0)
		if apperr.CodeOf(err) != tc.code {
			t.Errorf("%s: %v, want code %q", tc.name, err, tc.code)
		}
		if strings.Join(changed, ",") != tc.changed {
			t.Errorf("%s: changed %q, want %q", tc.name, changed, tc.changed)
		}
	}
}

func TestNewCaseValidate(t *testing.T) {
	ok := NewCase{Type: "violence.bullying", Severity: High, Title: "Zorakılıq", Source: FromSchool, ChildIDs: []int64{1}}
	cases := []struct {
		name   string
		edit   func(*NewCase)
		fields string
	}{
		{"valid", func(*NewCase) {}, ""},
		{"everything missing", func(n *NewCase) { *n = NewCase{} }, "type severity title source"},
		{"bad type", func(n *NewCase) { n.Type = "Violence Bullying" }, "type"},
		{"school case without a child", func(n *NewCase) { n.ChildIDs = nil }, "child_ids"},
		{"hotline case without a child", func(n *NewCase) { n.ChildIDs, n.Source = nil, FromHotline }, ""},
		{"detected tomorrow", func(n *NewCase) { n.DetectedAt = t0.Add(24 * time.Hour) }, "detected_at"},
		{"long title", func(n *NewCase) { n.Title = strings.Repeat("ş", MaxTitle+1) }, "title"},
	}
	for _, tc := range cases {
		n := ok
		tc.edit(&n)
		n.Normalize()
		var got []string
		if err := n.Validate(t0); err != nil {
			for _, f := range apperr.As(err).Fields {
				got = append(got, f.Field)
			}
		}
		if strings.Join(got, " ") != tc.fields {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.fields)
		}
	}
}

func TestDeadlines(t *testing.T) {
	d, err := ParseDeadlines("critical=2h/3h/2d, low = 1d/2d/90d")
	if err != nil {
		t.Fatal(err)
	}
	if got := d.By[Critical]; got != (Span{2 * time.Hour, 3 * time.Hour, 48 * time.Hour}) {
		t.Errorf("critical %+v", got)
	}
	if got, def := d.By[High], DefaultDeadlines().By[High]; got != def {
		t.Errorf("high %+v, want the default %+v", got, def)
	}
	for _, bad := range []string{"dire=1h/1h/1h", "high=1h/1h", "high=1h/x/1h", "high", "high=1h/-1h/1h"} {
		if _, err := ParseDeadlines(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	// A calendar moves non-critical deadlines only.
	d.Calendar = shift(24 * time.Hour)
	if got := d.RespondDue(Critical, t0); !got.Equal(t0.Add(3 * time.Hour)) {
		t.Errorf("critical on the calendar: %v", got)
	}
	if got := d.RespondDue(Low, t0); !got.Equal(t0.Add(72 * time.Hour)) {
		t.Errorf("low on the calendar: %v", got)
	}
}

// shift is a calendar that adds a fixed extra (a weekend, say).
type shift time.Duration

func (s shift) Add(from time.Time, d time.Duration) time.Time { return from.Add(d + time.Duration(s)) }
