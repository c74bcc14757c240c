package main

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"dayaq/internal/demo"
	"dayaq/internal/rosterrun"
	"dayaq/internal/server"
	"dayaq/internal/storage"
)

func (m *Main) serve(ctx context.Context, args []string) error {
	fs := m.flags("serve", "serve [--addr 127.0.0.1:8080] [--metrics-addr ADDR] [--public-url URL] [--db DB] [--demo]")
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on (port 0 picks a free port)")
	metricsAddr := fs.String("metrics-addr", "", "serve /metrics on this address only, not on --addr (empty: on --addr)")
	dsn := m.dbFlag(fs)
	withDemo := fs.Bool("demo", false, "load demo data when the database is empty, and print the demo sign-ins")
	children := fs.Int("demo-children", 20000, "how many synthetic children --demo loads")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	runJobs := fs.Bool("jobs", true, "run the background jobs (outbox delivery, escalation); several replicas share them safely")
	publicURL := fs.String("public-url", cmp.Or(m.Getenv("DAYAQ_PUBLIC_URL"), m.Getenv("DAYAQ_BASE_URL")),
		"the platform's public address (https://host[/path]) for links in e-mail, SMS and the feedback QR codes (env DAYAQ_PUBLIC_URL; empty: the listen address for messages, the request's host for QR codes)")
	cases := m.caseFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	public, err := parsePublicURL(*publicURL)
	if err != nil {
		return err
	}
	log, err := m.logger(*logFormat, *logLevel)
	if err != nil {
		return err
	}
	deadlines, err := m.deadlines()
	if err != nil {
		return err
	}
	opts, err := cases.storageOptions(m)
	if err != nil {
		return err
	}
	db, err := openDB(ctx, *dsn, append(opts, storage.WithDeadlines(deadlines))...)
	if err != nil {
		return err
	}
	defer db.Close()
	if *withDemo {
		empty, err := demo.IsEmpty(ctx, db)
		if err != nil {
			return err
		}
		if empty {
			start := time.Now()
			sum, err := demo.Load(ctx, db, *children, nil)
			if err != nil {
				return err
			}
			fmt.Fprintln(m.Stdout, m.l.T("cli.demo_loaded", sum.Orgs, sum.Schools, sum.Children, time.Since(start).Round(time.Millisecond)))
		}
		if _, err := db.UserByEmail(ctx, demo.SignIns()[0].Email); err == nil {
			m.printSignIns()
		}
	}
	vault, blobs, err := cases.vaultDir(*dsn, *withDemo, log)
	if err != nil {
		return err
	}
	sopts := []server.Option{server.WithVault(vault), server.WithSpoolDir(rosterrun.SpoolDir(cases.dir(*dsn))), server.WithPublicURL(public)}
	if *metricsAddr != "" {
		sopts = append(sopts, server.WithMetricsApart())
	}
	srv, err := server.New(db, m.cat, log, sopts...)
	if err != nil {
		return err
	}
	if *metricsAddr != "" {
		mln, err := net.Listen("tcp", *metricsAddr)
		if err != nil {
			return fmt.Errorf("listen on %s: %w", *metricsAddr, err)
		}
		go func() {
			if err := srv.ServeMetrics(ctx, mln); err != nil {
				log.Error("metrics listener failed", "err", err)
			}
		}()
		log.Info("serving metrics", "addr", mln.Addr().String())
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	if *runJobs {
		base := cmp.Or(public, "http://"+ln.Addr().String())
		bg, err := m.background(db, log, base, append(sweepJobs(db, blobs, log), srv.Jobs()...)...)
		if err != nil {
			ln.Close()
			return err
		}
		bg.Start(ctx)
		defer bg.Stop()
	}
	fmt.Fprintln(m.Stdout, m.l.T("cli.listening", "http://"+ln.Addr().String(), db.Engine()))
	log.Info("serving", "addr", ln.Addr().String(), "engine", db.Engine())
	return srv.Serve(ctx, ln)
}

// parsePublicURL checks serve --public-url: empty, or an absolute http(s)
// address with a host and no query or fragment. It returns it without a
// trailing slash, ready for "/f/code" or a message's link to follow.
func parsePublicURL(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", usageError{fmt.Sprintf("bad --public-url %q: want http(s)://host[/path], without query or fragment", s)}
	}
	return strings.TrimSuffix(s, "/"), nil
}

// logger builds the structured logger on stderr.
func (m *Main) logger(format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usageError{fmt.Sprintf("bad --log-level %q", level)}
	}
	opts := &slog.HandlerOptions{Level: lv}
	w := m.Stderr
	if w == nil {
		w = os.Stderr
	}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, usageError{fmt.Sprintf("bad --log-format %q: want text or json", format)}
}
