package events

import (
	"testing"
	"time"
)

func TestFeedbackCap(t *testing.T) {
	for head, want := range map[int]int{0: 0, -3: 0, 1: 2, 27: 54} {
		if got := FeedbackCap(head); got != want {
			t.Errorf("FeedbackCap(%d) = %d, want %d", head, got, want)
		}
	}
}

// The gate takes its limit for each event a minute, apart from other
// events; the next minute starts afresh; a returned response frees its
// place; a refusal says when the minute ends.
func TestFeedbackGate(t *testing.T) {
	g := NewFeedbackGate(3)
	t0 := time.Date(2026, 12, 3, 10, 0, 15, 0, time.UTC)
	for i := range 3 {
		if ok, _ := g.Take(1, t0.Add(time.Duration(i)*time.Second)); !ok {
			t.Fatalf("response %d refused", i+1)
		}
	}
	ok, retry := g.Take(1, t0.Add(5*time.Second))
	if ok || retry != 40*time.Second {
		t.Errorf("fourth response: ok %v, retry %s; want refused, retry 40s", ok, retry)
	}
	if ok, _ := g.Take(2, t0.Add(5*time.Second)); !ok {
		t.Error("another event's first response refused")
	}
	g.Return(1, t0.Add(6*time.Second))
	if ok, _ := g.Take(1, t0.Add(7*time.Second)); !ok {
		t.Error("a returned place was not freed")
	}
	if ok, _ := g.Take(1, t0.Add(8*time.Second)); ok {
		t.Error("the limit was exceeded after a return")
	}
	if ok, _ := g.Take(1, t0.Add(45*time.Second)); !ok {
		t.Error("the next minute still refuses")
	}
	if n := len(g.counts); n != 1 {
		t.Errorf("%d counters kept after the minute rolled, want 1 (the past minute's are dropped)", n)
	}
	if d := NewFeedbackGate(0); d.limit != FeedbackPerMinute {
		t.Errorf("default limit %d, want %d", d.limit, FeedbackPerMinute)
	}
}
