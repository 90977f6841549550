package wire

import (
	"bytes"
	"testing"
)

func TestAppendBytes(t *testing.T) {
	// Ordinary append: a copy.
	b := append(make([]byte, 0, 16), 1, 2)
	p := []byte{3, 4, 5}
	got := AppendBytes(b, p)
	if !bytes.Equal(got, []byte{1, 2, 3, 4, 5}) {
		t.Fatalf("append: %v", got)
	}
	p[0] = 9
	if got[2] != 3 {
		t.Error("append aliases its argument")
	}
	// In place: the bytes already stand in b's spare capacity.
	b = append(make([]byte, 0, 16), 1, 2)
	inPlace := b[2:5]
	copy(inPlace, []byte{7, 8, 9})
	got = AppendBytes(b, inPlace)
	if !bytes.Equal(got, []byte{1, 2, 7, 8, 9}) || &got[2] != &inPlace[0] {
		t.Fatalf("in place: %v", got)
	}
	// Elsewhere in the same array (not at the end): copied.
	b = append(make([]byte, 0, 16), 1, 2, 3, 4)
	got = AppendBytes(b, b[0:2])
	if !bytes.Equal(got, []byte{1, 2, 3, 4, 1, 2}) {
		t.Fatalf("overlapping source: %v", got)
	}
	// Empty and nil.
	if got := AppendBytes(nil, nil); len(got) != 0 {
		t.Fatalf("nil: %v", got)
	}
	big := make([]byte, 0, 1<<20)
	data := big[:cap(big)][100 : 100+(1<<19)]
	big = big[:100]
	if n := testing.AllocsPerRun(100, func() { _ = AppendBytes(big, data) }); n != 0 {
		t.Errorf("in place AppendBytes allocates %v times", n)
	}
}
