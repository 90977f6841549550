package vfs

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// ValidName reports whether name can name a directory entry: not empty,
// not "." or "..", valid UTF-8, and without '/', '\\' or NUL. The server
// checks this before calling a backend; backends may check it again.
// Backends apply their own further rules (length, reserved names) and
// report them as ErrInvalidName.
func ValidName(name string) bool {
	if name == "" || name == "." || name == ".." || !utf8.ValidString(name) {
		return false
	}
	return !strings.ContainsAny(name, "/\\\x00")
}

// FoldName maps a name to the key under which case-insensitive lookups
// compare it, the way Windows does (upper case).
func FoldName(name string) string { return strings.ToUpper(name) }

var lastID atomic.Uint64

// NewID returns a file ID unique in this process, for virtual nodes. IDs
// from NewID have the top bit set, so they never collide with inode numbers
// of a real filesystem mixed into the same tree.
func NewID() uint64 { return 1<<63 | lastID.Add(1) }

// ReadOnlyDir can be embedded in a directory node to declare it read-only:
// every change to it reports ErrReadOnly.
type ReadOnlyDir struct{ ReadOnlyFile }

func (ReadOnlyDir) Create(context.Context, string) (Node, Handle, error) {
	return nil, nil, ErrReadOnly
}
func (ReadOnlyDir) Mkdir(context.Context, string) (Node, error) { return nil, ErrReadOnly }
func (ReadOnlyDir) Remove(context.Context, string) error        { return ErrReadOnly }
func (ReadOnlyDir) RemoveDir(context.Context, string) error     { return ErrReadOnly }
func (ReadOnlyDir) Link(context.Context, Node, string) error    { return ErrReadOnly }
func (ReadOnlyDir) Rename(context.Context, string, Node, string, bool) error {
	return ErrReadOnly
}

// ReadOnlyFile can be embedded in a file node to declare it read-only: its
// attributes cannot be changed (and its Open should refuse OpenWrite).
type ReadOnlyFile struct{}

func (ReadOnlyFile) SetAttr(context.Context, AttrChange) error { return ErrReadOnly }

var (
	_ Creator    = ReadOnlyDir{}
	_ Mkdirer    = ReadOnlyDir{}
	_ Remover    = ReadOnlyDir{}
	_ Renamer    = ReadOnlyDir{}
	_ Linker     = ReadOnlyDir{}
	_ AttrSetter = ReadOnlyFile{}
)

// Notifier implements Watcher for a backend: the backend embeds (or holds)
// one and calls Notify after each change. The zero value is ready to use.
type Notifier struct {
	mu       sync.Mutex
	watchers map[*func(Change)]struct{}
	count    atomic.Int32
}

// Watch registers fn until ctx is done.
func (n *Notifier) Watch(ctx context.Context, fn func(Change)) error {
	if fn == nil {
		return ErrInvalid
	}
	key := &fn
	n.mu.Lock()
	if n.watchers == nil {
		n.watchers = make(map[*func(Change)]struct{})
	}
	n.watchers[key] = struct{}{}
	n.count.Add(1)
	n.mu.Unlock()
	context.AfterFunc(ctx, func() {
		n.mu.Lock()
		delete(n.watchers, key)
		n.count.Add(-1)
		n.mu.Unlock()
	})
	return nil
}

// Watching reports whether anyone watches, so a backend can skip building
// Change values nobody would see.
func (n *Notifier) Watching() bool { return n.count.Load() > 0 }

// Notify calls every registered watcher with c. Call it without holding
// locks that watchers could need.
func (n *Notifier) Notify(c Change) {
	if !n.Watching() {
		return
	}
	n.mu.Lock()
	fns := make([]func(Change), 0, len(n.watchers))
	for fn := range n.watchers {
		fns = append(fns, *fn)
	}
	n.mu.Unlock()
	for _, fn := range fns {
		fn(c)
	}
}

var _ Watcher = (*Notifier)(nil)
