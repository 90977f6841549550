// Package memfs is a complete in-memory filesystem: every optional
// capability of the vfs contract (streams, extended attributes, hard
// links, security descriptors, volume information, change watching) is
// implemented. It is the reference backend for server tests. Safe for
// concurrent use.
//
//	fsys := memfs.New(memfs.Options{Label: "SCRATCH"})
//	root, _ := fsys.Root(ctx)
//	_, h, _ := root.(vfs.Creator).Create(ctx, "hello.txt")
//
// memfs keeps one lock for the whole tree: simple and obviously correct,
// which is what a reference is for. Access times are not updated by reads.
package memfs

import (
	"context"
	"sort"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/smbvfs/smbvfs/backends/vfs"
)

// Options configure a new FS. The zero value is usable.
type Options struct {
	Label           string // volume label
	Capacity        int64  // bytes of data (streams included) it holds; 0 means 1 GiB
	CaseInsensitive bool   // Lookup ignores case and names differing only in case collide
}

// FS is an in-memory filesystem.
type FS struct {
	notifier vfs.Notifier

	opts   Options
	serial uint32

	mu     sync.RWMutex
	root   *inode
	used   int64 // bytes of data held
	lastID uint64
}

// New returns an empty filesystem.
func New(opts Options) *FS {
	if opts.Capacity <= 0 {
		opts.Capacity = 1 << 30
	}
	f := &FS{opts: opts, serial: uint32(time.Now().UnixNano())}
	f.root = f.newInode(true, time.Now())
	return f
}

// Watch reports every change made to the tree until ctx is done.
func (f *FS) Watch(ctx context.Context, fn func(vfs.Change)) error { return f.notifier.Watch(ctx, fn) }

// Root returns the root directory.
func (f *FS) Root(context.Context) (vfs.Node, error) { return f.root, nil }

// StatVolume reports the capacity and what is left of it.
func (f *FS) StatVolume(context.Context) (vfs.VolumeInfo, error) {
	f.mu.RLock()
	used := f.used
	f.mu.RUnlock()
	return vfs.VolumeInfo{
		Label:          f.opts.Label,
		Serial:         f.serial,
		TotalBytes:     uint64(f.opts.Capacity),
		FreeBytes:      uint64(max(f.opts.Capacity-used, 0)),
		BlockSize:      blockSize,
		MaxNameLength:  maxNameLen,
		CaseSensitive:  !f.opts.CaseInsensitive,
		CasePreserving: true,
	}, nil
}

const (
	blockSize  = 4096
	maxNameLen = 255 // UTF-16 code units, as NTFS
)

// inode is a file or directory; it is the vfs.Node memfs hands out.
type inode struct {
	fs  *FS
	id  uint64
	dir bool

	// All fields below are guarded by fs.mu.
	data                                 []byte
	created, accessed, modified, changed time.Time
	dos                                  vfs.DOSAttr
	nlink                                uint32 // 0 once removed
	xattrs                               map[string][]byte
	streams                              map[string]*stream
	sd                                   []byte

	// Where the node was last placed, to name it in Change events.
	parent *inode
	name   string

	// Directories only.
	entries map[string]*dirent   // by exact name
	folded  map[string][]*dirent // by vfs.FoldName
	order   []*dirent            // by increasing seq: the listing order
	lastSeq uint64
}

// dirent is a directory entry. seq orders the listing and is its cookie.
type dirent struct {
	name string
	seq  uint64
	node *inode
}

type stream struct{ data []byte }

func (f *FS) newInode(dir bool, now time.Time) *inode {
	f.lastID++
	n := &inode{fs: f, id: f.lastID, dir: dir, nlink: 1,
		created: now, accessed: now, modified: now, changed: now}
	if dir {
		n.dos = vfs.DOSDirectory
		n.entries = make(map[string]*dirent)
		n.folded = make(map[string][]*dirent)
	} else {
		n.dos = vfs.DOSArchive
	}
	return n
}

// validName adds memfs' length limit to vfs.ValidName.
func validName(name string) bool {
	if !vfs.ValidName(name) {
		return false
	}
	units := 0
	for _, r := range name {
		units++
		if r >= 0x10000 {
			units++
		}
	}
	return units <= maxNameLen && utf8.ValidString(name)
}

// path names n in Change events ("" for the root).
func (n *inode) path() string {
	if n.parent == nil {
		return n.name
	}
	if p := n.parent.path(); p != "" {
		return p + "/" + n.name
	}
	return n.name
}

func (n *inode) childPath(name string) string {
	if p := n.path(); p != "" {
		return p + "/" + name
	}
	return name
}

// find returns the entry called name, honouring CaseInsensitive.
func (n *inode) find(name string) *dirent {
	if e := n.entries[name]; e != nil {
		return e
	}
	if n.fs.opts.CaseInsensitive {
		if es := n.folded[vfs.FoldName(name)]; len(es) > 0 {
			return es[0]
		}
	}
	return nil
}

func (n *inode) addEntry(name string, child *inode) {
	n.lastSeq++
	e := &dirent{name: name, seq: n.lastSeq, node: child}
	n.entries[name] = e
	key := vfs.FoldName(name)
	n.folded[key] = append(n.folded[key], e)
	n.order = append(n.order, e)
	child.parent, child.name = n, name
}

func (n *inode) removeEntry(e *dirent) {
	delete(n.entries, e.name)
	key := vfs.FoldName(e.name)
	es := n.folded[key]
	for i := range es {
		if es[i] == e {
			es = append(es[:i], es[i+1:]...)
			break
		}
	}
	if len(es) == 0 {
		delete(n.folded, key)
	} else {
		n.folded[key] = es
	}
	i := sort.Search(len(n.order), func(i int) bool { return n.order[i].seq >= e.seq })
	if i < len(n.order) && n.order[i] == e {
		n.order = append(n.order[:i], n.order[i+1:]...)
	}
}

// size counts the bytes n holds against the capacity.
func (n *inode) size() int64 {
	s := int64(len(n.data))
	for _, st := range n.streams {
		s += int64(len(st.data))
	}
	return s
}

func (n *inode) attr() vfs.Attr {
	a := vfs.Attr{ID: n.id, Links: n.nlink, DOS: n.dos,
		Created: n.created, Accessed: n.accessed, Modified: n.modified, Changed: n.changed}
	if !n.dir {
		a.Size = int64(len(n.data))
		a.AllocSize = roundUp(a.Size)
	}
	return a
}

func roundUp(n int64) int64 { return (n + blockSize - 1) / blockSize * blockSize }

// update runs fn under the write lock, then reports its changes.
func (f *FS) update(fn func(now time.Time) ([]vfs.Change, error)) error {
	f.mu.Lock()
	changes, err := fn(time.Now())
	f.mu.Unlock()
	for _, c := range changes {
		f.notifier.Notify(c)
	}
	return err
}

// grow reserves delta more bytes of capacity.
func (f *FS) grow(delta int64) error {
	if delta > 0 && f.used+delta > f.opts.Capacity {
		return vfs.ErrNoSpace
	}
	f.used += delta
	return nil
}

// ---- Node ---------------------------------------------------------------

func (n *inode) Attr(context.Context) (vfs.Attr, error) {
	n.fs.mu.RLock()
	defer n.fs.mu.RUnlock()
	return n.attr(), nil
}

func (n *inode) SetAttr(_ context.Context, c vfs.AttrChange) error {
	return n.fs.update(func(now time.Time) ([]vfs.Change, error) {
		var what vfs.ChangeWhat
		for _, t := range []struct {
			dst *time.Time
			src time.Time
		}{{&n.created, c.Created}, {&n.accessed, c.Accessed}, {&n.modified, c.Modified}} {
			if !t.src.IsZero() {
				*t.dst = t.src
				what |= vfs.WhatTimes
			}
		}
		if c.Set|c.Clear != 0 {
			n.dos = (n.dos | c.Set&^vfs.DOSDirectory) &^ (c.Clear &^ vfs.DOSDirectory)
			what |= vfs.WhatAttr
		}
		n.changed = now
		if !c.Changed.IsZero() {
			n.changed = c.Changed
			what |= vfs.WhatTimes
		}
		return n.modifiedChange(what, ""), nil
	})
}

// modifiedChange describes a change of n's content or metadata.
func (n *inode) modifiedChange(what vfs.ChangeWhat, stream string) []vfs.Change {
	if what == 0 || n.nlink == 0 || !n.fs.notifier.Watching() {
		return nil
	}
	return []vfs.Change{{Op: vfs.ChangeModified, Path: n.path(), ID: n.id, Dir: n.dir, What: what, Stream: stream}}
}

// ---- Directory ----------------------------------------------------------

// dirOK checks that n is a live directory; call with fs.mu held.
func (n *inode) dirOK() error {
	if !n.dir {
		return vfs.ErrNotDir
	}
	if n.nlink == 0 {
		return vfs.ErrStale
	}
	return nil
}

func (n *inode) Lookup(_ context.Context, name string) (vfs.Node, error) {
	n.fs.mu.RLock()
	defer n.fs.mu.RUnlock()
	if err := n.dirOK(); err != nil {
		return nil, err
	}
	if e := n.find(name); e != nil {
		return e.node, nil
	}
	return nil, vfs.ErrNotExist
}

func (n *inode) LookupFold(_ context.Context, name string) (vfs.Node, string, error) {
	n.fs.mu.RLock()
	defer n.fs.mu.RUnlock()
	if err := n.dirOK(); err != nil {
		return nil, "", err
	}
	if e := n.entries[name]; e != nil {
		return e.node, e.name, nil
	}
	if es := n.folded[vfs.FoldName(name)]; len(es) > 0 {
		return es[0].node, es[0].name, nil
	}
	return nil, "", vfs.ErrNotExist
}

// ReadDir lists in creation order; the cookie is the entry's sequence
// number, so it stays valid whatever else is added or removed.
func (n *inode) ReadDir(_ context.Context, cookie uint64, count int) ([]vfs.DirEntry, error) {
	n.fs.mu.RLock()
	defer n.fs.mu.RUnlock()
	if err := n.dirOK(); err != nil {
		return nil, err
	}
	i := sort.Search(len(n.order), func(i int) bool { return n.order[i].seq > cookie })
	out := make([]vfs.DirEntry, 0, min(count, len(n.order)-i))
	for ; i < len(n.order) && len(out) < count; i++ {
		e := n.order[i]
		out = append(out, vfs.DirEntry{Name: e.name, Attr: e.node.attr(), Cookie: e.seq})
	}
	return out, nil
}

// place checks that name can be added to n; call with fs.mu held.
func (n *inode) place(name string) error {
	if err := n.dirOK(); err != nil {
		return err
	}
	if !validName(name) {
		return vfs.ErrInvalidName
	}
	if n.find(name) != nil {
		return vfs.ErrExist
	}
	return nil
}

func (n *inode) added(child *inode, now time.Time) []vfs.Change {
	n.modified, n.changed = now, now
	if !n.fs.notifier.Watching() {
		return nil
	}
	return []vfs.Change{{Op: vfs.ChangeAdded, Path: child.path(), ID: child.id, Dir: child.dir}}
}

func (n *inode) Create(_ context.Context, name string) (vfs.Node, vfs.Handle, error) {
	var child *inode
	err := n.fs.update(func(now time.Time) ([]vfs.Change, error) {
		if err := n.place(name); err != nil {
			return nil, err
		}
		child = n.fs.newInode(false, now)
		n.addEntry(name, child)
		return n.added(child, now), nil
	})
	if err != nil {
		return nil, nil, err
	}
	return child, &handle{node: child, flags: vfs.OpenRead | vfs.OpenWrite}, nil
}

func (n *inode) Mkdir(_ context.Context, name string) (vfs.Node, error) {
	var child *inode
	err := n.fs.update(func(now time.Time) ([]vfs.Change, error) {
		if err := n.place(name); err != nil {
			return nil, err
		}
		child = n.fs.newInode(true, now)
		n.addEntry(name, child)
		return n.added(child, now), nil
	})
	if err != nil {
		return nil, err
	}
	return child, nil
}

func (n *inode) Remove(_ context.Context, name string) error { return n.remove(name, false) }

func (n *inode) RemoveDir(_ context.Context, name string) error { return n.remove(name, true) }

func (n *inode) remove(name string, dir bool) error {
	return n.fs.update(func(now time.Time) ([]vfs.Change, error) {
		if err := n.dirOK(); err != nil {
			return nil, err
		}
		e := n.find(name)
		switch {
		case e == nil:
			return nil, vfs.ErrNotExist
		case e.node.dir && !dir:
			return nil, vfs.ErrIsDir
		case !e.node.dir && dir:
			return nil, vfs.ErrNotDir
		case dir && len(e.node.entries) > 0:
			return nil, vfs.ErrNotEmpty
		}
		var changes []vfs.Change
		if n.fs.notifier.Watching() {
			changes = []vfs.Change{{Op: vfs.ChangeRemoved, Path: n.childPath(e.name), ID: e.node.id, Dir: e.node.dir}}
		}
		n.removeEntry(e)
		n.unlinked(e.node, now)
		n.modified, n.changed = now, now
		return changes, nil
	})
}

// unlinked accounts for child losing one of its names in n.
func (n *inode) unlinked(child *inode, now time.Time) {
	child.nlink--
	child.changed = now
	if child.nlink == 0 {
		n.fs.used -= child.size() // open handles keep the bytes, uncounted
		child.parent = nil
	} else if child.parent == n {
		child.parent = nil // name it by another of its links, if found
		for _, e := range n.order {
			if e.node == child {
				child.parent, child.name = n, e.name
			}
		}
	}
}

func (n *inode) Rename(_ context.Context, oldName string, newDir vfs.Node, newName string, replace bool) error {
	to, ok := newDir.(*inode)
	if !ok || to.fs != n.fs {
		return vfs.ErrInvalid
	}
	return n.fs.update(func(now time.Time) ([]vfs.Change, error) {
		if err := n.dirOK(); err != nil {
			return nil, err
		}
		if err := to.dirOK(); err != nil {
			return nil, err
		}
		if !validName(newName) {
			return nil, vfs.ErrInvalidName
		}
		src := n.find(oldName)
		if src == nil {
			return nil, vfs.ErrNotExist
		}
		if src.node.dir {
			for d := to; d != nil; d = d.parent {
				if d == src.node {
					return nil, vfs.ErrInvalid // into itself
				}
			}
		}
		dst := to.find(newName)
		if dst == src {
			if src.name == newName {
				return nil, nil // nothing to do
			}
			dst = nil // a change of case only
		}
		if dst != nil {
			if !replace || dst.node.dir {
				return nil, vfs.ErrExist
			}
			if dst.node == src.node { // two links of one file: drop the source
				n.removeEntry(src)
				n.unlinked(src.node, now)
				return nil, nil
			}
			to.removeEntry(dst)
			to.unlinked(dst.node, now)
		}
		oldPath := n.childPath(src.name)
		n.removeEntry(src)
		to.addEntry(newName, src.node)
		src.node.changed = now
		n.modified, n.changed, to.modified, to.changed = now, now, now, now
		if !n.fs.notifier.Watching() {
			return nil, nil
		}
		var changes []vfs.Change
		if dst != nil {
			changes = append(changes, vfs.Change{Op: vfs.ChangeRemoved, Path: to.childPath(newName), ID: dst.node.id})
		}
		return append(changes, vfs.Change{Op: vfs.ChangeRenamed, Path: src.node.path(), OldPath: oldPath,
			ID: src.node.id, Dir: src.node.dir}), nil
	})
}

func (n *inode) Link(_ context.Context, target vfs.Node, name string) error {
	t, ok := target.(*inode)
	if !ok || t.fs != n.fs {
		return vfs.ErrInvalid
	}
	return n.fs.update(func(now time.Time) ([]vfs.Change, error) {
		if err := n.place(name); err != nil {
			return nil, err
		}
		switch {
		case t.dir:
			return nil, vfs.ErrIsDir
		case t.nlink == 0:
			return nil, vfs.ErrStale
		}
		n.lastSeq++
		e := &dirent{name: name, seq: n.lastSeq, node: t}
		n.entries[name] = e
		key := vfs.FoldName(name)
		n.folded[key] = append(n.folded[key], e)
		n.order = append(n.order, e)
		t.nlink++
		t.changed = now
		n.modified, n.changed = now, now
		if !n.fs.notifier.Watching() {
			return nil, nil
		}
		return []vfs.Change{{Op: vfs.ChangeAdded, Path: n.childPath(name), ID: t.id}}, nil
	})
}

var (
	_ vfs.FS           = (*FS)(nil)
	_ vfs.VolumeStater = (*FS)(nil)
	_ vfs.Watcher      = (*FS)(nil)
	_ vfs.Lookuper     = (*inode)(nil)
	_ vfs.FoldLookuper = (*inode)(nil)
	_ vfs.DirReader    = (*inode)(nil)
	_ vfs.Creator      = (*inode)(nil)
	_ vfs.Mkdirer      = (*inode)(nil)
	_ vfs.Remover      = (*inode)(nil)
	_ vfs.Renamer      = (*inode)(nil)
	_ vfs.Linker       = (*inode)(nil)
	_ vfs.AttrSetter   = (*inode)(nil)
	_ vfs.Opener       = (*inode)(nil)
	_ vfs.Streamer     = (*inode)(nil)
	_ vfs.Xattrer      = (*inode)(nil)
	_ vfs.Securer      = (*inode)(nil)
)
