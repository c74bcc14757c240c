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

// benchScreening is "bench screening": it seeds pupils, answer sets and
// register entries on SQLite and PostgreSQL and times storing a school's
// round, the register list and a class's grid through the HTTP API.
func (m *Main) benchScreening(ctx context.Context, args []string) error {
	fs := m.flags("bench screening", `bench screening [--pupils 500000] [--entries 50000] [--requests 200] [--rounds 3] [--engines sqlite,postgres] [--db FILE] [--postgres URL]

Seeds pupils in schools of 1,000 (three answer sets each: PSC-17, social
categories, staff signs) and register entries in bulk, then times, through
the whole HTTP stack with a bearer token, the policy and the audit:
storing a school's whole round (1,000 pupils × PSC-17 and social
categories) in one request; the register list (the school's psychologist,
the city); one class's screening grid (its teacher, the psychologist);
and, as the anchor of the same run, one pupil's record (policy, audit).
SQLite is a temporary file unless --db names one, PostgreSQL a throwaway
cluster unless --postgres names a database. A named database already
seeded with the bench's pupils is measured again without seeding (each run
adds its stored rounds to the demo school).`)
	pupils := fs.Int("pupils", 500_000, "pupils to seed (1,000 a school)")
	entries := fs.Int("entries", 50_000, "register entries to seed")
	requests := fs.Int("requests", 200, "timed requests per list scenario")
	rounds := fs.Int("rounds", 3, "whole rounds stored (timed one by one)")
	engines := fs.String("engines", "sqlite,postgres", "engines to measure")
	file := fs.String("db", "", "a SQLite file to seed, or to reuse when already seeded; default a temporary file")
	pg := fs.String("postgres", m.Getenv("DAYAQ_BENCH_POSTGRES"), "a PostgreSQL database (postgres://…) to seed when empty, or to reuse when already seeded; default a throwaway cluster")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *pupils < bench.PupilsPerSchool || *entries < 1 || *requests < 1 || *rounds < 1 {
		return usageError{"bench screening: --pupils must be at least 1000, the others positive"}
	}
	for _, engine := range strings.Split(*engines, ",") {
		var dsn string
		switch strings.TrimSpace(engine) {
		case "sqlite":
			if *file != "" {
				dsn = *file
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
			return usageError{"bench screening: unknown engine " + engine}
		}
		rs, err := m.benchScreeningOn(ctx, dsn, *pupils, *entries, *requests, *rounds)
		if err != nil {
			return fmt.Errorf("bench screening on %s: %w", engine, err)
		}
		// Each engine's table as soon as it is measured: a long run keeps what it has.
		// The anchor (the first line: one pupil's record, read through the
		// same stack with its policy and audit) is measured in the same run: under a
		// loaded machine the ratios say more than the milliseconds.
		tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "engine\tscenario\titems\tn\tp50 ms\tp95 ms\tp99 ms\tp95/anchor p95\t\n")
		for _, r := range rs {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.2f\t%.2f\t%.2f\t%.1f\t\n", engine, r.Name, r.Items, r.N, ms(r.P50), ms(r.P95), ms(r.P99),
				float64(r.P95)/float64(max(rs[0].P95, 1)))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

func (m *Main) benchScreeningOn(ctx context.Context, dsn string, pupils, entries, requests, rounds int) ([]bench.ScreeningResult, error) {
	db, err := openDB(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	seeded, err := bench.ScreeningSeeded(ctx, db, pupils)
	if err != nil {
		return nil, err
	}
	if seeded {
		fmt.Fprintf(m.Stdout, "reusing the %d pupils already seeded in %s\n", pupils, db.Engine())
	} else {
		fmt.Fprintf(m.Stdout, "seeding %d pupils (%d answer sets) and %d register entries into %s…\n", pupils, 3*pupils, entries, db.Engine())
		took, err := bench.SeedScreening(ctx, db, pupils, entries, func(s string) { fmt.Fprintf(m.Stdout, "  %s\n", s) })
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(m.Stdout, "  seeded in %s\n", took.Round(time.Second))
	}
	w, err := bench.OpenScreeningWorld(ctx, db)
	if err != nil {
		return nil, err
	}
	anchor, err := w.MeasureGet("anchor: one pupil's record (GET /api/v1/children/{id})", "school_psychologist",
		fmt.Sprintf("/api/v1/children/%d", w.Pupils[0]), requests)
	if err != nil {
		return nil, err
	}
	out := []bench.ScreeningResult{anchor}
	r, err := w.StoreRound(rounds)
	if err != nil {
		return nil, err
	}
	out = append(out, r)
	for _, s := range []struct{ name, user, path string }{
		{"register list: school psychologist", "school_psychologist", "/api/v1/register?limit=50"},
		{"register list: city, overdue", "city_specialist", "/api/v1/register?overdue=true&limit=50"},
		{"register list: city, open", "city_specialist", "/api/v1/register?limit=50"},
		{"class grid 5-A: teacher", "teacher", fmt.Sprintf("/api/v1/screening/rounds/%d?class=5-A", w.Round)},
		{"class grid 5-A: psychologist", "school_psychologist", fmt.Sprintf("/api/v1/screening/rounds/%d?class=5-A", w.Round)},
	} {
		r, err := w.MeasureGet(s.name, s.user, s.path, requests)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}
