package blob_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"dayaq/internal/blob"
)

// TestSweep removes old blobs no row points at and the temporary files a
// crash left; it keeps referenced blobs, recent ones (an upload may be
// committing) and files that are not blobs.
func TestSweep(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	d, err := blob.NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{"kept": "aa11", "orphan": "bb22", "recent": "cc33"}
	for _, k := range keys {
		if err := d.Put(ctx, k, []byte("sealed bytes")); err != nil {
			t.Fatal(err)
		}
	}
	tmp := filepath.Join(root, "bb", ".tmp-12345")
	other := filepath.Join(root, "README")
	for _, p := range []string{tmp, other} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	old := now.Add(-2 * blob.OrphanGrace)
	for _, p := range []string{filepath.Join(root, "aa", "aa11"), filepath.Join(root, "bb", "bb22"), tmp, other} {
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	var asked []string
	n, err := d.Sweep(ctx, now, func(_ context.Context, ks []string) (map[string]bool, error) {
		asked = append(asked, ks...)
		return map[string]bool{"aa11": true}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(asked)
	if !slices.Equal(asked, []string{"aa11", "bb22"}) {
		t.Errorf("asked about %v, want the old blobs aa11 and bb22", asked)
	}
	if n != 2 {
		t.Errorf("removed %d files, want 2 (the orphan and the temporary file)", n)
	}
	for name, k := range keys {
		_, err := d.Get(ctx, k)
		if want := name != "orphan"; (err == nil) != want {
			t.Errorf("%s blob: Get %v, want present %v", name, err, want)
		}
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Errorf("temporary file left: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("a file that is not a blob was removed: %v", err)
	}
}
