package dtyp

import (
	"testing"
	"time"
)

func TestGUIDString(t *testing.T) {
	g := GUID{0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}
	if s := g.String(); s != "00112233-4455-6677-8899-aabbccddeeff" {
		t.Fatal(s)
	}
}

func TestFiletime(t *testing.T) {
	unix := time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	if f := FiletimeOf(unix); f != 116444736000000000 {
		t.Fatalf("1970 = %d", f)
	}
	now := time.Date(2026, 11, 24, 18, 0, 0, 123456700, time.UTC)
	if got := FiletimeOf(now).Time(); !got.Equal(now) {
		t.Fatalf("round trip: %v", got)
	}
	if FiletimeOf(time.Time{}) != 0 || !Filetime(0).Time().IsZero() {
		t.Fatal("zero")
	}
}
