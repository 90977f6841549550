package replay

import (
	"encoding/binary"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func dialer(addr string) func() (net.Conn, error) {
	return func() (net.Conn, error) { return net.DialTimeout("tcp", addr, 5*time.Second) }
}

// TestReplayCaptures replays every capture of pcaps/manifest.yaml marked replay: true (the
// smbclient and impacket sessions, against Samba and against smbserve) against a freshly
// started in-process server. Every difference must be one the manifest explains.
func TestReplayCaptures(t *testing.T) {
	m, err := LoadManifest(filepath.Join("..", "manifest.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	keys := ring(t)
	n := 0
	for _, c := range m.Captures {
		if !c.Replay {
			continue
		}
		n++
		t.Run(strings.TrimSuffix(c.File, ".pcapng"), func(t *testing.T) {
			addr := startServer(t, nil)
			r, err := File(filepath.Join("..", c.File), Options{Ring: keys, Dial: dialer(addr)})
			if err != nil {
				t.Fatal(err)
			}
			match, differ := r.Totals()
			if match+differ < 40 {
				t.Errorf("only %d responses compared", match+differ)
			}
			for _, note := range r.Notes {
				t.Errorf("note: %s", note)
			}
			explained := 0
			for _, d := range r.Diffs {
				if _, ok := c.Explained(d); ok {
					explained++
					continue
				}
				t.Errorf("unexplained difference: %v", d)
			}
			t.Logf("%d responses: %d match, %d differ (%d differences, all explained)", match+differ, match, differ, explained)
		})
	}
	if n < 10 {
		t.Fatalf("only %d captures to replay", n)
	}
}

// alteringConn is a client connection that alters what the server sends: it flips
// FILE_ATTRIBUTE_ARCHIVE in the FileAttributes of every successful CREATE response, as a
// server bug in that one field would.
type alteringConn struct {
	net.Conn
	mu   sync.Mutex
	buf  []byte // frames read from the server and not yet delivered
	hits int
}

func (c *alteringConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.buf) == 0 {
		var h [4]byte
		if _, err := readFull(c.Conn, h[:]); err != nil {
			return 0, err
		}
		n := int(binary.BigEndian.Uint32(h[:]) & 0xffffff)
		msg := make([]byte, n)
		if _, err := readFull(c.Conn, msg); err != nil {
			return 0, err
		}
		// every successful plaintext SMB2 CREATE response (command 5), compounded or not
		for off := 0; string(msg[:4]) == "\xfeSMB" && off+64+88 <= n; {
			m := msg[off:]
			if binary.LittleEndian.Uint16(m[12:]) == 5 && binary.LittleEndian.Uint32(m[8:]) == 0 && binary.LittleEndian.Uint32(m[16:])&1 != 0 {
				m[64+56] ^= 0x20
				c.hits++
			}
			next := int(binary.LittleEndian.Uint32(m[20:]))
			if next == 0 {
				break
			}
			off += next
		}
		c.buf = append(h[:], msg...)
	}
	k := copy(p, c.buf)
	c.buf = c.buf[k:]
	return k, nil
}

func readFull(c net.Conn, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		k, err := c.Read(b[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// TestReplayCatchesARegression replays a capture against a server whose CREATE responses
// carry one wrong bit, and checks that the report names exactly that field of exactly the
// CREATE responses — and that the same replay against the unaltered server is clean.
func TestReplayCatchesARegression(t *testing.T) {
	path := filepath.Join("..", "smbclient_smb311_to_smbserve_signed.pcapng")
	addr := startServer(t, nil)
	var conns []*alteringConn
	dial := func() (net.Conn, error) {
		nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			return nil, err
		}
		ac := &alteringConn{Conn: nc}
		conns = append(conns, ac)
		return ac, nil
	}
	r, err := File(path, Options{Ring: ring(t), Dial: dial})
	if err != nil {
		t.Fatal(err)
	}
	hits := 0
	for _, c := range conns {
		hits += c.hits
	}
	if hits == 0 {
		t.Fatal("no CREATE response was altered")
	}
	if len(r.Diffs) != hits {
		t.Errorf("%d responses altered, %d differences reported", hits, len(r.Diffs))
	}
	for _, d := range r.Diffs {
		if d.Command != "CREATE" || d.Field != "CreateResponse.FileAttributes" {
			t.Errorf("unexpected difference: %v", d)
		}
	}
	if c := r.Commands["CREATE"]; c == nil || c.Differ != hits {
		t.Errorf("CREATE tally %+v, want %d differing", c, hits)
	}
	t.Logf("%d altered CREATE responses reported, e.g. %v", len(r.Diffs), r.Diffs[0])

	clean, err := File(path, Options{Ring: ring(t), Dial: dialer(startServer(t, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if len(clean.Diffs) != 0 {
		t.Fatalf("the unaltered server differs: %v", clean.Diffs)
	}
}
