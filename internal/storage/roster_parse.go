package storage

import (
	"context"
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
