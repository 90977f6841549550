// Package kdf implements the key derivation function SMB 3.x uses to turn a session key into
// its signing, encryption, decryption and application keys (MS-SMB2 3.1.4.2): NIST SP
// 800-108 in counter mode with HMAC-SHA256 as the PRF and a 32-bit counter (r = 32).
//
// For each block i = 1, 2, ... the PRF is computed over
//
//	[i]_32 || Label || 0x00 || Context || [L]_32
//
// (both integers big-endian, L the output length in bits) and the blocks are concatenated
// and cut to L bits. The 0x00 separator is SP 800-108's and is added here.
//
// MS-SMB2 defines its labels and contexts as strings "including the terminating null
// character" (for example Label "SMB2AESCMAC" is the 12 bytes 'S' 'M' 'B' '2' 'A' 'E' 'S' 'C'
// 'M' 'A' 'C' 0x00). This package uses label and context verbatim, so SMB callers pass the
// NUL-terminated bytes ("SMB2AESCMAC\x00", "SmbSign\x00"); the derived bytes then contain
// two zero bytes between an SMB label and its context, one from the label and one from the
// separator, which is what Windows computes (the tests check Microsoft's published keys). The
// 3.1.1 context, the 64-byte preauthentication integrity hash, is binary and passed as is.
package kdf

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
)

// CounterHMACSHA256 derives bits bits (a positive multiple of 8) from key with the SP 800-108
// counter-mode KDF, PRF HMAC-SHA256, r = 32. It panics if bits is not a positive multiple of
// 8: the length is always a constant of the caller.
func CounterHMACSHA256(key, label, context []byte, bits int) []byte {
	if bits <= 0 || bits%8 != 0 {
		panic("kdf: output length is not a positive multiple of 8 bits")
	}
	out := make([]byte, 0, (bits/8+sha256.Size-1)/sha256.Size*sha256.Size)
	mac := hmac.New(sha256.New, key)
	var ctr, l [4]byte
	binary.BigEndian.PutUint32(l[:], uint32(bits))
	for i := uint32(1); len(out) < bits/8; i++ {
		binary.BigEndian.PutUint32(ctr[:], i)
		mac.Reset()
		mac.Write(ctr[:])
		mac.Write(label)
		mac.Write([]byte{0})
		mac.Write(context)
		mac.Write(l[:])
		out = mac.Sum(out)
	}
	return out[:bits/8]
}

// SMB3KDF is the KDF of MS-SMB2 3.1.4.2: CounterHMACSHA256 with L = bits, 128 for the signing
// and application keys and for the AES-128 cipher keys, 256 for the AES-256 cipher keys.
// label and context are used verbatim: pass the NUL-terminated MS-SMB2 strings (see the
// package documentation) and, for 3.1.1, the preauthentication integrity hash as context.
func SMB3KDF(key, label, context []byte, bits int) []byte {
	return CounterHMACSHA256(key, label, context, bits)
}
