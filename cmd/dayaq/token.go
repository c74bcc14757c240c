package main

import (
	"context"
	"fmt"
	"time"

	"dayaq/internal/audit"
	"dayaq/internal/auth"
	"dayaq/internal/storage"
)

func (m *Main) token(ctx context.Context, args []string) error {
	const synopsis = "token create [--db DB] --email E [--expires 720h] [--name N] [--scopes read,write]"
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprintln(m.Stderr, m.l.T("cli.usage_line", synopsis))
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return usageError{"token: want a subcommand: create"}
	}
	fs := m.flags("token create", synopsis+"\n\nPrints a new personal API token once; only its hash is kept.")
	dsn := m.dbFlag(fs)
	email := fs.String("email", "", "the email of the user the token acts for")
	expires := fs.Duration("expires", 720*time.Hour, "how long the token lives (at most 8784h)")
	name := fs.String("name", "cli", "a name that says what the token is for")
	scopes := fs.String("scopes", "read", "read, or read,write")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if *email == "" || fs.NArg() > 0 {
		fs.Usage()
		return usageError{"token create: --email is required"}
	}
	sc, ok := storage.ParseScopes(*scopes)
	if !ok {
		return usageError{fmt.Sprintf("token create: bad --scopes %q: want read or read,write", *scopes)}
	}
	db, err := openDB(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := db.UserByEmail(ctx, *email)
	if err != nil {
		return exitError{code: 1, err: fmt.Errorf("%s: %s", *email, describe(m.l, err))}
	}
	if u.Disabled {
		return exitError{code: 1, err: fmt.Errorf("%s", m.l.T("cli.user_disabled", u.Email))}
	}
	tok := auth.NewAPIToken()
	t, err := db.CreateAPIToken(ctx, audit.System(), storage.NewAPIToken{UserID: u.ID, Name: *name, Scopes: sc,
		ExpiresAt: db.Now().Add(*expires), TokenHash: auth.HashToken(tok)})
	if err != nil {
		return exitError{code: 1, err: fmt.Errorf("%s", describe(m.l, err))}
	}
	fmt.Fprintln(m.Stderr, m.l.T("cli.token_created", u.Email, t.ExpiresAt.Format(time.RFC3339)))
	fmt.Fprintln(m.Stdout, tok)
	return nil
}
