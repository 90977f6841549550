package ntlm

import (
	"encoding/binary"
)

// Version is the VERSION structure (MS-NLMP 2.2.2.10); it is informational only.
type Version struct {
	Major, Minor uint8
	Build        uint16
	Revision     uint8 // NTLMRevisionCurrent, 0x0F (NTLMSSP_REVISION_W2K3)
}

func (v Version) bytes() [8]byte {
	var b [8]byte
	b[0], b[1] = v.Major, v.Minor
	binary.LittleEndian.PutUint16(b[2:], v.Build)
	b[7] = v.Revision
	return b
}

func parseVersion(b []byte) Version {
	return Version{Major: b[0], Minor: b[1], Build: binary.LittleEndian.Uint16(b[2:]), Revision: b[7]}
}

// field reads the (Len, MaxLen, Offset) descriptor at off in msg and returns the bytes it
// points to. A non-empty field must lie inside msg and after the fixed part (minOff).
func field(msg []byte, off, minOff int) ([]byte, error) {
	if off+8 > len(msg) {
		return nil, ErrMalformed
	}
	n := int(binary.LittleEndian.Uint16(msg[off:]))
	if n == 0 {
		return nil, nil
	}
	start := int(binary.LittleEndian.Uint32(msg[off+4:]))
	if start < minOff || start > len(msg) || n > len(msg)-start {
		return nil, ErrMalformed
	}
	return msg[start : start+n], nil
}

func checkHeader(msg []byte, typ uint32, min int) error {
	if len(msg) < min || string(msg[:8]) != signature || binary.LittleEndian.Uint32(msg[8:]) != typ {
		return ErrMalformed
	}
	return nil
}

// NegotiateMessage is a decoded NEGOTIATE_MESSAGE (MS-NLMP 2.2.1.1).
type NegotiateMessage struct {
	Flags       uint32
	Domain      string   // OEM domain, if NTLMSSP_NEGOTIATE_OEM_DOMAIN_SUPPLIED
	Workstation string   // OEM workstation, if NTLMSSP_NEGOTIATE_OEM_WORKSTATION_SUPPLIED
	Version     *Version // if NTLMSSP_NEGOTIATE_VERSION and present
}

// ParseNegotiate decodes a NEGOTIATE_MESSAGE. The fixed part is 32 bytes, 40 with Version,
// but very old clients send only the first 16 (signature, type, flags), and some clients set
// NTLMSSP_NEGOTIATE_VERSION without sending the Version (their payload starts at 32); both
// are accepted.
func ParseNegotiate(msg []byte) (*NegotiateMessage, error) {
	if err := checkHeader(msg, typeNegotiate, 16); err != nil {
		return nil, err
	}
	m := &NegotiateMessage{Flags: binary.LittleEndian.Uint32(msg[12:])}
	if len(msg) < 32 {
		return m, nil
	}
	dom, err := field(msg, 16, 32)
	if err != nil {
		return nil, err
	}
	ws, err := field(msg, 24, 32)
	if err != nil {
		return nil, err
	}
	if m.Flags&NegotiateVersion != 0 && len(msg) >= 40 && payloadStart(msg, 16, 24) >= 40 {
		v := parseVersion(msg[32:40])
		m.Version = &v
	}
	// These two are always OEM (MS-NLMP 2.2.1.1).
	if m.Flags&NegotiateOEMDomainSupplied != 0 {
		m.Domain, _ = decodeString(dom, false)
	}
	if m.Flags&NegotiateOEMWorkstationSupplied != 0 {
		m.Workstation, _ = decodeString(ws, false)
	}
	return m, nil
}

// payloadStart returns the smallest offset of the non-empty fields whose descriptors are at
// offs (all inside msg), or len(msg) when they are all empty.
func payloadStart(msg []byte, offs ...int) int {
	start := len(msg)
	for _, off := range offs {
		if binary.LittleEndian.Uint16(msg[off:]) != 0 {
			if o := int(binary.LittleEndian.Uint32(msg[off+4:])); o < start {
				start = o
			}
		}
	}
	return start
}

// ChallengeMessage is a CHALLENGE_MESSAGE (MS-NLMP 2.2.1.2).
type ChallengeMessage struct {
	Flags           uint32
	TargetName      string
	ServerChallenge [8]byte
	TargetInfo      []byte // raw AV pairs, ending with MsvAvEOL
	Version         Version
}

const challengeFixed = 56

// Marshal encodes the message: the 56-byte fixed part (Version zero unless
// NTLMSSP_NEGOTIATE_VERSION), then TargetName and TargetInfo.
func (c *ChallengeMessage) Marshal() []byte {
	name := encodeString(c.TargetName, c.Flags&NegotiateUnicode != 0)
	b := make([]byte, challengeFixed, challengeFixed+len(name)+len(c.TargetInfo))
	copy(b, signature)
	binary.LittleEndian.PutUint32(b[8:], typeChallenge)
	putField(b[12:], len(name), challengeFixed)
	binary.LittleEndian.PutUint32(b[20:], c.Flags)
	copy(b[24:32], c.ServerChallenge[:])
	putField(b[40:], len(c.TargetInfo), challengeFixed+len(name))
	if c.Flags&NegotiateVersion != 0 {
		v := c.Version.bytes()
		copy(b[48:56], v[:])
	}
	b = append(b, name...)
	return append(b, c.TargetInfo...)
}

// ParseChallenge decodes a CHALLENGE_MESSAGE (the server side only needs it to restore a
// State from a kept or captured message, and clients in tests).
func ParseChallenge(msg []byte) (*ChallengeMessage, error) {
	if err := checkHeader(msg, typeChallenge, 48); err != nil {
		return nil, err
	}
	c := &ChallengeMessage{Flags: binary.LittleEndian.Uint32(msg[20:])}
	copy(c.ServerChallenge[:], msg[24:32])
	minOff := 48
	if c.Flags&NegotiateVersion != 0 && len(msg) >= challengeFixed && payloadStart(msg, 12, 40) >= challengeFixed {
		c.Version = parseVersion(msg[48:56])
		minOff = challengeFixed
	}
	name, err := field(msg, 12, minOff)
	if err != nil {
		return nil, err
	}
	if c.TargetName, err = decodeString(name, c.Flags&NegotiateUnicode != 0); err != nil {
		return nil, err
	}
	if c.TargetInfo, err = field(msg, 40, minOff); err != nil {
		return nil, err
	}
	if _, err := ParseAVPairs(c.TargetInfo); err != nil {
		return nil, err
	}
	return c, nil
}

func putField(b []byte, n, off int) {
	binary.LittleEndian.PutUint16(b[0:], uint16(n))
	binary.LittleEndian.PutUint16(b[2:], uint16(n))
	binary.LittleEndian.PutUint32(b[4:], uint32(off))
}

// AuthenticateMessage is a decoded AUTHENTICATE_MESSAGE (MS-NLMP 2.2.1.3). Byte fields alias
// the message.
type AuthenticateMessage struct {
	Flags                     uint32
	LmChallengeResponse       []byte
	NtChallengeResponse       []byte
	Domain, User, Workstation string
	EncryptedRandomSessionKey []byte
	Version                   *Version
	// MICOffset is 72 when the message has room for a MIC there (its payload starts at 88
	// or later), else 0. Whether the MIC is meaningful is announced by the client's
	// MsvAvFlags, not by the layout.
	MICOffset int
}

// MIC returns the 16-byte MIC field of msg when MICOffset says there is one.
func (a *AuthenticateMessage) MIC(msg []byte) []byte {
	if a.MICOffset == 0 {
		return nil
	}
	return msg[a.MICOffset : a.MICOffset+16]
}

// ParseAuthenticate decodes an AUTHENTICATE_MESSAGE. Payload fields may start at 64 (no
// Version), 72 (Version, no MIC) or 88 (Version and MIC); the MIC offset is inferred from
// where the payload starts.
func ParseAuthenticate(msg []byte) (*AuthenticateMessage, error) {
	if err := checkHeader(msg, typeAuthenticate, 64); err != nil {
		return nil, err
	}
	a := &AuthenticateMessage{Flags: binary.LittleEndian.Uint32(msg[60:])}
	// The payload starts at the smallest offset of a non-empty field.
	payload := payloadStart(msg, 12, 20, 28, 36, 44, 52)
	if payload < 64 {
		return nil, ErrMalformed
	}
	if a.Flags&NegotiateVersion != 0 && payload >= 72 {
		v := parseVersion(msg[64:72])
		a.Version = &v
	}
	if payload >= 88 {
		a.MICOffset = 72
	}
	fields := []*[]byte{&a.LmChallengeResponse, &a.NtChallengeResponse, nil, nil, nil, &a.EncryptedRandomSessionKey}
	strs := []*string{nil, nil, &a.Domain, &a.User, &a.Workstation, nil}
	unicode := a.Flags&NegotiateUnicode != 0
	for i, off := range []int{12, 20, 28, 36, 44, 52} {
		b, err := field(msg, off, 64)
		if err != nil {
			return nil, err
		}
		if fields[i] != nil {
			*fields[i] = b
			continue
		}
		if *strs[i], err = decodeString(b, unicode); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// AVPair is one attribute of a TargetInfo list.
type AVPair struct {
	ID    uint16
	Value []byte
}

// ParseAVPairs decodes an AV_PAIR list up to MsvAvEOL (MS-NLMP 2.2.2.1). An empty list is
// accepted; a list that runs past its buffer or lacks MsvAvEOL is not.
func ParseAVPairs(b []byte) ([]AVPair, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var pairs []AVPair
	for {
		if len(b) < 4 {
			return nil, ErrMalformed
		}
		id, n := binary.LittleEndian.Uint16(b), int(binary.LittleEndian.Uint16(b[2:]))
		if 4+n > len(b) {
			return nil, ErrMalformed
		}
		if id == AvEOL {
			return pairs, nil
		}
		pairs = append(pairs, AVPair{ID: id, Value: b[4 : 4+n]})
		b = b[4+n:]
	}
}

// appendAVPair appends one AV pair.
func appendAVPair(b []byte, id uint16, v []byte) []byte {
	b = binary.LittleEndian.AppendUint16(b, id)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(v)))
	return append(b, v...)
}
