package md4

import (
	"bytes"
	"encoding/hex"
	"testing"
)

// The test suite of RFC 1320 appendix A.5.
var rfc1320 = []struct{ in, out string }{
	{"", "31d6cfe0d16ae931b73c59d7e0c089c0"},
	{"a", "bde52cb31de33e46245e05fbdbd6fb24"},
	{"abc", "a448017aaf21d8525fc10ae87aa6729d"},
	{"message digest", "d9130a8164549fe818874806e1c7014b"},
	{"abcdefghijklmnopqrstuvwxyz", "d79e1c308aa5bbcdeea8ed63df412da9"},
	{"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "043f8582f241db351ce627e153e7f0e4"},
	{"12345678901234567890123456789012345678901234567890123456789012345678901234567890", "e33b4ddc9c38f2199c3e7b164fcc0536"},
}

func TestRFC1320(t *testing.T) {
	for _, v := range rfc1320 {
		got := Sum([]byte(v.in))
		if hex.EncodeToString(got[:]) != v.out {
			t.Errorf("MD4(%q) = %x, want %s", v.in, got, v.out)
		}
		// Streaming, one byte at a time, and Sum does not disturb the state.
		h := New()
		for i := 0; i < len(v.in); i++ {
			h.Write([]byte{v.in[i]})
			_ = h.Sum(nil)
		}
		if s := hex.EncodeToString(h.Sum(nil)); s != v.out {
			t.Errorf("streaming MD4(%q) = %s, want %s", v.in, s, v.out)
		}
	}
}

// Every length around the padding boundaries must agree between one-shot and split writes.
func TestSplitWrites(t *testing.T) {
	msg := bytes.Repeat([]byte("0123456789abcdef"), 12)
	for n := 0; n <= len(msg); n++ {
		want := Sum(msg[:n])
		for cut := 0; cut <= n; cut += 7 {
			h := New()
			h.Write(msg[:cut])
			h.Write(msg[cut:n])
			if got := h.Sum(nil); !bytes.Equal(got, want[:]) {
				t.Fatalf("len %d cut %d: %x != %x", n, cut, got, want)
			}
		}
	}
}

func BenchmarkSum1K(b *testing.B) {
	buf := make([]byte, 1024)
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		Sum(buf)
	}
}
