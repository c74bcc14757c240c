package storage

import (
	"context"
	"fmt"
	"strings"
)

// ReferencedBlobKeys reports which of keys an attachment row points at, for
// the sweep that removes orphaned blobs (ADR 0028). It reads no child's
// data and is not audited: keys are random and say nothing.
func (db *DB) ReferencedBlobKeys(ctx context.Context, keys []string) (map[string]bool, error) {
	out := make(map[string]bool, len(keys))
	const chunk = 500
	for len(keys) > 0 {
		n := min(chunk, len(keys))
		part := keys[:n]
		keys = keys[n:]
		args := make([]any, len(part))
		for i, k := range part {
			args[i] = k
		}
		// The text varies with len(part): kept out of the statement cache.
		rows, err := (conn{q: db.read, engine: db.engine}).query(ctx, `SELECT blob_key FROM case_attachments WHERE blob_key IN (`+
			strings.TrimSuffix(strings.Repeat("?,", len(part)), ",")+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("storage.ReferencedBlobKeys: %w", err)
		}
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				rows.Close()
				return nil, fmt.Errorf("storage.ReferencedBlobKeys: %w", err)
			}
			out[k] = true
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("storage.ReferencedBlobKeys: %w", err)
		}
	}
	return out, nil
}
