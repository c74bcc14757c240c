package main

import (
	"context"
	"testing"
)

func TestParsePublicURL(t *testing.T) {
	for in, want := range map[string]string{"": "", "https://dayaq.example.az/": "https://dayaq.example.az",
		" http://10.0.0.5:8080/edu ": "http://10.0.0.5:8080/edu"} {
		if got, err := parsePublicURL(in); err != nil || got != want {
			t.Errorf("parsePublicURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"dayaq.example.az", "ftp://dayaq.example.az", "https://", "https://x.az/?a=1", "https://x.az/#f",
		"https://user:pw@x.az"} {
		if _, err := parsePublicURL(bad); err == nil {
			t.Errorf("parsePublicURL(%q) accepted", bad)
		}
	}
}

// A bad --public-url (or DAYAQ_PUBLIC_URL) stops serve before it listens,
// as a usage error.
func TestServeRefusesBadPublicURL(t *testing.T) {
	r := run(context.Background(), english(), "serve", "--addr", "127.0.0.1:0", "--db", tempDB(t), "--public-url", "dayaq.example.az")
	if exitCode(r.err) != 2 {
		t.Errorf("a bad --public-url: err %v, want exit code 2", r.err)
	}
	e := english()
	e["DAYAQ_PUBLIC_URL"] = "ftp://x.az"
	if r := run(context.Background(), e, "serve", "--addr", "127.0.0.1:0", "--db", tempDB(t)); exitCode(r.err) != 2 {
		t.Errorf("a bad DAYAQ_PUBLIC_URL: err %v, want exit code 2", r.err)
	}
}
