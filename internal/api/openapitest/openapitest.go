// Package openapitest checks API responses against the OpenAPI document in
// tests: the document must be valid OpenAPI 3.1, and every response the
// test suites produce under /api/v1 must have a documented status and a
// body valid against the documented schema. Only tests import it, so the
// validator (kin-openapi) is not linked into the binary.
package openapitest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"dayaq/internal/api"
	"dayaq/internal/i18n"
)

var (
	once   sync.Once
	doc    *openapi3.T
	router routers.Router
	docErr error
)

// Document returns the API's merged OpenAPI document, loaded and validated
// as OpenAPI 3.1.
func Document() (*openapi3.T, error) {
	once.Do(func() {
		mux := http.NewServeMux()
		api.New(nil, i18n.MustLoad(), slog.New(slog.DiscardHandler)).Register(mux)
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, api.Prefix+"/openapi.json", nil))
		l := openapi3.NewLoader()
		if doc, docErr = l.LoadFromData(w.Body.Bytes()); docErr != nil {
			return
		}
		if docErr = doc.Validate(context.Background()); docErr != nil {
			return
		}
		router, docErr = gorillamux.NewRouter(doc)
	})
	return doc, docErr
}

var (
	mu       sync.Mutex
	failures = map[string]bool{}
)

// Report prints what the responses checked so far did wrong, once each,
// and reports whether they were all right; a package's TestMain calls it
// after the run (storagetest.Main(m, openapitest.Report)).
func Report() bool {
	mu.Lock()
	defer mu.Unlock()
	if _, err := Document(); err != nil {
		fmt.Fprintln(os.Stderr, "OpenAPI document:", err)
		return false
	}
	fs := slices.Sorted(maps.Keys(failures))
	for _, f := range fs {
		fmt.Fprintln(os.Stderr, f)
	}
	if len(fs) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: %d API responses do not match the OpenAPI document\n", len(fs))
	}
	return len(fs) == 0
}

// Wrap returns h checking every response to an /api/v1 request against the
// document (Report tells). A request to a path the document does not know
// is let through when it answers 404 or 405 (tests ask for unknown paths
// on purpose).
func Wrap(h http.Handler) http.Handler {
	if _, err := Document(); err != nil {
		return h // Report fails the run
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, api.Prefix+"/") {
			h.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if msg := check(r, rec); msg != "" {
			mu.Lock()
			failures[msg] = true
			mu.Unlock()
		}
		for k, vs := range rec.Header() {
			w.Header()[k] = vs
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	})
}

// check returns what is wrong with the response rec to r, or "".
func check(r *http.Request, rec *httptest.ResponseRecorder) string {
	req := r.Clone(context.Background())
	req.Body = http.NoBody
	route, params, err := router.FindRoute(req)
	if err != nil {
		if rec.Code != http.StatusNotFound && rec.Code != http.StatusMethodNotAllowed {
			return fmt.Sprintf("OpenAPI: %s %s answered %d but is not documented: %v", r.Method, r.URL.Path, rec.Code, err)
		}
		return ""
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}},
		Status: rec.Code,
		Header: rec.Header(),
		Body:   io.NopCloser(bytes.NewReader(rec.Body.Bytes())),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true,
			AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return fmt.Sprintf("OpenAPI: %s %s (%s) → %d: %v", r.Method, route.Path, r.URL.Path, rec.Code, err)
	}
	return ""
}
