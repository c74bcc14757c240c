package storage_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"dayaq/internal/apperr"
	"dayaq/internal/org"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// fillWithOrgs imports organisations with long names until a write fails,
// and returns that failure (nil if none failed within max imports).
func fillWithOrgs(t *testing.T, db *storage.DB, prefix string, max int) (int, error) {
	t.Helper()
	pad := strings.Repeat("ə", 2000)
	for i := range max {
		os := make([]org.Org, 8)
		for j := range os {
			os[j] = org.Org{Code: fmt.Sprintf("%s-%d-%d", prefix, i, j), Type: org.Police, NameAZ: "Orqan " + pad, NameRU: pad, NameEN: pad}
		}
		if _, err := db.ImportOrgs(context.Background(), os); err != nil {
			return i, err
		}
	}
	return max, nil
}

// TestDiskFull fills the disk under a SQLite database: the failed write is
// InsufficientStorage (not an internal error), Ready reports it, and as
// soon as space is freed Ready is nil again and writes go through, with the
// database whole. On a real tmpfs where the tests may mount one (root),
// else with max_page_count capping the file (a simulation: the file is
// "full", the file system is not).
func TestDiskFull(t *testing.T) {
	ctx := context.Background()
	for _, how := range []string{"tmpfs", "max_page_count"} {
		t.Run(how, func(t *testing.T) {
			var db *storage.DB
			var free func()
			switch how {
			case "tmpfs":
				dir, ok := storagetest.SmallDisk(t, 8<<20)
				if !ok {
					t.Skip("cannot mount a tmpfs here; the max_page_count run simulates a full disk instead")
				}
				db = storagetest.Open(t, filepath.Join(dir, "dayaq.db"))
				free = storagetest.FillDisk(t, dir)
			case "max_page_count":
				db = storagetest.Open(t, storagetest.SQLiteDSN(t))
				n, err := storage.PageCountForTest(db, ctx)
				if err != nil {
					t.Fatal(err)
				}
				if err := storage.SetMaxPageCountForTest(db, ctx, n+200); err != nil {
					t.Fatal(err)
				}
				free = func() {
					if err := storage.SetMaxPageCountForTest(db, ctx, 1<<30); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := db.Ready(ctx); err != nil {
				t.Fatalf("Ready before the disk is full: %v", err)
			}
			n, err := fillWithOrgs(t, db, "FULL", 2000)
			if err == nil {
				t.Fatalf("%d imports went through on a full disk", n)
			}
			if code := apperr.CodeOf(err); code != apperr.InsufficientStorage {
				t.Fatalf("write on a full disk after %d imports: code %q (%v), want %q", n, code, err, apperr.InsufficientStorage)
			}
			if e := apperr.As(err); e.Key != "ops.error.disk_full" {
				t.Errorf("key %q", e.Key)
			}
			if how == "max_page_count" {
				// What is left under the cap may still hold a small write;
				// on a full disk the filler took it: leave none.
				n, err := storage.PageCountForTest(db, ctx)
				if err != nil {
					t.Fatal(err)
				}
				if err := storage.SetMaxPageCountForTest(db, ctx, n); err != nil {
					t.Fatal(err)
				}
			}
			if err := db.Ready(ctx); apperr.CodeOf(err) != apperr.InsufficientStorage {
				t.Errorf("Ready on a full disk: %v, want InsufficientStorage", err)
			}
			// Reads still work.
			if _, err := db.Orgs(ctx, storage.OrgFilter{Limit: 5}); err != nil {
				t.Errorf("read on a full disk: %v", err)
			}
			free()
			if err := db.Ready(ctx); err != nil {
				t.Fatalf("Ready once space is freed: %v", err)
			}
			if _, err := fillWithOrgs(t, db, "AFTER", 3); err != nil {
				t.Fatalf("write once space is freed: %v", err)
			}
			if _, bad, reason, err := db.VerifyAudit(ctx); err != nil || bad != 0 {
				t.Errorf("audit chain: %d %s %v", bad, reason, err)
			}
			var ok string
			if err := storage.QueryRowForTest(db, ctx, "PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
				t.Errorf("integrity_check: %q %v", ok, err)
			}
		})
	}
}

// TestDatabaseUnreachable stops PostgreSQL under an open DB: reads and
// writes fail as Unavailable, Ready says so, and after the start both work
// again on the same DB.
func TestDatabaseUnreachable(t *testing.T) {
	if testing.Short() {
		t.Skip("stops and starts a PostgreSQL cluster")
	}
	ctx := context.Background()
	c := storagetest.OwnCluster(t)
	db := storagetest.Open(t, c.URL)
	if _, err := fillWithOrgs(t, db, "UP", 1); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop("immediate"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Orgs(ctx, storage.OrgFilter{Limit: 5}); apperr.CodeOf(storage.Classify(err)) != apperr.Unavailable {
		t.Errorf("read with PostgreSQL stopped: %v, want Unavailable once classified", err)
	}
	if _, err := fillWithOrgs(t, db, "DOWN", 1); apperr.CodeOf(err) != apperr.Unavailable {
		t.Errorf("write with PostgreSQL stopped: %v, want Unavailable", err)
	}
	if err := db.Ready(ctx); apperr.CodeOf(err) != apperr.Unavailable {
		t.Errorf("Ready with PostgreSQL stopped: %v", err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	if err := db.Ready(ctx); err != nil {
		t.Errorf("Ready after the start: %v", err)
	}
	if _, err := fillWithOrgs(t, db, "BACK", 1); err != nil {
		t.Errorf("write after the start: %v", err)
	}
}

// TestClassifyLeavesOtherErrors: only the drivers' availability errors
// change meaning.
func TestClassifyLeavesOtherErrors(t *testing.T) {
	v := apperr.Validation(apperr.Field("name", "error.required"))
	for _, err := range []error{nil, sql.ErrNoRows, v, apperr.New(apperr.Conflict, "error.conflict"), fmt.Errorf("wrapped: %w", v)} {
		if got := storage.Classify(err); got != err {
			t.Errorf("Classify(%v) = %v, want it unchanged", err, got)
		}
	}
}
