package server

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smbvfs/smbvfs/backends/memfs"
	"github.com/smbvfs/smbvfs/protocol/ntlm"
	"github.com/smbvfs/smbvfs/protocol/ntstatus"
	"github.com/smbvfs/smbvfs/protocol/smb2"
)

// Allow and deny lists and NoGuest are enforced at TREE_CONNECT with ACCESS_DENIED.
func TestShareAccessLists(t *testing.T) {
	users := testUsers()
	users.SetPassword("bob", "Secret456")
	shares := []Share{
		{Name: "open", FS: memfs.New(memfs.Options{})},
		{Name: "alice", FS: memfs.New(memfs.Options{}), Allow: []string{"ALICE"}},
		{Name: "nobob", FS: memfs.New(memfs.Options{}), Deny: []string{"bob"}},
		{Name: "noguest", FS: memfs.New(memfs.Options{}), NoGuest: true},
		{Name: "guests", FS: memfs.New(memfs.Options{}), Allow: []string{"guest"}},
	}
	_, addr := startServer(t, Options{Shares: shares, Users: users, Guest: true, Anonymous: true})
	want := map[string]map[string]ntstatus.Status{
		"alice": {"open": 0, "alice": 0, "nobob": 0, "noguest": 0, "guests": ntstatus.StatusAccessDenied, "IPC$": 0},
		"bob":   {"open": 0, "alice": ntstatus.StatusAccessDenied, "nobob": ntstatus.StatusAccessDenied, "noguest": 0, "guests": ntstatus.StatusAccessDenied},
		"guest": {"open": 0, "alice": ntstatus.StatusAccessDenied, "nobob": 0, "noguest": ntstatus.StatusAccessDenied, "guests": 0, "IPC$": 0},
		"":      {"open": 0, "alice": ntstatus.StatusAccessDenied, "noguest": ntstatus.StatusAccessDenied, "guests": ntstatus.StatusAccessDenied, "IPC$": 0},
	}
	passwords := map[string]string{"alice": "Secret123", "bob": "Secret456"}
	for user, shares := range want {
		for share, st := range shares {
			c := dial(t, addr)
			c.negotiate(smb2.Dialect311, 0)
			if user == "guest" {
				if r := c.guestLogin("guest", "", false); r.hdr.Status != 0 {
					t.Fatal(r.hdr.Status)
				}
			} else if s := c.login(user, passwords[user]); s != 0 {
				t.Fatalf("login %q: %v", user, s)
			}
			c.sign = c.signer != nil
			if got := c.treeConnect(share); got != st {
				t.Errorf("user %q share %s: %v, want %v", user, share, got, st)
			}
		}
	}
}

// SetShares adds a share that a new connection sees, while a file opened on an existing
// tree connect of a share the reload removed stays readable.
func TestSetShares(t *testing.T) {
	old := memfs.New(memfs.Options{})
	srv, addr := startServer(t, Options{Shares: []Share{{Name: "old", FS: old}}, Users: testUsers()})
	c := signedIn(t, addr, smb2.Dialect311, 0)
	if st := c.treeConnect("old"); st != 0 {
		t.Fatal(st)
	}
	r := c.must(smb2.CommandCreate, createReq("keep.txt"), 0)
	var cr smb2.CreateResponse
	if err := cr.Decode(r.msg, 0); err != nil {
		t.Fatal(err)
	}
	c.must(smb2.CommandWrite, &smb2.WriteRequest{FileId: cr.FileId, Data: []byte("still here")}, 0)
	if n := srv.Stats().OpenFiles.Load(); n != 1 {
		t.Errorf("open files %d, want 1", n)
	}

	if err := srv.SetShares([]Share{{Name: "new", FS: memfs.New(memfs.Options{})}, {Name: "new", FS: memfs.New(memfs.Options{})}}); err == nil {
		t.Fatal("duplicate share accepted")
	}
	if err := srv.SetShares([]Share{{Name: "new", FS: memfs.New(memfs.Options{})}}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(srv.ShareNames(), ","); got != "new" {
		t.Errorf("shares %s", got)
	}
	// An unchanged backend keeps its file engine (opens, share modes, locks); a new
	// access list does not change that.
	before := srv.lookupShare("new").fs
	if err := srv.SetShares([]Share{{Name: "new", FS: srv.lookupShare("new").vfs, Deny: []string{"bob"}}}); err != nil {
		t.Fatal(err)
	}
	if sh := srv.lookupShare("new"); sh.fs != before || !sh.deny["bob"] {
		t.Error("the unchanged share got a new engine, or the new settings were not applied")
	}

	r = c.must(smb2.CommandRead, &smb2.ReadRequest{FileId: cr.FileId, Length: 100}, 0)
	var rr smb2.ReadResponse
	if err := rr.Decode(r.msg, 0); err != nil || string(rr.Data) != "still here" {
		t.Fatalf("read after reload: %q %v", rr.Data, err)
	}

	c2 := dial(t, addr)
	c2.negotiate(smb2.Dialect311, 0)
	if st := c2.login("alice", "Secret123"); st != 0 {
		t.Fatal(st)
	}
	c2.sign = true
	if st := c2.treeConnect("old"); st != ntstatus.StatusBadNetworkName {
		t.Errorf("removed share: %v", st)
	}
	if st := c2.treeConnect("new"); st != 0 {
		t.Errorf("added share: %v", st)
	}
	c.must(smb2.CommandClose, &smb2.CloseRequest{FileId: cr.FileId}, 0)
	st := srv.Stats()
	if st.OpenFiles.Load() != 0 || st.BytesRead.Load() != 10 || st.BytesWritten.Load() != 10 || st.ActiveSessions.Load() != 2 {
		t.Errorf("stats: open %d read %d written %d sessions %d", st.OpenFiles.Load(), st.BytesRead.Load(), st.BytesWritten.Load(), st.ActiveSessions.Load())
	}
}

type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// The logs of an authenticated session, at debug level, carry the connection and session
// events and never the password, its NT hash or a session key.
func TestLogsHaveNoSecrets(t *testing.T) {
	var logs logBuffer
	var calls sync.Map
	srv, addr := startServer(t, Options{
		Shares: testShares(), Users: testUsers(),
		Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		OnRequest: func(cmd smb2.Command, st ntstatus.Status, d time.Duration) {
			calls.Store(cmd, true)
		},
	})
	c := signedIn(t, addr, smb2.Dialect311, smb2.CipherAES128GCM)
	if st := c.treeConnect("test"); st != 0 {
		t.Fatal(st)
	}
	c.must(smb2.CommandCreate, createReq("x.txt"), 0)
	c.must(smb2.CommandLogoff, &smb2.LogoffRequest{}, 0)
	c.nc.Close()
	deadline := time.Now().Add(5 * time.Second)
	for srv.Stats().ActiveConnections.Load() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	out := logs.String()
	for _, want := range []string{`"msg":"connection"`, `"msg":"session"`, `"user":"alice"`, `"msg":"session closed"`, `"msg":"connection closed"`, `"msg":"request"`} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %s:\n%s", want, out)
		}
	}
	hash := ntlm.NTHash("Secret123")
	secrets := map[string][]byte{"password": []byte("Secret123"), "NT hash": hash[:]}
	k := c.keys
	for name, key := range map[string][]byte{"session key": k.SessionKey, "signing key": k.Signing, "encryption key": k.Encryption, "decryption key": k.Decryption, "application key": k.Application} {
		if len(key) > 0 {
			secrets[name] = key
		}
	}
	for name, s := range secrets {
		for _, form := range []string{string(s), hex.EncodeToString(s), base64.StdEncoding.EncodeToString(s)} {
			if name != "password" && form == string(s) {
				continue // raw key bytes: the hex form is what a log would show
			}
			if strings.Contains(strings.ToLower(out), strings.ToLower(form)) || strings.Contains(out, form) {
				t.Errorf("the logs contain the %s", name)
			}
		}
	}
	if strings.Contains(out, "Secret123") {
		t.Error("the logs contain the password")
	}
	for _, cmd := range []smb2.Command{smb2.CommandNegotiate, smb2.CommandSessionSetup, smb2.CommandTreeConnect, smb2.CommandCreate} {
		if _, ok := calls.Load(cmd); !ok {
			t.Errorf("OnRequest not called for %v", cmd)
		}
	}
}
