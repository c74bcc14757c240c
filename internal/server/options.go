package server

import (
	"dayaq/internal/blob"
	"dayaq/internal/danis"
)

// Option configures New.
type Option func(*config)

type config struct {
	vault *blob.Vault
	gate  *danis.Gate
}

// WithVault sets where case attachments' encrypted bytes are kept; without
// it, uploads and downloads answer that attachments are not configured.
func WithVault(v *blob.Vault) Option { return func(c *config) { c.vault = v } }

// WithDanisGate sets the limits of the children's channel ("Mənimlə
// danış"); without it, the defaults (danis.DefaultLimit a minute).
func WithDanisGate(g *danis.Gate) Option { return func(c *config) { c.gate = g } }
