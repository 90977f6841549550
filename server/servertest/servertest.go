// Package servertest runs a server.Server on a loopback port for the length of a test, and
// the real SMB clients (smbclient, smbtorture, impacket, rpcclient) that interoperability
// tests drive against it, in the spirit of net/http/httptest.
//
//	port := servertest.Serve(t, server.Options{Shares: ..., Users: servertest.Users(t, "alice", "Secret123")})
//	smbclient := servertest.NeedClient(t, "smbclient", "smbclient")
//	out, err := servertest.RunClient(t, time.Minute, nil, smbclient, "//127.0.0.1/test", "-p", strconv.Itoa(port), ...)
//
// Interoperability tests skip with -short and when a client is not installed, except in CI
// (CI=true), where a missing client fails the test: CI installs every one of them.
package servertest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/smbvfs/smbvfs/server"
)

// Serve starts a server with opts on 127.0.0.1 (a free port) and returns the port. The
// server shuts down, gracefully and within ten seconds, when the test ends.
func Serve(t testing.TB, opts server.Options) int {
	t.Helper()
	srv, err := server.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return l.Addr().(*net.TCPAddr).Port
}

// Users returns a user table of the given name and password pairs.
func Users(t testing.TB, namePassword ...string) *server.Users {
	t.Helper()
	if len(namePassword)%2 != 0 {
		t.Fatal("servertest.Users: names and passwords come in pairs")
	}
	users := server.NewUsers()
	for i := 0; i < len(namePassword); i += 2 {
		if err := users.SetPassword(namePassword[i], namePassword[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	return users
}

// InCI reports whether the tests run in CI (CI=true), where every client is installed.
func InCI() bool { return os.Getenv("CI") == "true" }

// Unavailable skips the test because something it needs is missing, or fails it in CI.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if InCI() {
		t.Fatalf("%s (CI=true: it must be installed)", msg)
	}
	t.Skip(msg)
}

// NeedClient returns the path of an installed client program; debianPackage names the
// package that installs it. It skips the test with -short.
func NeedClient(t testing.TB, name, debianPackage string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("interoperability test (-short)")
	}
	p, err := exec.LookPath(name)
	if err != nil {
		Unavailable(t, "%s not installed (apt-get install %s)", name, debianPackage)
	}
	return p
}

// RunClient runs a program with stdin (nil: none), killing it after timeout, and returns
// its standard output and error interleaved.
func RunClient(t testing.TB, timeout time.Duration, stdin []byte, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.WaitDelay = 5 * time.Second
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		return out.String(), fmt.Errorf("%s timed out after %v", name, timeout)
	}
	return out.String(), err
}
