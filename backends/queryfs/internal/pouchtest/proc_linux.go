package pouchtest

import (
	"os/exec"
	"syscall"
)

// setGroup starts the server in its own process group, so that stopping
// it also stops the node process npx starts, and has the kernel kill it
// if the test binary dies without cleaning up (a test timeout).
func setGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

func kill(cmd *exec.Cmd) {
	if cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
