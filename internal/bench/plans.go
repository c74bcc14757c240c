package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
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

// SeedPlans fills an empty db for "bench plans": the demo organisations and
// users, plans pupils in schools of PupilsPerSchool (the demo school
// first), each on the register and with a live recovery plan.
func SeedPlans(ctx context.Context, db *storage.DB, plans int, progress func(string)) (time.Duration, error) {
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
		switch {
		case a.Code == "BAK-06-001":
			return -1
		case b.Code == "BAK-06-001":
			return 1
		}
		return 0
	})
	n := (plans + PupilsPerSchool - 1) / PupilsPerSchool
	if n > len(schools) {
		return 0, fmt.Errorf("bench: %d plans need %d schools, the demo has %d", plans, n, len(schools))
	}
	start := time.Now()
	day := db.Now().Truncate(24 * time.Hour)
	levels := []screening.Level{screening.Medium, screening.High, screening.Low}
	seq := 0
	for si, s := range schools[:n] {
		count := min(PupilsPerSchool, plans-si*PupilsPerSchool)
		kids := make([]child.Child, count)
		for i := range kids {
			grade := 1 + i%11
			kids[i] = child.Child{StudentID: fmt.Sprintf("BP%09d", seq), LastName: "Planlı", FirstName: "Bench" + strconv.Itoa(seq),
				Sex: child.Female, BirthDate: time.Date(2020-grade, 5, 1+i%28, 0, 0, 0, 0, time.UTC), SchoolID: s.ID, Grade: grade,
				Section: string(rune('A' + (i/11)%3))}
			seq++
		}
		if err := db.InsertChildren(ctx, kids); err != nil {
			return 0, err
		}
		ents := make([]storage.BulkEntry, len(kids))
		for i, k := range kids {
			ents[i] = storage.BulkEntry{ChildID: k.ID, SchoolID: s.ID, Level: levels[i%len(levels)], Status: screening.Active,
				Factors: `[]`, NextReview: day.AddDate(0, 0, i%60)}
		}
		if err := db.InsertRegisterBulk(ctx, ents); err != nil {
			return 0, err
		}
		if progress != nil && (si%10 == 9 || si == n-1) {
			progress(fmt.Sprintf("%d schools, %d pupils on the register", si+1, seq))
		}
	}
	lead, err := demoUserID(ctx, db, access.SchoolPsychologist)
	if err != nil {
		return 0, err
	}
	opened, err := db.SeedPlansBulk(ctx, lead)
	if err != nil {
		return 0, err
	}
	if progress != nil {
		progress(fmt.Sprintf("%d plans opened", opened))
	}
	return time.Since(start), nil
}

func demoUserID(ctx context.Context, db *storage.DB, r access.Role) (int64, error) {
	for _, s := range demo.SignIns() {
		if s.Role == r {
			u, err := db.UserByEmail(ctx, s.Email)
			return u.ID, err
		}
	}
	return 0, fmt.Errorf("bench: no demo %s", r)
}

// PlanWorld is a seeded database with the server's handler and tokens.
type PlanWorld struct {
	*ScreeningWorld
	Plans []int64 // the demo school's plans
}

// OpenPlanWorld makes the tokens and the handler, and reads the demo
// school's plan IDs.
func OpenPlanWorld(ctx context.Context, db *storage.DB) (*PlanWorld, error) {
	sw := &ScreeningWorld{DB: db, Tokens: map[string]string{}}
	for _, s := range demo.SignIns() {
		if s.Role != access.SchoolPsychologist && s.Role != access.Teacher && s.Role != access.CitySpecialist {
			continue
		}
		if _, dup := sw.Tokens[string(s.Role)]; dup {
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
		sw.Tokens[string(s.Role)] = tok
	}
	cat, err := i18n.Load()
	if err != nil {
		return nil, err
	}
	srv, err := server.New(db, cat, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	sw.Handler = srv.Handler()
	w := &PlanWorld{ScreeningWorld: sw}
	id, err := demoUserID(ctx, db, access.SchoolPsychologist)
	if err != nil {
		return nil, err
	}
	p, err := db.PrincipalForUser(ctx, id)
	if err != nil {
		return nil, err
	}
	for before := int64(0); ; {
		ps, err := db.ListPlans(ctx, audit.Actor{Principal: p}, storage.PlanQuery{Limit: 200, Before: before})
		if err != nil {
			return nil, err
		}
		for _, x := range ps {
			w.Plans = append(w.Plans, x.ID)
		}
		if len(ps) < 200 {
			break
		}
		before = ps[len(ps)-1].ID
	}
	if len(w.Plans) == 0 {
		return nil, fmt.Errorf("bench: no plans at the demo school")
	}
	return w, nil
}

// PlanResult is one measured scenario with its anchor: GET /api/v1/me as
// the same user through the same stack (bearer token, principal, JSON),
// one request right after each measured one, so that both meet the same
// load on a shared machine and their ratio means more than either.
type PlanResult struct {
	ScreeningResult
	Anchor ScreeningResult
}

// MeasurePlanPage times n GET /api/v1/plans/{id} of the demo school's
// plans, round the list, as user.
func (w *PlanWorld) MeasurePlanPage(user string, n int) (PlanResult, error) {
	return w.measure("plan page (GET /api/v1/plans/{id}, "+user+")", user, n, func(i int) string {
		return "/api/v1/plans/" + strconv.FormatInt(w.Plans[(i*37)%len(w.Plans)], 10)
	}, func(b []byte) (int, error) {
		var p struct{ Goals []json.RawMessage }
		_ = json.Unmarshal(b, &p)
		if len(p.Goals) != 2 {
			return 0, fmt.Errorf("%d goals, want 2", len(p.Goals))
		}
		return 1, nil
	})
}

// MeasurePlanList times n GET /api/v1/plans as user, who must see want
// plans on the first page (0: some).
func (w *PlanWorld) MeasurePlanList(name, user string, want, n int) (PlanResult, error) {
	return w.measure(name, user, n, func(int) string { return "/api/v1/plans" }, func(b []byte) (int, error) {
		var page struct{ Items []json.RawMessage }
		_ = json.Unmarshal(b, &page)
		if len(page.Items) == 0 || (want != 0 && len(page.Items) != want) {
			return 0, fmt.Errorf("%d plans listed, want %d", len(page.Items), want)
		}
		return len(page.Items), nil
	})
}

// measure times n requests of path(i) as user, after five to warm up,
// each followed by one of the anchor; check reads the first timed answer.
func (w *PlanWorld) measure(name, user string, n int, path func(int) string, check func([]byte) (int, error)) (PlanResult, error) {
	res := PlanResult{ScreeningResult: ScreeningResult{Name: name, N: n}, Anchor: ScreeningResult{Name: "GET /api/v1/me", N: n, Items: 1}}
	ds := make([]time.Duration, 0, n)
	as := make([]time.Duration, 0, n)
	for i := range n + 5 {
		start := time.Now()
		code, b := w.do(user, "GET", path(i), nil)
		took := time.Since(start)
		if code != http.StatusOK {
			return res, fmt.Errorf("bench %s: %d %.300s", name, code, b)
		}
		start = time.Now()
		if code, b := w.do(user, "GET", "/api/v1/me", nil); code != http.StatusOK {
			return res, fmt.Errorf("bench anchor: %d %.300s", code, b)
		}
		anchor := time.Since(start)
		if i < 5 { // the first five warm up
			continue
		}
		if i == 5 {
			items, err := check(b)
			if err != nil {
				return res, fmt.Errorf("bench %s: %w", name, err)
			}
			res.Items = items
		}
		ds, as = append(ds, took), append(as, anchor)
	}
	res.P50, res.P95, res.P99 = pct(ds, 50), pct(ds, 95), pct(ds, 99)
	res.Anchor.P50, res.Anchor.P95, res.Anchor.P99 = pct(as, 50), pct(as, 95), pct(as, 99)
	return res, nil
}
