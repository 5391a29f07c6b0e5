package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestStartPostgresSettings starts the throwaway cluster of --postgres=auto with
// --postgres-settings: each setting must be in force, beside the cluster's own.
func TestStartPostgresSettings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := startPostgres(ctx, "", []string{"work_mem=7MB", "shared_buffers=24MB"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.close(false)
	conn, err := pgx.Connect(ctx, s.url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for name, want := range map[string]string{"work_mem": "7MB", "shared_buffers": "24MB", "synchronous_commit": "off"} {
		var got string
		if err := conn.QueryRow(ctx, "SELECT current_setting($1)", name).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s = %s, want %s", name, got, want)
		}
	}
}

// TestReportNamesPostgresSettings: a table of a run with --postgres-settings says, above its
// figures, what the cluster was set to.
func TestReportNamesPostgresSettings(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	r := &Report{Rows: 10, Formats: []string{"csv"}, StoreWriters: 4, Rounds: 1, Postgres: "auto",
		PostgresSettings: []string{"shared_buffers=1GB", "max_wal_size=4GB"}}
	if err := r.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	if want := "PostgreSQL cluster settings: synchronous_commit=off, shared_buffers=1GB, max_wal_size=4GB\n"; !strings.Contains(b.String(), want) {
		t.Errorf("the table's header:\n%s\nwant a line %q", b.String(), want)
	}
	r.PostgresSettings = nil
	b.Reset()
	if err := r.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "cluster settings") {
		t.Errorf("a run without settings names some:\n%s", b.String())
	}
}
