package events

import (
	"sync"
	"time"
)

// The anonymous feedback form keeps no address, cookie beyond "answered"
// or other identifier (ADR 0022), so it cannot limit who answers. It limits
// how much one event takes instead (ADR 0031): never more than
// FeedbackCapFactor times the head count once attendance is recorded
// (storage checks this in the response's transaction), and, whatever the
// head count, no more than FeedbackPerMinute a minute for one event (the
// FeedbackGate, in the server's memory).
const (
	// FeedbackCapFactor: an event takes at most this many responses per
	// parent counted (two parents of one pupil may both come and answer,
	// and a head count is a count by eye).
	FeedbackCapFactor = 2
	// FeedbackPerMinute is the default number of responses one event
	// takes in a minute: a hall of parents scanning the QR code at the end
	// of a talk stays well under it; a script does not.
	FeedbackPerMinute = 30
)

// FeedbackCap is the most responses an event with headCount parents takes;
// 0 means no cap yet (attendance not recorded).
func FeedbackCap(headCount int) int {
	if headCount <= 0 {
		return 0
	}
	return FeedbackCapFactor * headCount
}

// FeedbackGate counts each event's responses in the current minute. It
// keys on the event alone: nothing about the sender is looked at or kept.
// Its memory is one counter per event answered in the current minute.
type FeedbackGate struct {
	limit  int
	mu     sync.Mutex
	minute int64 // the Unix minute the counts are for
	counts map[int64]int
}

// NewFeedbackGate returns a gate taking limit responses an event a minute
// (FeedbackPerMinute when limit ≤ 0).
func NewFeedbackGate(limit int) *FeedbackGate {
	if limit <= 0 {
		limit = FeedbackPerMinute
	}
	return &FeedbackGate{limit: limit, counts: map[int64]int{}}
}

// Take counts one response to eventID at now if the minute's budget allows
// it. When it does not, ok is false and retry is how long until the next
// minute starts.
func (g *FeedbackGate) Take(eventID int64, now time.Time) (ok bool, retry time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if m := now.Unix() / 60; m != g.minute {
		g.minute = m
		clear(g.counts) // last minute's events are forgotten with it
	}
	if g.counts[eventID] >= g.limit {
		next := time.Unix((g.minute+1)*60, 0)
		return false, max(time.Second, next.Sub(now).Round(time.Second))
	}
	g.counts[eventID]++
	return true, 0
}

// Return gives back a response Take counted that was then not stored (it
// was invalid, or refused by the cap), so that mistakes do not use up the
// budget.
func (g *FeedbackGate) Return(eventID int64, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if now.Unix()/60 == g.minute && g.counts[eventID] > 0 {
		g.counts[eventID]--
	}
}
