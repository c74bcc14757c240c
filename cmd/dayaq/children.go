package main

import (
	"bufio"
	"context"
	"dayaq/internal/api"
	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/match"
	"dayaq/internal/roster"
	"dayaq/internal/storage"
	"dayaq/internal/surface"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// children runs the children registry's subcommands.
func (m *Main) children(ctx context.Context, args []string) error {
	const usage = "Usage: dayaq children import [--db DB] [--rejects FILE] FILE.csv\n" +
		"       dayaq children match [--db DB] [--as EMAIL] --batch QUERIES.jsonl"
	sub := ""
	if len(args) > 0 {
		sub = args[0]
	}
	switch sub {
	case "import":
		return m.childrenImport(ctx, args[1:])
	case "match":
		return m.childrenMatch(ctx, args[1:])
	case "-h", "--help":
		fmt.Fprintln(m.Stderr, usage)
		return nil
	}
	fmt.Fprintln(m.Stderr, usage)
	return usageError{"children: want a subcommand: import or match"}
}

// childrenImport imports a school roster as the operator (the whole city,
// audited as the system). Rejected rows go to the rejects file and do not
// make the command fail; only a file that cannot be used at all does.
func (m *Main) childrenImport(ctx context.Context, args []string) error {
	fs := m.flags("children import", "children import [--db DB] [--rejects FILE] FILE.csv\n\n"+
		"The CSV header is student_id,last_name,first_name,patronymic,sex,birth_date,school_code,grade\n"+
		"(or şagird_id,soyad,ad,ata_adı,cins,doğum_tarixi,məktəb_kodu,sinif), in any order; comma or semicolon\n"+
		"separated, UTF-8 with or without BOM. Rows are inserted or updated by student_id; an unchanged row is\n"+
		"left alone. Each bad row is rejected with its line and reason, into the rejects file (default\n"+
		"FILE.rejects.csv when there are any), and the others are imported. The exit status is non-zero only\n"+
		"when the file itself cannot be used (unreadable, or a bad header).")
	dsn := m.dbFlag(fs)
	rejectsPath := fs.String("rejects", "", "where to write the rejected rows as CSV (default FILE.rejects.csv)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return usageError{"children import: want exactly one FILE.csv"}
	}
	path := fs.Arg(0)
	if *rejectsPath == "" {
		*rejectsPath = strings.TrimSuffix(path, filepath.Ext(path)) + ".rejects.csv"
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	db, err := openDB(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	size := int64(0)
	if st, err := f.Stat(); err == nil {
		size = st.Size()
	}
	cr := &countingReader{r: f}
	rd, err := roster.NewReader(cr, db.Now())
	if err != nil {
		if apperr.CodeOf(err) == apperr.Invalid {
			return exitError{code: 1, err: fmt.Errorf("%s: %s", path, describe(m.l, err))}
		}
		return err
	}
	sys := audit.System()
	id, err := db.StartRosterImport(ctx, sys, filepath.Base(path))
	if err != nil {
		return err
	}
	rw := &rejectsWriter{path: *rejectsPath, l: m.l.T}
	defer rw.close()
	prog := newProgress(m.Stderr, terminal(m.Stderr), time.Now, cr, size)
	n, err := db.ImportRoster(ctx, sys, id, rd, storage.RosterImportOptions{
		Operator:   true,
		OnReject:   rw.write,
		OnProgress: prog.update,
	})
	prog.done()
	if cerr := rw.close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(m.Stdout, m.l.T("cli.children_imported", n.Read, n.Inserted, n.Updated, n.Unchanged, n.Rejected))
	if n.Rejected > 0 {
		fmt.Fprintln(m.Stdout, m.l.T("cli.children_rejects", rw.path))
	}
	return nil
}

// rejectsWriter writes rejected rows as CSV: line, reason, then the row's
// fields as written. The file is created at the first reject.
type rejectsWriter struct {
	path string
	l    func(key string, args ...any) string
	f    *os.File
	w    *csv.Writer
}

func (rw *rejectsWriter) write(r roster.Record) error {
	if rw.w == nil {
		f, err := os.Create(rw.path)
		if err != nil {
			return err
		}
		rw.f, rw.w = f, csv.NewWriter(f)
		if err := rw.w.Write(append([]string{"line", "reason"}, roster.Columns()...)); err != nil {
			return err
		}
	}
	return rw.w.Write(append([]string{strconv.Itoa(r.Line), r.Reject.Text(rw.l)}, r.Raw...))
}

func (rw *rejectsWriter) close() error {
	if rw.f == nil {
		return nil
	}
	rw.w.Flush()
	err := rw.w.Error()
	if cerr := rw.f.Close(); err == nil {
		err = cerr
	}
	rw.f = nil
	return err
}

// terminal reports whether w is a terminal (a character device), so that a
// progress bar is drawn only for a person watching.
func terminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// progress draws how much of the file is read, the rows and the rows per
// second on one terminal line.
type progress struct {
	w     io.Writer
	on    bool
	now   func() time.Time
	start time.Time
	in    *countingReader
	size  int64
	drawn bool
}

func newProgress(w io.Writer, on bool, now func() time.Time, in *countingReader, size int64) *progress {
	return &progress{w: w, on: on, now: now, start: now(), in: in, size: size}
}

func (p *progress) update(n storage.RosterCounts) {
	if !p.on {
		return
	}
	el := p.now().Sub(p.start).Seconds()
	rate := 0.0
	if el > 0 {
		rate = float64(n.Read) / el
	}
	const width = 30
	frac := 0.0
	if p.size > 0 {
		frac = min(1, float64(p.in.n)/float64(p.size)) // read ahead by the buffer: a little early
	}
	filled := int(frac * width)
	bar := strings.Repeat("=", filled) + strings.Repeat(" ", width-filled)
	fmt.Fprintf(p.w, "\r[%s] %3.0f%% %9d rows  %8.0f rows/s  %d rejected", bar, frac*100, n.Read, rate, n.Rejected)
	p.drawn = true
}

func (p *progress) done() {
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}

// matchLine is one query of a batch.
type matchLine struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	BirthDate  string `json:"birth_date"`
	SchoolCode string `json:"school_code"`
}

// matchAnswer is the line written for a query.
type matchAnswer struct {
	ID         string                   `json:"id"`
	Candidates []api.MatchCandidateJSON `json:"candidates"`
	Error      string                   `json:"error,omitempty"`
}

func (m *Main) childrenMatch(ctx context.Context, args []string) error {
	fs := m.flags("children match", "children match [--db DB] [--as EMAIL] --batch QUERIES.jsonl\n\n"+
		"Reads one JSON query a line ({\"id\": \"…\", \"name\": \"…\", \"birth_date\": \"YYYY-MM-DD\", \"school_code\": \"…\"},\n"+
		"birth_date and school_code optional; - reads standard input) and writes one JSON line a query:\n"+
		"{\"id\": \"…\", \"candidates\": [{\"student_id\", \"child_id\", \"score\", \"level\", \"reasons\"}]}, at most 10, best first.\n"+
		"A bad query gets {\"id\": \"…\", \"candidates\": [], \"error\": \"…\"}. Every search is audited.")
	dsn := m.dbFlag(fs)
	batch := fs.String("batch", "", "the queries, one JSON object a line (- for standard input)")
	as := fs.String("as", "", "search as this user (their access, audited as them); without it, the whole registry, audited as the system")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *batch == "" || fs.NArg() != 0 {
		fs.Usage()
		return usageError{"children match: want --batch QUERIES.jsonl"}
	}
	var in io.Reader = m.Stdin
	if *batch != "-" {
		f, err := os.Open(*batch)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	db, err := openDB(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	find := db.MatchChildrenAsOperator
	if *as != "" {
		u, err := db.UserByEmail(ctx, strings.ToLower(strings.TrimSpace(*as)))
		if err != nil {
			return fmt.Errorf("--as %s: %s", *as, describe(m.l, err))
		}
		p, err := db.PrincipalForUser(ctx, u.ID)
		if err != nil {
			return err
		}
		a := audit.Actor{Principal: p, RequestID: "cli"}
		find = func(ctx context.Context, q match.Query) ([]storage.MatchCandidate, error) {
			return db.MatchChildren(ctx, a, q)
		}
	}
	return m.matchBatch(ctx, in, find)
}

// matchBatch answers each line of in on m.Stdout.
func (m *Main) matchBatch(ctx context.Context, in io.Reader, find func(context.Context, match.Query) ([]storage.MatchCandidate, error)) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	out := bufio.NewWriter(m.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		var ql matchLine
		ans := matchAnswer{Candidates: []api.MatchCandidateJSON{}}
		if err := json.Unmarshal([]byte(text), &ql); err != nil {
			ans.Error = m.l.T("import.line", line) + ": " + m.l.T("error.json")
		} else {
			ans.ID = ql.ID
			q, err := queryOf(ql)
			if err == nil {
				var cs []storage.MatchCandidate
				cs, err = find(ctx, q)
				ans.Candidates = api.MatchCandidatesJSON(m.l, cs)
			}
			if err != nil {
				ans.Error = describe(m.l, err)
				if ans.Candidates == nil {
					ans.Candidates = []api.MatchCandidateJSON{}
				}
			}
		}
		if err := enc.Encode(ans); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return sc.Err()
}

// queryOf validates a batch line as the API validates a request.
func queryOf(l matchLine) (match.Query, error) {
	return surface.MatchQuery(l.Name, l.BirthDate, l.SchoolCode)
}
