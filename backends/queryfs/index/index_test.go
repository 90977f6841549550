package index_test

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smbvfs/smbvfs/backends/queryfs/index"
	"github.com/smbvfs/smbvfs/backends/queryfs/internal/pouchtest"
	"github.com/smbvfs/smbvfs/backends/queryfs/mp3"
	"github.com/smbvfs/smbvfs/backends/queryfs/store"
)

const demoTracks = 220

func stores(t *testing.T) map[string]func(t *testing.T) store.Store {
	return map[string]func(t *testing.T) store.Store{
		"sqlite": func(t *testing.T) store.Store {
			st, err := store.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "index.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		},
		"couchdb": func(t *testing.T) store.Store {
			srv := pouchtest.Start(t)
			st, err := store.OpenCouch(t.Context(), srv.DB(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		},
	}
}

type problems struct {
	mu      sync.Mutex
	skipped map[string]string
	damaged map[string]string
}

func (p *problems) fn(path, problem string, skipped bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if skipped {
		p.skipped[path] = problem
	} else {
		p.damaged[path] = problem
	}
}

func TestScan(t *testing.T) {
	for name, newStore := range stores(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testScan(t, newStore(t))
		})
	}
}

func testScan(t *testing.T, st store.Store) {
	ctx := context.Background()
	dir := t.TempDir()
	truth, err := index.Demo(dir, demoTracks, 7)
	if err != nil {
		t.Fatal(err)
	}
	p := &problems{skipped: map[string]string{}, damaged: map[string]string{}}
	var progress strings.Builder
	stats, err := index.Scan(ctx, st, dir, index.Options{Problem: p.fn, Progress: &progress, ProgressEvery: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("first scan: %v", stats)
	var corrupt, kinds = 0, map[string]int{}
	for _, d := range truth {
		if d.Corrupt {
			corrupt++
		}
		kinds[d.Format]++
		kinds["tags "+d.TagVersion]++
		if d.Truncated {
			kinds["truncated"]++
		}
	}
	t.Logf("library: %v", kinds)
	if stats.Files != demoTracks || stats.Skipped != corrupt || stats.Added != demoTracks-corrupt || corrupt == 0 {
		t.Errorf("first scan: %v; want %d files, %d skipped", stats, demoTracks, corrupt)
	}
	if progress.Len() == 0 {
		t.Errorf("no progress reported")
	}
	tracks, err := st.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byPath := map[string]store.Track{}
	for _, tr := range tracks {
		byPath[tr.Path] = tr
	}
	artists, albums, genres, years := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[int]bool{}
	for _, d := range truth {
		got, ok := byPath[d.Path]
		switch {
		case d.Corrupt:
			if ok {
				t.Errorf("%s: corrupt file indexed", d.Path)
			}
			if p.skipped[d.Path] == "" {
				t.Errorf("%s: corrupt file not reported", d.Path)
			}
			continue
		case !ok:
			t.Errorf("%s: not indexed", d.Path)
			continue
		}
		want := store.Track{Path: d.Path, Title: d.Tags.Title, Artist: d.Tags.Artist, AlbumArtist: d.Tags.AlbumArtist,
			Album: d.Tags.Album, Genre: d.Tags.Genre, Track: d.Tags.Track, Year: d.Tags.Year}
		if strings.HasPrefix(d.TagVersion, "v2") {
			want.Disc = d.Tags.Disc
		}
		want.Normalize()
		if got.Title != want.Title || got.Artist != want.Artist || got.AlbumArtist != want.AlbumArtist || got.Album != want.Album ||
			got.Genre != want.Genre || got.Track != want.Track || got.Year != want.Year || got.Disc != want.Disc {
			t.Errorf("%s (%s): got %q/%q/%q/%q/%q #%d d%d %d, want %q/%q/%q/%q/%q #%d d%d %d", filepath.Base(d.Path), d.TagVersion,
				got.Title, got.Artist, got.AlbumArtist, got.Album, got.Genre, got.Track, got.Disc, got.Year,
				want.Title, want.Artist, want.AlbumArtist, want.Album, want.Genre, want.Track, want.Disc, want.Year)
		}
		if diff := math.Abs(float64(got.DurationMS)/1000 - d.Duration.Seconds()); diff > 1 {
			t.Errorf("%s (%s, truncated %v): duration %.2fs, want %.2fs", d.Path, d.Format, d.Truncated, float64(got.DurationMS)/1000, d.Duration.Seconds())
		}
		if got.VBR != (d.Format == "xing" || d.Format == "vbri") {
			t.Errorf("%s: VBR %v, format %s", d.Path, got.VBR, d.Format)
		}
		if d.Truncated != strings.Contains(got.Problem, "truncated") {
			t.Errorf("%s: truncated %v, problem %q", d.Path, d.Truncated, got.Problem)
		}
		if (d.TagVersion == "none" || d.TagVersion == "damaged") && p.damaged[d.Path] == "" {
			t.Errorf("%s: tags %s not reported", d.Path, d.TagVersion)
		}
		fi, _ := os.Stat(d.Path)
		if got.Size != fi.Size() || got.MTime != index.MTime(fi.ModTime()) {
			t.Errorf("%s: size/mtime %d/%d, want %d/%d", d.Path, got.Size, got.MTime, fi.Size(), index.MTime(fi.ModTime()))
		}
		artists[got.Artist], albums[got.Album], genres[got.Genre], years[got.Year] = true, true, true, true
	}
	t.Logf("%d tracks, %d artists, %d albums, %d genres, %d years; %d problems reported", len(tracks), len(artists), len(albums), len(genres), len(years), len(p.damaged))
	if len(artists) < 15 || len(albums) < 15 || len(genres) < 8 || len(years) < 15 {
		t.Errorf("library not varied enough")
	}

	// Incremental: nothing changed.
	stats, err = index.Scan(ctx, st, dir, index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if stats.Unchanged != demoTracks-corrupt || stats.Added+stats.Updated+stats.Removed != 0 {
		t.Errorf("second scan: %v", stats)
	}
	// One file rewritten, one removed, one added.
	var live []index.DemoTrack
	for _, d := range truth {
		if !d.Corrupt {
			live = append(live, d)
		}
	}
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(live[0].Path, later, later); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(live[1].Path); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "new.MP3"))
	if err != nil {
		t.Fatal(err)
	}
	mp3.WriteSilence(f, mp3.Format{Version: 1, SampleRate: 44100, Bitrates: []int{128000}}, 3*time.Second)
	f.Write(mp3.ID3v1(mp3.Tags{Title: "Brand New", Artist: "Newcomer"}, 13))
	f.Close()
	stats, err = index.Scan(ctx, st, dir, index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if stats.Added != 1 || stats.Updated != 1 || stats.Removed != 1 || stats.Unchanged != demoTracks-corrupt-2 || stats.Skipped != corrupt {
		t.Errorf("third scan: %v", stats)
	}
	tracks, _ = st.List(ctx)
	if len(tracks) != demoTracks-corrupt {
		t.Errorf("%d tracks after the third scan, want %d", len(tracks), demoTracks-corrupt)
	}
	for _, tr := range tracks {
		if tr.Path == live[1].Path {
			t.Errorf("removed file still listed")
		}
		if tr.Title == "Brand New" && (tr.Artist != "Newcomer" || tr.Genre != "Pop" || tr.DurationMS < 2900) {
			t.Errorf("new file indexed as %+v", tr)
		}
	}
}

func TestExactDuration(t *testing.T) {
	dir := t.TempDir()
	truth, err := index.Demo(dir, 60, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range truth {
		if d.Corrupt {
			continue
		}
		tr, _, skip := index.ReadTrack(d.Path, true)
		if skip {
			t.Errorf("%s skipped", d.Path)
			continue
		}
		if diff := math.Abs(float64(tr.DurationMS)/1000 - d.Duration.Seconds()); diff > 1 {
			t.Errorf("%s (%s): exact duration %.2fs, want %.2fs", d.Path, d.Format, float64(tr.DurationMS)/1000, d.Duration.Seconds())
		}
	}
}
