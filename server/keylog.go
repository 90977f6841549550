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
// keys in the format of Wireshark's smb2_seskey_list table (the file
// ~/.config/wireshark/smb2_seskey_list, or tshark -o 'uat:smb2_seskey_list:LINE'):
//
//	"SessionId","SessionKey","ServerToClientKey","ClientToServerKey"
//
// SessionId is the 8 bytes of the header field in wire order, keys in hex; the cipher keys are
// empty when none were derived. A debugging aid: whoever reads the log can decrypt and forge
// the session's traffic.
func (s *Server) logKeys(sessionID uint64, k *smb3.Keys) {
	if s.opts.KeyLog == nil || k == nil {
		return
	}
	var id [8]byte
	binary.LittleEndian.PutUint64(id[:], sessionID)
	keyLogMu.Lock()
	defer keyLogMu.Unlock()
	fmt.Fprintf(s.opts.KeyLog, "%q,%q,%q,%q\n", hex.EncodeToString(id[:]), hex.EncodeToString(k.SessionKey),
		hex.EncodeToString(k.Encryption), hex.EncodeToString(k.Decryption))
}
