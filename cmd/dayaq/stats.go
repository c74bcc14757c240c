package main

import (
	"context"
	"fmt"
	"time"
)

const statsUsage = "dayaq stats rebuild [--db DB]\n\n" +
	"Recomputes the dashboards' pre-aggregated counts from the cases, referrals and\n" +
	"contacts (ADR 0032). Writes wait meanwhile on PostgreSQL; reads go on."

// statsCmd runs "stats rebuild".
func (m *Main) statsCmd(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "rebuild" {
		fmt.Fprintln(m.Stderr, statsUsage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			return nil
		}
		return usageError{"stats: want a subcommand: rebuild"}
	}
	fs := m.flags("stats rebuild", statsUsage)
	dsn := m.dbFlag(fs)
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return usageError{"stats rebuild: takes no arguments"}
	}
	db, err := openDB(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Now()
	if err := db.RebuildStats(ctx); err != nil {
		return err
	}
	fmt.Fprintln(m.Stdout, m.l.T("cli.stats_rebuilt", time.Since(start).Round(time.Millisecond).String()))
	return nil
}
