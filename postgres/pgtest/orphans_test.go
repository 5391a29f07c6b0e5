package pgtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestReapOrphans starts a real cluster, lets its owner die, and checks that the next start
// stops and removes it and nothing else.
func TestReapOrphans(t *testing.T) {
	// A root of its own, which the postgres user may enter when the tests run as root.
	root, err := os.MkdirTemp("", "pgtest-reap-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}

	url, stop, err := startCluster(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	orphan := only(t, root)

	// The owner is a process that has ended.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(orphan, ownerFile), fmt.Sprintf("%d\n", dead.Process.Pid))

	// Folders that must stay: one this process owns, one without an owner file (made before
	// owners were written, or not yet written); and one that must go: its owner's PID is this
	// process's, but it started at another time, so that PID was handed out again.
	mine, unknown, reused := dir(t, root), dir(t, root), dir(t, root)
	if err := writeOwner(mine); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(reused, ownerFile), fmt.Sprintf("%d 1\n", os.Getpid()))

	url2, stop2, err := startCluster(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop2)

	for d, want := range map[string]bool{orphan: false, mine: true, unknown: true, reused: false} {
		if _, err := os.Stat(d); (err == nil) != want {
			t.Errorf("%s: exists %v, want %v", filepath.Base(d), err == nil, want)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if conn, err := pgx.Connect(ctx, url); err == nil {
		conn.Close(ctx)
		t.Error("the orphaned cluster still accepts connections")
	}
	conn, err := pgx.Connect(ctx, url2)
	if err != nil {
		t.Fatalf("the new cluster: %v", err)
	}
	conn.Close(ctx)
}

// TestOwnerGone covers what an owner file can say.
func TestOwnerGone(t *testing.T) {
	d := t.TempDir()
	for _, c := range []struct {
		owner string // "" for no file
		gone  bool
	}{
		{"", false},
		{"\n", false},
		{"not a pid\n", false},
		{fmt.Sprintf("%d %s\n", os.Getpid(), startTime(os.Getpid())), false},
		{fmt.Sprintf("%d\n", os.Getpid()), false}, // start unknown: the PID's process is taken for the owner
		{fmt.Sprintf("%d 1\n", os.Getpid()), true},
		{"2147483646 5\n", true}, // above any pid_max
	} {
		os.Remove(filepath.Join(d, ownerFile))
		if c.owner != "" {
			writeFile(t, filepath.Join(d, ownerFile), c.owner)
		}
		if got := ownerGone(d); got != c.gone {
			t.Errorf("owner %q: gone %v, want %v", c.owner, got, c.gone)
		}
	}
	if startTime(os.Getpid()) == "" {
		t.Error("no start time for this process")
	}
}

// only returns the one cluster folder in root.
func only(t *testing.T, root string) string {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(root, clusterPrefix+"*"))
	if len(dirs) != 1 {
		t.Fatalf("cluster folders %v, want one", dirs)
	}
	return dirs[0]
}

// dir makes an empty cluster folder in root.
func dir(t *testing.T, root string) string {
	t.Helper()
	d, err := os.MkdirTemp(root, clusterPrefix)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func writeFile(t *testing.T, name, s string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}
