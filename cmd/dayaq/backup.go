package main

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"

	"dayaq/internal/apperr"
	"dayaq/internal/backup"
	"dayaq/internal/storage"
)

// dataDirFlag adds --data-dir: where the attachments live (the directory
// that holds attachments/), as serve has it.
func (m *Main) dataDirFlag(fs *flag.FlagSet) *string {
	return fs.String("data-dir", m.Getenv("DAYAQ_DATA_DIR"),
		"directory that holds attachments/ (env DAYAQ_DATA_DIR); default: beside the SQLite file, else ./data")
}

// attachmentsDir is the attachments' directory for dsn and --data-dir.
func attachmentsDir(dsn, dataDir string) string {
	return filepath.Join(caseFlags{dataDir: &dataDir}.dir(dsn), "attachments")
}

func (m *Main) backupConfig() backup.Config {
	return backup.Config{PGBin: m.Getenv("DAYAQ_PG_BIN")}
}

// opsFailure turns a backup or restore error into the operator's message.
func (m *Main) opsFailure(err error) error {
	if apperr.CodeOf(err) == apperr.Invalid {
		return exitError{code: 1, err: fmt.Errorf("%s", describe(m.l, err))}
	}
	return err
}

func (m *Main) backupCmd(ctx context.Context, args []string) error {
	fs := m.flags("backup", "backup [--db DB] [--data-dir DIR] --to DIR | backup --verify DIR\n\n"+
		"Copies the database (SQLite: VACUUM INTO; PostgreSQL: pg_dump of one snapshot) while the server runs,\n"+
		"then the attachments' encrypted files, and writes manifest.json (time, schema version, audit head, rows,\n"+
		"checksums). The attachment key is never copied. --verify checks a backup without restoring it.")
	dsn := m.dbFlag(fs)
	dataDir := m.dataDirFlag(fs)
	to := fs.String("to", "", "directory to write the backup into (must not exist or be empty)")
	verify := fs.String("verify", "", "check the backup in this directory instead of taking one")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 || (*to == "") == (*verify == "") {
		fs.Usage()
		return usageError{"backup: give --to DIR, or --verify DIR"}
	}
	if *verify != "" {
		man, err := backup.Verify(ctx, *verify, m.backupConfig())
		if err != nil {
			return m.opsFailure(err)
		}
		fmt.Fprintln(m.Stdout, m.l.T("ops.backup.verified", *verify, man.Engine, man.SchemaVersion, man.AuditHead.Seq, len(man.Files)))
		return nil
	}
	db, err := storage.Open(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	man, err := backup.Create(ctx, db, *dsn, attachmentsDir(*dsn, *dataDir), *to, m.backupConfig())
	if err != nil {
		return m.opsFailure(err)
	}
	fmt.Fprintln(m.Stdout, m.l.T("ops.backup.done", *to, man.Engine, man.SchemaVersion, man.AuditHead.Seq, len(man.Files)))
	fmt.Fprintln(m.Stdout, m.l.T("ops.backup.key_note"))
	return nil
}

func (m *Main) restoreCmd(ctx context.Context, args []string) error {
	fs := m.flags("restore", "restore --from DIR --db DB [--data-dir DIR]\n\n"+
		"Restores a backup into an empty database (a SQLite file that does not exist yet, or a PostgreSQL\n"+
		"database with no tables) and its attachments into an empty data directory; checks the checksums, the\n"+
		"audit chain and the rows against the manifest, refuses a backup from a newer schema.")
	dsn := m.dbFlag(fs)
	dataDir := m.dataDirFlag(fs)
	from := fs.String("from", "", "the backup's directory")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 || *from == "" {
		fs.Usage()
		return usageError{"restore: --from DIR is required"}
	}
	man, err := backup.Restore(ctx, *from, *dsn, attachmentsDir(*dsn, *dataDir), m.backupConfig())
	if err != nil {
		return m.opsFailure(err)
	}
	fmt.Fprintln(m.Stdout, m.l.T("ops.restore.done", *from, man.SchemaVersion, man.AuditHead.Seq))
	fmt.Fprintln(m.Stdout, m.l.T("ops.backup.key_note"))
	return nil
}
