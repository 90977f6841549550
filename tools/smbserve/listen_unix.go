//go:build unix

package main

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"syscall"
)

// systemdListeners returns the sockets passed by systemd socket activation (sd_listen_fds):
// LISTEN_PID names this process and LISTEN_FDS counts the descriptors from 3.
func systemdListeners() ([]net.Listener, error) {
	pid, err := strconv.Atoi(os.Getenv("LISTEN_PID"))
	if err != nil || pid != os.Getpid() {
		return nil, nil
	}
	n, err := strconv.Atoi(os.Getenv("LISTEN_FDS"))
	if err != nil || n <= 0 {
		return nil, nil
	}
	os.Unsetenv("LISTEN_PID")
	os.Unsetenv("LISTEN_FDS")
	os.Unsetenv("LISTEN_FDNAMES")
	var out []net.Listener
	for i := 0; i < n; i++ {
		fd := 3 + i
		syscall.CloseOnExec(fd)
		f := os.NewFile(uintptr(fd), "LISTEN_FD_"+strconv.Itoa(fd))
		l, err := net.FileListener(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("systemd socket %d: %v", fd, err)
		}
		out = append(out, l)
	}
	return out, nil
}
