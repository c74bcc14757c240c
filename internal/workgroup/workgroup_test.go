package workgroup

import (
	"testing"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/org"
)

func TestCanManage(t *testing.T) {
	city := access.Principal{UserID: 1, OrgType: org.CityDepartment, Roles: []access.Role{access.CitySpecialist}}
	police := access.Principal{UserID: 2, OrgType: org.Police, Roles: []access.Role{access.AgencyOfficer}}
	tests := []struct {
		name string
		p    access.Principal
		m    *Member
		want bool
	}{
		{"city unit", city, nil, true},
		{"a member", police, &Member{Role: Ordinary}, false},
		{"the secretary", police, &Member{Role: Secretary}, true},
		{"not a member", police, nil, false},
	}
	for _, tt := range tests {
		if got := CanManage(tt.p, tt.m); got != tt.want {
			t.Errorf("%s: CanManage = %v", tt.name, got)
		}
	}
	it := ActionItem{OwnerUserID: 2}
	if !CanUpdateItem(police, &Member{Role: Ordinary}, it) {
		t.Error("an owner updates their own item")
	}
	if CanUpdateItem(police, &Member{Role: Ordinary}, ActionItem{OwnerUserID: 9}) {
		t.Error("a member updates someone else's item")
	}
}

func TestItemMovesAndOverdue(t *testing.T) {
	tests := []struct {
		from, to ItemStatus
		want     bool
	}{
		{Open, InProgress, true}, {InProgress, Done, true}, {Open, Dropped, true},
		{Done, InProgress, false}, {Done, Open, true}, {Open, "lost", false},
	}
	for _, tt := range tests {
		if got := CanMoveItem(tt.from, tt.to); got != tt.want {
			t.Errorf("CanMoveItem(%s, %s) = %v", tt.from, tt.to, got)
		}
	}
	now := time.Date(2026, 4, 1, 10, 0, 0, 0, time.UTC)
	it := ActionItem{Due: now.Add(-time.Hour), Status: Open}
	if !it.Overdue(now) {
		t.Error("an open item past due is overdue")
	}
	it.Status = Done
	if it.Overdue(now) {
		t.Error("a done item is never overdue")
	}
}

func TestProposalMoves(t *testing.T) {
	tests := []struct {
		from, to ProposalStatus
		want     bool
	}{
		{Draft, Submitted, true}, {Submitted, UnderReview, true}, {UnderReview, Adopted, true},
		{Adopted, Implemented, true}, {Draft, Adopted, false}, {Rejected, Submitted, false},
	}
	for _, tt := range tests {
		if got := CanMoveProposal(tt.from, tt.to); got != tt.want {
			t.Errorf("CanMoveProposal(%s, %s) = %v", tt.from, tt.to, got)
		}
	}
}

func TestValidate(t *testing.T) {
	fields := func(err error) []string {
		var out []string
		for _, f := range apperr.As(err).Fields {
			out = append(out, f.Field)
		}
		return out
	}
	tests := []struct {
		name string
		err  error
		want []string
	}{
		{"meeting ok", Meeting{Title: "Aprel iclası", StartsAt: time.Now(), Status: Planned}.Validate(), nil},
		{"meeting empty", Meeting{}.Validate(), []string{"title", "starts_at", "status"}},
		{"item empty", ActionItem{Status: Open}.Validate(), []string{"title", "owner", "due"}},
		{"proposal short", Proposal{Title: "Ok", Body: "qısa", Status: Draft}.Validate(), []string{"title", "body"}},
		{"decision ok", Decision{Text: "Ailəyə sosial yardım"}.Validate(), nil},
	}
	for _, tt := range tests {
		got := fields(tt.err)
		if tt.want == nil && tt.err != nil || len(got) != len(tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, tt.err, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%s: fields %v, want %v", tt.name, got, tt.want)
			}
		}
	}
}
