package smb3

import (
	"crypto/aes"
	"crypto/cipher"
	"fmt"
	"testing"
)

func fmtSscan(s string, args ...any) (int, error) { return fmt.Sscan(s, args...) }

// gcmTag computes AES-GCM(key, nonce, plaintext = empty, AD = ad) with the standard library
// directly, as the reference for GMAC.
func gcmTag(t *testing.T, key, nonce, ad []byte) []byte {
	t.Helper()
	b, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	g, err := cipher.NewGCM(b)
	if err != nil {
		t.Fatal(err)
	}
	return g.Seal(nil, nonce, nil, ad)
}
