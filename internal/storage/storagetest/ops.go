package storagetest

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"dayaq/internal/storage/pgtemp"
)

// OwnCluster starts a throwaway PostgreSQL cluster of t's own, which t may
// stop and start (the database restarting), and removes it when t ends. It
// skips or fails t as PostgresDSN does when the binaries are missing.
func OwnCluster(t testing.TB) *pgtemp.Cluster {
	t.Helper()
	if _, err := os.Stat(filepath.Join(PGBin, "postgres")); err != nil {
		msg := "PostgreSQL 15 server binaries not found in " + PGBin
		if os.Getenv("DAYAQ_REQUIRE_POSTGRES") == "1" {
			t.Fatal(msg + ", but DAYAQ_REQUIRE_POSTGRES=1 requires them")
		}
		t.Skip(msg + ": skipping")
	}
	c, err := pgtemp.NewCluster()
	if err != nil {
		t.Fatalf("start a PostgreSQL cluster: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// SmallDisk mounts a tmpfs of size bytes under t's temporary directory and
// unmounts it when t ends: a real file system that fills up. It reports
// false (and mounts nothing) where mounting is not allowed (not root, no
// CAP_SYS_ADMIN), so that the caller can fall back to a simulation.
func SmallDisk(t testing.TB, size int64) (dir string, ok bool) {
	t.Helper()
	if os.Geteuid() != 0 {
		return "", false
	}
	dir = filepath.Join(t.TempDir(), "disk")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+strconv.FormatInt(size, 10), "tmpfs", dir).CombinedOutput(); err != nil {
		t.Logf("cannot mount a tmpfs (%v: %s)", err, out)
		return "", false
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir, true
}

// FillDisk writes a filler file in dir until the file system is full and
// returns a function that removes it, freeing the space.
func FillDisk(t testing.TB, dir string) (free func()) {
	t.Helper()
	p := filepath.Join(dir, "filler")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill %s: %v", dir, err)
			}
			break
		}
	}
	// The last few bytes too, one block at a time.
	for {
		if _, err := f.Write(buf[:512]); err != nil {
			break
		}
	}
	f.Close()
	return func() {
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
}
