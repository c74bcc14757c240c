package plan

import (
	"slices"
	"testing"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/calendar"
	"dayaq/internal/org"
)

func fields(err error) []string {
	if err == nil {
		return nil
	}
	var out []string
	for _, f := range apperr.As(err).Fields {
		out = append(out, f.Field+":"+f.Key)
	}
	return out
}

func day(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 10, 0, 0, 0, calendar.Baku())
}

func TestGoalValidate(t *testing.T) {
	ok := Goal{Domain: Learning, Statement: "Attends 9 of 10 school days", Indicator: "attendance register",
		From: day(2026, 9, 1), Until: day(2026, 12, 1), Status: GoalOpen}
	tests := []struct {
		name   string
		change func(*Goal)
		want   []string
	}{
		{"valid", func(*Goal) {}, nil},
		{"unknown domain", func(g *Goal) { g.Domain = "sport" }, []string{"domain:plans.error.domain"}},
		{"no statement", func(g *Goal) { g.Statement = "  " }, []string{"statement:error.required"}},
		{"short statement", func(g *Goal) { g.Statement = "abc" }, []string{"statement:plans.error.too_short"}},
		{"until before from", func(g *Goal) { g.Until = day(2026, 8, 1) }, []string{"until:plans.error.until_before_from"}},
		{"no dates", func(g *Goal) { g.From, g.Until = time.Time{}, time.Time{} }, []string{"from:error.required", "until:error.required"}},
		{"bad status", func(g *Goal) { g.Status = "won" }, []string{"status:plans.error.goal_status"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := ok
			tt.change(&g)
			if got := fields(g.Validate()); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestActivityResponsibleParty(t *testing.T) {
	base := Activity{Title: "Weekly talk", From: day(2026, 9, 1), Until: day(2026, 12, 1), GoalIDs: []int64{1}}
	staff, body, parent := Responsible{Kind: PartyStaff, UserID: 7}, Responsible{Kind: PartyBody, OrgID: 3}, Responsible{Kind: PartyParent, ParentID: 2}
	tests := []struct {
		kind ActivityKind
		r    Responsible
		want []string
	}{
		{Counselling, staff, nil},
		{Tutoring, body, nil},
		{Counselling, parent, []string{"responsible:plans.error.responsible_staff"}},
		{ParentCommitment, parent, nil},
		{ParentCommitment, staff, []string{"responsible:plans.error.responsible_parent"}},
		{ReferralActivity, body, nil},
		{ReferralActivity, staff, []string{"responsible:plans.error.responsible_body"}},
		{ParentCommitment, Responsible{Kind: PartyParent}, []string{"responsible:error.required"}},
		{"dance", staff, []string{"kind:plans.error.activity_kind"}},
	}
	for _, tt := range tests {
		a := base
		a.Kind, a.Responsible = tt.kind, tt.r
		if got := fields(a.Validate()); !slices.Equal(got, tt.want) {
			t.Errorf("%s by %s: got %v, want %v", tt.kind, tt.r.Kind, got, tt.want)
		}
	}
	a := base
	a.Kind, a.Responsible, a.GoalIDs = Counselling, staff, nil
	if got := fields(a.Validate()); !slices.Equal(got, []string{"goals:plans.error.activity_goals"}) {
		t.Errorf("an activity serving no goal: %v", got)
	}
}

func TestSessionsMissedInARow(t *testing.T) {
	s := func(id int64, d int, attended bool) Session {
		return Session{ID: id, At: day(2026, 10, d), Attended: attended}
	}
	tests := []struct {
		name string
		ss   []Session
		want int
		flag bool
	}{
		{"none", nil, 0, false},
		{"last attended", []Session{s(1, 1, false), s(2, 8, true)}, 0, false},
		{"one missed", []Session{s(1, 1, true), s(2, 8, false)}, 1, false},
		{"two missed in a row", []Session{s(1, 1, true), s(2, 8, false), s(3, 15, false)}, 2, true},
		{"order of input does not matter", []Session{s(3, 15, false), s(1, 1, true), s(2, 8, false)}, 2, true},
		{"missed, attended, missed", []Session{s(1, 1, false), s(2, 8, true), s(3, 15, false)}, 1, false},
		{"all missed", []Session{s(1, 1, false), s(2, 8, false), s(3, 15, false)}, 3, true},
	}
	for _, tt := range tests {
		if got := MissedInARow(tt.ss); got != tt.want || MissedFlag(tt.ss) != tt.flag {
			t.Errorf("%s: %d in a row (flag %v), want %d (%v)", tt.name, got, MissedFlag(tt.ss), tt.want, tt.flag)
		}
	}
}

func TestSessionValidate(t *testing.T) {
	now := day(2026, 10, 20)
	ok := Session{ActivityID: 1, At: day(2026, 10, 19), With: []Participant{WithPupil}, Attended: true}
	if err := ok.Validate(now); err != nil {
		t.Fatal(err)
	}
	missed := ok
	missed.Attended = false
	if got := fields(missed.Validate(now)); !slices.Equal(got, []string{"missed_reason:plans.error.missed_reason"}) {
		t.Errorf("a missed session without a reason: %v", got)
	}
	missed.MissedReason = "ill"
	if err := missed.Validate(now); err != nil {
		t.Errorf("a missed session with a reason: %v", err)
	}
	future := ok
	future.At = day(2026, 10, 25)
	if got := fields(future.Validate(now)); !slices.Equal(got, []string{"at:plans.error.session_future"}) {
		t.Errorf("a session next week: %v", got)
	}
}

func TestClosure(t *testing.T) {
	tests := []struct {
		c    Closure
		want []string
	}{
		{Closure{Outcome: OutcomeMet}, nil},
		{Closure{Outcome: OutcomeMoved}, nil},
		{Closure{Outcome: OutcomeOther}, []string{"note:plans.error.closure_note"}},
		{Closure{Outcome: OutcomeNotMet, Note: "family left the programme"}, nil},
		{Closure{Outcome: "gone"}, []string{"outcome:plans.error.outcome"}},
	}
	for _, tt := range tests {
		if got := fields(tt.c.Validate()); !slices.Equal(got, tt.want) {
			t.Errorf("%+v: got %v, want %v", tt.c, got, tt.want)
		}
	}
	if CanClose(Closed) == nil || CanClose(Active) != nil || CanClose(Draft) != nil {
		t.Error("only a live plan closes")
	}
}

func TestAgreed(t *testing.T) {
	at := func(h int) time.Time { return day(2026, 10, 1).Add(time.Duration(h) * time.Hour) }
	mother, father := int64(1), int64(2)
	tests := []struct {
		name string
		as   []Agreement
		v    int
		want bool
	}{
		{"nobody answered", nil, 1, false},
		{"mother agrees", []Agreement{{ParentID: mother, Version: 1, Agrees: true, At: at(1)}}, 1, true},
		{"agreement to an older version", []Agreement{{ParentID: mother, Version: 1, Agrees: true, At: at(1)}}, 2, false},
		{"father disagrees", []Agreement{{ParentID: mother, Version: 1, Agrees: true, At: at(1)},
			{ParentID: father, Version: 1, Agrees: false, At: at(2)}}, 1, false},
		{"father changes his mind", []Agreement{{ParentID: mother, Version: 1, Agrees: true, At: at(1)},
			{ParentID: father, Version: 1, Agrees: false, At: at(2)}, {ParentID: father, Version: 1, Agrees: true, At: at(3)}}, 1, true},
	}
	for _, tt := range tests {
		if got := Agreed(tt.as, tt.v); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
	if got := fields(Agreement{ParentID: 1, Via: ParentPage}.Validate()); !slices.Equal(got, []string{"reason:plans.error.disagree_reason"}) {
		t.Errorf("disagreeing without a reason: %v", got)
	}
}

func TestConfirmDueOnWorkingDays(t *testing.T) {
	cal := calendar.New(nil)
	// Thursday 17 December 2026, 10:00: five working days are Fri, Mon–Thu → Thursday 24th, 10:00.
	got, err := ConfirmDue(cal, day(2026, 12, 17), 5)
	if err != nil {
		t.Fatal(err)
	}
	if want := day(2026, 12, 24); !got.Equal(want) {
		t.Errorf("confirm due %s, want %s", got, want)
	}
	// Across New Year: Thu 31 Dec and Fri 1 Jan off, Sat 2 Jan carried to Mon 4th → Tue 5th, Wed 6th.
	got, err = ConfirmDue(cal, day(2026, 12, 30), 2)
	if err != nil {
		t.Fatal(err)
	}
	if want := day(2027, 1, 6); !got.Equal(want) {
		t.Errorf("confirm due across New Year %s, want %s", got, want)
	}
}

func TestConsentStandingAndWithdrawal(t *testing.T) {
	at := func(d int) time.Time { return day(2026, 10, d) }
	health := int64(40)
	mother, father := int64(1), int64(2)
	share := func(id, parent int64, d int, given bool, m Method) Consent {
		return Consent{ID: id, ParentID: parent, Purpose: ShareWithBody, OrgID: health, Given: given, Method: m, At: at(d)}
	}
	now := at(20)
	tests := []struct {
		name   string
		cs     []Consent
		allows bool
		lapsed bool
	}{
		{"nothing recorded", nil, false, false},
		{"given on paper", []Consent{share(1, mother, 1, true, OnPaper)}, true, false},
		{"given then withdrawn", []Consent{share(1, mother, 1, true, OnPaper), share(2, mother, 5, false, ParentPage)}, false, false},
		{"withdrawn then given again", []Consent{share(1, mother, 1, false, OnPaper), share(2, mother, 5, true, ParentPage)}, true, false},
		{"one parent withdraws, the other's stands", []Consent{share(1, mother, 1, true, OnPaper), share(2, father, 2, true, OnPaper),
			share(3, mother, 5, false, ParentPage)}, true, false},
		{"verbal within its deadline", []Consent{func() Consent { c := share(1, mother, 18, true, Verbal); c.ConfirmDue = at(25); return c }()}, true, false},
		{"verbal past its deadline lapses", []Consent{func() Consent { c := share(1, mother, 1, true, Verbal); c.ConfirmDue = at(8); return c }()}, false, true},
		{"verbal confirmed in writing", []Consent{func() Consent {
			c := share(1, mother, 1, true, Verbal)
			c.ConfirmDue, c.ConfirmedAt = at(8), at(6)
			return c
		}()}, true, false},
	}
	for _, tt := range tests {
		ss := Current(tt.cs, now)
		if got := Allows(ss, ShareWithBody, health); got != tt.allows {
			t.Errorf("%s: allows %v, want %v", tt.name, got, tt.allows)
		}
		if Allows(ss, ShareWithBody, health+1) {
			t.Errorf("%s: consent for one body allows another", tt.name)
		}
		lapsed := len(ss) == 1 && ss[0].Lapsed
		if lapsed != tt.lapsed {
			t.Errorf("%s: lapsed %v, want %v", tt.name, lapsed, tt.lapsed)
		}
	}

	given := []Consent{share(1, mother, 1, true, OnPaper)}
	if e := WithdrawalEffect(given, share(2, mother, 5, false, ParentPage), now); e != StopSharing {
		t.Errorf("withdrawing the only sharing consent: %q, want stop_sharing", e)
	}
	both := append(slices.Clone(given), share(2, father, 2, true, OnPaper))
	if e := WithdrawalEffect(both, share(3, mother, 5, false, ParentPage), now); e != None {
		t.Errorf("withdrawing while the other parent's consent stands: %q, want none", e)
	}
	alone := []Consent{{ID: 1, ParentID: mother, Purpose: AloneSessions, Given: true, Method: OnPaper, At: at(1)}}
	if e := WithdrawalEffect(alone, Consent{ID: 2, ParentID: mother, Purpose: AloneSessions, Method: ParentPage, At: at(3)}, now); e != StopAloneSession {
		t.Errorf("withdrawing sessions alone: %q", e)
	}
	part := []Consent{{ID: 1, ParentID: mother, Purpose: TakePart, Given: true, Method: OnPaper, At: at(1)}}
	if e := WithdrawalEffect(part, Consent{ID: 2, ParentID: mother, Purpose: TakePart, Method: ParentPage, At: at(3)}, now); e != Suspend {
		t.Errorf("withdrawing taking part: %q", e)
	}
}

func TestConsentValidate(t *testing.T) {
	now := day(2026, 10, 20)
	tests := []struct {
		c    Consent
		want []string
	}{
		{Consent{ParentID: 1, Purpose: TakePart, Given: true, Method: OnPaper, At: now}, nil},
		{Consent{ParentID: 1, Purpose: ShareWithBody, Given: true, Method: Verbal, At: now}, []string{"org:plans.error.consent_body"}},
		{Consent{ParentID: 1, Purpose: TakePart, OrgID: 4, Given: true, Method: OnPaper, At: now}, []string{"org:plans.error.consent_no_body"}},
		{Consent{ParentID: 1, Purpose: "photos", Given: true, Method: "fax", At: now.Add(48 * time.Hour)},
			[]string{"purpose:plans.error.purpose", "method:plans.error.method", "at:plans.error.consent_future"}},
	}
	for _, tt := range tests {
		if got := fields(tt.c.Validate(now)); !slices.Equal(got, tt.want) {
			t.Errorf("%+v: got %v, want %v", tt.c, got, tt.want)
		}
	}
}

func TestNextReviewOnCadence(t *testing.T) {
	cal := calendar.New(nil)
	tests := []struct {
		level Level
		from  time.Time
		want  time.Time
	}{
		// Monday 5 October 2026 + 6 weeks = Monday 16 November, a working day.
		{High, day(2026, 10, 5), time.Date(2026, 11, 16, 18, 0, 0, 0, calendar.Baku())},
		// + 12 weeks = Monday 28 December.
		{Medium, day(2026, 10, 5), time.Date(2026, 12, 28, 18, 0, 0, 0, calendar.Baku())},
		// Saturday 26 September + 6 weeks = Saturday 7 November, then Sunday 8th (Victory Day), Monday 9th (Flag Day) and Tuesday 10th (carried from the 8th): Wednesday 11th.
		{High, day(2026, 9, 26), time.Date(2026, 11, 11, 18, 0, 0, 0, calendar.Baku())},
	}
	for _, tt := range tests {
		got, err := NextReview(cal, DefaultCadence(), tt.level, tt.from)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Equal(tt.want) {
			t.Errorf("%s from %s: %s, want %s", tt.level, tt.from.Format(time.DateOnly), got, tt.want)
		}
		if !cal.IsWorkingDay(got) {
			t.Errorf("%s from %s: due on a day off", tt.level, tt.from.Format(time.DateOnly))
		}
	}
	c, err := ParseCadence("high=4, medium=8")
	if err != nil || c[High] != 4 || c[Medium] != 8 || c[Low] != DefaultCadence()[Low] {
		t.Errorf("ParseCadence: %v %v", c, err)
	}
	if _, err := ParseCadence("urgent=3"); err == nil {
		t.Error("an unknown level is accepted")
	}
	if _, err := ParseCadence("high=0"); err == nil {
		t.Error("a zero cadence is accepted")
	}
}

func TestReviewValidateAndApproval(t *testing.T) {
	goals := []Goal{{ID: 1, Status: GoalOpen}, {ID: 2, Status: GoalOpen}, {ID: 3, Status: GoalDropped}}
	now := day(2026, 11, 20)
	ok := Review{HeldAt: now, Progress: map[int64]Progress{1: SomeGain, 2: Achieved}, LevelFrom: High, LevelTo: Medium, Decision: Continue}
	if err := ok.Validate(goals, now); err != nil {
		t.Fatal(err)
	}
	if !ok.LevelChanged() {
		t.Error("high → medium is a change of level")
	}
	missing := ok
	missing.Progress = map[int64]Progress{1: SomeGain, 9: Worse}
	if got := fields(missing.Validate(goals, now)); !slices.Equal(got, []string{"progress.2:plans.error.progress", "progress.9:plans.error.progress_goal"}) {
		t.Errorf("progress missing and for an unknown goal: %v", got)
	}
	bad := ok
	bad.Progress, bad.Decision, bad.LevelTo = map[int64]Progress{1: 7, 2: NoChange}, "pause", "none"
	if got := fields(bad.Validate(goals, now)); !slices.Equal(got, []string{"decision:plans.error.decision", "level:plans.error.level", "progress.1:plans.error.progress"}) {
		t.Errorf("bad review: %v", got)
	}
	head := access.Principal{UserID: 1, OrgType: org.School, Roles: []access.Role{access.SchoolHead}}
	psych := access.Principal{UserID: 2, OrgType: org.School, Roles: []access.Role{access.SchoolPsychologist}}
	if !CanApprove(head) || CanApprove(psych) {
		t.Error("the head approves a review, the psychologist who wrote it does not")
	}
	if !Overdue(day(2026, 11, 1), now) || Overdue(day(2026, 12, 1), now) || Overdue(time.Time{}, now) {
		t.Error("Overdue")
	}
}

func TestCompareVersions(t *testing.T) {
	g1 := Goal{ID: 1, Domain: Learning, Statement: "Reads 20 pages a week", Indicator: "reading log", Status: GoalOpen}
	g2 := Goal{ID: 2, Domain: Social, Statement: "Joins one club", Indicator: "club list", Status: GoalOpen}
	a1 := Activity{ID: 10, Kind: Tutoring, Title: "Tutoring in maths", GoalIDs: []int64{1}}
	v1 := Snapshot{Goals: []Goal{g1, g2}, Activities: []Activity{a1}}

	g1b := g1
	g1b.Statement, g1b.Indicator = "Reads 30 pages a week", "library card"
	a1b := a1
	a1b.GoalIDs = []int64{2, 1}
	a2 := Activity{ID: 11, Kind: ParentCommitment, Title: "Reads with the child", GoalIDs: []int64{1}}
	v2 := Snapshot{Goals: []Goal{g1b}, Activities: []Activity{a1b, a2}}

	got := Compare(v1, v2)
	want := []Change{
		{What: "goal", ID: 1, Kind: "changed", Fields: []string{"statement", "indicator"}, Old: g1.Statement, New: g1b.Statement},
		{What: "goal", ID: 2, Kind: "removed", Old: g2.Statement},
		{What: "activity", ID: 10, Kind: "changed", Fields: []string{"goals"}, Old: a1.Title, New: a1.Title},
		{What: "activity", ID: 11, Kind: "added", New: a2.Title},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d changes %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i].What != want[i].What || got[i].ID != want[i].ID || got[i].Kind != want[i].Kind ||
			!slices.Equal(got[i].Fields, want[i].Fields) || got[i].Old != want[i].Old || got[i].New != want[i].New {
			t.Errorf("change %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if len(Compare(v1, v1)) != 0 {
		t.Error("a version compared with itself differs")
	}
	// Goal order and activity goal order do not matter (a1b lists goals 2, 1).
	a1c := a1
	a1c.GoalIDs = []int64{1}
	if len(Compare(Snapshot{Activities: []Activity{a1}}, Snapshot{Activities: []Activity{a1c}})) != 0 {
		t.Error("same goals reported as changed")
	}
}

func TestParentLink(t *testing.T) {
	now := day(2026, 10, 1)
	birth := time.Date(2014, 3, 21, 0, 0, 0, 0, time.UTC)
	l := Link{CreatedAt: now, ExpiresAt: now.Add(DefaultLinkLifetime)}
	if l.State(now) != LinkOpen || l.State(now.Add(DefaultLinkLifetime)) != LinkExpired {
		t.Fatal("a link is open for its lifetime, then expired")
	}
	l, ok, err := CheckBirthDate(l, birth, birth, now)
	if err != nil || !ok || l.Failures != 0 {
		t.Fatalf("the right date: %v %v %d", ok, err, l.Failures)
	}
	wrong := birth.AddDate(0, 0, 1)
	for i := 1; i <= MaxTries; i++ {
		if l.State(now) != LinkOpen {
			t.Fatalf("locked after %d wrong dates, want %d", i-1, MaxTries)
		}
		l, ok, err = CheckBirthDate(l, wrong, birth, now)
		if ok || err != nil || l.Failures != i {
			t.Fatalf("wrong date %d: ok %v err %v failures %d", i, ok, err, l.Failures)
		}
	}
	if l.State(now) != LinkLocked || l.TriesLeft() != 0 {
		t.Fatalf("after %d wrong dates the link is %s", MaxTries, l.State(now))
	}
	if _, ok, err := CheckBirthDate(l, birth, birth, now); ok || apperr.CodeOf(err) != apperr.Forbidden {
		t.Error("a locked link accepts even the right date")
	}
	// A right date in between resets the count.
	l2 := Link{ExpiresAt: now.Add(time.Hour)}
	for range MaxTries - 1 {
		l2, _, _ = CheckBirthDate(l2, wrong, birth, now)
	}
	l2, ok, _ = CheckBirthDate(l2, birth, birth, now)
	if !ok || l2.Failures != 0 {
		t.Error("the right date does not reset the count")
	}
	revoked := Link{ExpiresAt: now.Add(time.Hour), RevokedAt: now}
	if revoked.State(now) != LinkRevoked {
		t.Error("revoked")
	}
	if _, _, err := CheckBirthDate(Link{ExpiresAt: now}, birth, birth, now); apperr.As(err).Key != "plans.parent.link_expired" {
		t.Errorf("expired link: %v", err)
	}

	tok, code, th, ch := NewLinkToken()
	tok2, code2, _, _ := NewLinkToken()
	if tok == tok2 || code == code2 || len(tok) < 40 || len(code) != codeLen || th == tok || ch == code {
		t.Error("tokens and codes are random and stored hashed")
	}
	if HashCode(code) != ch || HashCode(" "+code[:4]+"-"+toLower(code[4:])) != ch {
		t.Error("a short code typed with a dash, spaces or lower case matches")
	}
	if _, err := Lifetime(0); err != nil {
		t.Error(err)
	}
	if d, _ := Lifetime(0); d != 14*24*time.Hour {
		t.Errorf("default lifetime %s", d)
	}
	if _, err := Lifetime(90 * 24 * time.Hour); err == nil {
		t.Error("a 90-day link is accepted")
	}
}

func toLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
