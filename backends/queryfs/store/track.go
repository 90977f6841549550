// Package store keeps the metadata of an mp3 collection, one document per
// track, behind one interface with two implementations: an embedded SQLite
// file (modernc.org/sqlite, no cgo) and a CouchDB database (kivik).
//
// Documents hold display-ready values: the indexer normalises the tags
// (fallback labels, characters Windows refuses, length) before writing, and
// adds for every string field its folded form (for ordering and ranges) and
// a 53-bit hash of the folded form (for grouping and resumable listings).
// Readers query indexes (Index) whose rows are tuples of those columns:
// SQLite answers with SQL over an index, CouchDB with a view whose map
// function is generated from the same Index.
package store

import (
	"errors"
	"fmt"
	"hash/fnv"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/smbvfs/smbvfs/backends/vfs"
)

// Track is one document: an mp3 file and its metadata.
type Track struct {
	Num         int64  `json:"num"` // identity: a 50-bit hash of Path, never 0
	Path        string `json:"path"`
	Size        int64  `json:"size"`
	MTime       int64  `json:"mtime"` // Unix microseconds (exact in JavaScript)
	Title       string `json:"title"`
	Artist      string `json:"artist"`
	AlbumArtist string `json:"albumartist"`
	Album       string `json:"album"`
	Genre       string `json:"genre"`
	Track       int    `json:"track"`
	Disc        int    `json:"disc"`
	Year        int    `json:"year"`
	DurationMS  int64  `json:"duration_ms"`
	Bitrate     int    `json:"bitrate"` // kbit/s
	VBR         bool   `json:"vbr"`
	Problem     string `json:"problem,omitempty"` // what was wrong with the file, if anything

	Rev string `json:"-"` // CouchDB revision, when read from CouchDB
}

// ErrNotFound is returned by Get for a missing or removed track.
var ErrNotFound = errors.New("store: track not found")

// MaxDisplay is the longest a string field gets (in runes), so that file
// names built from two or three fields stay under 255 characters.
const MaxDisplay = 80

// Fallback labels for missing values.
const (
	UnknownArtist = "Unknown Artist"
	UnknownAlbum  = "Unknown Album"
	UnknownGenre  = "Unknown Genre"
)

// Normalize turns raw tag values into display values: names safe for
// Windows (SafeName), fallbacks for empty fields (the title falls back to
// the file name), and Num from the path when unset.
func (t *Track) Normalize() {
	t.Title = SafeName(t.Title)
	t.Artist = SafeName(t.Artist)
	t.AlbumArtist = SafeName(t.AlbumArtist)
	t.Album = SafeName(t.Album)
	t.Genre = SafeName(t.Genre)
	if t.Title == "" {
		t.Title = SafeName(strings.TrimSuffix(filepath.Base(t.Path), filepath.Ext(t.Path)))
		if t.Title == "" {
			t.Title = "Untitled"
		}
	}
	if t.Artist == "" {
		t.Artist = t.AlbumArtist
	}
	if t.Artist == "" {
		t.Artist = UnknownArtist
	}
	if t.AlbumArtist == "" {
		t.AlbumArtist = t.Artist
	}
	if t.Album == "" {
		t.Album = UnknownAlbum
	}
	if t.Genre == "" {
		t.Genre = UnknownGenre
	}
	if t.Num == 0 {
		t.Num = PathNum(t.Path, 0)
	}
}

// SafeName makes s usable as (part of) a Windows file name: control
// characters dropped, \ / : * ? " < > | replaced, spaces collapsed, no
// leading or trailing spaces or trailing dots, at most MaxDisplay runes,
// and reserved device names (CON, NUL, COM1...) suffixed with "_". It
// returns "" when nothing is left.
func SafeName(s string) string {
	var b strings.Builder
	space := false
	n := 0
	for _, r := range s {
		if n >= MaxDisplay {
			break
		}
		switch {
		case r == utf8.RuneError || r < 0x20 || r == 0x7F:
			continue
		case strings.ContainsRune(`\/|:`, r):
			r = '-'
		case r == '*' || r == '?' || r == '<' || r == '>':
			continue
		case r == '"':
			r = '\''
		case unicode.IsSpace(r):
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
			n++
		}
		space = false
		b.WriteRune(r)
		n++
	}
	out := strings.TrimRight(b.String(), ". ")
	base, _, _ := strings.Cut(out, ".")
	if reserved(strings.TrimRight(base, " ")) {
		out = strings.TrimRight(base, " ") + "_" + out[len(base):]
	}
	return out
}

func reserved(base string) bool {
	switch u := strings.ToUpper(base); u {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return true
	default:
		if len(u) == 4 && (strings.HasPrefix(u, "COM") || strings.HasPrefix(u, "LPT")) && u[3] >= '0' && u[3] <= '9' {
			return true
		}
		if r := []rune(u); len(r) == 4 && (strings.HasPrefix(u, "COM") || strings.HasPrefix(u, "LPT")) && strings.ContainsRune("¹²³", r[3]) {
			return true
		}
	}
	return false
}

// Fold is the case-folded form names are compared under (as Windows does).
func Fold(s string) string { return vfs.FoldName(s) }

// mask50 keeps keys well inside the integers a JavaScript number holds
// exactly (2^53): PouchDB's key collation round-trips numbers through a
// decimal form that may be off by an ulp, which rounding absorbs.
const mask50 = 1<<50 - 1

// Hash is the 50-bit key of a string value (of its folded form): equal for
// names a Windows client cannot tell apart. Never 0.
func Hash(s string) int64 {
	h := fnv.New64a()
	h.Write([]byte(Fold(s)))
	if v := int64(h.Sum64() & mask50); v != 0 {
		return v
	}
	return 1
}

// PathNum is the Num of a path; salt > 0 gives alternatives when two
// paths collide.
func PathNum(path string, salt int) int64 {
	h := fnv.New64a()
	h.Write([]byte(path))
	if salt > 0 {
		fmt.Fprintf(h, "\x00%d", salt)
	}
	if v := int64(h.Sum64() & mask50); v != 0 {
		return v
	}
	return 1
}

// Field is a track attribute views can group, sort, name and filter by.
type Field struct {
	Name string
	Str  bool   // a string field (display, folded and hashed columns)
	Zero string // for int fields: the display of 0 ("" shows "0")
	str  func(*Track) string
	num  func(*Track) int64
}

// Fields lists the fields, by name.
var Fields = map[string]*Field{}

func init() {
	for _, f := range []*Field{
		{Name: "title", Str: true, str: func(t *Track) string { return t.Title }},
		{Name: "artist", Str: true, str: func(t *Track) string { return t.Artist }},
		{Name: "albumartist", Str: true, str: func(t *Track) string { return t.AlbumArtist }},
		{Name: "album", Str: true, str: func(t *Track) string { return t.Album }},
		{Name: "genre", Str: true, str: func(t *Track) string { return t.Genre }},
		{Name: "track", num: func(t *Track) int64 { return int64(t.Track) }},
		{Name: "disc", num: func(t *Track) int64 { return int64(t.Disc) }},
		{Name: "year", Zero: "Unknown", num: func(t *Track) int64 { return int64(t.Year) }},
		{Name: "duration", num: func(t *Track) int64 { return (t.DurationMS + 500) / 1000 }},
		{Name: "minutes", num: func(t *Track) int64 { return t.DurationMS / 60000 }},
		{Name: "bitrate", num: func(t *Track) int64 { return int64(t.Bitrate) }},
	} {
		Fields[f.Name] = f
	}
}

// KeyCol is the column a field is grouped and named by: the hash column
// of a string field, the field itself for an int.
func (f *Field) KeyCol() string {
	if f.Str {
		return f.Name + "_h"
	}
	return f.Name
}

// SortCol is the column a field is ordered and ranged by: the folded
// column of a string field.
func (f *Field) SortCol() string {
	if f.Str {
		return f.Name + "_f"
	}
	return f.Name
}

// Key is the value of KeyCol for t.
func (f *Field) Key(t *Track) any {
	if f.Str {
		return Hash(f.str(t))
	}
	return f.num(t)
}

// Sort is the value of SortCol for t.
func (f *Field) Sort(t *Track) any {
	if f.Str {
		return Fold(f.str(t))
	}
	return f.num(t)
}

// Int is the value of an int field.
func (f *Field) Int(t *Track) int64 { return f.num(t) }

// Display is the value as shown in names (FormatInt for ints, width 0).
func (f *Field) Display(t *Track) string {
	if f.Str {
		return f.str(t)
	}
	return f.FormatInt(f.num(t), 0)
}

// FormatInt shows an int value zero-padded to width.
func (f *Field) FormatInt(v int64, width int) string {
	if v == 0 && f.Zero != "" {
		return f.Zero
	}
	return fmt.Sprintf("%0*d", width, v)
}

// columns are all the columns of a track document, in a fixed order:
// the stored ones, then the derived ones.
var baseCols = []string{"num", "path", "size", "mtime", "title", "artist", "albumartist", "album", "genre",
	"track", "disc", "year", "duration_ms", "bitrate", "vbr", "problem"}

var derivedCols []string

func init() {
	for _, n := range []string{"title", "artist", "albumartist", "album", "genre"} {
		derivedCols = append(derivedCols, n+"_f", n+"_h")
	}
	derivedCols = append(derivedCols, "duration", "minutes")
}

// knownCol reports whether c is a column of the track documents: only
// these reach SQL or generated JavaScript.
func knownCol(c string) bool {
	for _, k := range baseCols {
		if c == k {
			return true
		}
	}
	for _, k := range derivedCols {
		if c == k {
			return true
		}
	}
	return false
}

// values returns every column of t (base and derived) by name.
func (t *Track) values() map[string]any {
	m := make(map[string]any, len(baseCols)+len(derivedCols))
	for _, c := range baseCols {
		m[c] = t.Col(c)
	}
	for _, c := range derivedCols {
		m[c] = t.Col(c)
	}
	return m
}

// Col returns the value of column c for t, as stored: int64 or string
// (nil for an unknown column).
func (t *Track) Col(c string) any {
	switch c {
	case "num":
		return t.Num
	case "path":
		return t.Path
	case "size":
		return t.Size
	case "mtime":
		return t.MTime
	case "track":
		return int64(t.Track)
	case "disc":
		return int64(t.Disc)
	case "year":
		return int64(t.Year)
	case "duration_ms":
		return t.DurationMS
	case "bitrate":
		return int64(t.Bitrate)
	case "vbr":
		if t.VBR {
			return int64(1)
		}
		return int64(0)
	case "problem":
		return t.Problem
	case "duration", "minutes":
		return Fields[c].Int(t)
	}
	name, suffix, _ := strings.Cut(c, "_")
	f := Fields[name]
	if f == nil || !f.Str {
		return nil
	}
	switch suffix {
	case "":
		return f.str(t)
	case "f":
		return f.Sort(t)
	case "h":
		return f.Key(t)
	}
	return nil
}
