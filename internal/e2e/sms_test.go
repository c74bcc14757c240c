package e2e

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// smsCapture is a test SMS gateway: it answers the server's SMS posts
// (delivery.SMS: {"to", "text", "sender"}) and keeps them for the tests.
type smsCapture struct {
	srv  *httptest.Server
	mu   sync.Mutex
	msgs []smsMessage
}

type smsMessage struct {
	To, Text string
}

func newSMSCapture() *smsCapture {
	c := &smsCapture{}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m struct {
			To   string `json:"to"`
			Text string `json:"text"`
		}
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			http.Error(w, "bad json", http.StatusBadRequest)
			return
		}
		c.mu.Lock()
		c.msgs = append(c.msgs, smsMessage{m.To, m.Text})
		c.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	return c
}

func (c *smsCapture) url() string { return c.srv.URL + "/send" }

// wait returns the first SMS to to whose text contains want, waiting up to
// timeout (the outbox is delivered every 10 s).
func (c *smsCapture) wait(t *testing.T, to, want string, after int, timeout time.Duration) (smsMessage, int) {
	t.Helper()
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		c.mu.Lock()
		for i := after; i < len(c.msgs); i++ {
			if m := c.msgs[i]; m.To == to && strings.Contains(m.Text, want) {
				c.mu.Unlock()
				return m, i + 1
			}
		}
		c.mu.Unlock()
	}
	t.Fatalf("no SMS to %s with %q within %s", to, want, timeout)
	return smsMessage{}, after
}
