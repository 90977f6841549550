package queryfs_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smbvfs/smbvfs/backends/queryfs"
	"github.com/smbvfs/smbvfs/backends/queryfs/index"
	"github.com/smbvfs/smbvfs/backends/queryfs/internal/pouchtest"
	"github.com/smbvfs/smbvfs/backends/queryfs/store"
	"github.com/smbvfs/smbvfs/backends/vfs"
	"github.com/smbvfs/smbvfs/backends/vfs/vfstest"
)

const libTracks = 220

type lib struct {
	once  sync.Once
	dir   string
	truth []index.DemoTrack
	err   error
}

var (
	libMu sync.Mutex
	libs  = map[int]*lib{}
)

func TestMain(m *testing.M) {
	code := m.Run()
	for _, l := range libs {
		if l.dir != "" {
			os.RemoveAll(l.dir)
		}
	}
	os.Exit(code)
}

// library is the demo library shared by the tests (read-only).
func library(t testing.TB) (string, []index.DemoTrack) { return librarySized(t, libTracks) }

func librarySized(t testing.TB, n int) (string, []index.DemoTrack) {
	t.Helper()
	libMu.Lock()
	l := libs[n]
	if l == nil {
		l = &lib{}
		libs[n] = l
	}
	libMu.Unlock()
	l.once.Do(func() {
		if l.dir, l.err = os.MkdirTemp("", "queryfs-lib-"); l.err == nil {
			maxSecs := 540
			if n < 100 {
				maxSecs = 20 // small libraries are for the conformance walk: small files
			}
			l.truth, l.err = index.DemoWith(l.dir, n, 11, maxSecs)
		}
	})
	if l.err != nil {
		t.Fatal(l.err)
	}
	return l.dir, l.truth
}

type storeKind struct {
	name string
	open func(t testing.TB) store.Store
}

var kinds = []storeKind{
	{"sqlite", func(t testing.TB) store.Store {
		st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "index.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}},
	{"couchdb", func(t testing.TB) store.Store {
		srv := pouchtest.Start(t)
		st, err := store.OpenCouch(context.Background(), srv.DB(t))
		if err != nil {
			t.Fatal(err)
		}
		st.LongPoll = 200 * time.Millisecond
		t.Cleanup(func() { st.Close() })
		return st
	}},
}

// indexed returns a store holding the demo library.
func indexed(t testing.TB, k storeKind) store.Store { return indexedSized(t, k, libTracks) }

func indexedSized(t testing.TB, k storeKind, n int) store.Store {
	dir, _ := librarySized(t, n)
	st := k.open(t)
	if _, err := index.Scan(context.Background(), st, dir, index.Options{}); err != nil {
		t.Fatal(err)
	}
	return st
}

func newFS(t testing.TB, st store.Store, cfg queryfs.Config) *queryfs.FS {
	t.Helper()
	if cfg.Poll == 0 {
		cfg.Poll = 50 * time.Millisecond
	}
	f, err := queryfs.New(context.Background(), st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func walk(t testing.TB, fsys vfs.FS, path string) vfs.Node {
	t.Helper()
	n, _ := fsys.Root(context.Background())
	for _, name := range strings.Split(path, "/") {
		if name == "" {
			continue
		}
		var err error
		if n, err = n.(vfs.Lookuper).Lookup(context.Background(), name); err != nil {
			t.Fatalf("walk %q: %q: %v", path, name, err)
		}
	}
	return n
}

func list(t testing.TB, n vfs.Node, page int) []vfs.DirEntry {
	t.Helper()
	var out []vfs.DirEntry
	var cookie uint64
	for {
		ents, err := n.(vfs.DirReader).ReadDir(context.Background(), cookie, page)
		if err != nil {
			t.Fatalf("ReadDir(%d): %v", cookie, err)
		}
		if len(ents) == 0 {
			return out
		}
		out = append(out, ents...)
		cookie = ents[len(ents)-1].Cookie
	}
}

// files lists every file under n (path -> entry).
func files(t testing.TB, n vfs.Node, prefix string, out map[string]vfs.DirEntry) {
	t.Helper()
	for _, e := range list(t, n, 100) {
		p := prefix + "/" + e.Name
		if e.Attr.IsDir() {
			child, err := n.(vfs.Lookuper).Lookup(context.Background(), e.Name)
			if err != nil {
				t.Fatalf("Lookup %q: %v", p, err)
			}
			files(t, child, p, out)
		} else {
			out[p] = e
		}
	}
}

func forStores(t *testing.T, fn func(t *testing.T, k storeKind)) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			fn(t, k)
		})
	}
}

func TestConformance(t *testing.T) {
	forStores(t, func(t *testing.T, k storeKind) {
		// A small library: the suite walks and lists everything, one
		// entry at a time too.
		st := indexedSized(t, k, 16)
		probe := newFS(t, st, queryfs.Config{})
		// Read-only nodes: the views and what lies under the first of each.
		ro := []string{}
		for _, v := range []string{"Artists", "Genres", "Duration"} {
			p := v
			ro = append(ro, p)
			for range 3 {
				n := walk(t, probe, p)
				if _, ok := n.(vfs.DirReader); !ok {
					break
				}
				ents := list(t, n, 5)
				if len(ents) == 0 {
					break
				}
				p += "/" + ents[0].Name
				ro = append(ro, p)
			}
		}
		vfstest.Run(t, func(t *testing.T) vfs.FS { return newFS(t, st, queryfs.Config{}) },
			vfstest.ReadOnlyPaths(ro...))
	})
}

func TestTree(t *testing.T) {
	forStores(t, func(t *testing.T, k storeKind) {
		_, truth := library(t)
		st := indexed(t, k)
		fsys := newFS(t, st, queryfs.Config{})
		ctx := context.Background()
		var top []string
		for _, e := range list(t, walk(t, fsys, ""), 100) {
			top = append(top, e.Name)
		}
		for _, want := range []string{"Artists", "Albums", "Genres", "Years", "Duration", "Tracknum", "Longer than 5 min"} {
			if !slices.Contains(top, want) {
				t.Errorf("top level %q lacks %q", top, want)
			}
		}
		live := 0
		long := 0
		for _, d := range truth {
			if !d.Corrupt {
				live++
				if d.Duration.Seconds() > 300.5 {
					long++
				}
			}
		}
		// Every track once in each complete view; names valid for Windows
		// and unique (case-insensitively) per folder.
		for _, v := range []string{"Artists", "Albums", "Genres", "Years", "Duration", "Tracknum"} {
			all := map[string]vfs.DirEntry{}
			files(t, walk(t, fsys, v), v, all)
			if len(all) != live {
				t.Errorf("%s holds %d files, want %d", v, len(all), live)
			}
			ids := map[uint64]bool{}
			folded := map[string]string{}
			for p, e := range all {
				ids[e.Attr.ID] = true
				name := e.Name
				if store.SafeName(name) != name || strings.ContainsAny(name, `\/:*?"<>|`) || strings.HasSuffix(name, ".") || strings.HasSuffix(name, " ") {
					t.Errorf("%s: invalid Windows name", p)
				}
				key := store.Fold(p)
				if prev, dup := folded[key]; dup {
					t.Errorf("%s and %s collide", prev, p)
				}
				folded[key] = p
			}
			if len(ids) != live {
				t.Errorf("%s: %d distinct IDs, want %d", v, len(ids), live)
			}
		}
		long5 := map[string]vfs.DirEntry{}
		files(t, walk(t, fsys, "Longer than 5 min"), "", long5)
		if len(long5) != long {
			t.Errorf("Longer than 5 min holds %d files, want %d", len(long5), long)
		}
		// Duplicates are told apart, and each name leads to its file.
		var dups []string
		artists := map[string]vfs.DirEntry{}
		files(t, walk(t, fsys, "Artists"), "Artists", artists)
		for p := range artists {
			if strings.HasSuffix(p, " (2).mp3") {
				dups = append(dups, p)
			}
		}
		if len(dups) == 0 {
			t.Errorf("no duplicate names in Artists")
		}
		for _, p := range dups {
			a := walk(t, fsys, p)
			b := walk(t, fsys, strings.Replace(p, " (2).mp3", ".mp3", 1))
			aa, _ := a.Attr(ctx)
			ba, _ := b.Attr(ctx)
			if aa.ID == ba.ID {
				t.Errorf("%s and its first are the same file", p)
			}
		}
		// Special names: sanitised, reachable, case-insensitively too.
		for p := range artists {
			if strings.Contains(p, "AC-DC Tribute") || strings.Contains(p, "CON_") || strings.Contains(p, "Fade Out.mp3") {
				dir, name := filepath.Split(p)
				parent := walk(t, fsys, strings.TrimSuffix(dir, "/"))
				if _, got, err := parent.(vfs.FoldLookuper).LookupFold(ctx, strings.ToLower(name)); err != nil || got != name {
					t.Errorf("LookupFold(%q) = %q, %v", strings.ToLower(name), got, err)
				}
			}
		}
		if n, _, err := walk(t, fsys, "Artists").(vfs.FoldLookuper).LookupFold(ctx, "NO SUCH ARTIST"); err == nil || n != nil {
			t.Errorf("LookupFold of a missing artist: %v", err)
		}
		// Contents and attributes are the real file's.
		byNum := map[uint64]index.DemoTrack{}
		for _, d := range truth {
			byNum[uint64(store.PathNum(d.Path, 0))] = d
		}
		checked := 0
		for p, e := range artists {
			d, ok := byNum[e.Attr.ID]
			if !ok {
				t.Fatalf("%s: ID %d is no demo track", p, e.Attr.ID)
			}
			fi, _ := os.Stat(d.Path)
			if e.Attr.Size != fi.Size() || !e.Attr.Modified.Equal(fi.ModTime().Truncate(time.Microsecond)) {
				t.Errorf("%s: size %d mtime %v, file has %d %v", p, e.Attr.Size, e.Attr.Modified, fi.Size(), fi.ModTime())
			}
			if checked < 5 {
				checked++
				h, err := walk(t, fsys, p).(vfs.Opener).Open(ctx, vfs.OpenRead)
				if err != nil {
					t.Fatal(err)
				}
				got := make([]byte, fi.Size()+10)
				n, _ := h.ReadAt(ctx, got, 0)
				want, _ := os.ReadFile(d.Path)
				if !bytes.Equal(got[:n], want) {
					t.Errorf("%s: content differs from %s", p, d.Path)
				}
				h.Close(ctx)
				_, err = walk(t, fsys, p).(vfs.Opener).Open(ctx, vfs.OpenRead|vfs.OpenWrite)
				if !errors.Is(err, vfs.ErrReadOnly) {
					t.Errorf("open for writing: %v", err)
				}
			}
		}
	})
}

func TestListingResume(t *testing.T) {
	forStores(t, func(t *testing.T, k storeKind) {
		st := indexed(t, k)
		fsys := newFS(t, st, queryfs.Config{})
		if _, err := walk(t, fsys, "").(vfs.Mkdirer).Mkdir(context.Background(), "Duration startkey=0"); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{"Artists", "Genres", "Years", "Duration startkey=0"} {
			n := walk(t, fsys, p)
			if p == "Genres" || p == "Years" {
				n = walk(t, fsys, p+"/"+list(t, n, 1)[0].Name)
			}
			whole := list(t, n, 10000)
			for _, page := range []int{1, 7} {
				if got := list(t, n, page); !slices.EqualFunc(got, whole, func(a, b vfs.DirEntry) bool { return a.Name == b.Name && a.Cookie == b.Cookie }) {
					t.Errorf("%s: pages of %d differ from one listing", p, page)
				}
			}
			// Resuming from any cookie gives the rest.
			for _, i := range []int{0, len(whole) / 2, len(whole) - 1} {
				rest, err := n.(vfs.DirReader).ReadDir(context.Background(), whole[i].Cookie, 10000)
				if err != nil {
					t.Fatal(err)
				}
				if len(rest) != len(whole)-i-1 || (len(rest) > 0 && rest[0].Name != whole[i+1].Name) {
					t.Errorf("%s: resuming after entry %d gives %d entries", p, i, len(rest))
				}
			}
		}
	})
}

func TestQueryFolders(t *testing.T) {
	forStores(t, func(t *testing.T, k storeKind) {
		_, truth := library(t)
		st := indexed(t, k)
		fsys := newFS(t, st, queryfs.Config{})
		ctx := context.Background()
		root := walk(t, fsys, "")
		all, _ := st.List(ctx)
		dur := func(tr store.Track) int64 { return (tr.DurationMS + 500) / 1000 }

		// Tracknum key=4
		q, err := root.(vfs.Mkdirer).Mkdir(ctx, "Tracknum key=4")
		if err != nil {
			t.Fatal(err)
		}
		want := 0
		for _, tr := range all {
			if tr.Track == 4 {
				want++
			}
		}
		got := list(t, q, 50)
		if len(got) != want || want == 0 {
			t.Errorf("Tracknum key=4: %d entries, want %d", len(got), want)
		}
		for _, e := range got {
			if !strings.HasPrefix(e.Name, "04 - ") {
				t.Errorf("Tracknum key=4 lists %q", e.Name)
			}
			if _, err := q.(vfs.Lookuper).Lookup(ctx, e.Name); err != nil {
				t.Errorf("Lookup(%q): %v", e.Name, err)
			}
		}
		// Duration startkey=200 endkey=300 limit=5, and descending.
		for _, name := range []string{"Duration startkey=200 endkey=300 limit=5", "duration startkey=300 endkey=200 descending=true limit=5"} {
			q, err := root.(vfs.Mkdirer).Mkdir(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			var secs []int64
			var inRange []int64
			for _, tr := range all {
				if d := dur(tr); d >= 200 && d <= 300 {
					inRange = append(inRange, d)
				}
			}
			slices.Sort(inRange)
			desc := strings.Contains(name, "descending")
			if desc {
				slices.Reverse(inRange)
			}
			for _, e := range list(t, q, 2) {
				var s int64
				fmt.Sscanf(e.Name, "%d s - ", &s)
				secs = append(secs, s)
				n, err := q.(vfs.Lookuper).Lookup(ctx, e.Name)
				if err != nil {
					t.Errorf("%s: Lookup(%q): %v", name, e.Name, err)
				} else if a, _ := n.Attr(ctx); a.ID != e.Attr.ID {
					t.Errorf("%s: Lookup(%q) gives another file", name, e.Name)
				}
			}
			if !slices.Equal(secs, inRange[:min(5, len(inRange))]) {
				t.Errorf("%s: durations %v, want %v", name, secs, inRange[:min(5, len(inRange))])
			}
			// An entry past the limit is not in the folder.
			if len(inRange) > 5 {
				var beyond store.Track
				for _, tr := range all {
					if dur(tr) == inRange[len(inRange)-1] && inRange[len(inRange)-1] != inRange[4] {
						beyond = tr
					}
				}
				if beyond.Num != 0 {
					nm := fmt.Sprintf("%d s - %s - %s.mp3", dur(beyond), beyond.Artist, beyond.Title)
					if _, err := q.(vfs.Lookuper).Lookup(ctx, nm); !errors.Is(err, vfs.ErrNotExist) {
						t.Errorf("%s: Lookup(%q) beyond the limit: %v", name, nm, err)
					}
				}
			}
		}
		// Text keys, ranges on names; values percent-decoded.
		artist := truth[0].Tags.Artist
		q, err = root.(vfs.Mkdirer).Mkdir(ctx, "Artists key="+strings.ReplaceAll(strings.ToLower(artist), " ", "%20"))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range list(t, q, 3) {
			if !strings.HasPrefix(e.Name, artist) {
				t.Errorf("Artists key=%s lists %q", artist, e.Name)
			}
		}
		// Bad parameters, injections: clear errors, nothing created.
		for _, bad := range []string{"Tracknum key=abc", "Tracknum foo=1", "Tracknum limit=0", "Tracknum limit=x", "Nope key=1",
			"Tracknum key=1 startkey=2", "Tracknum key=1 key=2", "Tracknum descending=maybe", "Tracknum key", "Tracknum  ",
			"Tracknum key=1'%20OR%201=1--", "Duration startkey=%zz"} {
			_, err := root.(vfs.Mkdirer).Mkdir(ctx, bad)
			if !errors.Is(err, vfs.ErrInvalidName) {
				t.Errorf("Mkdir(%q): %v, want ErrInvalidName", bad, err)
			}
		}
		for _, odd := range []string{"Artists key=x');DROP%20TABLE%20tracks;--", "Genres key=a%22%7D%5D", "Genres key=%7B%7D"} {
			q, err := root.(vfs.Mkdirer).Mkdir(ctx, odd)
			if err != nil {
				t.Errorf("Mkdir(%q): %v", odd, err)
				continue
			}
			if ents := list(t, q, 10); len(ents) != 0 {
				t.Errorf("%q lists %d entries", odd, len(ents))
			}
		}
		if n, _ := st.List(ctx); len(n) != len(all) {
			t.Errorf("store changed")
		}
		// The create-then-rename flow; views stay.
		if _, err := root.(vfs.Mkdirer).Mkdir(ctx, "New folder"); err != nil {
			t.Fatal(err)
		}
		if err := root.(vfs.Renamer).Rename(ctx, "New folder", root, "Tracknum key=4 descending=true", false); err != nil {
			t.Fatal(err)
		}
		if got := list(t, walk(t, fsys, "Tracknum key=4 descending=true"), 100); len(got) != want {
			t.Errorf("renamed query folder lists %d, want %d", len(got), want)
		}
		if err := root.(vfs.Renamer).Rename(ctx, "Tracknum key=4 descending=true", root, "Tracknum key=x", false); !errors.Is(err, vfs.ErrInvalidName) {
			t.Errorf("rename to a bad query: %v", err)
		}
		if _, err := root.(vfs.Mkdirer).Mkdir(ctx, "tracknum KEY=4"); !errors.Is(err, vfs.ErrExist) {
			t.Errorf("Mkdir of an existing query folder (other case): %v", err)
		}
		for _, v := range []string{"Artists", "Genres"} {
			if err := root.(vfs.Remover).RemoveDir(ctx, v); !errors.Is(err, vfs.ErrReadOnly) {
				t.Errorf("RemoveDir(%s): %v", v, err)
			}
			if err := root.(vfs.Renamer).Rename(ctx, v, root, v+" key=1", false); !errors.Is(err, vfs.ErrReadOnly) {
				t.Errorf("Rename(%s): %v", v, err)
			}
		}
		if _, err := walk(t, fsys, "Artists").(vfs.Mkdirer).Mkdir(ctx, "Tracknum key=1"); !errors.Is(err, vfs.ErrReadOnly) {
			t.Errorf("Mkdir below a view: %v", err)
		}
		if err := root.(vfs.Remover).RemoveDir(ctx, "Tracknum key=4"); err != nil {
			t.Errorf("RemoveDir of a query folder: %v", err)
		}
		if _, err := root.(vfs.Lookuper).Lookup(ctx, "Tracknum key=4"); !errors.Is(err, vfs.ErrNotExist) {
			t.Errorf("removed query folder: %v", err)
		}
	})
}

func TestLive(t *testing.T) {
	forStores(t, func(t *testing.T, k storeKind) {
		_, truth := library(t)
		st := indexed(t, k)
		fsys := newFS(t, st, queryfs.Config{})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var mu sync.Mutex
		var changes []vfs.Change
		fsys.Watch(ctx, func(c vfs.Change) {
			mu.Lock()
			changes = append(changes, c)
			mu.Unlock()
		})
		q, err := walk(t, fsys, "").(vfs.Mkdirer).Mkdir(ctx, "Artists key=Live%20Newcomer")
		if err != nil {
			t.Fatal(err)
		}
		// A track appears in the store: in listings at once, and reported.
		var src index.DemoTrack
		for _, d := range truth {
			if !d.Corrupt {
				src = d
				break
			}
		}
		fi, _ := os.Stat(src.Path)
		tr := store.Track{Path: src.Path + "#live", Size: fi.Size(), MTime: index.MTime(fi.ModTime()), Title: "Fresh Song",
			Artist: "Live Newcomer", Album: "Debut", Genre: "Pop", Track: 1, Year: 2025, DurationMS: 61000}
		tr.Normalize()
		if err := st.Put(context.Background(), []store.Track{tr}); err != nil {
			t.Fatal(err)
		}
		walk(t, fsys, "Artists/Live Newcomer/Debut/01 - Fresh Song.mp3")
		if got := list(t, q, 10); len(got) != 1 || got[0].Name != "Live Newcomer - 01 - Fresh Song.mp3" {
			t.Errorf("query folder lists %v", got)
		}
		wait := func(what string, match func(vfs.Change) bool) {
			t.Helper()
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				mu.Lock()
				for _, c := range changes {
					if match(c) {
						mu.Unlock()
						return
					}
				}
				mu.Unlock()
			}
			mu.Lock()
			defer mu.Unlock()
			t.Errorf("no change for %s; got %+v", what, changes)
		}
		wait("added", func(c vfs.Change) bool {
			return c.Op == vfs.ChangeAdded && c.Path == "Artists/Live Newcomer/Debut/01 - Fresh Song.mp3" && c.ID == uint64(tr.Num)
		})
		wait("query folder", func(c vfs.Change) bool {
			return c.Op == vfs.ChangeModified && c.Path == "Artists key=Live%20Newcomer"
		})
		if err := st.Delete(context.Background(), []store.Track{tr}); err != nil {
			t.Fatal(err)
		}
		wait("removed", func(c vfs.Change) bool {
			return c.Op == vfs.ChangeRemoved && c.Path == "Genres/Pop/Live Newcomer - Debut - 01 - Fresh Song.mp3"
		})
		if _, err := walk(t, fsys, "Artists").(vfs.Lookuper).Lookup(context.Background(), "Live Newcomer"); !errors.Is(err, vfs.ErrNotExist) {
			t.Errorf("removed artist still there: %v", err)
		}
	})
}

func TestConfig(t *testing.T) {
	cfg, err := queryfs.ParseConfig([]byte(`
store: sqlite:/tmp/x.db
views:
  - folder: By decade
    path: "<year>/<artist> - <title>.mp3"
    filter: "year >= 1990 and year < 2000"
  - folder: Rock
    path: "<artist>/<title>.mp3"
    filter: genre = rock
`))
	if err != nil || len(cfg.Views) != 2 {
		t.Fatalf("ParseConfig: %+v, %v", cfg, err)
	}
	st := indexed(t, kinds[0])
	fsys := newFS(t, st, cfg)
	all := map[string]vfs.DirEntry{}
	files(t, walk(t, fsys, "Rock"), "", all)
	for _, y := range list(t, walk(t, fsys, "By decade"), 100) {
		if y.Name < "1990" || y.Name > "1999" {
			t.Errorf("By decade lists %q", y.Name)
		}
	}
	var rock int
	tracks, _ := st.List(context.Background())
	for _, tr := range tracks {
		if tr.Genre == "Rock" {
			rock++
		}
	}
	if len(all) != rock {
		t.Errorf("Rock holds %d files, want %d", len(all), rock)
	}
	for _, bad := range []string{
		"views: [{folder: X, path: '<nope>/<title>'}]",
		"views: [{folder: X, path: '<artist><title>'}]",
		"views: [{folder: X, path: '<artist> <album>/<title>'}]",
		"views: [{folder: X, path: '<title>', filter: 'year ~ 3'}]",
		"views: [{folder: X, path: '<title>', filter: 'year > abc'}]",
		"views: [{folder: 'X=1', path: '<title>'}]",
		"views: [{folder: X, path: '<title>.'}]",
		"unknown: 1",
	} {
		if _, err := queryfs.ParseConfig([]byte(bad)); err == nil {
			t.Errorf("ParseConfig(%q) accepted", bad)
		}
	}
}

func TestDemo(t *testing.T) {
	dir := t.TempDir()
	fsys, err := queryfs.Demo(context.Background(), dir, 40)
	if err != nil {
		t.Fatal(err)
	}
	all := map[string]vfs.DirEntry{}
	files(t, walk(t, fsys, "Artists"), "", all)
	if len(all) < 35 {
		t.Errorf("demo has %d tracks", len(all))
	}
	fsys.Close()
	// Reopened: the library and index are reused.
	fsys, err = queryfs.Demo(context.Background(), dir, 40)
	if err != nil {
		t.Fatal(err)
	}
	defer fsys.Close()
	again := map[string]vfs.DirEntry{}
	files(t, walk(t, fsys, "Artists"), "", again)
	if len(again) != len(all) {
		t.Errorf("reopened demo has %d tracks, had %d", len(again), len(all))
	}
	if _, err := queryfs.Open(context.Background(), "sqlite:"+filepath.Join(dir, "index.db")); err != nil {
		t.Errorf("Open: %v", err)
	}
	if _, err := queryfs.Open(context.Background(), "mysql:x"); err == nil {
		t.Errorf("Open of an unknown store succeeded")
	}
}
