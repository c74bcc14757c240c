package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"time"

	"dayaq/internal/bench"
)

// bench runs a benchmark: "bench cases", "bench intake", "bench match", "bench roster", "bench screening", "bench plans" or "bench dashboard".
func (m *Main) bench(ctx context.Context, args []string) error {
	switch {
	case len(args) > 0 && args[0] == "cases":
		return m.benchCases(ctx, args[1:])
	case len(args) > 0 && args[0] == "intake":
		return m.benchIntakeCmd(ctx, args[1:])
	case len(args) > 0 && args[0] == "match":
		return m.benchMatch(ctx, args[1:])
	case len(args) > 0 && args[0] == "roster":
		return m.benchRoster(ctx, args[1:])
	case len(args) > 0 && args[0] == "screening":
		return m.benchScreening(ctx, args[1:])
	case len(args) > 0 && args[0] == "plans":
		return m.benchPlans(ctx, args[1:])
	case len(args) > 0 && args[0] == "dashboard":
		return m.benchDashboard(ctx, args[1:])
	}
	fmt.Fprintln(m.Stderr, m.l.T("cli.usage_line", "bench cases|intake|match|roster|screening|plans|dashboard [flags]"))
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		return nil
	}
	return usageError{"bench: want a benchmark name: cases, intake, match, roster, screening, plans or dashboard"}
}

// benchCases seeds cases in bulk (unless the database already has them)
// and times GET /api/v1/cases, the web case list and a child's page
// through the whole HTTP stack.
func (m *Main) benchCases(ctx context.Context, args []string) error {
	fs := m.flags("bench cases", "bench cases [--db DB] [--cases 1000000] [--children 20000] [--requests 200] [--web] [--analyze] [--cpuprofile FILE]")
	dsn := fs.String("db", "", "database to seed and measure: an empty one, or one a previous run seeded; default a new SQLite file in a temporary directory")
	n := fs.Int("cases", 1_000_000, "cases to seed")
	children := fs.Int("children", 20000, "children to seed (the cases' children)")
	requests := fs.Int("requests", 200, "timed requests per scenario")
	web := fs.Bool("web", false, "time only the web pages and their anchors (each user's first API page)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the timed requests (not the seeding) to this file")
	analyze := fs.Bool("analyze", false, "refresh the planner's statistics before measuring a database seeded before (as seeding does)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *dsn == "" {
		dir, err := os.MkdirTemp("", "dayaq-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		*dsn = filepath.Join(dir, "bench.db")
	}
	db, err := openDB(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	have, err := db.CountCases(ctx)
	if err != nil {
		return err
	}
	var seeded time.Duration
	if have == 0 {
		fmt.Fprintln(m.Stdout, m.l.T("cli.bench.seeding", *children, *n, db.Engine()))
		last := time.Now()
		seeded, err = bench.SeedCases(ctx, db, *n, *children, func(done int) {
			if time.Since(last) > 10*time.Second {
				fmt.Fprintln(m.Stdout, m.l.T("cli.bench.seeded", done))
				last = time.Now()
			}
		})
		if err != nil {
			return err
		}
		have = *n
		if err := db.Analyze(ctx); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(m.Stdout, m.l.T("cli.bench.measuring", have))
		if *analyze {
			if err := db.Analyze(ctx); err != nil {
				return err
			}
		}
	}
	w, err := bench.OpenWorld(ctx, db, have)
	if err != nil {
		return err
	}
	scenarios := append(bench.Scenarios(), bench.WebScenarios()...)
	if *web {
		scenarios = bench.WebOnly(scenarios)
	}
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	var rs []bench.Result
	for _, s := range scenarios {
		r, err := w.Measure(s, *requests)
		if err != nil {
			return err
		}
		rs = append(rs, r)
	}
	bench.PrintTable(m.Stdout, db.Engine(), have, seeded, rs)
	return nil
}

// startCPUProfile writes a CPU profile to path until stop is called.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
