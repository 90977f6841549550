package smb3

import "crypto/sha512"

// PreauthHash is a 3.1.1 preauthentication integrity hash value (Connection.
// PreauthIntegrityHashValue, PreauthSession.PreauthIntegrityHashValue). Its zero value is
// the initial value, 64 zero bytes.
//
// The server updates the connection's value with the NEGOTIATE request and then the
// NEGOTIATE response (MS-SMB2 3.3.5.4); each session starts from a copy of that value and is
// updated with every SESSION_SETUP request and every SESSION_SETUP response except the final
// successful one, whose signature already depends on the keys derived from the hash
// (3.3.5.5, 3.3.5.5.3). Each message is hashed whole, from the start of its SMB2 header,
// exactly as it travels (one PDU of a compound; no transport header).
type PreauthHash [PreauthHashSize]byte

// Update sets h = SHA-512(h || message).
func (h *PreauthHash) Update(message []byte) {
	d := sha512.New()
	d.Write(h[:])
	d.Write(message)
	d.Sum(h[:0])
}
