package storage_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"dayaq/internal/audit"
	"dayaq/internal/match"
	"dayaq/internal/roster"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// An operator import through the pipeline (ADR 0034) leaves the registry as
// the batched upsert did: the same children (IDs, versions, times, name
// keys), the same match keys, counts, rejects and audit events, for a load
// into an empty registry and for a re-sync with changed, new, unchanged and
// bad rows; and matching finds a pupil the moment the load returns.
func TestImportRosterBulkSameAsUpsert(t *testing.T) {
	var load, resync strings.Builder
	load.WriteString(rosterHeader)
	resync.WriteString(rosterHeader)
	schools := []string{"BAK-06-001", "BAK-06-002", "BAK-07-001"}
	first := []string{"Nərmin", "Aysel", "Murad", "Elçin", "Leyla", "Tural", "Günay", "Rəşad"}
	last := []string{"Məmmədova", "Əliyev", "Həsənova", "Quliyev", "İsmayılova", "Hüseynov", "Cəfərova", "Nağıyev"}
	for i := range 60 {
		r := fmt.Sprintf("S-%03d,%s,%s,Rəşad qızı,f,%04d-%02d-%02d,%s,%d%c\n", i, last[i%8], first[(i/8)%8],
			2010+i%10, 1+i%12, 1+i%28, schools[i%3], 1+i%11, 'A'+rune(i%4))
		switch {
		case i == 7: // unknown school
			r = strings.Replace(r, schools[i%3], "BAK-99-999", 1)
		case i == 11: // a bad grade
			r = strings.Replace(r, fmt.Sprintf(",%d%c\n", 1+i%11, 'A'+rune(i%4)), ",14\n", 1)
		}
		load.WriteString(r)
		switch {
		case i%9 == 0: // changed class
			r = strings.Replace(r, fmt.Sprintf(",%d%c\n", 1+i%11, 'A'+rune(i%4)), ",9E\n", 1)
		case i%13 == 0: // changed name
			r = strings.Replace(r, last[i%8], "Abbasova", 1)
		case i == 7: // now a school that exists
			r = strings.Replace(r, "BAK-99-999", schools[0], 1)
		}
		resync.WriteString(r)
	}
	load.WriteString("S-005,Əliyev,Murad,,m,2012-01-02,BAK-06-001,3A\n") // a repeat
	resync.WriteString("S-100,Qasımova,Leyla,,q,01.02.2013,BAK-07-001,4\n" + "S-101,Qasımov,,,m,2013-02-01,BAK-07-001,4\n")

	type result struct {
		counts  []storage.RosterCounts
		rejects []map[int]string
		rows    []string
		keys    []string
		audit   []string
	}
	run := func(t *testing.T, dsn string, bulk bool) result {
		ctx := context.Background()
		w := newRosterWorld(t, dsn)
		var res result
		for i, in := range []string{load.String(), resync.String()} {
			rd, err := roster.NewReader(strings.NewReader(in), w.clock.t)
			if err != nil {
				t.Fatal(err)
			}
			id, err := w.db.StartRosterImport(ctx, audit.System(), "test.csv")
			if err != nil {
				t.Fatal(err)
			}
			rejects := map[int]string{}
			o := storage.RosterImportOptions{Operator: true, BatchRows: 7, KeepRejects: true,
				OnReject: func(r roster.Record) error { rejects[r.Line] = r.Reject.Reasons[0].Key; return nil }}
			imp := w.db.ImportRosterUpsert
			if bulk {
				imp = w.db.ImportRoster
			}
			n, err := imp(ctx, audit.System(), id, rd, o)
			if err != nil {
				t.Fatalf("import %d: %v", i, err)
			}
			res.counts, res.rejects = append(res.counts, n), append(res.rejects, rejects)
			if i == 0 { // searchable as soon as the load returns
				cs, err := w.db.MatchChildrenAsOperator(ctx, match.Query{Name: "İsmayılova Murad", BirthDate: time.Date(2010, 9, 21, 0, 0, 0, 0, time.UTC)})
				if err != nil {
					t.Fatal(err)
				}
				if !slices.ContainsFunc(cs, func(c storage.MatchCandidate) bool { return c.StudentID == "S-020" }) {
					t.Errorf("bulk %v: S-020 not found by name right after the load: %+v", bulk, cs)
				}
			}
			w.clock.t = w.clock.t.Add(time.Hour)
		}
		var err error
		if res.rows, err = w.db.ChildRows(ctx); err != nil {
			t.Fatal(err)
		}
		if res.keys, err = w.db.MatchKeys(ctx); err != nil {
			t.Fatal(err)
		}
		es, err := w.db.AuditEvents(ctx, storage.AuditFilter{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		// A child is named by its student ID, not its ID: PostgreSQL's
		// sequence skips numbers at each upsert's conflict, and the
		// pipeline writes a re-sync's rows in fewer, larger statements.
		sid := map[string]string{}
		idAndSID := regexp.MustCompile(`^([0-9]+)(S-[0-9]+)`) // a child row's ID and student ID
		for i, r := range res.rows {
			m := idAndSID.FindStringSubmatch(r)
			if m == nil {
				t.Fatalf("child row %q", r)
			}
			sid[m[1]], res.rows[i] = m[2], r[len(m[1]):]
		}
		for i, k := range res.keys {
			key, id, _ := strings.Cut(k, " ")
			res.keys[i] = key + " " + sid[id]
		}
		slices.Sort(res.keys)
		res.audit = importAudit(t, es, sid)
		if _, bad, reason, err := w.db.VerifyAudit(ctx); err != nil || bad != 0 {
			t.Fatalf("audit chain: %d %s %v", bad, reason, err)
		}
		return res
	}
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			want, got := run(t, e.DSN(t), false), run(t, e.DSN(t), true)
			if want.counts[0].Inserted != 58 || want.counts[1].Updated == 0 || want.counts[1].Inserted != 2 {
				t.Fatalf("the upsert path's counts = %+v: the test does not test", want.counts)
			}
			if !slices.Equal(got.counts, want.counts) {
				t.Errorf("counts = %+v, want %+v", got.counts, want.counts)
			}
			for i := range want.rejects {
				if fmt.Sprint(got.rejects[i]) != fmt.Sprint(want.rejects[i]) {
					t.Errorf("import %d rejects = %v, want %v", i, got.rejects[i], want.rejects[i])
				}
			}
			for _, c := range []struct {
				what      string
				got, want []string
			}{{"children", got.rows, want.rows}, {"match keys", got.keys, want.keys}, {"audit", got.audit, want.audit}} {
				if len(c.want) == 0 {
					t.Errorf("no %s on the upsert path", c.what)
				}
				if !slices.Equal(c.got, c.want) {
					t.Errorf("%s differ:\n got %q\nwant %q", c.what, c.got, c.want)
				}
			}
		})
	}
}

// importAudit is what the audit says of imports: every event but the
// batches' in order, and in place of each import's batch events the
// children they name as inserted and as updated (by student ID). Batches that have little to write go together on the
// pipeline (a re-sync's few changed rows in a few transactions), so that
// the events are cut differently, but each written row is named once.
func importAudit(t *testing.T, es []audit.Event, sid map[string]string) []string {
	t.Helper()
	var out []string
	var ins, upd []string
	end := func() {
		if ins != nil || upd != nil {
			slices.Sort(ins)
			slices.Sort(upd)
			out = append(out, fmt.Sprintf("child.import inserted %v updated %v", ins, upd))
		}
		ins, upd = nil, nil
	}
	for i := len(es) - 1; i >= 0; i-- { // oldest first
		e := es[i]
		if e.Action != "child.import" {
			end()
			out = append(out, fmt.Sprintf("%s %s %s %s", e.Action, e.ObjectType, e.ObjectID, e.Details))
			continue
		}
		var d struct{ Inserted, Updated []int64 }
		if err := json.Unmarshal([]byte(e.Details), &d); err != nil {
			t.Fatalf("event %d details %q: %v", e.Seq, e.Details, err)
		}
		if ins == nil {
			ins = []string{}
		}
		for _, id := range d.Inserted {
			ins = append(ins, sid[strconv.FormatInt(id, 10)])
		}
		for _, id := range d.Updated {
			upd = append(upd, sid[strconv.FormatInt(id, 10)])
		}
	}
	end()
	return out
}

// failingSource returns an error after n records.
type failingSource struct {
	src storage.RosterSource
	n   int
}

func (f *failingSource) Read() (roster.Record, error) {
	if f.n == 0 {
		return roster.Record{}, errors.New("the disk went away")
	}
	f.n--
	return f.src.Read()
}

// A load into an empty registry that stops half-way — its source fails,
// or its process is killed after it dropped the indexes — leaves no index
// missing and no committed child without its match keys: the import builds
// them as it fails, and the next Migrate finishes a killed one.
func TestImportRosterBulkStoppedHalfWay(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			ctx := context.Background()
			w := newRosterWorld(t, e.DSN(t))
			want, err := w.db.ChildIndexes(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var in strings.Builder
			in.WriteString(rosterHeader)
			for i := range 40 {
				fmt.Fprintf(&in, "S-%03d,Məmmədova,Nərmin,Rəşad qızı,f,2015-03-%02d,BAK-06-001,5A\n", i, 1+i%28)
			}
			rd, err := roster.NewReader(strings.NewReader(in.String()), w.clock.t)
			if err != nil {
				t.Fatal(err)
			}
			id, err := w.db.StartRosterImport(ctx, audit.System(), "test.csv")
			if err != nil {
				t.Fatal(err)
			}
			n, err := w.db.ImportRoster(ctx, audit.System(), id, &failingSource{rd, 25}, storage.RosterImportOptions{Operator: true, BatchRows: 10})
			if err == nil || n.Inserted != 20 {
				t.Fatalf("import = %+v, %v; want 20 inserted and the source's error", n, err)
			}
			if got, _ := w.db.ChildIndexes(ctx); !slices.Equal(got, want) {
				t.Errorf("after the failed load the indexes are %v, want %v", got, want)
			}
			cs, err := w.db.MatchChildrenAsOperator(ctx, match.Query{Name: "Məmmədova Nərmin", BirthDate: time.Date(2015, 3, 1, 0, 0, 0, 0, time.UTC)})
			if err != nil || !slices.ContainsFunc(cs, func(c storage.MatchCandidate) bool { return c.StudentID == "S-000" }) {
				t.Errorf("S-000, committed before the failure, not found: %v %v", cs, err)
			}

			// Killed: the indexes dropped and recorded, the import left running.
			id2, err := w.db.StartRosterImport(ctx, audit.System(), "killed.csv")
			if err != nil {
				t.Fatal(err)
			}
			if err := w.db.StopBulkLoad(ctx, id2); err != nil {
				t.Fatal(err)
			}
			// The partial index of merged children holds none of a load's
			// rows: it is kept, on both engines; the others are dropped.
			got, _ := w.db.ChildIndexes(ctx)
			if !slices.Contains(got, "children_merged_into") {
				t.Errorf("the load dropped children_merged_into: %v", got)
			}
			if slices.Contains(got, "children_dup") || slices.Contains(got, "children_school") {
				t.Errorf("the load kept indexes it writes to: %v", got)
			}
			if _, err := w.db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if got, _ := w.db.ChildIndexes(ctx); slices.Equal(got, want) {
				t.Errorf("Migrate built the indexes of a load still running: %v", got)
			}
			w.clock.t = w.clock.t.Add(2 * time.Minute) // the killed import is stale now
			if _, err := w.db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if got, _ := w.db.ChildIndexes(ctx); !slices.Equal(got, want) {
				t.Errorf("after Migrate the indexes are %v, want %v", got, want)
			}
		})
	}
}
