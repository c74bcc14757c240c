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
