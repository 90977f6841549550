// Package queryfs is the query backend: a share whose folders are the
// results of queries over the metadata of an mp3 collection, computed when
// a client opens them, and whose files are the real mp3 files.
//
// The metadata lives in a store (package store: an embedded SQLite file by
// default, or CouchDB), filled by the indexer (package index, command
// tools/mp3index). Top-level folders are views (Config, DefaultViews):
// Artists/<artist>/<album>/<track> - <title>.mp3 and so on. Creating (or
// renaming a folder to) "<view> name=value ..." at the top level makes a
// live query folder: "Tracknum key=4" lists every track number 4,
// "Duration startkey=200 endkey=300 limit=5" five tracks of 200–300 s.
// Query folders live as long as the FS (in memory).
//
// Everything else is read-only. Listings are streamed from the store page
// by page with resumable cookies; new tracks appear without a restart and
// are reported to watchers.
package queryfs

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/smbvfs/smbvfs/backends/queryfs/store"
	"github.com/smbvfs/smbvfs/backends/vfs"
)

// FS is a query share. Close it when done.
type FS struct {
	vfs.Notifier
	st      store.Store
	views   []*view
	created time.Time
	root    *rootDir
	cursors cursorCache
	ownsSt  bool

	stop   context.CancelFunc
	done   chan struct{}
	poll   time.Duration
	seqMu  sync.Mutex
	synced string // the store's change position the watcher reached
}

// New serves st with the configured views (cfg.Store is ignored). The FS
// does not close st unless it opened it (Open, OpenConfig).
func New(ctx context.Context, st store.Store, cfg Config) (*FS, error) {
	views, err := compileViews(cfg.Views)
	if err != nil {
		return nil, err
	}
	var idx []*store.Index
	for _, v := range views {
		idx = append(idx, v.lix, v.qix)
	}
	if err := st.Prepare(ctx, idx); err != nil {
		return nil, fmt.Errorf("queryfs: %s: %w", st, err)
	}
	f := &FS{st: st, views: views, created: time.Now(), poll: cfg.Poll}
	if f.poll <= 0 {
		f.poll = 500 * time.Millisecond
	}
	f.cursors.init(1 << 16)
	f.root = newRoot(f)
	_, seq, err := st.Changes(ctx, "now")
	if err != nil {
		return nil, fmt.Errorf("queryfs: %s: %w", st, err)
	}
	wctx, cancel := context.WithCancel(context.Background())
	f.stop, f.done, f.synced = cancel, make(chan struct{}), seq
	go f.watch(wctx, seq)
	return f, nil
}

// Open opens a store from a spec ("sqlite:FILE" or "couchdb:URL") and
// serves it with the default views.
func Open(ctx context.Context, spec string) (*FS, error) {
	return OpenConfig(ctx, Config{Store: spec})
}

// OpenConfig opens cfg.Store and serves it.
func OpenConfig(ctx context.Context, cfg Config) (*FS, error) {
	st, err := store.Open(ctx, cfg.Store)
	if err != nil {
		return nil, err
	}
	f, err := New(ctx, st, cfg)
	if err != nil {
		st.Close()
		return nil, err
	}
	f.ownsSt = true
	return f, nil
}

// Store returns the store the FS serves.
func (f *FS) Store() store.Store { return f.st }

// Close stops watching the store (and closes it if the FS opened it).
func (f *FS) Close() error {
	f.stop()
	<-f.done
	if f.ownsSt {
		return f.st.Close()
	}
	return nil
}

// Root returns the top directory.
func (f *FS) Root(context.Context) (vfs.Node, error) { return f.root, nil }

// StatVolume reports a read-only-looking volume (query folders aside).
func (f *FS) StatVolume(context.Context) (vfs.VolumeInfo, error) {
	return vfs.VolumeInfo{Label: "MUSIC", CasePreserving: true, MaxNameLength: 255}, nil
}

func dirID(parts ...any) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		fmt.Fprintf(h, "%v\x00", p)
	}
	return 1<<62 | h.Sum64()&(1<<62-1)
}

func (f *FS) dirAttr(id uint64, readOnly bool) vfs.Attr {
	dos := vfs.DOSDirectory
	if readOnly {
		dos |= vfs.DOSReadOnly
	}
	return vfs.Attr{ID: id, DOS: dos, Created: f.created, Accessed: f.created, Modified: f.created, Changed: f.created}
}

// ---- Cursors ------------------------------------------------------------

// cursorCache remembers the index row behind recent listing cookies, so
// that a listing resumes exactly even if that track was removed or changed
// meanwhile (otherwise the row is recomputed from the store).
type cursorCache struct {
	mu   sync.Mutex
	m    map[cursorKey][]any
	ring []cursorKey
	next int
}

type cursorKey struct {
	dir    uint64
	cookie uint64
}

func (c *cursorCache) init(n int) {
	c.m = make(map[cursorKey][]any, n)
	c.ring = make([]cursorKey, n)
}

func (c *cursorCache) put(k cursorKey, row []any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; ok {
		return
	}
	if old := c.ring[c.next]; old != (cursorKey{}) {
		delete(c.m, old)
	}
	c.ring[c.next] = k
	c.next = (c.next + 1) % len(c.ring)
	c.m[k] = row
}

func (c *cursorCache) get(k cursorKey) ([]any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	row, ok := c.m[k]
	return row, ok
}

// ---- Track lists: leaf folders and query folders ----------------------------

// trackList is a folder of tracks: the rows of an index in a range,
// optionally reversed and limited. Rows whose columns other than num are
// equal have the same name; they are adjacent, and all but the first get
// " (2)", " (3)"... in listing order.
type trackList struct {
	fs    *FS
	id    uint64
	ix    *store.Index
	cols  []*store.Field // the field of each column of ix but num
	fixed []any          // leading columns fixed by the folder
	base  store.Range
	desc  bool
	limit int
	name  template
}

func (l *trackList) tuple(t *store.Track) []any {
	row := l.ix.Tuple(t)
	copy(row, l.fixed)
	return row
}

func sameGroup(a, b []any) bool {
	return slices.Equal(a[:len(a)-1], b[:len(b)-1])
}

// cursor returns the row behind a cookie (a track's num).
func (l *trackList) cursor(ctx context.Context, cookie uint64) ([]any, error) {
	if row, ok := l.fs.cursors.get(cursorKey{l.id, cookie}); ok {
		return row, nil
	}
	t, err := l.fs.st.Get(ctx, int64(cookie))
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("queryfs: listing cookie %d: %w", cookie, vfs.ErrInvalid)
	}
	if err != nil {
		return nil, err
	}
	return l.tuple(&t), nil
}

func (l *trackList) ReadDir(ctx context.Context, cookie uint64, n int) ([]vfs.DirEntry, error) {
	if n <= 0 {
		return nil, vfs.ErrInvalid
	}
	var cur []any
	r := l.base
	if cookie != 0 {
		var err error
		if cur, err = l.cursor(ctx, cookie); err != nil {
			return nil, err
		}
		if l.desc {
			r.Hi = &store.Bound{Key: cur, Open: true}
		} else {
			r.Lo = &store.Bound{Key: cur, Open: true}
		}
	}
	if l.limit > 0 {
		pos := 0
		if cur != nil {
			var err error
			if pos, err = l.fs.st.Count(ctx, l.ix, l.upTo(cur, false)); err != nil {
				return nil, err
			}
		}
		n = min(n, l.limit-pos)
		if n <= 0 {
			return nil, nil
		}
	}
	rows, err := l.fs.st.Rows(ctx, l.ix, r, l.desc, n)
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	out := make([]vfs.DirEntry, 0, len(rows))
	var prev []any
	ord := 1
	for i := range rows {
		t := &rows[i]
		row := l.tuple(t)
		switch {
		case i == 0 && cur != nil && sameGroup(cur, row):
			c, err := l.fs.st.Count(ctx, l.ix, l.before(row))
			if err != nil {
				return nil, err
			}
			ord = c + 1
		case i > 0 && sameGroup(prev, row):
			ord++
		default:
			ord = 1
		}
		prev = row
		l.fs.cursors.put(cursorKey{l.id, uint64(t.Num)}, row)
		out = append(out, vfs.DirEntry{Name: l.name.dedup(l.name.render(t), ord), Attr: fileAttr(t), Cookie: uint64(t.Num)})
	}
	return out, nil
}

// upTo is the part of the listing up to row (included unless open).
func (l *trackList) upTo(row []any, open bool) store.Range {
	if l.desc {
		return store.Range{Lo: &store.Bound{Key: row, Open: open}, Hi: l.base.Hi}
	}
	return store.Range{Lo: l.base.Lo, Hi: &store.Bound{Key: row, Open: open}}
}

// before is the part of row's name group listed before it.
func (l *trackList) before(row []any) store.Range {
	g := row[:len(row)-1]
	if l.desc {
		return store.Range{Lo: &store.Bound{Key: row, Open: true}, Hi: &store.Bound{Key: g}}
	}
	return store.Range{Lo: &store.Bound{Key: g}, Hi: &store.Bound{Key: row, Open: true}}
}

func (l *trackList) Lookup(ctx context.Context, name string) (vfs.Node, error) {
	n, _, err := l.lookup(ctx, name, false)
	return n, err
}

func (l *trackList) LookupFold(ctx context.Context, name string) (vfs.Node, string, error) {
	return l.lookup(ctx, name, true)
}

// lookup parses the name back into field values (and a " (n)" suffix),
// finds the name group of those values and checks the candidate.
func (l *trackList) lookup(ctx context.Context, name string, fold bool) (vfs.Node, string, error) {
	type cand struct {
		base string
		ord  int
	}
	cands := []cand{{name, 1}}
	if n := len(l.name.ext()); len(name) >= n && strings.EqualFold(name[len(name)-n:], l.name.ext()) {
		stem, ext := name[:len(name)-n], name[len(name)-n:]
		if i := strings.LastIndex(stem, " ("); i >= 0 && strings.HasSuffix(stem, ")") {
			digits := stem[i+2 : len(stem)-1]
			if k, err := strconv.Atoi(digits); err == nil && k >= 2 && strconv.Itoa(k) == digits {
				cands = append(cands, cand{stem[:i] + ext, k})
			}
		}
	}
	for _, c := range cands {
		for _, vals := range l.name.parse(c.base) {
			group := slices.Clone(l.fixed)
			ok := true
			for _, f := range l.cols[len(l.fixed):] {
				text, have := vals[f]
				if !have {
					ok = false
					break
				}
				v, good := colValue(f, l.ix.Cols[len(group)], text)
				if !good {
					ok = false
					break
				}
				group = append(group, v)
			}
			if !ok {
				continue
			}
			rows, err := l.fs.st.Rows(ctx, l.ix, store.Prefix(group), l.desc, c.ord)
			if err != nil {
				return nil, "", err
			}
			if len(rows) < c.ord {
				continue
			}
			t := &rows[c.ord-1]
			got := l.name.dedup(l.name.render(t), c.ord)
			if got != name && (!fold || store.Fold(got) != store.Fold(name)) {
				continue
			}
			if in, err := l.contains(ctx, l.tuple(t)); err != nil || !in {
				if err != nil {
					return nil, "", err
				}
				continue
			}
			return &file{t: *t}, got, nil
		}
	}
	return nil, "", vfs.ErrNotExist
}

// contains reports whether a row lies in the folder (its range and limit).
func (l *trackList) contains(ctx context.Context, row []any) (bool, error) {
	if l.limit == 0 && (len(l.fixed) > 0 || l.base.Lo == nil && l.base.Hi == nil) {
		return true, nil // the name group lies in the folder's prefix
	}
	// Inside the range: the first row from row up to the high end is row,
	// and so is the last from the low end up to row.
	for _, q := range []struct {
		r    store.Range
		desc bool
	}{
		{store.Range{Lo: &store.Bound{Key: row}, Hi: l.base.Hi}, false},
		{store.Range{Lo: l.base.Lo, Hi: &store.Bound{Key: row}}, true},
	} {
		rows, err := l.fs.st.Rows(ctx, l.ix, q.r, q.desc, 1)
		if err != nil || len(rows) == 0 || !slices.Equal(l.tuple(&rows[0]), row) {
			return false, err
		}
	}
	if l.limit > 0 {
		pos, err := l.fs.st.Count(ctx, l.ix, l.upTo(row, false))
		if err != nil || pos > l.limit {
			return false, err
		}
	}
	return true, nil
}

// ---- Files -------------------------------------------------------------------

// file is a track: the real mp3 file, read-only.
type file struct {
	vfs.ReadOnlyFile
	t store.Track
}

func fileAttr(t *store.Track) vfs.Attr {
	m := time.UnixMicro(t.MTime)
	return vfs.Attr{ID: uint64(t.Num), Size: t.Size, DOS: vfs.DOSReadOnly | vfs.DOSArchive,
		Created: m, Accessed: m, Modified: m, Changed: m}
}

func (f *file) Attr(context.Context) (vfs.Attr, error) { return fileAttr(&f.t), nil }

func (f *file) Open(_ context.Context, flags vfs.OpenFlag) (vfs.Handle, error) {
	if flags&vfs.OpenWrite != 0 {
		return nil, vfs.ErrReadOnly
	}
	fh, err := os.Open(f.t.Path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("queryfs: %s: %w", f.t.Path, vfs.ErrStale)
	}
	if err != nil {
		return nil, fmt.Errorf("queryfs: %w", err)
	}
	return &handle{f: fh, attr: fileAttr(&f.t)}, nil
}

// handle reads the real file with pread: nothing is loaded in memory.
type handle struct {
	f    *os.File
	attr vfs.Attr
}

func (h *handle) ReadAt(_ context.Context, p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, vfs.ErrInvalid
	}
	n, err := h.f.ReadAt(p, off)
	if err != nil && !errors.Is(err, io.EOF) {
		if errors.Is(err, os.ErrClosed) {
			return n, vfs.ErrClosed
		}
		return n, err
	}
	return n, err
}

// Stat reports the file as it is now (the index may lag behind).
func (h *handle) Stat(context.Context) (vfs.Attr, error) {
	a := h.attr
	if fi, err := h.f.Stat(); err == nil {
		a.Size = fi.Size()
		a.Modified, a.Changed = fi.ModTime(), fi.ModTime()
	}
	return a, nil
}

func (h *handle) Close(context.Context) error { return h.f.Close() }

var (
	_ vfs.Opener       = (*file)(nil)
	_ vfs.HandleStater = (*handle)(nil)
)
