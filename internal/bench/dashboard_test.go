package bench_test

import (
	"context"
	"strings"
	"testing"

	"dayaq/internal/access"
	"dayaq/internal/audit"
	"dayaq/internal/bench"
	"dayaq/internal/org"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// The dashboard bench seeds cases, referrals and contacts, builds the
// totals once (they then count what was seeded), reuses a seeded database
// on the next run, and its scenarios answer 200 through the whole stack;
// both engines.
func TestSeedDashboardAndMeasure(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s, err := bench.SeedDashboard(ctx, db, 1200, 3000, nil)
		if err != nil {
			t.Fatal(err)
		}
		if s.Reused || s.Referrals < 250 || s.Contacts != 600 {
			t.Fatalf("seeded %+v", s)
		}
		city := audit.Actor{Principal: access.Principal{UserID: -1, OrgType: org.CityDepartment, Roles: []access.Role{access.CitySpecialist}}}
		d, err := db.DashboardCounts(ctx, city, storage.StatsQuery{})
		if err != nil {
			t.Fatal(err)
		}
		n, err := db.CountCases(ctx)
		if err != nil || d.Cases != n || d.Contacts < 600 || len(d.ByBody) == 0 {
			t.Fatalf("the totals count %d cases of %d (%v), %d contacts, %d bodies", d.Cases, n, err, d.Contacts, len(d.ByBody))
		}
		again, err := bench.SeedDashboard(ctx, db, 1200, 3000, nil)
		if err != nil || !again.Reused || again.Cases != n {
			t.Fatalf("second run %+v, %v", again, err)
		}
		w, err := bench.OpenWorld(ctx, db, n)
		if err != nil {
			t.Fatal(err)
		}
		for _, sc := range bench.DashboardScenarios() {
			if strings.Contains(sc.Name, "suppressed") {
				continue // the disclosure audit's LPs: seconds, tested in internal/stats and web
			}
			if _, err := w.MeasureDashboard(sc, 1); err != nil {
				t.Fatal(err)
			}
		}
	})
}
