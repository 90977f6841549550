package fuzz

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/smbvfs/smbvfs/protocol/crypto/smb3"
	"github.com/smbvfs/smbvfs/protocol/smb2"
)

// Compound walks data as a compound chain and checks the walk: every message starts with an
// SMB2 header inside data, headers move forward by a multiple of 8, each message region ends
// where the next begins, and the last one runs to the end of data. Each message is then
// decoded as Frame does.
func Compound(data []byte) int {
	c := smb2.Compound{Frame: data}
	prevEnd, n := 0, 0
	for c.Next() {
		hdr, pdu := c.Hdr(), c.PDU()
		if hdr != prevEnd || hdr%8 != 0 || hdr+smb2.HeaderSize > len(pdu) || len(pdu) > len(data) {
			panic(fmt.Sprintf("compound walk: header at %d, previous end %d, region %d of %d", hdr, prevEnd, len(pdu), len(data)))
		}
		if string(pdu[hdr:hdr+4]) != smb2.ProtocolSMB2 {
			panic("compound walk: a message without the SMB2 protocol id")
		}
		prevEnd = len(pdu)
		n++
		if n > len(data)/smb2.HeaderSize {
			panic("compound walk: more messages than the frame can hold")
		}
	}
	if c.Err() == nil && n > 0 && prevEnd != len(data) {
		panic(fmt.Sprintf("compound walk ended at %d of %d without an error", prevEnd, len(data)))
	}
	Frame(data)
	if n > 0 {
		return 1
	}
	return 0
}

var transformKeys = [][]byte{
	bytes.Repeat([]byte{0x11}, 16),
	bytes.Repeat([]byte{0x22}, 32),
}

// Transform seals data (its first byte picks the cipher and the session id) with a fixed key,
// checks that the transform header decodes with the generated codec and says what was sealed,
// that Open gives data back, and that a transform altered in any byte (chosen by the input)
// does not open. The plaintext is then decoded as a frame.
func Transform(data []byte) int {
	if len(data) < 2 {
		return 0
	}
	ciphers := []smb3.Cipher{smb3.AES128CCM, smb3.AES128GCM, smb3.AES256CCM, smb3.AES256GCM}
	c := ciphers[data[0]%4]
	key := transformKeys[0]
	if c.KeySize() == 32 {
		key = transformKeys[1]
	}
	sid := uint64(data[0]) * 0x0101010101
	msg := data[1:]
	enc, err := smb3.NewEncrypter(c, key)
	if err != nil {
		panic(err)
	}
	dec, _ := smb3.NewDecrypter(c, key)
	pdu := make([]byte, smb3.TransformHeaderSize+len(msg), smb3.TransformHeaderSize+len(msg)+smb3.TransformSlack)
	copy(pdu[smb3.TransformHeaderSize:], msg)
	if err := enc.Seal(pdu, sid); err != nil {
		panic(err)
	}
	var th smb2.TransformHeader
	if err := th.Decode(pdu); err != nil {
		panic(fmt.Sprintf("a sealed transform does not decode: %v", err))
	}
	if th.SessionId != sid || int(th.OriginalMessageSize) != len(msg) {
		panic(fmt.Sprintf("transform header: session %#x size %d, sealed %#x %d", th.SessionId, th.OriginalMessageSize, sid, len(msg)))
	}
	sealed := bytes.Clone(pdu)
	plain, err := dec.Open(pdu)
	if err != nil || !bytes.Equal(plain, msg) {
		panic(fmt.Sprintf("open of a sealed transform: %v", err))
	}
	// alter one byte after the protocol id (the nonce, size, flags, session id, signature or
	// ciphertext): it must not open
	i := 4 + int(binary.LittleEndian.Uint16(append(bytes.Clone(data[:1]), 0)))*7919%(len(sealed)-4)
	bad := bytes.Clone(sealed)
	bad[i] ^= 0x80
	if _, err := dec.Open(bad); err == nil {
		panic(fmt.Sprintf("a transform altered at byte %d opened", i))
	}
	Frame(plain)
	return 1
}
