package queryfs_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/smbvfs/smbvfs/backends/queryfs"
	"github.com/smbvfs/smbvfs/backends/queryfs/index"
	"github.com/smbvfs/smbvfs/backends/queryfs/store"
	"github.com/smbvfs/smbvfs/backends/vfs"
)

const benchTracks = 10_000

// benchLibrary fills a store with 10,000 tracks (documents pointing at
// the files of a small real library): 800 artists, 18 genres, 60 years.
func benchLibrary(b *testing.B, k storeKind) (*queryfs.FS, store.Store) {
	b.Helper()
	_, truth := librarySized(b, 16)
	var paths []string
	for _, d := range truth {
		if !d.Corrupt {
			paths = append(paths, d.Path)
		}
	}
	st := k.open(b)
	rng := rand.New(rand.NewPCG(1, 2))
	genres := []string{"Rock", "Pop", "Jazz", "Blues", "Classical", "Country", "Metal", "Reggae", "Soul", "Funk",
		"Disco", "Techno", "Ambient", "Hip-Hop", "Folk", "Punk", "Electronic", "Other"}
	start := time.Now()
	var batch []store.Track
	for i := range benchTracks {
		p := paths[i%len(paths)]
		fi, err := os.Stat(p)
		if err != nil {
			b.Fatal(err)
		}
		artist := i / 12 % 800
		t := store.Track{Path: fmt.Sprintf("%s#%d", p, i), Size: fi.Size(), MTime: index.MTime(fi.ModTime()),
			Title: fmt.Sprintf("Song %d", i), Artist: fmt.Sprintf("Artist %03d", artist),
			Album: fmt.Sprintf("Album %d-%d", artist, i/12%3), Genre: genres[rng.IntN(len(genres))],
			Track: i%12 + 1, Year: 1960 + rng.IntN(60), DurationMS: int64(30_000 + rng.IntN(570_000)), Bitrate: 128}
		t.Normalize()
		t.Path = p // the real file
		batch = append(batch, t)
		if len(batch) == 1000 {
			if err := st.Put(context.Background(), batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	f := newFS(b, st, queryfs.Config{})
	// The first query builds CouchDB's views: not part of the figures.
	for _, p := range []string{"Artists", "Genres", "Duration startkey=0"} {
		root := walk(b, f, "")
		if _, err := root.(vfs.Lookuper).Lookup(context.Background(), p); err != nil {
			root.(vfs.Mkdirer).Mkdir(context.Background(), p)
		}
		list(b, walk(b, f, p), 1000)
	}
	for _, v := range []string{"Albums", "Years", "Tracknum", "Longer than 5 min"} {
		list(b, walk(b, f, v), 1)
	}
	b.Logf("%s: 10,000 tracks loaded and indexed in %s", k.name, time.Since(start).Round(time.Millisecond))
	return f, st
}

func BenchmarkQueryFS(b *testing.B) {
	for _, k := range kinds {
		b.Run(k.name, func(b *testing.B) {
			f, _ := benchLibrary(b, k)
			genre := "Genres/" + list(b, walk(b, f, "Genres"), 1)[0].Name
			for _, c := range []struct{ name, path string }{
				{"Artists-800", "Artists"},
				{"Genre-~555", genre},
				{"Duration-startkey0-10000", "Duration startkey=0"},
			} {
				dir := walk(b, f, c.path)
				n := len(list(b, dir, 1000))
				b.Run("list-"+c.name, func(b *testing.B) {
					for b.Loop() {
						list(b, dir, 1000)
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/entry")
				})
			}
			ents := list(b, walk(b, f, genre), 1000)
			b.Run("first-byte", func(b *testing.B) {
				ctx := context.Background()
				buf := make([]byte, 1)
				i := 0
				for b.Loop() {
					// Resolve the path from the root, open, read a byte.
					i++
					n := walk(b, f, genre+"/"+ents[i%len(ents)].Name)
					h, err := n.(vfs.Opener).Open(ctx, vfs.OpenRead)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := h.ReadAt(ctx, buf, 0); err != nil {
						b.Fatal(err)
					}
					h.Close(ctx)
				}
			})
		})
	}
}
