package server

import "dayaq/internal/blob"

// Option configures New.
type Option func(*config)

type config struct {
	vault *blob.Vault
}

// WithVault sets where case attachments' encrypted bytes are kept; without
// it, uploads and downloads answer that attachments are not configured.
func WithVault(v *blob.Vault) Option { return func(c *config) { c.vault = v } }
