package pgtemp

import (
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"time"
)

// Cluster is a throwaway PostgreSQL 15 cluster that a test can stop and
// start again on the same port and data (the database restarting), unlike
// the one Start gives. Unlike Start's it keeps fsync on, so that what it
// held before a stop is there after it.
type Cluster struct {
	URL  string // the postgres database, as the superuser
	Dir  string // the temporary directory: data/, the socket, the log
	Port int

	asPostgres bool
	keep       bool     // Close leaves the directory (OpenCluster's)
	settings   []string // -c settings beyond the port and socket
	srv        *exec.Cmd
	logf       *os.File
}

// NewCluster runs initdb in a temporary directory and starts the server.
func NewCluster() (*Cluster, error) {
	dir, err := os.MkdirTemp("", "dayaq-pgc-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: dir, asPostgres: os.Geteuid() == 0, settings: []string{"max_connections=100", "shared_buffers=32MB"}}
	if err := c.initdb(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := c.Start(); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// OpenCluster starts the cluster kept in dir, making it there first if
// there is none, for a benchmark that reuses what it seeded: it runs with
// Start's settings (durability off, so only a clean Close keeps the data)
// and Close stops it cleanly and leaves dir.
func OpenCluster(dir string) (*Cluster, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	c := &Cluster{Dir: dir, asPostgres: os.Geteuid() == 0, keep: true, settings: []string{"fsync=off", "synchronous_commit=off",
		"full_page_writes=off", "max_connections=200", "shared_buffers=128MB"}}
	if _, err := os.Stat(filepath.Join(c.data(), "PG_VERSION")); err != nil {
		if err := c.initdb(); err != nil {
			return nil, err
		}
	} else {
		var err error
		if c.Port, err = freePort(); err != nil {
			return nil, err
		}
		c.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.Port)
	}
	if err := c.Start(); err != nil {
		return nil, err
	}
	return c, nil
}

// initdb makes the cluster's data directory and picks its port.
func (c *Cluster) initdb() error {
	if c.asPostgres {
		u, err := user.Lookup("postgres")
		if err != nil {
			return fmt.Errorf("running as root needs the postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(c.Dir, uid, gid); err != nil {
			return err
		}
	}
	if out, err := c.cmd("initdb", "-D", c.data(), "-U", "postgres", "-A", "trust", "-E", "UTF8",
		"--no-locale", "--no-sync").CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %v: %s", err, out)
	}
	var err error
	if c.Port, err = freePort(); err != nil {
		return err
	}
	c.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.Port)
	return nil
}

func (c *Cluster) data() string { return filepath.Join(c.Dir, "data") }

// cmd runs a server binary, as the postgres user when we are root.
func (c *Cluster) cmd(name string, args ...string) *exec.Cmd {
	bin := filepath.Join(PGBin, name)
	if c.asPostgres {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", bin}, args...)...)
	}
	return exec.Command(bin, args...)
}

// Bin runs another PostgreSQL program (pg_dump, pg_restore, psql) as the
// cluster's user.
func (c *Cluster) Bin(name string, args ...string) *exec.Cmd { return c.cmd(name, args...) }

// Start starts the server (again) and waits until it accepts connections.
func (c *Cluster) Start() error {
	if c.srv != nil {
		return fmt.Errorf("pgtemp: the cluster is running")
	}
	logf, err := os.OpenFile(filepath.Join(c.Dir, "postgres.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	args := []string{"-D", c.data(), "-p", strconv.Itoa(c.Port), "-k", c.Dir, "-c", "listen_addresses=127.0.0.1"}
	for _, s := range c.settings {
		args = append(args, "-c", s)
	}
	srv := c.cmd("postgres", args...)
	srv.Stdout, srv.Stderr = logf, logf
	if err := srv.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start postgres: %w", err)
	}
	c.srv, c.logf = srv, logf
	deadline := time.Now().Add(30 * time.Second)
	for {
		db, err := sql.Open("pgx", c.URL)
		if err == nil {
			err = db.Ping()
			db.Close()
		}
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(c.Dir, "postgres.log"))
			return fmt.Errorf("postgres did not accept connections in 30s: %v\n%s", err, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Stop stops the server: mode "fast" (clients are disconnected, a clean
// shutdown) or "immediate" (as a crash; recovery runs at the next start).
func (c *Cluster) Stop(mode string) error {
	if c.srv == nil {
		return nil
	}
	out, err := c.cmd("pg_ctl", "-D", c.data(), "-m", mode, "-w", "stop").CombinedOutput()
	_ = c.srv.Wait()
	c.logf.Close()
	c.srv, c.logf = nil, nil
	if err != nil {
		return fmt.Errorf("pg_ctl stop: %v: %s", err, out)
	}
	return nil
}

// Close stops the server and removes its directory; a kept cluster
// (OpenCluster) is stopped cleanly and its directory left.
func (c *Cluster) Close() {
	if c.keep {
		_ = c.Stop("fast")
		return
	}
	_ = c.Stop("immediate")
	os.RemoveAll(c.Dir)
}
