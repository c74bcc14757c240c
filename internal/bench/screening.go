package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/audit"
	"dayaq/internal/auth"
	"dayaq/internal/child"
	"dayaq/internal/demo"
	"dayaq/internal/i18n"
	"dayaq/internal/org"
	"dayaq/internal/screening"
	"dayaq/internal/server"
	"dayaq/internal/storage"
)

// schoolsPerTx is how many schools one seeding transaction loads.
const schoolsPerTx = 10

// PupilsPerSchool is how many pupils each seeded school has: 11 grades of
// three classes of about 30.
const PupilsPerSchool = 1000

// ScreeningWorld is a seeded database with what the screening benchmark
// measures against.
type ScreeningWorld struct {
	DB      *storage.DB
	Handler http.Handler
	Tokens  map[string]string // demo role → bearer token
	School  int64             // the demo school
	Round   int64             // its seeded round
	Pupils  []int64           // its pupils
	Sets    int               // answer sets seeded
	Entries int               // register entries seeded
}

// pscAnswers is a PSC-17 answer set varied by i.
func pscAnswers(i int) screening.Answers {
	a := screening.Answers{Informant: screening.Teacher, Age: 11, Values: map[string]int{}}
	for k := 1; k <= 17; k++ {
		a.Values[strconv.Itoa(k)] = (i + k*7) % 3 * ((i % 4) / 2)
	}
	return a
}

// SeedScreening fills an empty db: the demo organisations and users,
// pupils in schools of PupilsPerSchool (the demo school first), a round at
// every school with three answer sets a pupil (PSC-17, social categories,
// staff signs), and entries register entries; progress is told each step.
func SeedScreening(ctx context.Context, db *storage.DB, pupils, entries int, progress func(string)) (time.Duration, error) {
	empty, err := demo.IsEmpty(ctx, db)
	if err != nil || !empty {
		return 0, fmt.Errorf("bench: the database is not empty (%v)", err)
	}
	if _, err := demo.Load(ctx, db, 0, nil); err != nil {
		return 0, err
	}
	schools, err := allSchools(ctx, db)
	if err != nil {
		return 0, err
	}
	slices.SortStableFunc(schools, func(a, b org.Org) int {
		if a.Code == "BAK-06-001" {
			return -1
		}
		if b.Code == "BAK-06-001" {
			return 1
		}
		return 0
	})
	n := (pupils + PupilsPerSchool - 1) / PupilsPerSchool
	if n > len(schools) {
		// More schools than the demo's, spread over the districts.
		var extra []org.Org
		for i := len(schools); i < n; i++ {
			d := fmt.Sprintf("BAK-%02d", 1+i%12)
			extra = append(extra, org.Org{Code: fmt.Sprintf("%s-B%03d", d, i), Type: org.School, NameAZ: fmt.Sprintf("Sintetik məktəb %d", i), DistrictCode: d})
		}
		if _, err := db.ImportOrgs(ctx, extra); err != nil {
			return 0, err
		}
		if schools, err = allSchools(ctx, db); err != nil {
			return 0, err
		}
		slices.SortStableFunc(schools, func(a, b org.Org) int {
			switch {
			case a.Code == "BAK-06-001":
				return -1
			case b.Code == "BAK-06-001":
				return 1
			}
			return 0
		})
	}
	start := time.Now()
	cats, _ := json.Marshal(screening.Answers{Informant: screening.Teacher, Values: map[string]int{"idp": 1},
		Details: map[string]screening.Detail{"idp": {Evidence: "vəsiqə", Date: "2025-01-10"}}})
	signs, _ := json.Marshal(screening.Answers{Informant: screening.Teacher, Values: map[string]int{"attendance_drop": 2},
		Details: map[string]screening.Detail{"attendance_drop": {Since: "2026-09-01"}}})
	var pscs [][]byte
	for i := range 12 {
		b, _ := json.Marshal(pscAnswers(i))
		pscs = append(pscs, b)
	}
	day := db.Now().Truncate(24 * time.Hour)
	seq, everyEntry := 0, max(pupils/max(entries, 1), 1)
	var ents []storage.BulkEntry
	levels := []screening.Level{screening.Medium, screening.High, screening.Medium, screening.Low}
	// Schools go in groups of schoolsPerTx, one transaction each.
	var group []storage.BulkSchool
	for si, s := range schools[:n] {
		count := min(PupilsPerSchool, pupils-si*PupilsPerSchool)
		kids := make([]child.Child, count)
		for i := range kids {
			grade := 1 + i%11
			kids[i] = child.Child{StudentID: fmt.Sprintf("BS%09d", seq), LastName: "Şagirdov", FirstName: "Bench" + strconv.Itoa(seq),
				Sex: child.Male, BirthDate: time.Date(2020-grade, 3, 1+i%28, 0, 0, 0, 0, time.UTC), SchoolID: s.ID, Grade: grade,
				Section: string(rune('A' + (i/11)%3))}
			seq++
		}
		group = append(group, storage.BulkSchool{SchoolID: s.ID, Pupils: kids, Round: storage.Round{Scope: "school",
			Instruments: []string{screening.CodePSC17, screening.CodeCategories, screening.CodeSigns},
			Informants:  []screening.Informant{screening.Teacher}, StartsOn: day.AddDate(0, -1, 0), EndsOn: day.AddDate(0, 1, 0)},
			Sets: func(kids []child.Child, rid int64) []storage.BulkAnswerSet {
				sets := make([]storage.BulkAnswerSet, 0, 3*len(kids))
				for i, k := range kids {
					base := storage.BulkAnswerSet{RoundID: rid, ChildID: k.ID, SchoolID: s.ID, Version: 1, Informant: screening.Teacher}
					a, b, c := base, base, base
					a.Instrument, a.Answers = screening.CodePSC17, string(pscs[i%len(pscs)])
					b.Instrument, b.Answers = screening.CodeCategories, string(cats)
					c.Instrument, c.Answers = screening.CodeSigns, string(signs)
					sets = append(sets, a, b, c)
				}
				return sets
			}})
		if len(group) < schoolsPerTx && si < n-1 {
			continue
		}
		if err := db.InsertScreeningBulk(ctx, group); err != nil {
			return 0, err
		}
		for gi, g := range group {
			at := si - len(group) + 1 + gi // the school's index
			for i, k := range g.Pupils {
				if (at*PupilsPerSchool+i)%everyEntry == 0 && len(ents) < entries {
					st, j := screening.Active, len(ents)+at
					if j%5 == 0 {
						st = screening.Proposed
					}
					e := storage.BulkEntry{ChildID: k.ID, SchoolID: g.SchoolID, Level: levels[j%len(levels)], Status: st, Factors: `[]`}
					if st == screening.Active {
						e.NextReview = day.AddDate(0, 0, j%60-20)
					}
					ents = append(ents, e)
				}
			}
		}
		group = group[:0]
		if len(ents) >= 5000 || si == n-1 {
			if err := db.InsertRegisterBulk(ctx, ents); err != nil {
				return 0, err
			}
			ents = ents[:0]
		}
		if progress != nil && ((si+1)%50 == 0 || si == n-1) {
			progress(fmt.Sprintf("%d schools, %d pupils", si+1, seq))
		}
	}
	return time.Since(start), db.Analyze(ctx)
}

// ScreeningSeeded reports whether db already holds a seeding of pupils
// pupils (so that a named database is measured again without seeding): it
// is empty (false), or holds the demo and at least pupils more children
// (true); anything else is an error, so that no other data is measured.
func ScreeningSeeded(ctx context.Context, db *storage.DB, pupils int) (bool, error) {
	empty, err := demo.IsEmpty(ctx, db)
	if err != nil || empty {
		return false, err
	}
	n, err := db.CountChildren(ctx)
	if err != nil {
		return false, err
	}
	if n < pupils {
		return false, fmt.Errorf("bench: the database holds %d children, not a seeding of %d pupils", n, pupils)
	}
	return true, nil
}

// OpenScreeningWorld makes tokens for the demo users measured and the
// server's handler over db.
func OpenScreeningWorld(ctx context.Context, db *storage.DB) (*ScreeningWorld, error) {
	w := &ScreeningWorld{DB: db, Tokens: map[string]string{}}
	for _, s := range demo.SignIns() {
		switch s.Role {
		case access.CitySpecialist, access.SchoolPsychologist, access.Teacher:
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
			Scopes: []access.Scope{access.ScopeRead, access.ScopeWrite}, ExpiresAt: db.Now().Add(24 * time.Hour), TokenHash: auth.HashToken(tok)}); err != nil {
			return nil, err
		}
		w.Tokens[key] = tok
		if s.Role == access.SchoolPsychologist {
			p, err := db.PrincipalForUser(ctx, u.ID)
			if err != nil {
				return nil, err
			}
			w.School = p.OrgID
			rs, err := db.Rounds(ctx, audit.Actor{Principal: p})
			if err != nil || len(rs) == 0 {
				return nil, fmt.Errorf("bench: no seeded round at the demo school (%v)", err)
			}
			for _, r := range rs {
				if r.Scope == "school" {
					w.Round = r.ID
				}
			}
			v, err := db.RoundFor(ctx, audit.Actor{Principal: p}, w.Round, -1, "")
			if err != nil {
				return nil, err
			}
			for _, pu := range v.Pupils {
				w.Pupils = append(w.Pupils, pu.ChildID)
			}
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

// do runs one API request as user.
func (w *ScreeningWorld) do(user, method, path string, body []byte) (int, []byte) {
	r := httptest.NewRequest(method, path, bytes.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+w.Tokens[user])
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	w.Handler.ServeHTTP(rec, r)
	b, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, b
}

// ScreeningResult is one measured line.
type ScreeningResult struct {
	Name          string
	Items         int
	N             int
	P50, P95, P99 time.Duration
}

// StoreRound starts a new round at the demo school and stores its whole
// school's answers (every pupil × PSC-17 and social categories) through
// POST /api/v1/screening/rounds/{id}/answers in one request, times times.
func (w *ScreeningWorld) StoreRound(times int) (ScreeningResult, error) {
	res := ScreeningResult{Name: "store a school's round (POST answers)", N: times}
	var ds []time.Duration
	for t := range times {
		body := fmt.Sprintf(`{"scope":"school","instruments":["psc17","social_categories"],"informants":["teacher"],"starts_on":"2026-12-01","ends_on":"2026-12-20","grade":%d}`, t)
		code, b := w.do("school_psychologist", "POST", "/api/v1/screening/rounds", []byte(body))
		if code != http.StatusCreated {
			return res, fmt.Errorf("bench: create round: %d %s", code, b)
		}
		var r struct{ ID int64 }
		_ = json.Unmarshal(b, &r)
		type set struct {
			ChildID    int64             `json:"child_id"`
			Instrument string            `json:"instrument"`
			Answers    screening.Answers `json:"answers"`
		}
		var in struct {
			Sets []set `json:"sets"`
		}
		for i, id := range w.Pupils {
			in.Sets = append(in.Sets, set{id, screening.CodePSC17, pscAnswers(i + t)})
			c := screening.Answers{Informant: screening.Teacher, Values: map[string]int{}}
			if i%7 == 0 {
				c.Values["orphan"] = 1
			}
			in.Sets = append(in.Sets, set{id, screening.CodeCategories, c})
		}
		res.Items = len(in.Sets)
		payload, _ := json.Marshal(in)
		start := time.Now()
		code, b = w.do("school_psychologist", "POST", fmt.Sprintf("/api/v1/screening/rounds/%d/answers", r.ID), payload)
		ds = append(ds, time.Since(start))
		if code != http.StatusOK {
			return res, fmt.Errorf("bench: store answers: %d %.300s", code, b)
		}
	}
	res.P50, res.P95, res.P99 = pct(ds, 50), pct(ds, 95), pct(ds, 99)
	return res, nil
}

// MeasureGet times n GET requests of path as user after a warm-up.
func (w *ScreeningWorld) MeasureGet(name, user, path string, n int) (ScreeningResult, error) {
	res := ScreeningResult{Name: name, N: n}
	for range 5 {
		if code, b := w.do(user, "GET", path, nil); code != http.StatusOK {
			return res, fmt.Errorf("bench %s: %d %.300s", name, code, b)
		}
	}
	ds := make([]time.Duration, 0, n)
	var last []byte
	for range n {
		start := time.Now()
		code, b := w.do(user, "GET", path, nil)
		ds = append(ds, time.Since(start))
		if code != http.StatusOK {
			return res, fmt.Errorf("bench %s: %d", name, code)
		}
		last = b
	}
	var page struct {
		Items  []json.RawMessage `json:"items"`
		Pupils []json.RawMessage `json:"pupils"`
	}
	_ = json.Unmarshal(last, &page)
	res.Items = len(page.Items) + len(page.Pupils)
	res.P50, res.P95, res.P99 = pct(ds, 50), pct(ds, 95), pct(ds, 99)
	return res, nil
}

func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[min(max(i-1, 0), len(s)-1)]
}
