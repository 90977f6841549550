// Package vfstest is the conformance suite every backend runs against
// itself:
//
//	func TestConformance(t *testing.T) {
//		vfstest.Run(t, func(t *testing.T) vfs.FS { return memfs.New(memfs.Options{}) })
//	}
//
// The suite walks whatever tree the backend holds (lookups, listings with
// resume, reads at offsets, concurrent readers) and, unless the backend is
// declared read-only, creates its own files in a scratch directory to test
// writes, truncation, renames, removal, links, attributes, streams,
// extended attributes, security descriptors and change notification.
// Capabilities are detected by type assertion; a capability the suite
// cannot test is reported with t.Skip, never passed silently, and a summary
// of what was tested is logged at the end.
package vfstest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/smbvfs/smbvfs/backends/vfs"
)

// Option adjusts the suite.
type Option func(*config)

type config struct {
	readOnly      bool
	readOnlyPaths []string
	scratch       string
	many          int
}

// ReadOnly declares the whole FS read-only: no change is attempted except
// to check that each one is refused with ErrReadOnly.
func ReadOnly() Option { return func(c *config) { c.readOnly = true } }

// ReadOnlyPaths declares that the nodes at these paths ("" is the root)
// refuse every change with ErrReadOnly, in an FS that is otherwise
// writable somewhere.
func ReadOnlyPaths(paths ...string) Option {
	return func(c *config) { c.readOnlyPaths = append(c.readOnlyPaths, paths...) }
}

// Scratch names the directory (a '/'-separated path from the root) where
// the suite creates its files; the default is the root.
func Scratch(path string) Option { return func(c *config) { c.scratch = path } }

// ManyEntries sets how many entries the resumable-listing test creates
// (default 1,200).
func ManyEntries(n int) Option { return func(c *config) { c.many = n } }

// Run runs the suite. newFS returns a fresh FS for each subtest; it should
// register its own cleanup with t.Cleanup.
func Run(t *testing.T, newFS func(t *testing.T) vfs.FS, opts ...Option) {
	cfg := config{many: 1200}
	for _, o := range opts {
		o(&cfg)
	}
	s := &suite{cfg: cfg, newFS: newFS, report: make(map[string]string)}
	tests := []struct {
		name string
		fn   func(t *testing.T, s *suite)
	}{
		{"Walk", testWalk},
		{"ConcurrentReaders", testConcurrentReaders},
		{"ReadOnly", testReadOnly},
		{"CreateWriteRead", testCreateWriteRead},
		{"InvalidNames", testInvalidNames},
		{"Remove", testRemove},
		{"Mkdir", testMkdir},
		{"Rename", testRename},
		{"Link", testLink},
		{"SetAttr", testSetAttr},
		{"FoldLookup", testFoldLookup},
		{"ManyEntries", testManyEntries},
		{"ConcurrentWriters", testConcurrentWriters},
		{"Streams", testStreams},
		{"Xattrs", testXattrs},
		{"Security", testSecurity},
		{"Volume", testVolume},
		{"Watch", testWatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, s)
			switch {
			case t.Failed():
				s.note(tc.name, "FAILED")
			case t.Skipped():
			default:
				s.note(tc.name, "tested")
			}
		})
	}
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(s.report)) {
		fmt.Fprintf(&b, "\n  %-18s %s", k, s.report[k])
	}
	t.Logf("vfstest capability report:%s", b.String())
}

type suite struct {
	cfg   config
	newFS func(t *testing.T) vfs.FS

	mu     sync.Mutex
	report map[string]string
}

func (s *suite) note(test, result string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.report[test] = result
}

// skip records why a test did not run and skips it.
func (s *suite) skip(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	s.note(strings.SplitN(t.Name(), "/", 3)[1], "skipped: "+msg)
	t.Skip(msg)
}

// skipUnsupported skips when err says the instance does not support a
// capability its type offers (e.g. no xattrs on this disk).
func (s *suite) skipUnsupported(t *testing.T, err error, what string) {
	t.Helper()
	if errors.Is(err, vfs.ErrNotSupported) {
		s.skip(t, "%s: backend reports ErrNotSupported (%v)", what, err)
	}
}

func (s *suite) writable(t *testing.T) {
	t.Helper()
	if s.cfg.readOnly {
		s.skip(t, "FS declared read-only")
	}
}

// scratch returns a fresh FS and its scratch directory, which must be a
// Creator; otherwise the test is skipped.
func (s *suite) scratch(t *testing.T) (vfs.FS, vfs.Node) {
	t.Helper()
	s.writable(t)
	fsys := s.newFS(t)
	dir := walkTo(t, fsys, s.cfg.scratch)
	if _, ok := dir.(vfs.Creator); !ok {
		s.skip(t, "scratch directory %q is not a vfs.Creator", s.cfg.scratch)
	}
	return fsys, dir
}

func ctxT(t *testing.T) context.Context { return t.Context() }

// walkTo resolves a '/'-separated path from the root.
func walkTo(t *testing.T, fsys vfs.FS, path string) vfs.Node {
	t.Helper()
	n, err := fsys.Root(ctxT(t))
	if err != nil {
		t.Fatalf("Root: %v", err)
	}
	for _, name := range strings.Split(path, "/") {
		if name == "" {
			continue
		}
		l, ok := n.(vfs.Lookuper)
		if !ok {
			t.Fatalf("walk %q: %q's parent is not a Lookuper", path, name)
		}
		if n, err = l.Lookup(ctxT(t), name); err != nil {
			t.Fatalf("walk %q: Lookup(%q): %v", path, name, err)
		}
	}
	return n
}

func attr(t *testing.T, n vfs.Node) vfs.Attr {
	t.Helper()
	a, err := n.Attr(ctxT(t))
	if err != nil {
		t.Fatalf("Attr: %v", err)
	}
	return a
}

func lookup(t *testing.T, dir vfs.Node, name string) vfs.Node {
	t.Helper()
	l, ok := dir.(vfs.Lookuper)
	if !ok {
		t.Fatalf("directory is not a Lookuper")
	}
	n, err := l.Lookup(ctxT(t), name)
	if err != nil {
		t.Fatalf("Lookup(%q): %v", name, err)
	}
	return n
}

func wantErr(t *testing.T, err, want error, format string, args ...any) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: got error %v, want %v", fmt.Sprintf(format, args...), err, want)
	}
}

// create makes a file holding content in dir and closes it.
func create(t *testing.T, dir vfs.Node, name string, content []byte) vfs.Node {
	t.Helper()
	n, h, err := dir.(vfs.Creator).Create(ctxT(t), name)
	if err != nil {
		t.Fatalf("Create(%q): %v", name, err)
	}
	if len(content) > 0 {
		w, ok := h.(vfs.HandleWriter)
		if !ok {
			h.Close(ctxT(t))
			t.Fatalf("Create(%q): handle is not a HandleWriter", name)
		}
		if m, err := w.WriteAt(ctxT(t), content, 0); err != nil || m != len(content) {
			t.Fatalf("WriteAt(%q): %d, %v", name, m, err)
		}
	}
	if err := h.Close(ctxT(t)); err != nil {
		t.Fatalf("Close(%q): %v", name, err)
	}
	return n
}

// readAll reads a handle from 0 to EOF in small chunks.
func readAll(t *testing.T, h vfs.Handle) []byte {
	t.Helper()
	var out []byte
	buf := make([]byte, 1000)
	for {
		n, err := h.ReadAt(ctxT(t), buf, int64(len(out)))
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("ReadAt(%d): %v", len(out), err)
		}
		if n == 0 {
			t.Fatalf("ReadAt(%d): 0 bytes and no error", len(out))
		}
	}
}

// contents opens a node for reading and returns all its data.
func contents(t *testing.T, n vfs.Node) []byte {
	t.Helper()
	o, ok := n.(vfs.Opener)
	if !ok {
		t.Fatalf("node is not an Opener")
	}
	h, err := o.Open(ctxT(t), vfs.OpenRead)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer h.Close(ctxT(t))
	return readAll(t, h)
}

// list reads a whole directory, n entries at a time.
func list(t *testing.T, dir vfs.Node, n int) []vfs.DirEntry {
	t.Helper()
	r, ok := dir.(vfs.DirReader)
	if !ok {
		t.Fatalf("directory is not a DirReader")
	}
	var out []vfs.DirEntry
	var cookie uint64
	for {
		ents, err := r.ReadDir(ctxT(t), cookie, n)
		if err != nil {
			t.Fatalf("ReadDir(cookie %d, %d): %v", cookie, n, err)
		}
		if len(ents) == 0 {
			return out
		}
		if len(ents) > n {
			t.Fatalf("ReadDir(cookie %d, %d) returned %d entries", cookie, n, len(ents))
		}
		out = append(out, ents...)
		cookie = ents[len(ents)-1].Cookie
		if len(out) > 1_000_000 {
			t.Fatalf("ReadDir never ends")
		}
	}
}

func names(ents []vfs.DirEntry) []string {
	out := make([]string, len(ents))
	for i, e := range ents {
		out[i] = e.Name
	}
	return out
}
