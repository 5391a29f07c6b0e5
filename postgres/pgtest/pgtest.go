// Package pgtest gives tests a real PostgreSQL: the one at PINFOLD_TEST_DATABASE_URL when set,
// else a throwaway cluster it starts from the machine's PostgreSQL binaries (Debian's
// postgresql-15 keeps initdb and pg_ctl in /usr/lib/postgresql/15/bin, off PATH). Each test
// gets a database of its own in that server.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

var (
	mu      sync.Mutex
	baseURL string // the server's URL, database "postgres"
	stop    func() // stops a cluster this process started
	started error  // why the cluster could not start
	once    sync.Once
)

// Main runs a test binary's tests and stops the throwaway cluster afterwards. Call it from
// TestMain: os.Exit(pgtest.Main(m)).
func Main(m interface{ Run() int }) int {
	code := m.Run()
	mu.Lock()
	defer mu.Unlock()
	if stop != nil {
		stop()
	}
	return code
}

// URL returns the URL of a new, empty database for t, dropped when t ends.
func URL(t testing.TB) string {
	t.Helper()
	once.Do(func() {
		if u := os.Getenv("PINFOLD_TEST_DATABASE_URL"); u != "" {
			baseURL = u
			return
		}
		var s func()
		baseURL, s, started = startCluster(os.TempDir())
		mu.Lock()
		stop = s
		mu.Unlock()
	})
	if started != nil {
		t.Fatalf("start a throwaway PostgreSQL (or set PINFOLD_TEST_DATABASE_URL): %v", started)
	}
	name := "pinfold_test_" + randomHex(6)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, baseURL)
	if err != nil {
		t.Fatalf("connect to test PostgreSQL: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, baseURL)
		if err != nil {
			return
		}
		defer conn.Close(ctx)
		conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	u, _ := url.Parse(baseURL)
	u.Path = "/" + name
	return u.String()
}

// binDir finds the folder holding initdb and pg_ctl.
func binDir() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("no pg_ctl on PATH or in /usr/lib/postgresql/*/bin: install postgresql-15")
}

func version(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

// tools finds the machine's PostgreSQL programs. PostgreSQL refuses to run as root, so as
// root run runs them as the postgres user (runuser), and give hands that user a folder.
func tools() (bin string, run func(args ...string) *exec.Cmd, give func(dir string) error, err error) {
	if bin, err = binDir(); err != nil {
		return "", nil, nil, err
	}
	run = func(args ...string) *exec.Cmd { return exec.Command(args[0], args[1:]...) }
	give = func(string) error { return nil }
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return "", nil, nil, fmt.Errorf("running as root needs a postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		run = func(args ...string) *exec.Cmd {
			return exec.Command("runuser", append([]string{"-u", "postgres", "--"}, args...)...)
		}
		give = func(dir string) error { return os.Chown(dir, uid, gid) }
	}
	return bin, run, give, nil
}

// startCluster runs initdb and pg_ctl on a new folder in root, owned by this process (see
// writeOwner). First it stops and removes the clusters in root that a test binary started
// and did not stop because it died: see reapOrphans.
func startCluster(root string) (string, func(), error) {
	bin, run, give, err := tools()
	if err != nil {
		return "", nil, err
	}
	reapOrphans(root, bin, run)
	dir, err := os.MkdirTemp(root, clusterPrefix)
	if err != nil {
		return "", nil, err
	}
	if err := writeOwner(dir); err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	if err := give(dir); err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	data := filepath.Join(dir, "data")
	if out, err := run(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8").CombinedOutput(); err != nil {
		return "", nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	port, err := freePort()
	if err != nil {
		return "", nil, err
	}
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200", port, dir)
	if out, err := run(filepath.Join(bin, "pg_ctl"), "-D", data, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "-t", "60", "start").CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		return "", nil, fmt.Errorf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	stop := func() {
		run(filepath.Join(bin, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop").Run()
		os.RemoveAll(dir)
	}
	u := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		conn, err := pgx.Connect(ctx, u)
		if err == nil {
			conn.Close(ctx)
			return u, stop, nil
		}
		if ctx.Err() != nil {
			stop()
			return "", nil, fmt.Errorf("PostgreSQL did not accept connections: %w", err)
		}
		time.Sleep(50 * time.Millisecond)
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

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return strings.ToLower(hex.EncodeToString(b))
}
