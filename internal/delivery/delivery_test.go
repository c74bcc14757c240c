package delivery_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/audit"
	"dayaq/internal/delivery"
	"dayaq/internal/i18n"
	"dayaq/internal/notify"
	"dayaq/internal/org"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

func TestMain(m *testing.M) { storagetest.Main(m) }

// mail is one message the test SMTP server received.
type mail struct {
	from, to string
	data     string
	tls      bool   // sent after STARTTLS
	auth     string // the AUTH PLAIN credentials, "user:password"
}

// smtpServer is a tiny SMTP server: enough of RFC 5321 for net/smtp
// (EHLO, MAIL, RCPT, DATA, QUIT), and with tlsConfig set STARTTLS and,
// after it, AUTH PLAIN.
type smtpServer struct {
	ln        net.Listener
	got       chan mail
	wg        sync.WaitGroup
	tlsConfig *tls.Config
}

func startSMTP(t *testing.T, addr string) *smtpServer {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{ln: ln, got: make(chan mail, 10)}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() { defer s.wg.Done(); s.serve(c) }()
		}
	}()
	t.Cleanup(s.stop)
	return s
}

func (s *smtpServer) stop() { s.ln.Close(); s.wg.Wait() }

func (s *smtpServer) serve(c net.Conn) {
	defer func() { c.Close() }()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	say := func(line string) { _, _ = io.WriteString(c, line+"\r\n") }
	say("220 test.example ESMTP")
	var m mail
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250-test.example")
			switch {
			case s.tlsConfig != nil && !m.tls:
				say("250-STARTTLS")
			case m.tls:
				say("250-AUTH PLAIN")
			}
			say("250 8BITMIME")
		case cmd == "STARTTLS" && s.tlsConfig != nil:
			say("220 go ahead")
			tc := tls.Server(c, s.tlsConfig)
			if err := tc.Handshake(); err != nil {
				return
			}
			c, r, m.tls = tc, bufio.NewReader(tc), true
		case strings.HasPrefix(cmd, "AUTH PLAIN "):
			b, _ := base64.StdEncoding.DecodeString(strings.TrimSpace(line[len("AUTH PLAIN "):]))
			parts := strings.Split(string(b), "\x00")
			if len(parts) != 3 {
				say("501 bad")
				continue
			}
			m.auth = parts[1] + ":" + parts[2]
			say("235 welcome")
		case strings.HasPrefix(cmd, "MAIL FROM:"):
			m.from = strings.TrimSpace(line[len("MAIL FROM:"):])
			say("250 OK")
		case strings.HasPrefix(cmd, "RCPT TO:"):
			m.to = strings.Trim(strings.TrimSpace(line[len("RCPT TO:"):]), "<>")
			say("250 OK")
		case cmd == "DATA":
			say("354 go ahead")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(strings.TrimPrefix(l, "."))
			}
			m.data = b.String()
			s.got <- m
			say("250 queued")
		case cmd == "RSET", cmd == "NOOP":
			say("250 OK")
		case cmd == "QUIT":
			say("221 bye")
			return
		default:
			say("502 not implemented")
		}
	}
}

type testClock struct{ ns atomic.Int64 }

func (c *testClock) Now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func (c *testClock) Add(d time.Duration) { c.ns.Add(int64(d)) }

// setup makes a database with one police officer, and a notification for
// them queued in the outbox.
func setup(t *testing.T, clk *testClock, phone string) (*storage.DB, int64) {
	t.Helper()
	ctx := context.Background()
	db := storagetest.Open(t, storagetest.SQLiteDSN(t), storage.WithClock(clk.Now))
	if _, err := db.ImportOrgs(ctx, []org.Org{{Code: "POL-BAK", Type: org.Police, NameAZ: "Bakı Şəhər Polis İdarəsi"}}); err != nil {
		t.Fatal(err)
	}
	u, err := db.CreateUser(ctx, audit.System(), storage.NewUser{Email: "officer@police.example.az", Name: "Test", OrgCode: "POL-BAK",
		Roles: []access.Role{access.AgencyOfficer}, PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	a := audit.Actor{Principal: access.Principal{UserID: u.ID}}
	if phone != "" {
		p, err := db.NotifyPrefsOf(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		p.Phone = phone
		p.Channels[notify.DeadlineOverdue][notify.SMS] = true
		if _, err := db.SaveNotifyPrefs(ctx, a, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Notify(ctx, notify.Must(notify.DeadlineOverdue, notify.User(u.ID), "notify.escalation.overdue", "/referrals/41",
		notify.Key("escalate.what.referral_ack"), notify.ID(41), notify.At(time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)))); err != nil {
		t.Fatal(err)
	}
	return db, u.ID
}

func pending(t *testing.T, db *storage.DB) []storage.OutboxMessage {
	t.Helper()
	ms, err := db.Outbox(context.Background(), storage.OutboxFilter{Status: "pending"})
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// A queued e-mail reaches a real SMTP server; while the server is down it
// stays queued, each attempt recorded, and goes out once it is back.
func TestEmailSurvivesAServerThatIsDown(t *testing.T) {
	ctx := context.Background()
	clk := &testClock{}
	clk.ns.Store(time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC).UnixNano())
	db, _ := setup(t, clk, "")

	// Find a free port, then leave it closed: the server is down.
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := probe.Addr().String()
	probe.Close()
	smtp, err := delivery.NewSMTP(delivery.SMTPConfig{Addr: addr, From: "Dayaq <dayaq@bsti.example.az>", Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	w := delivery.NewWorker(db, delivery.Config{Senders: map[notify.Channel]delivery.Sender{notify.Email: smtp},
		Catalog: i18n.MustLoad(), BaseURL: "https://dayaq.example.az"})

	for i := 1; i <= 2; i++ {
		sent, failed, err := w.Run(ctx, clk.Now())
		if err != nil || sent != 0 || failed != 1 {
			t.Fatalf("run %d with the server down: sent %d, failed %d, %v", i, sent, failed, err)
		}
		ms := pending(t, db)
		if len(ms) != 1 || ms[0].Attempts != i || ms[0].LastError == "" {
			t.Fatalf("after run %d: %+v", i, ms)
		}
		// Not retried before its back-off ends.
		if sent, failed, _ := w.Run(ctx, clk.Now()); sent+failed != 0 {
			t.Fatalf("retried before the back-off: %d, %d", sent, failed)
		}
		clk.Add(delivery.Backoff(i))
	}

	srv := startSMTP(t, addr) // the server is back
	sent, failed, err := w.Run(ctx, clk.Now())
	if err != nil || sent != 1 || failed != 0 {
		t.Fatalf("with the server back: sent %d, failed %d, %v", sent, failed, err)
	}
	var m mail
	select {
	case m = <-srv.got:
	case <-time.After(5 * time.Second):
		t.Fatal("the SMTP server received nothing")
	}
	if !strings.HasPrefix(m.from, "<dayaq@bsti.example.az>") || m.to != "officer@police.example.az" {
		t.Errorf("envelope from %q to %q", m.from, m.to)
	}
	head, body, _ := strings.Cut(m.data, "\r\n\r\n")
	var subject string
	for l := range strings.SplitSeq(head, "\r\n") {
		if v, ok := strings.CutPrefix(l, "Subject: "); ok {
			subject, _ = new(mime.WordDecoder).DecodeHeader(v)
		}
	}
	plain, _ := io.ReadAll(quotedprintable.NewReader(strings.NewReader(body)))
	if want := "Göndərişin qəbulu #41 gecikib: son müddət 2026-03-10 16:00 idi."; subject != want {
		t.Errorf("subject %q, want %q", subject, want)
	}
	if !strings.Contains(string(plain), "https://dayaq.example.az/referrals/41") {
		t.Errorf("body lacks the link:\n%s", plain)
	}
	if len(pending(t, db)) != 0 {
		t.Error("still pending after delivery")
	}
	sentMs, _ := db.Outbox(ctx, storage.OutboxFilter{Status: "sent"})
	if len(sentMs) != 1 {
		t.Fatalf("sent: %+v", sentMs)
	}
	if total, failedN, _ := db.OutboxAttempts(ctx, sentMs[0].ID); total != 3 || failedN != 2 {
		t.Errorf("attempts %d (%d failed), want 3 (2)", total, failedN)
	}
}

// selfSigned returns a server certificate for 127.0.0.1 and a client
// configuration that trusts it.
func selfSigned(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
}

// With STARTTLS offered the sender upgrades, then signs in with AUTH PLAIN
// (which net/smtp refuses to send in clear text).
func TestSMTPStartTLSAndAuth(t *testing.T) {
	serverTLS, clientTLS := selfSigned(t)
	srv := &smtpServer{got: make(chan mail, 1), tlsConfig: serverTLS}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.ln = ln
	srv.wg.Add(1)
	go func() {
		defer srv.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			srv.wg.Add(1)
			go func() { defer srv.wg.Done(); srv.serve(c) }()
		}
	}()
	t.Cleanup(srv.stop)
	s, err := delivery.NewSMTP(delivery.SMTPConfig{Addr: ln.Addr().String(), From: "dayaq@bsti.example.az",
		User: "dayaq", Password: "s3cret", StartTLS: delivery.TLSAlways, TLSConfig: clientTLS})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), notify.Envelope{To: "officer@police.example.az", Subject: "Gecikib", Body: "Bax."}); err != nil {
		t.Fatal(err)
	}
	m := <-srv.got
	if !m.tls || m.auth != "dayaq:s3cret" || !strings.Contains(m.data, "Subject: Gecikib") {
		t.Errorf("received %+v", m)
	}
}

func TestSMTPRequiresTLSWhenAsked(t *testing.T) {
	srv := startSMTP(t, "127.0.0.1:0")
	s, err := delivery.NewSMTP(delivery.SMTPConfig{Addr: srv.ln.Addr().String(), From: "dayaq@bsti.example.az", StartTLS: delivery.TLSAlways})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), notify.Envelope{To: "x@example.az", Subject: "s", Body: "b"}); err == nil ||
		!strings.Contains(err.Error(), "STARTTLS") {
		t.Errorf("sending without STARTTLS when it is required: %v", err)
	}
	for _, bad := range []delivery.SMTPConfig{{Addr: "nohost", From: "a@b.az"}, {Addr: "h:25", From: "not an address"},
		{Addr: "h:25", From: "a@b.az", StartTLS: "sometimes"}} {
		if _, err := delivery.NewSMTP(bad); err == nil {
			t.Errorf("NewSMTP(%+v) accepted", bad)
		}
	}
}

// SMS goes to the gateway as JSON with the token; a gateway error keeps
// the message queued for the next attempt.
func TestSMSGateway(t *testing.T) {
	ctx := context.Background()
	clk := &testClock{}
	clk.ns.Store(time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC).UnixNano())
	db, _ := setup(t, clk, "+994 50 123 45 67")
	var calls atomic.Int32
	got := make(chan map[string]string, 5)
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer s3cret" || r.Method != http.MethodPost {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		if calls.Add(1) == 1 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		var body map[string]string
		_ = json.NewDecoder(r.Body).Decode(&body)
		got <- body
		w.WriteHeader(http.StatusAccepted)
	}))
	defer gw.Close()
	sms, err := delivery.NewSMS(delivery.SMSConfig{URL: gw.URL + "/send", Token: "s3cret", Sender: "Dayaq"})
	if err != nil {
		t.Fatal(err)
	}
	// Only SMS is configured: the e-mail stays queued, untouched.
	w := delivery.NewWorker(db, delivery.Config{Senders: map[notify.Channel]delivery.Sender{notify.SMS: sms},
		Catalog: i18n.MustLoad(), BaseURL: "https://dayaq.example.az"})
	if sent, failed, err := w.Run(ctx, clk.Now()); sent != 0 || failed != 1 || err != nil {
		t.Fatalf("gateway busy: sent %d failed %d %v", sent, failed, err)
	}
	clk.Add(delivery.Backoff(1))
	if sent, failed, err := w.Run(ctx, clk.Now()); sent != 1 || failed != 0 || err != nil {
		t.Fatalf("gateway back: sent %d failed %d %v", sent, failed, err)
	}
	body := <-got
	if body["to"] != "+994501234567" || body["sender"] != "Dayaq" || !strings.Contains(body["text"], "#41") ||
		!strings.HasSuffix(body["text"], "https://dayaq.example.az/referrals/41") {
		t.Errorf("gateway got %v", body)
	}
	ms := pending(t, db)
	if len(ms) != 1 || ms[0].Channel != notify.Email || ms[0].Attempts != 0 {
		t.Errorf("pending: %+v, want the e-mail, never tried", ms)
	}
	if _, err := delivery.NewSMS(delivery.SMSConfig{URL: "ftp://x"}); err == nil {
		t.Error("an ftp gateway accepted")
	}
}

func TestBackoff(t *testing.T) {
	for n, want := range map[int]time.Duration{1: 30 * time.Second, 2: time.Minute, 3: 2 * time.Minute, 7: 32 * time.Minute,
		8: time.Hour, 40: time.Hour} {
		if got := delivery.Backoff(n); got != want {
			t.Errorf("Backoff(%d) = %s, want %s", n, got, want)
		}
	}
}
