package server

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"sync"

	"github.com/smbvfs/smbvfs/protocol/crypto/smb3"
)

var keyLogMu sync.Mutex

// logKeys writes one line of Options.KeyLog for a session that got keys: the session id and
// keys as Wireshark's smb2_seskey_list table takes them on the command line
// (tshark -o "uat:smb2_seskey_list:LINE"):
//
//	SessionId,SessionKey,ServerToClientKey,ClientToServerKey
//
// SessionId is the 8 bytes of the header field in wire order, keys in hex; a cipher key is ""
// when none was derived. A debugging aid: whoever reads the log can decrypt and forge
// the session's traffic.
func (s *Server) logKeys(sessionID uint64, k *smb3.Keys) {
	if s.opts.KeyLog == nil || k == nil {
		return
	}
	var id [8]byte
	binary.LittleEndian.PutUint64(id[:], sessionID)
	keyLogMu.Lock()
	defer keyLogMu.Unlock()
	field := func(b []byte) string {
		if len(b) == 0 {
			return `""`
		}
		return hex.EncodeToString(b)
	}
	fmt.Fprintf(s.opts.KeyLog, "%s,%s,%s,%s\n", field(id[:]), field(k.SessionKey), field(k.Encryption), field(k.Decryption))
}
