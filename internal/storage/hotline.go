package storage

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"dayaq/internal/apperr"
	"dayaq/internal/taxonomy"
)

// hotlineState is what the hotline keeps in memory: published taxonomy
// versions (immutable, so safe to cache), the keys for callers' numbers,
// and the group-commit writer.
type hotlineState struct {
	mu         sync.Mutex
	taxonomies map[int]taxonomy.Taxonomy
	secret     []byte // from configuration (WithSecret); nil: the one kept in the database
	keys       *phoneKeys
	kids       map[int64]struct{} // PostgreSQL: registry children seen to exist (registryChildren)

	batchOnce sync.Once
	batch     *batcher
	// PostgreSQL: batches committed pipelined, those of them that found
	// the audit head moved, and those run again with savepoints (ADR 0036).
	pipelined, moved, again atomic.Int64
	// taxGen changes when this process publishes a taxonomy version: a
	// writer's version read at the end of its last batch then no longer
	// serves (ADR 0036).
	taxGen atomic.Int64
}

// WithSecret sets the secret from which the keys that protect callers'
// numbers are derived (DAYAQ_SECRET). Without it a random secret is made
// on first use and kept in the database, which protects nothing against
// someone holding a copy of the database: fine for a laptop demo, not for
// a deployment (ADR 0008).
func WithSecret(secret []byte) Option {
	return func(db *DB) {
		if len(secret) > 0 {
			db.hot.secret = secret
		}
	}
}

// phoneKeys are the two keys derived from the secret: one for the lookup
// hash, one to seal the number.
type phoneKeys struct {
	hash []byte
	seal cipher.AEAD
}

func derive(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("dayaq/" + purpose))
	return m.Sum(nil)
}

// phoneKeys returns the keys, deriving them once.
func (db *DB) phoneKeys(ctx context.Context) (*phoneKeys, error) {
	db.hot.mu.Lock()
	defer db.hot.mu.Unlock()
	if db.hot.keys != nil {
		return db.hot.keys, nil
	}
	secret := db.hot.secret
	if secret == nil {
		var err error
		if secret, err = db.storedSecret(ctx, "hotline"); err != nil {
			return nil, err
		}
	}
	block, err := aes.NewCipher(derive(secret, "hotline/phone-seal"))
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	db.hot.keys = &phoneKeys{hash: derive(secret, "hotline/phone-key"), seal: aead}
	return db.hot.keys, nil
}

// storedSecret reads the named random secret, making it on first use.
func (db *DB) storedSecret(ctx context.Context, name string) ([]byte, error) {
	var v string
	err := db.reader().queryRow(ctx, `SELECT value FROM app_secrets WHERE name = ?`, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		if err := db.inTx(ctx, func(c conn) error {
			_, err := c.exec(ctx, `INSERT INTO app_secrets (name, value, created_at) VALUES (?, ?, ?)
				ON CONFLICT (name) DO NOTHING`, name, hex.EncodeToString(b), c.now)
			return err
		}); err != nil {
			return nil, fmt.Errorf("storage: make secret: %w", err)
		}
		err = db.reader().queryRow(ctx, `SELECT value FROM app_secrets WHERE name = ?`, name).Scan(&v)
	}
	if err != nil {
		return nil, fmt.Errorf("storage: secret: %w", err)
	}
	return hex.DecodeString(v)
}

// seal encrypts a number for the database: base64 of nonce and ciphertext.
func (k *phoneKeys) sealPhone(number string) string {
	nonce := make([]byte, k.seal.NonceSize())
	_, _ = rand.Read(nonce)
	return base64.StdEncoding.EncodeToString(k.seal.Seal(nonce, nonce, []byte(number), []byte("phone")))
}

func (k *phoneKeys) openPhone(sealed string) (string, error) {
	b, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil || len(b) < k.seal.NonceSize() {
		return "", errors.New("storage: sealed number malformed")
	}
	n := k.seal.NonceSize()
	plain, err := k.seal.Open(nil, b[:n], b[n:], []byte("phone"))
	if err != nil {
		return "", fmt.Errorf("storage: open sealed number: %w", err)
	}
	return string(plain), nil
}

// seedTaxonomy publishes the seed as version 1 when no version exists.
// Migrate calls it; replicas racing here insert it once.
func (db *DB) seedTaxonomy(ctx context.Context) error {
	seed := taxonomy.Seed()
	b, err := json.Marshal(seed.Nodes)
	if err != nil {
		return err
	}
	return db.inTx(ctx, func(c conn) error {
		_, err := c.exec(ctx, `INSERT INTO taxonomy_versions (version, nodes, created_by, created_at)
			SELECT 1, ?, NULL, ? WHERE NOT EXISTS (SELECT 1 FROM taxonomy_versions)
			ON CONFLICT (version) DO NOTHING`, string(b), c.now)
		return err
	})
}

// Taxonomy returns the taxonomy's version (0: the current one).
func (db *DB) Taxonomy(ctx context.Context, version int) (t taxonomy.Taxonomy, err error) {
	defer apperr.Wrap(&err, "storage.Taxonomy(%d)", version)
	return db.taxonomyOn(ctx, db.reader(), version)
}

func (db *DB) taxonomyOn(ctx context.Context, c conn, version int) (taxonomy.Taxonomy, error) {
	if version == 0 {
		var err error
		if version, err = c.latestTaxonomyVersion(ctx); err != nil {
			return taxonomy.Taxonomy{}, err
		}
		if version == 0 {
			return taxonomy.Taxonomy{}, errors.New("no taxonomy: the database is not migrated")
		}
	}
	db.hot.mu.Lock()
	t, ok := db.hot.taxonomies[version]
	db.hot.mu.Unlock()
	if ok {
		return t, nil
	}
	var raw string
	err := c.queryRow(ctx, `SELECT nodes FROM taxonomy_versions WHERE version = ?`, version).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return taxonomy.Taxonomy{}, apperr.New(apperr.NotFound, "error.not_found")
	}
	if err != nil {
		return taxonomy.Taxonomy{}, err
	}
	t = taxonomy.Taxonomy{Version: version}
	if err := json.Unmarshal([]byte(raw), &t.Nodes); err != nil {
		return taxonomy.Taxonomy{}, fmt.Errorf("taxonomy version %d: %w", version, err)
	}
	db.hot.mu.Lock()
	if db.hot.taxonomies == nil {
		db.hot.taxonomies = map[int]taxonomy.Taxonomy{}
	}
	db.hot.taxonomies[version] = t
	db.hot.mu.Unlock()
	return t, nil
}

// placeholders returns "?, ?, ?" for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
