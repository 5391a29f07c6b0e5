package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/pinfold/pinfold/internal/pgcluster"
)

// pgServer is a PostgreSQL server the run creates its databases in: one given by URL, or a
// throwaway cluster started for the run.
type pgServer struct {
	url       string          // the server's URL, with a database the role can connect to
	databases []string        // databases this run created
	stop      func(keep bool) // stops a cluster this run started, keeping its folder or not; nil otherwise
	dir       string          // the folder of a cluster this run started
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

// close stops a throwaway cluster (and removes its folder, unless keep), or drops the
// databases the run created in a server given by URL (unless keep).
func (s *pgServer) close(keep bool) {
	if s.stop != nil {
		s.stop(keep)
		return
	}
	if !keep {
		s.drop(context.Background(), slices.Clone(s.databases)...)
	}
}

// startPostgres starts a throwaway PostgreSQL cluster in a new folder in parent ("" for the
// system's temporary folder; the postgres user must be able to reach it) from the machine's
// PostgreSQL binaries (pgcluster: pg_ctl on PATH, or the newest /usr/lib/postgresql/*/bin;
// as root, PostgreSQL runs as the postgres user). It keeps PostgreSQL's defaults except
// synchronous_commit=off, which gives the durability of the SQLite store's WAL with
// synchronous=NORMAL: a crash may lose the last commits, never corrupt; and except settings,
// name=value pairs (--postgres-settings), each passed as a -c option. A cluster that an
// earlier run left running in parent, because it died before stopping it, is stopped and
// removed first.
func startPostgres(ctx context.Context, parent string, settings []string) (*pgServer, error) {
	c, err := pgcluster.Start(ctx, pgcluster.Options{Root: parent, Prefix: "pinfold-bench-pg-", Settings: settings})
	if err != nil {
		return nil, fmt.Errorf("--postgres=auto: %w", err)
	}
	return &pgServer{url: c.URL, dir: c.Dir, stop: c.Stop}, nil
}
