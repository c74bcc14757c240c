package server

import (
	"dayaq/internal/blob"
	"dayaq/internal/danis"
	"dayaq/internal/events"
)

// Option configures New.
type Option func(*config)

type config struct {
	vault        *blob.Vault
	spoolDir     string
	metricsApart bool
	gate         *danis.Gate
	fbGate       *events.FeedbackGate
	publicURL    string
	exportRows   int
}

// WithMetricsApart leaves /metrics off the main handler: the caller serves
// MetricsHandler on a listener of its own (serve --metrics-addr), so the
// metrics need not be public.
func WithMetricsApart() Option { return func(c *config) { c.metricsApart = true } }

// WithSpoolDir sets where roster uploads wait for their import (serve
// gives the data directory's "spool"); without it, the system temp
// directory.
func WithSpoolDir(dir string) Option { return func(c *config) { c.spoolDir = dir } }

// WithVault sets where case attachments' encrypted bytes are kept; without
// it, uploads and downloads answer that attachments are not configured.
func WithVault(v *blob.Vault) Option { return func(c *config) { c.vault = v } }

// WithDanisGate sets the limits of the children's channel ("Mənimlə
// danış"); without it, the defaults (danis.DefaultLimit a minute).
func WithDanisGate(g *danis.Gate) Option { return func(c *config) { c.gate = g } }

// WithFeedbackGate sets the limit on each parent event's anonymous
// feedback a minute (ADR 0031); without it, events.FeedbackPerMinute.
func WithFeedbackGate(g *events.FeedbackGate) Option { return func(c *config) { c.fbGate = g } }

// WithPublicURL sets the platform's public address (serve --public-url),
// which absolute links such as the feedback QR code use instead of the
// request's host.
func WithPublicURL(u string) Option { return func(c *config) { c.publicURL = u } }

// WithExportRowLimit sets the most rows an XLSX export is built for in the
// request; above it the export becomes a background job (Jobs). Without
// it, 50,000; tests set it low.
func WithExportRowLimit(n int) Option { return func(c *config) { c.exportRows = n } }
