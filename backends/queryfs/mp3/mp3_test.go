package mp3_test

import (
	"bytes"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/dhowden/tag"

	"github.com/smbvfs/smbvfs/backends/queryfs/mp3"
)

func TestHeaderRoundTrip(t *testing.T) {
	for _, h := range []mp3.Header{
		{Version: 1, Layer: 3, Bitrate: 128000, SampleRate: 44100},
		{Version: 1, Layer: 3, Bitrate: 320000, SampleRate: 48000, Padding: true, Mode: 1},
		{Version: 2, Layer: 3, Bitrate: 8000, SampleRate: 16000, Mode: 3},
		{Version: 25, Layer: 3, Bitrate: 64000, SampleRate: 8000, Mode: 3},
		{Version: 1, Layer: 2, Bitrate: 384000, SampleRate: 32000},
		{Version: 1, Layer: 1, Bitrate: 448000, SampleRate: 44100, Padding: true},
	} {
		b, err := h.Encode()
		if err != nil {
			t.Fatal(err)
		}
		got, ok := mp3.ParseHeader(b[:])
		if !ok || got != h {
			t.Errorf("%+v: round trip gives %+v, %v", h, got, ok)
		}
	}
	// Known lengths.
	if n := (mp3.Header{Version: 1, Layer: 3, Bitrate: 128000, SampleRate: 44100}).FrameLen(); n != 417 {
		t.Errorf("128k/44.1k frame = %d bytes, want 417", n)
	}
	if n := (mp3.Header{Version: 1, Layer: 1, Bitrate: 32000, SampleRate: 32000}).FrameLen(); n != 48 {
		t.Errorf("layer I 32k/32k frame = %d bytes, want 48", n)
	}
	for _, bad := range [][]byte{{0xFF, 0xFF, 0xF0, 0}, {0xFF, 0xEA, 0x90, 0}, {0xFF, 0xFB, 0x0C, 0}, {0xFE, 0xFB, 0x90, 0}} {
		if _, ok := mp3.ParseHeader(bad); ok {
			t.Errorf("% x parsed as a header", bad)
		}
	}
}

func TestDuration(t *testing.T) {
	cases := []struct {
		name string
		f    mp3.Format
		d    time.Duration
		tags bool
		cut  int
	}{
		{"cbr128", mp3.Format{Version: 1, SampleRate: 44100, Bitrates: []int{128000}}, 7 * time.Second, true, 0},
		{"cbr8-mpeg25", mp3.Format{Version: 25, SampleRate: 8000, Mono: true, Bitrates: []int{8000}}, 95 * time.Second, true, 0},
		{"cbr-mpeg2", mp3.Format{Version: 2, SampleRate: 16000, Mono: true, Bitrates: []int{16000}}, 61 * time.Second, false, 0},
		{"xing", mp3.Format{Version: 25, SampleRate: 8000, Mono: true, Bitrates: []int{8000, 16000, 32000, 24000}, VBRHeader: "xing"}, 200 * time.Second, true, 0},
		{"vbri", mp3.Format{Version: 1, SampleRate: 32000, Bitrates: []int{32000, 64000, 48000}, VBRHeader: "vbri"}, 30 * time.Second, false, 0},
		{"info", mp3.Format{Version: 1, SampleRate: 48000, Bitrates: []int{64000}, VBRHeader: "info"}, 12 * time.Second, true, 0},
		{"truncated-cbr", mp3.Format{Version: 25, SampleRate: 8000, Mono: true, Bitrates: []int{8000}}, 100 * time.Second, false, 50030},
		{"truncated-xing", mp3.Format{Version: 25, SampleRate: 8000, Mono: true, Bitrates: []int{8000, 16000}, VBRHeader: "xing"}, 100 * time.Second, false, 40000},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			if c.tags {
				v2, _ := mp3.ID3v2(mp3.Tags{Title: "x"}, 3, 100)
				buf.Write(v2)
			}
			start := buf.Len()
			n, err := mp3.WriteSilence(&buf, c.f, c.d)
			if err != nil {
				t.Fatal(err)
			}
			want := c.f.Duration(n)
			data := buf.Bytes()
			if c.cut > 0 {
				data = data[:start+c.cut]
				full := buf.Len() - start
				want = time.Duration(float64(want) * float64(c.cut) / float64(full))
			}
			if c.tags {
				data = append(data, mp3.ID3v1(mp3.Tags{Title: "x"}, 255)...)
			}
			for _, scan := range []bool{false, true} {
				info, err := mp3.Analyze(bytes.NewReader(data), int64(len(data)), mp3.Options{Scan: scan})
				if err != nil {
					t.Fatalf("scan=%v: %v", scan, err)
				}
				if diff := math.Abs((info.Duration - want).Seconds()); diff > 0.5 {
					t.Errorf("scan=%v: duration %v, want %v (%+v)", scan, info.Duration, want, info)
				}
				if info.Truncated != (c.cut > 0) {
					t.Errorf("scan=%v: truncated=%v (%+v)", scan, info.Truncated, info)
				}
				if wantVBR := len(c.f.Bitrates) > 1; info.VBR != wantVBR {
					t.Errorf("scan=%v: VBR=%v, want %v (%+v)", scan, info.VBR, wantVBR, info)
				}
			}
		})
	}
}

func TestNoFrames(t *testing.T) {
	for _, data := range [][]byte{nil, []byte("hello"), bytes.Repeat([]byte("not an mp3 file "), 5000), {0xFF, 0xFB, 0x90}} {
		for _, scan := range []bool{false, true} {
			_, err := mp3.Analyze(bytes.NewReader(data), int64(len(data)), mp3.Options{Scan: scan})
			if !errors.Is(err, mp3.ErrNoFrames) {
				t.Errorf("%d bytes scan=%v: err %v", len(data), scan, err)
			}
		}
	}
}

func TestTagsReadBack(t *testing.T) {
	want := mp3.Tags{Title: "Café — 日本", Artist: "Björk & Friends", Album: "Ærø", AlbumArtist: "Various",
		Genre: "Trip-Hop", Track: 7, Tracks: 12, Disc: 2, Year: 1997}
	var audio bytes.Buffer
	mp3.WriteSilence(&audio, mp3.Format{Version: 25, SampleRate: 8000, Mono: true, Bitrates: []int{8000}}, time.Second)
	for _, v := range []int{2, 3, 4} {
		tagb, err := mp3.ID3v2(want, v, 64)
		if err != nil {
			t.Fatal(err)
		}
		m, err := tag.ReadFrom(bytes.NewReader(append(tagb, audio.Bytes()...)))
		if err != nil {
			t.Fatalf("v2.%d: %v", v, err)
		}
		tr, of := m.Track()
		d, _ := m.Disc()
		if m.Title() != want.Title || m.Artist() != want.Artist || m.Album() != want.Album || m.AlbumArtist() != want.AlbumArtist ||
			m.Genre() != want.Genre || tr != 7 || of != 12 || d != 2 || m.Year() != 1997 {
			t.Errorf("v2.%d: read back %q %q %q %q %q %d/%d %d %d", v, m.Title(), m.Artist(), m.Album(), m.AlbumArtist(), m.Genre(), tr, of, d, m.Year())
		}
	}
	v1 := mp3.Tags{Title: "Plain Title", Artist: "Plain Artist", Album: "Plain Album", Track: 3, Year: 1984}
	m, err := tag.ReadFrom(bytes.NewReader(append(audio.Bytes(), mp3.ID3v1(v1, 17)...)))
	if err != nil {
		t.Fatal(err)
	}
	if tr, _ := m.Track(); m.Title() != v1.Title || m.Artist() != v1.Artist || m.Album() != v1.Album || m.Genre() != "Rock" || tr != 3 || m.Year() != 1984 {
		t.Errorf("v1: read back %q %q %q %q %d %d", m.Title(), m.Artist(), m.Album(), m.Genre(), tr, m.Year())
	}
}
