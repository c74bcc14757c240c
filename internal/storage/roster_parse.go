package storage

import (
	"context"
	"hash/maphash"
	"io"
	"runtime"

	"dayaq/internal/roster"
)

// rawSource is a RosterSource whose rows can be parsed apart from being
// read (*roster.Reader): splitting the CSV must go in file order, while
// checking and normalising the values may run on other cores.
type rawSource interface {
	ReadRaw() (roster.Record, error)
	Parse(r *roster.Record)
}

// parseBlockRows is how many rows one parse job holds.
const parseBlockRows = 1024

// parseBlock is a run of rows read in order and parsed by any worker.
type parseBlock struct {
	recs []roster.Record
	err  error         // after the rows: io.EOF or why reading stopped
	done chan struct{} // closed when the rows are parsed
}

// parallelRecords returns src's records, in order, as next yields them.
// When src is a rawSource, one goroutine reads the rows and as many as
// there are cores parse them, a block at a time; the goroutines end with
// the source or with ctx.
func parallelRecords(ctx context.Context, src RosterSource) (next func() (roster.Record, error)) {
	rs, ok := src.(rawSource)
	if !ok {
		return src.Read
	}
	workers := min(runtime.GOMAXPROCS(0), 4)
	work, order := make(chan *parseBlock, 2*workers), make(chan *parseBlock, 4*workers)
	go func() {
		defer close(work)
		defer close(order)
		for {
			b := &parseBlock{recs: make([]roster.Record, 0, parseBlockRows), done: make(chan struct{})}
			for len(b.recs) < parseBlockRows && b.err == nil {
				r, err := rs.ReadRaw()
				if err != nil {
					b.err = err
					break
				}
				b.recs = append(b.recs, r)
			}
			for _, c := range []chan *parseBlock{order, work} {
				select {
				case c <- b:
				case <-ctx.Done():
					return
				}
			}
			if b.err != nil {
				return
			}
		}
	}()
	for range workers {
		go func() {
			for b := range work {
				for i := range b.recs {
					rs.Parse(&b.recs[i])
				}
				close(b.done)
			}
		}()
	}
	var cur *parseBlock
	i := 0
	return func() (roster.Record, error) {
		for cur == nil || i == len(cur.recs) {
			if cur != nil && cur.err != nil {
				return roster.Record{}, cur.err
			}
			b, ok := <-order
			if !ok {
				if err := ctx.Err(); err != nil {
					return roster.Record{}, err
				}
				return roster.Record{}, io.ErrUnexpectedEOF
			}
			select {
			case <-b.done:
			case <-ctx.Done():
				return roster.Record{}, ctx.Err()
			}
			cur, i = b, 0
		}
		i++
		r := cur.recs[i-1]
		cur.recs[i-1] = roster.Record{} // the batch holds it now
		return r, nil
	}
}

// seenIDs remembers the student IDs of a file, and the line each was
// first on, without pointers for the collector to follow: the IDs' bytes
// in one arena, found by a 64-bit hash (a collision only walks a chain).
// A map of two million strings would keep each row's whole CSV line
// alive, since a field is a slice of its line.
type seenIDs struct {
	seed  maphash.Seed
	first map[uint64]int32 // hash → its first entry
	ents  []seenEntry
	arena []byte
}

type seenEntry struct {
	off, n uint32 // the ID's bytes in arena
	line   int32
	next   int32 // the next entry with the same hash, or -1
}

func newSeenIDs() *seenIDs {
	return &seenIDs{seed: maphash.MakeSeed(), first: map[uint64]int32{}}
}

// add files id as first seen on line, or returns the line it was first
// seen on.
func (s *seenIDs) add(id string, line int) (prev int, dup bool) {
	h := maphash.String(s.seed, id)
	i, ok := s.first[h]
	if ok {
		for j := i; j >= 0; j = s.ents[j].next {
			e := s.ents[j]
			if string(s.arena[e.off:e.off+e.n]) == id {
				return int(e.line), true
			}
		}
	}
	next := int32(-1)
	if ok {
		next = i
	}
	s.ents = append(s.ents, seenEntry{off: uint32(len(s.arena)), n: uint32(len(id)), line: int32(line), next: next})
	s.arena = append(s.arena, id...)
	s.first[h] = int32(len(s.ents) - 1)
	return 0, false
}
