package vfs

import (
	"context"
	"io"
	"time"
)

// NewFS returns an FS whose root is root.
func NewFS(root Node) FS { return staticFS{root} }

type staticFS struct{ root Node }

func (s staticFS) Root(context.Context) (Node, error) { return s.root, nil }

// Child names a node in a Dir.
type Child struct {
	Name string
	Node Node
}

// Dir is a read-only directory with a fixed list of children, listed in
// the order given. Build one with NewDir.
type Dir struct {
	ReadOnlyDir
	id       uint64
	created  time.Time
	children []Child
	index    map[string]int
}

// NewDir returns a directory listing children. It panics on an invalid or
// duplicate name, which is a programming error.
func NewDir(children ...Child) *Dir {
	d := &Dir{id: NewID(), created: time.Now(), children: children, index: make(map[string]int)}
	for i, c := range children {
		if _, dup := d.index[c.Name]; dup || !ValidName(c.Name) || c.Node == nil {
			panic("vfs.NewDir: invalid or duplicate child " + c.Name)
		}
		d.index[c.Name] = i
	}
	return d
}

func (d *Dir) Attr(context.Context) (Attr, error) {
	return Attr{ID: d.id, DOS: DOSDirectory | DOSReadOnly,
		Created: d.created, Accessed: d.created, Modified: d.created, Changed: d.created}, nil
}

func (d *Dir) Lookup(_ context.Context, name string) (Node, error) {
	if i, ok := d.index[name]; ok {
		return d.children[i].Node, nil
	}
	return nil, ErrNotExist
}

func (d *Dir) LookupFold(ctx context.Context, name string) (Node, string, error) {
	if n, err := d.Lookup(ctx, name); err == nil {
		return n, name, nil
	}
	key := FoldName(name)
	for _, c := range d.children {
		if FoldName(c.Name) == key {
			return c.Node, c.Name, nil
		}
	}
	return nil, "", ErrNotExist
}

// ReadDir uses the position in the list as cookie.
func (d *Dir) ReadDir(ctx context.Context, cookie uint64, n int) ([]DirEntry, error) {
	if cookie > uint64(len(d.children)) {
		return nil, ErrInvalid
	}
	var out []DirEntry
	for i := int(cookie); i < len(d.children) && len(out) < n; i++ {
		a, err := d.children[i].Node.Attr(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, DirEntry{Name: d.children[i].Name, Attr: a, Cookie: uint64(i + 1)})
	}
	return out, nil
}

// File is a read-only file whose content is a byte slice or is computed by
// a function each time the file is opened or its attributes are read.
type File struct {
	ReadOnlyFile
	id      uint64
	created time.Time
	content func(context.Context) ([]byte, error)
}

// BytesFile returns a read-only file holding data (which must not change).
func BytesFile(data []byte) *File {
	return FuncFile(func(context.Context) ([]byte, error) { return data, nil })
}

// FuncFile returns a read-only file whose content is content(ctx), computed
// when the file is opened (each handle reads a consistent snapshot) and
// when its attributes are read (to report the size).
func FuncFile(content func(ctx context.Context) ([]byte, error)) *File {
	return &File{id: NewID(), created: time.Now(), content: content}
}

func (f *File) Attr(ctx context.Context) (Attr, error) {
	data, err := f.content(ctx)
	if err != nil {
		return Attr{}, err
	}
	return f.attr(data), nil
}

func (f *File) attr(data []byte) Attr {
	return Attr{ID: f.id, Size: int64(len(data)), DOS: DOSReadOnly,
		Created: f.created, Accessed: f.created, Modified: f.created, Changed: f.created}
}

func (f *File) Open(ctx context.Context, flags OpenFlag) (Handle, error) {
	if flags&OpenWrite != 0 {
		return nil, ErrReadOnly
	}
	data, err := f.content(ctx)
	if err != nil {
		return nil, err
	}
	return &bytesHandle{data: data, attr: f.attr(data)}, nil
}

// bytesHandle reads a snapshot of the content.
type bytesHandle struct {
	data []byte
	attr Attr
}

func (h *bytesHandle) ReadAt(_ context.Context, p []byte, off int64) (int, error) {
	return ReadAt(h.data, p, off)
}

func (h *bytesHandle) Stat(context.Context) (Attr, error) { return h.attr, nil }
func (h *bytesHandle) Close(context.Context) error        { return nil }

// ReadAt reads data into p from offset off with io.ReaderAt semantics: a
// helper for handles that hold their content in memory.
func ReadAt(data, p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, ErrInvalid
	}
	if off >= int64(len(data)) {
		return 0, io.EOF
	}
	n := copy(p, data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

var (
	_ Lookuper     = (*Dir)(nil)
	_ FoldLookuper = (*Dir)(nil)
	_ DirReader    = (*Dir)(nil)
	_ Opener       = (*File)(nil)
	_ HandleStater = (*bytesHandle)(nil)
)
