package main

import (
	"context"
	"fmt"
	"time"

	"dayaq/internal/demo"
)

func (m *Main) demo(ctx context.Context, args []string) error {
	fs := m.flags("demo", "demo [--db DB] [--children N]")
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
	return nil
}
