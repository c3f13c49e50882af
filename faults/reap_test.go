package faults_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The test process plays the appliance's init for what it starts: when a
// killed danzen child's restic dies with it (Pdeathsig), the orphan is
// reparented here and reaped, as gokrazy's supervisor reaps a service's
// processes. Without this, on a machine whose PID 1 does not reap, the
// zombie's PID still looks alive to restic, and its stale lock is never
// taken for stale.
func becomeSubreaper() error { return unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) }

// reapOrphanedRestic waits until no restic process is a child of this
// test (the killed child's, reparented here), reaping each once it died.
func reapOrphanedRestic(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		left := 0
		for _, p := range resticChildren() {
			if p.zombie {
				var ws unix.WaitStatus
				if _, err := unix.Wait4(p.pid, &ws, unix.WNOHANG, nil); err != nil {
					t.Logf("reaping restic %d: %v", p.pid, err)
				}
				continue
			}
			left++
		}
		if left == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%d restic processes of the killed child still run after 30 s", left)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type proc struct {
	pid    int
	zombie bool
}

// resticChildren are this process's children named restic.
func resticChildren() []proc {
	self := os.Getpid()
	stats, _ := filepath.Glob("/proc/[0-9]*/stat") // a pattern that cannot be malformed
	var out []proc
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // it exited meanwhile
		}
		// pid (comm) state ppid …; comm may hold spaces, so cut at the last ")".
		s := string(b)
		open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || closing < open {
			continue
		}
		fields := strings.Fields(s[closing+1:])
		if len(fields) < 2 || s[open+1:closing] != "restic" {
			continue
		}
		ppid, _ := strconv.Atoi(fields[1])
		pid, _ := strconv.Atoi(strings.TrimSpace(s[:open]))
		if ppid == self {
			out = append(out, proc{pid: pid, zombie: fields[0] == "Z"})
		}
	}
	return out
}
