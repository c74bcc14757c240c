package storage_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/audit"
	"dayaq/internal/org"
	"dayaq/internal/roster"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// rosterWorld is a database with a city department, three schools in two
// districts and a user of each kind an import needs.
type rosterWorld struct {
	db    *storage.DB
	clock *testClock
	users map[string]audit.Actor
}

func newRosterWorld(t testing.TB, dsn string) *rosterWorld {
	t.Helper()
	ctx := context.Background()
	clock := &testClock{t: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	db := storagetest.Open(t, dsn, storage.WithClock(clock.now))
	w := &rosterWorld{db: db, clock: clock, users: map[string]audit.Actor{}}
	if _, err := db.ImportOrgs(ctx, []org.Org{
		{Code: "BSTI", Type: org.CityDepartment, NameAZ: "BŞTİ"},
		{Code: "BAK-06-001", Type: org.School, NameAZ: "A", DistrictCode: "BAK-06"},
		{Code: "BAK-06-002", Type: org.School, NameAZ: "B", DistrictCode: "BAK-06"},
		{Code: "BAK-07-001", Type: org.School, NameAZ: "C", DistrictCode: "BAK-07"},
		{Code: "POLICE", Type: org.Police, NameAZ: "Polis"},
	}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct {
		key, org string
		role     access.Role
	}{
		{"city", "BSTI", access.CitySpecialist},
		{"head1", "BAK-06-001", access.SchoolHead},
		{"head2", "BAK-06-002", access.SchoolHead},
		{"police", "POLICE", access.AgencyOfficer},
	} {
		nu, err := db.CreateUser(ctx, audit.System(), storage.NewUser{Email: u.key + "@test.az", Name: u.key,
			OrgCode: u.org, Roles: []access.Role{u.role}, PasswordHash: "not-a-real-hash"})
		if err != nil {
			t.Fatal(err)
		}
		p, err := db.PrincipalForUser(ctx, nu.ID)
		if err != nil {
			t.Fatal(err)
		}
		w.users[u.key] = audit.Actor{Principal: p, IP: "127.0.0.1", RequestID: "roster-" + u.key}
	}
	return w
}

const rosterHeader = "student_id,last_name,first_name,patronymic,sex,birth_date,school_code,grade\n"

// importCSV imports csv as a (the system when a is zero) and returns the
// counts and the rejected lines with their first reason's key.
func (w *rosterWorld) importCSV(t testing.TB, a audit.Actor, csv string) (storage.RosterCounts, map[int]string) {
	t.Helper()
	ctx := context.Background()
	rd, err := roster.NewReader(strings.NewReader(csv), w.clock.t)
	if err != nil {
		t.Fatal(err)
	}
	id, err := w.db.StartRosterImport(ctx, a, "test.csv")
	if err != nil {
		t.Fatal(err)
	}
	rejects := map[int]string{}
	n, err := w.db.ImportRoster(ctx, a, id, rd, storage.RosterImportOptions{
		Operator: !a.Authenticated(), BatchRows: 3, KeepRejects: true,
		OnReject: func(r roster.Record) error { rejects[r.Line] = r.Reject.Reasons[0].Key; return nil },
	})
	if err != nil {
		t.Fatalf("ImportRoster: %v", err)
	}
	return n, rejects
}

func row(sid, last, school, grade string) string {
	return fmt.Sprintf("%s,%s,Nərmin,Rəşad qızı,f,2015-03-09,%s,%s\n", sid, last, school, grade)
}

func TestImportRosterIdempotentAndUpdates(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			w := newRosterWorld(t, e.DSN(t))
			ctx := context.Background()
			var b strings.Builder
			b.WriteString(rosterHeader)
			for i := range 10 {
				b.WriteString(row(fmt.Sprintf("S-%02d", i), "Məmmədova", "BAK-06-001", "5A"))
			}
			n, rej := w.importCSV(t, audit.System(), b.String())
			if want := (storage.RosterCounts{Read: 10, Inserted: 10}); n != want || len(rej) != 0 {
				t.Fatalf("first import = %+v %v, want %+v", n, rej, want)
			}
			before := w.snapshot(t)
			head, _ := w.db.AuditHead(ctx)
			w.clock.t = w.clock.t.Add(time.Hour)

			n, _ = w.importCSV(t, audit.System(), b.String())
			if want := (storage.RosterCounts{Read: 10, Unchanged: 10}); n != want {
				t.Fatalf("second import = %+v, want %+v", n, want)
			}
			if after := w.snapshot(t); !slices.Equal(before, after) {
				t.Errorf("re-import changed rows:\n%v\n%v", before, after)
			}
			// Re-importing writes no child event: only the run's start and end.
			es, err := w.db.AuditEvents(ctx, storage.AuditFilter{Action: "child.import", Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range es {
				if ev.Seq > head.Seq {
					t.Errorf("re-import wrote %s %s", ev.Action, ev.Details)
				}
			}

			changed := strings.Replace(b.String(), "S-03,Məmmədova", "S-03,Məmmədli", 1)
			changed = strings.Replace(changed, "S-07,Məmmədova,Nərmin,Rəşad qızı,f,2015-03-09,BAK-06-001,5A", "S-07,Məmmədova,Nərmin,Rəşad qızı,f,2015-03-09,BAK-06-001,6A", 1)
			n, _ = w.importCSV(t, audit.System(), changed)
			if want := (storage.RosterCounts{Read: 10, Updated: 2, Unchanged: 8}); n != want {
				t.Fatalf("changed import = %+v, want %+v", n, want)
			}
			after := w.snapshot(t)
			for i := range before {
				switch i {
				case 3, 7:
					if !strings.Contains(after[i], " v2 ") || !strings.Contains(after[i], "11:00") {
						t.Errorf("changed row %d = %s, want version 2 updated at 11:00", i, after[i])
					}
				default:
					if after[i] != before[i] {
						t.Errorf("unchanged row %d changed: %s → %s", i, before[i], after[i])
					}
				}
			}
			es, err = w.db.AuditEvents(ctx, storage.AuditFilter{Action: "child.import", Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			var updated []string
			for _, ev := range es {
				if ev.Seq > head.Seq {
					updated = append(updated, ev.Details)
				}
			}
			if len(updated) == 0 || !strings.Contains(strings.Join(updated, ""), `"updated":[`) {
				t.Errorf("no audit event names the updated children: %v", updated)
			}
		})
	}
}

// snapshot lists every child as "student_id last v<version> <updated_at> grade".
func (w *rosterWorld) snapshot(t testing.TB) []string {
	t.Helper()
	rs, err := w.db.ListChildren(context.Background(), w.users["city"], storage.ChildQuery{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rs {
		out = append(out, fmt.Sprintf("%s %s v%d %s %s", r.StudentID, r.LastName, r.Version, r.UpdatedAt.Format("15:04"), r.Class()))
	}
	return out
}

func TestImportRosterRejects(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			w := newRosterWorld(t, e.DSN(t))
			ctx := context.Background()
			in := rosterHeader +
				row("S-1", "Əliyeva", "BAK-06-001", "5A") + // 2 good
				row("S-2", "", "BAK-06-001", "5A") + // 3 no last name
				row("S-3", "Əliyeva", "BAK-99-999", "5A") + // 4 unknown school
				row("S-4", "Əliyeva", "POLICE", "5A") + // 5 not a school
				row("S-1", "Əliyeva", "BAK-06-001", "5A") + // 6 repeated student id
				row("S-5", "Əliyeva", "BAK-06-001", "13") + // 7 bad grade
				row("S-6", "Əliyeva", "BAK-06-001", "5A") // 8 good
			n, rej := w.importCSV(t, audit.System(), in)
			if want := (storage.RosterCounts{Read: 7, Inserted: 2, Rejected: 5}); n != want {
				t.Errorf("counts = %+v, want %+v", n, want)
			}
			want := map[int]string{3: "error.required", 4: "child.error.school_unknown", 5: "child.error.school_unknown",
				6: "roster.error.duplicate", 7: "roster.error.grade"}
			if fmt.Sprint(rej) != fmt.Sprint(want) {
				t.Errorf("rejects = %v, want %v", rej, want)
			}
			if got := w.snapshot(t); len(got) != 2 {
				t.Errorf("children = %v, want S-1 and S-6", got)
			}
			// The kept rejects come back to their uploader, by line.
			a := w.users["city"]
			id, err := w.db.StartRosterImport(ctx, a, "mine.csv")
			if err != nil {
				t.Fatal(err)
			}
			rd, _ := roster.NewReader(strings.NewReader(in), w.clock.t)
			if _, err := w.db.ImportRoster(ctx, a, id, rd, storage.RosterImportOptions{KeepRejects: true, BatchRows: 2}); err != nil {
				t.Fatal(err)
			}
			ri, rs, err := w.db.RosterImportFor(ctx, a, id, 100)
			if err != nil {
				t.Fatal(err)
			}
			if ri.Status != "done" || ri.Counts != (storage.RosterCounts{Read: 7, Unchanged: 2, Rejected: 5}) || ri.FinishedAt.IsZero() {
				t.Errorf("import = %+v", ri)
			}
			var lines []int
			for _, r := range rs {
				lines = append(lines, r.Line)
				if len(r.Raw) != 8 || len(r.Reasons) == 0 {
					t.Errorf("reject %+v", r)
				}
			}
			if !slices.Equal(lines, []int{3, 4, 5, 6, 7}) {
				t.Errorf("kept reject lines = %v", lines)
			}
			if rs[3].Reasons[0].Key != "roster.error.duplicate" || fmt.Sprint(rs[3].Reasons[0].Args) != "[2]" {
				t.Errorf("duplicate reason = %+v", rs[3].Reasons)
			}
			// Nobody else sees it.
			if _, _, err := w.db.RosterImportFor(ctx, w.users["head1"], id, 100); err == nil {
				t.Error("another user read the import")
			}
		})
	}
}

func TestImportRosterJurisdiction(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			w := newRosterWorld(t, e.DSN(t))
			w.importCSV(t, audit.System(), rosterHeader+row("S-OTHER", "Həsənova", "BAK-06-002", "3B"))
			in := rosterHeader +
				row("S-1", "Əliyeva", "BAK-06-001", "5A") + // own school
				row("S-2", "Əliyeva", "BAK-06-002", "5A") + // another school
				row("S-OTHER", "Həsənli", "BAK-06-001", "3B") // another school's pupil, moved in
			n, rej := w.importCSV(t, w.users["head1"], in)
			if want := (storage.RosterCounts{Read: 3, Inserted: 1, Rejected: 2}); n != want {
				t.Errorf("school head: counts = %+v, want %+v", n, want)
			}
			if want := map[int]string{3: "child.error.school_not_yours", 4: "roster.error.not_yours"}; fmt.Sprint(rej) != fmt.Sprint(want) {
				t.Errorf("school head: rejects = %v, want %v", rej, want)
			}
			for _, s := range w.snapshot(t) {
				if strings.HasPrefix(s, "S-OTHER") && !strings.Contains(s, "Həsənova v1") {
					t.Errorf("another school's pupil changed: %s", s)
				}
			}
			n, rej = w.importCSV(t, w.users["police"], in)
			if n.Rejected != 3 || len(rej) != 3 {
				t.Errorf("police: counts = %+v %v, want all rejected", n, rej)
			}
			n, rej = w.importCSV(t, w.users["city"], in)
			if want := (storage.RosterCounts{Read: 3, Inserted: 1, Updated: 1, Unchanged: 1}); n != want || len(rej) != 0 {
				t.Errorf("city: counts = %+v %v, want %+v", n, rej, want)
			}
		})
	}
}

// BenchmarkImport imports a synthetic roster of b.N-independent size
// (rows per op, default 100,000) as the operator into a fresh database per
// op, and reports rows/s. Run:
//
//	go test ./internal/storage/ -run '^$' -bench BenchmarkImport -benchtime 3x
func BenchmarkImport(b *testing.B) {
	const rows = 100_000
	var sb strings.Builder
	sb.WriteString(rosterHeader)
	schools := []string{"BAK-06-001", "BAK-06-002", "BAK-07-001"}
	first := []string{"Nərmin", "Aysel", "Murad", "Elçin", "Leyla", "Tural", "Günay", "Rəşad"}
	last := []string{"Məmmədova", "Əliyev", "Həsənova", "Quliyev", "İsmayılova", "Hüseynov", "Cəfərova", "Nağıyev"}
	for i := range rows {
		fmt.Fprintf(&sb, "S-%07d,%s,%s,Rəşad qızı,f,%04d-%02d-%02d,%s,%d%c\n", i, last[i%8], first[(i/8)%8],
			2010+i%10, 1+i%12, 1+i%28, schools[i%3], 1+i%11, 'A'+rune(i%4))
	}
	in := sb.String()
	for _, e := range storagetest.Engines() {
		b.Run(string(e.Name), func(b *testing.B) {
			var total, cpu time.Duration
			for b.Loop() {
				b.StopTimer()
				w := newRosterWorld(b, e.DSN(b))
				ctx := context.Background()
				id, err := w.db.StartRosterImport(ctx, audit.System(), "bench.csv")
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				start, cpu0 := time.Now(), cpuTime()
				rd, err := roster.NewReader(strings.NewReader(in), w.clock.t)
				if err != nil {
					b.Fatal(err)
				}
				n, err := w.db.ImportRoster(ctx, audit.System(), id, rd, storage.RosterImportOptions{Operator: true})
				if err != nil {
					b.Fatal(err)
				}
				total += time.Since(start)
				cpu += cpuTime() - cpu0
				if n.Inserted != rows {
					b.Fatalf("inserted %d", n.Inserted)
				}
			}
			b.ReportMetric(float64(rows*b.N)/total.Seconds(), "rows/s")
			// On a shared machine wall time depends on the neighbours; rows
			// per second of this process's CPU time does not.
			b.ReportMetric(float64(rows*b.N)/cpu.Seconds(), "rows/cpu-s")
		})
	}
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
