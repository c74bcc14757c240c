package demo

import (
	"context"
	"testing"
	"time"

	"dayaq/internal/stats"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// The public tables built from the demo data resist the attacker: every
// suppressed cell's LP interval is at least the protection range wide, no
// count 1..k−1 is published, and the cases add up to what was loaded.
func TestDemoPublicTablesResistTheAttacker(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		if _, err := Load(ctx, db, 1500, nil); err != nil {
			t.Fatal(err)
		}
		now := db.Now()
		from := now.AddDate(-2, 0, 0)
		cases, err := db.PublicCaseCounts(ctx, from, now.Add(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		contacts, err := db.PublicContactCounts(ctx, from, now.Add(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, g := range cases {
			n += g.N
		}
		if n < StatsCases {
			t.Fatalf("%d cases counted, want at least %d", n, StatsCases)
		}
		tables, err := stats.PublicTables(now, cases, contacts, "az")
		if err != nil {
			t.Fatal(err)
		}
		reg, err := db.PublicRegisterCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(reg) == 0 {
			t.Fatal("the demo register is empty: the register table would test nothing")
		}
		rt, err := stats.RegisterTable(reg, "az", func(l string) string { return l })
		if err != nil {
			t.Fatal(err)
		}
		tables = append(tables, rt)
		for _, tb := range tables {
			bounds, err := tb.Result.Attack()
			if err != nil {
				t.Fatal(err)
			}
			if narrow := tb.Result.Narrow(bounds); len(narrow) > 0 {
				t.Errorf("%s: %d suppressed cells narrower than the protection range: %+v", tb.ID, len(narrow), narrow)
			}
			pub, prim, sec := tb.Result.Counts()
			t.Logf("%s: %d cells published, %d primary, %d secondary", tb.ID, pub, prim, sec)
			for i, c := range tb.Result.Cells {
				if c.Value >= 1 && c.Value < tb.Result.Options.K && !tb.Result.Status[i].Suppressed() {
					t.Errorf("%s: %v = %d published", tb.ID, c.Coords, c.Value)
				}
			}
		}
	})
}

// The demo's hotline contacts fill every month of the past year and the
// current one, in the demo school's district too, so that the campaign's
// reach has a contact line that is not flat; none is critical or has an
// open alert.
func TestDemoHotlineContacts(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		if _, err := Load(ctx, db, 1500, nil); err != nil {
			t.Fatal(err)
		}
		city, err := demoActor(ctx, db)("city_specialist")
		if err != nil {
			t.Fatal(err)
		}
		now := db.Now()
		thisMonth := time.Date(now.UTC().Year(), now.UTC().Month(), 1, 0, 0, 0, 0, time.UTC)
		for _, district := range []string{"", "BAK-06"} {
			r, err := db.CampaignReach(ctx, city, thisMonth.AddDate(0, -HotlineMonths, 0), now.Add(time.Second), district)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Rows) != HotlineMonths+1 {
				t.Fatalf("%q: %d months, want %d", district, len(r.Rows), HotlineMonths+1)
			}
			for _, row := range r.Rows {
				if row.Contacts < 3 {
					t.Errorf("%q: %s has %d contacts, want at least 3", district, row.Month.Format("2006-01"), row.Contacts)
				}
			}
		}
		if n, err := db.HalfWrittenContacts(ctx); err != nil || n != 0 {
			t.Errorf("half-written demo contacts: %d %v", n, err)
		}
	})
}
