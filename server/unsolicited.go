package server

import (
	"github.com/smbvfs/smbvfs/protocol/crypto/smb3"
	"github.com/smbvfs/smbvfs/protocol/smb2"
)

// Notify sends a server-initiated message (an OPLOCK_BREAK notification, MS-SMB2 3.3.4.6)
// on the connection: MessageId 0xFFFFFFFFFFFFFFFF, no credits, SessionId and TreeId 0,
// unsigned. When the session sessionID requires encryption (its EncryptData, or an
// encrypted share it has a tree connect to), the message is encrypted with its key.
// It implements ntfs.Notifier; it may be called from any goroutine.
func (c *conn) Notify(sessionID uint64, cmd smb2.Command, body smb2.Body) error {
	if c.closing.Load() {
		return errorf("connection closing")
	}
	var enc *session
	if s := c.lookupSession(sessionID); s != nil && s.enc != nil && c.dialect >= smb2.Dialect300 {
		s.mu.Lock()
		need := s.encryptData
		for _, t := range s.trees {
			need = need || t.encrypt
		}
		s.mu.Unlock()
		if need {
			enc = s
		}
	}
	b := make([]byte, outHeadroom, outHeadroom+128)
	start := len(b)
	h := smb2.Header{
		Command:   cmd,
		Flags:     smb2.FlagsServerToRedir,
		MessageId: ^uint64(0),
	}
	b, _ = h.Append(b)
	var err error
	if b, err = body.Append(b, start); err != nil {
		return err
	}
	if enc != nil {
		b = append(b, make([]byte, smb3.TransformSlack)...)[:len(b)]
		if err := enc.enc.Seal(b[4:], enc.id); err != nil {
			return err
		}
		return c.writeFrame(b)
	}
	return c.writeFrame(b[start-4:])
}
