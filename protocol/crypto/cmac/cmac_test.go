package cmac

import (
	"bytes"
	"crypto/aes"
	"crypto/subtle"
	"encoding/hex"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// RFC 4493 section 4: the key, its subkeys, and the four examples.
const (
	rfcKey = "2b7e151628aed2a6abf7158809cf4f3c"
	rfcK1  = "fbeed618357133667c85e08f7236a8de"
	rfcK2  = "f7ddac306ae266ccf90bc11ee46d513b"
	rfcMsg = "6bc1bee22e409f96e93d7e117393172a" + "ae2d8a571e03ac9c9eb76fac45af8e51" +
		"30c81c46a35ce411e5fbc1191a0a52ef" + "f69f2445df4f9b17ad2b417be66c3710"
)

var rfcExamples = []struct {
	len int
	tag string
}{
	{0, "bb1d6929e95937287fa37d129b756746"},
	{16, "070a16b46b4d4144f79bdd9dd04a287c"},
	{40, "dfa66747de9ae63030ca32611497c827"},
	{64, "51f0bebf7e3b9d92fc49741779363cfe"},
}

func TestRFC4493Subkeys(t *testing.T) {
	m, err := NewAES(unhex(t, rfcKey))
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(m.k1[:]); got != rfcK1 {
		t.Errorf("K1 = %s, want %s", got, rfcK1)
	}
	if got := hex.EncodeToString(m.k2[:]); got != rfcK2 {
		t.Errorf("K2 = %s, want %s", got, rfcK2)
	}
}

func TestRFC4493Examples(t *testing.T) {
	key, msg := unhex(t, rfcKey), unhex(t, rfcMsg)
	for _, ex := range rfcExamples {
		want := unhex(t, ex.tag)
		got, err := Sum(key, msg[:ex.len])
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got[:], want) {
			t.Errorf("len %d: tag %x, want %x", ex.len, got, want)
		}
		// Every split of the message into two writes gives the same tag.
		m, _ := NewAES(key)
		for cut := 0; cut <= ex.len; cut++ {
			m.Reset()
			m.Write(msg[:cut])
			m.Write(msg[cut:ex.len])
			if s := m.Sum(nil); !bytes.Equal(s, want) {
				t.Errorf("len %d cut %d: tag %x, want %x", ex.len, cut, s, want)
			}
		}
		// Byte at a time, with Sum in between (Sum must not disturb the state).
		m.Reset()
		for i := 0; i < ex.len; i++ {
			m.Write(msg[i : i+1])
			m.Sum(nil)
		}
		if s := m.Sum(nil); !bytes.Equal(s, want) {
			t.Errorf("len %d bytewise: tag %x, want %x", ex.len, s, want)
		}
		ok, err := Verify(key, msg[:ex.len], want)
		if err != nil || !ok {
			t.Errorf("len %d: Verify = %v, %v", ex.len, ok, err)
		}
		bad := bytes.Clone(want)
		bad[15] ^= 1
		if ok, _ := Verify(key, msg[:ex.len], bad); ok {
			t.Errorf("len %d: Verify accepted a wrong tag", ex.len)
		}
	}
}

// AES-192 and AES-256 keys are accepted, other sizes are not.
func TestKeySizes(t *testing.T) {
	for _, n := range []int{16, 24, 32} {
		if _, err := Sum(make([]byte, n), []byte("x")); err != nil {
			t.Errorf("key size %d: %v", n, err)
		}
	}
	if _, err := Sum(make([]byte, 15), nil); err == nil {
		t.Error("15-byte key accepted")
	}
}

// NIST SP 800-38B appendix D.3 (AES-256) examples 9-12.
func TestSP80038BAES256(t *testing.T) {
	key := unhex(t, "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4")
	msg := unhex(t, rfcMsg)
	for _, ex := range []struct {
		len int
		tag string
	}{
		{0, "028962f61b7bf89efc6b551f4667d983"},
		{16, "28a7023f452e8f82bd4bf28d8c37c35c"},
		{40, "aaf3d8f1de5640c232f5b169b9c911e6"},
		{64, "e1992190549f6ed5696a2c056c315410"},
	} {
		got, err := Sum(key, msg[:ex.len])
		if err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(got[:]) != ex.tag {
			t.Errorf("AES-256 len %d: %x, want %s", ex.len, got, ex.tag)
		}
	}
}

func TestNotAES(t *testing.T) {
	if _, err := New(fakeBlock{}); err != ErrBlockSize {
		t.Errorf("err = %v", err)
	}
}

type fakeBlock struct{}

func (fakeBlock) BlockSize() int          { return 8 }
func (fakeBlock) Encrypt(dst, src []byte) {}
func (fakeBlock) Decrypt(dst, src []byte) {}

func TestAllocs(t *testing.T) {
	m, _ := NewAES(make([]byte, 16))
	msg := make([]byte, 4096+7)
	out := make([]byte, 0, Size)
	if n := testing.AllocsPerRun(100, func() {
		m.Reset()
		m.Write(msg)
		out = m.Sum(out[:0])
	}); n != 0 {
		t.Errorf("%v allocations per message", n)
	}
}

func BenchmarkCMAC(b *testing.B) {
	for _, size := range []int{64, 1024, 64 << 10, 1 << 20} {
		b.Run(sizeName(size), func(b *testing.B) {
			blk, _ := aes.NewCipher(make([]byte, 16))
			m, _ := New(blk)
			msg := make([]byte, size)
			out := make([]byte, 0, Size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				m.Reset()
				m.Write(msg)
				out = m.Sum(out[:0])
			}
			_ = subtle.ConstantTimeCompare(out, out)
		})
	}
}

func sizeName(n int) string {
	switch {
	case n >= 1<<20:
		return itoa(n>>20) + "MiB"
	case n >= 1<<10:
		return itoa(n>>10) + "KiB"
	}
	return itoa(n) + "B"
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func FuzzCMACSplit(f *testing.F) {
	f.Add([]byte("hello"), uint8(2))
	f.Add(make([]byte, 48), uint8(16))
	key := make([]byte, 16)
	f.Fuzz(func(t *testing.T, msg []byte, cut uint8) {
		want, _ := Sum(key, msg)
		c := int(cut)
		if c > len(msg) {
			c = len(msg)
		}
		m, _ := NewAES(key)
		m.Write(msg[:c])
		m.Write(msg[c:])
		if got := m.Sum(nil); !bytes.Equal(got, want[:]) {
			t.Fatalf("split at %d: %x != %x", c, got, want)
		}
	})
}
