package index

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/smbvfs/smbvfs/backends/queryfs/mp3"
	"github.com/smbvfs/smbvfs/backends/queryfs/store"
)

// DemoTrack is one generated file and the truth about it.
type DemoTrack struct {
	Path       string
	Tags       mp3.Tags      // what the tags say (zero for a tagless file)
	Duration   time.Duration // how long the audio plays
	TagVersion string        // "v1", "v2.2", "v2.3", "v2.4", "v2.3+v1", "none", "damaged"
	Format     string        // "cbr", "xing", "vbri", "corrupt"
	Truncated  bool
	Corrupt    bool // no audio at all: the indexer must skip it
	Duplicate  bool // same title and track number as the track before
}

var (
	adjectives = []string{"Velvet", "Electric", "Silent", "Golden", "Broken", "Crimson", "Midnight", "Paper", "Neon",
		"Wild", "Hollow", "Crystal", "Rusty", "Lunar", "Frozen", "Burning", "Quiet", "Stone", "Wandering", "Little"}
	nouns = []string{"Owls", "Harbour", "Engines", "Tigers", "Gardens", "Satellites", "Rivers", "Foxes", "Lanterns",
		"Machines", "Orchids", "Pilots", "Ghosts", "Sparrows", "Mountains", "Radios", "Wolves", "Bells", "Comets", "Tides"}
	words = []string{"Love", "Night", "Road", "Dream", "Fire", "Rain", "Heart", "Light", "Home", "Song", "Time",
		"Summer", "River", "Shadow", "Morning", "Ocean", "City", "Stars", "Blue", "Gold", "Echo", "Winter", "Dance"}
	// Titles that test names: characters Windows refuses, reserved
	// device names, trailing dots and spaces, non-ASCII text.
	specialTitles = []string{"What Is Love?", "AC/DC Tribute", "Side A: Intro", "Fade Out...", "CON", "aux",
		"Café del Mar", "日本の夜", "Straße nach Süden", "Pipe | Dream", "<Angle> Brackets", "Star*Light",
		"Quote \"Me\"", "Trailing Space  ", "Ærøskøbing Ñandú", "lpt1"}
	demoGenres = []int{0, 2, 4, 5, 7, 8, 9, 13, 15, 16, 17, 18, 26, 32, 42, 43, 52, 79}
)

// Demo writes a synthetic library of n tracks under dir (artist/album
// folders of valid MPEG audio frames of silence, with ID3v1/ID3v2 tags
// written by package mp3): many artists, albums, genres and years; some
// VBR files with a Xing or VBRI header; some tagless, some truncated, and
// a few damaged ones (one with a bad ID3v2 header, two that are not MP3 at
// all). The same seed gives the same library. It returns the truth.
func Demo(dir string, n int, seed uint64) ([]DemoTrack, error) {
	return DemoWith(dir, n, seed, 540)
}

// DemoWith is Demo with tracks of at most maxSeconds (smaller files).
func DemoWith(dir string, n int, seed uint64, maxSeconds int) ([]DemoTrack, error) {
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	pick := func(s []string) string { return s[rng.IntN(len(s))] }
	var out []DemoTrack
	artistNo := 0
	for len(out) < n {
		artistNo++
		artist := fmt.Sprintf("The %s %s", pick(adjectives), pick(nouns))
		switch {
		case artistNo%9 == 0:
			artist = pick(adjectives) + " " + pick(words)
		case artistNo%10 == 0:
			artist = strings.ToUpper(artist) // a case variant of another name, maybe
		}
		artist = fmt.Sprintf("%s %d", artist, artistNo) // distinct artists
		genre := mp3.Genres[demoGenres[rng.IntN(len(demoGenres))]]
		for a := range 1 + rng.IntN(3) {
			if len(out) >= n {
				break
			}
			album := pick(words) + " " + pick(words)
			if a == 1 && artistNo%4 == 0 {
				album = "Greatest Hits" // the same album title for several artists
			}
			year := 1955 + rng.IntN(70)
			if rng.IntN(15) == 0 {
				year = 0
			}
			tracks := 4 + rng.IntN(9)
			for tn := 1; tn <= tracks && len(out) < n; tn++ {
				title := pick(words) + " " + pick(words)
				if rng.IntN(6) == 0 {
					title = pick(specialTitles)
				}
				tr := tn
				dup := artistNo%3 == 0 && a == 0 && tn == 2
				if dup {
					title, tr = out[len(out)-1].Tags.Title, tn-1 // a duplicate: same number, same title
				}
				tags := mp3.Tags{Title: title, Artist: artist, Album: album, Genre: genre, Track: tr, Tracks: tracks, Year: year, Disc: 1}
				if artistNo%5 == 0 {
					tags.AlbumArtist = "Various " + artist
				}
				out = append(out, DemoTrack{Tags: tags, Duplicate: dup})
			}
		}
	}
	// File kinds, spread over the library.
	for i := range out {
		t := &out[i]
		i1 := i + 1
		dup := t.Duplicate || i+1 < len(out) && out[i+1].Duplicate
		switch {
		case dup:
			t.TagVersion = "v2.3"
		case i1%37 == 0 && i1 < 80:
			t.Corrupt, t.Format, t.TagVersion = true, "corrupt", "none"
		case i1%23 == 0:
			t.TagVersion = "none"
		case i1%31 == 0:
			t.TagVersion = "damaged"
		default:
			t.TagVersion = []string{"v2.3", "v2.4", "v2.2", "v2.3+v1", "v1"}[i%5]
			if t.TagVersion == "v1" && !id3v1Fits(t.Tags) {
				t.TagVersion = "v2.3+v1"
			}
		}
		if i1%29 == 0 && !t.Corrupt && !dup {
			t.Truncated = true
		}
	}
	for i := range out {
		if err := writeDemo(dir, &out[i], i, rng, maxSeconds); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func id3v1Fits(t mp3.Tags) bool {
	for _, s := range []string{t.Title, t.Artist, t.Album} {
		if len(s) > 30 || strings.TrimSpace(s) != s || strings.ContainsFunc(s, func(r rune) bool { return r > 127 }) {
			return false
		}
	}
	return t.AlbumArtist == ""
}

// fsName makes a file name for the demo files themselves.
func fsName(s string) string {
	s = store.SafeName(s)
	if s == "" {
		return "_"
	}
	return s
}

func writeDemo(dir string, t *DemoTrack, i int, rng *rand.Rand, maxSeconds int) error {
	sub := filepath.Join(dir, fsName(t.Tags.Artist), fsName(t.Tags.Album))
	name := fmt.Sprintf("%02d %s.mp3", t.Tags.Track, fsName(t.Tags.Title))
	switch {
	case t.Corrupt:
		sub, name = filepath.Join(dir, "Broken"), fmt.Sprintf("garbage %03d.mp3", i)
	case t.TagVersion == "none":
		sub, name = filepath.Join(dir, "Unsorted"), fmt.Sprintf("Track %03d.mp3", i)
	}
	if err := os.MkdirAll(sub, 0o755); err != nil {
		return err
	}
	t.Path = filepath.Join(sub, name)
	if _, err := os.Stat(t.Path); err == nil {
		t.Path = filepath.Join(sub, fmt.Sprintf("%s %03d.mp3", strings.TrimSuffix(name, ".mp3"), i))
	}
	var buf bytes.Buffer
	if t.Corrupt {
		buf.Write(bytes.Repeat([]byte("this is not an mp3 file. "), 400+rng.IntN(400)))
		if i%2 == 0 {
			// An ID3v2 header announcing more than there is, then no audio.
			b := append([]byte{'I', 'D', '3', 3, 0, 0, 0x7F, 0x7F, 0x7F, 0x7F}, buf.Bytes()...)
			buf.Reset()
			buf.Write(b)
		}
		t.Tags = mp3.Tags{}
		return os.WriteFile(t.Path, buf.Bytes(), 0o644)
	}
	// The audio format.
	f := mp3.Format{Version: 25, SampleRate: 8000, Mono: true, Bitrates: []int{8000}}
	t.Format = "cbr"
	maxDur := 540
	switch {
	case i%13 == 5:
		f = mp3.Format{Version: 1, SampleRate: 44100, Bitrates: []int{128000}}
		maxDur = 25
	case i%7 == 2:
		f = mp3.Format{Version: 25, SampleRate: 8000, Mono: true, Bitrates: []int{8000, 16000, 24000, 32000}, VBRHeader: "xing"}
		t.Format = "xing"
	case i%17 == 4:
		f = mp3.Format{Version: 1, SampleRate: 32000, Bitrates: []int{32000, 40000, 48000}, VBRHeader: "vbri"}
		t.Format, maxDur = "vbri", 40
	case i%11 == 3:
		f = mp3.Format{Version: 2, SampleRate: 16000, Mono: true, Bitrates: []int{8000}}
	}
	secs := 30 + rng.IntN(511)
	if i%19 == 0 {
		secs = 301 + rng.IntN(200) // long tracks, for sure
	}
	secs = min(secs, maxDur, maxSeconds)
	frameAlign := time.Duration(secs) * time.Second
	switch t.TagVersion {
	case "v2.2", "v2.3", "v2.4", "v2.3+v1":
		v := int(t.TagVersion[3] - '0')
		tag, err := mp3.ID3v2(t.Tags, v, rng.IntN(3)*256)
		if err != nil {
			return err
		}
		buf.Write(tag)
	case "damaged":
		// An ID3v2 header whose size runs past the end of the file.
		buf.Write([]byte{'I', 'D', '3', 4, 0, 0, 0x7F, 0x7F, 0x7F, 0x7F, 'T', 'I', 'T', '2', 0xFF})
	}
	audioStart := buf.Len()
	frames, err := mp3.WriteSilence(&buf, f, frameAlign)
	if err != nil {
		return err
	}
	t.Duration = f.Duration(frames)
	if t.Truncated {
		audio := buf.Len() - audioStart
		keep := audio * 6 / 10
		buf.Truncate(audioStart + keep)
		// Cut inside a frame, not between two.
		for range 3 {
			b := buf.Bytes()
			if a, err := mp3.Analyze(bytes.NewReader(b), int64(len(b)), mp3.Options{Scan: true}); err != nil || a.Truncated {
				break
			}
			keep -= 5
			buf.Truncate(audioStart + keep)
		}
		t.Duration = time.Duration(float64(t.Duration) * float64(keep) / float64(audio))
	}
	switch t.TagVersion {
	case "v1", "v2.3+v1":
		g := byte(255)
		for k, name := range mp3.Genres {
			if name == t.Tags.Genre {
				g = byte(k)
			}
		}
		buf.Write(mp3.ID3v1(t.Tags, g))
	case "none", "damaged":
		t.Tags = mp3.Tags{}
	}
	fh, err := os.Create(t.Path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(fh)
	w.Write(buf.Bytes())
	if err := w.Flush(); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}
