// Command dayaq is the Dayaq platform: one binary whose subcommands serve
// the web UI and API, migrate the database, load demo data and import
// organisations.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"dayaq/internal/i18n"
	"dayaq/internal/storage"
)

// version is the release of this build.
const version = "0.1.0"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	m := &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
	err := m.Run(ctx, os.Args[1:])
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		var ue usageError
		if !errors.As(err, &ue) {
			fmt.Fprintln(os.Stderr, "dayaq:", err)
		}
		os.Exit(exitCode(err))
	}
}

// Main runs the program with its inputs and outputs given, so tests can run
// it in-process.
type Main struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string

	cat *i18n.Catalog
	l   i18n.Localizer // the language of messages to the operator
}

// usageError is a bad command line; its message has already been printed.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// exitError carries an exit code other than 1.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }
func (e exitError) Unwrap() error { return e.err }

func exitCode(err error) int {
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

type command struct {
	name string
	run  func(m *Main, ctx context.Context, args []string) error
}

// summary is the command's one line in the usage text, in the operator's
// language (catalogue key "cli.cmd."+name).
func (c command) summary(l i18n.Localizer) string { return l.T("cli.cmd." + c.name) }

func commands() []command {
	return []command{
		{"serve", (*Main).serve},
		{"migrate", (*Main).migrate},
		{"notify", (*Main).notifyCmd},
		{"demo", (*Main).demo},
		{"orgs", (*Main).orgs},
		{"children", (*Main).children},
		{"user", (*Main).user},
		{"token", (*Main).token},
		{"audit", (*Main).audit},
		{"backup", (*Main).backupCmd},
		{"restore", (*Main).restoreCmd},
		{"bench", (*Main).bench},
		{"stats", (*Main).statsCmd},
		{"version", (*Main).version},
	}
}

func (m *Main) usage() {
	fmt.Fprintf(m.Stderr, "%s\n\n%s\n", m.l.T("cli.usage_title"), m.l.T("cli.usage_commands"))
	for _, c := range commands() {
		fmt.Fprintf(m.Stderr, "  %-8s %s\n", c.name, c.summary(m.l))
	}
	fmt.Fprintf(m.Stderr, "\n%s\n", m.l.T("cli.usage_more", storage.DefaultPath))
}

// Run runs the command named by args[0].
func (m *Main) Run(ctx context.Context, args []string) error {
	cat, err := i18n.Load()
	if err != nil {
		return err
	}
	m.cat, m.l = cat, m.cliLang(cat)
	if len(args) == 0 {
		m.usage()
		return usageError{"no command"}
	}
	switch args[0] {
	case "-h", "--help", "help":
		m.usage()
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(m, ctx, args[1:])
		}
	}
	fmt.Fprintf(m.Stderr, "%s\n\n", m.l.T("cli.error.unknown_command", args[0]))
	m.usage()
	return usageError{"unknown command " + args[0]}
}

// flags returns a flag set that prints its usage to m.Stderr.
func (m *Main) flags(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet("dayaq "+name, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(m.Stderr, "%s\n\n%s\n", m.l.T("cli.usage_line", synopsis), m.l.T("cli.usage_flags"))
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args, turning a bad command line into a usageError.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	return nil
}

// dbFlag adds --db, defaulting to DAYAQ_DB or the SQLite default path.
func (m *Main) dbFlag(fs *flag.FlagSet) *string {
	def := m.Getenv("DAYAQ_DB")
	if def == "" {
		def = storage.DefaultPath
	}
	return fs.String("db", def, "database: a SQLite file path or a postgres:// URL (env DAYAQ_DB)")
}

// openDB opens and migrates the database.
func openDB(ctx context.Context, dsn string, opts ...storage.Option) (*storage.DB, error) {
	db, err := storage.Open(ctx, dsn, append([]storage.Option{storage.WithSecret([]byte(os.Getenv("DAYAQ_SECRET")))}, opts...)...)
	if err != nil {
		return nil, err
	}
	if _, err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// cliLang is the language of the command line's messages: DAYAQ_LANG, else
// the locale's language (LANG, LC_ALL), else Azerbaijani.
func (m *Main) cliLang(cat *i18n.Catalog) i18n.Localizer {
	for _, env := range []string{"DAYAQ_LANG", "LC_ALL", "LANG"} {
		v := m.Getenv(env)
		if l, ok := i18n.Parse(strings.SplitN(strings.SplitN(v, "_", 2)[0], ".", 2)[0]); ok {
			return cat.For(l)
		}
	}
	return cat.For(i18n.Default)
}

func (m *Main) version(_ context.Context, args []string) error {
	fs := m.flags("version", "version")
	if err := parse(fs, args); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "dayaq %s\n", version)
	return nil
}

func (m *Main) migrate(ctx context.Context, args []string) error {
	fs := m.flags("migrate", "migrate [--db DB]")
	dsn := m.dbFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	db, err := storage.Open(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	n, err := db.Migrate(ctx)
	if err != nil {
		return err
	}
	cur, _, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(m.Stdout, m.l.T("cli.migrated", n, cur, db.Engine()))
	return nil
}
