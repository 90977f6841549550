package ntlm

import (
	"bytes"
	"crypto/rand"
	"crypto/rc4"
	"crypto/subtle"
	"encoding/binary"
	"io"
	"strings"
	"time"
)

// UserStore finds the NT hash of a user.
type UserStore interface {
	// NTHash returns the NT hash (NTHash(password)) of user, as named in the
	// AUTHENTICATE_MESSAGE, in domain (the client's UserDom, possibly empty), and false when
	// there is no such user. Matching user names case-insensitively is up to the store, as
	// is ignoring the domain.
	NTHash(user, domain string) ([16]byte, bool)
}

// Users is a UserStore for a standalone server: NT hashes by user name, compared without
// regard to case, whatever the domain.
type Users map[string][16]byte

// NTHash implements UserStore.
func (u Users) NTHash(user, _ string) ([16]byte, bool) {
	if h, ok := u[user]; ok {
		return h, true
	}
	for name, h := range u {
		if strings.EqualFold(name, user) {
			return h, true
		}
	}
	return [16]byte{}, false
}

// Server holds the configuration of the NTLM acceptor. Its fields must not change while
// exchanges are in progress; one Server serves any number of concurrent exchanges.
type Server struct {
	Users UserStore

	// Domain is the NetBIOS domain or workgroup name (MsvAvNbDomainName); Computer the
	// NetBIOS computer name (MsvAvNbComputerName and the TargetName). DNSDomain and
	// DNSComputer fill MsvAvDnsDomainName and MsvAvDnsComputerName; when empty, Domain and
	// Computer (lower-cased) are used.
	Domain, Computer       string
	DNSDomain, DNSComputer string

	// Version is sent when the client asks for NTLMSSP_NEGOTIATE_VERSION; zero means
	// DefaultVersion.
	Version Version
	// AllowNTLMv1 accepts NTLMv1 responses. NTLMv1 is weak (DES, crackable offline); leave it
	// off unless a legacy client needs it.
	AllowNTLMv1 bool
	// Rand is the source of server challenges; nil means crypto/rand.
	Rand io.Reader
	// Now is the clock of MsvAvTimestamp; nil means time.Now.
	Now func() time.Time
}

// DefaultVersion is the Version sent when Server.Version is zero.
var DefaultVersion = Version{Major: 10, Minor: 0, Build: 0, Revision: 0x0F}

func (s *Server) rand() io.Reader {
	if s.Rand != nil {
		return s.Rand
	}
	return rand.Reader
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// State is one exchange in progress: what Challenge sent and must check the answer against.
// It is used by one goroutine.
type State struct {
	srv       *Server
	negotiate []byte // the NEGOTIATE_MESSAGE as received (for the MIC)
	challenge []byte // the CHALLENGE_MESSAGE as sent
	flags     uint32 // flags of the CHALLENGE_MESSAGE
	server    [8]byte
	done      bool
}

// Flags returns the flags the server put in the CHALLENGE_MESSAGE.
func (st *State) Flags() uint32 { return st.flags }

// ChallengeMessage returns the CHALLENGE_MESSAGE sent.
func (st *State) ChallengeMessage() []byte { return st.challenge }

// challengeFlags chooses the CHALLENGE_MESSAGE flags from the client's: the client's
// requests this server supports, plus what NTLMv2 needs.
func challengeFlags(client uint32) uint32 {
	f := NegotiateNTLM | NegotiateTargetInfo | TargetTypeServer
	if client&NegotiateUnicode != 0 {
		f |= NegotiateUnicode
	} else {
		f |= NegotiateOEM
	}
	for _, bit := range []uint32{RequestTarget, NegotiateSign, NegotiateSeal, NegotiateAlwaysSign,
		NegotiateExtendedSessionSecurity, NegotiateVersion, Negotiate128, Negotiate56, NegotiateKeyExch} {
		f |= client & bit
	}
	// Never NTLMSSP_NEGOTIATE_LM_KEY (extended session security replaces it, and it needs
	// the LM hash), NTLMSSP_NEGOTIATE_DATAGRAM or NTLMSSP_NEGOTIATE_IDENTIFY.
	return f
}

// Challenge parses the client's NEGOTIATE_MESSAGE and returns the CHALLENGE_MESSAGE to send
// (with a fresh 8-byte server challenge from Rand, by default crypto/rand) and the State that
// will check the client's answer.
func (s *Server) Challenge(negotiate []byte) ([]byte, *State, error) {
	neg, err := ParseNegotiate(negotiate)
	if err != nil {
		return nil, nil, err
	}
	c := ChallengeMessage{Flags: challengeFlags(neg.Flags), TargetName: strings.ToUpper(s.Computer)}
	c.Version = s.Version
	if c.Version == (Version{}) {
		c.Version = DefaultVersion
	}
	if _, err := io.ReadFull(s.rand(), c.ServerChallenge[:]); err != nil {
		return nil, nil, err
	}
	c.TargetInfo = s.targetInfo()
	msg := c.Marshal()
	st := &State{srv: s, negotiate: bytes.Clone(negotiate), challenge: msg, flags: c.Flags, server: c.ServerChallenge}
	return msg, st, nil
}

// targetInfo builds the AV pairs of the CHALLENGE_MESSAGE in the order Windows uses.
func (s *Server) targetInfo() []byte {
	dnsDomain, dnsComputer := s.DNSDomain, s.DNSComputer
	if dnsDomain == "" {
		dnsDomain = strings.ToLower(s.Domain)
	}
	if dnsComputer == "" {
		dnsComputer = strings.ToLower(s.Computer)
	}
	var ts [8]byte
	binary.LittleEndian.PutUint64(ts[:], fileTime(s.now()))
	var b []byte
	b = appendAVPair(b, AvNbDomainName, encodeString(strings.ToUpper(s.Domain), true))
	b = appendAVPair(b, AvNbComputerName, encodeString(strings.ToUpper(s.Computer), true))
	b = appendAVPair(b, AvDNSDomainName, encodeString(dnsDomain, true))
	b = appendAVPair(b, AvDNSComputerName, encodeString(dnsComputer, true))
	b = appendAVPair(b, AvTimestamp, ts[:])
	return appendAVPair(b, AvEOL, nil)
}

// fileTime converts t to a Windows FILETIME (100 ns intervals since 1601-01-01 UTC).
func fileTime(t time.Time) uint64 {
	const epochDelta = 116444736000000000 // 1601 to 1970 in 100 ns
	return uint64(t.UnixNano()/100) + epochDelta
}

// RestoreState rebuilds the State of an exchange from the NEGOTIATE_MESSAGE received and the
// CHALLENGE_MESSAGE sent, for a server that keeps the messages rather than the State (and
// for replaying captured exchanges in tests). negotiate may be nil, in which case a MIC
// cannot be verified and a client that sends one is refused. The challenge must be one this
// server produced: checking an answer against a challenge someone else chose would let a
// relayed or replayed response through.
func (s *Server) RestoreState(negotiate, challenge []byte) (*State, error) {
	if negotiate != nil {
		if _, err := ParseNegotiate(negotiate); err != nil {
			return nil, err
		}
	}
	c, err := ParseChallenge(challenge)
	if err != nil {
		return nil, err
	}
	return &State{srv: s, negotiate: bytes.Clone(negotiate), challenge: bytes.Clone(challenge),
		flags: c.Flags, server: c.ServerChallenge}, nil
}

// Result is the outcome of an AUTHENTICATE_MESSAGE.
type Result struct {
	User, Domain, Workstation string
	// Anonymous: the client asked for an anonymous (null) session: no user name, no NT
	// response, an empty or one-zero-byte LM response. There is no session key.
	Anonymous bool
	// SessionKey is the exported session key (16 bytes): the key SMB derives its keys from
	// (Session.SessionKey) and the base of the NTLM signing and sealing keys. Nil for an
	// anonymous session.
	SessionKey []byte
	// Flags are the negotiated flags: the client's AUTHENTICATE_MESSAGE flags that the
	// server also offered in its CHALLENGE_MESSAGE.
	Flags uint32
	// NTLMv2 is true for an NTLMv2 response (false only for NTLMv1 when allowed).
	NTLMv2 bool
	// MIC is true when the client sent a MIC and it verified.
	MIC bool
	// AvFlags are the client's MsvAvFlags (NTLMv2 only).
	AvFlags uint32
	// TargetName is the client's MsvAvTargetName (the SPN it meant, e.g.
	// "cifs/server.example.com"), and ChannelBindings its MsvAvChannelBindings (NTLMv2).
	TargetName      string
	ChannelBindings []byte
}

// Authenticate checks the client's AUTHENTICATE_MESSAGE. See the package documentation for
// how to read the result. A State can be used once.
func (st *State) Authenticate(authenticate []byte) (*Result, error) {
	if st.done {
		return nil, ErrState
	}
	st.done = true
	a, err := ParseAuthenticate(authenticate)
	if err != nil {
		return nil, err
	}
	res := &Result{User: a.User, Domain: a.Domain, Workstation: a.Workstation, Flags: a.Flags & st.flags}

	// Anonymous (MS-NLMP 3.2.5.1.2): no user, no NT response, LM response empty or Z(1).
	if a.User == "" && len(a.NtChallengeResponse) == 0 &&
		(len(a.LmChallengeResponse) == 0 || bytes.Equal(a.LmChallengeResponse, []byte{0})) {
		res.Anonymous = true
		return res, nil
	}
	if a.Flags&NegotiateLMKey != 0 && a.Flags&NegotiateExtendedSessionSecurity == 0 {
		return res, ErrNTLMv1 // LM session keys need the LM hash
	}

	var keyExchangeKey [16]byte
	var avFlags uint32
	switch n := len(a.NtChallengeResponse); {
	case n > 24:
		if n < 16+28 {
			return res, ErrMalformed
		}
		res.NTLMv2 = true
		blob := a.NtChallengeResponse[16:]
		pairs, err := ParseAVPairs(blob[28:])
		if err != nil {
			return res, err
		}
		for _, p := range pairs {
			switch p.ID {
			case AvFlags:
				if len(p.Value) == 4 {
					avFlags = binary.LittleEndian.Uint32(p.Value)
				}
			case AvTargetName:
				res.TargetName, _ = decodeString(p.Value, true)
			case AvChannelBindings:
				res.ChannelBindings = p.Value
			}
		}
		res.AvFlags = avFlags
		hash, ok := st.srv.Users.NTHash(a.User, a.Domain)
		if !ok {
			return res, ErrUnknownUser
		}
		key := NTOWFv2(hash, a.User, a.Domain)
		proof := hmacMD5(key[:], st.server[:], blob)
		if subtle.ConstantTimeCompare(proof[:], a.NtChallengeResponse[:16]) != 1 {
			return res, ErrLogonFailure
		}
		// SessionBaseKey = HMAC_MD5(ResponseKeyNT, NTProofStr); for NTLMv2 the key exchange
		// key is the session base key (3.3.2, 3.4.5.1).
		keyExchangeKey = hmacMD5(key[:], proof[:])
	case n == 24:
		if !st.srv.AllowNTLMv1 {
			return res, ErrNTLMv1
		}
		hash, ok := st.srv.Users.NTHash(a.User, a.Domain)
		if !ok {
			return res, ErrUnknownUser
		}
		var want []byte
		ess := a.Flags&NegotiateExtendedSessionSecurity != 0
		if ess {
			// NTLMv1 with extended session security: the client challenge is the first 8
			// bytes of the LM response (3.3.1).
			if len(a.LmChallengeResponse) < 8 {
				return res, ErrMalformed
			}
			h := md5Sum(st.server[:], a.LmChallengeResponse[:8])
			want = desl(hash[:], h[:8])
		} else {
			want = desl(hash[:], st.server[:])
		}
		if subtle.ConstantTimeCompare(want, a.NtChallengeResponse) != 1 {
			return res, ErrLogonFailure
		}
		base := md4Sum(hash[:])
		if ess {
			keyExchangeKey = hmacMD5(base[:], st.server[:], a.LmChallengeResponse[:8])
		} else {
			keyExchangeKey = base // NTLMSSP_REQUEST_NON_NT_SESSION_KEY is not supported
		}
	default:
		return res, ErrNTLMv1 // LM response only
	}

	exported := keyExchangeKey
	if res.Flags&NegotiateKeyExch != 0 {
		if len(a.EncryptedRandomSessionKey) != 16 {
			return res, ErrMalformed
		}
		c, _ := rc4.NewCipher(keyExchangeKey[:])
		c.XORKeyStream(exported[:], a.EncryptedRandomSessionKey)
	}

	if avFlags&AvFlagMICPresent != 0 {
		mic := a.MIC(authenticate)
		if mic == nil || st.negotiate == nil {
			return res, ErrLogonFailure
		}
		want := computeMIC(exported[:], st.negotiate, st.challenge, authenticate, a.MICOffset)
		if subtle.ConstantTimeCompare(want[:], mic) != 1 {
			return res, ErrLogonFailure
		}
		res.MIC = true
	}
	res.SessionKey = exported[:]
	return res, nil
}

// computeMIC is HMAC_MD5(ExportedSessionKey, NEGOTIATE || CHALLENGE || AUTHENTICATE) with the
// AUTHENTICATE_MESSAGE's MIC field taken as zero (MS-NLMP 3.1.5.1.2).
func computeMIC(exported, negotiate, challenge, authenticate []byte, micOffset int) [16]byte {
	var zero [16]byte
	return hmacMD5(exported, negotiate, challenge,
		authenticate[:micOffset], zero[:], authenticate[micOffset+16:])
}
