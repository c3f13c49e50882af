package restic

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the kernel kill restic when danzen dies (a crash,
// SIGKILL): an orphaned restic would go on writing to a medium that the
// next start is about to unmount and cut.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
