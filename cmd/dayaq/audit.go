package main

import (
	"context"
	"errors"
	"fmt"

	"dayaq/internal/audit"
	"dayaq/internal/i18n"
)

const auditUsage = "Usage: dayaq audit verify [--db DB]\n\n" +
	"verify  check that the audit trail is whole: no event changed, deleted or added\n" +
	"        out of turn. Exit status 0 when it is whole, 1 when it is broken."

func (m *Main) audit(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "verify" {
		fmt.Fprintln(m.Stderr, auditUsage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			return nil
		}
		return usageError{"audit: want a subcommand: verify"}
	}
	fs := m.flags("audit verify", "audit verify [--db DB]\n\n"+
		"Reads the whole audit trail in order and checks its hash chain and head. Exit status 0\n"+
		"when the trail is whole, 1 when it is broken (the first broken event is named).")
	dsn := m.dbFlag(fs)
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return usageError{"audit verify: takes no arguments"}
	}
	db, err := openDB(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	checked, firstBad, reason, err := db.VerifyAudit(ctx)
	if err != nil {
		return err
	}
	if reason == "" {
		fmt.Fprintln(m.Stdout, m.l.T("cli.audit_whole", m.l.Num(checked)))
		return nil
	}
	fmt.Fprintln(m.Stdout, m.l.T("cli.audit_broken", firstBad, auditReason(m.l, reason), m.l.Num(checked)))
	return exitError{code: 1, err: errors.New(m.l.T("cli.audit_failed"))}
}

// auditReason explains an audit.Reason to the operator.
func auditReason(l i18n.Localizer, reason string) string {
	switch audit.Reason(reason) {
	case audit.ReasonGap:
		return l.T("cli.audit_reason_gap")
	case audit.ReasonLink:
		return l.T("cli.audit_reason_link")
	case audit.ReasonHash:
		return l.T("cli.audit_reason_hash")
	case audit.ReasonHead:
		return l.T("cli.audit_reason_head")
	}
	return reason
}
