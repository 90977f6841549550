package ntfs

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"sync"

	"github.com/smbvfs/smbvfs/backends/vfs"
	"github.com/smbvfs/smbvfs/protocol/dtyp"
	"github.com/smbvfs/smbvfs/protocol/fscc"
	"github.com/smbvfs/smbvfs/protocol/ntstatus"
	"github.com/smbvfs/smbvfs/protocol/smb2"
)

// Server-side copy limits (MS-SMB2 3.3.5.15.6; the values Windows uses).
const (
	copyMaxChunks    = 256
	copyMaxChunkSize = 1 << 20
	copyMaxData      = 16 << 20
)

var chunkPool = sync.Pool{New: func() any { b := make([]byte, copyMaxChunkSize); return &b }}

// Ioctl implements SMB2 IOCTL (MS-SMB2 3.3.5.15) for the FSCTLs of a disk share:
// SRV_REQUEST_RESUME_KEY, SRV_COPYCHUNK(_WRITE), SET_SPARSE, QUERY_ALLOCATED_RANGES,
// SET_ZERO_DATA, GET/SET_COMPRESSION, SRV_ENUMERATE_SNAPSHOTS (none), GET_REPARSE_POINT
// (never one). Other FSCTLs are STATUS_INVALID_DEVICE_REQUEST, as the file system
// answers them; IOCTLs (Flags 0) are STATUS_NOT_SUPPORTED.
func (t *Tree) Ioctl(r *Req, req *smb2.IoctlRequest, resp *smb2.IoctlResponse) ntstatus.Status {
	r.reset()
	ctx := r.ctx()
	if !req.Flags.Has(smb2.IoctlIsFsctl) {
		return ntstatus.StatusNotSupported
	}
	if r.MaxTransact > 0 && (int64(req.MaxOutputResponse) > int64(r.MaxTransact) || int64(req.MaxInputResponse) > int64(r.MaxTransact)) {
		return ntstatus.StatusInvalidParameter
	}
	switch req.CtlCode {
	case fscc.FsctlDfsGetReferrals, fscc.FsctlDfsGetReferralsEx:
		return ntstatus.StatusFsDriverRequired
	}
	o := t.get(req.FileId)
	if o == nil {
		return ntstatus.StatusFileClosed
	}
	*resp = smb2.IoctlResponse{CtlCode: req.CtlCode, FileId: req.FileId}
	var out []byte
	var st ntstatus.Status
	switch req.CtlCode {
	case fscc.FsctlSrvRequestResumeKey:
		if req.MaxOutputResponse < 28 {
			return ntstatus.StatusInvalidParameter
		}
		// Like Windows, 4 bytes of (unused, zero) context follow ContextLength 0 when
		// they fit: Samba's client decodes a 32-byte response.
		k := fscc.SrvRequestResumeKey{ResumeKey: t.s.resumeKey(o)}
		if req.MaxOutputResponse >= 32 {
			k.Context = make([]byte, 4)
		}
		out, _ = k.Append(scratch(r, 32))
		st = ntstatus.StatusSuccess
	case fscc.FsctlSrvCopychunk, fscc.FsctlSrvCopychunkWrite:
		out, st = t.copyChunk(ctx, r, o, req)
	case fscc.FsctlSetSparse:
		st = t.setSparse(ctx, o, req.Input)
	case fscc.FsctlQueryAllocatedRanges:
		out, st = t.allocatedRanges(ctx, r, o, req)
	case fscc.FsctlSetZeroData:
		st = t.zeroData(ctx, o, req.Input)
	case fscc.FsctlGetCompression:
		if req.MaxOutputResponse < 2 {
			return ntstatus.StatusInvalidParameter
		}
		out, st = []byte{0, 0}, ntstatus.StatusSuccess
	case fscc.FsctlSetCompression:
		if len(req.Input) < 2 {
			return ntstatus.StatusInvalidParameter
		}
		if o.access&(dtyp.FileWriteData|dtyp.FileWriteAttributes) == 0 {
			return ntstatus.StatusAccessDenied
		}
		if binary.LittleEndian.Uint16(req.Input) != uint16(fscc.CompressionFormatNone) {
			return ntstatus.StatusNotSupported
		}
		st = ntstatus.StatusSuccess
	case fscc.FsctlSrvEnumerateSnapshots:
		if req.MaxOutputResponse < 16 {
			return ntstatus.StatusInvalidParameter
		}
		out, st = make([]byte, 16), ntstatus.StatusSuccess
	case fscc.FsctlGetReparsePoint:
		return ntstatus.StatusNotAReparsePoint
	case fscc.FsctlIsPathnameValid:
		st = ntstatus.StatusSuccess
	case fscc.FsctlCreateOrGetObjectId, fscc.FsctlGetObjectId:
		out, st = t.objectID(r, o, req) // objectid.go
	default:
		return ntstatus.StatusInvalidDeviceRequest
	}
	if st != ntstatus.StatusSuccess && st != ntstatus.StatusBufferOverflow && !r.BodyOnError {
		return st
	}
	if len(out) > int(req.MaxOutputResponse) {
		return ntstatus.StatusBufferTooSmall
	}
	resp.Output = out
	return st
}

// resumeKey names an open for a server-side copy: its FileId and a per-share secret.
func (s *Share) resumeKey(o *open) [24]byte {
	var k [24]byte
	binary.LittleEndian.PutUint64(k[0:], o.fid.Persistent)
	binary.LittleEndian.PutUint64(k[8:], o.fid.Volatile)
	copy(k[16:], s.secret[:])
	return k
}

func (s *Share) byResumeKey(k [24]byte) *open {
	if !bytes.Equal(k[16:], s.secret[:]) {
		return nil
	}
	s.mu.Lock()
	o := s.opens[binary.LittleEndian.Uint64(k[8:])]
	s.mu.Unlock()
	if o == nil || o.fid.Persistent != binary.LittleEndian.Uint64(k[0:]) || o.closed.Load() {
		return nil
	}
	return o
}

func copyResponse(r *Req, chunks, chunkBytes, total uint32) []byte {
	cr := fscc.SrvCopychunkResponse{ChunksWritten: chunks, ChunkBytesWritten: chunkBytes, TotalBytesWritten: total}
	b, _ := cr.Append(scratch(r, 12))
	return b
}

// copyChunk performs FSCTL_SRV_COPYCHUNK(_WRITE) from the open named by the resume key
// to o (MS-SMB2 3.3.5.15.6).
func (t *Tree) copyChunk(ctx context.Context, r *Req, o *open, req *smb2.IoctlRequest) ([]byte, ntstatus.Status) {
	if req.MaxOutputResponse < 12 {
		return nil, ntstatus.StatusInvalidParameter
	}
	limits := func() ([]byte, ntstatus.Status) {
		r.BodyOnError = true
		return copyResponse(r, copyMaxChunks, copyMaxChunkSize, copyMaxData), ntstatus.StatusInvalidParameter
	}
	var cc fscc.SrvCopychunkCopy
	if err := cc.Decode(req.Input); err != nil {
		return limits()
	}
	src := t.s.byResumeKey(cc.SourceKey)
	if src == nil {
		return nil, ntstatus.StatusObjectNameNotFound
	}
	type chunk struct {
		src, dst uint64
		n        uint32
	}
	var chunks []chunk
	total := uint64(0)
	it := cc.Chunks.Iter()
	for it.Next() {
		c := it.Value()
		chunks = append(chunks, chunk{c.SourceOffset, c.TargetOffset, c.Length})
		if len(chunks) > copyMaxChunks || c.Length == 0 || c.Length > copyMaxChunkSize {
			return limits()
		}
		total += uint64(c.Length)
	}
	if it.Err() != nil || total > copyMaxData {
		return limits()
	}
	if o.isDir || src.isDir || o.h == nil || src.h == nil {
		return nil, ntstatus.StatusAccessDenied
	}
	if o.access&dtyp.FileWriteData == 0 || src.access&dataRead == 0 { // FILE_EXECUTE reads too
		return nil, ntstatus.StatusAccessDenied
	}
	if req.CtlCode == fscc.FsctlSrvCopychunk && o.access&dtyp.FileReadData == 0 {
		return nil, ntstatus.StatusAccessDenied
	}
	w, ok := o.h.(vfs.HandleWriter)
	if !ok {
		return nil, ntstatus.StatusAccessDenied
	}
	bp := chunkPool.Get().(*[]byte)
	defer chunkPool.Put(bp)
	var done, written uint32
	fail := func(st ntstatus.Status, partial uint32) ([]byte, ntstatus.Status) {
		r.BodyOnError = true
		return copyResponse(r, done, partial, written), st
	}
	t.wtWrite(ctx, o) // writetime.go
	for _, c := range chunks {
		if src.f.locks.conflict(src, c.src, uint64(c.n), false) || o.f.locks.conflict(o, c.dst, uint64(c.n), true) {
			return fail(ntstatus.StatusFileLockConflict, 0)
		}
		buf := (*bp)[:c.n]
		n, err := src.h.ReadAt(ctx, buf, int64(c.src))
		if err != nil && !errors.Is(err, io.EOF) {
			return fail(errStatus(err), 0)
		}
		if n < int(c.n) {
			return fail(ntstatus.StatusInvalidViewSize, 0)
		}
		m, err := w.WriteAt(ctx, buf, int64(c.dst))
		written += uint32(m)
		if err != nil {
			return fail(errStatus(err), uint32(m))
		}
		done++
	}
	return copyResponse(r, done, 0, written), ntstatus.StatusSuccess
}

// setSparse sets or clears the sparse attribute (FSCTL_SET_SPARSE); an empty input sets it.
func (t *Tree) setSparse(ctx context.Context, o *open, in []byte) ntstatus.Status {
	if o.isDir {
		return ntstatus.StatusInvalidParameter
	}
	if o.access&(dtyp.FileWriteData|dtyp.FileWriteAttributes|dtyp.FileAppendData) == 0 {
		return ntstatus.StatusAccessDenied
	}
	set := true
	if len(in) > 0 {
		set = in[0] != 0
	}
	n, err := t.s.nodeOf(ctx, o.f)
	if err != nil {
		return errStatus(err)
	}
	c := vfs.AttrChange{Set: vfs.DOSSparse}
	if !set {
		c = vfs.AttrChange{Clear: vfs.DOSSparse}
	}
	if err := setAttr(ctx, n, c); err != nil && !errors.Is(err, vfs.ErrNotSupported) {
		return errStatus(err)
	}
	return ntstatus.StatusSuccess
}

// allocatedRanges answers FSCTL_QUERY_ALLOCATED_RANGES. The vfs contract does not expose
// holes: a file without the sparse attribute is allocated up to its end of file; in a
// sparse file, like NTFS with its 64 KiB deallocation unit, every aligned 64 KiB chunk
// holding only zeros counts as a hole (what FSCTL_SET_ZERO_DATA leaves behind, and what
// was never written). Past sparseScanLimit bytes the rest counts as allocated.
func (t *Tree) allocatedRanges(ctx context.Context, r *Req, o *open, req *smb2.IoctlRequest) ([]byte, ntstatus.Status) {
	var q fscc.FileAllocatedRangeBuffer
	if len(req.Input) < 16 || q.Decode(req.Input) != nil {
		return nil, ntstatus.StatusInvalidParameter
	}
	if int64(q.FileOffset) < 0 || int64(q.Length) < 0 || int64(q.FileOffset+q.Length) < 0 {
		return nil, ntstatus.StatusInvalidParameter
	}
	if o.isDir {
		return nil, ntstatus.StatusInvalidParameter
	}
	if o.access&dtyp.FileReadData == 0 {
		return nil, ntstatus.StatusAccessDenied
	}
	a, err := t.attrOf(ctx, o)
	if err != nil {
		return nil, errStatus(err)
	}
	end := min(q.FileOffset+q.Length, uint64(a.Size))
	if q.Length == 0 || q.FileOffset >= end {
		return nil, ntstatus.StatusSuccess
	}
	if req.MaxOutputResponse < 16 {
		return nil, ntstatus.StatusBufferTooSmall
	}
	ranges := [][2]uint64{{q.FileOffset, end}}
	if a.DOS&vfs.DOSSparse != 0 && o.h != nil {
		if ranges, err = sparseRanges(ctx, o.h, q.FileOffset, end); err != nil {
			return nil, errStatus(err)
		}
	}
	var l fscc.FileAllocatedRangeBufferList
	l.Reset(scratch(r, 16*min(len(ranges), 64)))
	st := ntstatus.StatusSuccess
	for i, rg := range ranges {
		if uint32(i+1)*16 > req.MaxOutputResponse {
			st = ntstatus.StatusBufferOverflow
			break
		}
		l.Add(&fscc.FileAllocatedRangeBuffer{FileOffset: rg[0], Length: rg[1] - rg[0]})
	}
	return l.Bytes(), st
}

const (
	sparseChunk     = 64 << 10  // NTFS's deallocation unit
	sparseScanLimit = 256 << 20 // bytes of a sparse file read to find holes
)

// sparseRanges returns the allocated ranges within [off, end) of a sparse file: the
// aligned sparseChunk chunks that hold a non-zero byte, merged and clipped to [off, end).
func sparseRanges(ctx context.Context, h vfs.Handle, off, end uint64) ([][2]uint64, error) {
	var out [][2]uint64
	add := func(from, to uint64) {
		from, to = max(from, off), min(to, end)
		if n := len(out); n > 0 && out[n-1][1] == from {
			out[n-1][1] = to
			return
		}
		out = append(out, [2]uint64{from, to})
	}
	bp := chunkPool.Get().(*[]byte)
	defer chunkPool.Put(bp)
	buf := (*bp)[:sparseChunk]
	scanned := uint64(0)
	for c := off &^ (sparseChunk - 1); c < end; c += sparseChunk {
		if scanned >= sparseScanLimit {
			add(c, end)
			break
		}
		n, err := h.ReadAt(ctx, buf, int64(c))
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		scanned += sparseChunk
		if !allZero(buf[:n]) {
			add(c, c+sparseChunk)
		}
	}
	return out, nil
}

func allZero(b []byte) bool {
	for len(b) >= 8 {
		if binary.LittleEndian.Uint64(b) != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

var zeros [64 << 10]byte

// zeroData writes zeros over [FileOffset, BeyondFinalZero) within the file
// (FSCTL_SET_ZERO_DATA); it never extends the file.
func (t *Tree) zeroData(ctx context.Context, o *open, in []byte) ntstatus.Status {
	var z fscc.FileZeroDataInformation
	if len(in) < 16 || z.Decode(in) != nil {
		return ntstatus.StatusInvalidParameter
	}
	if int64(z.FileOffset) < 0 || int64(z.BeyondFinalZero) < 0 || z.FileOffset > z.BeyondFinalZero {
		return ntstatus.StatusInvalidParameter
	}
	if o.isDir {
		return ntstatus.StatusInvalidParameter
	}
	if o.access&dtyp.FileWriteData == 0 || o.h == nil {
		return ntstatus.StatusAccessDenied
	}
	w, ok := o.h.(vfs.HandleWriter)
	if !ok {
		return ntstatus.StatusAccessDenied
	}
	a, err := t.attrOf(ctx, o)
	if err != nil {
		return errStatus(err)
	}
	end := min(z.BeyondFinalZero, uint64(a.Size))
	if o.f.locks.conflict(o, z.FileOffset, end-min(end, z.FileOffset), true) {
		return ntstatus.StatusFileLockConflict
	}
	t.wtWrite(ctx, o) // writetime.go
	for off := z.FileOffset; off < end; {
		n := min(end-off, uint64(len(zeros)))
		if _, err := w.WriteAt(ctx, zeros[:n], int64(off)); err != nil {
			return errStatus(err)
		}
		off += n
	}
	return ntstatus.StatusSuccess
}
