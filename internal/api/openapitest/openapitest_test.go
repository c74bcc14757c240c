package openapitest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The document is valid OpenAPI 3.1, and the checker catches a response
// the document does not allow: an undocumented status, a body of the wrong
// shape.
func TestCheckerCatchesDrift(t *testing.T) {
	d, err := Document()
	if err != nil {
		t.Fatal(err)
	}
	if !d.IsOpenAPI31OrLater() {
		t.Fatalf("openapi %q, want 3.1", d.OpenAPI)
	}
	for name, tt := range map[string]struct {
		status int
		body   string
		bad    bool
	}{
		"documented":   {200, `{"items":[]}`, false},
		"undocumented": {418, `{}`, true},
		"wrong shape":  {200, `{"items":"none"}`, true},
	} {
		t.Run(name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			rec.Header().Set("Content-Type", "application/json")
			rec.WriteHeader(tt.status)
			rec.WriteString(tt.body)
			msg := check(httptest.NewRequest(http.MethodGet, "/api/v1/districts", nil), rec)
			if (msg != "") != tt.bad {
				t.Errorf("check = %q, want bad=%v", msg, tt.bad)
			}
			if tt.bad && !strings.Contains(msg, "/api/v1/districts") {
				t.Errorf("message does not name the route: %q", msg)
			}
		})
	}
}
