package dtyp

import (
	"encoding/binary"
	"fmt"
	"time"
)

// String formats the GUID as Windows does: {xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx} without
// braces, the first three groups little-endian.
func (g GUID) String() string {
	return fmt.Sprintf("%08x-%04x-%04x-%x-%x", binary.LittleEndian.Uint32(g[:4]), binary.LittleEndian.Uint16(g[4:6]), binary.LittleEndian.Uint16(g[6:8]), g[8:10], g[10:])
}

// filetimeEpoch is 1601-01-01 in Unix seconds.
const filetimeEpoch = -11644473600

// Time converts a FILETIME (100-ns intervals since 1601-01-01 UTC) to a time.Time; 0 gives the
// zero time.
func (f Filetime) Time() time.Time {
	if f == 0 {
		return time.Time{}
	}
	return time.Unix(filetimeEpoch+int64(f/10000000), int64(f%10000000)*100).UTC()
}

// FiletimeOf converts a time to a FILETIME; the zero time gives 0.
func FiletimeOf(t time.Time) Filetime {
	if t.IsZero() {
		return 0
	}
	secs := t.Unix() - filetimeEpoch
	if secs < 0 {
		return 0
	}
	return Filetime(uint64(secs)*10000000 + uint64(t.Nanosecond()/100))
}

// String formats the time in RFC 3339 with nanoseconds.
func (f Filetime) String() string {
	if f == 0 {
		return "0"
	}
	return f.Time().Format(time.RFC3339Nano)
}
