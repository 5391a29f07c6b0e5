// Package pgcluster starts throwaway PostgreSQL clusters from the machine's PostgreSQL
// binaries: the tests' (postgres/pgtest) and pinfold-bench's --postgres=auto. Debian's
// postgresql-15 keeps initdb and pg_ctl in /usr/lib/postgresql/15/bin, off PATH.
//
// A cluster is stopped by whoever started it. A process that dies first (a panic, go test's
// -timeout, a kill) leaves its postmaster running and its folder behind, and nothing else
// would stop them. So every cluster's folder names its owner, the process that started it,
// and the next Start with the same root and prefix stops and removes the clusters whose owner
// is gone.
package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// ownerFile, in a cluster's folder, holds "PID START" of the process that started it.
const ownerFile = "owner"

// Options say where a cluster goes and how it runs.
type Options struct {
	// Root is the folder the cluster's folder is made in; "" is the system's temporary folder.
	// As root, the postgres user must be able to reach it.
	Root string
	// Prefix starts the name of the cluster's folder, and must not be empty. Start reaps the
	// orphans among Root's folders of the same prefix.
	Prefix string
	// Throwaway gives up durability for speed, for tests: initdb --no-sync, fsync=off and
	// full_page_writes=off, and Stop does not wait for a checkpoint. Without it the cluster
	// keeps PostgreSQL's defaults.
	Throwaway bool
	// Settings are name=value pairs, each passed to the server as a -c option after the
	// cluster's own (listen_addresses, port, socket folder, synchronous_commit=off,
	// max_connections=200).
	Settings []string
}

// Cluster is a running PostgreSQL server started by Start.
type Cluster struct {
	URL string // as the postgres superuser, database "postgres"
	Dir string // the cluster's folder: data/ and log

	opts Options
	bin  string
	run  func(ctx context.Context, args ...string) *exec.Cmd
}

// Start reaps the orphaned clusters of opts.Root and opts.Prefix, then runs initdb and
// pg_ctl on a new folder there, owned by this process, and waits until the server accepts
// connections. The server listens on 127.0.0.1 and a free port, and runs as the postgres user
// when this process is root (PostgreSQL refuses to run as root).
func Start(ctx context.Context, opts Options) (_ *Cluster, err error) {
	if opts.Prefix == "" {
		// Reaping would go through every folder of Root.
		return nil, errors.New("pgcluster: no prefix for the cluster's folder")
	}
	if opts.Root == "" {
		opts.Root = os.TempDir()
	}
	c := &Cluster{opts: opts}
	give, err := c.tools()
	if err != nil {
		return nil, err
	}
	c.reapOrphans(ctx)
	if c.Dir, err = os.MkdirTemp(opts.Root, opts.Prefix); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(c.Dir)
		}
	}()
	if err := writeOwner(c.Dir); err != nil {
		return nil, err
	}
	if err := give(c.Dir); err != nil {
		return nil, err
	}
	data := filepath.Join(c.Dir, "data")
	initdb := []string{filepath.Join(c.bin, "initdb"), "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8"}
	if opts.Throwaway {
		initdb = append(initdb, "--no-sync")
	}
	if out, err := c.run(ctx, initdb...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	o := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c synchronous_commit=off -c max_connections=200", port, c.Dir)
	if opts.Throwaway {
		o += " -c fsync=off -c full_page_writes=off"
	}
	for _, s := range opts.Settings {
		o += " -c " + s
	}
	logFile := filepath.Join(c.Dir, "log")
	if out, err := c.run(ctx, filepath.Join(c.bin, "pg_ctl"), "-D", data, "-o", o, "-l", logFile, "-w", "-t", "60", "start").CombinedOutput(); err != nil {
		log, _ := os.ReadFile(logFile)
		return nil, fmt.Errorf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	c.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	wait, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		conn, err := pgx.Connect(wait, c.URL)
		if err == nil {
			conn.Close(wait)
			return c, nil
		}
		if wait.Err() != nil {
			c.Stop(false)
			return nil, fmt.Errorf("PostgreSQL did not accept connections: %w", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop stops the server and removes its folder. With keep, the folder stays, stopped, and
// without its owner file, so that no later Start takes it for an orphan.
func (c *Cluster) Stop(keep bool) {
	mode := "fast"
	if c.opts.Throwaway {
		mode = "immediate"
	}
	c.run(context.Background(), filepath.Join(c.bin, "pg_ctl"), "-D", filepath.Join(c.Dir, "data"), "-m", mode, "-w", "stop").Run()
	if keep {
		os.Remove(filepath.Join(c.Dir, ownerFile))
		return
	}
	os.RemoveAll(c.Dir)
}

// tools finds the machine's PostgreSQL programs and how to run them. As root they run as the
// postgres user (runuser), and give hands that user a folder.
func (c *Cluster) tools() (give func(dir string) error, err error) {
	if c.bin, err = binDir(); err != nil {
		return nil, err
	}
	c.run = func(ctx context.Context, args ...string) *exec.Cmd {
		return exec.CommandContext(ctx, args[0], args[1:]...)
	}
	give = func(string) error { return nil }
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running PostgreSQL as root needs a postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		c.run = func(ctx context.Context, args ...string) *exec.Cmd {
			return exec.CommandContext(ctx, "runuser", append([]string{"-u", "postgres", "--"}, args...)...)
		}
		give = func(dir string) error { return os.Chown(dir, uid, gid) }
	}
	return give, nil
}

// binDir finds the folder holding initdb and pg_ctl: pg_ctl's on PATH, or the newest
// /usr/lib/postgresql/*/bin that has one.
func binDir() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return majorVersion(b) - majorVersion(a) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("no pg_ctl on PATH or in /usr/lib/postgresql/*/bin: install postgresql-15")
}

// majorVersion reads the version out of /usr/lib/postgresql/VERSION/bin.
func majorVersion(bin string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(bin)))
	return n
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// writeOwner records this process as the owner of the cluster folder dir.
func writeOwner(dir string) error {
	pid := os.Getpid()
	return os.WriteFile(filepath.Join(dir, ownerFile), fmt.Appendf(nil, "%d %s\n", pid, startTime(pid)), 0o644)
}

// startTime returns when process pid started, in the kernel's clock ticks since boot
// (/proc/PID/stat's 22nd field), or "" where that cannot be read. With the PID it names one
// process: a PID the kernel hands out again goes with a later start.
func startTime(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	// The second field, the command in parentheses, may hold spaces and parentheses: the
	// fields after it are counted from its last ')', the third field first.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return ""
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return ""
	}
	return f[19]
}

// alive reports whether process pid exists. A process of another user answers signal 0
// with EPERM, and exists.
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// ownerGone reports whether the process that dir's owner file names has ended. A folder
// without a readable owner file is not known to be an orphan: a cluster made before owners
// were written, one kept on purpose (Stop with keep), or one whose owner has created the
// folder and not yet written the file.
func ownerGone(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, ownerFile))
	if err != nil {
		return false
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return false
	}
	pid, err := strconv.Atoi(f[0])
	if err != nil || pid <= 0 {
		return false
	}
	if !alive(pid) {
		return true
	}
	// The PID is taken. It is the owner's unless both start times are known and differ.
	return len(f) > 1 && f[1] != "" && startTime(pid) != "" && startTime(pid) != f[1]
}

// postmasterRunning reports whether the postmaster of the data folder data runs: the first
// line of its postmaster.pid names a process that exists.
func postmasterRunning(data string) bool {
	b, err := os.ReadFile(filepath.Join(data, "postmaster.pid"))
	if err != nil {
		return false
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	return err == nil && pid > 0 && alive(pid)
}

// reapOrphans stops the clusters of c's root and prefix whose owner is gone and removes their
// folders. A folder whose postmaster still runs after the stop is left as it is: removing the
// files of a running server helps nobody.
func (c *Cluster) reapOrphans(ctx context.Context) {
	dirs, _ := filepath.Glob(filepath.Join(c.opts.Root, c.opts.Prefix+"*"))
	for _, dir := range dirs {
		if !ownerGone(dir) {
			continue
		}
		data := filepath.Join(dir, "data")
		if postmasterRunning(data) {
			c.run(ctx, filepath.Join(c.bin, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop").Run()
			if postmasterRunning(data) {
				continue
			}
		}
		os.RemoveAll(dir)
	}
}
