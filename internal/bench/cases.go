// Package bench measures Dayaq on real databases: it seeds synthetic data
// in bulk and times requests through the whole HTTP stack (token auth,
// policy, audit). The dayaq bench command and the Go benchmarks use it.
package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/audit"
	"dayaq/internal/auth"
	"dayaq/internal/authn"
	"dayaq/internal/casework"
	"dayaq/internal/demo"
	"dayaq/internal/i18n"
	"dayaq/internal/org"
	"dayaq/internal/server"
	"dayaq/internal/storage"
)

// CaseWorld is a database seeded with cases and the API tokens of the
// users the list is measured for.
type CaseWorld struct {
	DB      *storage.DB
	Cases   int
	Tokens  map[string]string // user key → API token
	Cookies map[string]string // user key → signed-in session cookie (the web pages)
	Kids    map[string]int64  // user key → a child the user may see (the child's page)
	Handler http.Handler
	Seeded  time.Duration // how long the bulk insert of cases took
}

// caseTypes are the taxonomy codes the synthetic cases get.
func caseTypes() []string {
	return []string{"violence.bullying", "violence.physical", "violence.neglect", "violence.psychological",
		"mental_health.emotional_distress", "mental_health.self_harm", "missing.runaway", "education.truancy",
		"education.dropout", "family.relationships", "peer.relationships", "physical_health"}
}

// rng is a small deterministic generator (xorshift).
type rng uint64

func (r *rng) intn(n int) int {
	x := uint64(*r)
	x ^= x << 13
	x ^= x >> 7
	x ^= x << 17
	*r = rng(x)
	return int(x % uint64(n))
}

// SeedCases loads the demo organisations and children (children of them)
// into an empty db, then n synthetic cases in bulk spread over the last
// two years, every school and every status, each with one child of its
// school; progress is called after each batch.
func SeedCases(ctx context.Context, db *storage.DB, n, children int, progress func(done int)) (time.Duration, error) {
	empty, err := demo.IsEmpty(ctx, db)
	if err != nil {
		return 0, err
	}
	if !empty {
		return 0, fmt.Errorf("bench: the database is not empty")
	}
	if _, err := demo.Load(ctx, db, children, nil); err != nil {
		return 0, err
	}
	if _, err := demo.LoadUsers(ctx, db); err != nil {
		return 0, err
	}
	// The children of each school, to give cases children of their school.
	bySchool, err := db.ChildIDsBySchool(ctx)
	if err != nil {
		return 0, err
	}
	district := map[int64]string{}
	schools, err := allSchools(ctx, db)
	if err != nil {
		return 0, err
	}
	for _, s := range schools {
		district[s.ID] = s.DistrictCode
	}
	var withKids []int64
	for id := range bySchool {
		withKids = append(withKids, id)
	}
	slices.Sort(withKids)
	if len(withKids) == 0 {
		return 0, fmt.Errorf("bench: no children to hang cases on")
	}
	owners, err := ownersByOrg(ctx, db)
	if err != nil {
		return 0, err
	}
	d := db.CaseDeadlines()
	types := caseTypes()
	statuses := []casework.Status{casework.New, casework.Triaged, casework.InProgress, casework.InProgress,
		casework.Monitoring, casework.Closed, casework.Closed, casework.Closed, casework.Closed, casework.Reopened}
	start := time.Now()
	now := db.Now()
	span := 2 * 365 * 24 * time.Hour
	r := rng(0x9e3779b97f4a7c15)
	const batch = 10000
	buf := make([]storage.BulkCase, 0, batch)
	for i := range n {
		school := withKids[r.intn(len(withKids))]
		kids := bySchool[school]
		created := now.Add(-span + time.Duration(i)*(span/time.Duration(n))).Truncate(time.Microsecond)
		sev := casework.Severities()[[]int{0, 1, 1, 2, 2, 2, 3, 3, 3, 3}[r.intn(10)]]
		k := casework.Open(casework.NewCase{Type: types[r.intn(len(types))], TaxonomyVersion: 1, Severity: sev,
			Title: "Sintetik hal", Source: casework.FromSchool, SchoolID: school}, d, created)
		k.SchoolID, k.District = school, district[school]
		k.Status = statuses[r.intn(len(statuses))]
		if k.Status != casework.New && k.Status != casework.Reopened {
			k.LeadOrgID = school
			if os := owners[school]; len(os) > 0 {
				k.OwnerID = os[r.intn(len(os))]
			} else {
				k.LeadOrgID = 0
			}
			k.ResolveDue = d.ResolveDue(sev, created.Add(time.Hour))
		}
		switch k.Status {
		case casework.Monitoring:
			k.ReviewAt = created.AddDate(0, 3, 0)
		case casework.Closed:
			k.ClosedAt, k.ClosureOutcome, k.ClosureReason = created.Add(72*time.Hour), casework.OutcomeResolved, "—"
		}
		buf = append(buf, storage.BulkCase{Case: k, ChildIDs: []int64{kids[r.intn(len(kids))]}})
		if len(buf) == batch || i == n-1 {
			if err := db.InsertCasesBulk(ctx, buf); err != nil {
				return 0, err
			}
			buf = buf[:0]
			if progress != nil {
				progress(i + 1)
			}
		}
	}
	return time.Since(start), nil
}

func allSchools(ctx context.Context, db *storage.DB) ([]org.Org, error) {
	var all []org.Org
	f := storage.OrgFilter{Type: org.School, Limit: 500}
	for {
		page, err := db.Orgs(ctx, f)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if len(page) < f.Limit {
			return all, nil
		}
		f.After = page[len(page)-1].Code
	}
}

// ownersByOrg lists the demo users who may own cases, by organisation.
func ownersByOrg(ctx context.Context, db *storage.DB) (map[int64][]int64, error) {
	m := map[int64][]int64{}
	for _, s := range demo.SignIns() {
		u, err := db.UserByEmail(ctx, s.Email)
		if err != nil {
			return nil, err
		}
		if slices.ContainsFunc(u.Roles, access.Role.SeesChildData) {
			m[u.OrgID] = append(m[u.OrgID], u.ID)
		}
	}
	return m, nil
}

// OpenWorld makes API tokens for the demo users the list is measured for
// and the server's handler over db.
func OpenWorld(ctx context.Context, db *storage.DB, cases int) (*CaseWorld, error) {
	w := &CaseWorld{DB: db, Cases: cases, Tokens: map[string]string{}, Cookies: map[string]string{}, Kids: map[string]int64{}}
	for _, s := range demo.SignIns() {
		switch s.Role {
		case access.CitySpecialist, access.SchoolHead, access.HotlineOperator, access.AgencyOfficer:
		default:
			continue
		}
		key := string(s.Role)
		if _, dup := w.Tokens[key]; dup {
			continue
		}
		u, err := db.UserByEmail(ctx, s.Email)
		if err != nil {
			return nil, err
		}
		tok := auth.NewAPIToken()
		if _, err := db.CreateAPIToken(ctx, audit.System(), storage.NewAPIToken{UserID: u.ID, Name: "bench",
			Scopes: []access.Scope{access.ScopeRead}, ExpiresAt: db.Now().Add(24 * time.Hour), TokenHash: auth.HashToken(tok)}); err != nil {
			return nil, err
		}
		w.Tokens[key] = tok
		cookie := auth.NewSessionToken()
		if _, err := db.CreateSession(ctx, storage.NewSession{UserID: u.ID, TokenHash: auth.HashToken(cookie),
			CSRFToken: auth.NewCSRFToken(), MFADone: true}); err != nil {
			return nil, err
		}
		w.Cookies[key] = authn.CookieName + "=" + cookie
		p, err := db.PrincipalForUser(ctx, u.ID)
		if err != nil {
			return nil, err
		}
		// A child the user sees: one of the first case in the user's list.
		pg, err := db.ListCases(ctx, audit.Actor{Principal: p}, storage.CaseQuery{Limit: 1})
		if err != nil {
			return nil, err
		}
		if len(pg.Cases) > 0 && len(pg.Cases[0].Children) > 0 {
			w.Kids[key] = pg.Cases[0].Children[0].ID
		}
	}
	cat, err := i18n.Load()
	if err != nil {
		return nil, err
	}
	srv, err := server.New(db, cat, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	w.Handler = srv.Handler()
	return w, nil
}

// Scenario is one list request measured.
type Scenario struct {
	Name  string
	User  string // key of CaseWorld.Tokens
	Query string // the query string of GET /api/v1/cases
	Walk  int    // follow the cursor this many pages deep before measuring (0: first page)
	// Page, when set, is a web page fetched instead with the user's session
	// cookie: "/cases?…" or "child" (the page of a child the user may see).
	Page string
}

// WebScenarios are the web pages every user opens, through the whole
// stack (session cookie, the navigation's counts, the policy, audit): the
// case list and a child's page.
func WebScenarios() []Scenario {
	return []Scenario{
		{Name: "web city: case list", User: "city_specialist", Page: "/cases"},
		{Name: "web city: overdue tab", User: "city_specialist", Page: "/cases?queue=overdue"},
		{Name: "web school head: case list", User: "school_head", Page: "/cases"},
		{Name: "web hotline operator: case list", User: "hotline_operator", Page: "/cases"},
		{Name: "web city: a child's page", User: "city_specialist", Page: "child"},
		{Name: "web school head: a child's page", User: "school_head", Page: "child"},
	}
}

// Scenarios are the list requests the benchmark times: the city's queue
// and its filters, deep pages, and the narrower reach of a school, the
// hotline and a partner body.
func Scenarios() []Scenario {
	return []Scenario{
		{"city: first page", "city_specialist", "limit=20", 0, ""},
		{"city: page 50 (cursor)", "city_specialist", "limit=20", 50, ""},
		{"city: open", "city_specialist", "limit=20&status=open", 0, ""},
		{"city: new", "city_specialist", "limit=20&status=new", 0, ""},
		{"city: critical violence", "city_specialist", "limit=20&severity=critical&type=violence", 0, ""},
		{"city: district BAK-06", "city_specialist", "limit=20&district=BAK-06", 0, ""},
		{"city: school BAK-06-001", "city_specialist", "limit=20&school=BAK-06-001", 0, ""},
		{"city: overdue", "city_specialist", "limit=20&overdue=true", 0, ""},
		{"school head: own school", "school_head", "limit=20", 0, ""},
		{"school head: open", "school_head", "limit=20&status=open", 0, ""},
		{"hotline operator: own", "hotline_operator", "limit=20", 0, ""},
		{"police officer: led", "agency_officer", "limit=20", 0, ""},
	}
}

// isAnchor reports whether s is the anchor of the web pages of its user:
// the user's first page of GET /api/v1/cases (token, policy, audit, no
// page to render, no navigation), timed in the same run.
func isAnchor(s Scenario) bool { return s.Page == "" && s.Query == "limit=20" && s.Walk == 0 }

// WebOnly keeps of ss the web pages and their users' anchors.
func WebOnly(ss []Scenario) []Scenario {
	users := map[string]bool{}
	for _, s := range ss {
		if s.Page != "" {
			users[s.User] = true
		}
	}
	var out []Scenario
	for _, s := range ss {
		if s.Page != "" || (isAnchor(s) && users[s.User]) {
			out = append(out, s)
		}
	}
	return out
}

// Result is one scenario's timings.
type Result struct {
	Scenario
	Items         int
	P50, P95, P99 time.Duration
	Mean          time.Duration
}

// getPage fetches a web page as user, signed in by session cookie.
func (w *CaseWorld) getPage(user, page string) (status int, body string, err error) {
	if page == "child" {
		id, ok := w.Kids[user]
		if !ok {
			return 0, "", fmt.Errorf("bench: %s sees no child", user)
		}
		page = "/children/" + strconv.FormatInt(id, 10)
	}
	r := httptest.NewRequest(http.MethodGet, page, nil)
	r.Header.Set("Cookie", w.Cookies[user])
	rec := httptest.NewRecorder()
	w.Handler.ServeHTTP(rec, r)
	b, err := io.ReadAll(rec.Result().Body)
	return rec.Code, string(b), err
}

// get runs one request and returns the body's next cursor and item count.
func (w *CaseWorld) get(user, query string) (status int, body string, err error) {
	r := httptest.NewRequest(http.MethodGet, "/api/v1/cases?"+query, nil)
	r.Header.Set("Authorization", "Bearer "+w.Tokens[user])
	rec := httptest.NewRecorder()
	w.Handler.ServeHTTP(rec, r)
	b, err := io.ReadAll(rec.Result().Body)
	return rec.Code, string(b), err
}

// nextOf pulls "next" out of a list page without decoding all of it.
func nextOf(body string) string {
	const key = `"next":"`
	i := strings.Index(body, key)
	if i < 0 {
		return ""
	}
	rest := body[i+len(key):]
	return rest[:strings.IndexByte(rest, '"')]
}

// Measure times s over the handler: warm-up requests, then n timed ones.
func (w *CaseWorld) Measure(s Scenario, n int) (Result, error) {
	q := s.Query
	for range s.Walk {
		code, body, err := w.get(s.User, q)
		if err != nil || code != http.StatusOK {
			return Result{}, fmt.Errorf("bench %s: walk: %d %v", s.Name, code, err)
		}
		next := nextOf(body)
		if next == "" {
			break
		}
		v, _ := url.ParseQuery(s.Query)
		v.Set("after", next)
		q = v.Encode()
	}
	times := make([]time.Duration, 0, n)
	var items int
	for i := range n + 5 {
		start := time.Now()
		var code int
		var body string
		var err error
		if s.Page != "" {
			code, body, err = w.getPage(s.User, s.Page)
		} else {
			code, body, err = w.get(s.User, q)
		}
		el := time.Since(start)
		if err != nil || code != http.StatusOK {
			return Result{}, fmt.Errorf("bench %s: %d %v %s", s.Name, code, err, body)
		}
		if i >= 5 {
			times = append(times, el)
		}
		items = strings.Count(body, `"transitions":`)
		if s.Page != "" {
			items = strings.Count(body, `href="/cases/`) // the case list's rows and links
		}
	}
	slices.Sort(times)
	var sum time.Duration
	for _, t := range times {
		sum += t
	}
	pick := func(p float64) time.Duration { return times[min(len(times)-1, int(p*float64(len(times))))] }
	return Result{Scenario: s, Items: items, P50: pick(0.50), P95: pick(0.95), P99: pick(0.99), Mean: sum / time.Duration(len(times))}, nil
}

// PrintTable writes results as a Markdown table.
func PrintTable(out io.Writer, engine storage.Engine, cases int, seeded time.Duration, rs []Result) {
	fmt.Fprintf(out, "\nGET /api/v1/cases (token) and web pages (session cookie, navigation counts) on %s, %d cases (bulk seeded in %s), through the whole stack (auth, policy in SQL, audit):\n\n",
		engine, cases, seeded.Round(time.Second))
	fmt.Fprintf(out, "| engine | scenario | request | items | p50 | p95 | p99 | anchor p95 | p95 / anchor |\n|---|---|---|---:|---:|---:|---:|---:|---:|\n")
	anchors := map[string]Result{}
	for _, r := range rs {
		if isAnchor(r.Scenario) {
			anchors[r.User] = r
		}
	}
	for _, r := range rs {
		req := "GET /api/v1/cases?" + r.Query
		anchor, ratio := "", ""
		if r.Page != "" {
			req = "GET " + r.Page
			if a, ok := anchors[r.User]; ok && a.P95 > 0 {
				anchor, ratio = ms(a.P95)+" ("+a.Name+")", fmt.Sprintf("%.2f", float64(r.P95)/float64(a.P95))
			}
		}
		fmt.Fprintf(out, "| %s | %s | `%s` | %d | %s | %s | %s | %s | %s |\n", engine, r.Name, req, r.Items, ms(r.P50), ms(r.P95), ms(r.P99), anchor, ratio)
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }
