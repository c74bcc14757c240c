package storage

import (
	"context"
	"strings"
)

// Rows of many requests in one statement (ADR 0042).
//
// A pipelined batch (ADR 0036) sends every request's statements in one
// round trip, but still one statement per request and table: five for a
// contact (the contact, its children, its categories, its Idempotency-Key,
// its audit event), each executed, with its triggers' statements, on the
// server on its own. The server's CPU per contact then costs more than the
// whole direct insert of the same rows. So a statement that only inserts
// rows is filed with its shape (insertRowsLater), and when the batch is
// sent the rows of every statement of the same shape since the last other
// statement go in one multi-row INSERT, at the place of the first of them.
// Rows only move earlier, past inserts into other tables, never past any
// other statement; the tables' rows reference earlier tables' rows (a
// contact's children its contact) in the order every request inserts them,
// so a batch's contacts all precede its children. Should the server still
// refuse a merged statement, the batch runs again with savepoints, one
// request at a time, as for any failure. Row counts are split into powers
// of two, so that a shape has at most eight statement texts, each
// prepared once per connection.

// rowsShape is how a statement that only inserts rows is written: head
// ("INSERT INTO t (a, b) VALUES "), then n copies of row ("(?, ?)")
// separated by commas. The zero shape marks any other statement.
type rowsShape struct {
	head, row string
	n         int
}

// maxRowsStatement caps the rows of one merged statement.
const maxRowsStatement = 128

// text is the statement inserting n rows of shape s.
func (s rowsShape) text(n int) string {
	var b strings.Builder
	b.Grow(len(s.head) + n*(len(s.row)+2))
	b.WriteString(s.head)
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(s.row)
	}
	return b.String()
}

// The shape of an audit event's insert in a pipelined batch.
const (
	auditEventsHead = `INSERT INTO audit_events (` + auditColumns + `) VALUES `
	auditEventRow   = `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

// laterRows files the insert of s.n rows (args) of shape s.
func (p *pgPipe) laterRows(s rowsShape, args []any) { p.laterShaped(s.text(s.n), s, args) }

// insertRowsLater inserts n rows (args holds n rows of row's placeholders)
// with head and awaits nothing, like execLater; in a pipelined batch the
// rows may go in one statement with other requests' rows (see above).
func (c conn) insertRowsLater(ctx context.Context, head, row string, n int, args ...any) error {
	s := rowsShape{head: head, row: row, n: n}
	if p := c.fastPipe(); p != nil {
		p.laterRows(s, args)
		return nil
	}
	return c.execLater(ctx, s.text(n), args...)
}

// plannedStmt is a statement as sent: first is the index, among the
// pending statements, of the first one it carries.
type plannedStmt struct {
	q     string
	args  []any
	first int
}

// plan is the pending statements as they are sent: the rows of statements
// of the same shape merged, since the last statement of no shape, into
// statements of power-of-two row counts, at the place of the first.
func (p *pgPipe) plan() []plannedStmt {
	type item struct {
		plannedStmt
		shape rowsShape // zero: a statement sent as it is
		rows  int
	}
	items := make([]item, 0, len(p.queries))
	open := map[string]int{} // a shape's head → its item since the last barrier
	at := 0
	for i, q := range p.queries {
		n := p.queued[i]
		args := p.args[at : at+n : at+n]
		at += n
		s := p.shapes[i]
		if s.n == 0 {
			clear(open)
			items = append(items, item{plannedStmt: plannedStmt{q: q, args: args, first: i}})
			continue
		}
		if j, ok := open[s.head]; ok && items[j].shape.row == s.row {
			items[j].args = append(items[j].args, args...)
			items[j].rows += s.n
			continue
		}
		open[s.head] = len(items)
		items = append(items, item{plannedStmt: plannedStmt{q: q, args: append([]any(nil), args...), first: i}, shape: s, rows: s.n})
	}
	out := make([]plannedStmt, 0, len(items))
	for _, it := range items {
		if it.shape.n == 0 || it.rows == it.shape.n {
			out = append(out, it.plannedStmt) // nothing merged into it
			continue
		}
		width := len(it.args) / it.rows
		for done := 0; done < it.rows; {
			k := chunkRows(it.rows - done)
			out = append(out, plannedStmt{q: it.shape.text(k), args: it.args[done*width : (done+k)*width], first: it.first})
			done += k
		}
	}
	return out
}

// chunkRows is the largest power of two at most n and maxRowsStatement.
func chunkRows(n int) int {
	k := 1
	for k*2 <= n && k*2 <= maxRowsStatement {
		k *= 2
	}
	return k
}
