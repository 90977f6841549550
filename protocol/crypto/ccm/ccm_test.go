package ccm

import (
	"bytes"
	"crypto/aes"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type vector struct {
	name                        string
	key, nonce, ad, msg, sealed string // sealed = ciphertext || tag
	tagSize                     int
}

// The 24 packet vectors of RFC 3610 section 8. In the RFC the first 8 or 12 bytes of each
// "packet" are the unencrypted header (the associated data); the rest is the payload.
var rfc3610 = []vector{
	{"#1", "C0C1C2C3C4C5C6C7C8C9CACBCCCDCECF", "00000003020100A0A1A2A3A4A5", "0001020304050607", "08090A0B0C0D0E0F101112131415161718191A1B1C1D1E", "588C979A61C663D2F066D0C2C0F989806D5F6B61DAC38417E8D12CFDF926E0", 8},
	{"#2", "C0C1C2C3C4C5C6C7C8C9CACBCCCDCECF", "00000004030201A0A1A2A3A4A5", "0001020304050607", "08090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F", "72C91A36E135F8CF291CA894085C87E3CC15C439C9E43A3BA091D56E10400916", 8},
	{"#3", "C0C1C2C3C4C5C6C7C8C9CACBCCCDCECF", "00000005040302A0A1A2A3A4A5", "0001020304050607", "08090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F20", "51B1E5F44A197D1DA46B0F8E2D282AE871E838BB64DA8596574ADAA76FBD9FB0C5", 8},
	{"#4", "C0C1C2C3C4C5C6C7C8C9CACBCCCDCECF", "00000006050403A0A1A2A3A4A5", "000102030405060708090A0B", "0C0D0E0F101112131415161718191A1B1C1D1E", "A28C6865939A9A79FAAA5C4C2A9D4A91CDAC8C96C861B9C9E61EF1", 8},
	{"#5", "C0C1C2C3C4C5C6C7C8C9CACBCCCDCECF", "00000007060504A0A1A2A3A4A5", "000102030405060708090A0B", "0C0D0E0F101112131415161718191A1B1C1D1E1F", "DCF1FB7B5D9E23FB9D4E131253658AD86EBDCA3E51E83F077D9C2D93", 8},
	{"#6", "C0C1C2C3C4C5C6C7C8C9CACBCCCDCECF", "00000008070605A0A1A2A3A4A5", "000102030405060708090A0B", "0C0D0E0F101112131415161718191A1B1C1D1E1F20", "6FC1B011F006568B5171A42D953D469B2570A4BD87405A0443AC91CB94", 8},
	{"#7", "C0C1C2C3C4C5C6C7C8C9CACBCCCDCECF", "00000009080706A0A1A2A3A4A5", "0001020304050607", "08090A0B0C0D0E0F101112131415161718191A1B1C1D1E", "0135D1B2C95F41D5D1D4FEC185D166B8094E999DFED96C048C56602C97ACBB7490", 10},
	{"#8", "C0C1C2C3C4C5C6C7C8C9CACBCCCDCECF", "0000000A090807A0A1A2A3A4A5", "0001020304050607", "08090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F", "7B75399AC0831DD2F0BBD75879A2FD8F6CAE6B6CD9B7DB24C17B4433F434963F34B4", 10},
	{"#9", "C0C1C2C3C4C5C6C7C8C9CACBCCCDCECF", "0000000B0A0908A0A1A2A3A4A5", "0001020304050607", "08090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F20", "82531A60CC24945A4B8279181AB5C84DF21CE7F9B73F42E197EA9C07E56B5EB17E5F4E", 10},
	{"#10", "C0C1C2C3C4C5C6C7C8C9CACBCCCDCECF", "0000000C0B0A09A0A1A2A3A4A5", "000102030405060708090A0B", "0C0D0E0F101112131415161718191A1B1C1D1E", "07342594157785152B074098330ABB141B947B566AA9406B4D999988DD", 10},
	{"#11", "C0C1C2C3C4C5C6C7C8C9CACBCCCDCECF", "0000000D0C0B0AA0A1A2A3A4A5", "000102030405060708090A0B", "0C0D0E0F101112131415161718191A1B1C1D1E1F", "676BB20380B0E301E8AB79590A396DA78B834934F53AA2E9107A8B6C022C", 10},
	{"#12", "C0C1C2C3C4C5C6C7C8C9CACBCCCDCECF", "0000000E0D0C0BA0A1A2A3A4A5", "000102030405060708090A0B", "0C0D0E0F101112131415161718191A1B1C1D1E1F20", "C0FFA0D6F05BDB67F24D43A4338D2AA4BED7B20E43CD1AA31662E7AD65D6DB", 10},
	{"#13", "D7828D13B2B0BDC325A76236DF93CC6B", "00412B4EA9CDBE3C9696766CFA", "0BE1A88BACE018B1", "08E8CF97D820EA258460E96AD9CF5289054D895CEAC47C", "4CB97F86A2A4689A877947AB8091EF5386A6FFBDD080F8E78CF7CB0CDDD7B3", 8},
	{"#14", "D7828D13B2B0BDC325A76236DF93CC6B", "0033568EF7B2633C9696766CFA", "63018F76DC8A1BCB", "9020EA6F91BDD85AFA0039BA4BAFF9BFB79C7028949CD0EC", "4CCB1E7CA981BEFAA0726C55D378061298C85C92814ABC33C52EE81D7D77C08A", 8},
	{"#15", "D7828D13B2B0BDC325A76236DF93CC6B", "00103FE41336713C9696766CFA", "AA6CFA36CAE86B40", "B916E0EACC1C00D7DCEC68EC0B3BBB1A02DE8A2D1AA346132E", "B1D23A2220DDC0AC900D9AA03C61FCF4A559A4417767089708A776796EDB723506", 8},
	{"#16", "D7828D13B2B0BDC325A76236DF93CC6B", "00764C63B8058E3C9696766CFA", "D0D0735C531E1BECF049C244", "12DAAC5630EFA5396F770CE1A66B21F7B2101C", "14D253C3967B70609B7CBB7C499160283245269A6F49975BCADEAF", 8},
	{"#17", "D7828D13B2B0BDC325A76236DF93CC6B", "00F8B678094E3B3C9696766CFA", "77B60F011C03E1525899BCAE", "E88B6A46C78D63E52EB8C546EFB5DE6F75E9CC0D", "5545FF1A085EE2EFBF52B2E04BEE1E2336C73E3F762C0C7744FE7E3C", 8},
	{"#18", "D7828D13B2B0BDC325A76236DF93CC6B", "00D560912D3F703C9696766CFA", "CD9044D2B71FDB8120EA60C0", "6435ACBAFB11A82E2F071D7CA4A5EBD93A803BA87F", "009769ECABDF48625594C59251E6035722675E04C847099E5AE0704551", 8},
	{"#19", "D7828D13B2B0BDC325A76236DF93CC6B", "0042FFF8F1951C3C9696766CFA", "D85BC7E69F944FB8", "8A19B950BCF71A018E5E6701C91787659809D67DBEDD18", "BC218DAA947427B6DB386A99AC1AEF23ADE0B52939CB6A637CF9BEC2408897C6BA", 10},
	{"#20", "D7828D13B2B0BDC325A76236DF93CC6B", "00920F40E56CDC3C9696766CFA", "74A0EBC9069F5B37", "1761433C37C5A35FC1F39F406302EB907C6163BE38C98437", "5810E6FD25874022E80361A478E3E9CF484AB04F447EFFF6F0A477CC2FC9BF548944", 10},
	{"#21", "D7828D13B2B0BDC325A76236DF93CC6B", "0027CA0C7120BC3C9696766CFA", "44A3AA3AAE6475CA", "A434A8E58500C6E41530538862D686EA9E81301B5AE4226BFA", "F2BEED7BC5098E83FEB5B31608F8E29C38819A89C8E776F1544D4151A4ED3A8B87B9CE", 10},
	{"#22", "D7828D13B2B0BDC325A76236DF93CC6B", "005B8CCBCD9AF83C9696766CFA", "EC46BB63B02520C33C49FD70", "B96B49E21D621741632875DB7F6C9243D2D7C2", "31D750A09DA3ED7FDDD49A2032AABF17EC8EBF7D22C8088C666BE5C197", 10},
	{"#23", "D7828D13B2B0BDC325A76236DF93CC6B", "003EBE94044B9A3C9696766CFA", "47A65AC78B3D594227E85E71", "E2FCFBB880442C731BF95167C8FFD7895E337076", "E882F1DBD38CE3EDA7C23F04DD65071EB41342ACDF7E00DCCEC7AE52987D", 10},
	{"#24", "D7828D13B2B0BDC325A76236DF93CC6B", "008D493B30AE8B3C9696766CFA", "6E37A6EF546D955D34AB6059", "ABF21C0B02FEB88F856DF4A37381BCE3CC128517D4", "F32905B88A641B04B9C9FFB58CC390900F3DA12AB16DCE9E82EFA16DA62059", 10},
}

// NIST SP 800-38C appendix C, examples 1-3 (example 4, with 64 KiB of associated data, is
// TestSP80038CExample4).
var sp80038c = []vector{
	{"C.1", "404142434445464748494a4b4c4d4e4f", "10111213141516", "0001020304050607", "20212223", "7162015b4dac255d", 4},
	{"C.2", "404142434445464748494a4b4c4d4e4f", "1011121314151617", "000102030405060708090a0b0c0d0e0f", "202122232425262728292a2b2c2d2e2f", "d2a1f0e051ea5f62081a7792073d593d1fc64fbfaccd", 6},
	{"C.3", "404142434445464748494a4b4c4d4e4f", "101112131415161718191a1b", "000102030405060708090a0b0c0d0e0f10111213", "202122232425262728292a2b2c2d2e2f3031323334353637", "e3b201a9f5b71a7a9b1ceaeccd97e70b6176aad9a4428aa5484392fbc1b09951", 8},
}

func runVector(t *testing.T, v vector) {
	t.Helper()
	key, nonce, ad, msg, sealed := unhex(t, v.key), unhex(t, v.nonce), unhex(t, v.ad), unhex(t, v.msg), unhex(t, v.sealed)
	b, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(b, len(nonce), v.tagSize)
	if err != nil {
		t.Fatal(err)
	}
	got := c.Seal(nil, nonce, msg, ad)
	if !bytes.Equal(got, sealed) {
		t.Errorf("%s: Seal\n got %x\nwant %x", v.name, got, sealed)
	}
	pt, err := c.Open(nil, nonce, sealed, ad)
	if err != nil || !bytes.Equal(pt, msg) {
		t.Errorf("%s: Open = %x, %v", v.name, pt, err)
	}
	// In place, both ways.
	buf := append(bytes.Clone(msg), make([]byte, v.tagSize)...)[:len(msg)]
	out := c.Seal(buf[:0], nonce, buf, ad)
	if !bytes.Equal(out, sealed) || &out[0] != &buf[0] {
		t.Errorf("%s: in-place Seal = %x", v.name, out)
	}
	pt, err = c.Open(out[:0], nonce, out, ad)
	if err != nil || !bytes.Equal(pt, msg) {
		t.Errorf("%s: in-place Open = %x, %v", v.name, pt, err)
	}
	// Every single-bit change of ciphertext, tag, nonce or associated data is refused.
	for i := range sealed {
		bad := bytes.Clone(sealed)
		bad[i] ^= 0x20
		if _, err := c.Open(nil, nonce, bad, ad); err != ErrOpen {
			t.Errorf("%s: flipped byte %d accepted", v.name, i)
		}
	}
	for i := range ad {
		bad := bytes.Clone(ad)
		bad[i] ^= 1
		if _, err := c.Open(nil, nonce, sealed, bad); err != ErrOpen {
			t.Errorf("%s: flipped AD byte %d accepted", v.name, i)
		}
	}
	badNonce := bytes.Clone(nonce)
	badNonce[len(badNonce)-1] ^= 1
	if _, err := c.Open(nil, badNonce, sealed, ad); err != ErrOpen {
		t.Errorf("%s: wrong nonce accepted", v.name)
	}
}

func TestRFC3610(t *testing.T) {
	for _, v := range rfc3610 {
		runVector(t, v)
	}
}

func TestSP80038C(t *testing.T) {
	for _, v := range sp80038c {
		runVector(t, v)
	}
}

// SP 800-38C C.4: 65536 bytes of associated data (the bytes 00..ff repeated), which takes the
// 0xFF 0xFE + 32-bit encoding of the length, a 13-byte nonce and a 14-byte tag.
func TestSP80038CExample4(t *testing.T) {
	ad := make([]byte, 65536)
	for i := range ad {
		ad[i] = byte(i)
	}
	b, _ := aes.NewCipher(unhex(t, "404142434445464748494a4b4c4d4e4f"))
	c, err := New(b, 13, 14)
	if err != nil {
		t.Fatal(err)
	}
	msg := unhex(t, "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f")
	want := unhex(t, "69915dad1e84c6376a68c2967e4dab615ae0fd1faec44cc484828529463ccf72b4ac6bec93e8598e7f0dadbcea5b")
	got := c.Seal(nil, unhex(t, "101112131415161718191a1b1c"), msg, ad)
	if !bytes.Equal(got, want) {
		t.Errorf("Seal\n got %x\nwant %x", got, want)
	}
}

func TestParams(t *testing.T) {
	b, _ := aes.NewCipher(make([]byte, 16))
	for _, p := range [][2]int{{6, 16}, {14, 16}, {11, 3}, {11, 5}, {11, 18}} {
		if _, err := New(b, p[0], p[1]); err != ErrParams {
			t.Errorf("New(%d, %d) err = %v", p[0], p[1], err)
		}
	}
	c, err := NewSMB(b)
	if err != nil || c.NonceSize() != 11 || c.Overhead() != 16 {
		t.Fatalf("NewSMB: %v %v", c, err)
	}
	if _, err := NewAES(make([]byte, 32)); err != nil {
		t.Errorf("AES-256: %v", err)
	}
	if _, err := c.Open(nil, make([]byte, 11), make([]byte, 15), nil); err != ErrOpen {
		t.Errorf("short ciphertext: %v", err)
	}
	mustPanic(t, "nonce length", func() { c.Seal(nil, make([]byte, 12), nil, nil) })
	mustPanic(t, "overlap", func() {
		buf := make([]byte, 64)
		c.Seal(buf[1:1], make([]byte, 11), buf[:32], nil)
	})
	// With L = 2 (13-byte nonce) a payload may not exceed 65535 bytes.
	c2, _ := New(b, 13, 16)
	mustPanic(t, "too long", func() { c2.Seal(nil, make([]byte, 13), make([]byte, 1<<16), nil) })
	if _, err := c2.Open(nil, make([]byte, 13), make([]byte, 1<<16+16), nil); err != ErrOpen {
		t.Errorf("too long Open: %v", err)
	}
}

func mustPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s: no panic", what)
		}
	}()
	f()
}

// Round trips over lengths around block boundaries, with and without associated data, and
// the failure path zeroes what it decrypted.
func TestRoundTrip(t *testing.T) {
	c, _ := NewAES(make([]byte, 32))
	nonce := make([]byte, 11)
	for n := 0; n < 100; n++ {
		msg := make([]byte, n)
		rand.Read(msg)
		for _, ad := range [][]byte{nil, []byte("x"), make([]byte, 32), make([]byte, 0xff00)} {
			sealed := c.Seal(nil, nonce, msg, ad)
			pt, err := c.Open(nil, nonce, sealed, ad)
			if err != nil || !bytes.Equal(pt, msg) {
				t.Fatalf("len %d ad %d: %v", n, len(ad), err)
			}
			out := make([]byte, n)
			tag := make([]byte, 16)
			c.SealDetached(out, tag, nonce, msg, ad)
			if !bytes.Equal(out, sealed[:n]) || !bytes.Equal(tag, sealed[n:]) {
				t.Fatalf("detached seal differs")
			}
			if n > 0 {
				tag[0] ^= 1
				dst := make([]byte, n)
				if err := c.OpenDetached(dst, nonce, out, tag, ad); err != ErrOpen {
					t.Fatalf("bad tag accepted")
				}
				if !bytes.Equal(dst, make([]byte, n)) {
					t.Fatalf("failed Open left plaintext behind")
				}
			}
		}
	}
}

func TestAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	c, _ := NewAES(make([]byte, 16))
	nonce, ad := make([]byte, 11), make([]byte, 32)
	buf := make([]byte, 4096, 4096+16)
	if n := testing.AllocsPerRun(100, func() {
		sealed := c.Seal(buf[:0], nonce, buf, ad)
		if _, err := c.Open(sealed[:0], nonce, sealed, ad); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("%v allocations per Seal+Open", n)
	}
}

func BenchmarkSeal(b *testing.B) {
	for _, size := range []int{1 << 10, 64 << 10, 1 << 20} {
		for _, keyLen := range []int{16, 32} {
			b.Run(name(keyLen, size), func(b *testing.B) {
				c, _ := NewAES(make([]byte, keyLen))
				nonce, ad := make([]byte, 11), make([]byte, 32)
				buf := make([]byte, size, size+16)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					c.Seal(buf[:0], nonce, buf, ad)
				}
			})
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	for _, keyLen := range []int{16, 32} {
		const size = 1 << 20
		b.Run(name(keyLen, size), func(b *testing.B) {
			c, _ := NewAES(make([]byte, keyLen))
			nonce, ad := make([]byte, 11), make([]byte, 32)
			sealed := c.Seal(nil, nonce, make([]byte, size), ad)
			ct, tag := sealed[:size], bytes.Clone(sealed[size:])
			out := make([]byte, size)
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				if err := c.OpenDetached(out, nonce, ct, tag, ad); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func name(keyLen, size int) string {
	s := "AES128"
	if keyLen == 32 {
		s = "AES256"
	}
	switch {
	case size >= 1<<20:
		return s + "/1MiB"
	case size >= 64<<10:
		return s + "/64KiB"
	}
	return s + "/1KiB"
}

// FuzzOpen feeds arbitrary ciphertexts, tags and associated data to Open: it must never panic
// and must never accept (every input here is a forgery against a fixed random key).
func FuzzOpen(f *testing.F) {
	f.Add(make([]byte, 16), []byte("ad"))
	f.Add(make([]byte, 40), []byte{})
	key := make([]byte, 16)
	rand.Read(key)
	c, _ := NewAES(key)
	nonce := make([]byte, 11)
	f.Fuzz(func(t *testing.T, ct, ad []byte) {
		if _, err := c.Open(nil, nonce, ct, ad); err == nil {
			t.Fatalf("forgery accepted: %x", ct)
		}
		// A genuine message round-trips.
		sealed := c.Seal(nil, nonce, ct, ad)
		if pt, err := c.Open(nil, nonce, sealed, ad); err != nil || !bytes.Equal(pt, ct) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// The GCM-driven keystream (11-byte nonces, 48 bytes and more) must agree byte for byte with
// the block-by-block path, for every length around the block and tail boundaries, in place
// and not, with and without associated data.
func TestFastPathMatchesGeneric(t *testing.T) {
	for _, keyLen := range []int{16, 32} {
		key := make([]byte, keyLen)
		rand.Read(key)
		fast, _ := NewAES(key)
		slow, _ := NewAES(key)
		slow.ctr = nil
		nonce := make([]byte, 11)
		rand.Read(nonce)
		for n := 0; n < 300; n++ {
			msg := make([]byte, n)
			rand.Read(msg)
			for _, ad := range [][]byte{nil, make([]byte, 32)} {
				want := slow.Seal(nil, nonce, msg, ad)
				got := fast.Seal(nil, nonce, msg, ad)
				if !bytes.Equal(got, want) {
					t.Fatalf("key %d len %d: fast Seal differs\n got %x\nwant %x", keyLen, n, got, want)
				}
				buf := make([]byte, n, n+16)
				copy(buf, msg)
				if got := fast.Seal(buf[:0], nonce, buf, ad); !bytes.Equal(got, want) {
					t.Fatalf("len %d: in-place fast Seal differs", n)
				}
				if pt, err := fast.Open(nil, nonce, want, ad); err != nil || !bytes.Equal(pt, msg) {
					t.Fatalf("len %d: fast Open: %v", n, err)
				}
				in := bytes.Clone(want)
				if pt, err := fast.Open(in[:0], nonce, in, ad); err != nil || !bytes.Equal(pt, msg) {
					t.Fatalf("len %d: in-place fast Open: %v", n, err)
				}
				if pt, err := slow.Open(nil, nonce, want, ad); err != nil || !bytes.Equal(pt, msg) {
					t.Fatalf("len %d: slow Open: %v", n, err)
				}
			}
		}
	}
}

// The fast path must not write past the message: Seal into a buffer whose capacity beyond
// the plaintext holds a canary (the tag goes there only through append semantics), and
// SealDetached into an exact-size slice of a larger array.
func TestFastPathStaysInBounds(t *testing.T) {
	c, _ := NewAES(make([]byte, 16))
	nonce := make([]byte, 11)
	for n := 48; n < 100; n++ {
		arr := bytes.Repeat([]byte{0xAA}, n+64)
		out, tag := arr[:n], make([]byte, 16)
		c.SealDetached(out, tag, nonce, make([]byte, n), nil)
		for i := n; i < len(arr); i++ {
			if arr[i] != 0xAA {
				t.Fatalf("len %d: byte %d past the output was written", n, i)
			}
		}
		if err := c.OpenDetached(out, nonce, out, tag, nil); err != nil {
			t.Fatal(err)
		}
		for i := n; i < len(arr); i++ {
			if arr[i] != 0xAA {
				t.Fatalf("len %d: Open wrote byte %d past the output", n, i)
			}
		}
	}
}
