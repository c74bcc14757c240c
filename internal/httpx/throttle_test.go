package httpx

import (
	"testing"
	"time"
)

func TestThrottle(t *testing.T) {
	th := NewThrottle(time.Minute)
	t0 := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		after time.Duration
		want  bool
	}{{0, true}, {time.Second, false}, {59 * time.Second, false}, {time.Minute, true}, {90 * time.Second, false}, {3 * time.Minute, true}} {
		if got := th.Allow(t0.Add(tt.after)); got != tt.want {
			t.Errorf("Allow at +%s = %v, want %v", tt.after, got, tt.want)
		}
	}
}
