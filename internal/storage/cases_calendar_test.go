package storage_test

import (
	"context"
	"testing"
	"time"

	"dayaq/internal/calendar"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// A calendar that cannot be read fails the case's write; it does not
// quietly count the deadlines on the clock.
func TestCaseDeadlinesCalendarUnreadable(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			f := newMatrixFixture(t, e.DSN(t))
			if err := f.db.ExecRaw(context.Background(), `DROP TABLE calendar_days`); err != nil {
				t.Fatal(err)
			}
			if r, err := f.db.CreateCase(context.Background(), f.users["school_head"], report(f, "ownClass")); err == nil {
				t.Fatalf("case opened with deadlines %v / %v although the calendar cannot be read", r.ReportDue, r.RespondDue)
			}
		})
	}
}

// A span the calendar cannot count (no working day within ten years) is
// an error the caller sees.
func TestCaseDeadlinesCalendarCannotCount(t *testing.T) {
	from := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	var es []calendar.Entry
	for d := from; d.Before(from.AddDate(11, 0, 0)); d = d.AddDate(0, 0, 1) {
		es = append(es, calendar.Entry{Date: d, Kind: calendar.DayOff, Name: "other"})
	}
	if _, err := storage.WorkingTimeAddForTest(calendar.New(es), from, 24*time.Hour); err == nil {
		t.Error("a day counted on a calendar without working days")
	}
	if got, err := storage.WorkingTimeAddForTest(calendar.New(nil), from, 24*time.Hour); err != nil || !got.Equal(from.AddDate(0, 0, 1)) {
		t.Errorf("a plain working day: %v %v", got, err)
	}
}
