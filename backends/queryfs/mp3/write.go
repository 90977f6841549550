package mp3

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"time"
	"unicode/utf16"
)

// Format describes a stream of silent frames to write.
type Format struct {
	Version    int // 1, 2 or 25
	SampleRate int
	Mono       bool
	// Bitrates: one for a constant-bitrate stream, several for a VBR
	// stream (frame i uses Bitrates[i*7%len]).
	Bitrates []int
	// VBRHeader is "", "xing", "info" or "vbri": a first frame holding that
	// header (not counted as audio) is written before the audio frames.
	VBRHeader string
}

// Frames returns the number of audio frames for a duration (rounded up).
func (f Format) Frames(d time.Duration) int64 {
	h := Header{Version: f.Version, Layer: 3, SampleRate: f.SampleRate}
	return int64(math.Ceil(d.Seconds() * float64(f.SampleRate) / float64(h.Samples())))
}

// Duration is the exact playing time of n audio frames.
func (f Format) Duration(n int64) time.Duration {
	h := Header{Version: f.Version, Layer: 3, SampleRate: f.SampleRate}
	return time.Duration(n) * h.Duration()
}

// WriteSilence writes Layer III frames of silence (side information all
// zero: no main data) lasting at least d, and returns the number of audio
// frames written. Padding follows the usual accumulator so that the average
// bitrate is exact.
func WriteSilence(w io.Writer, f Format, d time.Duration) (int64, error) {
	if len(f.Bitrates) == 0 {
		return 0, fmt.Errorf("mp3: no bitrate")
	}
	mode := 0
	if f.Mono {
		mode = 3
	}
	n := f.Frames(d)
	frame := func(i int64) Header {
		return Header{Version: f.Version, Layer: 3, SampleRate: f.SampleRate, Mode: mode,
			Bitrate: f.Bitrates[int(i*7)%len(f.Bitrates)]}
	}
	var frames [][]byte
	var total int64
	var rem int
	for i := range n {
		h := frame(i)
		num := h.Samples() / 8 * h.Bitrate
		rem += num % h.SampleRate
		if rem >= h.SampleRate {
			rem -= h.SampleRate
			h.Padding = true
		}
		b, err := encodeFrame(h, nil)
		if err != nil {
			return 0, err
		}
		frames = append(frames, b)
		total += int64(len(b))
	}
	bw := &countWriter{w: w}
	if f.VBRHeader != "" {
		// The info frame: big enough for the header, at the first bitrate
		// that fits.
		h := frame(0)
		for _, br := range bitrates[bitrateTable(h.Version, 3)][1:15] {
			h.Bitrate = br * 1000
			if h.FrameLen() >= 64 {
				break
			}
		}
		total += int64(h.FrameLen())
		var body []byte
		switch f.VBRHeader {
		case "xing", "info":
			tag := "Xing"
			if f.VBRHeader == "info" {
				tag = "Info"
			}
			body = make([]byte, h.SideInfoLen(), h.SideInfoLen()+16)
			body = append(body, tag...)
			body = binary.BigEndian.AppendUint32(body, 3) // frames and bytes
			body = binary.BigEndian.AppendUint32(body, uint32(n))
			body = binary.BigEndian.AppendUint32(body, uint32(total))
		case "vbri":
			body = make([]byte, 32, 32+26)
			body = append(body, "VBRI"...)
			body = binary.BigEndian.AppendUint16(body, 1)  // version
			body = binary.BigEndian.AppendUint16(body, 0)  // delay
			body = binary.BigEndian.AppendUint16(body, 75) // quality
			body = binary.BigEndian.AppendUint32(body, uint32(total))
			body = binary.BigEndian.AppendUint32(body, uint32(n))
			body = append(body, 0, 0, 0, 1, 0, 2, 0, 1) // empty TOC: entries, scale, entry size, frames per entry
		default:
			return 0, fmt.Errorf("mp3: unknown VBR header %q", f.VBRHeader)
		}
		b, err := encodeFrame(h, body)
		if err != nil {
			return 0, err
		}
		if _, err := bw.Write(b); err != nil {
			return 0, err
		}
	}
	for _, b := range frames {
		if _, err := bw.Write(b); err != nil {
			return 0, err
		}
	}
	return n, nil
}

func encodeFrame(h Header, body []byte) ([]byte, error) {
	hb, err := h.Encode()
	if err != nil {
		return nil, err
	}
	b := make([]byte, h.FrameLen())
	copy(b, hb[:])
	if len(body) > len(b)-4 {
		return nil, fmt.Errorf("mp3: %d-byte body does not fit a %d-byte frame", len(body), len(b))
	}
	copy(b[4:], body)
	return b, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Tags are the fields written by ID3v1 and ID3v2.
type Tags struct {
	Title, Artist, Album, AlbumArtist, Genre string
	Track, Tracks, Disc, Year                int
}

// ID3v1 returns a 128-byte ID3v1.1 tag. Text is truncated to the fields'
// sizes and written in ISO-8859-1 ('?' for other characters); genre is
// the ID3v1 genre number (255: none).
func ID3v1(t Tags, genre byte) []byte {
	b := make([]byte, 128)
	copy(b, "TAG")
	put := func(off, n int, s string) {
		copy(b[off:off+n], latin1(s, n))
	}
	put(3, 30, t.Title)
	put(33, 30, t.Artist)
	put(63, 30, t.Album)
	if t.Year > 0 {
		put(93, 4, fmt.Sprintf("%04d", t.Year))
	}
	b[126] = byte(t.Track)
	b[127] = genre
	return b
}

func latin1(s string, n int) []byte {
	var out []byte
	for _, r := range s {
		if len(out) == n {
			break
		}
		if r > 255 {
			r = '?'
		}
		out = append(out, byte(r))
	}
	return out
}

// ID3v2 returns an ID3v2.2, 2.3 or 2.4 tag (version 2, 3 or 4) holding the
// non-empty fields, followed by padding bytes. Text is ISO-8859-1 when it
// can be, else UTF-16 (2.2, 2.3) or UTF-8 (2.4).
func ID3v2(t Tags, version, padding int) ([]byte, error) {
	if version < 2 || version > 4 {
		return nil, fmt.Errorf("mp3: no ID3v2.%d", version)
	}
	type field struct {
		v2, v3 string
		value  string
	}
	year := "TYER"
	if version == 4 {
		year = "TDRC"
	}
	num := func(x, of int) string {
		switch {
		case x == 0:
			return ""
		case of > 0:
			return fmt.Sprintf("%d/%d", x, of)
		}
		return fmt.Sprint(x)
	}
	fields := []field{
		{"TT2", "TIT2", t.Title}, {"TP1", "TPE1", t.Artist}, {"TAL", "TALB", t.Album},
		{"TP2", "TPE2", t.AlbumArtist}, {"TCO", "TCON", t.Genre},
		{"TRK", "TRCK", num(t.Track, t.Tracks)}, {"TPA", "TPOS", num(t.Disc, 0)},
		{"TYE", year, num(t.Year, 0)},
	}
	var frames bytes.Buffer
	for _, f := range fields {
		if f.value == "" {
			continue
		}
		text := encodeText(f.value, version)
		switch version {
		case 2:
			frames.WriteString(f.v2)
			frames.Write([]byte{byte(len(text) >> 16), byte(len(text) >> 8), byte(len(text))})
		case 3:
			frames.WriteString(f.v3)
			frames.Write(binary.BigEndian.AppendUint32(nil, uint32(len(text))))
			frames.Write([]byte{0, 0})
		case 4:
			frames.WriteString(f.v3)
			frames.Write(syncsafeBytes(len(text)))
			frames.Write([]byte{0, 0})
		}
		frames.Write(text)
	}
	frames.Write(make([]byte, padding))
	out := []byte{'I', 'D', '3', byte(version), 0, 0}
	out = append(out, syncsafeBytes(frames.Len())...)
	return append(out, frames.Bytes()...), nil
}

func encodeText(s string, version int) []byte {
	plain := true
	for _, r := range s {
		if r > 255 {
			plain = false
		}
	}
	switch {
	case plain:
		return append([]byte{0}, latin1(s, len(s))...)
	case version == 4:
		return append([]byte{3}, s...)
	}
	b := []byte{1, 0xFF, 0xFE}
	for _, u := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return b
}

func syncsafeBytes(n int) []byte {
	return []byte{byte(n>>21) & 0x7F, byte(n>>14) & 0x7F, byte(n>>7) & 0x7F, byte(n) & 0x7F}
}

// Genres is the ID3v1 genre list (0–79, the original Winamp-less set).
var Genres = []string{
	"Blues", "Classic Rock", "Country", "Dance", "Disco", "Funk", "Grunge", "Hip-Hop", "Jazz", "Metal",
	"New Age", "Oldies", "Other", "Pop", "R&B", "Rap", "Reggae", "Rock", "Techno", "Industrial",
	"Alternative", "Ska", "Death Metal", "Pranks", "Soundtrack", "Euro-Techno", "Ambient", "Trip-Hop", "Vocal", "Jazz+Funk",
	"Fusion", "Trance", "Classical", "Instrumental", "Acid", "House", "Game", "Sound Clip", "Gospel", "Noise",
	"AlternRock", "Bass", "Soul", "Punk", "Space", "Meditative", "Instrumental Pop", "Instrumental Rock", "Ethnic", "Gothic",
	"Darkwave", "Techno-Industrial", "Electronic", "Pop-Folk", "Eurodance", "Dream", "Southern Rock", "Comedy", "Cult", "Gangsta",
	"Top 40", "Christian Rap", "Pop/Funk", "Jungle", "Native American", "Cabaret", "New Wave", "Psychadelic", "Rave", "Showtunes",
	"Trailer", "Lo-Fi", "Tribal", "Acid Punk", "Acid Jazz", "Polka", "Retro", "Musical", "Rock & Roll", "Hard Rock",
}
