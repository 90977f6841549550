package hello

import (
	"context"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/smbvfs/smbvfs/backends/vfs"
)

// inbox is a folder that accepts files. A file's content is kept while
// it is being written and handed to a callback when its writer closes it;
// it then stays listed (and readable) until it is removed.
//
// It implements only what it supports: Lookuper, DirReader, Creator and
// Remover. Without Mkdirer or Renamer the server refuses those requests.
type inbox struct {
	id      uint64
	receive func(name string, data []byte)

	mu      sync.Mutex // guards everything below and all letters
	letters map[string]*letter
	order   []*letter // by seq, the listing order
	lastSeq uint64
}

// maxLetter bounds the size of a letter, which is held in memory.
const maxLetter = 64 << 20

// letter is one file of the inbox.
type letter struct {
	in       *inbox
	id, seq  uint64
	name     string
	data     []byte
	modified time.Time
}

func newInbox(receive func(string, []byte)) *inbox {
	if receive == nil {
		receive = func(string, []byte) {}
	}
	return &inbox{id: vfs.NewID(), receive: receive, letters: make(map[string]*letter)}
}

func (in *inbox) Attr(context.Context) (vfs.Attr, error) {
	return vfs.Attr{ID: in.id, DOS: vfs.DOSDirectory}, nil
}

func (in *inbox) Lookup(_ context.Context, name string) (vfs.Node, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if l := in.letters[name]; l != nil {
		return l, nil
	}
	return nil, vfs.ErrNotExist
}

// ReadDir lists in arrival order, using each letter's sequence number as
// its cookie so that a listing survives letters coming and going.
func (in *inbox) ReadDir(_ context.Context, cookie uint64, n int) ([]vfs.DirEntry, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	i := sort.Search(len(in.order), func(i int) bool { return in.order[i].seq > cookie })
	var out []vfs.DirEntry
	for ; i < len(in.order) && len(out) < n; i++ {
		l := in.order[i]
		out = append(out, vfs.DirEntry{Name: l.name, Attr: l.attr(len(l.data)), Cookie: l.seq})
	}
	return out, nil
}

func (in *inbox) Create(_ context.Context, name string) (vfs.Node, vfs.Handle, error) {
	if !vfs.ValidName(name) {
		return nil, nil, vfs.ErrInvalidName
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.letters[name] != nil {
		return nil, nil, vfs.ErrExist
	}
	in.lastSeq++
	l := &letter{in: in, id: vfs.NewID(), seq: in.lastSeq, name: name, modified: time.Now()}
	in.letters[name] = l
	in.order = append(in.order, l)
	return l, &draft{letter: l, write: true}, nil
}

func (in *inbox) Remove(_ context.Context, name string) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	l := in.letters[name]
	if l == nil {
		return vfs.ErrNotExist
	}
	delete(in.letters, name)
	in.order = slices.DeleteFunc(in.order, func(x *letter) bool { return x == l })
	return nil
}

// RemoveDir: the inbox holds no directories.
func (in *inbox) RemoveDir(ctx context.Context, name string) error {
	if _, err := in.Lookup(ctx, name); err != nil {
		return err
	}
	return vfs.ErrNotDir
}

func (l *letter) attr(size int) vfs.Attr {
	return vfs.Attr{ID: l.id, Size: int64(size), DOS: vfs.DOSArchive,
		Created: l.modified, Accessed: l.modified, Modified: l.modified, Changed: l.modified}
}

func (l *letter) Attr(context.Context) (vfs.Attr, error) {
	l.in.mu.Lock()
	defer l.in.mu.Unlock()
	return l.attr(len(l.data)), nil
}

// Open gives the handle its own copy of the content: what it writes is
// published when it is closed.
func (l *letter) Open(_ context.Context, flags vfs.OpenFlag) (vfs.Handle, error) {
	l.in.mu.Lock()
	defer l.in.mu.Unlock()
	return &draft{letter: l, data: slices.Clone(l.data), write: flags&vfs.OpenWrite != 0}, nil
}

// draft is an open letter.
type draft struct {
	letter *letter
	write  bool

	mu      sync.Mutex
	data    []byte
	written bool
}

func (d *draft) ReadAt(_ context.Context, p []byte, off int64) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return vfs.ReadAt(d.data, p, off)
}

func (d *draft) WriteAt(_ context.Context, p []byte, off int64) (int, error) {
	if !d.write {
		return 0, vfs.ErrPermission
	}
	if off < 0 {
		return 0, vfs.ErrInvalid
	}
	if off+int64(len(p)) > maxLetter {
		return 0, vfs.ErrNoSpace
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if end := int(off) + len(p); end > len(d.data) {
		d.data = append(d.data, make([]byte, end-len(d.data))...)
	}
	copy(d.data[off:], p)
	d.written = true
	return len(p), nil
}

func (d *draft) Truncate(_ context.Context, size int64) error {
	if !d.write {
		return vfs.ErrPermission
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if size < 0 {
		return vfs.ErrInvalid
	}
	if size > maxLetter {
		return vfs.ErrNoSpace
	}
	d.data = append(d.data[:min(int(size), len(d.data))], make([]byte, max(0, int(size)-len(d.data)))...)
	d.written = true
	return nil
}

func (d *draft) Stat(context.Context) (vfs.Attr, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.letter.attr(len(d.data)), nil
}

// Close publishes what was written and hands it to the callback.
func (d *draft) Close(context.Context) error {
	d.mu.Lock()
	data, written := d.data, d.written
	d.written = false
	d.mu.Unlock()
	if !written {
		return nil
	}
	l := d.letter
	l.in.mu.Lock()
	l.data, l.modified = slices.Clone(data), time.Now()
	l.in.mu.Unlock()
	l.in.receive(l.name, slices.Clone(data))
	return nil
}

var (
	_ vfs.Lookuper        = (*inbox)(nil)
	_ vfs.DirReader       = (*inbox)(nil)
	_ vfs.Creator         = (*inbox)(nil)
	_ vfs.Remover         = (*inbox)(nil)
	_ vfs.Opener          = (*letter)(nil)
	_ vfs.HandleWriter    = (*draft)(nil)
	_ vfs.HandleTruncater = (*draft)(nil)
	_ vfs.HandleStater    = (*draft)(nil)
)
