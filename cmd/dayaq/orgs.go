package main

import (
	"context"
	"fmt"
	"os"

	"dayaq/internal/apperr"
	"dayaq/internal/i18n"
	"dayaq/internal/org"
)

func (m *Main) orgs(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "import" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintln(m.Stderr, m.l.T("cli.usage_line", "orgs import [--db DB] FILE.csv"))
			return nil
		}
		fmt.Fprintln(m.Stderr, m.l.T("cli.usage_line", "orgs import [--db DB] FILE.csv"))
		return usageError{"orgs: want a subcommand: import"}
	}
	fs := m.flags("orgs import", "orgs import [--db DB] FILE.csv\n\nThe CSV header is code,type,name_az,district_code (name_ru,name_en may follow);\n"+
		"comma or semicolon separated, UTF-8. A file with any bad row imports nothing.")
	dsn := m.dbFlag(fs)
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return usageError{"orgs import: want exactly one FILE.csv"}
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	db, err := openDB(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	districts, err := db.DistrictCodes(ctx)
	if err != nil {
		return err
	}
	orgs, bad, err := org.ParseCSV(f, districts)
	if err != nil {
		return err
	}
	if len(bad) > 0 {
		for _, b := range bad {
			fmt.Fprintf(m.Stderr, "%s: %s: %s\n", fs.Arg(0), m.l.T("import.line", b.Line), describe(m.l, b.Err))
		}
		return exitError{code: 1, err: fmt.Errorf("%s", m.l.T("cli.orgs_rejected", len(bad)))}
	}
	res, err := db.ImportOrgs(ctx, orgs)
	if err != nil {
		return err
	}
	fmt.Fprintln(m.Stdout, m.l.T("cli.orgs_imported", res.Created, res.Updated, res.Unchanged))
	return nil
}

// describe renders an error for an operator: the public message and each
// field at fault, in their language.
func describe(l i18n.Localizer, err error) string {
	e := apperr.As(err)
	if len(e.Fields) == 0 {
		return l.T(e.Key, e.Args...)
	}
	s := ""
	for i, f := range e.Fields {
		if i > 0 {
			s += "; "
		}
		s += f.Field + ": " + l.T(f.Key, f.Args...)
	}
	return s
}
