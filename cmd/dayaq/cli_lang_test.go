package main

import (
	"context"
	"strings"
	"testing"

	"dayaq/internal/i18n"
)

// The command line's remaining words come from the catalogues: an unknown
// command, a command's usage line and a bad deadline setting speak the
// operator's language.
func TestCLIMessagesTranslated(t *testing.T) {
	for _, tt := range []struct {
		lang string
		env  env
		args []string
		want string
	}{
		{"az", nil, []string{"nope"}, "naməlum əmr"},
		{"ru", nil, []string{"nope"}, "неизвестная команда"},
		{"az", nil, []string{"migrate", "--help"}, "İstifadə: dayaq migrate"},
		{"ru", nil, []string{"orgs"}, "Использование: dayaq orgs import"},
		{"ru", env{"DAYAQ_DEADLINES": "high=soon"}, []string{"serve", "--addr", "127.0.0.1:0"}, "неверный срок"},
		{"az", nil, []string{"serve", "--addr", "127.0.0.1:0", "--case-deadlines", "high=1h"}, "işlərin müddətləri"},
	} {
		e := env{"DAYAQ_LANG": tt.lang}
		for k, v := range tt.env {
			e[k] = v
		}
		args := tt.args
		if args[0] == "serve" {
			args = append(args, "--db", tempDB(t))
		}
		r := run(context.Background(), e, args...)
		if !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%s %v: stderr lacks %q:\n%s", tt.lang, tt.args, tt.want, r.stderr)
		}
	}
}

// The bench's headings and lines are in every language, and their
// placeholders take the figures the commands give them.
func TestBenchHeadingsTranslated(t *testing.T) {
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range i18n.Langs() {
		l := cat.For(lang)
		for key, args := range map[string][]any{
			"cli.bench.seeding": {1000, 50, "sqlite"}, "cli.bench.seeded": {10}, "cli.bench.measuring": {5},
			"cli.bench.sqlite_only": nil, "cli.bench.intake_header": nil, "cli.bench.intake_summary": {"sqlite", 812.0, 93.0, 4.2},
			"cli.bench.match_title": {200, 2, "linux", "amd64"}, "cli.bench.match_columns": nil, "cli.bench.match_notes": nil,
		} {
			s := l.T(key, args...)
			if s == "" || s == key || strings.Contains(s, "%!") {
				t.Errorf("%s %s = %q", lang, key, s)
			}
		}
		if n := len(strings.Split(l.T("cli.bench.match_columns"), "|")); n != 14 {
			t.Errorf("%s: %d match columns, want 14", lang, n)
		}
	}
}
