package httpx

import (
	"sync/atomic"
	"time"
)

// Throttle lets one event through per interval: the database being down is
// logged once a minute, not once a request.
type Throttle struct {
	every time.Duration
	last  atomic.Int64 // unix nanoseconds of the last event let through
}

// NewThrottle returns a throttle that lets one event through every interval.
func NewThrottle(every time.Duration) *Throttle { return &Throttle{every: every} }

// Allow reports whether an event at now is let through.
func (t *Throttle) Allow(now time.Time) bool {
	for {
		last := t.last.Load()
		if last != 0 && now.UnixNano()-last < int64(t.every) {
			return false
		}
		if t.last.CompareAndSwap(last, now.UnixNano()) {
			return true
		}
	}
}
