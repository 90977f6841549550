package memfs

import (
	"bytes"
	"context"
	"io"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/smbvfs/smbvfs/backends/vfs"
)

func (n *inode) Open(_ context.Context, flags vfs.OpenFlag) (vfs.Handle, error) {
	if n.dir {
		return nil, vfs.ErrIsDir
	}
	n.fs.mu.RLock()
	defer n.fs.mu.RUnlock()
	if n.nlink == 0 {
		return nil, vfs.ErrStale
	}
	return &handle{node: n, flags: flags}, nil
}

// handle is an open file or an open named stream of it.
type handle struct {
	node   *inode
	stream *stream // nil for the main data
	name   string  // of the stream
	flags  vfs.OpenFlag
	closed atomic.Bool
}

// buf returns the bytes the handle works on; call with fs.mu held.
func (h *handle) buf() *[]byte {
	if h.stream != nil {
		return &h.stream.data
	}
	return &h.node.data
}

func (h *handle) check(write bool) error {
	if h.closed.Load() {
		return vfs.ErrClosed
	}
	if write && h.flags&vfs.OpenWrite == 0 {
		return vfs.ErrPermission
	}
	return nil
}

func (h *handle) ReadAt(_ context.Context, p []byte, off int64) (int, error) {
	if err := h.check(false); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, vfs.ErrInvalid
	}
	h.node.fs.mu.RLock()
	defer h.node.fs.mu.RUnlock()
	data := *h.buf()
	if off >= int64(len(data)) {
		return 0, io.EOF
	}
	n := copy(p, data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// resize sets the length of the handle's data, charging the capacity for
// the bytes of a live file; call with fs.mu held.
func (h *handle) resize(size int64) error {
	b := h.buf()
	old := int64(len(*b))
	if size == old {
		return nil
	}
	if h.node.nlink > 0 {
		if err := h.node.fs.grow(size - old); err != nil {
			return err
		}
	}
	if size < old {
		clear((*b)[size:])
		*b = (*b)[:size]
	} else {
		*b = append(*b, make([]byte, size-old)...)
	}
	return nil
}

func (h *handle) changed(now time.Time) []vfs.Change {
	n := h.node
	n.modified, n.changed = now, now
	n.dos |= vfs.DOSArchive
	what := vfs.WhatData
	if h.stream != nil {
		what = vfs.WhatStream
	}
	return n.modifiedChange(what, h.name)
}

func (h *handle) WriteAt(_ context.Context, p []byte, off int64) (int, error) {
	if err := h.check(true); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, vfs.ErrInvalid
	}
	err := h.node.fs.update(func(now time.Time) ([]vfs.Change, error) {
		if end := off + int64(len(p)); end > int64(len(*h.buf())) {
			if err := h.resize(end); err != nil {
				return nil, err
			}
		}
		copy((*h.buf())[off:], p)
		return h.changed(now), nil
	})
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

func (h *handle) Truncate(_ context.Context, size int64) error {
	if err := h.check(true); err != nil {
		return err
	}
	if size < 0 {
		return vfs.ErrInvalid
	}
	return h.node.fs.update(func(now time.Time) ([]vfs.Change, error) {
		if err := h.resize(size); err != nil {
			return nil, err
		}
		return h.changed(now), nil
	})
}

func (h *handle) Sync(context.Context) error { return h.check(false) }

func (h *handle) Stat(ctx context.Context) (vfs.Attr, error) {
	if err := h.check(false); err != nil {
		return vfs.Attr{}, err
	}
	h.node.fs.mu.RLock()
	defer h.node.fs.mu.RUnlock()
	a := h.node.attr()
	if h.stream != nil {
		a.Size = int64(len(h.stream.data))
		a.AllocSize = roundUp(a.Size)
	}
	return a, nil
}

func (h *handle) Close(context.Context) error {
	if h.closed.Swap(true) {
		return vfs.ErrClosed
	}
	return nil
}

// ---- Named streams -------------------------------------------------------

func validStream(name string) bool { return validName(name) && !strings.Contains(name, ":") }

func (n *inode) ListStreams(context.Context) ([]vfs.StreamInfo, error) {
	n.fs.mu.RLock()
	defer n.fs.mu.RUnlock()
	out := make([]vfs.StreamInfo, 0, len(n.streams))
	for _, name := range slices.Sorted(maps.Keys(n.streams)) {
		size := int64(len(n.streams[name].data))
		out = append(out, vfs.StreamInfo{Name: name, Size: size, AllocSize: roundUp(size)})
	}
	return out, nil
}

func (n *inode) OpenStream(_ context.Context, name string, flags vfs.OpenFlag) (vfs.Handle, error) {
	n.fs.mu.RLock()
	defer n.fs.mu.RUnlock()
	if !validStream(name) {
		return nil, vfs.ErrInvalidName
	}
	s := n.streams[name]
	if s == nil {
		return nil, vfs.ErrNotExist
	}
	return &handle{node: n, stream: s, name: name, flags: flags}, nil
}

func (n *inode) CreateStream(_ context.Context, name string) (vfs.Handle, error) {
	var h *handle
	err := n.fs.update(func(now time.Time) ([]vfs.Change, error) {
		switch {
		case !validStream(name):
			return nil, vfs.ErrInvalidName
		case n.nlink == 0:
			return nil, vfs.ErrStale
		case n.streams[name] != nil:
			return nil, vfs.ErrExist
		}
		if n.streams == nil {
			n.streams = make(map[string]*stream)
		}
		s := &stream{}
		n.streams[name] = s
		h = &handle{node: n, stream: s, name: name, flags: vfs.OpenRead | vfs.OpenWrite}
		n.changed = now
		return n.modifiedChange(vfs.WhatStream, name), nil
	})
	if err != nil {
		return nil, err
	}
	return h, nil
}

func (n *inode) RemoveStream(_ context.Context, name string) error {
	return n.fs.update(func(now time.Time) ([]vfs.Change, error) {
		s := n.streams[name]
		if s == nil {
			return nil, vfs.ErrNotExist
		}
		if n.nlink > 0 {
			n.fs.used -= int64(len(s.data))
		}
		delete(n.streams, name)
		n.changed = now
		return n.modifiedChange(vfs.WhatStream, name), nil
	})
}

// ---- Extended attributes and security ------------------------------------

func validXattr(name string) bool {
	return name != "" && len(name) <= 255 && !strings.ContainsRune(name, 0)
}

func (n *inode) ListXattrs(context.Context) ([]string, error) {
	n.fs.mu.RLock()
	defer n.fs.mu.RUnlock()
	return slices.Sorted(maps.Keys(n.xattrs)), nil
}

func (n *inode) GetXattr(_ context.Context, name string) ([]byte, error) {
	n.fs.mu.RLock()
	defer n.fs.mu.RUnlock()
	v, ok := n.xattrs[name]
	if !ok {
		return nil, vfs.ErrNotExist
	}
	return bytes.Clone(v), nil
}

func (n *inode) SetXattr(_ context.Context, name string, value []byte) error {
	if !validXattr(name) {
		return vfs.ErrInvalidName
	}
	return n.fs.update(func(now time.Time) ([]vfs.Change, error) {
		if n.xattrs == nil {
			n.xattrs = make(map[string][]byte)
		}
		n.xattrs[name] = bytes.Clone(value)
		if n.xattrs[name] == nil {
			n.xattrs[name] = []byte{}
		}
		n.changed = now
		return n.modifiedChange(vfs.WhatXattr, ""), nil
	})
}

func (n *inode) RemoveXattr(_ context.Context, name string) error {
	return n.fs.update(func(now time.Time) ([]vfs.Change, error) {
		if _, ok := n.xattrs[name]; !ok {
			return nil, vfs.ErrNotExist
		}
		delete(n.xattrs, name)
		n.changed = now
		return n.modifiedChange(vfs.WhatXattr, ""), nil
	})
}

func (n *inode) GetSecurity(context.Context) ([]byte, error) {
	n.fs.mu.RLock()
	defer n.fs.mu.RUnlock()
	return bytes.Clone(n.sd), nil
}

func (n *inode) SetSecurity(_ context.Context, sd []byte) error {
	return n.fs.update(func(now time.Time) ([]vfs.Change, error) {
		n.sd = bytes.Clone(sd)
		n.changed = now
		return n.modifiedChange(vfs.WhatSecurity, ""), nil
	})
}

var (
	_ vfs.HandleWriter    = (*handle)(nil)
	_ vfs.HandleTruncater = (*handle)(nil)
	_ vfs.HandleSyncer    = (*handle)(nil)
	_ vfs.HandleStater    = (*handle)(nil)
)
