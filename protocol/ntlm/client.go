package ntlm

import (
	"crypto/rand"
	"crypto/rc4"
	"encoding/binary"
	"errors"
	"io"
	"time"
)

// Client is a minimal NTLMv2 client (MS-NLMP 3.1.5), for testing servers: it writes the
// NEGOTIATE_MESSAGE and answers a CHALLENGE_MESSAGE with an AUTHENTICATE_MESSAGE carrying an
// NTLMv2 response, a MIC (unless NoMIC) and, when the server agreed to
// NTLMSSP_NEGOTIATE_KEY_EXCH, a random exported session key. It is not a general-purpose
// client: it does not check the server's identity or the target information.
type Client struct {
	User, Domain, Password, Workstation string
	// Flags of the NEGOTIATE_MESSAGE; zero means DefaultClientFlags.
	Flags uint32
	// NoMIC leaves out MsvAvFlags and the MIC.
	NoMIC bool
	// Anonymous asks for an anonymous session (empty user and NT response, LM response Z(1)).
	Anonymous bool
	// TargetName is sent as MsvAvTargetName when not empty (for example "cifs/host").
	TargetName string
	// Rand supplies the client challenge and the random session key; nil means crypto/rand.
	Rand io.Reader
	// Now is the clock used when the server sent no MsvAvTimestamp; nil means time.Now.
	Now func() time.Time

	v1        bool // NTLMv1 instead of NTLMv2 (internal tests only)
	negotiate []byte
	// SessionKey is the exported session key, set by Authenticate.
	SessionKey []byte
	// NegotiatedFlags are the flags of the AUTHENTICATE_MESSAGE (the server's CHALLENGE
	// flags), set by Authenticate.
	NegotiatedFlags uint32
}

// DefaultClientFlags are the NEGOTIATE flags a current Windows client sends.
const DefaultClientFlags = NegotiateUnicode | NegotiateOEM | RequestTarget | NegotiateSign |
	NegotiateSeal | NegotiateNTLM | NegotiateAlwaysSign | NegotiateExtendedSessionSecurity |
	NegotiateVersion | Negotiate128 | NegotiateKeyExch | Negotiate56

var clientVersion = Version{Major: 10, Minor: 0, Build: 19041, Revision: 0x0F}

// Negotiate returns the NEGOTIATE_MESSAGE (and remembers it for the MIC).
func (c *Client) Negotiate() []byte {
	flags := c.Flags
	if flags == 0 {
		flags = DefaultClientFlags
	}
	b := make([]byte, 40)
	copy(b, signature)
	binary.LittleEndian.PutUint32(b[8:], typeNegotiate)
	binary.LittleEndian.PutUint32(b[12:], flags)
	putField(b[16:], 0, 40)
	putField(b[24:], 0, 40)
	v := clientVersion.bytes()
	copy(b[32:], v[:])
	c.negotiate = b
	return b
}

func (c *Client) random(b []byte) error {
	r := c.Rand
	if r == nil {
		r = rand.Reader
	}
	_, err := io.ReadFull(r, b)
	return err
}

// Authenticate answers the server's CHALLENGE_MESSAGE.
func (c *Client) Authenticate(challenge []byte) ([]byte, error) {
	if c.negotiate == nil {
		return nil, errors.New("ntlm: Client.Negotiate was not called")
	}
	ch, err := ParseChallenge(challenge)
	if err != nil {
		return nil, err
	}
	flags := ch.Flags
	hash := NTHash(c.Password)
	var clientChallenge [8]byte
	if err := c.random(clientChallenge[:]); err != nil {
		return nil, err
	}
	var lm, nt []byte
	var keyExchangeKey [16]byte
	mic := false
	switch {
	case c.Anonymous:
		lm = []byte{0}
	case c.v1:
		if flags&NegotiateExtendedSessionSecurity != 0 {
			lm = append(clientChallenge[:], make([]byte, 16)...)
			h := md5Sum(ch.ServerChallenge[:], clientChallenge[:])
			nt = desl(hash[:], h[:8])
			base := md4Sum(hash[:])
			keyExchangeKey = hmacMD5(base[:], ch.ServerChallenge[:], lm[:8])
		} else {
			nt = desl(hash[:], ch.ServerChallenge[:])
			lm = nt
			keyExchangeKey = md4Sum(hash[:])
		}
	default:
		pairs, err := ParseAVPairs(ch.TargetInfo)
		if err != nil {
			return nil, err
		}
		var ts uint64
		var info []byte
		for _, p := range pairs {
			if p.ID == AvTimestamp && len(p.Value) == 8 {
				ts = binary.LittleEndian.Uint64(p.Value)
			}
			info = appendAVPair(info, p.ID, p.Value)
		}
		if ts == 0 {
			now := time.Now
			if c.Now != nil {
				now = c.Now
			}
			ts = fileTime(now())
		}
		if !c.NoMIC {
			var f [4]byte
			binary.LittleEndian.PutUint32(f[:], AvFlagMICPresent)
			info = appendAVPair(info, AvFlags, f[:])
			mic = true
		}
		if c.TargetName != "" {
			info = appendAVPair(info, AvTargetName, encodeString(c.TargetName, true))
		}
		info = appendAVPair(info, AvEOL, nil)
		temp := []byte{1, 1, 0, 0, 0, 0, 0, 0}
		temp = binary.LittleEndian.AppendUint64(temp, ts)
		temp = append(temp, clientChallenge[:]...)
		temp = append(temp, 0, 0, 0, 0)
		temp = append(temp, info...)
		temp = append(temp, 0, 0, 0, 0)
		key := NTOWFv2(hash, c.User, c.Domain)
		proof := hmacMD5(key[:], ch.ServerChallenge[:], temp)
		nt = append(proof[:], temp...)
		lm = make([]byte, 24) // Z(24): the server sent MsvAvTimestamp
		keyExchangeKey = hmacMD5(key[:], proof[:])
	}
	exported := keyExchangeKey
	var encrypted []byte
	if flags&NegotiateKeyExch != 0 && !c.Anonymous {
		if err := c.random(exported[:]); err != nil {
			return nil, err
		}
		r, _ := rc4.NewCipher(keyExchangeKey[:])
		encrypted = make([]byte, 16)
		r.XORKeyStream(encrypted, exported[:])
	}
	c.SessionKey = exported[:]
	c.NegotiatedFlags = flags

	unicode := flags&NegotiateUnicode != 0
	user := c.User
	if c.Anonymous {
		user = ""
	}
	dom := encodeString(c.Domain, unicode)
	usr := encodeString(user, unicode)
	ws := encodeString(c.Workstation, unicode)
	const fixed = 88 // fixed part with Version and MIC
	b := make([]byte, fixed)
	copy(b, signature)
	binary.LittleEndian.PutUint32(b[8:], typeAuthenticate)
	off := fixed
	for _, f := range []struct {
		at  int
		val []byte
	}{{28, dom}, {36, usr}, {44, ws}, {12, lm}, {20, nt}, {52, encrypted}} {
		putField(b[f.at:], len(f.val), off)
		off += len(f.val)
	}
	binary.LittleEndian.PutUint32(b[60:], flags)
	v := clientVersion.bytes()
	copy(b[64:], v[:])
	for _, p := range [][]byte{dom, usr, ws, lm, nt, encrypted} {
		b = append(b, p...)
	}
	if mic {
		m := computeMIC(exported[:], c.negotiate, challenge, b, 72)
		copy(b[72:], m[:])
	}
	return b, nil
}
