package storage

import (
	"time"

	"dayaq/internal/calendar"
)

// WorkingTimeAddForTest counts d from from on cal as case deadlines do,
// and returns the error kept, if any.
func WorkingTimeAddForTest(cal *calendar.Calendar, from time.Time, d time.Duration) (time.Time, error) {
	w := &workingTime{c: cal}
	t := w.Add(from, d)
	return t, w.Err()
}
