package main

import (
	"context"
	"os"
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
	if _, err := os.Stat(s.dir); err != nil {
		t.Errorf("the cluster's folder: %v", err)
	}
}
