package blob

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Orphan is a file in a Dir that no row may point at yet: a blob (Key set)
// or a temporary file a crash left behind (Key empty).
type Orphan struct {
	Key     string
	path    string
	ModTime time.Time
}

// Candidates lists the blobs and temporary files last changed before
// before: those a sweep may remove once it knows no row points at them.
// Files changed later may belong to an upload whose row is committing.
func (d *Dir) Candidates(ctx context.Context, before time.Time) ([]Orphan, error) {
	var out []Orphan
	err := filepath.WalkDir(d.root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if e.IsDir() {
			return nil
		}
		info, err := e.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if !info.ModTime().Before(before) {
			return nil
		}
		o := Orphan{path: p, ModTime: info.ModTime()}
		if !strings.HasPrefix(e.Name(), ".tmp-") {
			if _, err := d.path(e.Name()); err != nil {
				return nil // not ours: leave it alone
			}
			o.Key = e.Name()
		}
		out = append(out, o)
		return nil
	})
	return out, err
}

// Remove deletes an orphan's file; a missing one is not an error.
func (d *Dir) Remove(o Orphan) error {
	if err := os.Remove(o.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// OrphanGrace is how old an unreferenced blob must be before a sweep
// removes it: far longer than an upload takes from its Put to its commit.
const OrphanGrace = time.Hour

// Referenced reports which of keys a row points at.
type Referenced func(ctx context.Context, keys []string) (map[string]bool, error)

// Sweep removes the blobs no row points at and the temporary files a crash
// left behind, among those last changed before now minus OrphanGrace. It
// reports how many files it removed.
func (d *Dir) Sweep(ctx context.Context, now time.Time, referenced Referenced) (int, error) {
	cands, err := d.Candidates(ctx, now.Add(-OrphanGrace))
	if err != nil {
		return 0, err
	}
	var keys []string
	for _, c := range cands {
		if c.Key != "" {
			keys = append(keys, c.Key)
		}
	}
	used, err := referenced(ctx, keys)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range cands {
		if c.Key != "" && used[c.Key] {
			continue
		}
		if err := d.Remove(c); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
