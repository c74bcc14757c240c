package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"dayaq/internal/calendar"
	"dayaq/internal/delivery"
	"dayaq/internal/escalate"
	"dayaq/internal/jobs"
	"dayaq/internal/notify"
	"dayaq/internal/storage"
)

// Background job periods: how often, across all replicas, each job runs.
const (
	deliverEvery  = 10 * time.Second
	escalateEvery = time.Minute
	pruneEvery    = 6 * time.Hour
	foldEvery     = 30 * time.Second // the dashboards' count deltas into their totals (ADR 0032)
)

// deadlines reads DAYAQ_DEADLINES ("critical=1h/24h,high=1wd/5wd,…").
func (m *Main) deadlines() (calendar.Deadlines, error) {
	d, err := calendar.ParseDeadlines(m.Getenv("DAYAQ_DEADLINES"))
	if err != nil {
		return nil, m.badSetting("DAYAQ_DEADLINES: " + describe(m.l, err))
	}
	return d, nil
}

// badSetting prints a bad setting's message (main does not print usage
// errors) and returns it as a usage error.
func (m *Main) badSetting(msg string) error {
	fmt.Fprintln(m.Stderr, "dayaq:", msg)
	return usageError{msg}
}

// senders builds the channels configured in the environment: e-mail when
// DAYAQ_SMTP_ADDR is set, SMS when DAYAQ_SMS_URL is. A channel that is not
// configured keeps its messages queued.
func (m *Main) senders(now func() time.Time) (map[notify.Channel]delivery.Sender, error) {
	out := map[notify.Channel]delivery.Sender{}
	if addr := m.Getenv("DAYAQ_SMTP_ADDR"); addr != "" {
		s, err := delivery.NewSMTP(delivery.SMTPConfig{Addr: addr, From: m.Getenv("DAYAQ_SMTP_FROM"),
			User: m.Getenv("DAYAQ_SMTP_USER"), Password: m.Getenv("DAYAQ_SMTP_PASSWORD"),
			StartTLS: delivery.StartTLS(m.Getenv("DAYAQ_SMTP_STARTTLS")), Now: now})
		if err != nil {
			return nil, m.badSetting(err.Error())
		}
		out[notify.Email] = s
	}
	if u := m.Getenv("DAYAQ_SMS_URL"); u != "" {
		s, err := delivery.NewSMS(delivery.SMSConfig{URL: u, Token: m.Getenv("DAYAQ_SMS_TOKEN"), Sender: m.Getenv("DAYAQ_SMS_SENDER")})
		if err != nil {
			return nil, m.badSetting(err.Error())
		}
		out[notify.SMS] = s
	}
	return out, nil
}

// background builds the jobs `serve` runs: delivering the outbox and
// escalating work that falls due. baseURL makes the links in messages.
func (m *Main) background(db *storage.DB, log *slog.Logger, baseURL string, extra ...jobs.Job) (*jobs.Runner, error) {
	senders, err := m.senders(db.Now)
	if err != nil {
		return nil, err
	}
	w := delivery.NewWorker(db, delivery.Config{Senders: senders, Catalog: m.cat, BaseURL: baseURL, Log: log})
	esc := escalate.New(db, escalate.DefaultPolicy(), log)
	registerProviders(esc, db)
	js := []jobs.Job{
		{Name: "deliver", Every: deliverEvery, Run: func(ctx context.Context, now time.Time) error {
			_, _, err := w.Run(ctx, now)
			return err
		}},
		{Name: "escalate", Every: escalateEvery, Run: func(ctx context.Context, now time.Time) error {
			_, err := esc.Run(ctx, now)
			return err
		}},
		{Name: "prune_notifications", Every: pruneEvery, Run: func(ctx context.Context, _ time.Time) error {
			_, _, err := db.PruneNotifications(ctx)
			return err
		}},
		// "Mənimlə danış": conversations past the city's retention period go;
		// their contacts and classification stay.
		{Name: "prune_danis", Every: pruneEvery, Run: func(ctx context.Context, _ time.Time) error {
			_, err := db.PruneDanis(ctx)
			return err
		}},
		// The dashboards read totals plus deltas, exact either way; folding
		// keeps the deltas few, so the reads stay fast.
		{Name: "fold_stats", Every: foldEvery, Run: func(ctx context.Context, _ time.Time) error {
			_, err := db.FoldStats(ctx)
			return err
		}},
	}
	return jobs.New(db, db.Now, log, append(js, extra...)...), nil
}

// registerProviders registers what the escalator watches: each feature
// with deadlines (referrals, working-group action items, case deadlines)
// adds one line here.
func registerProviders(esc registrar, db *storage.DB) {
	esc.Register("referrals", escalate.ProviderFunc(db.ReferralsDue))
	esc.Register("action_items", escalate.ProviderFunc(db.ActionItemsDue))
	esc.Register("cases", escalate.ProviderFunc(db.CasesDue))
	esc.Register("register_reviews", escalate.ProviderFunc(db.RegisterReviewsDue))
	esc.Register("plan_reviews", escalate.ProviderFunc(db.PlanReviewsDue))
	esc.Register("plan_consents", escalate.ProviderFunc(db.PlanConsentsDue))
}

// registrar is what registerProviders needs of the escalator.
type registrar interface {
	Register(name string, p escalate.Provider)
}
