package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"dayaq/internal/notify"
	"dayaq/internal/storage"
)

const notifyUsage = "Usage: dayaq notify test --to ADDRESS [--sms]\n" +
	"       dayaq notify outbox [--db DB] [--status pending|sent|failed] [--limit N]\n\n" +
	"test    send a test message now through the channel configured in the environment\n" +
	"        (DAYAQ_SMTP_*, or DAYAQ_SMS_* with --sms), to check the settings.\n" +
	"outbox  list the newest queued e-mails and SMS with their status and attempts."

// notifyCmd checks the notification channels and shows the outbox.
func (m *Main) notifyCmd(ctx context.Context, args []string) error {
	if len(args) == 0 || (args[0] != "test" && args[0] != "outbox") {
		fmt.Fprintln(m.Stderr, notifyUsage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			return nil
		}
		return usageError{"notify: want a subcommand: test or outbox"}
	}
	if args[0] == "test" {
		return m.notifyTest(ctx, args[1:])
	}
	return m.notifyOutbox(ctx, args[1:])
}

func (m *Main) notifyTest(ctx context.Context, args []string) error {
	fs := m.flags("notify test", "notify test --to ADDRESS [--sms]")
	to := fs.String("to", "", "the e-mail address (or with --sms the phone number) to send to")
	sms := fs.Bool("sms", false, "send an SMS through the gateway instead of an e-mail")
	if err := parse(fs, args); err != nil {
		return err
	}
	ch, setting := notify.Email, "DAYAQ_SMTP_ADDR"
	if *sms {
		ch, setting = notify.SMS, "DAYAQ_SMS_URL"
	}
	addr := strings.TrimSpace(*to)
	if ch == notify.SMS {
		addr = storage.NormalizePhone(addr)
	}
	if addr == "" {
		fs.Usage()
		return usageError{"notify test: --to is required"}
	}
	senders, err := m.senders(time.Now)
	if err != nil {
		return err
	}
	s := senders[ch]
	if s == nil {
		return m.badSetting(m.l.T("cli.notify_not_configured", string(ch), setting))
	}
	subject, body := notify.Render(m.l, "notify.test", nil, "", "")
	if ch == notify.SMS {
		body = subject
	}
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := s.Send(sctx, notify.Envelope{To: addr, Subject: subject, Body: body}); err != nil {
		return fmt.Errorf("%s: %w", m.l.T("cli.notify_failed", string(ch)), err)
	}
	fmt.Fprintln(m.Stdout, m.l.T("cli.notify_sent", addr, string(ch)))
	return nil
}

func (m *Main) notifyOutbox(ctx context.Context, args []string) error {
	fs := m.flags("notify outbox", "notify outbox [--db DB] [--status pending|sent|failed] [--limit N]")
	dsn := m.dbFlag(fs)
	status := fs.String("status", "", "only messages with this status: pending, sent or failed")
	limit := fs.Int("limit", 50, "how many of the newest messages to list")
	if err := parse(fs, args); err != nil {
		return err
	}
	switch *status {
	case "", "pending", "sent", "failed":
	default:
		return m.badSetting("notify outbox: --status must be pending, sent or failed")
	}
	db, err := openDB(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	ms, err := db.Outbox(ctx, storage.OutboxFilter{Status: *status, Limit: *limit})
	if err != nil {
		return err
	}
	if len(ms) == 0 {
		fmt.Fprintln(m.Stdout, m.l.T("cli.notify_outbox_empty"))
		return nil
	}
	for _, o := range ms {
		fmt.Fprintf(m.Stdout, "%d\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", o.ID, o.CreatedAt.UTC().Format(time.RFC3339), o.Channel, o.Status,
			o.Attempts, o.Address, o.Kind, o.LastError)
	}
	return nil
}
