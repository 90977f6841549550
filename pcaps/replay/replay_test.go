package replay

import (
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/smbvfs/smbvfs/backends/memfs"
	"github.com/smbvfs/smbvfs/pcaps/sessions"
	"github.com/smbvfs/smbvfs/server"
)

// startServer runs a fresh smbserve-like server in-process, configured as pcaps/record.sh
// configures smbserve: a memfs share "test", user alice, guest allowed.
func startServer(t *testing.T, hook func(*server.Options)) string {
	t.Helper()
	users := server.NewUsers()
	users.SetPassword("alice", "Secret123")
	opts := server.Options{
		Shares: []server.Share{{Name: "test", FS: memfs.New(memfs.Options{})}},
		Users:  users, Guest: true, Anonymous: true, ServerName: "SMBVFS",
	}
	if hook != nil {
		hook(&opts)
	}
	srv, err := server.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String()
}

func ring(t *testing.T) *sessions.Ring {
	r, err := sessions.Load(filepath.Join("..", "keys"))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestReplayDebug(t *testing.T) {
	f := os.Getenv("REPLAY_FILE")
	if f == "" {
		t.Skip()
	}
	addr := startServer(t, nil)
	r, err := File(f, Options{Ring: ring(t), Timeout: 5 * time.Second, Dial: func() (net.Conn, error) { return net.Dial("tcp", addr) }})
	if err != nil {
		t.Fatal(err)
	}
	r.Print(os.Stdout)
}
