package escalate_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/audit"
	"dayaq/internal/calendar"
	"dayaq/internal/escalate"
	"dayaq/internal/notify"
	"dayaq/internal/org"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

func TestMain(m *testing.M) { storagetest.Main(m) }

var quiet = slog.New(slog.DiscardHandler)

func baku(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, calendar.Baku())
	if err != nil {
		panic(err)
	}
	return t
}

func TestPolicy(t *testing.T) {
	p := escalate.DefaultPolicy()
	for _, tt := range []struct {
		name             string
		start, due       string
		soon, over, long string
	}{
		{"critical acknowledgement: 1 hour", "2026-03-02 10:00", "2026-03-02 11:00", "2026-03-02 10:45", "2026-03-02 11:00", "2026-03-02 12:00"},
		{"high acknowledgement over a night", "2026-03-02 10:00", "2026-03-03 10:00", "2026-03-03 04:00", "2026-03-03 10:00", "2026-03-04 10:00"},
		{"low completion: capped", "2026-06-01 09:00", "2026-07-14 18:00", "2026-07-13 18:00", "2026-07-14 18:00", "2026-07-17 18:00"},
		{"a deadline given late: warned at least 10 minutes ahead", "2026-03-02 10:00", "2026-03-02 10:05", "2026-03-02 09:55", "2026-03-02 10:05", "2026-03-02 11:05"},
	} {
		it := escalate.Item{Start: baku(tt.start), Due: baku(tt.due)}
		soon, over, long := p.Times(it)
		f := func(t time.Time) string { return t.In(calendar.Baku()).Format("2006-01-02 15:04") }
		if f(soon) != tt.soon || f(over) != tt.over || f(long) != tt.long {
			t.Errorf("%s: %s %s %s, want %s %s %s", tt.name, f(soon), f(over), f(long), tt.soon, tt.over, tt.long)
		}
	}
	it := escalate.Item{Start: baku("2026-03-02 10:00"), Due: baku("2026-03-02 11:00")}
	for _, tt := range []struct {
		at   string
		want string
	}{
		{"2026-03-02 10:44", "[]"},
		{"2026-03-02 10:45", "[{due_soon true}]"},
		{"2026-03-02 11:30", "[{due_soon false} {overdue true}]"},
		{"2026-03-02 12:00", "[{due_soon false} {overdue false} {long_overdue true}]"},
	} {
		if got := fmt.Sprint(p.Decide(it, baku(tt.at))); got != tt.want {
			t.Errorf("Decide at %s = %s, want %s", tt.at, got, tt.want)
		}
	}
}

// world is a city unit, a police body with an officer and a supervisor,
// and items (referrals to the police) supplied by a provider the test
// controls.
type world struct {
	db                        *storage.DB
	officer, supervisor, city int64
	police                    int64
	mu                        sync.Mutex
	items                     []escalate.Item
}

func (w *world) DueItems(_ context.Context, before time.Time) ([]escalate.Item, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []escalate.Item
	for _, it := range w.items {
		if it.Due.Before(before) {
			out = append(out, it)
		}
	}
	return out, nil
}

func newWorld(t *testing.T, db *storage.DB) *world {
	t.Helper()
	ctx := context.Background()
	if _, err := db.ImportOrgs(ctx, []org.Org{
		{Code: "BSTI", Type: org.CityDepartment, NameAZ: "Bakı Şəhəri üzrə Təhsil İdarəsi"},
		{Code: "POL-BAK", Type: org.Police, NameAZ: "Bakı Şəhər Polis İdarəsi"},
	}); err != nil {
		t.Fatal(err)
	}
	mk := func(email, orgCode string, r access.Role) storage.User {
		u, err := db.CreateUser(ctx, audit.System(), storage.NewUser{Email: email, Name: "Test", OrgCode: orgCode,
			Roles: []access.Role{r}, PasswordHash: "x"})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	off := mk("officer@police.example.az", "POL-BAK", access.AgencyOfficer)
	sup := mk("chief@police.example.az", "POL-BAK", access.AgencySupervisor)
	city := mk("unit@bsti.example.az", "BSTI", access.CitySpecialist)
	return &world{db: db, officer: off.ID, supervisor: sup.ID, city: city.ID, police: off.OrgID}
}

// count returns how many notifications of kind each user has.
func count(t *testing.T, db *storage.DB, user int64, kind notify.Kind) int {
	t.Helper()
	ns, err := db.Notifications(context.Background(), audit.Actor{Principal: access.Principal{UserID: user}},
		storage.NotificationFilter{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, x := range ns {
		if x.Kind == kind {
			n++
		}
	}
	return n
}

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// An ignored referral escalates on time: the assignee is warned before
// the deadline, the supervisor told when it passes, the city unit when it
// is long overdue; each step once, each recorded and audited.
func TestIgnoredItemEscalatesOnTime(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			ctx := context.Background()
			clk := &testClock{t: baku("2026-03-02 10:00")}
			db := storagetest.Open(t, e.DSN(t), storage.WithClock(clk.Now))
			w := newWorld(t, db)
			cal, err := db.Calendar(ctx)
			if err != nil {
				t.Fatal(err)
			}
			start := baku("2026-03-06 16:00") // a Friday afternoon, before a weekend and a carried 8 March
			due, err := cal.Due(start, calendar.High, calendar.Acknowledge)
			if err != nil {
				t.Fatal(err)
			}
			if due.Format("2006-01-02 15:04") != "2026-03-10 16:00" {
				t.Fatalf("due %s", due)
			}
			w.items = []escalate.Item{{SubjectKind: "referral_ack", SubjectID: 41, What: "escalate.what.referral_ack",
				Start: start, Due: due, Assignee: w.officer, OrgID: w.police, ChildID: 7, Link: "/referrals/41"}}
			esc := escalate.New(db, escalate.DefaultPolicy(), quiet)
			esc.Register("referrals", w)
			run := func(at string) int {
				t.Helper()
				clk.Set(baku(at))
				n, err := esc.Run(ctx, clk.Now())
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
			// Soon = 24 working-clock hours × ¼ capped at 24 h before: 2026-03-09 16:00.
			for _, step := range []struct {
				at                        string
				recorded                  int
				officer, supervisor, city int
			}{
				{"2026-03-06 17:00", 0, 0, 0, 0},
				{"2026-03-09 15:59", 0, 0, 0, 0},
				{"2026-03-09 16:00", 1, 1, 0, 0}, // due soon: the assignee
				{"2026-03-09 18:00", 0, 1, 0, 0}, // nothing twice
				{"2026-03-10 16:00", 1, 2, 1, 0}, // overdue: assignee and supervisor
				{"2026-03-13 15:59", 0, 2, 1, 0},
				{"2026-03-13 16:00", 1, 2, 2, 1}, // long overdue (3 days at most): supervisor and the city unit
				{"2026-03-20 16:00", 0, 2, 2, 1},
			} {
				if n := run(step.at); n != step.recorded {
					t.Errorf("at %s: %d steps recorded, want %d", step.at, n, step.recorded)
				}
				got := []int{
					count(t, db, w.officer, notify.DeadlineSoon) + count(t, db, w.officer, notify.DeadlineOverdue),
					count(t, db, w.supervisor, notify.DeadlineOverdue) + count(t, db, w.supervisor, notify.Escalated),
					count(t, db, w.city, notify.Escalated)}
				if want := []int{step.officer, step.supervisor, step.city}; fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("at %s: notifications officer/supervisor/city %v, want %v", step.at, got, want)
				}
			}
			rows, err := db.Escalations(ctx, "referral_ack")
			if err != nil || len(rows) != 3 {
				t.Fatalf("escalations %+v, %v", rows, err)
			}
			for i, s := range escalate.Steps() {
				if rows[i].Step != s || rows[i].SubjectID != 41 {
					t.Errorf("step %d: %+v", i, rows[i])
				}
			}
			evs, err := db.AuditEvents(ctx, storage.AuditFilter{Action: "escalation.step"})
			if err != nil || len(evs) != 3 || evs[0].ChildID != 7 {
				t.Errorf("audit: %d events (%v), want 3 about child 7", len(evs), err)
			}
			// The messages say what to do and link to it: IDs and keys only.
			ns, _ := db.Notifications(ctx, audit.Actor{Principal: access.Principal{UserID: w.city}}, storage.NotificationFilter{})
			if len(ns) != 1 || ns[0].Link != "/referrals/41" || ns[0].Key != "notify.escalation.long_overdue" {
				t.Errorf("city unit's notification: %+v", ns)
			}
		})
	}
}

// Two workers (two replicas on one PostgreSQL) running at once record and
// notify each step of each item exactly once.
func TestTwoWorkersEscalateOnce(t *testing.T) {
	ctx := context.Background()
	clk := &testClock{t: baku("2026-03-02 10:00")}
	dsn := storagetest.PostgresDSN(t)
	a := storagetest.Open(t, dsn, storage.WithClock(clk.Now))
	b := storagetest.Open(t, dsn, storage.WithClock(clk.Now))
	w := newWorld(t, a)
	const items = 25
	for i := range items {
		w.items = append(w.items, escalate.Item{SubjectKind: "action_item", SubjectID: int64(100 + i), What: "escalate.what.action_item",
			Start: baku("2026-03-02 10:00"), Due: baku("2026-03-02 11:00"), OrgID: w.police, ChildID: int64(i%3 + 1),
			Link: fmt.Sprintf("/working-group/actions/%d", 100+i)})
	}
	workers := []*escalate.Escalator{escalate.New(a, escalate.DefaultPolicy(), quiet), escalate.New(b, escalate.DefaultPolicy(), quiet)}
	for _, x := range workers {
		x.Register("actions", w)
	}
	total := 0
	var mu sync.Mutex
	for _, at := range []string{"2026-03-02 10:45", "2026-03-02 11:00", "2026-03-02 12:00"} {
		clk.Set(baku(at))
		var wg sync.WaitGroup
		for i := range 6 {
			x := workers[i%2]
			wg.Go(func() {
				n, err := x.Run(ctx, clk.Now())
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				total += n
				mu.Unlock()
			})
		}
		wg.Wait()
	}
	if total != items*3 {
		t.Errorf("%d steps recorded by six runs of two workers, want %d", total, items*3)
	}
	rows, err := a.Escalations(ctx, "action_item")
	if err != nil || len(rows) != items*3 {
		t.Errorf("%d escalation rows (%v), want %d", len(rows), err, items*3)
	}
	// No assignee: the body's officers are told; its supervisor at overdue and long overdue; the city once each.
	if n := count(t, a, w.officer, notify.DeadlineSoon); n != items {
		t.Errorf("officer: %d due-soon notifications, want %d", n, items)
	}
	if n := count(t, a, w.supervisor, notify.DeadlineOverdue) + count(t, a, w.supervisor, notify.Escalated); n != 2*items {
		t.Errorf("supervisor: %d notifications, want %d", n, 2*items)
	}
	if n := count(t, a, w.city, notify.Escalated); n != items {
		t.Errorf("city unit: %d notifications, want %d", n, items)
	}
	if evs, _ := a.AuditEvents(ctx, storage.AuditFilter{Action: "escalation.step", Limit: 500}); len(evs) != items*3 {
		t.Errorf("%d audit events, want %d", len(evs), items*3)
	}
	if _, bad, reason, err := a.VerifyAudit(ctx); err != nil || bad != 0 {
		t.Errorf("audit chain after concurrent escalation: broken at %d (%s), %v", bad, reason, err)
	}
}
