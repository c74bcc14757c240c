package referral

import (
	"slices"
	"testing"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/calendar"
	"dayaq/internal/org"
)

var (
	officer    = access.Principal{UserID: 1, OrgID: 10, OrgType: org.Police, Roles: []access.Role{access.AgencyOfficer}}
	supervisor = access.Principal{UserID: 2, OrgID: 10, OrgType: org.Police, Roles: []access.Role{access.AgencySupervisor}}
	teacher    = access.Principal{UserID: 3, OrgID: 20, OrgType: org.School, Roles: []access.Role{access.Teacher}}
	specialist = access.Principal{UserID: 4, OrgID: 1, OrgType: org.CityDepartment, Roles: []access.Role{access.CitySpecialist}}
	head       = access.Principal{UserID: 5, OrgID: 20, OrgType: org.School, Roles: []access.Role{access.SchoolHead}}
)

func TestNext(t *testing.T) {
	recv := Party{Receiver: true, Principal: officer}
	recvSup := Party{Receiver: true, Principal: supervisor}
	recvTeacher := Party{Receiver: true, Principal: teacher} // a teacher at a receiving school cannot act
	sender := Party{Sender: true, Principal: head}
	city := Party{CityUnit: true, Principal: specialist}
	other := Party{Principal: officer}
	tests := []struct {
		name  string
		from  State
		party Party
		ch    Change
		want  State
		code  apperr.Code
		field string
	}{
		{"officer acknowledges", Sent, recv, Change{Action: Acknowledge}, Acknowledged, "", ""},
		{"supervisor acknowledges", Sent, recvSup, Change{Action: Acknowledge}, Acknowledged, "", ""},
		{"acknowledge twice", Acknowledged, recv, Change{Action: Acknowledge}, "", apperr.Conflict, ""},
		{"accept after acknowledging", Acknowledged, recv, Change{Action: Accept}, Accepted, "", ""},
		{"accept at once acknowledges too", Sent, recv, Change{Action: Accept}, Accepted, "", ""},
		{"decline needs a reason", Acknowledged, recv, Change{Action: Decline}, "", apperr.Invalid, "note"},
		{"decline with a reason", Acknowledged, recv, Change{Action: Decline, Note: "Bizim səlahiyyətimizdə deyil"}, Declined, "", ""},
		{"decline after accepting", Accepted, recv, Change{Action: Decline, Note: "gec"}, "", apperr.Conflict, ""},
		{"start work", Accepted, recv, Change{Action: Start}, InProgress, "", ""},
		{"start before accepting", Acknowledged, recv, Change{Action: Start}, "", apperr.Conflict, ""},
		{"complete needs feedback", InProgress, recv, Change{Action: Complete, Note: " "}, "", apperr.Invalid, "note"},
		{"complete with feedback", InProgress, recv, Change{Action: Complete, Note: "Ailə ilə görüşüldü"}, Completed, "", ""},
		{"complete straight from accepted", Accepted, recv, Change{Action: Complete, Note: "Edildi"}, Completed, "", ""},
		{"complete twice", Completed, recv, Change{Action: Complete, Note: "Edildi"}, "", apperr.Conflict, ""},
		{"sender cannot acknowledge", Sent, sender, Change{Action: Acknowledge}, "", apperr.Forbidden, ""},
		{"teacher at the receiving school cannot", Sent, recvTeacher, Change{Action: Acknowledge}, "", apperr.Forbidden, ""},
		{"a third body cannot", Sent, other, Change{Action: Acknowledge}, "", apperr.Forbidden, ""},
		{"sender withdraws", InProgress, sender, Change{Action: Withdraw, Note: "Ailə köçdü"}, Withdrawn, "", ""},
		{"withdraw needs a reason", Sent, sender, Change{Action: Withdraw}, "", apperr.Invalid, "note"},
		{"city unit withdraws", Sent, city, Change{Action: Withdraw, Note: "Təkrar göndərilib"}, Withdrawn, "", ""},
		{"receiver cannot withdraw", Sent, recv, Change{Action: Withdraw, Note: "Niyə"}, "", apperr.Forbidden, ""},
		{"withdraw an ended referral", Declined, sender, Change{Action: Withdraw, Note: "Niyə"}, "", apperr.Conflict, ""},
		{"unknown action", Sent, recv, Change{Action: "reopen"}, "", apperr.Invalid, "action"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Next(tt.from, tt.party, tt.ch)
			if tt.code == "" {
				if err != nil || got != tt.want {
					t.Fatalf("Next = %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			e := apperr.As(err)
			if e.Code != tt.code {
				t.Fatalf("Next error = %v; want code %s", err, tt.code)
			}
			if tt.field != "" && (len(e.Fields) == 0 || e.Fields[0].Field != tt.field) {
				t.Fatalf("Next error fields = %+v; want %s", e.Fields, tt.field)
			}
		})
	}
}

func TestAllowedAndLive(t *testing.T) {
	got := Allowed(Sent, Party{Receiver: true, Principal: officer})
	if want := []Action{Acknowledge, Accept, Decline}; !slices.Equal(got, want) {
		t.Errorf("receiver on sent: %v, want %v", got, want)
	}
	if got := Allowed(InProgress, Party{Sender: true, Principal: head}); !slices.Equal(got, []Action{Withdraw}) {
		t.Errorf("sender in progress: %v", got)
	}
	for _, s := range States() {
		want := s != Declined && s != Completed && s != Withdrawn
		if s.Live() != want {
			t.Errorf("%s.Live() = %v", s, s.Live())
		}
	}
}

func TestBasis(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		p     access.Principal
		b     Basis
		code  apperr.Code
		field string
	}{
		{"consent recorded", head, Basis{Kind: Consent, ConsentBy: "Əliyeva Səbinə", ConsentRelated: "ana", ConsentMethod: Written, ConsentAt: now.Add(-time.Hour)}, "", ""},
		{"consent without who", head, Basis{Kind: Consent, ConsentRelated: "ana", ConsentMethod: Written, ConsentAt: now}, apperr.Invalid, "consent_by"},
		{"consent without how", head, Basis{Kind: Consent, ConsentBy: "X", ConsentRelated: "ana", ConsentAt: now}, apperr.Invalid, "consent_method"},
		{"consent without when", head, Basis{Kind: Consent, ConsentBy: "X", ConsentRelated: "ana", ConsentMethod: Oral}, apperr.Invalid, "consent_at"},
		{"consent in the future", head, Basis{Kind: Consent, ConsentBy: "X", ConsentRelated: "ana", ConsentMethod: Oral, ConsentAt: now.Add(time.Hour)}, apperr.Invalid, "consent_at"},
		{"child in danger", head, Basis{Kind: ChildInDanger}, "", ""},
		{"court request needs its reference", head, Basis{Kind: CourtRequest}, apperr.Invalid, "basis_reference"},
		{"commission request", head, Basis{Kind: CommissionRequest, Reference: "KDİ-2026/14"}, "", ""},
		{"override by a school head", head, Basis{Kind: Override, Reason: "Valideyn tapılmır, uşaq risk altındadır"}, apperr.Forbidden, ""},
		{"override by the city unit", specialist, Basis{Kind: Override, Reason: "Valideyn tapılmır, uşaq risk altındadır"}, "", ""},
		{"override needs a reason", specialist, Basis{Kind: Override, Reason: "qısa"}, apperr.Invalid, "override_reason"},
		{"no basis", head, Basis{}, apperr.Invalid, "basis"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckBasis(tt.p, tt.b, now)
			if apperr.CodeOf(err) != tt.code {
				t.Fatalf("CheckBasis = %v, want code %q", err, tt.code)
			}
			if tt.field != "" {
				if fs := apperr.As(err).Fields; len(fs) == 0 || fs[0].Field != tt.field {
					t.Fatalf("fields %+v, want %s", fs, tt.field)
				}
			}
		})
	}
}

func TestValidate(t *testing.T) {
	ok := Referral{ToOrgID: 7, ServiceCode: "police.visit", Urgency: High, Message: "Ailəyə baxış lazımdır",
		Basis: Basis{Kind: ChildInDanger}}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid referral: %v", err)
	}
	bad := Referral{Urgency: "soon", Message: "qısa"}
	var fields []string
	for _, f := range apperr.As(bad.Validate()).Fields {
		fields = append(fields, f.Field)
	}
	if want := []string{"to_org", "service", "urgency", "message", "basis"}; !slices.Equal(fields, want) {
		t.Fatalf("fields %v, want %v", fields, want)
	}
}

func TestParseSections(t *testing.T) {
	got, bad := ParseSections([]string{"school", "summary", "school", ""})
	if bad != "" || !slices.Equal(got, []Section{ShareSchool, ShareSummary}) {
		t.Fatalf("ParseSections = %v, %q", got, bad)
	}
	if _, bad := ParseSections([]string{"everything"}); bad != "everything" {
		t.Fatalf("unknown section not reported: %q", bad)
	}
}

func TestDeadlines(t *testing.T) {
	baku := calendar.Baku()
	cal := calendar.New(nil)                        // Monday–Friday 09:00–18:00 Baku, fixed public holidays
	fri := time.Date(2026, 3, 6, 17, 0, 0, 0, baku) // a Friday, an hour before closing
	tests := []struct {
		u             Urgency
		ack, complete time.Time
	}{
		// Critical runs on the clock, through the weekend.
		{Critical, time.Date(2026, 3, 6, 18, 0, 0, 0, baku), time.Date(2026, 3, 7, 17, 0, 0, 0, baku)},
		// High: one working day (9 working hours) after Friday 17:00. Women's Day
		// (8 March) falls on the Sunday and carries to Monday 9 March, so it is
		// Tuesday 17:00; five working days is the next Monday.
		{High, time.Date(2026, 3, 10, 17, 0, 0, 0, baku), time.Date(2026, 3, 16, 17, 0, 0, 0, baku)},
		// Medium: 3 / 15 working days; the Novruz holidays (20–26 March with the carried days) do not count.
		{Medium, time.Date(2026, 3, 12, 17, 0, 0, 0, baku), time.Date(2026, 4, 6, 17, 0, 0, 0, baku)},
	}
	for _, tt := range tests {
		ack, complete, err := Deadlines(cal, tt.u, fri.UTC())
		if err != nil {
			t.Fatal(err)
		}
		if !ack.Equal(tt.ack) || !complete.Equal(tt.complete) {
			t.Errorf("%s: due %v / %v, want %v / %v", tt.u, ack.In(baku), complete.In(baku), tt.ack, tt.complete)
		}
	}
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	r := Referral{State: Sent, AckDue: now.Add(-time.Minute), CompleteDue: now.Add(time.Hour)}
	if !r.Overdue(now) {
		t.Error("sent past its acknowledge deadline is overdue")
	}
	r.State = Acknowledged
	if r.Overdue(now) {
		t.Error("acknowledged before completion deadline is not overdue")
	}
	r.State = Completed
	if r.Overdue(now.Add(48 * time.Hour)) {
		t.Error("a completed referral is never overdue")
	}
}

func TestMedian(t *testing.T) {
	h := time.Hour
	for _, tt := range []struct {
		in   []time.Duration
		want time.Duration
	}{{nil, 0}, {[]time.Duration{3 * h}, 3 * h}, {[]time.Duration{5 * h, 1 * h, 3 * h}, 3 * h}, {[]time.Duration{4 * h, 1 * h, 2 * h, 3 * h}, 150 * time.Minute}} {
		if got := Median(tt.in); got != tt.want {
			t.Errorf("Median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
