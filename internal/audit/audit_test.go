package audit_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"dayaq/internal/audit"
)

// chain returns n well-formed events and the head that ends them.
func chain(n int) ([]audit.Event, audit.Head) {
	t0 := time.Date(2025, 9, 1, 8, 30, 0, 123456000, time.UTC)
	var es []audit.Event
	head := audit.Head{}
	for i := range n {
		e := audit.Event{
			Seq: head.Seq + 1, At: t0.Add(time.Duration(i) * time.Second),
			ActorUserID: 7, ActorOrgID: 3, Action: "child.read", ObjectType: "child",
			ObjectID: "42", ChildID: 42, IP: "10.0.0.1", RequestID: "req-1",
			Details: `{"fields":["name"]}`, PrevHash: head.Hash,
		}
		e.Hash = audit.Hash(head.Hash, e)
		es = append(es, e)
		head = audit.Head{Seq: e.Seq, Hash: e.Hash}
	}
	return es, head
}

func TestVerifier(t *testing.T) {
	for _, tc := range []struct {
		name   string
		n      int
		tamper func(es []audit.Event, head audit.Head) ([]audit.Event, audit.Head)
		want   *audit.Break
	}{
		{name: "empty chain", n: 0},
		{name: "whole chain", n: 5},
		{name: "field changed", n: 5, tamper: func(es []audit.Event, h audit.Head) ([]audit.Event, audit.Head) {
			es[2].Action = "child.list"
			return es, h
		}, want: &audit.Break{Seq: 3, Reason: audit.ReasonHash}},
		{name: "break-glass flag cleared", n: 5, tamper: func(es []audit.Event, h audit.Head) ([]audit.Event, audit.Head) {
			es[0].BreakGlass = true
			return es, h
		}, want: &audit.Break{Seq: 1, Reason: audit.ReasonHash}},
		{name: "time moved", n: 5, tamper: func(es []audit.Event, h audit.Head) ([]audit.Event, audit.Head) {
			es[4].At = es[4].At.Add(time.Microsecond)
			return es, h
		}, want: &audit.Break{Seq: 5, Reason: audit.ReasonHash}},
		{name: "changed and rehashed", n: 5, tamper: func(es []audit.Event, h audit.Head) ([]audit.Event, audit.Head) {
			es[1].ObjectID = "99"
			es[1].Hash = audit.Hash(es[1].PrevHash, es[1])
			return es, h
		}, want: &audit.Break{Seq: 3, Reason: audit.ReasonLink}},
		{name: "middle deleted", n: 5, tamper: func(es []audit.Event, h audit.Head) ([]audit.Event, audit.Head) {
			return append(es[:2:2], es[3:]...), h
		}, want: &audit.Break{Seq: 4, Reason: audit.ReasonGap}},
		{name: "first deleted", n: 5, tamper: func(es []audit.Event, h audit.Head) ([]audit.Event, audit.Head) {
			return es[1:], h
		}, want: &audit.Break{Seq: 2, Reason: audit.ReasonGap}},
		{name: "newest deleted", n: 5, tamper: func(es []audit.Event, h audit.Head) ([]audit.Event, audit.Head) {
			return es[:4], h
		}, want: &audit.Break{Seq: 5, Reason: audit.ReasonHead}},
		{name: "all deleted", n: 5, tamper: func(es []audit.Event, h audit.Head) ([]audit.Event, audit.Head) {
			return nil, h
		}, want: &audit.Break{Seq: 1, Reason: audit.ReasonHead}},
		{name: "newest deleted and head moved back", n: 5, tamper: func(es []audit.Event, h audit.Head) ([]audit.Event, audit.Head) {
			return es[:4], audit.Head{Seq: 4, Hash: es[3].Hash}
		}}, // undetectable without an external copy of the head
		{name: "event past the head", n: 5, tamper: func(es []audit.Event, h audit.Head) ([]audit.Event, audit.Head) {
			return es, audit.Head{Seq: 4, Hash: es[3].Hash}
		}, want: &audit.Break{Seq: 5, Reason: audit.ReasonHead}},
		{name: "head hash changed", n: 5, tamper: func(es []audit.Event, h audit.Head) ([]audit.Event, audit.Head) {
			h.Hash = strings.Repeat("0", 64)
			return es, h
		}, want: &audit.Break{Seq: 5, Reason: audit.ReasonHead}},
		{name: "two swapped", n: 5, tamper: func(es []audit.Event, h audit.Head) ([]audit.Event, audit.Head) {
			es[1], es[2] = es[2], es[1]
			return es, h
		}, want: &audit.Break{Seq: 3, Reason: audit.ReasonGap}},
		{name: "first of two breaks wins", n: 5, tamper: func(es []audit.Event, h audit.Head) ([]audit.Event, audit.Head) {
			es[1].IP = "1.2.3.4"
			return es[:4], h
		}, want: &audit.Break{Seq: 2, Reason: audit.ReasonHash}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			es, head := chain(tc.n)
			if tc.tamper != nil {
				es, head = tc.tamper(es, head)
			}
			var v audit.Verifier
			for _, e := range es {
				v.Add(e)
			}
			got := v.End(head)
			if (got == nil) != (tc.want == nil) || got != nil && *got != *tc.want {
				t.Fatalf("End = %v, want %v", got, tc.want)
			}
			if v.Checked() == 0 && len(es) > 0 {
				t.Errorf("Checked = 0 after %d events", len(es))
			}
		})
	}
}

func TestVerifierStopsAtFirstBreak(t *testing.T) {
	es, head := chain(4)
	es[1].Action = "x"
	var v audit.Verifier
	var firsts []*audit.Break
	for _, e := range es {
		firsts = append(firsts, v.Add(e))
	}
	if firsts[0] != nil || firsts[1] == nil || firsts[2] != firsts[1] || firsts[3] != firsts[1] {
		t.Fatalf("Add results = %v; want nil, then the same break", firsts)
	}
	if v.Checked() != 2 {
		t.Errorf("Checked = %d, want 2 (up to the break)", v.Checked())
	}
	if b := v.End(head); b != firsts[1] {
		t.Errorf("End = %v, want the first break %v", b, firsts[1])
	}
}

// The encoding tells apart events whose fields, run together, read alike.
func TestCanonicalUnambiguous(t *testing.T) {
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		name string
		a, b audit.Event
	}{
		{"string boundary", audit.Event{Action: "ab", ObjectType: "c"}, audit.Event{Action: "a", ObjectType: "bc"}},
		{"empty vs absent", audit.Event{ObjectID: "", RequestID: "x"}, audit.Event{ObjectID: "x", RequestID: ""}},
		{"int fields", audit.Event{ActorUserID: 1}, audit.Event{ActorOrgID: 1}},
		{"child vs actor", audit.Event{ChildID: 5}, audit.Event{ActorUserID: 5}},
		{"break glass", audit.Event{}, audit.Event{BreakGlass: true}},
		{"prev hash", audit.Event{PrevHash: "ab"}, audit.Event{Details: "ab"}},
		{"microsecond", audit.Event{At: at}, audit.Event{At: at.Add(time.Microsecond)}},
		{"seq", audit.Event{Seq: 1}, audit.Event{Seq: 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if bytes.Equal(audit.AppendCanonical(nil, tc.a), audit.AppendCanonical(nil, tc.b)) {
				t.Errorf("%+v and %+v encode alike", tc.a, tc.b)
			}
			if audit.Hash("", tc.a) == audit.Hash("", tc.b) {
				t.Errorf("%+v and %+v hash alike", tc.a, tc.b)
			}
		})
	}
}

// What the engines give back for the same instant hashes alike: another
// time zone, nanoseconds below the microsecond, a different Hash field.
func TestHashStableAcrossRoundTrip(t *testing.T) {
	at := time.Date(2025, 9, 1, 8, 30, 0, 123456789, time.UTC)
	e := audit.Event{Seq: 1, At: at, Action: "child.read"}
	want := audit.Hash("", e)
	baku := time.FixedZone("AZT", 4*3600)
	for name, f := range map[string]func(audit.Event) audit.Event{
		"other zone":     func(e audit.Event) audit.Event { e.At = e.At.In(baku); return e },
		"truncated":      func(e audit.Event) audit.Event { e.At = e.At.Truncate(time.Microsecond); return e },
		"hash field set": func(e audit.Event) audit.Event { e.Hash = "whatever"; return e },
	} {
		if got := audit.Hash("", f(e)); got != want {
			t.Errorf("%s: hash %s, want %s", name, got, want)
		}
	}
	if audit.Hash("x", e) == want {
		t.Error("the previous hash does not enter the hash")
	}
	if len(want) != 64 || strings.Trim(want, "0123456789abcdef") != "" {
		t.Errorf("hash %q is not 64 lower-case hex digits", want)
	}
}

// A fixed vector: if this changes, every stored chain stops verifying.
func TestHashVector(t *testing.T) {
	e := audit.Event{Seq: 1, At: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), ActorUserID: 2, ActorOrgID: 3,
		Action: "child.read", ObjectType: "child", ObjectID: "4", ChildID: 4, IP: "127.0.0.1",
		RequestID: "r", Reason: "why", BreakGlass: true, Details: "{}"}
	const want = "6edeedd611d1d06e973dad8cc31d079b43b8ff2b831f8df5a8b3315bac4f9508"
	if got := audit.Hash("", e); got != want {
		t.Errorf("Hash = %s, want %s (changing the encoding breaks stored chains)", got, want)
	}
}

func TestSanitize(t *testing.T) {
	e := audit.Sanitize(audit.Event{IP: "1.2.3.4", RequestID: "a\x00b", Reason: "bad \xff utf8", Details: "Nərmin"})
	if e.IP != "1.2.3.4" || e.RequestID != "a\uFFFDb" || e.Reason != "bad \uFFFD utf8" || e.Details != "Nərmin" {
		t.Errorf("Sanitize = %+v", e)
	}
}

func BenchmarkHash(b *testing.B) {
	e := audit.Event{Seq: 123456, At: time.Now(), ActorUserID: 17, ActorOrgID: 4, Action: "child.read", ObjectType: "child",
		ObjectID: "123456", ChildID: 123456, IP: "203.0.113.9", RequestID: "01J8ZQ3K5V6W7X8Y9Z0ABCDEF",
		Details: `{"fields":["risk","plan"]}`, PrevHash: strings.Repeat("ab", 32)}
	b.ReportAllocs()
	for b.Loop() {
		audit.Hash(e.PrevHash, e)
	}
}
