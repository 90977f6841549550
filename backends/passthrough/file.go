package passthrough

import (
	"context"
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/smbvfs/smbvfs/backends/vfs"
)

func (n *node) Open(_ context.Context, flags vfs.OpenFlag) (vfs.Handle, error) {
	mode := os.O_RDONLY
	if flags&vfs.OpenWrite != 0 {
		if err := n.writable(); err != nil {
			return nil, err
		}
		mode = os.O_RDWR
	}
	f, err := n.fs.root.OpenFile(n.path, mode|nonblock, 0)
	if err != nil {
		if errors.Is(mapErr(err), vfs.ErrIsDir) {
			return nil, vfs.ErrIsDir
		}
		return nil, mapErr(err)
	}
	fi, err := f.Stat()
	switch {
	case err != nil:
		err = mapErr(err)
	case fi.IsDir():
		err = vfs.ErrIsDir
	case !fi.Mode().IsRegular():
		err = vfs.ErrPermission
	case n.fs.idOf(n.path, fi) != n.id:
		err = vfs.ErrStale
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return &handle{f: f, node: n, write: mode == os.O_RDWR}, nil
}

// handle is an open regular file.
type handle struct {
	f     *os.File
	node  *node
	write bool
}

func (h *handle) ReadAt(_ context.Context, p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, vfs.ErrInvalid
	}
	n, err := h.f.ReadAt(p, off)
	if err == io.EOF {
		return n, io.EOF
	}
	return n, mapErr(err)
}

func (h *handle) modified() {
	if h.node.fs.notifier.Watching() {
		h.node.notify(vfs.Change{Op: vfs.ChangeModified, Path: h.node.path, ID: h.node.id, What: vfs.WhatData})
	}
}

func (h *handle) WriteAt(_ context.Context, p []byte, off int64) (int, error) {
	if !h.write {
		return 0, vfs.ErrPermission
	}
	if off < 0 {
		return 0, vfs.ErrInvalid
	}
	n, err := h.f.WriteAt(p, off)
	if err == nil {
		h.modified()
	}
	return n, mapErr(err)
}

func (h *handle) Truncate(_ context.Context, size int64) error {
	if !h.write {
		return vfs.ErrPermission
	}
	err := h.f.Truncate(size)
	if err == nil {
		h.modified()
	}
	return mapErr(err)
}

func (h *handle) Sync(context.Context) error { return mapErr(h.f.Sync()) }

func (h *handle) Stat(context.Context) (vfs.Attr, error) {
	fi, err := h.f.Stat()
	if err != nil {
		return vfs.Attr{}, mapErr(err)
	}
	return h.node.fs.attrOf(h.node.path, fi, h.f), nil
}

func (h *handle) Close(context.Context) error { return mapErr(h.f.Close()) }

// ---- Attributes -----------------------------------------------------------

// SetAttr sets access and write times on the file itself, read-only as the
// owner-write permission bit of files, and everything else (creation time,
// other DOS bits) in user.smbvfs.dos. The change time belongs to the
// kernel and is not settable: a requested one is ignored.
func (n *node) SetAttr(_ context.Context, c vfs.AttrChange) error {
	if err := n.writable(); err != nil {
		return err
	}
	fi, err := n.stat()
	if err != nil {
		return err
	}
	if !c.Accessed.IsZero() || !c.Modified.IsZero() {
		if err := n.fs.root.Chtimes(n.path, c.Accessed, c.Modified); err != nil {
			return mapErr(err)
		}
	}
	set, clr := c.Set&^vfs.DOSDirectory, c.Clear&^vfs.DOSDirectory
	if !fi.IsDir() && (set|clr)&vfs.DOSReadOnly != 0 {
		perm := fi.Mode().Perm()
		if set&vfs.DOSReadOnly != 0 {
			perm &^= 0o222
		} else {
			perm |= 0o200
		}
		if err := n.fs.root.Chmod(n.path, perm); err != nil {
			return mapErr(err)
		}
		set, clr = set&^vfs.DOSReadOnly, clr&^vfs.DOSReadOnly
	}
	var what vfs.ChangeWhat
	if !c.Accessed.IsZero() || !c.Modified.IsZero() {
		what |= vfs.WhatTimes
	}
	if set|clr != 0 || !c.Created.IsZero() {
		if err := n.storeAttrs(fi, set, clr, c.Created); err != nil {
			return err
		}
	}
	if set|clr|c.Set|c.Clear != 0 {
		what |= vfs.WhatAttr
	}
	if what != 0 && n.fs.notifier.Watching() {
		n.notify(vfs.Change{Op: vfs.ChangeModified, Path: changePath(n.path), ID: n.id, Dir: fi.IsDir(), What: what})
	}
	return nil
}

// storeAttrs updates user.smbvfs.dos.
func (n *node) storeAttrs(fi os.FileInfo, set, clr vfs.DOSAttr, created time.Time) error {
	if !n.fs.xattrOK {
		return vfs.ErrNotSupported
	}
	f, _, err := n.openMeta()
	if err != nil {
		return err
	}
	defer f.Close()
	d, ok := n.fs.loadDOS(f)
	if !ok { // start from what the file shows without stored attributes
		a := n.fs.attrOf(n.path, fi, nil)
		d = dosInfo{attrs: a.DOS &^ (vfs.DOSDirectory | vfs.DOSReadOnly), created: a.Created}
		if fi.IsDir() {
			d.attrs = a.DOS &^ vfs.DOSDirectory
		}
	}
	d.attrs = (d.attrs | set) &^ clr
	if !created.IsZero() {
		d.created = created
	}
	return storeDOS(f, d)
}

// ---- Extended attributes, streams, security --------------------------------

// meta opens n for its extended attributes, or reports them unsupported.
func (n *node) meta(change bool) (*os.File, error) {
	if change {
		if err := n.writable(); err != nil {
			return nil, err
		}
	}
	if !n.fs.xattrOK {
		return nil, vfs.ErrNotSupported
	}
	f, _, err := n.openMeta()
	return f, err
}

// userXattr maps a client's xattr name into the user namespace, refusing
// the names this package keeps for itself.
func userXattr(name string) (string, error) {
	if name == "" || len(name) > 200 || strings.ContainsRune(name, 0) || strings.HasPrefix(name, "smbvfs.") {
		return "", vfs.ErrInvalidName
	}
	return xattrUser + name, nil
}

func (n *node) ListXattrs(context.Context) ([]string, error) {
	f, err := n.meta(false)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	all, err := flistxattr(f)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, a := range all {
		if strings.HasPrefix(a, xattrUser) && !strings.HasPrefix(a, xattrOwn) {
			out = append(out, strings.TrimPrefix(a, xattrUser))
		}
	}
	slices.Sort(out)
	return out, nil
}

func (n *node) GetXattr(_ context.Context, name string) ([]byte, error) {
	x, err := userXattr(name)
	if err != nil {
		return nil, err
	}
	f, err := n.meta(false)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return fgetxattr(f, x)
}

func (n *node) SetXattr(_ context.Context, name string, value []byte) error {
	x, err := userXattr(name)
	if err != nil {
		return err
	}
	f, err := n.meta(true)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := fsetxattr(f, x, value, 0); err != nil {
		return err
	}
	n.changedMeta(vfs.WhatXattr, "")
	return nil
}

func (n *node) RemoveXattr(_ context.Context, name string) error {
	x, err := userXattr(name)
	if err != nil {
		return err
	}
	f, err := n.meta(true)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := fremovexattr(f, x); err != nil {
		return err
	}
	n.changedMeta(vfs.WhatXattr, "")
	return nil
}

func (n *node) changedMeta(what vfs.ChangeWhat, stream string) {
	if n.fs.notifier.Watching() {
		n.notify(vfs.Change{Op: vfs.ChangeModified, Path: changePath(n.path), ID: n.id, What: what, Stream: stream})
	}
}

func (n *node) GetSecurity(context.Context) ([]byte, error) {
	f, err := n.meta(false)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sd, err := fgetxattr(f, xattrSD)
	if errors.Is(err, vfs.ErrNotExist) {
		return nil, nil
	}
	return sd, err
}

func (n *node) SetSecurity(_ context.Context, sd []byte) error {
	f, err := n.meta(true)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := fsetxattr(f, xattrSD, sd, 0); err != nil {
		return err
	}
	n.changedMeta(vfs.WhatSecurity, "")
	return nil
}

func streamXattr(name string) (string, error) {
	if !validName(name) || strings.Contains(name, ":") || len(xattrStream)+len(name) > 255 {
		return "", vfs.ErrInvalidName
	}
	return xattrStream + name, nil
}

func (n *node) ListStreams(context.Context) ([]vfs.StreamInfo, error) {
	f, err := n.meta(false)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	all, err := flistxattr(f)
	if err != nil {
		return nil, err
	}
	var out []vfs.StreamInfo
	for _, a := range all {
		if name, ok := strings.CutPrefix(a, xattrStream); ok {
			v, err := fgetxattr(f, a)
			if err != nil {
				continue
			}
			out = append(out, vfs.StreamInfo{Name: name, Size: int64(len(v)), AllocSize: int64(len(v))})
		}
	}
	slices.SortFunc(out, func(a, b vfs.StreamInfo) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func (n *node) OpenStream(_ context.Context, name string, flags vfs.OpenFlag) (vfs.Handle, error) {
	x, err := streamXattr(name)
	if err != nil {
		return nil, err
	}
	f, err := n.meta(flags&vfs.OpenWrite != 0)
	if err != nil {
		return nil, err
	}
	if _, err := fgetxattr(f, x); err != nil {
		f.Close()
		return nil, err
	}
	return &streamHandle{f: f, node: n, name: name, xattr: x, write: flags&vfs.OpenWrite != 0}, nil
}

func (n *node) CreateStream(_ context.Context, name string) (vfs.Handle, error) {
	x, err := streamXattr(name)
	if err != nil {
		return nil, err
	}
	f, err := n.meta(true)
	if err != nil {
		return nil, err
	}
	if err := fsetxattr(f, x, nil, xattrCreate); err != nil {
		f.Close()
		return nil, err
	}
	n.changedMeta(vfs.WhatStream, name)
	return &streamHandle{f: f, node: n, name: name, xattr: x, write: true}, nil
}

func (n *node) RemoveStream(_ context.Context, name string) error {
	x, err := streamXattr(name)
	if err != nil {
		return err
	}
	f, err := n.meta(true)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := fremovexattr(f, x); err != nil {
		return err
	}
	n.changedMeta(vfs.WhatStream, name)
	return nil
}

// streamMu serialises the read-modify-write cycles of stream writes.
var streamMu sync.Mutex

// streamHandle is an open named stream: the xattr holding it is read and
// rewritten whole through a descriptor of the file, which follows the file
// across renames.
type streamHandle struct {
	f     *os.File
	node  *node
	name  string
	xattr string
	write bool
}

func (h *streamHandle) ReadAt(_ context.Context, p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, vfs.ErrInvalid
	}
	data, err := fgetxattr(h.f, h.xattr)
	if err != nil {
		return 0, err
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

// rewrite applies edit to the stream's content.
func (h *streamHandle) rewrite(edit func([]byte) []byte) error {
	if !h.write {
		return vfs.ErrPermission
	}
	streamMu.Lock()
	defer streamMu.Unlock()
	data, err := fgetxattr(h.f, h.xattr)
	if err != nil {
		return err
	}
	if err := fsetxattr(h.f, h.xattr, edit(data), 0); err != nil {
		return err
	}
	h.node.changedMeta(vfs.WhatStream, h.name)
	return nil
}

func (h *streamHandle) WriteAt(_ context.Context, p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, vfs.ErrInvalid
	}
	err := h.rewrite(func(data []byte) []byte {
		if end := off + int64(len(p)); end > int64(len(data)) {
			data = append(data, make([]byte, end-int64(len(data)))...)
		}
		copy(data[off:], p)
		return data
	})
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

func (h *streamHandle) Truncate(_ context.Context, size int64) error {
	if size < 0 {
		return vfs.ErrInvalid
	}
	return h.rewrite(func(data []byte) []byte {
		if size <= int64(len(data)) {
			return data[:size]
		}
		return append(data, make([]byte, size-int64(len(data)))...)
	})
}

func (h *streamHandle) Stat(context.Context) (vfs.Attr, error) {
	fi, err := h.f.Stat()
	if err != nil {
		return vfs.Attr{}, mapErr(err)
	}
	a := h.node.fs.attrOf(h.node.path, fi, h.f)
	data, err := fgetxattr(h.f, h.xattr)
	if err != nil {
		return vfs.Attr{}, err
	}
	a.Size, a.AllocSize = int64(len(data)), int64(len(data))
	return a, nil
}

func (h *streamHandle) Sync(context.Context) error  { return mapErr(h.f.Sync()) }
func (h *streamHandle) Close(context.Context) error { return mapErr(h.f.Close()) }

var (
	_ vfs.Opener          = (*node)(nil)
	_ vfs.AttrSetter      = (*node)(nil)
	_ vfs.Xattrer         = (*node)(nil)
	_ vfs.Securer         = (*node)(nil)
	_ vfs.Streamer        = (*node)(nil)
	_ vfs.HandleWriter    = (*handle)(nil)
	_ vfs.HandleTruncater = (*handle)(nil)
	_ vfs.HandleSyncer    = (*handle)(nil)
	_ vfs.HandleStater    = (*handle)(nil)
	_ vfs.HandleWriter    = (*streamHandle)(nil)
	_ vfs.HandleTruncater = (*streamHandle)(nil)
	_ vfs.HandleStater    = (*streamHandle)(nil)
)
