package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/auth"
	"dayaq/internal/demo"
)

// TestServeDemoSignIns: serve --demo prints a sign-in for every role, and
// each printed account signs in with what was printed (the password, and a
// code from the printed TOTP secret for roles that see children's data),
// landing on a home page that names them.
func TestServeDemoSignIns(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr,
		Getenv: func(k string) string { return english()[k] }}
	done := make(chan error, 1)
	go func() {
		done <- m.Run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--db", tempDB(t), "--demo", "--demo-children", "20"})
	}()
	var base string
	deadline := time.Now().Add(60 * time.Second)
	for base == "" {
		if mm := listeningRE.FindStringSubmatch(stdout.String()); mm != nil {
			base = mm[1]
			break
		}
		select {
		case err := <-done:
			t.Fatalf("serve returned before listening: %v\n%s", err, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no URL on stdout: %q", stdout.String())
		}
	}
	defer func() {
		cancel()
		<-done
	}()

	out := stdout.String()
	printed := map[access.Role]bool{}
	for _, s := range demo.SignIns() {
		secret := s.TOTPSecret
		if secret == "" {
			secret = "—"
		}
		line := regexp.MustCompile(`(?m)^\s+` + regexp.QuoteMeta(string(s.Role)) + `\s+` + regexp.QuoteMeta(s.Email) + `\s+` +
			regexp.QuoteMeta(s.Password) + `\s+` + regexp.QuoteMeta(secret) + `\s*$`)
		if !line.MatchString(out) {
			t.Errorf("serve --demo does not print the sign-in of %s (%s)", s.Role, s.Email)
		}
		if s.Role.SeesChildData() != (s.TOTPSecret != "") {
			t.Errorf("%s: TOTP secret %q, but the role sees children's data: %v", s.Role, s.TOTPSecret, s.Role.SeesChildData())
		}
		printed[s.Role] = true
	}
	for _, r := range access.Roles() {
		if !printed[r] {
			t.Errorf("no demo sign-in for the role %s", r)
		}
	}

	csrfRE := regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	for _, s := range demo.SignIns() {
		t.Run(s.Email, func(t *testing.T) {
			jar, _ := cookiejar.New(nil)
			c := &http.Client{Jar: jar, Timeout: 20 * time.Second}
			post := func(path string, v url.Values) (*http.Response, string) {
				t.Helper()
				resp, err := c.PostForm(base+path, v)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp, string(b)
			}
			resp, body := post("/signin", url.Values{"email": {s.Email}, "password": {s.Password}})
			if s.TOTPSecret != "" {
				if resp.Request.URL.Path != "/signin/totp" {
					t.Fatalf("after the password: at %s, want /signin/totp", resp.Request.URL.Path)
				}
				m := csrfRE.FindStringSubmatch(body)
				if m == nil {
					t.Fatalf("no form token on the second-factor page")
				}
				code, err := auth.TOTPCode(s.TOTPSecret, time.Now())
				if err != nil {
					t.Fatal(err)
				}
				resp, body = post("/signin/totp", url.Values{"csrf": {m[1]}, "code": {code}})
			}
			if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/" || !strings.Contains(body, s.Name) {
				t.Errorf("signed in: %d at %s; want the home page naming %s", resp.StatusCode, resp.Request.URL.Path, s.Name)
			}
		})
	}
}
