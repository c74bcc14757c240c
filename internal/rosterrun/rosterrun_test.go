package rosterrun_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/org"
	"dayaq/internal/rosterrun"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

func TestMain(m *testing.M) { storagetest.Main(m) }

const csv = "student_id,last_name,first_name,patronymic,sex,birth_date,school_code,grade\n" +
	"S-1,Məmmədova,Nərmin,Rəşad qızı,f,2015-03-09,BAK-06-001,5A\n"

func fixture(t *testing.T) (*storage.DB, audit.Actor) {
	t.Helper()
	ctx := context.Background()
	db := storagetest.Open(t, storagetest.SQLiteDSN(t))
	if _, err := db.ImportOrgs(ctx, []org.Org{{Code: "BAK-06-001", Type: org.School, NameAZ: "1", DistrictCode: "BAK-06"}}); err != nil {
		t.Fatal(err)
	}
	u, err := db.CreateUser(ctx, audit.System(), storage.NewUser{Email: "head@test.az", Name: "Head", OrgCode: "BAK-06-001",
		Roles: []access.Role{access.SchoolHead}, PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := db.PrincipalForUser(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return db, audit.Actor{Principal: p}
}

// An upload waits in the spool directory it was given (not the system temp
// directory), as a file only the server's user may read, and is removed
// when its import ends; Close waits for the import, and after it no import
// starts.
func TestRunnerSpoolsInDataDirAndCloseWaits(t *testing.T) {
	db, a := fixture(t)
	spool := filepath.Join(t.TempDir(), "spool")
	rn := rosterrun.NewRunner(db, slog.New(slog.DiscardHandler), spool)
	id, err := rn.Start(context.Background(), a, "5a.csv", strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rn.Close(ctx)
	ri, _, err := db.RosterImportFor(context.Background(), a, id, 10)
	if err != nil || ri.Status != "done" {
		t.Fatalf("after Close: %+v (%v), want the import done", ri, err)
	}
	if fi, err := os.Stat(spool); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("spool directory: %v %v, want mode 0700", fi, err)
	}
	if left, _ := os.ReadDir(spool); len(left) != 0 {
		t.Errorf("spool holds %d files after the import", len(left))
	}
	if _, err := rn.Start(context.Background(), a, "again.csv", strings.NewReader(csv)); apperr.CodeOf(err) != apperr.Unavailable {
		t.Errorf("start after Close: %v, want unavailable", err)
	}
}

// Shutdown that cannot wait (its context already over) cancels the import
// in flight: Close returns only once it has stopped, and the spool is
// empty.
func TestRunnerCloseCancels(t *testing.T) {
	db, a := fixture(t)
	spool := filepath.Join(t.TempDir(), "spool")
	rn := rosterrun.NewRunner(db, slog.New(slog.DiscardHandler), spool)
	var b strings.Builder
	b.WriteString(csv)
	for i := range 20000 {
		b.WriteString("S-x" + strings.Repeat("0", 1) + string(rune('a'+i%26)) + ",Əliyev,Murad,,m,2014-01-01,BAK-06-001,6B\n")
	}
	id, err := rn.Start(context.Background(), a, "big.csv", strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rn.Close(ctx)
	if left, _ := os.ReadDir(spool); len(left) != 0 {
		t.Errorf("spool holds %d files after Close", len(left))
	}
	ri, _, err := db.RosterImportFor(context.Background(), a, id, 10)
	if err != nil || ri.Status == "running" {
		t.Errorf("after Close: %+v (%v), want the import ended", ri, err)
	}
}
