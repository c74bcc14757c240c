package main

import (
	"context"
	"strings"
	"testing"
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
