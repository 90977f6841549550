package vfstest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/smbvfs/smbvfs/backends/vfs"
)

func writeAt(t *testing.T, h vfs.Handle, p string, off int64) {
	t.Helper()
	w, ok := h.(vfs.HandleWriter)
	if !ok {
		t.Fatalf("handle is not a HandleWriter")
	}
	if n, err := w.WriteAt(ctxT(t), []byte(p), off); err != nil || n != len(p) {
		t.Fatalf("WriteAt(%q, %d) = %d, %v", p, off, n, err)
	}
}

func testCreateWriteRead(t *testing.T, s *suite) {
	_, dir := s.scratch(t)
	ctx := ctxT(t)
	n, h, err := dir.(vfs.Creator).Create(ctx, "a.txt")
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if _, ok := h.(vfs.HandleWriter); !ok {
		h.Close(ctx)
		s.skip(t, "handles from Create are not HandleWriters")
	}
	writeAt(t, h, "hello world", 0)
	writeAt(t, h, "WORLD", 6)
	writeAt(t, h, "!", 13) // leaves a hole at 11..12
	want := []byte("hello WORLD\x00\x00!")
	if got := readAll(t, h); !bytes.Equal(got, want) {
		t.Errorf("read back %q, want %q", got, want)
	}
	buf := make([]byte, 5)
	if m, err := h.ReadAt(ctx, buf, 6); m != 5 || err != nil && err != io.EOF || string(buf) != "WORLD" {
		t.Errorf("ReadAt(5 at 6) = %d, %v, %q", m, err, buf)
	}
	if st, ok := h.(vfs.HandleStater); ok {
		a, err := st.Stat(ctx)
		if err != nil || a.Size != int64(len(want)) {
			t.Errorf("Stat = size %d, %v; want %d", a.Size, err, len(want))
		}
	}
	if tr, ok := h.(vfs.HandleTruncater); ok {
		if err := tr.Truncate(ctx, 5); err != nil {
			t.Fatalf("Truncate(5): %v", err)
		}
		if err := tr.Truncate(ctx, 8); err != nil {
			t.Fatalf("Truncate(8): %v", err)
		}
		want = []byte("hello\x00\x00\x00")
		if got := readAll(t, h); !bytes.Equal(got, want) {
			t.Errorf("after truncate read %q, want %q", got, want)
		}
	} else {
		t.Logf("handle is not a HandleTruncater: truncation not tested")
	}
	if sy, ok := h.(vfs.HandleSyncer); ok {
		if err := sy.Sync(ctx); err != nil {
			t.Errorf("Sync: %v", err)
		}
	}
	if err := h.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}

	a := attr(t, n)
	if a.IsDir() || a.Size != int64(len(want)) || a.ID == 0 {
		t.Errorf("Attr after close: %+v, want a file of %d bytes", a, len(want))
	}
	again := lookup(t, dir, "a.txt")
	if id := attr(t, again).ID; id != a.ID {
		t.Errorf("Lookup gives ID %d, Create gave %d", id, a.ID)
	}
	if got := contents(t, again); !bytes.Equal(got, want) {
		t.Errorf("reopened content %q, want %q", got, want)
	}
	_, _, err = dir.(vfs.Creator).Create(ctx, "a.txt")
	wantErr(t, err, vfs.ErrExist, "Create of an existing name")

	found := false
	for _, e := range list(t, dir, 100) {
		if e.Name == "a.txt" {
			found = true
			if e.Attr.ID != a.ID || e.Attr.Size != a.Size {
				t.Errorf("listed as %+v, Attr is %+v", e.Attr, a)
			}
		}
	}
	if !found {
		t.Errorf("a.txt is not listed")
	}

	// Reopen for writing and overwrite in place.
	h, err = again.(vfs.Opener).Open(ctx, vfs.OpenRead|vfs.OpenWrite)
	if err != nil {
		t.Fatalf("Open for writing: %v", err)
	}
	writeAt(t, h, "J", 0)
	if err := h.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got := contents(t, again); got[0] != 'J' || len(got) != len(want) {
		t.Errorf("after overwrite: %q", got)
	}
}

func testInvalidNames(t *testing.T, s *suite) {
	_, dir := s.scratch(t)
	for _, name := range []string{"", ".", "..", "a/b", `a\b`, "a\x00b", "/", "\xff\xfe"} {
		_, h, err := dir.(vfs.Creator).Create(ctxT(t), name)
		if err == nil {
			h.Close(ctxT(t))
		}
		wantErr(t, err, vfs.ErrInvalidName, "Create(%q)", name)
		if m, ok := dir.(vfs.Mkdirer); ok {
			_, err := m.Mkdir(ctxT(t), name)
			wantErr(t, err, vfs.ErrInvalidName, "Mkdir(%q)", name)
		}
	}
}

func testRemove(t *testing.T, s *suite) {
	_, dir := s.scratch(t)
	r, ok := dir.(vfs.Remover)
	if !ok {
		s.skip(t, "scratch directory is not a Remover")
	}
	ctx := ctxT(t)
	n := create(t, dir, "gone.txt", []byte("still here"))
	h, err := n.(vfs.Opener).Open(ctx, vfs.OpenRead)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer h.Close(ctx)
	if err := r.Remove(ctx, "gone.txt"); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	_, err = dir.(vfs.Lookuper).Lookup(ctx, "gone.txt")
	wantErr(t, err, vfs.ErrNotExist, "Lookup after Remove")
	wantErr(t, r.Remove(ctx, "gone.txt"), vfs.ErrNotExist, "second Remove")
	for _, e := range list(t, dir, 100) {
		if e.Name == "gone.txt" {
			t.Errorf("removed file still listed")
		}
	}
	if got := readAll(t, h); string(got) != "still here" {
		t.Errorf("handle open across Remove reads %q", got)
	}
	// The name can be reused.
	create(t, dir, "gone.txt", []byte("new"))
	if got := contents(t, lookup(t, dir, "gone.txt")); string(got) != "new" {
		t.Errorf("recreated file reads %q", got)
	}
}

func testMkdir(t *testing.T, s *suite) {
	_, dir := s.scratch(t)
	m, ok := dir.(vfs.Mkdirer)
	if !ok {
		s.skip(t, "scratch directory is not a Mkdirer")
	}
	ctx := ctxT(t)
	sub, err := m.Mkdir(ctx, "sub")
	if err != nil {
		t.Fatalf("Mkdir: %v", err)
	}
	if a := attr(t, sub); !a.IsDir() || a.ID == 0 {
		t.Errorf("new directory has attributes %+v", a)
	}
	_, err = m.Mkdir(ctx, "sub")
	wantErr(t, err, vfs.ErrExist, "Mkdir of an existing name")
	create(t, dir, "file", nil)
	_, err = m.Mkdir(ctx, "file")
	wantErr(t, err, vfs.ErrExist, "Mkdir over a file")
	if got := list(t, sub, 10); len(got) != 0 {
		t.Errorf("new directory lists %q", names(got))
	}
	create(t, sub, "inner", []byte("x"))
	if got := names(list(t, sub, 10)); len(got) != 1 || got[0] != "inner" {
		t.Errorf("directory lists %q, want [inner]", got)
	}
	r, ok := dir.(vfs.Remover)
	if !ok {
		t.Logf("not a Remover: removal of directories not tested")
		return
	}
	wantErr(t, r.RemoveDir(ctx, "sub"), vfs.ErrNotEmpty, "RemoveDir of a non-empty directory")
	wantErr(t, r.Remove(ctx, "sub"), vfs.ErrIsDir, "Remove of a directory")
	wantErr(t, r.RemoveDir(ctx, "file"), vfs.ErrNotDir, "RemoveDir of a file")
	if err := sub.(vfs.Remover).Remove(ctx, "inner"); err != nil {
		t.Fatalf("Remove(inner): %v", err)
	}
	if err := r.RemoveDir(ctx, "sub"); err != nil {
		t.Fatalf("RemoveDir: %v", err)
	}
	_, err = dir.(vfs.Lookuper).Lookup(ctx, "sub")
	wantErr(t, err, vfs.ErrNotExist, "Lookup after RemoveDir")
	wantErr(t, r.RemoveDir(ctx, "sub"), vfs.ErrNotExist, "second RemoveDir")
}

func testRename(t *testing.T, s *suite) {
	_, dir := s.scratch(t)
	r, ok := dir.(vfs.Renamer)
	if !ok {
		s.skip(t, "scratch directory is not a Renamer")
	}
	ctx := ctxT(t)
	id := attr(t, create(t, dir, "a", []byte("A"))).ID
	create(t, dir, "b", []byte("B"))
	if err := r.Rename(ctx, "a", dir, "c", false); err != nil {
		t.Fatalf("Rename(a, c): %v", err)
	}
	_, err := dir.(vfs.Lookuper).Lookup(ctx, "a")
	wantErr(t, err, vfs.ErrNotExist, "Lookup of the old name")
	c := lookup(t, dir, "c")
	if got := attr(t, c).ID; got != id {
		t.Errorf("rename changed the ID from %d to %d", id, got)
	}
	wantErr(t, r.Rename(ctx, "c", dir, "b", false), vfs.ErrExist, "Rename onto an existing name without replace")
	wantErr(t, r.Rename(ctx, "missing", dir, "z", false), vfs.ErrNotExist, "Rename of a missing name")
	if err := r.Rename(ctx, "c", dir, "b", true); err != nil {
		t.Fatalf("Rename(c, b, replace): %v", err)
	}
	if got := contents(t, lookup(t, dir, "b")); string(got) != "A" {
		t.Errorf("replaced file reads %q, want A", got)
	}
	if got := names(list(t, dir, 100)); len(got) != 1 || got[0] != "b" {
		t.Errorf("after renames the directory lists %q, want [b]", got)
	}
	wantErr(t, r.Rename(ctx, "b", dir, "b/x", false), vfs.ErrInvalidName, "Rename to a path")
	wantErr(t, r.Rename(ctx, "b", dir, "a\x00", false), vfs.ErrInvalidName, "Rename to an invalid name")

	m, ok := dir.(vfs.Mkdirer)
	if !ok {
		t.Logf("not a Mkdirer: renames between directories not tested")
		return
	}
	sub, err := m.Mkdir(ctx, "sub")
	if err != nil {
		t.Fatalf("Mkdir: %v", err)
	}
	if err := r.Rename(ctx, "b", sub, "moved", false); err != nil {
		t.Fatalf("Rename into a subdirectory: %v", err)
	}
	if got := contents(t, lookup(t, sub, "moved")); string(got) != "A" {
		t.Errorf("moved file reads %q", got)
	}
	create(t, dir, "f", nil)
	wantErr(t, r.Rename(ctx, "f", dir, "sub", true), vfs.ErrExist, "Rename onto a directory")
	inner, err := sub.(vfs.Mkdirer).Mkdir(ctx, "inner")
	if err != nil {
		t.Fatalf("Mkdir(inner): %v", err)
	}
	wantErr(t, r.Rename(ctx, "sub", inner, "loop", false), vfs.ErrInvalid, "Rename of a directory into itself")
	if err := r.Rename(ctx, "sub", dir, "sub2", false); err != nil {
		t.Fatalf("Rename of a directory: %v", err)
	}
	if got := contents(t, lookup(t, lookup(t, dir, "sub2"), "moved")); string(got) != "A" {
		t.Errorf("file in renamed directory reads %q", got)
	}
}

func testLink(t *testing.T, s *suite) {
	_, dir := s.scratch(t)
	l, ok := dir.(vfs.Linker)
	if !ok {
		s.skip(t, "scratch directory is not a Linker")
	}
	ctx := ctxT(t)
	f := create(t, dir, "f", []byte("data"))
	err := l.Link(ctx, f, "g")
	s.skipUnsupported(t, err, "Link")
	if err != nil {
		t.Fatalf("Link: %v", err)
	}
	g := lookup(t, dir, "g")
	fa, ga := attr(t, f), attr(t, g)
	if fa.ID != ga.ID {
		t.Errorf("hard links have IDs %d and %d", fa.ID, ga.ID)
	}
	if ga.Links != 0 && ga.Links != 2 {
		t.Errorf("Links = %d, want 2", ga.Links)
	}
	wantErr(t, l.Link(ctx, f, "g"), vfs.ErrExist, "Link onto an existing name")
	h, err := g.(vfs.Opener).Open(ctx, vfs.OpenWrite|vfs.OpenRead)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	writeAt(t, h, "DA", 0)
	h.Close(ctx)
	if got := contents(t, lookup(t, dir, "f")); string(got) != "DAta" {
		t.Errorf("write through one link, the other reads %q", got)
	}
	if r, ok := dir.(vfs.Remover); ok {
		if err := r.Remove(ctx, "f"); err != nil {
			t.Fatalf("Remove: %v", err)
		}
		if got := contents(t, lookup(t, dir, "g")); string(got) != "DAta" {
			t.Errorf("after removing one link the other reads %q", got)
		}
	}
	if m, ok := dir.(vfs.Mkdirer); ok {
		d, err := m.Mkdir(ctx, "d")
		if err != nil {
			t.Fatalf("Mkdir: %v", err)
		}
		wantErr(t, l.Link(ctx, d, "dlink"), vfs.ErrIsDir, "Link of a directory")
	}
}

func testSetAttr(t *testing.T, s *suite) {
	_, dir := s.scratch(t)
	ctx := ctxT(t)
	f := create(t, dir, "f", []byte("x"))
	a, ok := f.(vfs.AttrSetter)
	if !ok {
		s.skip(t, "files are not AttrSetters")
	}
	mod := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	acc := time.Date(2002, 2, 3, 4, 5, 6, 0, time.UTC)
	if err := a.SetAttr(ctx, vfs.AttrChange{Modified: mod, Accessed: acc}); err != nil {
		t.Fatalf("SetAttr(times): %v", err)
	}
	got := attr(t, f)
	if !got.Modified.Equal(mod) || !got.Accessed.Equal(acc) {
		t.Errorf("times are modified %v accessed %v, want %v and %v", got.Modified, got.Accessed, mod, acc)
	}
	// Zero values change nothing.
	if err := a.SetAttr(ctx, vfs.AttrChange{}); err != nil {
		t.Fatalf("SetAttr(nothing): %v", err)
	}
	if again := attr(t, f); !again.Modified.Equal(mod) || again.DOS != got.DOS {
		t.Errorf("an empty change changed %+v into %+v", got, again)
	}
	created := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	switch err := a.SetAttr(ctx, vfs.AttrChange{Created: created}); {
	case errors.Is(err, vfs.ErrNotSupported):
		t.Logf("creation time cannot be stored: %v", err)
	case err != nil:
		t.Errorf("SetAttr(created): %v", err)
	default:
		if c := attr(t, f).Created; !c.Equal(created) {
			t.Errorf("creation time is %v, want %v", c, created)
		}
	}
	for _, bit := range []vfs.DOSAttr{vfs.DOSReadOnly, vfs.DOSHidden, vfs.DOSSystem, vfs.DOSArchive} {
		err := a.SetAttr(ctx, vfs.AttrChange{Set: bit})
		if errors.Is(err, vfs.ErrNotSupported) {
			t.Logf("attribute %v cannot be stored: %v", bit, err)
			continue
		}
		if err != nil {
			t.Errorf("SetAttr(set %v): %v", bit, err)
			continue
		}
		if d := attr(t, f).DOS; d&bit == 0 {
			t.Errorf("after setting %v the attributes are %v", bit, d)
		}
		if err := a.SetAttr(ctx, vfs.AttrChange{Clear: bit}); err != nil {
			t.Errorf("SetAttr(clear %v): %v", bit, err)
		} else if d := attr(t, f).DOS; d&bit != 0 {
			t.Errorf("after clearing %v the attributes are %v", bit, d)
		}
	}
	_ = a.SetAttr(ctx, vfs.AttrChange{Set: vfs.DOSDirectory})
	if attr(t, f).IsDir() {
		t.Errorf("setting DOSDirectory made a file a directory")
	}
}

func testFoldLookup(t *testing.T, s *suite) {
	_, dir := s.scratch(t)
	f, ok := dir.(vfs.FoldLookuper)
	if !ok {
		s.skip(t, "scratch directory is not a FoldLookuper")
	}
	id := attr(t, create(t, dir, "MixedCase.Txt", nil)).ID
	n, stored, err := f.LookupFold(ctxT(t), "mixedcase.TXT")
	if err != nil {
		t.Fatalf("LookupFold: %v", err)
	}
	if stored != "MixedCase.Txt" || attr(t, n).ID != id {
		t.Errorf("LookupFold found %q (ID %d), want MixedCase.Txt (ID %d)", stored, attr(t, n).ID, id)
	}
	_, _, err = f.LookupFold(ctxT(t), "other.txt")
	wantErr(t, err, vfs.ErrNotExist, "LookupFold of a missing name")
}

// testManyEntries lists a large directory a few entries at a time, resumes
// from saved cookies, and lists while entries come and go.
func testManyEntries(t *testing.T, s *suite) {
	_, dir := s.scratch(t)
	ctx := ctxT(t)
	if m, ok := dir.(vfs.Mkdirer); ok {
		sub, err := m.Mkdir(ctx, "many")
		if err != nil {
			t.Fatalf("Mkdir: %v", err)
		}
		dir = sub
	}
	n := s.cfg.many
	for i := range n {
		create(t, dir, fmt.Sprintf("entry-%05d", i), nil)
	}
	all := list(t, dir, 7)
	if len(all) != n {
		t.Fatalf("listed %d entries, created %d", len(all), n)
	}
	seen := make(map[string]bool)
	for _, e := range all {
		if seen[e.Name] {
			t.Fatalf("%q listed twice", e.Name)
		}
		seen[e.Name] = true
	}
	// Resume from a cookie saved midway, as a server does after a pause.
	r := dir.(vfs.DirReader)
	mid := all[n/2-1].Cookie
	rest, err := r.ReadDir(ctx, mid, n)
	if err != nil {
		t.Fatalf("ReadDir(mid): %v", err)
	}
	for len(rest) < n-n/2 {
		more, err := r.ReadDir(ctx, rest[len(rest)-1].Cookie, n)
		if err != nil || len(more) == 0 {
			break
		}
		rest = append(rest, more...)
	}
	if got, want := names(rest), names(all[n/2:]); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("resuming at entry %d gives %d entries, want %d", n/2, len(got), len(want))
	}

	rm, ok := dir.(vfs.Remover)
	if !ok {
		t.Logf("not a Remover: listing during removals not tested")
		return
	}
	// List while removing every third entry and adding new ones.
	removed := make(map[string]bool)
	var got []vfs.DirEntry
	var cookie uint64
	for page := 0; ; page++ {
		ents, err := r.ReadDir(ctx, cookie, 50)
		if err != nil {
			t.Fatalf("ReadDir: %v", err)
		}
		if len(ents) == 0 {
			break
		}
		got = append(got, ents...)
		cookie = ents[len(ents)-1].Cookie
		if page < 5 {
			for i := page; i < n; i += 15 {
				name := fmt.Sprintf("entry-%05d", i)
				if err := rm.Remove(ctx, name); err != nil {
					t.Fatalf("Remove(%s): %v", name, err)
				}
				removed[name] = true
			}
			create(t, dir, fmt.Sprintf("added-%d", page), nil)
		}
	}
	count := make(map[string]int)
	for _, e := range got {
		count[e.Name]++
	}
	for name, c := range count {
		if c > 1 {
			t.Errorf("%q listed %d times during changes", name, c)
		}
	}
	for i := range n {
		name := fmt.Sprintf("entry-%05d", i)
		if !removed[name] && count[name] != 1 {
			t.Errorf("%q, present throughout, listed %d times", name, count[name])
		}
	}
}

// testConcurrentWriters has many goroutines create, write, read, list and
// remove at once (run it with -race).
func testConcurrentWriters(t *testing.T, s *suite) {
	_, dir := s.scratch(t)
	ctx := ctxT(t)
	before := len(list(t, dir, 64))
	shared := create(t, dir, "shared", bytes.Repeat([]byte("s"), 4096))
	_, canRemove := dir.(vfs.Remover)
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 20 {
				name := fmt.Sprintf("w%d-%d", g, i)
				n, h, err := dir.(vfs.Creator).Create(ctx, name)
				if err != nil {
					t.Errorf("Create(%s): %v", name, err)
					return
				}
				want := []byte(name)
				if w, ok := h.(vfs.HandleWriter); ok {
					if _, err := w.WriteAt(ctx, want, 0); err != nil {
						t.Errorf("WriteAt(%s): %v", name, err)
					}
				} else {
					want = nil
				}
				buf := make([]byte, 64)
				m, err := h.ReadAt(ctx, buf, 0)
				if err != nil && err != io.EOF || !bytes.Equal(buf[:m], want) {
					t.Errorf("%s reads %q, %v", name, buf[:m], err)
				}
				h.Close(ctx)
				if _, err := n.Attr(ctx); err != nil {
					t.Errorf("Attr(%s): %v", name, err)
				}
				if sh, err := shared.(vfs.Opener).Open(ctx, vfs.OpenRead); err == nil {
					m, err := sh.ReadAt(ctx, buf, int64(i*10))
					if m != len(buf) || err != nil || buf[0] != 's' {
						t.Errorf("shared ReadAt = %d, %v", m, err)
					}
					sh.Close(ctx)
				} else {
					t.Errorf("Open(shared): %v", err)
				}
				if i%5 == 0 {
					if _, err := dir.(vfs.DirReader).ReadDir(ctx, 0, 10); err != nil {
						t.Errorf("ReadDir: %v", err)
					}
				}
				if canRemove && i%2 == 0 {
					if err := dir.(vfs.Remover).Remove(ctx, name); err != nil {
						t.Errorf("Remove(%s): %v", name, err)
					}
				}
			}
		})
	}
	wg.Wait()
	want := before + 1 + 16*20
	if canRemove {
		want = before + 1 + 16*10
	}
	if got := len(list(t, dir, 64)); got != want {
		t.Errorf("after concurrent work the directory lists %d entries, want %d", got, want)
	}
}
