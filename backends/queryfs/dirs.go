package queryfs

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/smbvfs/smbvfs/backends/queryfs/store"
	"github.com/smbvfs/smbvfs/backends/vfs"
)

// ---- View folders ------------------------------------------------------------

// groupDir is a folder level of a view: it lists the distinct values of
// the level's field among the tracks of its parent (cookie: the value's
// index key + 1, so listings resume by value, holding nothing).
type groupDir struct {
	vfs.ReadOnlyDir
	fs     *FS
	v      *view
	prefix []any // keys of the levels above
	id     uint64
}

func newViewDir(f *FS, v *view, prefix []any) vfs.Node {
	id := dirID(append([]any{v.folder}, prefix...)...)
	if len(prefix) < len(v.levels) {
		return &groupDir{fs: f, v: v, prefix: prefix, id: id}
	}
	return &leafDir{trackList{fs: f, id: id, ix: v.lix, cols: v.lcols, fixed: prefix,
		base: store.Prefix(prefix), name: v.leaf}}
}

func (d *groupDir) Attr(context.Context) (vfs.Attr, error) { return d.fs.dirAttr(d.id, true), nil }

func (d *groupDir) level() (template, *store.Field) {
	t := d.v.levels[len(d.prefix)]
	return t, t.fields()[0]
}

func (d *groupDir) name(g store.Group) string {
	t, f := d.level()
	var b strings.Builder
	for _, p := range t {
		switch {
		case p.field == nil:
			b.WriteString(p.lit)
		case f.Str:
			b.WriteString(g.Display)
		default:
			v, _ := g.Key.(int64)
			b.WriteString(f.FormatInt(v, p.width))
		}
	}
	return b.String()
}

func (d *groupDir) child(g store.Group) vfs.Node {
	return newViewDir(d.fs, d.v, append(slices.Clone(d.prefix), g.Key))
}

func (d *groupDir) ReadDir(ctx context.Context, cookie uint64, n int) ([]vfs.DirEntry, error) {
	if n <= 0 {
		return nil, vfs.ErrInvalid
	}
	var after any
	if cookie != 0 {
		after = int64(cookie - 1)
	}
	groups, err := d.fs.st.Groups(ctx, d.v.lix, d.prefix, after, n)
	if err != nil {
		return nil, err
	}
	out := make([]vfs.DirEntry, 0, len(groups))
	for _, g := range groups {
		k, ok := g.Key.(int64)
		if !ok || k < 0 {
			return nil, fmt.Errorf("queryfs: unexpected group key %v", g.Key)
		}
		a, _ := d.child(g).Attr(ctx)
		out = append(out, vfs.DirEntry{Name: d.name(g), Attr: a, Cookie: uint64(k) + 1})
	}
	return out, nil
}

func (d *groupDir) Lookup(ctx context.Context, name string) (vfs.Node, error) {
	n, _, err := d.lookup(ctx, name, false)
	return n, err
}

func (d *groupDir) LookupFold(ctx context.Context, name string) (vfs.Node, string, error) {
	return d.lookup(ctx, name, true)
}

func (d *groupDir) lookup(ctx context.Context, name string, fold bool) (vfs.Node, string, error) {
	t, f := d.level()
	for _, vals := range t.parse(name) {
		key, ok := colValue(f, f.KeyCol(), vals[f])
		if !ok {
			continue
		}
		g, found, err := d.fs.st.Group(ctx, d.v.lix, d.prefix, key)
		if err != nil {
			return nil, "", err
		}
		if !found {
			continue
		}
		got := d.name(g)
		if got == name || fold && store.Fold(got) == store.Fold(name) {
			return d.child(g), got, nil
		}
	}
	return nil, "", vfs.ErrNotExist
}

// leafDir is the last level of a view: its tracks.
type leafDir struct{ trackList }

func (d *leafDir) Attr(context.Context) (vfs.Attr, error) { return d.fs.dirAttr(d.id, true), nil }

// Read-only, every change refused.
func (*leafDir) Create(context.Context, string) (vfs.Node, vfs.Handle, error) {
	return nil, nil, vfs.ErrReadOnly
}
func (*leafDir) Mkdir(context.Context, string) (vfs.Node, error) { return nil, vfs.ErrReadOnly }
func (*leafDir) Remove(context.Context, string) error            { return vfs.ErrReadOnly }
func (*leafDir) RemoveDir(context.Context, string) error         { return vfs.ErrReadOnly }
func (*leafDir) Rename(context.Context, string, vfs.Node, string, bool) error {
	return vfs.ErrReadOnly
}
func (*leafDir) SetAttr(context.Context, vfs.AttrChange) error { return vfs.ErrReadOnly }

// ---- Query folders ---------------------------------------------------------

// query is the parsed parameters of a query folder name.
type query struct {
	v          *view
	key        any // nil, or the value of key=
	start, end any // nil when absent
	limit      int
	desc       bool
}

const maxLimit = 1_000_000

// parseQuery parses "<view folder> name=value ...". It returns nil, nil
// for a name that is not a query (no view prefix and no '=').
func (f *FS) parseQuery(name string) (*query, error) {
	var v *view
	for _, cand := range f.views {
		if len(name) > len(cand.folder) && strings.EqualFold(name[:len(cand.folder)], cand.folder) && name[len(cand.folder)] == ' ' &&
			(v == nil || len(cand.folder) > len(v.folder)) {
			v = cand
		}
	}
	if v == nil {
		if strings.Contains(name, "=") {
			return nil, fmt.Errorf("queryfs: %q: no view folder named before the parameters: %w", name, vfs.ErrInvalidName)
		}
		return nil, nil
	}
	q := &query{v: v}
	params := strings.Fields(name[len(v.folder):])
	if len(params) == 0 {
		return nil, fmt.Errorf("queryfs: %q: no parameters: %w", name, vfs.ErrInvalidName)
	}
	seen := map[string]bool{}
	bad := func(format string, args ...any) (*query, error) {
		return nil, fmt.Errorf("queryfs: %q: %s: %w", name, fmt.Sprintf(format, args...), vfs.ErrInvalidName)
	}
	value := func(s string) (any, error) {
		text, err := url.PathUnescape(s)
		if err != nil || text == "" {
			return nil, fmt.Errorf("bad value %q", s)
		}
		if v.key.Str {
			return store.Fold(text), nil
		}
		n, ok := parseInt(v.key, text)
		if !ok {
			return nil, fmt.Errorf("%q is not a number (%s is numeric)", text, v.key.Name)
		}
		return n, nil
	}
	for _, p := range params {
		k, val, ok := strings.Cut(p, "=")
		k = strings.ToLower(k)
		if !ok || val == "" {
			return bad("%q is not name=value", p)
		}
		if seen[k] {
			return bad("%s given twice", k)
		}
		seen[k] = true
		var err error
		switch k {
		case "key":
			q.key, err = value(val)
		case "startkey", "start_key":
			q.start, err = value(val)
		case "endkey", "end_key":
			q.end, err = value(val)
		case "limit":
			n, perr := strconv.Atoi(val)
			if perr != nil || n <= 0 || n > maxLimit {
				return bad("limit must be 1..%d", maxLimit)
			}
			q.limit = n
		case "descending":
			b, perr := strconv.ParseBool(val)
			if perr != nil {
				return bad("descending must be true or false")
			}
			q.desc = b
		default:
			return bad("unknown parameter %q (key, startkey, endkey, limit, descending)", k)
		}
		if err != nil {
			return bad("%s: %v", k, err)
		}
	}
	if q.key != nil && (q.start != nil || q.end != nil) {
		return bad("key excludes startkey and endkey")
	}
	return q, nil
}

// rng is the range of the query's index the folder lists. As in CouchDB,
// with descending=true startkey is the high end.
func (q *query) rng() store.Range {
	var r store.Range
	if q.key != nil {
		return store.Prefix([]any{q.key})
	}
	lo, hi := q.start, q.end
	if q.desc {
		lo, hi = hi, lo
	}
	if lo != nil {
		r.Lo = &store.Bound{Key: []any{lo}}
	}
	if hi != nil {
		r.Hi = &store.Bound{Key: []any{hi}}
	}
	return r
}

// queryDir is a live query folder at the top level.
type queryDir struct {
	leafDir
	q *query
}

func newQueryDir(f *FS, name string, q *query) *queryDir {
	return &queryDir{leafDir: leafDir{trackList{fs: f, id: dirID("query", store.Fold(name)), ix: q.v.qix, cols: q.v.qcols,
		base: q.rng(), desc: q.desc, limit: q.limit, name: q.v.qleaf}}, q: q}
}

// placeholder is an empty folder made at the top level under a plain name
// ("New folder"), so that clients that create a folder and then rename it
// can turn it into a query.
type placeholder struct {
	vfs.ReadOnlyDir
	fs *FS
	id uint64
}

func (p *placeholder) Attr(context.Context) (vfs.Attr, error) { return p.fs.dirAttr(p.id, false), nil }
func (p *placeholder) Lookup(context.Context, string) (vfs.Node, error) {
	return nil, vfs.ErrNotExist
}
func (p *placeholder) ReadDir(_ context.Context, _ uint64, n int) ([]vfs.DirEntry, error) {
	if n <= 0 {
		return nil, vfs.ErrInvalid
	}
	return nil, nil
}

// ---- The root ------------------------------------------------------------

type rootChild struct {
	seq  uint64
	name string
	node vfs.Node
	view bool
}

// rootDir lists the views, then the query folders in creation order
// (cookie: a sequence number).
type rootDir struct {
	fs  *FS
	id  uint64
	mu  sync.Mutex
	ch  []rootChild
	seq uint64
}

func newRoot(f *FS) *rootDir {
	r := &rootDir{fs: f, id: dirID("root")}
	for _, v := range f.views {
		r.seq++
		r.ch = append(r.ch, rootChild{seq: r.seq, name: v.folder, node: newViewDir(f, v, nil), view: true})
	}
	return r
}

func (r *rootDir) Attr(context.Context) (vfs.Attr, error) { return r.fs.dirAttr(r.id, false), nil }

func (r *rootDir) find(name string, fold bool) int {
	for i, c := range r.ch {
		if c.name == name || fold && store.Fold(c.name) == store.Fold(name) {
			return i
		}
	}
	return -1
}

func (r *rootDir) Lookup(ctx context.Context, name string) (vfs.Node, error) {
	n, _, err := r.lookup(name, false)
	return n, err
}

func (r *rootDir) LookupFold(ctx context.Context, name string) (vfs.Node, string, error) {
	return r.lookup(name, true)
}

func (r *rootDir) lookup(name string, fold bool) (vfs.Node, string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if i := r.find(name, fold); i >= 0 {
		return r.ch[i].node, r.ch[i].name, nil
	}
	return nil, "", vfs.ErrNotExist
}

func (r *rootDir) ReadDir(ctx context.Context, cookie uint64, n int) ([]vfs.DirEntry, error) {
	if n <= 0 {
		return nil, vfs.ErrInvalid
	}
	r.mu.Lock()
	var page []rootChild
	for _, c := range r.ch {
		if c.seq > cookie && len(page) < n {
			page = append(page, c)
		}
	}
	r.mu.Unlock()
	out := make([]vfs.DirEntry, 0, len(page))
	for _, c := range page {
		a, err := c.node.Attr(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, vfs.DirEntry{Name: c.name, Attr: a, Cookie: c.seq})
	}
	return out, nil
}

// newChild makes the node for a folder created or renamed at the top.
func (r *rootDir) newChild(name string) (vfs.Node, error) {
	if !vfs.ValidName(name) || store.SafeName(name) != name {
		return nil, fmt.Errorf("queryfs: %q: %w", name, vfs.ErrInvalidName)
	}
	q, err := r.fs.parseQuery(name)
	if err != nil {
		return nil, err
	}
	if q == nil {
		return &placeholder{fs: r.fs, id: dirID("placeholder", store.Fold(name))}, nil
	}
	return newQueryDir(r.fs, name, q), nil
}

// Mkdir makes a query folder (or a placeholder to rename into one).
func (r *rootDir) Mkdir(ctx context.Context, name string) (vfs.Node, error) {
	node, err := r.newChild(name)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	if r.find(name, true) >= 0 {
		r.mu.Unlock()
		return nil, vfs.ErrExist
	}
	r.seq++
	r.ch = append(r.ch, rootChild{seq: r.seq, name: name, node: node})
	r.mu.Unlock()
	a, _ := node.Attr(ctx)
	r.fs.Notify(vfs.Change{Op: vfs.ChangeAdded, Path: name, ID: a.ID, Dir: true})
	return node, nil
}

func (r *rootDir) Remove(_ context.Context, name string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.find(name, true) < 0 {
		return vfs.ErrNotExist
	}
	return vfs.ErrReadOnly // no files at the top; folders go with RemoveDir
}

// RemoveDir removes a query folder or a placeholder; views stay.
func (r *rootDir) RemoveDir(ctx context.Context, name string) error {
	r.mu.Lock()
	i := r.find(name, true)
	switch {
	case i < 0:
		r.mu.Unlock()
		return vfs.ErrNotExist
	case r.ch[i].view:
		r.mu.Unlock()
		return vfs.ErrReadOnly
	}
	c := r.ch[i]
	r.ch = slices.Delete(r.ch, i, i+1)
	r.mu.Unlock()
	a, _ := c.node.Attr(ctx)
	r.fs.Notify(vfs.Change{Op: vfs.ChangeRemoved, Path: c.name, ID: a.ID, Dir: true})
	return nil
}

// Rename renames a query folder or a placeholder within the top level,
// turning it into the query its new name says. Views cannot be renamed.
func (r *rootDir) Rename(ctx context.Context, oldName string, newDir vfs.Node, newName string, replace bool) error {
	if nd, ok := newDir.(*rootDir); !ok || nd != r {
		return vfs.ErrReadOnly
	}
	node, err := r.newChild(newName)
	r.mu.Lock()
	i := r.find(oldName, true)
	switch {
	case i < 0:
		r.mu.Unlock()
		return vfs.ErrNotExist
	case r.ch[i].view:
		r.mu.Unlock()
		return vfs.ErrReadOnly
	case err != nil:
		r.mu.Unlock()
		return err
	}
	if j := r.find(newName, true); j >= 0 && j != i {
		r.mu.Unlock()
		return vfs.ErrExist // folders are never replaced
	}
	old := r.ch[i].name
	r.ch[i].name, r.ch[i].node = newName, node
	r.mu.Unlock()
	a, _ := node.Attr(ctx)
	r.fs.Notify(vfs.Change{Op: vfs.ChangeRenamed, Path: newName, OldPath: old, ID: a.ID, Dir: true})
	return nil
}

func (r *rootDir) Link(context.Context, vfs.Node, string) error  { return vfs.ErrReadOnly }
func (r *rootDir) SetAttr(context.Context, vfs.AttrChange) error { return vfs.ErrReadOnly }

var (
	_ vfs.Mkdirer      = (*rootDir)(nil)
	_ vfs.Renamer      = (*rootDir)(nil)
	_ vfs.Remover      = (*rootDir)(nil)
	_ vfs.FoldLookuper = (*rootDir)(nil)
	_ vfs.FoldLookuper = (*groupDir)(nil)
	_ vfs.FoldLookuper = (*leafDir)(nil)
	_ vfs.DirReader    = (*queryDir)(nil)
)
