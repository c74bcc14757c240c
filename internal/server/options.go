package server

import "dayaq/internal/blob"

// Option configures New.
type Option func(*config)

type config struct {
	vault    *blob.Vault
	spoolDir string
}

// WithSpoolDir sets where roster uploads wait for their import (serve
// gives the data directory's "spool"); without it, the system temp
// directory.
func WithSpoolDir(dir string) Option { return func(c *config) { c.spoolDir = dir } }

// WithVault sets where case attachments' encrypted bytes are kept; without
// it, uploads and downloads answer that attachments are not configured.
func WithVault(v *blob.Vault) Option { return func(c *config) { c.vault = v } }
