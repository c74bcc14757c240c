package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/audit"
	"dayaq/internal/auth"
	"dayaq/internal/demo"
	"dayaq/internal/hotline"
	"dayaq/internal/server"
	"dayaq/internal/storage"
)

// benchIntakeCmd is "bench intake": it drives the contacts API.
func (m *Main) benchIntakeCmd(ctx context.Context, args []string) error {
	const synopsis = "bench intake [--clients 8] [--contacts 20000] [--baseline 4000] [--postgres URL] [--sqlite=false] [--writers N] [--dir DIR]"
	fs := m.flags("bench intake", synopsis+`

Logs contacts through the HTTP API of an in-process server on a real
listener (bearer token, registry child check, audit, group commit), from
concurrent clients, on a fresh SQLite database and, given --postgres (or
DAYAQ_BENCH_POSTGRES), on PostgreSQL; then inserts the same rows straight
into the same database, one transaction each, as the baseline.`)
	clients := fs.Int("clients", 8, "concurrent clients")
	n := fs.Int("contacts", 20000, "contacts to log through the API per engine")
	nBase := fs.Int("baseline", 4000, "contacts to insert directly per engine, for the baseline")
	children := fs.Int("children", 2000, "synthetic children in the registry")
	pg := fs.String("postgres", m.Getenv("DAYAQ_BENCH_POSTGRES"), "an empty PostgreSQL database to use (postgres://…); none: SQLite only")
	dir := fs.String("dir", "", "where to put the SQLite database (default: a temporary directory)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file")
	withSQLite := fs.Bool("sqlite", true, "measure SQLite too (false: only the --postgres database)")
	writers := fs.Int("writers", 0, "group-commit writers on PostgreSQL (0: the default)")
	withMatch := fs.Bool("match", false, "before each contact, look the child up by name (POST /api/v1/children/match), as the operator's type-ahead does")
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
	if *clients < 1 || *n < *clients || *nBase < *clients {
		return usageError{"bench intake: --clients, --contacts and --baseline must be positive, the counts at least --clients"}
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "dayaq-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		*dir = d
	}
	var dsns []string
	if *withSQLite || *pg == "" {
		dsns = append(dsns, filepath.Join(*dir, "bench.db"))
	}
	if *pg != "" {
		dsns = append(dsns, *pg)
	} else {
		fmt.Fprintln(m.Stderr, m.l.T("cli.bench.sqlite_only"))
	}
	var rows []intakeRow
	for _, dsn := range dsns {
		r, err := m.benchIntake(ctx, dsn, *clients, *n, *nBase, *children, *writers, *withMatch)
		if err != nil {
			return fmt.Errorf("bench intake on %s: %w", storage.EngineOf(dsn), err)
		}
		rows = append(rows, r...)
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, m.l.T("cli.bench.intake_header"))
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%.0f\t%.2f\t%.2f\t%.2f\t\n", r.engine, r.path, r.clients, r.n, r.errors,
			r.rate, ms(r.p50), ms(r.p95), ms(r.p99))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for i := 0; i+1 < len(rows); i += 2 {
		api, base := rows[i], rows[i+1]
		fmt.Fprintln(m.Stdout, m.l.T("cli.bench.intake_summary", api.engine, api.rate, 100*api.rate/base.rate, ms(api.p99)))
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

type intakeRow struct {
	engine        storage.Engine
	path          string
	clients, n    int
	errors        int64
	rate          float64
	p50, p95, p99 time.Duration
}

// benchContact is the i-th contact of the run: varied categories, a
// registry child, a caller's number from a pool (so repeat callers occur),
// one in twenty critical.
func benchContact(i, children int) hotline.Contact {
	cats := [][]string{{"violence.bullying"}, {"mental.distress.anxiety", "education.school"}, {"family"},
		{"mental.suicidal"}, {"peers"}, {"violence.physical", "family"}, {"education.truancy"}, {"other.question"}}
	c := hotline.Contact{Channel: hotline.Phone, CallType: hotline.ChildSelf, Caller: hotline.Caller{Anonymous: true},
		Children:   []hotline.ChildRef{{ChildID: int64(1 + i%children)}, {Name: "Nərmin", Age: 10 + i%8, District: "BAK-06"}},
		Categories: cats[i%len(cats)], Urgency: hotline.Medium, Outcome: hotline.Advice,
		Narrative: "Uşaq sinif yoldaşlarının onu incitdiyini danışır; məsləhət verildi və məktəb psixoloqu ilə danışmaq tövsiyə olundu."}
	if i%3 == 0 {
		c.Caller.Phone = fmt.Sprintf("+99450%07d", i%500)
	}
	if i%20 == 0 {
		c.Urgency = hotline.Critical
	}
	return c
}

// benchNames are names as callers say them, in the spellings matching must
// handle.
func benchNames() []string {
	return []string{"Məmmədova Nərmin", "Mammadova Narmin", "МАМЕДОВА НАРМИН", "Əliyev Elvin", "Aliyev Elvin",
		"Hüseynova Aysel", "Гусейнова Айсель", "Quliyev Orxan", "Guliyev Orkhan", "Rzayeva Leyla"}
}

func benchBody(c hotline.Contact) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"channel":%q,"call_type":%q,"caller":{"anonymous":true`, c.Channel, c.CallType)
	if c.Caller.Phone != "" {
		fmt.Fprintf(&b, `,"phone":%q`, c.Caller.Phone)
	}
	fmt.Fprintf(&b, `},"children":[{"child_id":%d},{"name":%q,"age":%d,"district":%q}],"categories":[`,
		c.Children[0].ChildID, c.Children[1].Name, c.Children[1].Age, c.Children[1].District)
	for i, cat := range c.Categories {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%q", cat)
	}
	fmt.Fprintf(&b, `],"urgency":%q,"narrative":%q,"outcome":%q}`, c.Urgency, c.Narrative, c.Outcome)
	return b.Bytes()
}

func (m *Main) benchIntake(ctx context.Context, dsn string, clients, n, nBase, children, writers int, withMatch bool) ([]intakeRow, error) {
	db, err := openDB(ctx, dsn, storage.WithGroupWriters(writers))
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if empty, err := demo.IsEmpty(ctx, db); err != nil || !empty {
		return nil, errors.Join(err, errors.New("the database is not empty"))
	}
	if _, err := demo.Load(ctx, db, children, nil); err != nil {
		return nil, err
	}
	op, err := db.UserByEmail(ctx, "hotline_operator@"+demo.Domain)
	if err != nil {
		return nil, err
	}
	tok := auth.NewAPIToken()
	if _, err := db.CreateAPIToken(ctx, audit.System(), storage.NewAPIToken{UserID: op.ID, Name: "bench",
		Scopes: []access.Scope{access.ScopeRead, access.ScopeWrite}, ExpiresAt: db.Now().Add(time.Hour), TokenHash: auth.HashToken(tok)}); err != nil {
		return nil, err
	}
	srv, err := server.New(db, m.cat, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx, ln) }()
	defer func() { stop(); <-done }()

	addr := "http://" + ln.Addr().String()
	url := addr + "/api/v1/contacts"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}, Timeout: 30 * time.Second}
	names := benchNames()
	find := func(i int) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, addr+"/api/v1/children/match",
			strings.NewReader(fmt.Sprintf(`{"name":%q}`, names[i%len(names)])))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("match: status %d: %s", resp.StatusCode, b)
		}
		return nil
	}
	post := func(i int) error {
		if withMatch {
			if err := find(i); err != nil {
				return err
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(benchBody(benchContact(i, children))))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", fmt.Sprintf("bench-%d", i))
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			return fmt.Errorf("status %d: %s", resp.StatusCode, b)
		}
		return nil
	}
	// Warm up: connections, caches, the first keys.
	for i := range clients * 10 {
		if err := post(n + nBase + i); err != nil {
			return nil, fmt.Errorf("warm-up: %w", err)
		}
	}
	batches0, reqs0 := db.GroupCommitStats()
	api, err := drive(ctx, clients, n, post)
	if err != nil {
		return nil, err
	}
	api.engine, api.path = db.Engine(), "HTTP API"
	if batches, reqs := db.GroupCommitStats(); batches > batches0 {
		fmt.Fprintln(m.Stderr, m.l.T("cli.bench.intake_batches", db.Engine(), batches-batches0, float64(reqs-reqs0)/float64(batches-batches0)))
	}
	if db.Engine() == storage.Postgres {
		pipelined, moved, again := db.PipelineStats()
		fmt.Fprintln(m.Stderr, m.l.T("cli.bench.intake_pipelined", pipelined, moved, again))
	}

	opPrincipal, err := db.PrincipalForUser(ctx, op.ID)
	if err != nil {
		return nil, err
	}
	opActor := audit.Actor{Principal: opPrincipal}
	base, err := drive(ctx, clients, nBase, func(i int) error {
		c := benchContact(n+i, children)
		c.ReceivedAt = db.Now()
		return db.BaselineInsertContact(ctx, opActor, c)
	})
	if err != nil {
		return nil, err
	}
	base.engine, base.path = db.Engine(), "direct, 1 tx each"
	if h, err := db.HalfWrittenContacts(ctx); err != nil || h != 0 {
		return nil, errors.Join(err, fmt.Errorf("%d contacts half-written", h))
	}
	return []intakeRow{api, base}, nil
}

// drive runs do(0..n-1) from clients goroutines and measures it. The
// first error stops nothing: errors are counted; if every call failed it
// returns one of them.
func drive(ctx context.Context, clients, n int, do func(i int) error) (intakeRow, error) {
	lat := make([]time.Duration, n)
	var next, errs atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				t := time.Now()
				err := do(i)
				lat[i] = time.Since(t)
				if err != nil {
					errs.Add(1)
					once.Do(func() { firstErr = err })
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := ctx.Err(); err != nil {
		return intakeRow{}, err
	}
	if errs.Load() == int64(n) {
		return intakeRow{}, firstErr
	}
	slices.Sort(lat)
	q := func(p float64) time.Duration { return lat[min(n-1, int(p*float64(n)))] }
	return intakeRow{clients: clients, n: n, errors: errs.Load(), rate: float64(n) / elapsed.Seconds(),
		p50: q(.50), p95: q(.95), p99: q(.99)}, nil
}
