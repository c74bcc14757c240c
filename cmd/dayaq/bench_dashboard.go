package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"dayaq/internal/bench"
)

// benchDashboard seeds children and cases in bulk on each engine asked for
// and times the dashboards through the whole HTTP stack.
func (m *Main) benchDashboard(ctx context.Context, args []string) error {
	fs := m.flags("bench dashboard", "bench dashboard [--engines sqlite,postgres] [--pg URL] [--db DB] [--cases 20000] [--children 20000] [--requests 50] [--only TEXT] [--cpuprofile FILE] [--seed-cpuprofile FILE]")
	keep := fs.String("db", "", "a database to seed and keep (SQLite file or postgres:// URL of an existing database); one seeded before is reused as it is, the support data added if it has none")
	engines := fs.String("engines", "sqlite,postgres", "engines to measure, comma-separated")
	pgURL := fs.String("pg", "", "a PostgreSQL server to create the benchmark's database on; default a throwaway cluster")
	n := fs.Int("cases", 20000, "cases to seed")
	children := fs.Int("children", 20000, "children to seed")
	requests := fs.Int("requests", 50, "timed requests per dashboard")
	only := fs.String("only", "", "time only the dashboards whose name contains this text (and the anchor)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the timed requests (not the seeding) to this file")
	seedProfile := fs.String("seed-cpuprofile", "", "write a CPU profile of the seeding to this file")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *keep != "" {
		return m.benchDashboardOn(ctx, *keep, *n, *children, *requests, *only, *cpuProfile, *seedProfile)
	}
	for _, e := range strings.Split(*engines, ",") {
		var dsn string
		var cleanup func()
		switch strings.TrimSpace(e) {
		case "sqlite":
			dir, err := os.MkdirTemp("", "dayaq-bench-")
			if err != nil {
				return err
			}
			dsn, cleanup = filepath.Join(dir, "bench.db"), func() { os.RemoveAll(dir) }
		case "postgres":
			var err error
			if dsn, cleanup, err = benchPostgres(ctx, *pgURL); err != nil {
				return err
			}
		default:
			return usageError{"bench dashboard: unknown engine " + e}
		}
		err := m.benchDashboardOn(ctx, dsn, *n, *children, *requests, *only, *cpuProfile, *seedProfile)
		cleanup()
		if err != nil {
			return err
		}
	}
	return nil
}

func (m *Main) benchDashboardOn(ctx context.Context, dsn string, n, children, requests int, only, cpuProfile, seedProfile string) error {
	db, err := openDB(ctx, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintf(m.Stdout, "seeding %d children and %d cases into %s (unless seeded before)…\n", children, n, db.Engine())
	if seedProfile != "" {
		f, err := os.Create(seedProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	began := time.Now()
	seed, err := bench.SeedDashboard(ctx, db, n, children, func(s string) {
		fmt.Fprintf(m.Stdout, "  %s (%s)\n", s, time.Since(began).Round(time.Second))
	})
	if seedProfile != "" {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return err
	}
	if seed.Reused {
		fmt.Fprintf(m.Stdout, "reused a database seeded before: %d cases\n", seed.Cases)
		n = seed.Cases
	} else {
		fmt.Fprintf(m.Stdout, "seeded %d cases, %d referrals, %d contacts in %s (totals rebuilt in %s)\n", seed.Cases, seed.Referrals,
			seed.Contacts, seed.Took.Round(time.Second), seed.Rebuild.Round(time.Millisecond))
	}
	if sp := seed.Support; sp.Entries > 0 {
		fmt.Fprintf(m.Stdout, "support data: %d register entries, %d answer sets, %d plans, %d parent events, %d showings (%s with the rest)\n",
			sp.Entries, sp.Answers, sp.Plans, sp.Events, sp.Showings, seed.Took.Round(time.Second))
	}
	w, err := bench.OpenWorld(ctx, db, n)
	if err != nil {
		return err
	}
	ss := bench.DashboardScenarios()
	if only != "" {
		ss = slices.DeleteFunc(ss, func(s bench.DashboardScenario) bool {
			return s != bench.DashboardScenarios()[0] && !strings.Contains(s.Name, only)
		})
	}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	var rs []bench.Result
	for _, s := range ss {
		r, err := w.MeasureDashboard(s, requests)
		if err != nil {
			return err
		}
		rs = append(rs, r)
	}
	bench.PrintDashboardTable(m.Stdout, db.Engine(), n, children, ss, rs)
	return nil
}
