package server

import (
	"errors"

	"github.com/smbvfs/smbvfs/protocol/crypto/smb3"
	"github.com/smbvfs/smbvfs/protocol/ntstatus"
	"github.com/smbvfs/smbvfs/protocol/smb2"
	"github.com/smbvfs/smbvfs/server/ntfs"
)

// maxSessionsPerConn bounds the sessions of one connection.
const maxSessionsPerConn = 256

// SessionSetup handles SMB2 SESSION_SETUP (MS-SMB2 3.3.5.5): new sessions and
// re-authentication of existing ones.
func (c *conn) SessionSetup(call *smb2.Call, req *smb2.SessionSetupRequest, resp *smb2.SessionSetupResponse) ntstatus.Status {
	h := call.Header
	if req.Flags&smb2.SessionSetupFlagBinding != 0 {
		return c.refuseBinding(h)
	}
	if c.srv.opts.Encryption == Required && c.cipher == 0 {
		// Encryption is required and this connection can not encrypt (MS-SMB2 3.3.5.5,
		// RejectUnencryptedAccess): a dialect below 3.0 or a client without a common cipher.
		return ntstatus.StatusAccessDenied
	}
	var s *session
	newSess := false
	if h.SessionId == 0 {
		c.mu.Lock()
		n := len(c.sessions)
		c.mu.Unlock()
		if n >= maxSessionsPerConn {
			return ntstatus.StatusInsufficientResources
		}
		s = newSession(c, c.srv.newSessionID())
		if c.dialect == smb2.Dialect311 {
			s.preauth = c.preauth
		}
		c.mu.Lock()
		c.sessions[s.id] = s
		c.mu.Unlock()
		newSess = true
	} else {
		s = c.cur.sess
		if s == nil {
			return ntstatus.StatusUserSessionDeleted
		}
	}
	c.cur.respSessionID = s.id
	c.cmp.sessID = s.id
	reauth := s.state == smb2.SessionValid || s.state == smb2.SessionExpired
	if c.dialect == smb2.Dialect311 && !reauth {
		s.preauth.Update(c.cur.msg)
		c.cur.preauthSess = s
	}
	if s.auth == nil {
		s.auth = c.srv.newAuthenticator()
	}
	out, done, err := s.auth.Accept(req.SecurityBuffer)
	if err != nil {
		s.auth = nil
		c.log.Debug("authentication failed", "err", err, "session", s.id)
		c.dropSession(s)
		if errors.Is(err, errMalformed) {
			return ntstatus.StatusInvalidParameter
		}
		return ntstatus.StatusLogonFailure
	}
	resp.SecurityBuffer = out
	if !done {
		return ntstatus.StatusMoreProcessingRequired
	}
	res := s.auth.Result()
	s.auth = nil

	id := ntfs.Identity{User: res.User, Domain: res.Domain, Guest: res.Guest, Anonymous: res.Anonymous}
	if reauth {
		// Re-authentication keeps the keys; the identity may change (MS-SMB2 3.3.5.5.3).
		s.setIdentity(id)
		s.state = smb2.SessionValid
		if s.signer != nil {
			c.cur.signWith = s
		}
		resp.SessionFlags = sessionFlags(s)
		return ntstatus.StatusSuccess
	}
	s.setIdentity(id)
	o := &c.srv.opts
	if !id.Guest && !id.Anonymous && len(res.SessionKey) > 0 {
		keys, err := smb3.DeriveKeys(smb3.Dialect(c.dialect), smb3.Cipher(c.cipher), res.SessionKey, s.preauth[:])
		if err != nil {
			c.dropSession(s)
			return ntstatus.StatusInternalError
		}
		s.sessionKey = keys.SessionKey
		c.srv.logKeys(s.id, keys)
		if s.signer, err = smb3.NewSigner(smb3.SigningAlgorithm(c.signAlg), keys.Signing); err != nil {
			c.dropSession(s)
			return ntstatus.StatusInternalError
		}
		if c.cipher != 0 && keys.Encryption != nil {
			s.enc, err = smb3.NewEncrypter(smb3.Cipher(c.cipher), keys.Encryption)
			if err == nil {
				s.dec, err = smb3.NewDecrypter(smb3.Cipher(c.cipher), keys.Decryption)
			}
			if err != nil {
				c.dropSession(s)
				return ntstatus.StatusInternalError
			}
		}
		s.signingRequired = o.Signing == Required ||
			req.SecurityMode&smb2.SessionSetupSecurityModeSigningRequired != 0 ||
			c.clientSecMode&smb2.SecurityModeSigningRequired != 0
		if o.Encryption == Required {
			if s.enc == nil {
				c.dropSession(s)
				return ntstatus.StatusAccessDenied
			}
			s.encryptData = true
		}
	} else if o.Signing == Required {
		// Guest and anonymous sessions can not sign.
		c.dropSession(s)
		return ntstatus.StatusAccessDenied
	} else if o.Encryption == Required {
		c.dropSession(s)
		return ntstatus.StatusAccessDenied
	}
	resp.SessionFlags = sessionFlags(s)
	s.state = smb2.SessionValid
	c.srv.registerSession(s)
	c.srv.stats.Sessions.Add(1)
	if s.signer != nil && (c.dialect >= smb2.Dialect300 || s.signingRequired || h.Flags.Has(smb2.FlagsSigned)) {
		c.cur.signWith = s
	}
	if req.PreviousSessionId != 0 && req.PreviousSessionId != s.id {
		c.srv.expirePrevious(req.PreviousSessionId, s)
	}
	_ = newSess
	c.log.Info("session", "id", s.id, "user", id.User, "guest", id.Guest, "anonymous", id.Anonymous, "dialect", c.dialect)
	return ntstatus.StatusSuccess
}

func sessionFlags(s *session) smb2.SessionFlags {
	var f smb2.SessionFlags
	switch {
	case s.identity.Anonymous:
		f |= smb2.SessionFlagIsNull
	case s.identity.Guest:
		f |= smb2.SessionFlagIsGuest
	}
	if s.encryptData {
		f |= smb2.SessionFlagEncryptData
	}
	return f
}

// dropSession removes s from the connection and destroys it, closing every open.
func (c *conn) dropSession(s *session) { c.removeSession(s, false) }

// removeSession removes s from the connection and destroys it; with preserve its durable
// opens survive for a reconnect.
func (c *conn) removeSession(s *session, preserve bool) {
	c.mu.Lock()
	if c.sessions[s.id] == s {
		delete(c.sessions, s.id)
	}
	c.mu.Unlock()
	s.destroy(preserve)
}

// expirePrevious closes the session a reconnecting client names in PreviousSessionId
// (MS-SMB2 3.3.5.5.3), when it belongs to the same user.
func (srv *Server) expirePrevious(id uint64, by *session) {
	old := srv.lookupSession(id)
	if old == nil || old == by {
		return
	}
	oid, bid := old.getIdentity(), by.getIdentity()
	if oid.User != bid.User || oid.Domain != bid.Domain || oid.Guest || oid.Anonymous {
		return
	}
	// Its durable opens wait for the reconnect that follows (MS-SMB2 3.3.5.5.3).
	old.conn.removeSession(old, true)
}

// Logoff handles SMB2 LOGOFF (MS-SMB2 3.3.5.6).
func (c *conn) Logoff(call *smb2.Call, req *smb2.LogoffRequest, resp *smb2.LogoffResponse) ntstatus.Status {
	s := c.cur.sess
	if s == nil {
		return ntstatus.StatusUserSessionDeleted
	}
	if s.signer != nil && (call.Header.Flags.Has(smb2.FlagsSigned) || s.signingRequired) && !c.cur.encrypted {
		c.cur.signWith = s
	}
	// Durable opens survive the logoff, detached, for a reconnect (MS-SMB2 3.3.5.6).
	c.removeSession(s, true)
	return ntstatus.StatusSuccess
}

// refuseBinding answers a request to bind a session to this connection: the server has no
// multichannel, so every binding is refused, with the status the checks of MS-SMB2 3.3.5.5
// give first. The refusal is signed with the referenced session's key when the request was
// signed with it, so that a client that requires signing sees the status.
func (c *conn) refuseBinding(h *smb2.Header) ntstatus.Status {
	ref := c.srv.lookupSession(h.SessionId)
	if ref != nil && h.Flags.Has(smb2.FlagsSigned) && ref.signer != nil && !c.cur.encrypted {
		if ref.signer.Verify(c.cur.msg) != nil {
			return ntstatus.StatusAccessDenied
		}
		c.cur.signWith = ref
	}
	if c.dialect < smb2.Dialect300 {
		return ntstatus.StatusRequestNotAccepted
	}
	if ref == nil {
		return ntstatus.StatusUserSessionDeleted
	}
	rc := ref.conn
	switch {
	case rc.dialect < smb2.Dialect300:
		return ntstatus.StatusInvalidParameter
	case rc.signAlg != c.signAlg:
		return ntstatus.StatusNotSupported
	case rc.dialect != c.dialect, rc.cipher != c.cipher, !h.Flags.Has(smb2.FlagsSigned):
		return ntstatus.StatusInvalidParameter
	}
	return ntstatus.StatusRequestNotAccepted
}
