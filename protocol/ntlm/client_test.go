package ntlm

import (
	"crypto/rc4"
	"encoding/binary"
	"time"
)

// A minimal NTLM client, written from MS-NLMP 3.1.5 for the tests: it builds the
// NEGOTIATE_MESSAGE and answers a CHALLENGE_MESSAGE with NTLMv2 (or NTLMv1).

type testClient struct {
	user, domain, password string
	workstation            string
	flags                  uint32 // NEGOTIATE flags
	clientChallenge        [8]byte
	randomSessionKey       [16]byte
	timestamp              uint64 // 0: take the server's MsvAvTimestamp
	noMIC                  bool
	v1                     bool // answer with NTLMv1 (extended session security if negotiated)
	anonymous              bool
	negotiate              []byte
	// what the client computed
	exportedSessionKey []byte
}

const windowsClientFlags = NegotiateUnicode | NegotiateOEM | RequestTarget | NegotiateSign |
	NegotiateSeal | NegotiateNTLM | NegotiateAlwaysSign | NegotiateExtendedSessionSecurity |
	NegotiateVersion | Negotiate128 | NegotiateKeyExch | Negotiate56

func (c *testClient) negotiateMessage() []byte {
	b := make([]byte, 40)
	copy(b, signature)
	binary.LittleEndian.PutUint32(b[8:], typeNegotiate)
	binary.LittleEndian.PutUint32(b[12:], c.flags)
	putField(b[16:], 0, 40)
	putField(b[24:], 0, 40)
	v := Version{10, 0, 19041, 15}.bytes()
	copy(b[32:], v[:])
	c.negotiate = b
	return b
}

func (c *testClient) authenticateMessage(challenge []byte) []byte {
	ch, err := ParseChallenge(challenge)
	if err != nil {
		panic(err)
	}
	flags := ch.Flags
	hash := NTHash(c.password)
	var lm, nt []byte
	var keyExchangeKey [16]byte
	var avFlagsMIC bool
	switch {
	case c.anonymous:
		lm = []byte{0}
	case c.v1:
		if flags&NegotiateExtendedSessionSecurity != 0 {
			lm = append(c.clientChallenge[:], make([]byte, 16)...)
			h := md5Sum(ch.ServerChallenge[:], c.clientChallenge[:])
			nt = desl(hash[:], h[:8])
			base := md4Sum(hash[:])
			keyExchangeKey = hmacMD5(base[:], ch.ServerChallenge[:], lm[:8])
		} else {
			nt = desl(hash[:], ch.ServerChallenge[:])
			lm = nt
			keyExchangeKey = md4Sum(hash[:])
		}
	default:
		pairs, _ := ParseAVPairs(ch.TargetInfo)
		ts := c.timestamp
		var info []byte
		for _, p := range pairs {
			if p.ID == AvTimestamp && ts == 0 {
				ts = binary.LittleEndian.Uint64(p.Value)
			}
			info = appendAVPair(info, p.ID, p.Value)
		}
		if ts == 0 {
			ts = fileTime(time.Now())
		}
		if !c.noMIC {
			var f [4]byte
			binary.LittleEndian.PutUint32(f[:], AvFlagMICPresent)
			info = appendAVPair(info, AvFlags, f[:])
			avFlagsMIC = true
		}
		info = appendAVPair(info, AvTargetName, encodeString("cifs/test", true))
		info = appendAVPair(info, AvEOL, nil)
		temp := []byte{1, 1, 0, 0, 0, 0, 0, 0}
		temp = binary.LittleEndian.AppendUint64(temp, ts)
		temp = append(temp, c.clientChallenge[:]...)
		temp = append(temp, 0, 0, 0, 0)
		temp = append(temp, info...)
		temp = append(temp, 0, 0, 0, 0)
		key := NTOWFv2(hash, c.user, c.domain)
		proof := hmacMD5(key[:], ch.ServerChallenge[:], temp)
		nt = append(proof[:], temp...)
		lm = make([]byte, 24) // Z(24) when the server sent MsvAvTimestamp
		keyExchangeKey = hmacMD5(key[:], proof[:])
	}
	exported := keyExchangeKey
	var encrypted []byte
	if flags&NegotiateKeyExch != 0 && !c.anonymous {
		exported = c.randomSessionKey
		r, _ := rc4.NewCipher(keyExchangeKey[:])
		encrypted = make([]byte, 16)
		r.XORKeyStream(encrypted, exported[:])
	}
	c.exportedSessionKey = exported[:]

	unicode := flags&NegotiateUnicode != 0
	dom := encodeString(c.domain, unicode)
	usr := encodeString(c.user, unicode)
	ws := encodeString(c.workstation, unicode)
	const fixed = 88
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
	v := Version{10, 0, 19041, 15}.bytes()
	copy(b[64:], v[:])
	b = append(b, dom...)
	b = append(b, usr...)
	b = append(b, ws...)
	b = append(b, lm...)
	b = append(b, nt...)
	b = append(b, encrypted...)
	if avFlagsMIC {
		mic := computeMIC(exported[:], c.negotiate, challenge, b, 72)
		copy(b[72:], mic[:])
	}
	return b
}
