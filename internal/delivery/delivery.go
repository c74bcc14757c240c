// Package delivery sends the outbox: e-mail through SMTP, SMS through an
// HTTP gateway, each a channel behind one interface (Sender). The Worker
// claims due messages, renders them from their catalogue key and
// arguments in the recipient's language, sends them, and records each
// attempt; a failure is retried with exponential back-off, so a mail
// server that is down loses nothing.
package delivery

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"dayaq/internal/i18n"
	"dayaq/internal/notify"
	"dayaq/internal/storage"
)

// Sender delivers rendered messages by one channel.
type Sender interface {
	Send(ctx context.Context, e notify.Envelope) error
}

// Store is what the worker needs of storage.
type Store interface {
	ClaimOutbox(ctx context.Context, channels []notify.Channel, limit int, lease time.Duration) ([]storage.OutboxMessage, error)
	OutboxResult(ctx context.Context, id int64, sendErr error, retryAt time.Time) error
}

// Backoff is the wait before attempt n+1 after n failed attempts: 30 s,
// doubling, at most an hour.
func Backoff(n int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < n && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

// Config configures a Worker.
type Config struct {
	Senders     map[notify.Channel]Sender // the channels configured; others stay queued
	Catalog     *i18n.Catalog
	BaseURL     string // the platform's public address, for links in messages
	MaxAttempts int    // after this many failures a message is marked failed (default 40: about 1.5 days)
	Batch       int    // messages per run (default 50)
	Lease       time.Duration
	Log         *slog.Logger
}

// Worker sends the outbox.
type Worker struct {
	store Store
	cfg   Config
}

// NewWorker returns a worker over store.
func NewWorker(store Store, cfg Config) *Worker {
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 40
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 50
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 2 * time.Minute
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Worker{store: store, cfg: cfg}
}

// Channels are the channels the worker can send.
func (w *Worker) Channels() []notify.Channel {
	var chs []notify.Channel
	for _, ch := range notify.Channels() {
		if w.cfg.Senders[ch] != nil {
			chs = append(chs, ch)
		}
	}
	return chs
}

// Run sends what is due at now, batch after batch until none is left, and
// reports how many were sent and how many failed this time.
func (w *Worker) Run(ctx context.Context, now time.Time) (sent, failed int, err error) {
	chs := w.Channels()
	for {
		ms, err := w.store.ClaimOutbox(ctx, chs, w.cfg.Batch, w.cfg.Lease)
		if err != nil || len(ms) == 0 {
			return sent, failed, err
		}
		for _, m := range ms {
			serr := w.send(ctx, m)
			retry := time.Time{}
			if serr != nil {
				failed++
				if m.Attempts < w.cfg.MaxAttempts {
					retry = now.Add(Backoff(m.Attempts))
				}
				w.cfg.Log.WarnContext(ctx, "delivery failed", "outbox_id", m.ID, "channel", m.Channel, "attempt", m.Attempts, "err", serr)
			} else {
				sent++
			}
			if err := w.store.OutboxResult(ctx, m.ID, serr, retry); err != nil {
				return sent, failed, err
			}
		}
		if len(ms) < w.cfg.Batch {
			return sent, failed, nil
		}
	}
}

func (w *Worker) send(ctx context.Context, m storage.OutboxMessage) error {
	s := w.cfg.Senders[m.Channel]
	if s == nil {
		return fmt.Errorf("delivery: channel %s is not configured", m.Channel)
	}
	lang := m.Lang
	if !slices.Contains(i18n.Langs(), lang) {
		lang = i18n.Default
	}
	l := w.cfg.Catalog.For(lang)
	subject, body := notify.Render(l, m.Key, m.Args, m.Link, w.cfg.BaseURL)
	if m.Channel == notify.SMS {
		body = subject
		if m.Link != "" {
			body += " " + w.cfg.BaseURL + m.Link
		}
	}
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	return s.Send(sctx, notify.Envelope{To: m.Address, Subject: subject, Body: body})
}
