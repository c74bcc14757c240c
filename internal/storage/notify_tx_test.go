package storage

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"dayaq/internal/notify"
)

// Messages queued inside a transaction go out only if it commits: a
// failed change notifies nobody.
func TestNotifyCommitsWithTheChange(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "dayaq.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	m := notify.Must(notify.CriticalAlert, notify.Address(notify.Email, "duty@police.example.az"), "notify.escalation.overdue", "/hotline/7")
	failed := errors.New("the change failed")
	if err := db.inTx(ctx, func(c conn) error {
		if err := notifyTx(ctx, c, m); err != nil {
			return err
		}
		return failed
	}); !errors.Is(err, failed) {
		t.Fatal(err)
	}
	if ms, _ := db.Outbox(ctx, OutboxFilter{}); len(ms) != 0 {
		t.Fatalf("a rolled-back change queued %d messages", len(ms))
	}
	if err := db.inTx(ctx, func(c conn) error { return notifyTx(ctx, c, m) }); err != nil {
		t.Fatal(err)
	}
	if ms, _ := db.Outbox(ctx, OutboxFilter{}); len(ms) != 1 {
		t.Fatalf("a committed change queued %d messages, want 1", len(ms))
	}
}
