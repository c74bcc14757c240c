package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"dayaq/internal/bench"
	"dayaq/internal/storage"
	"dayaq/internal/storage/pgtemp"
)

// benchPlans is "bench plans": it seeds live recovery plans on SQLite and
// PostgreSQL and times a plan's page and the school's plan list through
// the HTTP API, with the policy and the audit.
func (m *Main) benchPlans(ctx context.Context, args []string) error {
	fs := m.flags("bench plans", `bench plans [--plans 50000] [--requests 200] [--engines sqlite,postgres] [--postgres URL] [--dir DIR]

Seeds pupils in schools of 1,000, each on the register with a live recovery
plan (a parent, two goals, two activities, two sessions), then times,
through the whole HTTP stack with a bearer token, the policy and the audit:
one plan's page (the school psychologist, plans in turn) and the school's
plan list (the psychologist; the class teacher), each request followed by
an anchor (GET /api/v1/me as the same user) whose p95 the ratio is set
against. PostgreSQL is a throwaway
cluster unless --postgres names a database. With --dir the SQLite file and
the PostgreSQL cluster are kept there, and a later run with the same --dir
and --plans measures them again without seeding.`)
	plans := fs.Int("plans", 50_000, "live plans to seed (1,000 a school)")
	requests := fs.Int("requests", 200, "timed requests per scenario")
	engines := fs.String("engines", "sqlite,postgres", "engines to measure")
	pg := fs.String("postgres", m.Getenv("DAYAQ_BENCH_POSTGRES"), "an empty PostgreSQL database (postgres://…); default a throwaway cluster")
	keep := fs.String("dir", "", "keep the seeded databases here and reuse them (default: thrown away)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *plans < 1 || *requests < 1 {
		return usageError{"bench plans: --plans and --requests must be positive"}
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "engine\tscenario\titems\tn\tp50 ms\tp95 ms\tp99 ms\tanchor p50\tanchor p95\tp95 ratio\t\n")
	for _, engine := range strings.Split(*engines, ",") {
		var dsn string
		switch strings.TrimSpace(engine) {
		case "sqlite":
			if *keep != "" {
				if err := os.MkdirAll(*keep, 0o755); err != nil {
					return err
				}
				dsn = filepath.Join(*keep, "plans.db")
				break
			}
			dir, err := os.MkdirTemp("", "dayaq-bench-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			dsn = filepath.Join(dir, "bench.db")
		case "postgres":
			dsn = *pg
			if dsn == "" && *keep != "" {
				if !pgtemp.Available() {
					fmt.Fprintln(m.Stderr, "bench: no PostgreSQL server binaries; SQLite only")
					continue
				}
				c, err := pgtemp.OpenCluster(filepath.Join(*keep, "postgres"))
				if err != nil {
					return err
				}
				defer c.Close()
				dsn = c.URL
			}
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
		if err := m.seedPlansOnce(ctx, db, engine, *keep, *plans); err != nil {
			db.Close()
			return fmt.Errorf("bench plans on %s: %w", engine, err)
		}
		w, err := bench.OpenPlanWorld(ctx, db)
		if err != nil {
			db.Close()
			return err
		}
		var rs []bench.PlanResult
		r, err := w.MeasurePlanPage("school_psychologist", *requests)
		if err == nil {
			rs = append(rs, r)
			r, err = w.MeasurePlanList("school's plan list (GET /api/v1/plans, psychologist)", "school_psychologist", 50, *requests)
		}
		if err == nil {
			rs = append(rs, r)
			r, err = w.MeasurePlanList("class teacher's plan list (GET /api/v1/plans, teacher)", "teacher", 0, *requests)
		}
		if err == nil {
			rs = append(rs, r)
		}
		db.Close()
		if err != nil {
			return fmt.Errorf("bench plans on %s: %w", engine, err)
		}
		for _, r := range rs {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.1f×\t\n", engine, r.Name, r.Items, r.N, ms(r.P50), ms(r.P95),
				ms(r.P99), ms(r.Anchor.P50), ms(r.Anchor.P95), float64(r.P95)/float64(max(r.Anchor.P95, 1)))
		}
		fmt.Fprintf(m.Stderr, "  %s: measured\n", engine)
	}
	return tw.Flush()
}

// seedPlansOnce seeds db, unless keep (--dir) holds the mark of an
// earlier run that seeded it with as many plans; it then leaves that mark.
func (m *Main) seedPlansOnce(ctx context.Context, db *storage.DB, engine, keep string, plans int) error {
	mark := filepath.Join(keep, engine+".seeded")
	if keep != "" {
		b, err := os.ReadFile(mark)
		switch {
		case err == nil && strings.TrimSpace(string(b)) == strconv.Itoa(plans):
			fmt.Fprintf(m.Stderr, "  %s: reusing the %d plans seeded in %s\n", engine, plans, keep)
			return nil
		case err == nil:
			return fmt.Errorf("%s was seeded with %s plans, not %d: use another --dir", keep, strings.TrimSpace(string(b)), plans)
		case !errors.Is(err, fs.ErrNotExist):
			return err
		}
	}
	took, err := bench.SeedPlans(ctx, db, plans, func(s string) { fmt.Fprintf(m.Stderr, "  %s: %s\n", engine, s) })
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stderr, "  %s: seeded in %s\n", engine, took.Round(time.Millisecond))
	if keep == "" {
		return nil
	}
	return os.WriteFile(mark, []byte(strconv.Itoa(plans)+"\n"), 0o644)
}
