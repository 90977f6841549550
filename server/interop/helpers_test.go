package interop

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smbvfs/smbvfs/backends/memfs"
	"github.com/smbvfs/smbvfs/backends/passthrough"
	"github.com/smbvfs/smbvfs/server"
	"github.com/smbvfs/smbvfs/server/servertest"
)

// clientTimeout bounds every client process and call. smbtorture smb2.notify.mask alone
// takes some 80 s of fixed waits (200 ms for each of 32 filter bits, 13 times); the margin
// is for a loaded 2-core CI machine running the race-instrumented server.
const clientTimeout = 180 * time.Second

// The users every test server knows; bob is smbtorture's second user (torture:user2name).
const (
	user1, pass1 = "alice", "Secret123"
	user2, pass2 = "bob", "Secret456"
)

// Share names: "test" is a memfs share, "data" a passthrough share on a temporary
// directory.
const (
	shareMem  = "test"
	sharePass = "data"
)

// testServer is an in-process server on 127.0.0.1.
type testServer struct {
	Host    string
	Port    int
	DataDir string // the passthrough share's directory
}

func itoa(i int) string { return fmt.Sprint(i) }

func (s *testServer) Addr() string { return net.JoinHostPort(s.Host, fmt.Sprint(s.Port)) }

// startServer starts a server with the memfs share "test" (4 GiB capacity), the
// passthrough share "data", users alice and bob, and guest logons; mod may change the
// options. It stops when the test ends.
func startServer(t testing.TB, mod func(*server.Options)) *testServer {
	t.Helper()
	users := servertest.Users(t, user1, pass1, user2, pass2)
	dir := t.TempDir()
	pfs, err := passthrough.New(dir, passthrough.Options{CaseInsensitive: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pfs.Close() })
	opts := server.Options{
		Shares: []server.Share{
			{Name: shareMem, FS: memfs.New(memfs.Options{Capacity: 4 << 30})},
			{Name: sharePass, FS: pfs},
		},
		Users:     users,
		Guest:     true,
		Anonymous: true,
	}
	if mod != nil {
		mod(&opts)
	}
	return &testServer{Host: "127.0.0.1", Port: servertest.Serve(t, opts), DataDir: dir}
}

// The client helpers of servertest, under this package's names.
var (
	inCI        = servertest.InCI
	unavailable = servertest.Unavailable // skips the test, or fails it in CI
	needTool    = servertest.NeedClient  // the path of an installed client program
	runTimeout  = servertest.RunClient
)

// run runs a client program with the package's timeout and returns its combined output.
func run(t testing.TB, stdin []byte, name string, args ...string) (string, error) {
	t.Helper()
	return servertest.RunClient(t, clientTimeout, stdin, name, args...)
}

// randomFile writes size pseudo-random bytes (from seed) to a new file in dir and returns
// its path and SHA-256.
func randomFile(t testing.TB, dir string, size int64, seed uint64) (string, string) {
	t.Helper()
	p := filepath.Join(dir, fmt.Sprintf("random-%d-%d.bin", size, seed))
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 1})
	if _, err := io.CopyN(io.MultiWriter(f, h), r, size); err != nil {
		t.Fatal(err)
	}
	return p, hex.EncodeToString(h.Sum(nil))
}

func fileSHA256(t testing.TB, p string) string {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// smbserveBinary builds tools/smbserve once per test process and returns its path.
func smbserveBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "interop-smbserve-")
		if err != nil {
			buildErr = err
			return
		}
		buildPath = filepath.Join(dir, "smbserve")
		goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
		if _, err := os.Stat(goTool); err != nil {
			goTool = "go"
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, goTool, "build", "-o", buildPath, "github.com/smbvfs/smbvfs/tools/smbserve")
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build tools/smbserve: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildPath
}

// startBinary runs the built smbserve with args (plus --listen 127.0.0.1:0) and returns
// the port it reports; the process is ended when the test ends.
func startBinary(t testing.TB, args ...string) int {
	t.Helper()
	bin := smbserveBinary(t)
	cmd := exec.Command(bin, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	portc := make(chan int, 1)
	go func() {
		buf := make([]byte, 4096)
		var seen []byte
		for {
			n, err := stdout.Read(buf)
			seen = append(seen, buf[:n]...)
			if i := bytes.Index(seen, []byte("listening on ")); i >= 0 {
				if j := bytes.IndexByte(seen[i:], '\n'); j > 0 {
					addr := strings.TrimSpace(string(seen[i+len("listening on ") : i+j]))
					if _, p, err := net.SplitHostPort(addr); err == nil {
						var port int
						fmt.Sscan(p, &port)
						portc <- port
						io.Copy(io.Discard, stdout)
						return
					}
				}
			}
			if err != nil {
				portc <- 0
				return
			}
		}
	}()
	select {
	case p := <-portc:
		if p == 0 {
			t.Fatalf("smbserve did not start: %s", stderr.String())
		}
		return p
	case <-time.After(30 * time.Second):
		t.Fatalf("smbserve did not report its address: %s", stderr.String())
	}
	return 0
}
