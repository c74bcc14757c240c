// Package pgtemp starts a throwaway PostgreSQL 15 cluster in a temporary
// directory, for tests (through storagetest) and benchmarks (dayaq bench).
// Its durability is off: what it holds is thrown away.
package pgtemp

import (
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver for the readiness check
)

// PGBin is where Debian puts the PostgreSQL 15 server binaries.
const PGBin = "/usr/lib/postgresql/15/bin"

// Available reports whether the server binaries are on this machine.
func Available() bool {
	_, err := os.Stat(filepath.Join(PGBin, "postgres"))
	return err == nil
}

// Start runs initdb and postgres in a temporary directory, as the
// postgres user when we are root (the server refuses to run as root), with
// durability turned off (these databases are thrown away).
func Start() (url string, stop func(), err error) {
	dir, err := os.MkdirTemp("", "dayaq-pg-")
	if err != nil {
		return "", nil, err
	}
	asPostgres := os.Geteuid() == 0
	if asPostgres {
		u, err := user.Lookup("postgres")
		if err != nil {
			return "", nil, fmt.Errorf("running as root needs the postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return "", nil, err
		}
	}
	run := func(name string, args ...string) *exec.Cmd {
		bin := filepath.Join(PGBin, name)
		if asPostgres {
			return exec.Command("runuser", append([]string{"-u", "postgres", "--", bin}, args...)...)
		}
		return exec.Command(bin, args...)
	}
	data := filepath.Join(dir, "data")
	if out, err := run("initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
		"--no-locale", "--no-sync").CombinedOutput(); err != nil {
		return "", nil, fmt.Errorf("initdb: %v: %s", err, out)
	}
	port, err := freePort()
	if err != nil {
		return "", nil, err
	}
	srv := run("postgres", "-D", data, "-p", strconv.Itoa(port), "-k", dir, "-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=200", "-c", "shared_buffers=128MB")
	logf, err := os.Create(filepath.Join(dir, "postgres.log"))
	if err != nil {
		return "", nil, err
	}
	srv.Stdout, srv.Stderr = logf, logf
	if err := srv.Start(); err != nil {
		return "", nil, fmt.Errorf("start postgres: %w", err)
	}
	stop = func() {
		_ = run("pg_ctl", "-D", data, "-m", "immediate", "stop").Run()
		_ = srv.Wait()
		logf.Close()
		os.RemoveAll(dir)
	}
	url = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		db, err := sql.Open("pgx", url)
		if err == nil {
			err = db.Ping()
			db.Close()
		}
		if err == nil {
			return url, stop, nil
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "postgres.log"))
			stop()
			return "", nil, fmt.Errorf("postgres did not accept connections in 30s: %v\n%s", err, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
