package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/smbvfs/smbvfs/protocol/ntlm"
	"github.com/smbvfs/smbvfs/protocol/smb2"
	"github.com/smbvfs/smbvfs/server"
)

func runApp(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := app(strings.NewReader(stdin), &out, &out).Run(context.Background(), append([]string{"smbserve"}, args...))
	return out.String(), err
}

func TestUserFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "users")
	if out, err := runApp(t, "s3cret\n", "user", "add", "--file", f, "alice"); err != nil {
		t.Fatalf("add: %v %s", err, out)
	}
	if _, err := runApp(t, "other\n", "user", "add", "--file", f, "bob"); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(f)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v %v", fi.Mode(), err)
	}
	data, _ := os.ReadFile(f)
	if bytes.Contains(data, []byte("s3cret")) {
		t.Fatal("the password is stored")
	}
	u, err := server.LoadUsers(f)
	if err != nil {
		t.Fatal(err)
	}
	if h, ok := u.NTHash("ALICE", ""); !ok || h != ntlm.NTHash("s3cret") {
		t.Fatal("alice's NT hash")
	}
	out, err := runApp(t, "", "user", "list", "--file", f)
	if err != nil || out != "alice\nbob\n" {
		t.Fatalf("list: %q %v", out, err)
	}
	if _, err := runApp(t, "", "user", "del", "--file", f, "bob"); err != nil {
		t.Fatal(err)
	}
	if out, _ := runApp(t, "", "user", "list", "--file", f); out != "alice\n" {
		t.Fatalf("after del: %q", out)
	}
	if _, err := runApp(t, "", "user", "add", "--file", f, "carol"); err == nil {
		t.Fatal("add without a password succeeded")
	}
	os.Chmod(f, 0o644)
	if _, err := runApp(t, "", "user", "list", "--file", f); !errors.Is(err, server.ErrInsecureUsersFile) {
		t.Fatalf("world-readable file: %v", err)
	}
	if _, err := runApp(t, "x\n", "user", "add", "--file", f, "dave"); !errors.Is(err, server.ErrInsecureUsersFile) {
		t.Fatalf("add to a world-readable file: %v", err)
	}
}

func TestParse(t *testing.T) {
	for in, want := range map[string]smb2.Dialect{"2.0.2": smb2.Dialect202, "2.1": smb2.Dialect210, "3.0": smb2.Dialect300,
		"3.0.2": smb2.Dialect302, "3.1.1": smb2.Dialect311, "SMB3_11": smb2.Dialect311} {
		if d, err := parseDialect(in); err != nil || d != want {
			t.Errorf("%s: %v %v", in, d, err)
		}
	}
	if _, err := parseDialect("1.0"); err == nil {
		t.Error("1.0 accepted")
	}
	sh, _, err := parseShare("test=memfs,ro,encrypt")
	if err != nil || sh.Name != "test" || !sh.ReadOnly || !sh.Encrypt || sh.FS == nil {
		t.Errorf("memfs share: %+v %v", sh, err)
	}
	sh, closer, err := parseShare("data=passthrough:" + t.TempDir())
	if err != nil || sh.FS == nil {
		t.Errorf("passthrough: %v", err)
	} else {
		closer()
	}
	for _, bad := range []string{"x", "=memfs", "x=nosuch", "x=passthrough", "x=memfs,bogus"} {
		if _, _, err := parseShare(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestListenError(t *testing.T) {
	err := listenError(":445", &net.OpError{Op: "listen", Err: os.NewSyscallError("bind", syscall.EACCES)})
	for _, want := range []string{"--listen 127.0.0.1:10445", "setcap cap_net_bind_service", "socket activation"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message lacks %q:\n%v", want, err)
		}
	}
	if _, err := runApp(t, "", "serve", "--listen", "127.0.0.1:10445"); err == nil || !strings.Contains(err.Error(), "no share") {
		t.Errorf("serve without shares: %v", err)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The no-argument demo prints its address and credentials and serves smbclient.
func TestDemo(t *testing.T) {
	var out syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app(strings.NewReader(""), &out, &out).Run(ctx, []string{"smbserve"}) }()
	re := regexp.MustCompile(`127\.0\.0\.1:(\d+)`)
	var addr string
	// The music share generates and indexes its library first: allow for a slow machine.
	for i := 0; i < 1500 && addr == ""; i++ {
		time.Sleep(20 * time.Millisecond)
		addr = re.FindString(out.String())
	}
	if addr == "" {
		cancel()
		t.Fatalf("no address printed:\n%s", out.String())
	}
	for _, want := range []string{"demo / demo", "smbclient", "mount -t cifs", "net use", "smb://", "music"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the banner lacks %q", want)
		}
	}
	if smbclient, err := exec.LookPath("smbclient"); err == nil && !testing.Short() {
		port := strings.TrimPrefix(addr, "127.0.0.1:")
		cctx, ccancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer ccancel()
		for _, tc := range []struct{ share, user, cmd, want string }{
			{"hello", "demo%demo", "ls", "README.txt"},
			{"test", "demo%demo", "mkdir d; ls", "d  "},
			{"test", "guest%", "ls", "blocks of size"},
			{"music", "demo%demo", "ls", "Artists"},
		} {
			res, err := exec.CommandContext(cctx, smbclient, "//127.0.0.1/"+tc.share, "-p", port, "-U", tc.user, "-c", tc.cmd).CombinedOutput()
			if err != nil || !strings.Contains(string(res), tc.want) {
				t.Errorf("smbclient on the demo share %s as %s: %v\n%s", tc.share, tc.user, err, res)
			}
		}
		res, err := exec.CommandContext(cctx, smbclient, "-L", "//127.0.0.1", "-p", port, "-N").CombinedOutput()
		if err != nil || !strings.Contains(string(res), "music") {
			t.Errorf("smbclient -L on the demo: %v\n%s", err, res)
		}
	} else if c, err := net.Dial("tcp", addr); err != nil {
		t.Error(err)
	} else {
		c.Close()
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("demo: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("demo did not stop")
	}
}

// The server takes the sockets of systemd socket activation (LISTEN_FDS).
func TestSocketActivation(t *testing.T) {
	activate, err := exec.LookPath("systemd-socket-activate")
	if err != nil || testing.Short() {
		t.Skip("systemd-socket-activate not installed (or -short)")
	}
	smbclient, err := exec.LookPath("smbclient")
	if err != nil {
		t.Skip("smbclient not installed")
	}
	bin := filepath.Join(t.TempDir(), "smbserve")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	var log syncBuffer
	cmd := exec.CommandContext(ctx, activate, "-l", addr, bin, "serve", "--share", "test=memfs", "--guest")
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}()
	port := addr[strings.LastIndexByte(addr, ':')+1:]
	var out []byte
	for i := 0; i < 50; i++ {
		cctx, ccancel := context.WithTimeout(ctx, 30*time.Second)
		out, err = exec.CommandContext(cctx, smbclient, "//127.0.0.1/test", "-p", port, "-N", "-c", "ls").CombinedOutput()
		ccancel()
		if err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil || !strings.Contains(string(out), "blocks of size") {
		t.Fatalf("smbclient through the activated socket: %v\n%s\n%s", err, out, log.String())
	}
	if !strings.Contains(log.String(), "listening on "+addr) {
		t.Errorf("log: %s", log.String())
	}
}

// SIGHUP makes the server binary reload its configuration: a new share is served and the
// result is logged.
func TestSIGHUP(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	smbclient, err := exec.LookPath("smbclient")
	if err != nil {
		t.Skip("smbclient not installed")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "smbserve")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cfg := filepath.Join(dir, "smbserve.yaml")
	os.WriteFile(cfg, []byte("guest: true\nshares:\n  - name: a\n    backend: memfs\n"), 0o644)
	addr := freeAddr(t)
	var log syncBuffer
	cmd := exec.CommandContext(ctx, bin, "serve", "--config", cfg, "--listen", addr)
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}()
	for i := 0; i < 200 && !strings.Contains(log.String(), "msg=serving"); i++ {
		time.Sleep(20 * time.Millisecond)
	}
	os.WriteFile(cfg, []byte("guest: true\nshares:\n  - name: a\n    backend: memfs\n  - name: b\n    backend: hello\n"), 0o644)
	cmd.Process.Signal(syscall.SIGHUP)
	for i := 0; i < 200 && !strings.Contains(log.String(), "configuration reloaded"); i++ {
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(log.String(), `msg="configuration reloaded" shares=a,b`) {
		t.Fatalf("no reload logged:\n%s", log.String())
	}
	port := addr[strings.LastIndexByte(addr, ':')+1:]
	out, err := exec.CommandContext(ctx, smbclient, "//127.0.0.1/b", "-p", port, "-N", "-c", "ls").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "README.txt") {
		t.Errorf("new share after SIGHUP: %v\n%s\n%s", err, out, log.String())
	}
}
