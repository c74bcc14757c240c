// Package audit defines the audit trail of Dayaq: one event for every read
// and write of a child's data, every sign-in, permission change and export.
// Events form a hash chain, so a changed or deleted event is detected. It
// does no I/O.
//
// Each event's Hash is the SHA-256 of the previous event's Hash followed by
// the event's canonical encoding (every field but Hash, see
// AppendCanonical). Storage keeps the newest event's seq and hash apart, as
// the chain's Head, so that deleting the newest events is detected too.
//
// The chain detects a changed, deleted or inserted event and a truncated
// tail. It cannot by itself detect someone with write access to the database
// who rewrites the chain from some point on and recomputes every hash and
// the head; publishing the head now and then outside the database (a
// printed or signed record of seq and hash) closes that gap up to the last
// published head.
package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"time"
	"unicode/utf8"
)

// Event is one entry of the audit trail.
type Event struct {
	Seq         int64     // position in the chain, from 1, set by storage
	At          time.Time // set by storage from its clock
	ActorUserID int64     // 0 for the system or an anonymous caller
	ActorOrgID  int64
	Action      string // e.g. "child.read", "child.list", "child.create", "auth.signin", "auth.signin_failed"
	ObjectType  string // e.g. "child", "user", "token"
	ObjectID    string
	ChildID     int64  // the child whose data was touched, 0 if none
	IP          string // the client's address
	RequestID   string
	Reason      string // why, for break-glass and other justified accesses
	BreakGlass  bool
	Details     string // compact JSON with more detail; never a child's name
	PrevHash    string // hex SHA-256 of the previous event, "" for the first
	Hash        string // hex SHA-256 of this event, chained
}

// Head is the end of the chain as storage records it: the newest event's
// Seq and Hash, or (0, "") before the first event.
type Head struct {
	Seq  int64
	Hash string
}

// TimeLayout is how At enters the canonical encoding: UTC, always six
// fractional digits (both engines keep microseconds, no more).
const TimeLayout = "2006-01-02T15:04:05.000000Z07:00"

// formatVersion starts every canonical encoding, so that a future change of
// the encoding can be told apart from tampering.
const formatVersion = 1

// AppendCanonical appends the canonical encoding of e to b and returns the
// extended slice. It covers every field except Hash, in declaration order:
// integers as 8 bytes big-endian, strings as a uvarint length and the bytes,
// BreakGlass as one byte, At as a string in TimeLayout after rounding down
// to the microsecond. Every part has a known length, so two different
// events never encode alike.
func AppendCanonical(b []byte, e Event) []byte {
	b = append(b, formatVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(e.Seq))
	b = appendString(b, e.At.UTC().Truncate(time.Microsecond).Format(TimeLayout))
	b = binary.BigEndian.AppendUint64(b, uint64(e.ActorUserID))
	b = binary.BigEndian.AppendUint64(b, uint64(e.ActorOrgID))
	b = appendString(b, e.Action)
	b = appendString(b, e.ObjectType)
	b = appendString(b, e.ObjectID)
	b = binary.BigEndian.AppendUint64(b, uint64(e.ChildID))
	b = appendString(b, e.IP)
	b = appendString(b, e.RequestID)
	b = appendString(b, e.Reason)
	if e.BreakGlass {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = appendString(b, e.Details)
	b = appendString(b, e.PrevHash)
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// Hash returns the hex SHA-256 of prev (the previous event's hash, "" for
// the first event), length-prefixed, followed by e's canonical encoding.
func Hash(prev string, e Event) string {
	var buf [512]byte
	b := appendString(buf[:0], prev)
	b = AppendCanonical(b, e)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Sanitize returns e with every string made storable alike by both engines:
// invalid UTF-8 and NUL bytes (which PostgreSQL's text refuses) become
// U+FFFD. Storage sanitizes before hashing, so what is stored is what is
// hashed, and a malformed header cannot make an audited request fail.
func Sanitize(e Event) Event {
	for _, s := range []*string{&e.Action, &e.ObjectType, &e.ObjectID, &e.IP, &e.RequestID,
		&e.Reason, &e.Details, &e.PrevHash, &e.Hash} {
		*s = clean(*s)
	}
	return e
}

func clean(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}
