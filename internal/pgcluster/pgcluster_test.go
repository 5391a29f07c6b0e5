package pgcluster

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

const prefix = "pgcluster-test-"

// newRoot makes a root of its own, which the postgres user may enter when the tests run as
// root.
func newRoot(t *testing.T) string {
	t.Helper()
	root, err := os.MkdirTemp("", "pgcluster-root-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	return root
}

func start(t *testing.T, opts Options) *Cluster {
	t.Helper()
	c, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop(false) })
	return c
}

// setting reads a setting of the server at url.
func setting(t *testing.T, url, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var v string
	if err := conn.QueryRow(ctx, "SELECT current_setting($1)", name).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func accepts(url string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return false
	}
	conn.Close(ctx)
	return true
}

// TestStartSettings: a throwaway cluster gives up fsync, a durable one keeps it, and both
// take the settings asked for besides their own.
func TestStartSettings(t *testing.T) {
	t.Parallel()
	root := newRoot(t)
	for _, throwaway := range []bool{true, false} {
		c := start(t, Options{Root: root, Prefix: prefix, Throwaway: throwaway, Settings: []string{"work_mem=7MB"}})
		want := map[string]string{"work_mem": "7MB", "synchronous_commit": "off", "fsync": "on", "listen_addresses": "127.0.0.1"}
		if throwaway {
			want["fsync"] = "off"
		}
		for name, v := range want {
			if got := setting(t, c.URL, name); got != v {
				t.Errorf("throwaway %v: %s = %s, want %s", throwaway, name, got, v)
			}
		}
	}
}

func TestStartNeedsAPrefix(t *testing.T) {
	if _, err := Start(context.Background(), Options{Root: t.TempDir()}); err == nil {
		t.Fatal("a cluster without a prefix started: its Start would reap every folder of the root")
	}
}

// TestStop: a stopped cluster's folder goes, or stays without its owner with keep, and then
// the next Start does not take it for an orphan.
func TestStop(t *testing.T) {
	t.Parallel()
	root := newRoot(t)
	gone, err := Start(context.Background(), Options{Root: root, Prefix: prefix, Throwaway: true})
	if err != nil {
		t.Fatal(err)
	}
	gone.Stop(false)
	if _, err := os.Stat(gone.Dir); !os.IsNotExist(err) {
		t.Errorf("a stopped cluster's folder: %v, want it removed", err)
	}
	if accepts(gone.URL) {
		t.Error("a stopped cluster accepts connections")
	}

	kept, err := Start(context.Background(), Options{Root: root, Prefix: prefix, Throwaway: true})
	if err != nil {
		t.Fatal(err)
	}
	kept.Stop(true)
	if _, err := os.Stat(filepath.Join(kept.Dir, "data", "PG_VERSION")); err != nil {
		t.Errorf("a kept cluster's data: %v", err)
	}
	if _, err := os.Stat(filepath.Join(kept.Dir, ownerFile)); !os.IsNotExist(err) {
		t.Errorf("a kept cluster's owner file: %v, want none", err)
	}
	if accepts(kept.URL) {
		t.Error("a kept cluster still accepts connections")
	}
	start(t, Options{Root: root, Prefix: prefix, Throwaway: true})
	if _, err := os.Stat(kept.Dir); err != nil {
		t.Errorf("the next Start reaped a kept cluster: %v", err)
	}
}

// TestReapOrphans starts a real cluster, lets its owner die, and checks that the next start
// stops and removes it and nothing else.
func TestReapOrphans(t *testing.T) {
	t.Parallel()
	root := newRoot(t)
	orphan := start(t, Options{Root: root, Prefix: prefix, Throwaway: true})

	// The owner is a process that has ended.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(orphan.Dir, ownerFile), fmt.Sprintf("%d\n", dead.Process.Pid))

	// Folders that must stay: one this process owns, one without an owner file (made before
	// owners were written, kept, or not yet written), an orphan of another prefix; and one
	// that must go: its owner's PID is this process's, but it started at another time, so
	// that PID was handed out again.
	mine, unknown, reused := dir(t, root, prefix), dir(t, root, prefix), dir(t, root, prefix)
	if err := writeOwner(mine); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(reused, ownerFile), fmt.Sprintf("%d 1\n", os.Getpid()))
	other := dir(t, root, "other-")
	writeFile(t, filepath.Join(other, ownerFile), fmt.Sprintf("%d\n", dead.Process.Pid))

	next := start(t, Options{Root: root, Prefix: prefix, Throwaway: true})

	for d, want := range map[string]bool{orphan.Dir: false, mine: true, unknown: true, reused: false, other: true} {
		if _, err := os.Stat(d); (err == nil) != want {
			t.Errorf("%s: exists %v, want %v", filepath.Base(d), err == nil, want)
		}
	}
	if accepts(orphan.URL) {
		t.Error("the orphaned cluster still accepts connections")
	}
	if !accepts(next.URL) {
		t.Error("the new cluster does not accept connections")
	}
}

// TestOwnerGone covers what an owner file can say.
func TestOwnerGone(t *testing.T) {
	t.Parallel()
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

// dir makes an empty folder of prefix in root.
func dir(t *testing.T, root, prefix string) string {
	t.Helper()
	d, err := os.MkdirTemp(root, prefix)
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
