package blob

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestVaultSealsAndDetectsTampering(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store, err := NewDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ParseKey(NewKey())
	v, err := NewVault(store, key)
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte("Məmmədova Nərmin — psixoloqun rəyi")
	k1, k2 := NewBlobKey(), NewBlobKey()
	if err := v.Put(ctx, k1, secret); err != nil {
		t.Fatal(err)
	}
	got, err := v.Get(ctx, k1)
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("round trip: %q, %v", got, err)
	}
	path := filepath.Join(dir, k1[:2], k1)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("Nərmin")) || bytes.Contains(raw, []byte("psixoloq")) {
		t.Fatal("the file on disk holds plaintext")
	}
	// One flipped bit anywhere is detected.
	for _, i := range []int{0, len(magic) + 1, len(raw) / 2, len(raw) - 1} {
		bad := bytes.Clone(raw)
		bad[i] ^= 1
		if err := os.WriteFile(path, bad, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := v.Get(ctx, k1); !errors.Is(err, ErrTampered) {
			t.Errorf("flipped byte %d: %v, want ErrTampered", i, err)
		}
	}
	// Truncated, or moved to another key: detected.
	if err := os.WriteFile(path, raw[:len(raw)-3], 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Get(ctx, k1); !errors.Is(err, ErrTampered) {
		t.Errorf("truncated: %v", err)
	}
	if err := store.Put(ctx, k2, raw); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Get(ctx, k2); !errors.Is(err, ErrTampered) {
		t.Errorf("blob under another key: %v", err)
	}
	// Another key cannot open it.
	other, _ := NewVault(store, bytes.Repeat([]byte{7}, KeySize))
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Get(ctx, k1); !errors.Is(err, ErrTampered) {
		t.Errorf("wrong key: %v", err)
	}
	if _, err := v.Get(ctx, "abcdef0123"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing blob: %v", err)
	}
	if err := store.Put(ctx, "../../etc/passwd", nil); err == nil {
		t.Error("a key with a path was accepted")
	}
}

func TestParseKey(t *testing.T) {
	hexKey := NewKey()
	for _, s := range []string{hexKey, "  " + hexKey + "\n", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"} {
		if _, err := ParseKey(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	for _, s := range []string{"", "abc", hexKey[:62], "AAAA"} {
		if _, err := ParseKey(s); err == nil {
			t.Errorf("%q parsed", s)
		}
	}
	p := filepath.Join(t.TempDir(), "k", "attachment.key")
	k1, err := LoadOrCreateKeyFile(p)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := LoadOrCreateKeyFile(p)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("key file not stable: %v", err)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v", st.Mode().Perm())
	}
}
