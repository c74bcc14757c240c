package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/stdlib"

	"dayaq/internal/audit"
	"dayaq/internal/demo"
	"dayaq/internal/match"
	"dayaq/internal/org"
	"dayaq/internal/roster"
	"dayaq/internal/storage"
)

// benchRoster times the national roster's two imports (ADR 0027): a
// CSV of N pupils into an empty registry, then the nightly re-sync of the
// same file with a share of its rows changed; beside them, in the same
// run, the anchors: the sqlite3 shell's .import of the same file into a
// plain table, and PostgreSQL's COPY of it.
func (m *Main) benchRoster(ctx context.Context, args []string) error {
	fs := m.flags("bench roster", "bench roster [--rows 100000] [--changed 0.01] [--postgres URL] [--dir DIR] [--reuse] [--cpuprofile FILE]")
	rows := fs.Int("rows", 100_000, "pupils in the roster file")
	changed := fs.Float64("changed", 0.01, "share of rows changed for the re-sync")
	pg := fs.String("postgres", m.Getenv("DAYAQ_BENCH_POSTGRES"), "an empty PostgreSQL database (postgres://…); none: SQLite only")
	dir := fs.String("dir", "", "where to put the files (default: a temporary directory)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file")
	reuse := fs.Bool("reuse", false, "the registries in --dir and --postgres hold a former run's load: time only the re-sync, "+
		"with the former run's files, once each way (the changed file, then the first one again)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "dayaq-bench-roster-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		*dir = d
	}
	dsns := []string{filepath.Join(*dir, "bench.db")}
	if *pg != "" {
		dsns = append(dsns, *pg)
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "engine\trows\tstep\tseconds\trows/s\tanchor\tanchor s\tratio\tdetail\t\n")
	for _, dsn := range dsns {
		if err := m.benchRosterOn(ctx, tw, dsn, *dir, *rows, *changed, *reuse); err != nil {
			return fmt.Errorf("bench roster on %s: %w", storage.EngineOf(dsn), err)
		}
	}
	return tw.Flush()
}

func (m *Main) benchRosterOn(ctx context.Context, tw *tabwriter.Writer, dsn, dir string, n int, share float64, reuse bool) error {
	db, err := openDB(ctx, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ImportOrgs(ctx, demo.Orgs()); err != nil {
		return err
	}
	if _, err := demo.LoadUsers(ctx, db); err != nil { // the hotline operator who logs contacts during the load
		return err
	}
	var schools []org.Org
	f := storage.OrgFilter{Type: org.School, Limit: 500}
	for {
		page, err := db.Orgs(ctx, f)
		if err != nil {
			return err
		}
		schools = append(schools, page...)
		if len(page) < f.Limit {
			break
		}
		f.After = page[len(page)-1].Code
	}
	file := filepath.Join(dir, fmt.Sprintf("roster-%s.csv", db.Engine()))
	resync := filepath.Join(dir, fmt.Sprintf("roster-%s-resync.csv", db.Engine()))
	if !reuse {
		if _, _, err = writeRosters(file, resync, n, share, schools); err != nil {
			return err
		}
	}
	first, err := firstPupil(file)
	if err != nil {
		return err
	}
	// The anchor, in the same run.
	anchor, anchorName, err := rosterAnchor(ctx, db, dsn, dir, file)
	if err != nil {
		return err
	}
	load := func(path string) (storage.RosterCounts, time.Duration, error) {
		fh, err := os.Open(path)
		if err != nil {
			return storage.RosterCounts{}, 0, err
		}
		defer fh.Close()
		start := time.Now()
		rd, err := roster.NewReader(bufio.NewReaderSize(fh, 1<<20), db.Now())
		if err != nil {
			return storage.RosterCounts{}, 0, err
		}
		id, err := db.StartRosterImport(ctx, audit.System(), filepath.Base(path))
		if err != nil {
			return storage.RosterCounts{}, 0, err
		}
		var c storage.RosterCounts
		// Labelled, so that a profile tells the load from the re-sync
		// (go tool pprof -tagfocus file=…).
		pprof.Do(ctx, pprof.Labels("file", filepath.Base(path)), func(ctx context.Context) {
			c, err = db.ImportRoster(ctx, audit.System(), id, rd, storage.RosterImportOptions{Operator: true})
		})
		return c, time.Since(start), err
	}
	if reuse {
		return benchResyncs(ctx, tw, db, n, anchor, anchorName, load, resync, file)
	}
	// While the load runs, the server's reads go on: every 20 ms a search
	// for the first pupil (read pool, its audit event through the
	// group-commit writer) and a hotline contact logged by the operator
	// (group commit, audited), each timed.
	opUser, err := db.UserByEmail(ctx, "hotline_operator@"+demo.Domain)
	if err != nil {
		return err
	}
	opP, err := db.PrincipalForUser(ctx, opUser.ID)
	if err != nil {
		return err
	}
	op := audit.Actor{Principal: opP}
	stop := make(chan struct{})
	probe := func(do func(i int) error) chan probeResult {
		out := make(chan probeResult, 1)
		go func() {
			var r probeResult
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			for i := 0; ; i++ {
				select {
				case <-stop:
					out <- r
					return
				case <-tick.C:
				}
				start := time.Now()
				if err := do(i); err != nil {
					if r.errors++; r.first == nil {
						r.first = err
					}
					continue
				}
				r.ts = append(r.ts, time.Since(start))
			}
		}()
		return out
	}
	matches := probe(func(int) error {
		_, err := db.MatchChildrenAsOperator(ctx, match.Query{Name: first.name, BirthDate: first.birth})
		return err
	})
	contacts := probe(func(i int) error {
		ct := benchContact(i, 1)
		ct.Children = ct.Children[1:] // no registry child: the registry is loading
		ct.ReceivedAt = db.Now()
		_, err := db.CreateContact(ctx, op, ct, storage.ContactCreate{IdemKey: fmt.Sprintf("roster-bench-%d", i),
			Render: func(storage.ContactRecord) (storage.StoredResponse, error) {
				return storage.StoredResponse{Status: 201}, nil
			}})
		return err
	})
	c, el, err := load(file)
	close(stop)
	mr, cr := <-matches, <-contacts
	if err != nil {
		return err
	}
	// Searchable when the command returns: the first pupil is found.
	found := "not found"
	if cs, err := db.MatchChildrenAsOperator(ctx, match.Query{Name: first.name, BirthDate: first.birth}); err == nil {
		for _, k := range cs {
			if k.StudentID == first.sid {
				found = "first pupil found by name and date"
			}
		}
	} else {
		found = err.Error()
	}
	ratio := func(d time.Duration) string {
		if anchor == 0 {
			return "—"
		}
		return fmt.Sprintf("%.1f×", d.Seconds()/anchor.Seconds())
	}
	fmt.Fprintf(tw, "%s\t%d\tload into an empty registry\t%.1f\t%.0f\t%s\t%.1f\t%s\tinserted %d; %s; during it %s matches, %s contacts\t\n", db.Engine(), n,
		el.Seconds(), float64(n)/el.Seconds(), anchorName, anchor.Seconds(), ratio(el), c.Inserted, found, mr, cr)
	return benchResyncs(ctx, tw, db, n, anchor, anchorName, load, resync)
}

// benchResyncs times the re-sync of each file in turn, printing each
// beside the anchor: what it updated, left and inserted, and the audit
// events it wrote.
func benchResyncs(ctx context.Context, tw *tabwriter.Writer, db *storage.DB, n int, anchor time.Duration, anchorName string,
	load func(string) (storage.RosterCounts, time.Duration, error), files ...string) error {
	for _, f := range files {
		head, err := db.AuditHead(ctx)
		if err != nil {
			return err
		}
		c, el, err := load(f)
		if err != nil {
			return err
		}
		after, err := db.AuditHead(ctx)
		if err != nil {
			return err
		}
		ratio := "—"
		if anchor > 0 {
			ratio = fmt.Sprintf("%.1f×", el.Seconds()/anchor.Seconds())
		}
		fmt.Fprintf(tw, "%s\t%d\tnightly re-sync (%s)\t%.1f\t%.0f\t%s\t%.1f\t%s\tupdated %d, unchanged %d, inserted %d; %d audit events\t\n",
			db.Engine(), n, filepath.Base(f), el.Seconds(), float64(n)/el.Seconds(), anchorName, anchor.Seconds(), ratio,
			c.Updated, c.Unchanged, c.Inserted, after.Seq-head.Seq)
	}
	return nil
}

// firstPupil reads the first pupil of a roster file that writeRosters wrote.
func firstPupil(path string) (benchPupil, error) {
	f, err := os.Open(path)
	if err != nil {
		return benchPupil{}, err
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReader(f))
	if _, err := r.Read(); err != nil { // the header
		return benchPupil{}, err
	}
	rec, err := r.Read()
	if err != nil {
		return benchPupil{}, err
	}
	birth, err := time.Parse("2006-01-02", rec[5])
	if err != nil {
		return benchPupil{}, err
	}
	return benchPupil{sid: rec[0], name: rec[1] + " " + rec[2], birth: birth}, nil
}

// probeResult is what a probe timed while a load ran.
type probeResult struct {
	ts     []time.Duration
	errors int
	first  error // the first error, for the operator
}

func (r probeResult) String() string {
	if len(r.ts) == 0 {
		return fmt.Sprintf("0 (%d errors: %v)", r.errors, r.first)
	}
	slices.Sort(r.ts)
	pct := func(p float64) float64 { return ms(r.ts[min(len(r.ts)-1, int(p*float64(len(r.ts))))]) }
	errs := fmt.Sprintf("%d errors", r.errors)
	if r.first != nil {
		errs += fmt.Sprintf(", the first: %v", r.first)
	}
	return fmt.Sprintf("%d (%s; p50 %.1f ms, p99 %.1f ms, max %.1f ms)", len(r.ts), errs, pct(0.5), pct(0.99), ms(r.ts[len(r.ts)-1]))
}

// benchPupil is the first pupil of the file, looked up after the load.
type benchPupil struct {
	sid, name string
	birth     time.Time
}

// writeRosters writes the roster of n demo pupils and the same roster
// with every k-th row's class changed (share of the rows).
func writeRosters(path, resync string, n int, share float64, schools []org.Org) (int, benchPupil, error) {
	code := map[int64]string{}
	for _, s := range schools {
		code[s.ID] = s.Code
	}
	every := 0
	if share > 0 {
		every = max(1, int(1/share))
	}
	f1, err := os.Create(path)
	if err != nil {
		return 0, benchPupil{}, err
	}
	defer f1.Close()
	f2, err := os.Create(resync)
	if err != nil {
		return 0, benchPupil{}, err
	}
	defer f2.Close()
	w1, w2 := csv.NewWriter(f1), csv.NewWriter(f2)
	header := []string{"student_id", "last_name", "first_name", "patronymic", "sex", "birth_date", "school_code", "grade"}
	_ = w1.Write(header)
	_ = w2.Write(header)
	var first benchPupil
	i, changed := 0, 0
	for ch := range demo.Children(7, n, schools) {
		rec := []string{ch.StudentID, ch.LastName, ch.FirstName, ch.Patronymic, string(ch.Sex), ch.BirthDate.Format("2006-01-02"),
			code[ch.SchoolID], ch.Class()}
		if i == 0 {
			first = benchPupil{sid: ch.StudentID, name: ch.LastName + " " + ch.FirstName, birth: ch.BirthDate}
		}
		_ = w1.Write(rec)
		if every > 0 && i%every == every-1 {
			section := "D"
			if ch.Section == "D" {
				section = "E"
			}
			rec[7] = strconv.Itoa(ch.Grade) + section
			changed++
		}
		_ = w2.Write(rec)
		i++
	}
	for _, w := range []*csv.Writer{w1, w2} {
		w.Flush()
		if err := w.Error(); err != nil {
			return 0, first, err
		}
	}
	return changed, first, nil
}

// rosterAnchor loads the file into a plain table the engine's own fastest
// way: the sqlite3 shell's .import into a new database file, or COPY on
// PostgreSQL. It returns the time and what it was.
func rosterAnchor(ctx context.Context, db *storage.DB, dsn, dir, file string) (time.Duration, string, error) {
	if db.Engine() == storage.SQLite {
		bin, err := exec.LookPath("sqlite3")
		if err != nil {
			return 0, "sqlite3 not installed", nil
		}
		plain := filepath.Join(dir, "plain.db")
		_ = os.Remove(plain)
		start := time.Now()
		cmd := exec.CommandContext(ctx, bin, plain, ".mode csv", ".import "+file+" plain")
		if out, err := cmd.CombinedOutput(); err != nil {
			return 0, "", fmt.Errorf("sqlite3 .import: %v: %s", err, out)
		}
		return time.Since(start), "sqlite3 .import", nil
	}
	pdb, err := sql.Open("pgx", dsn)
	if err != nil {
		return 0, "", err
	}
	defer pdb.Close()
	if _, err := pdb.ExecContext(ctx, `CREATE TABLE bench_plain (student_id text, last_name text, first_name text,
		patronymic text, sex text, birth_date text, school_code text, grade text)`); err != nil {
		return 0, "", err
	}
	defer pdb.ExecContext(context.WithoutCancel(ctx), `DROP TABLE bench_plain`)
	fh, err := os.Open(file)
	if err != nil {
		return 0, "", err
	}
	defer fh.Close()
	c, err := pdb.Conn(ctx)
	if err != nil {
		return 0, "", err
	}
	defer c.Close()
	start := time.Now()
	err = c.Raw(func(dc any) error {
		_, err := dc.(*stdlib.Conn).Conn().PgConn().CopyFrom(ctx, fh, `COPY bench_plain FROM STDIN (FORMAT csv, HEADER true)`)
		return err
	})
	if err != nil {
		return 0, "", fmt.Errorf("COPY: %w", err)
	}
	return time.Since(start), "PostgreSQL COPY", nil
}
