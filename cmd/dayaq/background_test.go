package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/audit"
	"dayaq/internal/escalate"
	"dayaq/internal/notify"
	"dayaq/internal/org"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// miniSMTP accepts one message at a time and sends its DATA to got.
func miniSMTP(t *testing.T) (addr string, got chan string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	got = make(chan string, 5)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				say := func(s string) { _, _ = io.WriteString(c, s+"\r\n") }
				say("220 mini ESMTP")
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					switch cmd := strings.ToUpper(strings.TrimSpace(line)); {
					case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
						say("250 mini")
					case cmd == "DATA":
						say("354 go ahead")
						var b strings.Builder
						for {
							l, err := r.ReadString('\n')
							if err != nil || l == ".\r\n" {
								break
							}
							b.WriteString(l)
						}
						got <- b.String()
						say("250 queued")
					case cmd == "QUIT":
						say("221 bye")
						return
					default:
						say("250 OK")
					}
				}
			}()
		}
	}()
	return ln.Addr().String(), got
}

// serve delivers what is queued: a notification queued before the server
// starts reaches the SMTP server named in the environment.
func TestServeDeliversQueuedMail(t *testing.T) {
	ctx := context.Background()
	dsn := tempDB(t)
	db := storagetest.Open(t, dsn)
	if _, err := db.ImportOrgs(ctx, []org.Org{{Code: "POL-BAK", Type: org.Police, NameAZ: "Bakı Şəhər Polis İdarəsi"}}); err != nil {
		t.Fatal(err)
	}
	u, err := db.CreateUser(ctx, audit.System(), storage.NewUser{Email: "officer@police.example.az", Name: "Test", OrgCode: "POL-BAK",
		Roles: []access.Role{access.AgencyOfficer}, PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Notify(ctx, notify.Must(notify.CaseAssigned, notify.User(u.ID), "notify.escalation.overdue", "/cases/9",
		notify.Key("escalate.what.case_deadline"), notify.ID(9), notify.At(time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)))); err != nil {
		t.Fatal(err)
	}
	db.Close()

	addr, got := miniSMTP(t)
	e := english()
	e["DAYAQ_SMTP_ADDR"], e["DAYAQ_SMTP_FROM"], e["DAYAQ_BASE_URL"] = addr, "dayaq@bsti.example.az", "https://dayaq.example.az/"
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan result, 1)
	go func() { done <- run(sctx, e, "serve", "--addr", "127.0.0.1:0", "--db", dsn) }()
	select {
	case msg := <-got:
		if !strings.Contains(msg, "To: officer@police.example.az") || !strings.Contains(msg, "https://dayaq.example.az/cases/9") {
			t.Errorf("mail:\n%s", msg)
		}
	case r := <-done:
		t.Fatalf("serve returned: %v\n%s", r.err, r.stderr)
	case <-time.After(30 * time.Second):
		t.Fatal("no mail within 30 s")
	}
	cancel()
	select {
	case r := <-done:
		if r.err != nil {
			t.Errorf("serve: %v", r.err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
}

func TestServeRefusesBadNotificationSettings(t *testing.T) {
	for name, set := range map[string]env{
		"deadlines": {"DAYAQ_DEADLINES": "high=soon"},
		"smtp":      {"DAYAQ_SMTP_ADDR": "mail.example.az", "DAYAQ_SMTP_FROM": "dayaq@bsti.example.az"},
		"sms":       {"DAYAQ_SMS_URL": "ftp://sms.example.az"},
	} {
		t.Run(name, func(t *testing.T) {
			e := english()
			for k, v := range set {
				e[k] = v
			}
			r := run(context.Background(), e, "serve", "--addr", "127.0.0.1:0", "--db", tempDB(t))
			if exitCode(r.err) != 2 || !strings.Contains(r.stderr, "dayaq: ") {
				t.Errorf("err %v (exit %d), stderr %q; want a usage error, said", r.err, exitCode(r.err), r.stderr)
			}
		})
	}
}

func TestNotifyCommand(t *testing.T) {
	addr, got := miniSMTP(t)
	e := english()
	e["DAYAQ_SMTP_ADDR"], e["DAYAQ_SMTP_FROM"] = addr, "dayaq@bsti.example.az"
	r := run(context.Background(), e, "notify", "test", "--to", "ops@bsti.example.az")
	if r.err != nil || !strings.Contains(r.stdout, "A test message went to ops@bsti.example.az (email).") {
		t.Fatalf("notify test: %v %q %q", r.err, r.stdout, r.stderr)
	}
	if msg := <-got; !strings.Contains(msg, "To: ops@bsti.example.az") {
		t.Errorf("mail:\n%s", msg)
	}
	if r := run(context.Background(), english(), "notify", "test", "--sms", "--to", "+994501234567"); exitCode(r.err) != 2 ||
		!strings.Contains(r.stderr, "DAYAQ_SMS_URL") {
		t.Errorf("SMS not configured: %v %q", r.err, r.stderr)
	}
	if r := run(context.Background(), english(), "notify"); exitCode(r.err) != 2 || !strings.Contains(r.stderr, "notify outbox") {
		t.Errorf("no subcommand: %v %q", r.err, r.stderr)
	}

	dsn := tempDB(t)
	db := storagetest.Open(t, dsn)
	if err := db.Notify(context.Background(), notify.Must(notify.CriticalAlert, notify.Address(notify.Email, "duty@police.example.az"),
		"notify.test", "/hotline/7")); err != nil {
		t.Fatal(err)
	}
	r = run(context.Background(), english(), "notify", "outbox", "--db", dsn, "--status", "pending")
	if r.err != nil || !strings.Contains(r.stdout, "\temail\tpending\t0\tduty@police.example.az\tcritical_alert\t") {
		t.Errorf("notify outbox: %v %q", r.err, r.stdout)
	}
	if r := run(context.Background(), english(), "notify", "outbox", "--db", dsn, "--status", "sent"); r.err != nil ||
		!strings.Contains(r.stdout, "No messages in the outbox.") {
		t.Errorf("notify outbox --status sent: %v %q", r.err, r.stdout)
	}
}

// providers records what registerProviders registers.
type providers map[string]escalate.Provider

func (p providers) Register(name string, pr escalate.Provider) { p[name] = pr }

// Every feature with deadlines that ADR 0011 names is watched by the
// escalator serve runs: referrals, action items and case deadlines.
func TestRegisterProvidersWatchesEveryDeadline(t *testing.T) {
	db := storagetest.Open(t, tempDB(t))
	got := providers{}
	registerProviders(got, db)
	for _, name := range []string{"referrals", "action_items", "cases"} {
		p, ok := got[name]
		if !ok {
			t.Errorf("no %s provider registered", name)
			continue
		}
		if _, err := p.DueItems(context.Background(), time.Now()); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
