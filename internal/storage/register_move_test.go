package storage_test

import (
	"context"
	"testing"
	"time"

	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/screening"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// TestRegisterFollowsThePupil: a pupil who moves school takes their open
// register entry along (ADR 0049), whichever path moves them (a roster
// import, the child's form): the new school lists it, may decide on it and
// has it in its queue; the old school no longer does; a decision read
// before the move is refused as stale; the history says it moved; and a
// closed entry stays at the school that closed it.
func TestRegisterFollowsThePupil(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			ctx := context.Background()
			w := newRosterWorld(t, e.DSN(t))
			db := w.db
			w.importCSV(t, audit.System(), rosterHeader+row("S-1", "Əliyeva", "BAK-06-001", "5A")+row("S-2", "Həsənova", "BAK-06-001", "6B"))
			school := func(code string) int64 {
				o, err := db.OrgByCode(ctx, code)
				if err != nil {
					t.Fatal(err)
				}
				return o.ID
			}
			a, b := school("BAK-06-001"), school("BAK-06-002")
			kids, err := db.ChildIDsBySchool(ctx)
			if err != nil || len(kids[a]) != 2 {
				t.Fatalf("children by school: %v %v", kids, err)
			}
			s1, s2 := kids[a][0], kids[a][1]
			day := w.clock.now().Truncate(24 * time.Hour)
			if err := db.InsertRegisterBulk(ctx, []storage.BulkEntry{
				{ChildID: s1, SchoolID: a, Level: screening.Medium, Status: screening.Exited, Factors: `[]`}, // closed before
				{ChildID: s1, SchoolID: a, Level: screening.High, Status: screening.Active, NextReview: day.AddDate(0, 0, 10), Factors: `[]`},
				{ChildID: s2, SchoolID: a, Level: screening.Medium, Status: screening.Proposed, Factors: `[]`},
			}); err != nil {
				t.Fatal(err)
			}
			list := func(who string, f storage.RegisterFilter) []storage.RegisterEntry {
				t.Helper()
				es, err := db.RegisterList(ctx, w.users[who], f)
				if err != nil {
					t.Fatalf("%s lists: %v", who, err)
				}
				return es
			}
			awaiting := func(who string) int {
				t.Helper()
				n, err := db.RegisterAwaiting(ctx, w.users[who])
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
			before := list("head1", storage.RegisterFilter{})
			if len(before) != 2 || awaiting("head1") != 1 || awaiting("head2") != 0 {
				t.Fatalf("before the move: head1 lists %d, awaits %d; head2 awaits %d", len(before), awaiting("head1"), awaiting("head2"))
			}
			stale := map[int64]storage.RegisterEntry{}
			for _, e := range before {
				stale[e.ChildID] = e
			}

			// S-1 moves by a roster import, S-2 on the child's form.
			w.clock.t = w.clock.t.Add(time.Hour)
			w.importCSV(t, w.users["city"], rosterHeader+row("S-1", "Əliyeva", "BAK-06-002", "5A")+row("S-2", "Həsənova", "BAK-06-001", "6B"))
			r, err := db.ChildFor(ctx, w.users["city"], s2)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.UpdateChild(ctx, w.users["city"], r.Child, "BAK-06-002"); err != nil {
				t.Fatalf("move S-2: %v", err)
			}

			if got := list("head1", storage.RegisterFilter{}); len(got) != 0 {
				t.Errorf("the old school still lists %d entries", len(got))
			}
			after := list("head2", storage.RegisterFilter{})
			if len(after) != 2 {
				t.Fatalf("the new school lists %d entries, want 2", len(after))
			}
			for _, e := range after {
				if e.SchoolID != b || !e.CanDecide || e.Version != stale[e.ChildID].Version+1 {
					t.Errorf("moved entry %d: school %d (want %d), may decide %v, version %d (read %d)", e.ID, e.SchoolID, b, e.CanDecide, e.Version, stale[e.ChildID].Version)
				}
			}
			if awaiting("head1") != 0 || awaiting("head2") != 1 {
				t.Errorf("after the move: head1 awaits %d, head2 %d; want 0 and 1", awaiting("head1"), awaiting("head2"))
			}

			// A decision on the version read before the move is stale.
			p := stale[s2]
			_, err = db.DeclineRegister(ctx, w.users["head2"], storage.RegisterDecision{ID: p.ID, Version: p.Version, Reason: "test"})
			if apperr.CodeOf(err) != apperr.Conflict {
				t.Errorf("a decision read before the move: %v, want a conflict", err)
			}
			if _, err := db.DeclineRegister(ctx, w.users["head2"], storage.RegisterDecision{ID: p.ID, Version: p.Version + 1, Reason: "test"}); err != nil {
				t.Errorf("the new school declines the moved proposal: %v", err)
			}

			hs, err := db.RegisterHistory(ctx, w.users["head2"], stale[s1].ID)
			if err != nil {
				t.Fatal(err)
			}
			moved := 0
			for _, h := range hs {
				if h.Action == "moved" {
					moved++
					if h.From != screening.Active || h.To != screening.Active || h.ActorName != "" || !h.At.Equal(w.clock.now()) {
						t.Errorf("the move's history line: %+v", h)
					}
				}
			}
			if moved != 1 {
				t.Errorf("history %+v has %d 'moved' lines, want 1", hs, moved)
			}

			closed := list("city", storage.RegisterFilter{Status: screening.Exited})
			if len(closed) != 1 || closed[0].SchoolID != a {
				t.Errorf("the closed entry: %+v, want it at the old school", closed)
			}
		})
	}
}
