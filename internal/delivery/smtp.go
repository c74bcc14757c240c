package delivery

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"strings"
	"time"

	"dayaq/internal/notify"
)

// StartTLS says when the SMTP sender upgrades the connection.
type StartTLS string

const (
	TLSAuto   StartTLS = "auto"   // when the server offers it (default)
	TLSAlways StartTLS = "always" // refuse to send without it
	TLSNever  StartTLS = "never"  // plain text, for a relay on the same host
)

// SMTPConfig configures the e-mail channel (DAYAQ_SMTP_* in the environment).
type SMTPConfig struct {
	Addr     string // host:port
	From     string // the sender address
	User     string // for AUTH PLAIN, "" for none
	Password string
	StartTLS StartTLS
	// TLSConfig overrides the TLS settings (tests trust their own certificate).
	TLSConfig *tls.Config
	Now       func() time.Time
}

// SMTP sends e-mail through one SMTP server, a connection per message.
type SMTP struct{ cfg SMTPConfig }

// NewSMTP checks cfg and returns the sender.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	if _, _, err := net.SplitHostPort(cfg.Addr); err != nil {
		return nil, fmt.Errorf("smtp: address %q: want host:port", cfg.Addr)
	}
	if _, err := mail.ParseAddress(cfg.From); err != nil {
		return nil, fmt.Errorf("smtp: sender %q: %w", cfg.From, err)
	}
	switch cfg.StartTLS {
	case "":
		cfg.StartTLS = TLSAuto
	case TLSAuto, TLSAlways, TLSNever:
	default:
		return nil, fmt.Errorf("smtp: STARTTLS %q: want auto, always or never", cfg.StartTLS)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &SMTP{cfg: cfg}, nil
}

// Send delivers e to one recipient.
func (s *SMTP) Send(ctx context.Context, e notify.Envelope) error {
	host, _, _ := net.SplitHostPort(s.cfg.Addr)
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("smtp: connect: %w", err)
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(time.Minute)
	}
	_ = conn.SetDeadline(deadline)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtp: greeting: %w", err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok && s.cfg.StartTLS != TLSNever {
		tc := s.cfg.TLSConfig
		if tc == nil {
			tc = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
		}
		if err := c.StartTLS(tc); err != nil {
			return fmt.Errorf("smtp: STARTTLS: %w", err)
		}
	} else if s.cfg.StartTLS == TLSAlways {
		return fmt.Errorf("smtp: the server does not offer STARTTLS, which DAYAQ_SMTP_STARTTLS=always requires")
	}
	if s.cfg.User != "" {
		if err := c.Auth(smtp.PlainAuth("", s.cfg.User, s.cfg.Password, host)); err != nil {
			return fmt.Errorf("smtp: auth: %w", err)
		}
	}
	from, _ := mail.ParseAddress(s.cfg.From)
	if err := c.Mail(from.Address); err != nil {
		return fmt.Errorf("smtp: MAIL FROM: %w", err)
	}
	if err := c.Rcpt(e.To); err != nil {
		return fmt.Errorf("smtp: RCPT TO: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp: DATA: %w", err)
	}
	if _, err := w.Write(s.message(from, e)); err != nil {
		return fmt.Errorf("smtp: write: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp: end of data: %w", err)
	}
	return c.Quit()
}

// message is the RFC 5322 message: UTF-8 text, quoted-printable, the
// subject encoded per RFC 2047.
func (s *SMTP) message(from *mail.Address, e notify.Envelope) []byte {
	var b bytes.Buffer
	id := make([]byte, 12)
	_, _ = rand.Read(id)
	domain := from.Address[strings.LastIndex(from.Address, "@")+1:]
	hdr := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	hdr("From", from.String())
	hdr("To", e.To)
	hdr("Subject", mime.QEncoding.Encode("utf-8", e.Subject))
	hdr("Date", s.cfg.Now().Format(time.RFC1123Z))
	hdr("Message-ID", "<"+hex.EncodeToString(id)+"@"+domain+">")
	hdr("Auto-Submitted", "auto-generated")
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", "text/plain; charset=utf-8")
	hdr("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	_, _ = qp.Write([]byte(strings.ReplaceAll(strings.ReplaceAll(e.Body, "\r\n", "\n"), "\n", "\r\n")))
	_ = qp.Close()
	return b.Bytes()
}
