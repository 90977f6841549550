package vfs

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"path"
	"sync"
)

// FromFS adapts any io/fs.FS (embed.FS, os.DirFS, fstest.MapFS, a zip
// reader...) into a read-only FS. File IDs are hashes of the paths, so they
// are stable across restarts. Each ReadDir call reads the whole directory
// (io/fs offers nothing better): fine for the small trees io/fs usually
// holds.
func FromFS(fsys fs.FS) FS { return iofsFS{fsys} }

type iofsFS struct{ fsys fs.FS }

func (f iofsFS) Root(context.Context) (Node, error) { return &iofsNode{fsys: f.fsys, path: "."}, nil }

type iofsNode struct {
	ReadOnlyDir
	fsys fs.FS
	path string
}

// pathID hashes a path into an ID with bit 62 set and bit 63 clear, apart
// from both inode numbers and NewID.
func pathID(p string) uint64 {
	h := fnv.New64a()
	io.WriteString(h, p)
	return 1<<62 | h.Sum64()&(1<<62-1)
}

func infoAttr(p string, fi fs.FileInfo) Attr {
	a := Attr{ID: pathID(p), Size: fi.Size(), DOS: DOSReadOnly,
		Created: fi.ModTime(), Accessed: fi.ModTime(), Modified: fi.ModTime(), Changed: fi.ModTime()}
	if fi.IsDir() {
		a.Size = 0
		a.DOS |= DOSDirectory
	}
	return a
}

// fsErr translates io/fs errors into the contract's sentinels.
func fsErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w: %w", ErrNotExist, err)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%w: %w", ErrPermission, err)
	case errors.Is(err, fs.ErrInvalid):
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return err
}

func (n *iofsNode) Attr(context.Context) (Attr, error) {
	fi, err := fs.Stat(n.fsys, n.path)
	if err != nil {
		return Attr{}, fsErr(err)
	}
	return infoAttr(n.path, fi), nil
}

func (n *iofsNode) Lookup(_ context.Context, name string) (Node, error) {
	if !ValidName(name) {
		return nil, ErrInvalidName
	}
	p := path.Join(n.path, name)
	fi, err := fs.Stat(n.fsys, n.path)
	if err != nil {
		return nil, fsErr(err)
	}
	if !fi.IsDir() {
		return nil, ErrNotDir
	}
	if _, err := fs.Stat(n.fsys, p); err != nil {
		return nil, fsErr(err)
	}
	return &iofsNode{fsys: n.fsys, path: p}, nil
}

func (n *iofsNode) ReadDir(_ context.Context, cookie uint64, count int) ([]DirEntry, error) {
	fi, err := fs.Stat(n.fsys, n.path)
	if err != nil {
		return nil, fsErr(err)
	}
	if !fi.IsDir() {
		return nil, ErrNotDir
	}
	ents, err := fs.ReadDir(n.fsys, n.path)
	if err != nil {
		return nil, fsErr(err)
	}
	var out []DirEntry
	for i := int(min(cookie, uint64(len(ents)))); i < len(ents) && len(out) < count; i++ {
		fi, err := ents[i].Info()
		if err != nil {
			continue // vanished meanwhile
		}
		p := path.Join(n.path, ents[i].Name())
		out = append(out, DirEntry{Name: ents[i].Name(), Attr: infoAttr(p, fi), Cookie: uint64(i + 1)})
	}
	return out, nil
}

func (n *iofsNode) Open(_ context.Context, flags OpenFlag) (Handle, error) {
	if flags&OpenWrite != 0 {
		return nil, ErrReadOnly
	}
	f, err := n.fsys.Open(n.path)
	if err != nil {
		return nil, fsErr(err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fsErr(err)
	}
	if fi.IsDir() {
		f.Close()
		return nil, ErrIsDir
	}
	return &iofsHandle{f: f, attr: infoAttr(n.path, fi)}, nil
}

// iofsHandle reads with ReadAt when the fs.File has it, and otherwise by
// seeking, or, for plain streams, from a copy read on first use.
type iofsHandle struct {
	f    fs.File
	attr Attr
	mu   sync.Mutex
	data []byte // copy of a stream-only file
	read bool
}

func (h *iofsHandle) ReadAt(_ context.Context, p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, ErrInvalid
	}
	if off >= h.attr.Size && h.attr.Size > 0 {
		return 0, io.EOF // some fs.Files (fstest.MapFS) refuse offsets past the end
	}
	if ra, ok := h.f.(io.ReaderAt); ok {
		n, err := ra.ReadAt(p, off)
		if err != nil && err != io.EOF {
			err = fsErr(err)
		}
		return n, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if s, ok := h.f.(io.Seeker); ok {
		if _, err := s.Seek(off, io.SeekStart); err != nil {
			return 0, fsErr(err)
		}
		n, err := io.ReadFull(h.f, p)
		if err == io.ErrUnexpectedEOF {
			err = io.EOF
		}
		return n, err
	}
	if !h.read {
		data, err := io.ReadAll(h.f)
		if err != nil {
			return 0, fsErr(err)
		}
		h.data, h.read = data, true
	}
	return ReadAt(h.data, p, off)
}

func (h *iofsHandle) Stat(context.Context) (Attr, error) { return h.attr, nil }
func (h *iofsHandle) Close(context.Context) error        { return h.f.Close() }

var (
	_ Lookuper     = (*iofsNode)(nil)
	_ DirReader    = (*iofsNode)(nil)
	_ Opener       = (*iofsNode)(nil)
	_ HandleStater = (*iofsHandle)(nil)
)
