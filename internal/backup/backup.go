// Package backup takes, checks and restores Dayaq's backups: a consistent
// copy of the database (SQLite's VACUUM INTO, or pg_dump of an exported
// snapshot on PostgreSQL), the attachments' encrypted files, and a
// manifest with the time, the schema version, the audit chain's head, the
// rows per table and every file's checksum. The attachment key is never
// written into a backup (ADR 0028).
package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"dayaq/internal/apperr"
	"dayaq/internal/storage"
)

const (
	// Format names the layout of a backup directory.
	Format = "dayaq-backup/1"
	// ManifestName is the manifest's file in a backup directory.
	ManifestName = "manifest.json"
	// SQLiteFile and PGDumpFile are the database's copy in a backup.
	SQLiteFile = "dayaq.db"
	PGDumpFile = "dayaq.pgdump"
	// AttachmentsDir holds the attachments' encrypted files, as in the data directory.
	AttachmentsDir = "attachments"
	// DebianPGBin is where Debian keeps PostgreSQL 15's programs.
	DebianPGBin = "/usr/lib/postgresql/15/bin"
)

// File is one file of a backup: its path (slash-separated, relative to the
// backup directory), size and SHA-256.
type File struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Head is the audit chain's head as the manifest writes it.
type Head struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

// Manifest describes a backup.
type Manifest struct {
	Format        string           `json:"format"`
	CreatedAt     time.Time        `json:"created_at"`
	Engine        storage.Engine   `json:"engine"`
	SchemaVersion int64            `json:"schema_version"`
	AuditHead     Head             `json:"audit_head"`
	Rows          map[string]int64 `json:"rows"`
	Database      string           `json:"database"` // the file in Files that holds the database
	Files         []File           `json:"files"`
	AttachmentKey string           `json:"attachment_key"` // a note: where the key is (never the key)
}

// keyNote is the manifest's word on the attachment key.
const keyNote = "not in this backup: the attachments are encrypted with DAYAQ_ATTACHMENT_KEY, which must be kept apart " +
	"(a password manager or a secrets store); without it they cannot be opened"

// Config holds what the commands need besides their arguments.
type Config struct {
	PGBin string           // directory of pg_dump and pg_restore; "" finds them on PATH, else DebianPGBin
	Now   func() time.Time // the manifest's time
}

func (c Config) pgProgram(name string) string {
	if c.PGBin != "" {
		return filepath.Join(c.PGBin, name)
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	return filepath.Join(DebianPGBin, name)
}

// fail is an error for the operator: a catalogue key and its arguments.
func fail(key string, args ...any) error { return apperr.New(apperr.Invalid, key, args...) }

// Create backs up db (whose DSN is dsn) and the attachments under
// attachments ("" or a missing directory: none) into the directory to,
// which must not exist or be empty. The database is copied first, the
// attachments after it: a blob is on disk before its row commits, so every
// row in the copy finds its file.
func Create(ctx context.Context, db *storage.DB, dsn, attachments, to string, cfg Config) (m Manifest, err error) {
	if err := emptyDir(to); err != nil {
		return m, err
	}
	if err := os.MkdirAll(to, 0o700); err != nil {
		return m, err
	}
	now := time.Now
	if cfg.Now != nil {
		now = cfg.Now
	}
	m = Manifest{Format: Format, CreatedAt: now().UTC().Truncate(time.Second), Engine: db.Engine(), AttachmentKey: keyNote}
	var info storage.SnapshotInfo
	switch db.Engine() {
	case storage.SQLite:
		m.Database = SQLiteFile
		dest := filepath.Join(to, SQLiteFile)
		if err := db.VacuumInto(ctx, dest); err != nil {
			return m, err
		}
		if info, err = inspectSQLite(ctx, dest); err != nil {
			return m, err
		}
	case storage.Postgres:
		m.Database = PGDumpFile
		err = db.ExportSnapshot(ctx, func(snap string, i storage.SnapshotInfo) error {
			info = i
			out, err := exec.CommandContext(ctx, cfg.pgProgram("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
				"--snapshot="+snap, "--file="+filepath.Join(to, PGDumpFile), dsn).CombinedOutput()
			if err != nil {
				return fmt.Errorf("pg_dump: %w: %s", err, out)
			}
			return nil
		})
		if err != nil {
			return m, err
		}
	}
	m.SchemaVersion, m.AuditHead, m.Rows = info.SchemaVersion, Head(info.AuditHead), info.Rows
	if attachments != "" {
		if err := copyTree(attachments, filepath.Join(to, AttachmentsDir)); err != nil {
			return m, fmt.Errorf("backup: copy attachments: %w", err)
		}
	}
	if m.Files, err = checksums(to); err != nil {
		return m, err
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return m, err
	}
	if err := writeSynced(filepath.Join(to, ManifestName), append(b, '\n')); err != nil {
		return m, err
	}
	return m, syncDir(to)
}

// inspectSQLite opens the SQLite copy at path and reads what the manifest
// records. Opening leaves no -wal or -shm file behind.
func inspectSQLite(ctx context.Context, path string) (storage.SnapshotInfo, error) {
	db, err := storage.Open(ctx, path)
	if err != nil {
		return storage.SnapshotInfo{}, err
	}
	info, err := db.Info(ctx)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		_ = os.Remove(path + suffix)
	}
	return info, err
}

// ReadManifest reads the manifest of the backup in dir.
func ReadManifest(dir string) (Manifest, error) {
	var m Manifest
	b, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		return m, fail("ops.backup.error.no_manifest", dir)
	}
	if err := json.Unmarshal(b, &m); err != nil || m.Format != Format {
		return m, fail("ops.backup.error.bad_manifest", dir)
	}
	return m, nil
}

// Verify checks the backup in dir without restoring it: the manifest,
// every file's size and checksum, and that its schema is not newer than
// this build's. A SQLite backup is also opened (a temporary copy): its
// audit chain must verify, its head and rows match the manifest, and every
// attachment row's file be in the backup. A PostgreSQL dump must be
// readable by pg_restore; its chain is checked on restore.
func Verify(ctx context.Context, dir string, cfg Config) (Manifest, error) {
	m, err := ReadManifest(dir)
	if err != nil {
		return m, err
	}
	latest, err := storage.LatestSchemaVersion(m.Engine)
	if err != nil {
		return m, err
	}
	if m.SchemaVersion > latest {
		return m, fail("ops.backup.error.newer_schema", m.SchemaVersion, latest)
	}
	have := map[string]bool{}
	for _, f := range m.Files {
		if err := checkFile(dir, f); err != nil {
			return m, err
		}
		have[f.Path] = true
	}
	if !have[m.Database] {
		return m, fail("ops.backup.error.missing", m.Database)
	}
	switch m.Engine {
	case storage.SQLite:
		tmp, err := os.MkdirTemp("", "dayaq-verify-")
		if err != nil {
			return m, err
		}
		defer os.RemoveAll(tmp)
		copyPath := filepath.Join(tmp, SQLiteFile)
		if err := copyFile(filepath.Join(dir, SQLiteFile), copyPath); err != nil {
			return m, err
		}
		db, err := storage.Open(ctx, copyPath)
		if err != nil {
			return m, err
		}
		defer db.Close()
		if err := checkRestored(ctx, db, m, have); err != nil {
			return m, err
		}
	case storage.Postgres:
		if out, err := exec.CommandContext(ctx, cfg.pgProgram("pg_restore"), "--list", filepath.Join(dir, PGDumpFile)).CombinedOutput(); err != nil {
			return m, fmt.Errorf("pg_restore --list: %w: %s", err, out)
		}
	default:
		return m, fail("ops.backup.error.bad_manifest", dir)
	}
	return m, nil
}

// checkRestored checks a database made from backup m: its audit chain
// verifies, its head and rows are the manifest's, and every attachment
// row's file is among have (the backup's files).
func checkRestored(ctx context.Context, db *storage.DB, m Manifest, have map[string]bool) error {
	_, bad, reason, err := db.VerifyAudit(ctx)
	if err != nil {
		return err
	}
	if reason != "" {
		return fail("ops.backup.error.audit", bad, reason)
	}
	info, err := db.Info(ctx)
	if err != nil {
		return err
	}
	if Head(info.AuditHead) != m.AuditHead {
		return fail("ops.backup.error.head", m.AuditHead.Seq, info.AuditHead.Seq)
	}
	if info.SchemaVersion != m.SchemaVersion || !maps.Equal(info.Rows, m.Rows) {
		return fail("ops.backup.error.rows")
	}
	keys, err := db.BlobKeys(ctx)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if len(k) < 2 || !have[AttachmentsDir+"/"+k[:2]+"/"+k] {
			return fail("ops.backup.error.blob_missing", k)
		}
	}
	return nil
}

// Restore restores the backup in from into the database dsn, which must
// be empty (a SQLite file that does not exist yet, a PostgreSQL database
// with no tables), and its attachments into the directory attachments,
// which must not exist or be empty. It verifies the backup first and the
// restored database after (audit chain, head, rows), then brings the
// schema up to date when the backup's is older.
func Restore(ctx context.Context, from, dsn, attachments string, cfg Config) (Manifest, error) {
	m, err := Verify(ctx, from, cfg)
	if err != nil {
		return m, err
	}
	if storage.EngineOf(dsn) != m.Engine {
		return m, fail("ops.restore.error.engine", m.Engine, storage.EngineOf(dsn))
	}
	if err := emptyDir(attachments); err != nil {
		return m, err
	}
	switch m.Engine {
	case storage.SQLite:
		if dsn == "" {
			dsn = storage.DefaultPath
		}
		if _, err := os.Stat(dsn); !errors.Is(err, fs.ErrNotExist) {
			return m, fail("ops.restore.error.not_empty", dsn)
		}
		if err := os.MkdirAll(filepath.Dir(dsn), 0o750); err != nil {
			return m, err
		}
		if err := copyFile(filepath.Join(from, SQLiteFile), dsn); err != nil {
			return m, err
		}
	case storage.Postgres:
		db, err := storage.Open(ctx, dsn)
		if err != nil {
			return m, err
		}
		full, err := db.HasTables(ctx)
		db.Close()
		if err != nil {
			return m, err
		}
		if full {
			return m, fail("ops.restore.error.not_empty", redact(dsn))
		}
		if out, err := exec.CommandContext(ctx, cfg.pgProgram("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
			"--single-transaction", "--dbname="+dsn, filepath.Join(from, PGDumpFile)).CombinedOutput(); err != nil {
			return m, fmt.Errorf("pg_restore: %w: %s", err, out)
		}
	}
	have := map[string]bool{}
	for _, f := range m.Files {
		have[f.Path] = true
	}
	if _, err := os.Stat(filepath.Join(from, AttachmentsDir)); err == nil {
		if err := copyTree(filepath.Join(from, AttachmentsDir), attachments); err != nil {
			return m, fmt.Errorf("restore: copy attachments: %w", err)
		}
	}
	db, err := storage.Open(ctx, dsn)
	if err != nil {
		return m, err
	}
	defer db.Close()
	if err := checkRestored(ctx, db, m, have); err != nil {
		return m, err
	}
	if _, err := db.Migrate(ctx); err != nil {
		return m, err
	}
	return m, nil
}

// redact drops the password from a PostgreSQL URL for a message.
func redact(dsn string) string {
	if i := strings.Index(dsn, "@"); i >= 0 {
		if j := strings.Index(dsn, "://"); j >= 0 && j < i {
			return dsn[:j+3] + "…" + dsn[i:]
		}
	}
	return dsn
}

// emptyDir checks that dir does not exist or is empty.
func emptyDir(dir string) error {
	es, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(es) > 0 {
		return fail("ops.restore.error.not_empty", dir)
	}
	return nil
}

// copyTree copies the regular files under src into dst, keeping their
// relative paths and skipping the temporary files of uploads in flight,
// each synced, and the directories after them.
func copyTree(src, dst string) error {
	if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	var dirs []string
	err := filepath.WalkDir(src, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed meanwhile (an orphan swept)
			}
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if e.IsDir() {
			dirs = append(dirs, target)
			return os.MkdirAll(target, 0o700)
		}
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".tmp-") {
			return nil
		}
		err = copyFile(p, target)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	})
	if err != nil {
		return err
	}
	for _, d := range dirs {
		if err := syncDir(d); err != nil {
			return err
		}
	}
	return nil
}

// copyFile copies src to a new file dst and syncs it.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func writeSynced(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// checksums lists every file under dir with its size and SHA-256.
func checksums(dir string) ([]File, error) {
	var out []File
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		sum, size, err := hashFile(p)
		if err != nil {
			return err
		}
		out = append(out, File{Path: filepath.ToSlash(rel), Size: size, SHA256: sum})
		return nil
	})
	return out, err
}

func hashFile(p string) (string, int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// checkFile checks one file of a backup against the manifest.
func checkFile(dir string, f File) error {
	if strings.Contains(f.Path, "..") || filepath.IsAbs(f.Path) {
		return fail("ops.backup.error.bad_manifest", dir)
	}
	sum, size, err := hashFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
	if errors.Is(err, fs.ErrNotExist) {
		return fail("ops.backup.error.missing", f.Path)
	}
	if err != nil {
		return err
	}
	if sum != f.SHA256 || size != f.Size {
		return fail("ops.backup.error.checksum", f.Path)
	}
	return nil
}
