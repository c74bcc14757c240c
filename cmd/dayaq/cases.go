package main

import (
	"flag"
	"fmt"
	"log/slog"
	"path/filepath"

	"dayaq/internal/blob"
	"dayaq/internal/casework"
	"dayaq/internal/storage"
)

// caseFlags are the special cases' settings on serve.
type caseFlags struct {
	attachmentKey *string
	dataDir       *string
	deadlines     *string
}

func (m *Main) caseFlags(fs *flag.FlagSet) caseFlags {
	return caseFlags{
		attachmentKey: fs.String("attachment-key", m.Getenv("DAYAQ_ATTACHMENT_KEY"),
			"32-byte key (64 hex digits or base64) that encrypts case attachments (env DAYAQ_ATTACHMENT_KEY)"),
		dataDir: fs.String("data-dir", m.Getenv("DAYAQ_DATA_DIR"),
			"directory for attachments (encrypted) and, with --demo, the generated attachment key; default: beside the SQLite file, else ./data (env DAYAQ_DATA_DIR)"),
		deadlines: fs.String("case-deadlines", m.Getenv("DAYAQ_CASE_DEADLINES"),
			"case deadlines per severity, report/respond/resolve: \"critical=4h/4h/3d,high=24h/24h/10d\" (env DAYAQ_CASE_DEADLINES)"),
	}
}

// dir is where attachments live for the database dsn.
func (cf caseFlags) dir(dsn string) string {
	if *cf.dataDir != "" {
		return *cf.dataDir
	}
	if storage.EngineOf(dsn) == storage.SQLite {
		if dsn == "" {
			dsn = storage.DefaultPath
		}
		return filepath.Dir(dsn)
	}
	return "./data"
}

// storageOptions are the storage settings the flags give.
func (cf caseFlags) storageOptions(m *Main) ([]storage.Option, error) {
	d, err := casework.ParseDeadlines(*cf.deadlines)
	if err != nil {
		return nil, m.badSetting("--case-deadlines: " + describe(m.l, err))
	}
	return []storage.Option{storage.WithCaseDeadlines(d)}, nil
}

// vaultDir opens the attachment store: the configured key, or with --demo
// a key generated once and kept in the data directory. Without either,
// attachments are off (nil) and the server says so when one is uploaded.
// The directory store under the vault is returned too, for the orphan
// sweep.
func (cf caseFlags) vaultDir(dsn string, demo bool, log *slog.Logger) (*blob.Vault, *blob.Dir, error) {
	dir := cf.dir(dsn)
	var key []byte
	var err error
	switch {
	case *cf.attachmentKey != "":
		if key, err = blob.ParseKey(*cf.attachmentKey); err != nil {
			return nil, nil, usageError{err.Error()}
		}
	case demo:
		if key, err = blob.LoadOrCreateKeyFile(filepath.Join(dir, "attachment.key")); err != nil {
			return nil, nil, err
		}
		log.Warn("demo: attachments are encrypted with a key generated and kept in the data directory", "file", filepath.Join(dir, "attachment.key"))
	default:
		log.Warn("no attachment key: case attachments are off (set DAYAQ_ATTACHMENT_KEY or --attachment-key)")
		return nil, nil, nil
	}
	store, err := blob.NewDir(filepath.Join(dir, "attachments"))
	if err != nil {
		return nil, nil, err
	}
	v, err := blob.NewVault(store, key)
	if err != nil {
		return nil, nil, fmt.Errorf("attachments: %w", err)
	}
	return v, store, nil
}
