// Package blob keeps attachments' bytes outside the database, encrypted at
// rest with AES-256-GCM. A Store holds opaque blobs by key (the filesystem
// by default; an object store can implement the same four methods); a Vault
// seals what goes in and opens what comes out, so a Store never sees a
// plaintext byte.
package blob

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Store keeps blobs by key. Keys are made by the Vault: lower-case hex.
type Store interface {
	Put(ctx context.Context, key string, data []byte) error
	Get(ctx context.Context, key string) ([]byte, error)
	Delete(ctx context.Context, key string) error
}

// Error is a blob error that can be a constant.
type Error string

func (e Error) Error() string { return string(e) }

const (
	// ErrNotFound is returned by Get for a key the store does not hold.
	ErrNotFound = Error("blob: not found")
	// ErrTampered is returned when a blob fails authentication: it was
	// changed, truncated, swapped for another, or sealed with another key.
	ErrTampered = Error("blob: decryption failed: the file was changed or the key is wrong")
)

// KeySize is the size of an attachment key: AES-256.
const KeySize = 32

// ParseKey reads a 32-byte key written as hex (64 digits) or base64.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if b, err := hex.DecodeString(s); err == nil && len(b) == KeySize {
		return b, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == KeySize {
			return b, nil
		}
	}
	return nil, fmt.Errorf("blob: the attachment key must be %d bytes, written as 64 hex digits or in base64", KeySize)
}

// NewKey makes a random key, hex-encoded.
func NewKey() string {
	b := make([]byte, KeySize)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// LoadOrCreateKeyFile reads the key in path, or writes a new random one
// there (mode 0600) when the file does not exist. It is for demo and
// single-laptop use; a real deployment passes the key in configuration.
func LoadOrCreateKeyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, err
		}
		k := NewKey()
		if err := os.WriteFile(path, []byte(k+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("blob: write key file: %w", err)
		}
		return ParseKey(k)
	}
	if err != nil {
		return nil, fmt.Errorf("blob: read key file: %w", err)
	}
	return ParseKey(string(b))
}

// magic starts every sealed blob: the format and its version.
const magic = "DQA1"

// Vault seals and opens blobs in a Store.
type Vault struct {
	store Store
	aead  cipher.AEAD
}

// NewVault returns a vault over store with the 32-byte key.
func NewVault(store Store, key []byte) (*Vault, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("blob: key is %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Vault{store: store, aead: aead}, nil
}

// NewBlobKey makes a fresh random key for a blob.
func NewBlobKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Put encrypts data and stores it under key. The key is bound to the
// ciphertext as associated data, so a blob moved to another key does not
// open.
func (v *Vault) Put(ctx context.Context, key string, data []byte) error {
	nonce := make([]byte, v.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return err
	}
	out := make([]byte, 0, len(magic)+len(nonce)+len(data)+v.aead.Overhead())
	out = append(out, magic...)
	out = append(out, nonce...)
	out = v.aead.Seal(out, nonce, data, []byte(magic+key))
	return v.store.Put(ctx, key, out)
}

// Get reads the blob under key and decrypts it; ErrTampered when it does
// not authenticate.
func (v *Vault) Get(ctx context.Context, key string) ([]byte, error) {
	b, err := v.store.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	ns := v.aead.NonceSize()
	if len(b) < len(magic)+ns+v.aead.Overhead() || !bytes.HasPrefix(b, []byte(magic)) {
		return nil, ErrTampered
	}
	nonce := b[len(magic) : len(magic)+ns]
	plain, err := v.aead.Open(nil, nonce, b[len(magic)+ns:], []byte(magic+key))
	if err != nil {
		return nil, ErrTampered
	}
	return plain, nil
}

// Delete removes the blob under key.
func (v *Vault) Delete(ctx context.Context, key string) error { return v.store.Delete(ctx, key) }

// Dir is a Store on the filesystem: one file per blob under a root
// directory, fanned out by the key's first two characters.
type Dir struct{ root string }

// NewDir returns a store under root, creating it.
func NewDir(root string) (*Dir, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("blob: create %s: %w", root, err)
	}
	return &Dir{root: root}, nil
}

func (d *Dir) path(key string) (string, error) {
	if len(key) < 4 || strings.Trim(key, "0123456789abcdef") != "" {
		return "", fmt.Errorf("blob: bad key %q", key)
	}
	return filepath.Join(d.root, key[:2], key), nil
}

// Put writes the blob to a temporary file, syncs it, renames it into place
// and syncs the directory, so that a crash or a power cut leaves either the
// whole blob or none, and once Put returns the blob is on disk under its
// name: only then may the row that points at it commit (ADR 0028).
func (d *Dir) Put(_ context.Context, key string, data []byte) error {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	if err := d.mkdir(filepath.Dir(p)); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), p); err != nil {
		return err
	}
	return syncDir(filepath.Dir(p))
}

// mkdir creates the fan-out directory dir under the root if it is missing,
// and syncs the root so that the new directory's entry is on disk too.
func (d *Dir) mkdir(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return syncDir(d.root)
}

// syncDir makes the entries of dir (a file renamed into it) durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("blob: sync %s: %w", dir, err)
	}
	return nil
}

// Get reads the blob.
func (d *Dir) Get(_ context.Context, key string) ([]byte, error) {
	p, err := d.path(key)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	return b, err
}

// Delete removes the blob; a missing one is not an error.
func (d *Dir) Delete(_ context.Context, key string) error {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// ReadAllLimited reads r up to max bytes, reporting whether there was more.
func ReadAllLimited(r io.Reader, max int64) ([]byte, bool, error) {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, false, err
	}
	if int64(len(b)) > max {
		return nil, true, nil
	}
	return b, false, nil
}
