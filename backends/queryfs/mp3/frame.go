// Package mp3 reads and writes what queryfs needs of MPEG audio files: frame
// headers (MPEG-1, 2 and 2.5, layers I–III), the Xing/Info and VBRI headers
// of variable-bitrate files, the length of the tags around the audio, and
// from these the duration of a file. It also writes valid silent frames and
// ID3v1/ID3v2 tags, for test and demo libraries.
//
// Nothing here decodes audio: the duration comes from the frame headers.
package mp3

import (
	"errors"
	"fmt"
	"time"
)

// Header is a decoded 4-byte MPEG audio frame header.
type Header struct {
	Version    int  // 1, 2, or 25 (MPEG 2.5)
	Layer      int  // 1, 2 or 3
	CRC        bool // a 16-bit CRC follows the header
	Bitrate    int  // bits per second (never 0: free format is not supported)
	SampleRate int  // Hz
	Padding    bool
	Mode       int // 0 stereo, 1 joint stereo, 2 dual channel, 3 mono
}

// Mono reports whether the frame holds a single channel.
func (h Header) Mono() bool { return h.Mode == 3 }

var bitrates = [5][16]int{ // kbit/s by table, index 0 = free, 15 = bad
	{0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448}, // V1 L1
	{0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384},    // V1 L2
	{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320},     // V1 L3
	{0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256},    // V2 L1
	{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160},         // V2 L2, L3
}

var sampleRates = map[int][3]int{
	1:  {44100, 48000, 32000},
	2:  {22050, 24000, 16000},
	25: {11025, 12000, 8000},
}

func bitrateTable(version, layer int) int {
	if version == 1 {
		return layer - 1
	}
	if layer == 1 {
		return 3
	}
	return 4
}

// ParseHeader decodes the frame header at the start of b. It reports false
// when b does not start with a valid header (no sync, a reserved version or
// layer, a free-format or bad bitrate, a reserved sample rate).
func ParseHeader(b []byte) (Header, bool) {
	if len(b) < 4 || b[0] != 0xFF || b[1]&0xE0 != 0xE0 {
		return Header{}, false
	}
	var h Header
	switch (b[1] >> 3) & 3 {
	case 0:
		h.Version = 25
	case 2:
		h.Version = 2
	case 3:
		h.Version = 1
	default:
		return Header{}, false
	}
	switch (b[1] >> 1) & 3 {
	case 1:
		h.Layer = 3
	case 2:
		h.Layer = 2
	case 3:
		h.Layer = 1
	default:
		return Header{}, false
	}
	h.CRC = b[1]&1 == 0
	bi := int(b[2] >> 4)
	si := int(b[2]>>2) & 3
	if bi == 0 || bi == 15 || si == 3 {
		return Header{}, false
	}
	h.Bitrate = bitrates[bitrateTable(h.Version, h.Layer)][bi] * 1000
	h.SampleRate = sampleRates[h.Version][si]
	h.Padding = b[2]&2 != 0
	h.Mode = int(b[3] >> 6)
	if b[3]&3 == 2 { // reserved emphasis
		return Header{}, false
	}
	return h, true
}

// Samples is the number of audio samples (per channel) in a frame.
func (h Header) Samples() int {
	switch {
	case h.Layer == 1:
		return 384
	case h.Layer == 3 && h.Version != 1:
		return 576
	}
	return 1152
}

// FrameLen is the length of the frame in bytes, header included.
func (h Header) FrameLen() int {
	pad := 0
	if h.Padding {
		pad = 1
	}
	if h.Layer == 1 {
		return (12*h.Bitrate/h.SampleRate + pad) * 4
	}
	return h.Samples()/8*h.Bitrate/h.SampleRate + pad
}

// SideInfoLen is the length of the Layer III side information that follows
// the header (and its CRC).
func (h Header) SideInfoLen() int {
	switch {
	case h.Layer != 3:
		return 0
	case h.Version == 1 && h.Mono():
		return 17
	case h.Version == 1:
		return 32
	case h.Mono():
		return 9
	}
	return 17
}

// Duration is the playing time of one frame.
func (h Header) Duration() time.Duration {
	return time.Duration(h.Samples()) * time.Second / time.Duration(h.SampleRate)
}

// same reports whether two headers can belong to one stream.
func (h Header) same(o Header) bool {
	return h.Version == o.Version && h.Layer == o.Layer && h.SampleRate == o.SampleRate
}

// Encode returns the 4 header bytes. It fails for a combination the
// tables cannot express.
func (h Header) Encode() ([4]byte, error) {
	var b [4]byte
	b[0] = 0xFF
	vbits := map[int]byte{25: 0, 2: 2, 1: 3}
	v, ok := vbits[h.Version]
	if !ok || h.Layer < 1 || h.Layer > 3 {
		return b, fmt.Errorf("mp3: bad version %d or layer %d", h.Version, h.Layer)
	}
	b[1] = 0xE0 | v<<3 | byte(4-h.Layer)<<1
	if !h.CRC {
		b[1] |= 1
	}
	bi := -1
	for i, k := range bitrates[bitrateTable(h.Version, h.Layer)] {
		if i > 0 && i < 15 && k*1000 == h.Bitrate {
			bi = i
		}
	}
	si := -1
	for i, r := range sampleRates[h.Version] {
		if r == h.SampleRate {
			si = i
		}
	}
	if bi < 0 || si < 0 {
		return b, fmt.Errorf("mp3: no MPEG-%d layer %d code for %d bit/s at %d Hz", h.Version, h.Layer, h.Bitrate, h.SampleRate)
	}
	b[2] = byte(bi)<<4 | byte(si)<<2
	if h.Padding {
		b[2] |= 2
	}
	b[3] = byte(h.Mode&3) << 6
	return b, nil
}

// ErrNoFrames means no MPEG audio frame was found: the file is not an MP3
// (or is damaged beyond use).
var ErrNoFrames = errors.New("mp3: no MPEG audio frames found")
