package audit

import "fmt"

// Reason says how the chain is broken at an event.
type Reason string

const (
	// ReasonGap: the event's seq does not follow the previous one (from 1),
	// so the events between were deleted, or the order was altered.
	ReasonGap Reason = "gap"
	// ReasonLink: the event's PrevHash is not the previous event's Hash, so
	// the previous event was replaced, or this one was moved.
	ReasonLink Reason = "link"
	// ReasonHash: the event's Hash does not match its content, so the event
	// was changed after it was written.
	ReasonHash Reason = "hash"
	// ReasonHead: the chain does not end where the head says, so the newest
	// events were deleted, events were added past the head, or the head was
	// changed.
	ReasonHead Reason = "head"
)

// Break is where the chain is first broken.
type Break struct {
	Seq    int64 // the first broken event, or for ReasonHead the first missing or extra one
	Reason Reason
}

func (b Break) String() string {
	return fmt.Sprintf("audit chain broken at seq %d: %s", b.Seq, b.Reason)
}

// Verifier checks a chain one event at a time, in Seq order, and keeps the
// first break it finds; later events are then ignored. The zero value
// expects the chain to start at seq 1. Feed it every event with Add, then
// call End with the stored head.
type Verifier struct {
	last    Head // the last event that was added
	checked int64
	broken  *Break
}

// Add checks e against the events added before it and returns the first
// break found so far, or nil.
func (v *Verifier) Add(e Event) *Break {
	if v.broken != nil {
		return v.broken
	}
	v.checked++
	switch {
	case e.Seq != v.last.Seq+1:
		v.broken = &Break{Seq: e.Seq, Reason: ReasonGap}
	case e.PrevHash != v.last.Hash:
		v.broken = &Break{Seq: e.Seq, Reason: ReasonLink}
	case Hash(v.last.Hash, e) != e.Hash:
		v.broken = &Break{Seq: e.Seq, Reason: ReasonHash}
	}
	v.last = Head{Seq: e.Seq, Hash: e.Hash}
	return v.broken
}

// End checks that the chain ends at head, after the last event was added,
// and returns the first break, or nil when the chain is whole.
func (v *Verifier) End(head Head) *Break {
	if v.broken != nil {
		return v.broken
	}
	switch {
	case v.last.Seq != head.Seq:
		// Events past the shorter end are missing (head ahead) or not
		// accounted for by the head (chain ahead).
		v.broken = &Break{Seq: min(v.last.Seq, head.Seq) + 1, Reason: ReasonHead}
	case v.last.Hash != head.Hash:
		v.broken = &Break{Seq: head.Seq, Reason: ReasonHead}
	}
	return v.broken
}

// Checked reports how many events were added, up to and including the first
// broken one.
func (v *Verifier) Checked() int64 { return v.checked }

// Last returns the seq and hash of the last event added.
func (v *Verifier) Last() Head { return v.last }
