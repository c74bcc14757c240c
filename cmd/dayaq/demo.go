package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"dayaq/internal/auth"
	"dayaq/internal/demo"
)

func (m *Main) demo(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "code" {
		return m.demoCode(ctx, args[1:])
	}
	fs := m.flags("demo", "demo [--db DB] [--children N]\n       dayaq demo code [--db DB] --email E")
	dsn := m.dbFlag(fs)
	n := fs.Int("children", 20000, "how many synthetic children to make")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *n < 0 {
		return usageError{"--children must not be negative"}
	}
	db, err := openDB(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	empty, err := demo.IsEmpty(ctx, db)
	if err != nil {
		return err
	}
	if !empty {
		return exitError{code: 1, err: fmt.Errorf("%s", m.l.T("cli.demo_not_empty"))}
	}
	start := time.Now()
	sum, err := demo.Load(ctx, db, *n, nil)
	if err != nil {
		return err
	}
	fmt.Fprintln(m.Stdout, m.l.T("cli.demo_loaded", sum.Orgs, sum.Schools, sum.Children, time.Since(start).Round(time.Millisecond)))
	m.printSignIns()
	return nil
}

// printSignIns prints the demo accounts: role, email, password and TOTP
// secret, and how to get a current code without an authenticator app.
func (m *Main) printSignIns() {
	fmt.Fprintln(m.Stdout)
	fmt.Fprintln(m.Stdout, m.l.T("cli.demo_signins"))
	tw := tabwriter.NewWriter(m.Stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", m.l.T("account.roles"), m.l.T("signin.email"), m.l.T("signin.password"), m.l.T("cli.demo_totp_secret"))
	for _, s := range demo.SignIns() {
		secret := s.TOTPSecret
		if secret == "" {
			secret = "—"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", s.Role, s.Email, s.Password, secret)
	}
	_ = tw.Flush()
	fmt.Fprintln(m.Stdout, m.l.T("cli.demo_code_hint"))
	fmt.Fprintln(m.Stdout)
}

// demoCode prints the current TOTP code of a demo account, for a tester
// without an authenticator app.
func (m *Main) demoCode(ctx context.Context, args []string) error {
	fs := m.flags("demo code", "demo code [--db DB] --email E\n\nPrints the current TOTP code of a demo account (@"+demo.Domain+").")
	dsn := m.dbFlag(fs)
	email := fs.String("email", "", "the demo account's email")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *email == "" || fs.NArg() > 0 {
		fs.Usage()
		return usageError{"demo code: --email is required"}
	}
	if !demo.IsDemoEmail(*email) {
		return exitError{code: 1, err: fmt.Errorf("%s", m.l.T("cli.demo_code_not_demo", demo.Domain))}
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
	if !u.TOTPEnabled {
		return exitError{code: 1, err: fmt.Errorf("%s", m.l.T("cli.demo_code_no_totp", u.Email))}
	}
	code, err := auth.TOTPCode(u.TOTPSecret, db.Now())
	if err != nil {
		return err
	}
	fmt.Fprintln(m.Stdout, code)
	return nil
}
