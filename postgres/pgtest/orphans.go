package pgtest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// A throwaway cluster is stopped by Main when the tests end. A test binary that dies first
// (a panic, go test's -timeout, a kill) leaves its postmaster running and its folder behind,
// and nothing else would stop them. So every cluster's folder names its owner, the process
// that started it, and the next startCluster stops and removes the clusters whose owner is
// gone.

const (
	clusterPrefix = "pinfold-pg-" // the folders of throwaway clusters, in the temporary folder
	ownerFile     = "owner"       // in a cluster's folder: "PID START" of the process that started it
)

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
// were written, or one whose owner has created the folder and not yet written the file.
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

// reapOrphans stops the clusters in root whose owner is gone, with pg_ctl from bin run
// through run, and removes their folders. A folder whose postmaster still runs after the
// stop is left as it is: removing the files of a running server helps nobody.
func reapOrphans(root, bin string, run func(args ...string) *exec.Cmd) {
	dirs, _ := filepath.Glob(filepath.Join(root, clusterPrefix+"*"))
	for _, dir := range dirs {
		if !ownerGone(dir) {
			continue
		}
		data := filepath.Join(dir, "data")
		if postmasterRunning(data) {
			run(filepath.Join(bin, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop").Run()
			if postmasterRunning(data) {
				continue
			}
		}
		os.RemoveAll(dir)
	}
}
