package ntfs

import (
	"context"
	"errors"

	"github.com/smbvfs/smbvfs/backends/vfs"
	"github.com/smbvfs/smbvfs/protocol/ntstatus"
	"github.com/smbvfs/smbvfs/protocol/smb2"
)

// attrOf reports the attributes of an open: from its handle when the backend can (the
// size of computed content, the size of a named stream), else from its node.
func (t *Tree) attrOf(ctx context.Context, o *open) (vfs.Attr, error) {
	if o.h != nil {
		if hs, ok := o.h.(vfs.HandleStater); ok {
			a, err := hs.Stat(ctx)
			if err == nil {
				return t.s.wtAttr(o.f, a), nil
			}
			if o.stream != "" {
				return vfs.Attr{}, err
			}
		}
	}
	n, err := t.s.nodeOf(ctx, o.f)
	if err != nil {
		return vfs.Attr{}, err
	}
	a, err := n.Attr(ctx)
	if err != nil && (errors.Is(err, vfs.ErrStale) || errors.Is(err, vfs.ErrNotExist)) {
		// The node was renamed under a path-based backend: resolve it again.
		t.s.mu.Lock()
		if o.f.node == n {
			o.f.node = nil
		}
		t.s.mu.Unlock()
		if n, err = t.s.nodeOf(ctx, o.f); err == nil {
			a, err = n.Attr(ctx)
		}
	}
	if err == nil && o.stream != "" {
		a.Size, a.AllocSize = 0, 0
	}
	return t.s.wtAttr(o.f, a), err
}

// Close implements SMB2 CLOSE (MS-SMB2 3.3.5.10).
func (t *Tree) Close(r *Req, req *smb2.CloseRequest, resp *smb2.CloseResponse) ntstatus.Status {
	r.reset()
	ctx := r.ctx()
	o := t.get(req.FileId)
	if o == nil {
		return ntstatus.StatusFileClosed
	}
	*resp = smb2.CloseResponse{}
	t.wtClose(ctx, o) // writetime.go
	if req.Flags.Has(smb2.CloseFlagPostqueryAttrib) {
		if a, err := t.attrOf(ctx, o); err == nil {
			resp.Flags = smb2.CloseFlagPostqueryAttrib
			resp.CreationTime = toFiletime(a.Created)
			resp.LastAccessTime = toFiletime(a.Accessed)
			resp.LastWriteTime = toFiletime(a.Modified)
			resp.ChangeTime = toFiletime(a.Changed)
			resp.FileAttributes = toAttributes(a.DOS)
			if !o.isDir {
				resp.AllocationSize = allocSize(a)
				resp.EndofFile = uint64(a.Size)
			}
		}
	}
	t.closeOpen(ctx, o)
	return ntstatus.StatusSuccess
}

// closeOpen ends an open: its handle is closed, its locks released, and when it was the
// last open of a file (or stream) that is delete pending, the file (stream) is removed.
func (t *Tree) closeOpen(ctx context.Context, o *open) {
	if o.closed.Swap(true) {
		return
	}
	s := t.s
	s.closing(o) // oplock break and CHANGE_NOTIFY watch (notify.go)
	t.wtClose(ctx, o)
	t.mu.Lock()
	delete(t.opens, o.fid.Volatile)
	t.mu.Unlock()
	if o.h != nil {
		o.h.Close(ctx)
	}
	o.f.locks.releaseOpen(o)

	s.mu.Lock()
	s.forgetDurable(o)
	f := o.f
	if o.deleteOnClose {
		if o.stream == "" {
			f.deletePending = true
		} else {
			if f.streamDelete == nil {
				f.streamDelete = make(map[string]bool)
			}
			f.streamDelete[o.skey] = true
		}
	}
	lastFile, lastStream := s.unregister(o)
	removeStream := lastStream && o.stream != "" && f.streamDelete[o.skey]
	if removeStream {
		delete(f.streamDelete, o.skey)
	}
	removeFile := lastFile && f.deletePending
	if lastFile && !removeFile && s.files[f.id] == f {
		delete(s.files, f.id)
	}
	s.mu.Unlock()
	if lastFile {
		s.wtLastClose(ctx, f, removeFile)
	}

	if removeStream {
		if n, err := s.nodeOf(ctx, f); err == nil {
			if st, ok := n.(vfs.Streamer); ok {
				st.RemoveStream(ctx, o.stream)
			}
		}
	}
	if removeFile {
		// The entry stays in the table (delete pending) while the name is removed, so
		// that a concurrent CREATE sees STATUS_DELETE_PENDING rather than the old file.
		if parent, name, err := s.parentOf(ctx, f); err == nil {
			if rm, ok := parent.(vfs.Remover); ok {
				if f.isDir {
					rm.RemoveDir(ctx, name)
				} else {
					rm.Remove(ctx, name)
				}
			}
		}
		s.mu.Lock()
		if len(f.opens) == 0 && s.files[f.id] == f {
			delete(s.files, f.id)
		}
		s.mu.Unlock()
	}
}

// Flush implements SMB2 FLUSH (MS-SMB2 3.3.5.11): the handle's Sync.
func (t *Tree) Flush(r *Req, req *smb2.FlushRequest, resp *smb2.FlushResponse) ntstatus.Status {
	r.reset()
	o := t.get(req.FileId)
	if o == nil {
		return ntstatus.StatusFileClosed
	}
	*resp = smb2.FlushResponse{}
	if o.isDir {
		return ntstatus.StatusSuccess
	}
	if o.access&(dataWrite) == 0 {
		return ntstatus.StatusAccessDenied
	}
	t.wtFlush(r.ctx(), o) // writetime.go
	if o.h != nil {
		if sy, ok := o.h.(vfs.HandleSyncer); ok {
			return errStatus(sy.Sync(r.ctx()))
		}
	}
	return ntstatus.StatusSuccess
}
