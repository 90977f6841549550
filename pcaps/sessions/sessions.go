// Package sessions follows the SMB2/3 sessions of captured connections far enough to decrypt
// them: the negotiated dialect and cipher, the 3.1.1 preauthentication hash of each session,
// and the NTLM exchange of its SESSION_SETUP. With a key ring — session keys by SessionId (a
// key log of smbserve, published keys) or NT passwords (the NTLM exchange then gives the
// session key) — a Tracker derives each session's keys (protocol/crypto/smb3) and opens its
// transform messages.
//
// Key files (pcaps/keys/*.keys) hold one entry per line; '#' starts a comment:
//
//	SessionId,SessionKey,S2C,C2S    the form tshark -o "uat:smb2_seskey_list:LINE" takes
//	                                (SessionId: 8 bytes in wire order, hex; "" for a missing key)
//	password PASSWORD               an NT password to try on every NTLM authentication
package sessions

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/smbvfs/smbvfs/protocol/crypto/smb3"
	"github.com/smbvfs/smbvfs/protocol/ntlm"
	"github.com/smbvfs/smbvfs/protocol/smb2"
	"github.com/smbvfs/smbvfs/protocol/spnego"
)

// Key is one line of a key file naming a session.
type Key struct {
	SessionID      uint64
	SessionKey     []byte
	ServerToClient []byte // Encryption key of the server (may be empty: derived)
	ClientToServer []byte
}

// Ring holds the known keys and passwords.
type Ring struct {
	Keys      map[uint64][]Key
	Passwords []string
}

// Load reads key files; a directory stands for every *.keys file in it.
func Load(paths ...string) (*Ring, error) {
	r := &Ring{Keys: map[uint64][]Key{}}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		files := []string{p}
		if st.IsDir() {
			files, _ = filepath.Glob(filepath.Join(p, "*.keys"))
		}
		for _, f := range files {
			if err := r.loadFile(f); err != nil {
				return nil, err
			}
		}
	}
	return r, nil
}

func (r *Ring) loadFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if pw, ok := strings.CutPrefix(line, "password "); ok {
			r.Passwords = append(r.Passwords, pw)
			continue
		}
		k, err := ParseKey(line)
		if err != nil {
			return fmt.Errorf("%s:%d: %v", path, n, err)
		}
		r.Add(k)
	}
	return sc.Err()
}

// Add adds a key.
func (r *Ring) Add(k Key) {
	if r.Keys == nil {
		r.Keys = map[uint64][]Key{}
	}
	r.Keys[k.SessionID] = append(r.Keys[k.SessionID], k)
}

// ParseKey reads "SessionId,SessionKey,S2C,C2S" (fields may be quoted).
func ParseKey(line string) (Key, error) {
	cols := strings.Split(line, ",")
	if len(cols) != 4 && len(cols) != 2 {
		return Key{}, errors.New("want SessionId,SessionKey,S2C,C2S")
	}
	var b [4][]byte
	for i, c := range cols {
		c = strings.Trim(strings.TrimSpace(c), `"`)
		v, err := hex.DecodeString(c)
		if err != nil {
			return Key{}, fmt.Errorf("field %d: %v", i+1, err)
		}
		b[i] = v
	}
	if len(b[0]) != 8 {
		return Key{}, errors.New("SessionId: want 8 bytes")
	}
	return Key{SessionID: binary.LittleEndian.Uint64(b[0]), SessionKey: b[1], ServerToClient: b[2], ClientToServer: b[3]}, nil
}

// Session is what a Tracker knows of one session.
type Session struct {
	ID        uint64
	Dialect   smb2.Dialect
	Cipher    smb3.Cipher
	Preauth   smb3.PreauthHash
	User      string // from the NTLM AUTHENTICATE message
	Domain    string
	Guest     bool // the SESSION_SETUP response said guest or null session
	Anonymous bool
	// SessionKey is known once the session is established and a key or password matched.
	SessionKey []byte
	Keys       *smb3.Keys
	Source     string          // where the key came from: "key" or "password"
	enc, dec   *smb3.Decrypter // S2C and C2S

	ntlmNegotiate, ntlmChallenge, ntlmAuthenticate []byte
}

// conn is the negotiated state of one TCP connection.
type conn struct {
	dialect smb2.Dialect
	cipher  smb3.Cipher
	preauth smb3.PreauthHash
	// setup holds the preauth hash of the SESSION_SETUP in progress whose request had
	// SessionId 0, by MessageId, until its response names the session.
	setup  map[uint64]*Session
	negMid uint64
}

// Tracker follows the connections of one capture. Feed it every SMB2 unit in capture order
// (Observe) and hand it transform units to open (Decrypt).
type Tracker struct {
	Ring     *Ring
	conns    map[int]*conn
	sessions map[uint64]*Session
	h        smb2.Header
	msgs     smb2.Messages
	er       smb2.ErrorResponse
}

// NewTracker returns a tracker using ring (may be nil: nothing is decrypted).
func NewTracker(ring *Ring) *Tracker {
	if ring == nil {
		ring = &Ring{}
	}
	return &Tracker{Ring: ring, conns: map[int]*conn{}, sessions: map[uint64]*Session{}}
}

// Session returns the session with id, or nil.
func (t *Tracker) Session(id uint64) *Session { return t.sessions[id] }

func (t *Tracker) conn(stream int) *conn {
	c := t.conns[stream]
	if c == nil {
		c = &conn{setup: map[uint64]*Session{}}
		t.conns[stream] = c
	}
	return c
}

// Observe follows one plaintext SMB2 unit (a compound chain, or the plaintext of a transform)
// of a stream.
func (t *Tracker) Observe(stream int, fromClient bool, data []byte) {
	c := t.conn(stream)
	cp := smb2.Compound{Frame: data}
	for cp.Next() {
		pdu, hdr := cp.PDU(), cp.Hdr()
		msg := pdu[hdr:]
		m, err := smb2.DecodeMessage(pdu, hdr, &t.h, &t.msgs, &t.er)
		if err != nil {
			continue
		}
		h := t.h
		switch x := m.(type) {
		case *smb2.NegotiateRequest:
			c.preauth = smb3.PreauthHash{}
			c.preauth.Update(msg)
			c.negMid = h.MessageId
		case *smb2.NegotiateResponse:
			c.dialect = x.DialectRevision
			c.preauth.Update(msg)
			c.cipher = 0
			if c.dialect == smb2.Dialect300 || c.dialect == smb2.Dialect302 {
				c.cipher = smb3.AES128CCM
			}
			it := x.NegotiateContexts.Iter()
			for it.Next() {
				nc := it.Value()
				if nc.ContextType == smb2.NegotiateContextEncryptionCapabilities {
					var e smb2.EncryptionCapabilities
					if e.Decode(nc.Data) == nil && e.Ciphers.Len() > 0 {
						c.cipher = smb3.Cipher(e.Ciphers.At(0))
					}
				}
			}
		case *smb2.SessionSetupRequest:
			s := t.sessions[h.SessionId]
			if h.SessionId == 0 || s == nil || s.SessionKey != nil {
				// a new session (or a re-authentication, which does not change the keys)
				if h.SessionId != 0 && s != nil && s.SessionKey != nil {
					continue
				}
				s = &Session{Dialect: c.dialect, Cipher: c.cipher, Preauth: c.preauth}
				c.setup[h.MessageId] = s
			} else {
				c.setup[h.MessageId] = s
			}
			s.Preauth.Update(msg)
			if tok := ntlmToken(x.SecurityBuffer); tok != nil {
				if a, err := ntlm.ParseAuthenticate(tok); err == nil {
					s.ntlmAuthenticate = bytes.Clone(tok)
					s.User, s.Domain = a.User, a.Domain
				} else if _, err := ntlm.ParseNegotiate(tok); err == nil {
					s.ntlmNegotiate = bytes.Clone(tok)
				}
			}
		case *smb2.SessionSetupResponse:
			s := c.setup[h.MessageId]
			if s == nil {
				continue
			}
			delete(c.setup, h.MessageId)
			s.ID = h.SessionId
			t.sessions[s.ID] = s
			if tok := ntlmToken(x.SecurityBuffer); tok != nil {
				if _, err := ntlm.ParseChallenge(tok); err == nil {
					s.ntlmChallenge = bytes.Clone(tok)
				}
			}
			switch h.Status {
			case 0xC0000016: // STATUS_MORE_PROCESSING_REQUIRED
				s.Preauth.Update(msg)
			case 0:
				s.Guest = x.SessionFlags&smb2.SessionFlagIsGuest != 0
				s.Anonymous = x.SessionFlags&smb2.SessionFlagIsNull != 0
				t.establish(s)
			}
		}
	}
}

// ntlmToken returns the NTLM message inside a security buffer: raw NTLMSSP, or the
// mechToken/responseToken of a SPNEGO token.
func ntlmToken(b []byte) []byte {
	if bytes.HasPrefix(b, []byte("NTLMSSP\x00")) {
		return b
	}
	if len(b) == 0 {
		return nil
	}
	if b[0] == 0x60 {
		if init, err := spnego.DecodeInit(b); err == nil && bytes.HasPrefix(init.MechToken, []byte("NTLMSSP\x00")) {
			return init.MechToken
		}
		return nil
	}
	if resp, err := spnego.DecodeResp(b); err == nil && bytes.HasPrefix(resp.ResponseToken, []byte("NTLMSSP\x00")) {
		return resp.ResponseToken
	}
	return nil
}

// establish finds the keys of a session that just succeeded.
func (t *Tracker) establish(s *Session) {
	if s.Guest || s.Anonymous {
		return
	}
	for _, k := range t.Ring.Keys[s.ID] {
		if t.useKey(s, k.SessionKey, k.ServerToClient, k.ClientToServer) {
			s.Source = "key"
			return
		}
	}
	if s.ntlmAuthenticate != nil && s.ntlmChallenge != nil {
		for _, pw := range t.Ring.Passwords {
			key, err := ntlmSessionKey(s, pw)
			if err == nil && t.useKey(s, key, nil, nil) {
				s.Source = "password"
				return
			}
		}
	}
}

func ntlmSessionKey(s *Session, password string) ([]byte, error) {
	srv := &ntlm.Server{Users: ntlm.Users{s.User: ntlm.NTHash(password)}}
	st, err := srv.RestoreState(s.ntlmNegotiate, s.ntlmChallenge)
	if err != nil {
		return nil, err
	}
	res, err := st.Authenticate(s.ntlmAuthenticate)
	if err != nil {
		return nil, err
	}
	return res.SessionKey, nil
}

func (t *Tracker) useKey(s *Session, sessionKey, s2c, c2s []byte) bool {
	if len(sessionKey) == 0 && len(s2c) == 0 {
		return false
	}
	var keys *smb3.Keys
	if len(sessionKey) > 0 {
		var err error
		if keys, err = smb3.DeriveKeys(smb3.Dialect(s.Dialect), s.Cipher, sessionKey, s.Preauth[:]); err != nil {
			return false
		}
	} else {
		keys = &smb3.Keys{}
	}
	if len(s2c) > 0 {
		keys.Encryption, keys.Decryption = s2c, c2s
	}
	s.SessionKey = keys.SessionKey
	s.Keys = keys
	if s.Cipher != 0 && keys.Encryption != nil {
		s.enc, _ = smb3.NewDecrypter(s.Cipher, keys.Encryption)
		s.dec, _ = smb3.NewDecrypter(s.Cipher, keys.Decryption)
	}
	return true
}

// ErrNoKey is returned by Decrypt for a session whose keys are unknown.
var ErrNoKey = errors.New("no key for the session")

// Decrypt opens a transform unit and returns a copy of its plaintext.
func (t *Tracker) Decrypt(fromClient bool, data []byte) ([]byte, error) {
	id, err := smb3.TransformSessionID(data)
	if err != nil {
		return nil, err
	}
	s := t.sessions[id]
	if s == nil || s.dec == nil {
		return nil, ErrNoKey
	}
	d := s.enc
	if fromClient {
		d = s.dec
	}
	buf := make([]byte, len(data), len(data)+smb3.TransformSlack)
	copy(buf, data)
	return d.Open(buf)
}
