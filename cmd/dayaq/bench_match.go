package main

import (
	"context"
	"database/sql"
	"fmt"
	"iter"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"dayaq/internal/audit"
	"dayaq/internal/child"
	"dayaq/internal/demo"
	"dayaq/internal/match"
	"dayaq/internal/match/matchgen"
	"dayaq/internal/org"
	"dayaq/internal/storage"
	"dayaq/internal/storage/pgtemp"
)

// benchRow is one line of the table.
type benchRow struct {
	engine        storage.Engine
	plan          string
	children      int
	importRate    float64 // children a second, keys included
	p50, p95, p99 time.Duration
	scored        float64       // candidates returned a query, on average
	importCPU     float64       // children a second of this process's CPU time
	matchCPU      time.Duration // this process's CPU time a query, on average
	heapInuse     uint64
	sys           uint64
	maxRSS        int64 // bytes
	matchHWM      int64 // bytes: the peak resident set while matching (VmHWM, reset before)
}

// matchPlanNamed is the plan --plans names, and whether there is one.
func matchPlanNamed(name string) (storage.MatchPlan, bool) {
	switch name {
	case "overlap":
		return storage.MatchPlanOverlap, true
	case "near":
		return storage.MatchPlanNear, true
	case "keys":
		return storage.MatchPlanKeys, true
	}
	return 0, false
}

func (m *Main) benchMatch(ctx context.Context, args []string) error {
	fs := m.flags("bench match", "bench match [--db DB] [--pg URL] [--reuse] [--children 2000000] [--queries 10000]\n"+
		"        [--engines sqlite,postgres] [--sizes 10000,100000,1000000,2000000] [--plans near,keys]\n\n"+
		"Fills a synthetic roster (demo names, with namesakes) size by size, timing the bulk insert of\n"+
		"children and their match keys, and after each size times --queries matches written as people\n"+
		"write names (ASCII, capitals, English, Cyrillic, other orders, typos, swapped dates, no date,\n"+
		"children not on the roster). SQLite goes to --db (a new file; default a temporary one),\n"+
		"PostgreSQL to a new database at --pg, or on a throwaway cluster when --pg is not given.\n"+
		"With --reuse the roster is kept: --db may exist, and --pg's database dayaq_bench_match is made\n"+
		"once and not dropped; children already there are not inserted again (a size below them is\n"+
		"skipped). --plans times each plan on the same queries, interleaved (overlap: today's; near: the\n"+
		"plan before ADR 0041, its audit commit after the records are read; keys: the plan before ADR 0035).")
	dbPath := fs.String("db", "", "the SQLite file to create (must not exist; default: in a temporary directory)")
	pgURL := fs.String("pg", "", "a postgres:// URL of a server where the benchmark may create a database")
	children := fs.Int("children", 2_000_000, "the largest roster")
	queries := fs.Int("queries", 10_000, "queries timed at each size")
	engines := fs.String("engines", "sqlite,postgres", "engines to run, comma-separated")
	sizesFlag := fs.String("sizes", "10000,100000,1000000,2000000", "roster sizes to time, comma-separated (capped by --children)")
	reuse := fs.Bool("reuse", false, "keep the roster for the next run, and use the one a former run kept")
	plansFlag := fs.String("plans", "overlap", "matching plans to time side by side, comma-separated: overlap, near, keys")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the matching (not the import) to this file")
	if err := parse(fs, args); err != nil {
		return err
	}
	var sizes []int
	for _, s := range strings.Split(*sizesFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(strings.ReplaceAll(s, "_", "")))
		if err != nil || n <= 0 {
			return usageError{"bench match: bad --sizes " + *sizesFlag}
		}
		if n <= *children {
			sizes = append(sizes, n)
		}
	}
	slices.Sort(sizes)
	if len(sizes) == 0 {
		return usageError{"bench match: no size within --children"}
	}
	var plans []string
	for _, s := range strings.Split(*plansFlag, ",") {
		s = strings.TrimSpace(s)
		if _, ok := matchPlanNamed(s); !ok {
			return usageError{"bench match: unknown plan " + s + " in --plans"}
		}
		plans = append(plans, s)
	}
	m.benchHeader(*queries)
	for _, e := range strings.Split(*engines, ",") {
		var dsn string
		var cleanup func()
		switch storage.Engine(strings.TrimSpace(e)) {
		case storage.SQLite:
			path := *dbPath
			if path == "" {
				dir, err := os.MkdirTemp("", "dayaq-bench-")
				if err != nil {
					return err
				}
				cleanup = func() { os.RemoveAll(dir) }
				path = filepath.Join(dir, "bench.db")
			} else if _, err := os.Stat(path); err == nil && !*reuse {
				return fmt.Errorf("bench match: %s exists; give a new file", path)
			}
			dsn = path
		case storage.Postgres:
			var err error
			if *reuse {
				dsn, err = benchPostgresKept(ctx, *pgURL)
			} else {
				dsn, cleanup, err = benchPostgres(ctx, *pgURL)
			}
			if err != nil {
				return err
			}
		default:
			return usageError{"bench match: unknown engine " + e}
		}
		err := m.benchEngine(ctx, dsn, sizes, *queries, plans, *cpuProfile)
		if cleanup != nil {
			cleanup()
		}
		if err != nil {
			return err
		}
	}
	fmt.Fprintln(m.Stdout, "\n"+m.l.T("cli.bench.match_notes"))
	return nil
}

// benchPostgres makes a database for the benchmark on the server at url,
// or on a throwaway cluster, and returns its DSN and how to drop it.
func benchPostgres(ctx context.Context, pgURL string) (dsn string, cleanup func(), err error) {
	stop := func() {}
	if pgURL == "" {
		if !pgtemp.Available() {
			return "", nil, fmt.Errorf("bench match: no --pg URL and no PostgreSQL server binaries in %s", pgtemp.PGBin)
		}
		if pgURL, stop, err = pgtemp.Start(); err != nil {
			return "", nil, fmt.Errorf("bench match: start PostgreSQL: %w", err)
		}
	}
	name := fmt.Sprintf("dayaq_bench_%d", os.Getpid())
	admin, err := sql.Open("pgx", pgURL)
	if err != nil {
		stop()
		return "", nil, err
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		stop()
		return "", nil, fmt.Errorf("bench match: create database: %w", err)
	}
	dsn, err = withDatabase(pgURL, name)
	if err != nil {
		stop()
		return "", nil, err
	}
	return dsn, func() {
		if a, err := sql.Open("pgx", pgURL); err == nil {
			_, _ = a.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
			a.Close()
		}
		stop()
	}, nil
}

// benchPostgresKept returns the DSN of the database dayaq_bench_match at
// pgURL, making it when missing; it is kept for the next run (--reuse).
func benchPostgresKept(ctx context.Context, pgURL string) (string, error) {
	if pgURL == "" {
		return "", usageError{"bench match: --reuse needs --pg (a throwaway cluster keeps nothing)"}
	}
	const name = "dayaq_bench_match"
	admin, err := sql.Open("pgx", pgURL)
	if err != nil {
		return "", err
	}
	defer admin.Close()
	var n int
	if err := admin.QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_database WHERE datname = $1`, name).Scan(&n); err != nil {
		return "", fmt.Errorf("bench match: %w", err)
	}
	if n == 0 {
		if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
			return "", fmt.Errorf("bench match: create database: %w", err)
		}
	}
	return withDatabase(pgURL, name)
}

// withDatabase replaces the database in a postgres:// URL.
func withDatabase(dsn, name string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", fmt.Errorf("bench match: --pg: %w", err)
	}
	u.Path = "/" + name
	return u.String(), nil
}

// benchEngine grows one roster through the sizes and times each.
func (m *Main) benchEngine(ctx context.Context, dsn string, sizes []int, queries int, plans []string, profile string) error {
	db, err := openDB(ctx, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ImportOrgs(ctx, demo.Orgs()); err != nil {
		return err
	}
	if _, err := demo.LoadUsers(ctx, db); err != nil {
		return err
	}
	var schools []org.Org
	codes := map[int64]string{}
	for after := ""; ; {
		page, err := db.Orgs(ctx, storage.OrgFilter{Type: org.School, After: after, Limit: 500})
		if err != nil {
			return err
		}
		schools = append(schools, page...)
		if len(page) < 500 {
			break
		}
		after = page[len(page)-1].Code
	}
	for _, s := range schools {
		codes[s.ID] = s.Code
	}
	// A city-wide specialist searches: the policy filter runs, and passes all.
	u, err := db.UserByEmail(ctx, "city_specialist@"+demo.Domain)
	if err != nil {
		return err
	}
	p, err := db.PrincipalForUser(ctx, u.ID)
	if err != nil {
		return err
	}
	actor := audit.Actor{Principal: p, IP: "127.0.0.1", RequestID: "bench"}

	largest := sizes[len(sizes)-1]
	// The roster, and children who are not on it (the generator's next ones).
	gen := demo.Children(demo.Seed, largest+queries, schools)
	next, stop := iter.Pull(gen)
	defer stop()
	// A uniform sample of the roster (reservoir sampling), for writing the
	// queries: keeping every child would make this process's memory the
	// roster's, which no server holds.
	const sampleSize = 50_000
	var roster []child.Child
	seen := 0
	pick := rand.New(rand.NewPCG(7, 7))
	const batch = 50_000
	// A kept roster (--reuse): its children are the generator's first ones,
	// drawn again (not inserted) for the sample.
	have, err := db.CountChildren(ctx)
	if err != nil {
		return err
	}
	for range have {
		c, ok := next()
		if !ok {
			return fmt.Errorf("bench: the generator ran dry")
		}
		seen++
		kept := child.Child{LastName: c.LastName, FirstName: c.FirstName, Patronymic: c.Patronymic,
			BirthDate: c.BirthDate, SchoolID: c.SchoolID}
		if len(roster) < sampleSize {
			roster = append(roster, kept)
		} else if j := pick.IntN(seen); j < sampleSize {
			roster[j] = kept
		}
	}
	for _, size := range sizes {
		if size < have {
			fmt.Fprintf(m.Stdout, "%-8s %-5s %9d  (skipped: the kept roster has %d children)\n", db.Engine(), "", size, have)
			continue
		}
		start, cpu0 := time.Now(), cpuTime()
		added := 0
		for have < size {
			n := min(batch, size-have)
			cs := make([]child.Child, 0, n)
			for range n {
				c, ok := next()
				if !ok {
					return fmt.Errorf("bench: the generator ran dry")
				}
				cs = append(cs, c)
			}
			if err := db.InsertChildren(ctx, cs); err != nil {
				return err
			}
			for _, c := range cs {
				seen++
				kept := child.Child{ID: c.ID, LastName: c.LastName, FirstName: c.FirstName,
					Patronymic: c.Patronymic, BirthDate: c.BirthDate, SchoolID: c.SchoolID}
				if len(roster) < sampleSize {
					roster = append(roster, kept)
				} else if j := pick.IntN(seen); j < sampleSize {
					roster[j] = kept
				}
			}
			have += n
			added += n
		}
		var rate, importCPU float64
		if added > 0 {
			rate = float64(added) / time.Since(start).Seconds()
			importCPU = float64(added) / (cpuTime() - cpu0).Seconds()
		}

		// The peak resident set from here on is the matching's: what the
		// import left in the heap goes back, then the peak is reset.
		debug.FreeOSMemory()
		resetPeakRSS()
		qs := benchQueries(roster, codes, queries, int64(size))
		// Each query is asked of every plan in turn, the order rotating, so
		// that the plans share the machine's load.
		lat := make([][]time.Duration, len(plans))
		total := make([]int, len(plans))
		cpu := make([]time.Duration, len(plans))
		if profile != "" {
			f, err := os.Create(profile)
			if err != nil {
				return err
			}
			defer f.Close()
			if err := pprof.StartCPUProfile(f); err != nil {
				return err
			}
		}
		plan0 := db.MatchPlan()
		for i, q := range qs {
			for j := range plans {
				k := (i + j) % len(plans)
				plan, _ := matchPlanNamed(plans[k])
				db.SetMatchPlan(plan)
				t0, c0 := time.Now(), cpuTime()
				cs, err := db.MatchChildren(ctx, actor, q)
				if err != nil {
					return fmt.Errorf("bench: match %d (%s): %w", i, plans[k], err)
				}
				lat[k] = append(lat[k], time.Since(t0))
				cpu[k] += cpuTime() - c0
				total[k] += len(cs)
			}
		}
		db.SetMatchPlan(plan0)
		if profile != "" {
			pprof.StopCPUProfile()
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		hwm := peakRSS()
		for k, plan := range plans {
			l := lat[k]
			slices.Sort(l)
			pct := func(p float64) time.Duration { return l[min(len(l)-1, int(p*float64(len(l))))] }
			m.benchLine(benchRow{engine: db.Engine(), plan: plan, children: size, importRate: rate, importCPU: importCPU,
				matchCPU: cpu[k] / time.Duration(len(qs)), p50: pct(0.50), p95: pct(0.95), p99: pct(0.99),
				scored: float64(total[k]) / float64(len(qs)), heapInuse: ms.HeapInuse, sys: ms.Sys, maxRSS: maxRSS(), matchHWM: hwm})
		}
	}
	return nil
}

// resetPeakRSS resets the process's peak resident set (VmHWM) to what is
// resident now (Linux: /proc/self/clear_refs; elsewhere nothing happens
// and peakRSS reports the peak since the start).
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS is VmHWM from /proc/self/status, in bytes (0 when unknown).
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb * 1024
		}
	}
	return 0
}

// benchQueries writes n queries about the roster: most about a child on it
// in one of matchgen's kinds with the right birth date; some with the day
// and month swapped, the year off or no date; some about children who are
// not on it (their names shuffled among roster names, as namesakes are).
func benchQueries(roster []child.Child, codes map[int64]string, n int, seed int64) []match.Query {
	r := rand.New(rand.NewPCG(uint64(seed), 42))
	kinds := matchgen.Kinds()
	qs := make([]match.Query, 0, n)
	for len(qs) < n {
		c := roster[r.IntN(len(roster))]
		k := kinds[r.IntN(len(kinds))]
		q := match.Query{Name: k.Write(r, c), BirthDate: c.BirthDate}
		switch x := r.IntN(100); {
		case x < 5: // no date
			q.BirthDate = time.Time{}
		case x < 8: // day and month swapped
			if d := c.BirthDate; d.Day() <= 12 {
				q.BirthDate = time.Date(d.Year(), time.Month(d.Day()), int(d.Month()), 0, 0, 0, 0, time.UTC)
			}
		case x < 10: // the year off
			q.BirthDate = c.BirthDate.AddDate(1, 0, 0)
		case x < 15: // not on the roster: another child's first name, this one's surname, a random date
			o := roster[r.IntN(len(roster))]
			q = match.Query{Name: c.LastName + " " + o.FirstName, BirthDate: o.BirthDate.AddDate(0, 0, 1+r.IntN(300))}
		case x < 25: // with the school
			q.School = codes[c.SchoolID]
		}
		qs = append(qs, q)
	}
	return qs
}

// cpuTime is the CPU time this process has used, user and system. On a
// shared machine it measures the work, where wall-clock time measures the
// queue too; with SQLite the database engine runs in this process.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// maxRSS is the process's peak resident set size, in bytes.
func maxRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss * 1024 // kilobytes on Linux
}

// benchHeader and benchLine print the table a row at a time, as each
// size is measured.
func (m *Main) benchHeader(queries int) {
	fmt.Fprintf(m.Stdout, "%s\n\n", m.l.T("cli.bench.match_title", queries, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH))
	h := strings.Split(m.l.T("cli.bench.match_columns"), "|")
	for len(h) < 14 {
		h = append(h, "")
	}
	fmt.Fprintf(m.Stdout, "%-8s %-5s %9s %13s %13s %10s %10s %10s %10s %8s %11s %8s %8s %8s\n", h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7],
		h[8], h[9], h[10], h[11], h[12], h[13])
}

func (m *Main) benchLine(r benchRow) {
	mb := func(b uint64) string { return fmt.Sprintf("%.0f MB", float64(b)/(1<<20)) }
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }
	fmt.Fprintf(m.Stdout, "%-8s %-5s %9d %13.0f %13.0f %10s %10s %10s %10s %8.1f %11s %8s %8s %8s\n", r.engine, r.plan, r.children, r.importRate,
		r.importCPU, ms(r.p50), ms(r.p95), ms(r.p99), ms(r.matchCPU), r.scored, mb(r.heapInuse), mb(r.sys), mb(uint64(r.maxRSS)),
		mb(uint64(r.matchHWM)))
}
