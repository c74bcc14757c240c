package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"dayaq/internal/bench"
	"dayaq/internal/storage/pgtemp"
)

// benchPlans is "bench plans": it seeds live recovery plans on SQLite and
// PostgreSQL and times a plan's page and the school's plan list through
// the HTTP API, with the policy and the audit.
func (m *Main) benchPlans(ctx context.Context, args []string) error {
	fs := m.flags("bench plans", `bench plans [--plans 50000] [--requests 200] [--engines sqlite,postgres] [--postgres URL]

Seeds pupils in schools of 1,000, each on the register with a live recovery
plan (a parent, two goals, two activities, two sessions), then times,
through the whole HTTP stack with a bearer token, the policy and the audit:
one plan's page (the school psychologist, plans in turn) and the school's
plan list (the psychologist; the class teacher). PostgreSQL is a throwaway
cluster unless --postgres names a database.`)
	plans := fs.Int("plans", 50_000, "live plans to seed (1,000 a school)")
	requests := fs.Int("requests", 200, "timed requests per scenario")
	engines := fs.String("engines", "sqlite,postgres", "engines to measure")
	pg := fs.String("postgres", m.Getenv("DAYAQ_BENCH_POSTGRES"), "an empty PostgreSQL database (postgres://…); default a throwaway cluster")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *plans < 1 || *requests < 1 {
		return usageError{"bench plans: --plans and --requests must be positive"}
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "engine\tscenario\titems\tn\tp50 ms\tp95 ms\tp99 ms\t\n")
	for _, engine := range strings.Split(*engines, ",") {
		var dsn string
		switch strings.TrimSpace(engine) {
		case "sqlite":
			dir, err := os.MkdirTemp("", "dayaq-bench-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			dsn = filepath.Join(dir, "bench.db")
		case "postgres":
			dsn = *pg
			if dsn == "" {
				if !pgtemp.Available() {
					fmt.Fprintln(m.Stderr, "bench: no PostgreSQL server binaries; SQLite only")
					continue
				}
				url, stop, err := pgtemp.Start()
				if err != nil {
					return err
				}
				defer stop()
				dsn = url
			}
		default:
			return usageError{"bench plans: unknown engine " + engine}
		}
		db, err := openDB(ctx, dsn)
		if err != nil {
			return err
		}
		seeded, err := bench.SeedPlans(ctx, db, *plans, func(s string) { fmt.Fprintf(m.Stderr, "  %s: %s\n", engine, s) })
		if err != nil {
			db.Close()
			return fmt.Errorf("bench plans on %s: %w", engine, err)
		}
		fmt.Fprintf(m.Stderr, "  %s: seeded in %s\n", engine, seeded.Round(time.Millisecond))
		w, err := bench.OpenPlanWorld(ctx, db)
		if err != nil {
			db.Close()
			return err
		}
		var rs []bench.ScreeningResult
		r, err := w.MeasurePlanPage("school_psychologist", *requests)
		if err == nil {
			rs = append(rs, r)
			r, err = w.MeasureGet("school's plan list (GET /api/v1/plans, psychologist)", "school_psychologist", "/api/v1/plans", *requests)
		}
		if err == nil {
			rs = append(rs, r)
			r, err = w.MeasureGet("class teacher's plan list (GET /api/v1/plans, teacher)", "teacher", "/api/v1/plans", *requests)
		}
		if err == nil {
			rs = append(rs, r)
		}
		db.Close()
		if err != nil {
			return fmt.Errorf("bench plans on %s: %w", engine, err)
		}
		for _, r := range rs {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.2f\t%.2f\t%.2f\t\n", engine, r.Name, r.Items, r.N, ms(r.P50), ms(r.P95), ms(r.P99))
		}
	}
	return tw.Flush()
}
