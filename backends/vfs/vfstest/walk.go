package vfstest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"path"
	"slices"
	"sync"
	"testing"

	"github.com/smbvfs/smbvfs/backends/vfs"
)

const walkLimit = 400 // nodes visited by a walk

type visited struct {
	path string
	node vfs.Node
	attr vfs.Attr
}

// walk visits the tree breadth-first (at most walkLimit nodes), checking
// every directory listing against Lookup on the way.
func walk(t *testing.T, fsys vfs.FS, check bool) []visited {
	t.Helper()
	root, err := fsys.Root(ctxT(t))
	if err != nil {
		t.Fatalf("Root: %v", err)
	}
	ra := attr(t, root)
	if !ra.IsDir() {
		t.Fatalf("root is not a directory: %v", ra.DOS)
	}
	out := []visited{{"", root, ra}}
	for i := 0; i < len(out) && len(out) < walkLimit; i++ {
		v := out[i]
		if !v.attr.IsDir() {
			continue
		}
		if _, ok := v.node.(vfs.DirReader); !ok {
			if check {
				t.Logf("directory %q is not a DirReader: not listed", v.path)
			}
			continue
		}
		ents := list(t, v.node, 1000)
		if check {
			checkListing(t, v, ents)
		}
		for _, e := range ents {
			n, err := v.node.(vfs.Lookuper).Lookup(ctxT(t), e.Name)
			if err != nil {
				t.Errorf("Lookup(%q) of a listed entry: %v", path.Join(v.path, e.Name), err)
				continue
			}
			out = append(out, visited{path.Join(v.path, e.Name), n, attr(t, n)})
		}
	}
	return out
}

func checkListing(t *testing.T, dir visited, ents []vfs.DirEntry) {
	t.Helper()
	if _, ok := dir.node.(vfs.Lookuper); !ok {
		t.Errorf("directory %q lists but is not a Lookuper", dir.path)
		return
	}
	seen := make(map[string]bool)
	for _, e := range ents {
		switch {
		case !vfs.ValidName(e.Name):
			t.Errorf("%q lists invalid name %q", dir.path, e.Name)
		case seen[e.Name]:
			t.Errorf("%q lists %q twice", dir.path, e.Name)
		case e.Attr.ID == 0:
			t.Errorf("%q lists %q with ID 0", dir.path, e.Name)
		case e.Cookie == 0:
			t.Errorf("%q lists %q with cookie 0", dir.path, e.Name)
		}
		seen[e.Name] = true
	}
	// Resuming one entry at a time gives the same listing.
	if one := names(list(t, dir.node, 1)); !slices.Equal(one, names(ents)) {
		t.Errorf("%q: listing one at a time gives %q, all at once %q", dir.path, one, names(ents))
	}
	// Every listed entry resolves to the node listed.
	for _, e := range ents {
		n, err := dir.node.(vfs.Lookuper).Lookup(ctxT(t), e.Name)
		if err != nil {
			continue // reported by walk
		}
		a := attr(t, n)
		if a.ID != e.Attr.ID || a.IsDir() != e.Attr.IsDir() {
			t.Errorf("%q/%q: listed as ID %d dir %v, Lookup gives ID %d dir %v",
				dir.path, e.Name, e.Attr.ID, e.Attr.IsDir(), a.ID, a.IsDir())
		}
	}
	_, err := dir.node.(vfs.Lookuper).Lookup(ctxT(t), "vfstest-no-such-entry")
	wantErr(t, err, vfs.ErrNotExist, "Lookup of a missing name in %q", dir.path)
	if f, ok := dir.node.(vfs.FoldLookuper); ok {
		for _, e := range ents[:min(len(ents), 20)] {
			n, stored, err := f.LookupFold(ctxT(t), vfs.FoldName(e.Name))
			if err != nil {
				t.Errorf("LookupFold(%q) in %q: %v", vfs.FoldName(e.Name), dir.path, err)
			} else if vfs.FoldName(stored) != vfs.FoldName(e.Name) || attr(t, n).ID == 0 {
				t.Errorf("LookupFold(%q) in %q gave %q", vfs.FoldName(e.Name), dir.path, stored)
			}
		}
	}
}

// checkFile reads a file whole and at random offsets.
func checkFile(t *testing.T, v visited) {
	t.Helper()
	o, ok := v.node.(vfs.Opener)
	if !ok {
		t.Logf("file %q is not an Opener: not read", v.path)
		return
	}
	h, err := o.Open(ctxT(t), vfs.OpenRead)
	if errors.Is(err, vfs.ErrPermission) {
		t.Logf("file %q: Open: %v", v.path, err)
		return
	}
	if err != nil {
		t.Errorf("Open(%q): %v", v.path, err)
		return
	}
	defer h.Close(ctxT(t))
	size := v.attr.Size
	if st, ok := h.(vfs.HandleStater); ok {
		a, err := st.Stat(ctxT(t))
		if err != nil {
			t.Errorf("Stat(%q): %v", v.path, err)
			return
		}
		if a.ID != v.attr.ID {
			t.Errorf("%q: handle Stat ID %d, node ID %d", v.path, a.ID, v.attr.ID)
		}
		size = a.Size
	}
	data := readAll(t, h)
	if int64(len(data)) != size {
		t.Errorf("%q: read %d bytes, size is %d", v.path, len(data), size)
	}
	for range 8 {
		off := rand.Int64N(int64(len(data)) + 1)
		buf := make([]byte, rand.IntN(100)+1)
		n, err := h.ReadAt(ctxT(t), buf, off)
		want := data[off:min(off+int64(len(buf)), int64(len(data)))]
		if !bytes.Equal(buf[:n], want) || (n < len(buf) && err != io.EOF) || (n == len(buf) && err != nil && err != io.EOF) {
			t.Errorf("%q: ReadAt(%d bytes at %d) = %d, %v; want %d bytes", v.path, len(buf), off, n, err, len(want))
		}
	}
	if n, err := h.ReadAt(ctxT(t), make([]byte, 10), int64(len(data))+10); n != 0 || err != io.EOF {
		t.Errorf("%q: ReadAt beyond the end = %d, %v; want 0, io.EOF", v.path, n, err)
	}
	if _, err := h.ReadAt(ctxT(t), make([]byte, 10), -1); err == nil {
		t.Errorf("%q: ReadAt at a negative offset succeeded", v.path)
	}
}

// populate gives a writable FS a small tree to walk: files of several
// sizes and nested directories.
func (s *suite) populate(t *testing.T, fsys vfs.FS) {
	t.Helper()
	if s.cfg.readOnly {
		return
	}
	dir := walkTo(t, fsys, s.cfg.scratch)
	if _, ok := dir.(vfs.Creator); !ok {
		return
	}
	for i, size := range []int{0, 1, 4097, 70000} {
		create(t, dir, fmt.Sprintf("file%d", i), bytes.Repeat([]byte{byte('a' + i)}, size))
	}
	if m, ok := dir.(vfs.Mkdirer); ok {
		sub, err := m.Mkdir(ctxT(t), "sub")
		if err != nil {
			t.Fatalf("Mkdir: %v", err)
		}
		create(t, sub, "inner.txt", []byte("inner"))
		if _, err := sub.(vfs.Mkdirer).Mkdir(ctxT(t), "empty"); err != nil {
			t.Fatalf("Mkdir: %v", err)
		}
	}
}

func testWalk(t *testing.T, s *suite) {
	fsys := s.newFS(t)
	s.populate(t, fsys)
	nodes := walk(t, fsys, true)
	t.Logf("walked %d nodes", len(nodes))
	ids := make(map[uint64]visited)
	for _, v := range nodes {
		if v.attr.ID == 0 {
			t.Errorf("%q has ID 0", v.path)
		}
		// Two paths may share an ID only if they are one file (hard links,
		// or a symbolic link the backend follows).
		if prev, dup := ids[v.attr.ID]; dup {
			if v.attr.IsDir() != prev.attr.IsDir() || v.attr.Size != prev.attr.Size {
				t.Errorf("%q and %q share ID %d but differ: %+v, %+v", prev.path, v.path, v.attr.ID, prev.attr, v.attr)
			}
		}
		ids[v.attr.ID] = v
		if v.attr.IsDir() {
			if o, ok := v.node.(vfs.Opener); ok {
				h, err := o.Open(ctxT(t), vfs.OpenRead)
				if err == nil {
					h.Close(ctxT(t))
				}
				wantErr(t, err, vfs.ErrIsDir, "Open of directory %q", v.path)
			}
			continue
		}
		if v.attr.Size < 0 {
			t.Errorf("%q has size %d", v.path, v.attr.Size)
		}
		if l, ok := v.node.(vfs.Lookuper); ok {
			_, err := l.Lookup(ctxT(t), "x")
			wantErr(t, err, vfs.ErrNotDir, "Lookup in file %q", v.path)
		}
		if r, ok := v.node.(vfs.DirReader); ok {
			_, err := r.ReadDir(ctxT(t), 0, 10)
			wantErr(t, err, vfs.ErrNotDir, "ReadDir of file %q", v.path)
		}
		checkFile(t, v)
	}
}

func testConcurrentReaders(t *testing.T, s *suite) {
	fsys := s.newFS(t)
	s.populate(t, fsys)
	nodes := walk(t, fsys, false)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range len(nodes) {
				v := nodes[(i+g*7)%len(nodes)]
				if v.attr.IsDir() {
					if _, ok := v.node.(vfs.DirReader); ok {
						list(t, v.node, 3+g)
					}
				} else if _, ok := v.node.(vfs.Opener); ok {
					checkFile(t, v)
				}
				if _, err := v.node.Attr(ctxT(t)); err != nil {
					t.Errorf("Attr(%q): %v", v.path, err)
				}
			}
		})
	}
	wg.Wait()
}

// testReadOnly checks that every change to a read-only node is refused.
func testReadOnly(t *testing.T, s *suite) {
	if !s.cfg.readOnly && len(s.cfg.readOnlyPaths) == 0 {
		s.skip(t, "no read-only nodes declared (ReadOnly, ReadOnlyPaths)")
	}
	fsys := s.newFS(t)
	var nodes []visited
	if s.cfg.readOnly {
		nodes = walk(t, fsys, false)
	} else {
		for _, p := range s.cfg.readOnlyPaths {
			n := walkTo(t, fsys, p)
			nodes = append(nodes, visited{p, n, attr(t, n)})
		}
	}
	ctx := ctxT(t)
	checked := 0
	refused := func(err error, alsoUnsupported bool, op, p string) {
		t.Helper()
		checked++
		if errors.Is(err, vfs.ErrReadOnly) || alsoUnsupported && errors.Is(err, vfs.ErrNotSupported) {
			return
		}
		t.Errorf("%s on read-only %q: got %v, want ErrReadOnly", op, p, err)
	}
	for _, v := range nodes {
		p, n := v.path, v.node
		child := "vfstest-new"
		if r, ok := n.(vfs.DirReader); ok && v.attr.IsDir() {
			if ents, err := r.ReadDir(ctx, 0, 1); err == nil && len(ents) > 0 {
				child = ents[0].Name
			}
		}
		if c, ok := n.(vfs.Creator); ok {
			_, _, err := c.Create(ctx, "vfstest-new")
			refused(err, false, "Create", p)
		}
		if m, ok := n.(vfs.Mkdirer); ok {
			_, err := m.Mkdir(ctx, "vfstest-new")
			refused(err, false, "Mkdir", p)
		}
		if r, ok := n.(vfs.Remover); ok {
			refused(r.Remove(ctx, child), false, "Remove", p)
			refused(r.RemoveDir(ctx, child), false, "RemoveDir", p)
		}
		if r, ok := n.(vfs.Renamer); ok {
			refused(r.Rename(ctx, child, n, "vfstest-new", true), false, "Rename", p)
		}
		if l, ok := n.(vfs.Linker); ok {
			refused(l.Link(ctx, n, "vfstest-new"), false, "Link", p)
		}
		if a, ok := n.(vfs.AttrSetter); ok {
			refused(a.SetAttr(ctx, vfs.AttrChange{Set: vfs.DOSHidden}), false, "SetAttr", p)
		}
		if o, ok := n.(vfs.Opener); ok && !v.attr.IsDir() {
			h, err := o.Open(ctx, vfs.OpenRead|vfs.OpenWrite)
			if err == nil {
				h.Close(ctx)
			}
			refused(err, false, "Open for writing", p)
		}
		if st, ok := n.(vfs.Streamer); ok {
			h, err := st.CreateStream(ctx, "vfstest")
			if err == nil {
				h.Close(ctx)
			}
			refused(err, true, "CreateStream", p)
		}
		if x, ok := n.(vfs.Xattrer); ok {
			refused(x.SetXattr(ctx, "vfstest", []byte("x")), true, "SetXattr", p)
		}
		if sec, ok := n.(vfs.Securer); ok {
			refused(sec.SetSecurity(ctx, []byte{1, 0, 4, 0x80}), true, "SetSecurity", p)
		}
	}
	if checked == 0 {
		s.skip(t, "read-only nodes offer no change operation to refuse")
	}
	t.Logf("%d changes refused on %d read-only nodes", checked, len(nodes))
}
