package main

import (
	"bufio"
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"dayaq/internal/access"
	"dayaq/internal/audit"
	"dayaq/internal/auth"
	"dayaq/internal/storage"
)

func (m *Main) user(ctx context.Context, args []string) error {
	const synopsis = "user add [--db DB] --email E --name N --org CODE --role ROLE[,ROLE] [--classes 5A,6B] [--password-stdin]"
	if len(args) == 0 || args[0] != "add" {
		fmt.Fprintln(m.Stderr, m.l.T("cli.usage_line", synopsis))
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return usageError{"user: want a subcommand: add"}
	}
	fs := m.flags("user add", synopsis+"\n\nWithout --password-stdin a strong password is made and printed once.\n"+
		"Roles: "+rolesList())
	dsn := m.dbFlag(fs)
	email := fs.String("email", "", "the user's email address (their sign-in name)")
	name := fs.String("name", "", "the user's full name")
	orgCode := fs.String("org", "", "the code of the user's organisation")
	roles := fs.String("role", "", "one or more roles, comma-separated")
	classes := fs.String("classes", "", "a teacher's classes, comma-separated (5A,6B)")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return usageError{"user add: unexpected arguments"}
	}
	for flagName, v := range map[string]string{"email": *email, "name": *name, "org": *orgCode, "role": *roles} {
		if strings.TrimSpace(v) == "" {
			fs.Usage()
			return usageError{"user add: --" + flagName + " is required"}
		}
	}
	rs, bad := access.ParseRoles(*roles)
	if bad != "" {
		return usageError{fmt.Sprintf("user add: unknown role %q; roles are %s", bad, rolesList())}
	}
	cls, err := parseClasses(*classes)
	if err != nil {
		return usageError{"user add: " + err.Error()}
	}
	password, generated := "", false
	if *fromStdin {
		line, err := bufio.NewReader(m.Stdin).ReadString('\n')
		if err != nil && line == "" {
			return fmt.Errorf("user add: read the password from standard input: %w", err)
		}
		password = strings.TrimRight(line, "\r\n")
	} else {
		password, generated = auth.NewPassword(), true
	}
	if err := auth.ValidatePassword(password, *email); err != nil {
		return exitError{code: 1, err: fmt.Errorf("%s", describe(m.l, err))}
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	db, err := openDB(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := db.CreateUser(ctx, audit.System(), storage.NewUser{Email: *email, Name: *name, OrgCode: *orgCode,
		Roles: rs, Classes: cls, PasswordHash: hash})
	if err != nil {
		return exitError{code: 1, err: fmt.Errorf("%s", describe(m.l, err))}
	}
	fmt.Fprintln(m.Stdout, m.l.T("cli.user_created", u.Email, u.OrgCode, joinRoles(u.Roles)))
	if generated {
		fmt.Fprintln(m.Stdout, m.l.T("cli.user_password", password))
	}
	if u.NeedsTOTP() {
		fmt.Fprintln(m.Stdout, m.l.T("cli.user_totp"))
	}
	return nil
}

func rolesList() string {
	return joinRoles(access.Roles())
}

func joinRoles(rs []access.Role) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, ",")
}

// parseClasses reads a teacher's classes: "5A,6B,10" (grade 0–12 and an
// optional section of letters, which is upper-cased).
func parseClasses(s string) ([]access.Class, error) {
	var cls []access.Class
	for p := range strings.SplitSeq(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		i := strings.IndexFunc(p, func(r rune) bool { return !unicode.IsDigit(r) })
		if i < 0 {
			i = len(p)
		}
		grade, err := strconv.Atoi(p[:i])
		section := strings.ToUpperSpecial(unicode.AzeriCase, strings.TrimSpace(p[i:]))
		if err != nil || grade < 0 || grade > 12 || len([]rune(section)) > 3 ||
			strings.IndexFunc(section, func(r rune) bool { return !unicode.IsLetter(r) }) >= 0 {
			return nil, fmt.Errorf("bad class %q: want a grade from 0 to 12 and a letter, such as 5A", p)
		}
		cls = append(cls, access.Class{Grade: grade, Section: section})
	}
	return cls, nil
}
