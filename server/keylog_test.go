package server

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"testing"

	"github.com/smbvfs/smbvfs/protocol/smb2"
)

// TestKeyLog checks the line Options.KeyLog gets for an encrypted 3.1.1 session: the session
// id in wire order and the keys the client derived on its side.
func TestKeyLog(t *testing.T) {
	var log bytes.Buffer
	_, addr := startServer(t, Options{Shares: testShares(), Users: testUsers(), KeyLog: &log})
	c := dial(t, addr)
	c.negotiate(smb2.Dialect311, smb2.CipherAES128GCM)
	if st := c.login("alice", "Secret123"); st != 0 {
		t.Fatal(st)
	}
	var id [8]byte
	binary.LittleEndian.PutUint64(id[:], c.sid)
	if !bytes.HasPrefix(log.Bytes(), []byte(hex.EncodeToString(id[:])+",")) || bytes.Count(log.Bytes(), []byte("\n")) != 1 {
		t.Fatalf("key log %q, session %#x", log.String(), c.sid)
	}
	t.Log(log.String())
}
