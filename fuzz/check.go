// Package fuzz holds the fuzz harnesses of smbvfs.
//
// Every decoder generated from spec/ has a target: one per SMB2 message body (FuzzSmb2CreateRequest,
// ...), one per message-starting header (FuzzSmb2Header, FuzzSmb2TransformHeader, ...), and one
// "Any" target per package that reaches every other structure (FuzzAnyFscc, FuzzAnyDtyp, ...).
// FuzzFrame feeds whole Direct-TCP payloads (compound chains) through smb2.DecodeMessage.
//
// Each target's body is a plain function `func X(data []byte) int` in this package (1: the
// input decoded, 0: it was rejected), so the same targets build as go-fuzz entry points
// (`go-fuzz-build -func X`) for fuzzing farms that still run go-fuzz, and as OSS-Fuzz native
// Go fuzzers. The functions panic when an invariant breaks:
//
//   - a decoder never panics, whatever the input;
//   - a decoded value that encodes re-decodes, and re-encodes to the same bytes;
//   - Len agrees with the encoding.
//
// Seeds come from every capture in ../shared/pcaps (and $SMBVFS_PCAPS) when present.
//
//	make fuzz FUZZTIME=30s                 # every target in turn
//	go test ./fuzz -run '^$' -fuzz '^FuzzSmb2CreateRequest$' -fuzztime 1h
package fuzz

import (
	"bytes"
	"fmt"

	"github.com/smbvfs/smbvfs/protocol/smb2"
)

// message is a decoder of a body that follows an SMB2 header.
type message interface {
	Decode(pdu []byte, hdr int) error
	Len() int
	Append(b []byte, hdr int) ([]byte, error)
}

// structure is a decoder of a self-contained structure.
type structure interface {
	Decode(b []byte) error
	Len() int
	Append(b []byte) ([]byte, error)
}

// checkMessage decodes data as a message (header at 0) into m and checks the invariants.
func checkMessage(m message, data []byte) int {
	if err := m.Decode(data, 0); err != nil {
		return 0
	}
	enc, err := m.Append(append(make([]byte, 0, len(data)+64), data[:smb2.HeaderSize]...), 0)
	if err != nil {
		// a value the encoder cannot lay out (overlapping buffers decode, but are not produced)
		return 0
	}
	if len(enc)-smb2.HeaderSize != m.Len() {
		panic(fmt.Sprintf("Len %d, encoded %d", m.Len(), len(enc)-smb2.HeaderSize))
	}
	if err := m.Decode(enc, 0); err != nil {
		panic(fmt.Sprintf("re-decoding an encoding failed: %v\n%x", err, enc))
	}
	enc2, err := m.Append(append([]byte(nil), enc[:smb2.HeaderSize]...), 0)
	if err != nil || !bytes.Equal(enc, enc2) {
		panic(fmt.Sprintf("encoding is not stable (%v):\n%x\n%x", err, enc, enc2))
	}
	return 1
}

// checkStruct decodes data into m and checks the invariants.
func checkStruct(m structure, data []byte) int {
	if err := m.Decode(data); err != nil {
		return 0
	}
	enc, err := m.Append(nil)
	if err != nil {
		return 0
	}
	if len(enc) != m.Len() {
		panic(fmt.Sprintf("Len %d, encoded %d", m.Len(), len(enc)))
	}
	if err := m.Decode(enc); err != nil {
		panic(fmt.Sprintf("re-decoding an encoding failed: %v\n%x", err, enc))
	}
	enc2, err := m.Append(nil)
	if err != nil || !bytes.Equal(enc, enc2) {
		panic(fmt.Sprintf("encoding is not stable (%v):\n%x\n%x", err, enc, enc2))
	}
	return 1
}

// Frame decodes data as one Direct-TCP payload: a compound chain of SMB2 messages, each
// header and body decoded with smb2.DecodeMessage and checked like checkMessage.
func Frame(data []byte) int {
	var (
		h    smb2.Header
		msgs smb2.Messages
		er   smb2.ErrorResponse
	)
	c := smb2.Compound{Frame: data}
	n := 0
	for c.Next() {
		pdu, hdr := c.PDU(), c.Hdr()
		m, err := smb2.DecodeMessage(pdu, hdr, &h, &msgs, &er)
		if err != nil {
			continue
		}
		n = 1
		checkMessage(m, pdu[hdr:])
	}
	return n
}
