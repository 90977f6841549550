// Package pouchtest starts a CouchDB-compatible server (pouchdb-server,
// in memory, on a free loopback port) for tests.
//
// The server is found through $SMBVFS_POUCHDB (the path of the
// pouchdb-server executable), else through npx if it can run it offline.
// Without either, tests that need it fail when $CI is "true" and are
// skipped otherwise.
package pouchtest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is a running pouchdb-server.
type Server struct {
	URL string // http://127.0.0.1:port
	cmd *exec.Cmd
}

var (
	mu     sync.Mutex
	shared *Server
	refs   int
)

func command() ([]string, string) {
	if p := os.Getenv("SMBVFS_POUCHDB"); p != "" {
		return []string{p}, ""
	}
	npx, err := exec.LookPath("npx")
	if err != nil {
		return nil, "SMBVFS_POUCHDB is not set and npx is not installed"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, npx, "--offline", "--yes", "pouchdb-server", "--help").CombinedOutput(); err != nil {
		return nil, fmt.Sprintf("SMBVFS_POUCHDB is not set and npx cannot run pouchdb-server offline: %v: %.200s", err, out)
	}
	return []string{npx, "--offline", "--yes", "pouchdb-server"}, ""
}

// Start returns the pouchdb-server of this test binary, starting it on
// first use; it stops when the last test using it ends.
func Start(t testing.TB) *Server {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if shared == nil {
		s, err := start(t)
		if err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("CouchDB tests need pouchdb-server (CI=true): %v\n"+
					"install it with: npm install --prefix /opt/pouchdb pouchdb-server, then export SMBVFS_POUCHDB=/opt/pouchdb/node_modules/.bin/pouchdb-server", err)
			}
			t.Skipf("no pouchdb-server: %v (set SMBVFS_POUCHDB)", err)
		}
		shared = s
	}
	refs++
	s := shared
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		if refs--; refs == 0 {
			s.stop()
			shared = nil
		}
	})
	return s
}

func start(t testing.TB) (*Server, error) {
	argv, why := command()
	if argv == nil {
		return nil, fmt.Errorf("%s", why)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir, err := os.MkdirTemp("", "pouchtest-")
	if err != nil {
		return nil, err
	}
	args := append(argv[1:], "--in-memory", "--host", "127.0.0.1", "--port", fmt.Sprint(port),
		"--no-stdout-logs", "--no-color", "--config", filepath.Join(dir, "config.json"))
	cmd := exec.Command(argv[0], args...)
	cmd.Dir = dir
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	setGroup(cmd)
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s := &Server{URL: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(s.URL + "/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case <-exited:
			os.RemoveAll(dir)
			return nil, fmt.Errorf("pouchdb-server exited: %.500s", out.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			os.RemoveAll(dir)
			return nil, fmt.Errorf("pouchdb-server did not answer on %s within 60s", s.URL)
		}
	}
	go func() { <-exited; os.RemoveAll(dir) }()
	return s, nil
}

func (s *Server) stop() {
	kill(s.cmd)
}

var dbSeq struct {
	sync.Mutex
	n int
}

// DB returns the URL of a new, empty database.
func (s *Server) DB(t testing.TB) string {
	dbSeq.Lock()
	dbSeq.n++
	n := dbSeq.n
	dbSeq.Unlock()
	return fmt.Sprintf("%s/test_%d_%d", s.URL, os.Getpid(), n)
}
