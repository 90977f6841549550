package ntfs

import (
	"errors"
	"io"
	"math"

	"github.com/smbvfs/smbvfs/backends/vfs"
	"github.com/smbvfs/smbvfs/protocol/dtyp"
	"github.com/smbvfs/smbvfs/protocol/fscc"
	"github.com/smbvfs/smbvfs/protocol/ntstatus"
	"github.com/smbvfs/smbvfs/protocol/smb2"
)

// maxFileSize is the largest end of file a WRITE may reach (NTFS's 0xFFFFFFF0000; Windows
// answers INVALID_PARAMETER beyond it).
const maxFileSize = 0xfffffff0000

// Read implements SMB2 READ (MS-SMB2 3.3.5.12). The data goes into r.Buf when it fits.
func (t *Tree) Read(r *Req, req *smb2.ReadRequest, resp *smb2.ReadResponse) ntstatus.Status {
	r.reset()
	o := t.get(req.FileId)
	if o == nil {
		return ntstatus.StatusFileClosed
	}
	if o.isDir {
		return ntstatus.StatusInvalidDeviceRequest
	}
	if r.MaxRead > 0 && int64(req.Length) > int64(r.MaxRead) {
		return ntstatus.StatusInvalidParameter
	}
	if o.access&dataRead == 0 || o.h == nil {
		return ntstatus.StatusAccessDenied
	}
	if req.Offset > math.MaxInt64 || req.Offset+uint64(req.Length) > math.MaxInt64 {
		return ntstatus.StatusInvalidParameter
	}
	if o.f.locks.conflict(o, req.Offset, uint64(req.Length), false) {
		return ntstatus.StatusFileLockConflict
	}
	*resp = smb2.ReadResponse{}
	if req.Length == 0 {
		// Nothing to read: only a minimum count makes it an end of file.
		if req.MinimumCount > 0 {
			return ntstatus.StatusEndOfFile
		}
		return ntstatus.StatusSuccess
	}
	var buf []byte
	if int64(cap(r.Buf)) >= int64(req.Length) {
		buf = r.Buf[:req.Length]
	} else {
		buf = make([]byte, req.Length)
	}
	n, err := o.h.ReadAt(r.ctx(), buf, int64(req.Offset))
	if err != nil && !errors.Is(err, io.EOF) {
		return errStatus(err)
	}
	if n == 0 || uint32(n) < req.MinimumCount {
		return ntstatus.StatusEndOfFile
	}
	resp.Data = buf[:n]
	// Like Samba, the position (FilePositionInformation) follows reads.
	o.pos.Store(req.Offset + uint64(n))
	return ntstatus.StatusSuccess
}

// Write implements SMB2 WRITE (MS-SMB2 3.3.5.13). Offsets beyond INT64_MAX, including
// 0xFFFFFFFFFFFFFFFF (FILE_WRITE_TO_END_OF_FILE of the local API), are INVALID_PARAMETER
// as on Windows; an open with FILE_APPEND_DATA only may write at or after the end.
func (t *Tree) Write(r *Req, req *smb2.WriteRequest, resp *smb2.WriteResponse) ntstatus.Status {
	r.reset()
	ctx := r.ctx()
	o := t.get(req.FileId)
	if o == nil {
		return ntstatus.StatusFileClosed
	}
	if o.isDir {
		return ntstatus.StatusInvalidDeviceRequest
	}
	if r.MaxWrite > 0 && len(req.Data) > r.MaxWrite {
		return ntstatus.StatusInvalidParameter
	}
	if o.access&dataWrite == 0 || o.h == nil {
		return ntstatus.StatusAccessDenied
	}
	w, ok := o.h.(vfs.HandleWriter)
	if !ok {
		return ntstatus.StatusAccessDenied
	}
	off := req.Offset
	if off > math.MaxInt64 || off+uint64(len(req.Data)) > math.MaxInt64 ||
		(len(req.Data) > 0 && off+uint64(len(req.Data)) > maxFileSize) {
		return ntstatus.StatusInvalidParameter
	}
	if o.access&dtyp.FileWriteData == 0 {
		a, err := t.attrOf(ctx, o)
		if err != nil {
			return errStatus(err)
		}
		if off < uint64(a.Size) {
			// FILE_APPEND_DATA alone does not allow changing existing data.
			return ntstatus.StatusAccessDenied
		}
	}
	if o.f.locks.conflict(o, off, uint64(len(req.Data)), true) {
		return ntstatus.StatusFileLockConflict
	}
	*resp = smb2.WriteResponse{}
	if len(req.Data) == 0 {
		return ntstatus.StatusSuccess
	}
	t.s.breakLevelII(o) // oplock.go
	t.wtWrite(ctx, o)   // writetime.go
	n, err := w.WriteAt(ctx, req.Data, int64(off))
	if err != nil {
		return errStatus(err)
	}
	if req.Flags.Has(smb2.WriteFlagWriteThrough) || o.mode.Has(fscc.ModeWriteThrough) {
		if sy, ok := o.h.(vfs.HandleSyncer); ok {
			if err := sy.Sync(ctx); err != nil {
				return errStatus(err)
			}
		}
	}
	resp.Count = uint32(n)
	return ntstatus.StatusSuccess
}
