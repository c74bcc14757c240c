package storage

import (
	"strconv"
	"strings"
	"time"
)

// TimeCursor is the cursor of a list paged by a time and an ID (the
// events by their start, the showings by when they were shown): the row's
// time in Unix nanoseconds and its ID.
func TimeCursor(at time.Time, id int64) string {
	return strconv.FormatInt(at.UnixNano(), 10) + "_" + strconv.FormatInt(id, 10)
}

// ParseTimeCursor reads a TimeCursor.
func ParseTimeCursor(s string) (at time.Time, id int64, ok bool) {
	a, b, found := strings.Cut(s, "_")
	if !found {
		return at, 0, false
	}
	ns, err1 := strconv.ParseInt(a, 10, 64)
	id, err2 := strconv.ParseInt(b, 10, 64)
	return time.Unix(0, ns).UTC(), id, err1 == nil && err2 == nil && id > 0
}
