package bench_test

import (
	"context"
	"os"
	"strconv"
	"testing"

	"dayaq/internal/bench"
	"dayaq/internal/demo"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

func TestMain(m *testing.M) { storagetest.Main(m) }

// casesToSeed is DAYAQ_BENCH_CASES, default one million.
func casesToSeed(def int) int {
	if n, err := strconv.Atoi(os.Getenv("DAYAQ_BENCH_CASES")); err == nil && n > 0 {
		return n
	}
	return def
}

// BenchmarkCaseList seeds a million cases (DAYAQ_BENCH_CASES) on each
// engine and times GET /api/v1/cases for a page of 20 through the whole
// HTTP stack, reporting p50 and p95 per scenario:
//
//	go test ./internal/bench -run '^$' -bench CaseList -benchtime 200x
func BenchmarkCaseList(b *testing.B) {
	n := casesToSeed(1_000_000)
	for _, e := range storagetest.Engines() {
		b.Run(string(e.Name), func(b *testing.B) {
			ctx := context.Background()
			db := storagetest.Open(b, e.DSN(b))
			if _, err := bench.SeedCases(ctx, db, n, 20000, nil); err != nil {
				b.Fatal(err)
			}
			if err := db.Analyze(ctx); err != nil {
				b.Fatal(err)
			}
			w, err := bench.OpenWorld(ctx, db, n)
			if err != nil {
				b.Fatal(err)
			}
			for _, s := range bench.Scenarios() {
				b.Run(s.Name, func(b *testing.B) {
					r, err := w.Measure(s, b.N)
					if err != nil {
						b.Fatal(err)
					}
					b.ReportMetric(float64(r.P50.Microseconds())/1000, "p50-ms")
					b.ReportMetric(float64(r.P95.Microseconds())/1000, "p95-ms")
				})
			}
		})
	}
}

// The seeding and the measurement work, on a small world, on both engines.
func TestSeedAndMeasure(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		if _, err := bench.SeedCases(ctx, db, 1200, 5000, nil); err != nil {
			t.Fatal(err)
		}
		// (the demo children come with a few demo cases of their own, and
		// the statistics' demo cases)
		if n, err := db.CountCases(ctx); err != nil || n < 1200+demo.StatsCases || n > 1210+demo.StatsCases {
			t.Fatalf("seeded %d cases, %v", n, err)
		}
		w, err := bench.OpenWorld(ctx, db, 1200)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range bench.Scenarios() {
			r, err := w.Measure(s, 3)
			if err != nil {
				t.Fatal(err)
			}
			if r.Items > 20 || (s.Name == "city: first page" && r.Items != 20) {
				t.Errorf("%s: %d items", s.Name, r.Items)
			}
		}
		for _, s := range bench.WebScenarios() {
			r, err := w.Measure(s, 3)
			if err != nil {
				t.Fatal(err)
			}
			if s.Name == "web city: case list" && r.Items < 20 {
				t.Errorf("%s: %d case links", s.Name, r.Items)
			}
		}
	})
}

// The plans' seeding and measurement work, on a small world, on both
// engines: the demo school's psychologist opens a plan and lists a full
// page, the class teacher their class's plans.
func TestSeedPlansAndMeasure(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		if _, err := bench.SeedPlans(ctx, db, 1200, nil); err != nil {
			t.Fatal(err)
		}
		w, err := bench.OpenPlanWorld(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		if len(w.Plans) != bench.PupilsPerSchool {
			t.Fatalf("%d plans at the demo school", len(w.Plans))
		}
		r, err := w.MeasurePlanPage("school_psychologist", 3)
		if err != nil || r.Items != 1 || r.Anchor.P95 <= 0 {
			t.Fatalf("plan page: %+v %v", r, err)
		}
		if r, err = w.MeasurePlanList("school", "school_psychologist", 50, 3); err != nil {
			t.Fatal(err)
		}
		if r, err = w.MeasurePlanList("class", "teacher", 0, 3); err != nil || r.Items >= 50 {
			t.Fatalf("the teacher's list: %+v %v", r, err)
		}
	})
}
