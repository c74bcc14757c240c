package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestProbes checks the operational endpoints over plain HTTP. It needs no
// browser.
func TestProbes(t *testing.T) {
	client := &http.Client{Timeout: 10 * time.Second}
	// The order matters: /metrics counts requests only after they were
	// answered, so the probes above it make dayaq_http_requests_total appear.
	tests := []struct {
		path  string
		check func(body []byte) error
	}{
		{"/healthz", func(body []byte) error {
			if got := strings.TrimSpace(string(body)); got != "ok" {
				return fmt.Errorf("body = %q, want \"ok\"", got)
			}
			return nil
		}},
		{"/readyz", nil},
		{"/metrics", func(body []byte) error {
			if !bytes.Contains(body, []byte("dayaq_http_requests_total")) {
				return fmt.Errorf("no dayaq_http_requests_total in the metrics:\n%s", body)
			}
			return nil
		}},
		{"/api/v1/openapi.json", func(body []byte) error {
			var doc struct {
				OpenAPI string `json:"openapi"`
			}
			if err := json.Unmarshal(body, &doc); err != nil {
				return fmt.Errorf("not JSON: %v", err)
			}
			if doc.OpenAPI != "3.1.0" {
				return fmt.Errorf(`"openapi" = %q, want "3.1.0"`, doc.OpenAPI)
			}
			return nil
		}},
	}
	for _, tt := range tests {
		resp, err := client.Get(baseURL + tt.path)
		if err != nil {
			t.Errorf("GET %s: %v", tt.path, err)
			continue
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Errorf("GET %s: read body: %v", tt.path, err)
			continue
		}
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: status %d, want 200; body:\n%s", tt.path, resp.StatusCode, body)
			continue
		}
		if tt.check != nil {
			if err := tt.check(body); err != nil {
				t.Errorf("GET %s: %v", tt.path, err)
			}
		}
	}
}
