package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgServer is a PostgreSQL server the run creates its databases in: one given by URL, or a
// throwaway cluster started for the run.
type pgServer struct {
	url       string   // the server's URL, with a database the role can connect to
	databases []string // databases this run created
	stop      func()   // stops a cluster this run started; nil otherwise
	dir       string   // the folder of a cluster this run started
}

// newDatabase creates an empty database and returns its URL.
func (s *pgServer) newDatabase(ctx context.Context, purpose string) (string, error) {
	conn, err := pgx.Connect(ctx, s.url)
	if err != nil {
		return "", fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	name := "pinfold_bench_" + purpose + "_" + newID()[:8]
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("create database (the role of --postgres must be allowed to): %w", err)
	}
	s.databases = append(s.databases, name)
	u, err := url.Parse(s.url)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

// dropDatabase drops a database that newDatabase created, once measured: a re-import leaves a
// million dead rows, whose autovacuum would otherwise run beside the next measurements. It
// does nothing when keep is set.
func (s *pgServer) dropDatabase(ctx context.Context, dbURL string, keep bool) error {
	u, err := url.Parse(dbURL)
	if err != nil || keep {
		return err
	}
	name := strings.TrimPrefix(u.Path, "/")
	if !slices.Contains(s.databases, name) {
		return fmt.Errorf("drop database: %s is not one of this run's", name)
	}
	return s.drop(ctx, name)
}

// drop drops databases of this run and forgets them; it goes on past one that fails.
func (s *pgServer) drop(ctx context.Context, names ...string) error {
	conn, err := pgx.Connect(ctx, s.url)
	if err != nil {
		return fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var errs []error
	for _, name := range names {
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			errs = append(errs, fmt.Errorf("drop database %s: %w", name, err))
			continue
		}
		s.databases = slices.DeleteFunc(s.databases, func(n string) bool { return n == name })
	}
	return errors.Join(errs...)
}

// close stops a throwaway cluster (its folder goes with the run's, unless --keep), or drops
// the databases the run created in a server given by URL (unless keep).
func (s *pgServer) close(keep bool) {
	if s.stop != nil {
		s.stop()
		if !keep {
			os.RemoveAll(s.dir)
		}
		return
	}
	if !keep {
		s.drop(context.Background(), slices.Clone(s.databases)...)
	}
}

// startPostgres starts a throwaway PostgreSQL cluster in a new folder in parent ("" for the
// system's temporary folder; the postgres user must be able to reach it) from the machine's
// PostgreSQL binaries (pg_ctl on PATH, or the newest /usr/lib/postgresql/*/bin). As root,
// PostgreSQL runs as the postgres user. The cluster keeps PostgreSQL's defaults except synchronous_commit=off,
// which gives the durability of the SQLite store's WAL with synchronous=NORMAL: a crash may
// lose the last commits, never corrupt; and except settings, name=value pairs
// (--postgres-settings), each passed as a -c option.
func startPostgres(ctx context.Context, parent string, settings []string) (_ *pgServer, err error) {
	bin := ""
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		bin = filepath.Dir(p)
	} else {
		dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
		slices.SortFunc(dirs, func(a, b string) int { return majorVersion(b) - majorVersion(a) })
		if len(dirs) == 0 {
			return nil, fmt.Errorf("--postgres=auto: no pg_ctl on PATH or in /usr/lib/postgresql/*/bin")
		}
		bin = dirs[0]
	}
	dir, err := os.MkdirTemp(parent, "pinfold-bench-pg-")
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
		}
	}()
	asPostgres := os.Geteuid() == 0
	if asPostgres {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("--postgres=auto as root needs a postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, err
		}
	}
	command := func(ctx context.Context, args ...string) *exec.Cmd {
		if asPostgres {
			args = append([]string{"runuser", "-u", "postgres", "--"}, args...)
		}
		return exec.CommandContext(ctx, args[0], args[1:]...)
	}
	data := filepath.Join(dir, "data")
	if out, err := command(ctx, filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c synchronous_commit=off -c max_connections=200", port, dir)
	for _, s := range settings {
		opts += " -c " + s
	}
	logFile := filepath.Join(dir, "log")
	if out, err := command(ctx, filepath.Join(bin, "pg_ctl"), "-D", data, "-o", opts, "-l", logFile, "-w", "-t", "60", "start").CombinedOutput(); err != nil {
		log, _ := os.ReadFile(logFile)
		return nil, fmt.Errorf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	s := &pgServer{url: fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port), dir: dir}
	s.stop = func() {
		command(context.Background(), filepath.Join(bin, "pg_ctl"), "-D", data, "-m", "fast", "-w", "stop").Run()
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		conn, err := pgx.Connect(ctx, s.url)
		if err == nil {
			conn.Close(ctx)
			return s, nil
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("PostgreSQL did not accept connections: %w", err)
		}
	}
}

func majorVersion(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}
