package delivery

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"dayaq/internal/notify"
)

// SMSConfig configures the SMS channel (DAYAQ_SMS_* in the environment).
type SMSConfig struct {
	URL    string // the gateway's endpoint
	Token  string // sent as "Authorization: Bearer <token>"
	Sender string // the sender name the gateway shows, "" for its default
	Client *http.Client
}

// SMS sends text messages through an HTTP gateway: one POST of
// {"to", "text", "sender"} as JSON per message; any 2xx answer is success.
type SMS struct{ cfg SMSConfig }

// NewSMS checks cfg and returns the sender.
func NewSMS(cfg SMSConfig) (*SMS, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("sms: gateway URL %q: want http(s)://host/path", cfg.URL)
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{}
	}
	return &SMS{cfg: cfg}, nil
}

// Send posts e's body to e.To.
func (s *SMS) Send(ctx context.Context, e notify.Envelope) error {
	body, err := json.Marshal(map[string]string{"to": e.To, "text": e.Body, "sender": s.cfg.Sender})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if s.cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+s.cfg.Token)
	}
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		return fmt.Errorf("sms: gateway: %w", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("sms: gateway answered %s: %s", resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}
