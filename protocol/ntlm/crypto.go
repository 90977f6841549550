package ntlm

import (
	"crypto/des"
	"crypto/hmac"
	"crypto/md5"

	"github.com/smbvfs/smbvfs/protocol/crypto/md4"
)

// NTHash returns the NT hash of a password, NTOWFv1 of MS-NLMP 3.3.1: MD4 of the UTF-16LE
// password. It is what a UserStore keeps for each user.
func NTHash(password string) [16]byte {
	return md4.Sum(encodeString(password, true))
}

// NTOWFv2 returns the NTLMv2 response key of MS-NLMP 3.3.2: HMAC-MD5 keyed with the NT hash
// over UTF-16LE(Uppercase(user) + domain). The domain is not uppercased.
func NTOWFv2(ntHash [16]byte, user, domain string) [16]byte {
	m := hmac.New(md5.New, ntHash[:])
	m.Write(encodeString(upper(user)+domain, true))
	var out [16]byte
	m.Sum(out[:0])
	return out
}

func hmacMD5(key []byte, parts ...[]byte) [16]byte {
	m := hmac.New(md5.New, key)
	for _, p := range parts {
		m.Write(p)
	}
	var out [16]byte
	m.Sum(out[:0])
	return out
}

// desKey expands 7 bytes into a DES key (the low bit of each byte is parity, ignored by
// crypto/des).
func desKey(k7 []byte) []byte {
	k := make([]byte, 8)
	k[0] = k7[0]
	k[1] = k7[0]<<7 | k7[1]>>1
	k[2] = k7[1]<<6 | k7[2]>>2
	k[3] = k7[2]<<5 | k7[3]>>3
	k[4] = k7[3]<<4 | k7[4]>>4
	k[5] = k7[4]<<3 | k7[5]>>5
	k[6] = k7[5]<<2 | k7[6]>>6
	k[7] = k7[6] << 1
	return k
}

// desl is DESL(K, D) of MS-NLMP 6: three DES encryptions of the 8-byte D under the 16-byte K
// cut into 7-byte keys (the last padded with zeros).
func desl(k16 []byte, d []byte) []byte {
	var k [21]byte
	copy(k[:], k16)
	out := make([]byte, 24)
	for i := 0; i < 3; i++ {
		b, _ := des.NewCipher(desKey(k[7*i : 7*i+7]))
		b.Encrypt(out[8*i:], d[:8])
	}
	return out
}

func md5Sum(parts ...[]byte) [16]byte {
	h := md5.New()
	for _, p := range parts {
		h.Write(p)
	}
	var out [16]byte
	h.Sum(out[:0])
	return out
}

func md4Sum(b []byte) [16]byte { return md4.Sum(b) }
