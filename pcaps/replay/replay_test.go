package replay

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/smbvfs/smbvfs/backends/memfs"
	"github.com/smbvfs/smbvfs/pcaps/sessions"
	"github.com/smbvfs/smbvfs/server"
	"github.com/smbvfs/smbvfs/server/servertest"
)

// startServer runs a fresh smbserve-like server in-process, configured as pcaps/record.sh
// configures smbserve: a memfs share "test", user alice, guest allowed.
func startServer(t *testing.T, hook func(*server.Options)) string {
	t.Helper()
	opts := server.Options{
		Shares: []server.Share{{Name: "test", FS: memfs.New(memfs.Options{})}},
		Users:  servertest.Users(t, "alice", "Secret123"), Guest: true, Anonymous: true, ServerName: "SMBVFS",
	}
	if hook != nil {
		hook(&opts)
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(servertest.Serve(t, opts)))
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
