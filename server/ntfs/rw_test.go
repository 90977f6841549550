package ntfs

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/smbvfs/smbvfs/protocol/dtyp"
	"github.com/smbvfs/smbvfs/protocol/fscc"
	"github.com/smbvfs/smbvfs/protocol/ntstatus"
	"github.com/smbvfs/smbvfs/protocol/smb2"
)

func TestReadWrite(t *testing.T) {
	for _, b := range writable {
		t.Run(b.name, func(t *testing.T) {
			c := connect(t, b.new(t), ShareOptions{})
			fid := c.mustOpen("f", smb2.FileCreate, 0)
			big := bytes.Repeat([]byte("0123456789abcdef"), 8<<20/16) // 8 MiB: large MTU
			if n, st := c.write(fid, 0, big); st != ntstatus.StatusSuccess || n != uint32(len(big)) {
				t.Fatalf("write: %v %d", st, n)
			}
			data, st := c.read(fid, 0, uint32(len(big)))
			if st != ntstatus.StatusSuccess || !bytes.Equal(data, big) {
				t.Fatalf("read back: %v %d", st, len(data))
			}
			if _, st := c.read(fid, 0, uint32(len(big))+1); st != ntstatus.StatusInvalidParameter {
				t.Errorf("read over MaxRead: %v", st)
			}
			if _, st := c.read(fid, uint64(len(big)), 10); st != ntstatus.StatusEndOfFile {
				t.Errorf("read at EOF: %v", st)
			}
			if _, st := c.read(fid, uint64(len(big))+100, 10); st != ntstatus.StatusEndOfFile {
				t.Errorf("read past EOF: %v", st)
			}
			var resp smb2.ReadResponse
			st = c.tree.Read(&c.r, &smb2.ReadRequest{FileId: fid, Offset: uint64(len(big)) - 5, Length: 10, MinimumCount: 6}, &resp)
			if st != ntstatus.StatusEndOfFile {
				t.Errorf("MinimumCount: %v", st)
			}
			st = c.tree.Read(&c.r, &smb2.ReadRequest{FileId: fid, Offset: uint64(len(big)) - 5, Length: 10, MinimumCount: 5}, &resp)
			if st != ntstatus.StatusSuccess || len(resp.Data) != 5 {
				t.Errorf("short read: %v %d", st, len(resp.Data))
			}
			// Offset -1 (the local API's write-to-end) and the range past NTFS's largest
			// file are invalid over SMB2, as on Windows.
			for _, off := range []uint64{math.MaxUint64, math.MaxUint64 - 1, math.MaxInt64, maxFileSize} {
				if _, st := c.write(fid, off, []byte("tail")); st != ntstatus.StatusInvalidParameter {
					t.Errorf("write at %#x: %v", off, st)
				}
			}
			if n, st := c.write(fid, maxFileSize, nil); st != ntstatus.StatusSuccess || n != 0 {
				t.Errorf("empty write at the largest size: %v %d", st, n)
			}
			if si := c.standard(fid); si.EndOfFile != uint64(len(big)) {
				t.Errorf("after invalid writes: %d", si.EndOfFile)
			}
			// A read of nothing with a minimum count is an end of file; a read moves the
			// position.
			st = c.tree.Read(&c.r, &smb2.ReadRequest{FileId: fid, Offset: uint64(len(big)), MinimumCount: 1}, &resp)
			if st != ntstatus.StatusEndOfFile {
				t.Errorf("empty read with MinimumCount: %v", st)
			}
			if _, st := c.read(fid, 0, 10); st != ntstatus.StatusSuccess {
				t.Fatal(st)
			}
			if b, _ := c.query(fid, smb2.InfoFile, uint8(fscc.ClassFilePositionInformation), 64); len(b) != 8 || binary.LittleEndian.Uint64(b) != 10 {
				t.Errorf("position after read: %x", b)
			}
			// Write-through and flush.
			var wresp smb2.WriteResponse
			if st := c.tree.Write(&c.r, &smb2.WriteRequest{FileId: fid, Data: []byte("x"), Flags: smb2.WriteFlagWriteThrough}, &wresp); st != ntstatus.StatusSuccess {
				t.Error(st)
			}
			var fresp smb2.FlushResponse
			if st := c.tree.Flush(&c.r, &smb2.FlushRequest{FileId: fid}, &fresp); st != ntstatus.StatusSuccess {
				t.Errorf("flush: %v", st)
			}
			c.mustClose(fid)
			if _, st := c.read(fid, 0, 1); st != ntstatus.StatusFileClosed {
				t.Errorf("read after close: %v", st)
			}
			// Append-only access cannot overwrite.
			ap, _, _ := c.create("f", createOpts{access: dtyp.FileAppendData, share: shareAll, disp: smb2.FileOpen})
			if _, st := c.write(ap, 0, []byte("x")); st != ntstatus.StatusAccessDenied {
				t.Errorf("append-only overwrite: %v", st)
			}
			a := c.standard(ap)
			if _, st := c.write(ap, a.EndOfFile, []byte("x")); st != ntstatus.StatusSuccess {
				t.Errorf("append-only append: %v", st)
			}
			c.mustClose(ap)
			// A directory cannot be read.
			c.mkdir("d")
			d := c.mustOpen("d", smb2.FileOpen, 0)
			if _, st := c.read(d, 0, 1); st != ntstatus.StatusInvalidDeviceRequest {
				t.Errorf("read dir: %v", st)
			}
			// CLOSE with POSTQUERY_ATTRIB.
			var cresp smb2.CloseResponse
			c.tree.Close(&c.r, &smb2.CloseRequest{FileId: d, Flags: smb2.CloseFlagPostqueryAttrib}, &cresp)
			if cresp.FileAttributes&fscc.FileAttributeDirectory == 0 || cresp.LastWriteTime == 0 {
				t.Errorf("postquery: %+v", cresp)
			}
		})
	}
}

func TestReadIntoReqBuf(t *testing.T) {
	c := connect(t, writable[0].new(t), ShareOptions{})
	c.mkfile("f", "abcdef")
	fid := c.mustOpen("f", smb2.FileOpen, 0)
	var resp smb2.ReadResponse
	req := &smb2.ReadRequest{FileId: fid, Length: 6}
	if st := c.tree.Read(&c.r, req, &resp); st != ntstatus.StatusSuccess || &resp.Data[0] != &c.r.Buf[:1][0] {
		t.Errorf("read does not use Req.Buf")
	}
	allocs := testing.AllocsPerRun(200, func() { c.tree.Read(&c.r, req, &resp) })
	t.Logf("READ allocations: %.1f", allocs)
	if allocs > 2 {
		t.Errorf("READ allocates %.1f times", allocs)
	}
	wreq := &smb2.WriteRequest{FileId: fid, Data: []byte("xyz")}
	var wresp smb2.WriteResponse
	allocs = testing.AllocsPerRun(200, func() { c.tree.Write(&c.r, wreq, &wresp) })
	t.Logf("WRITE allocations: %.1f", allocs)
	if allocs > 2 {
		t.Errorf("WRITE allocates %.1f times", allocs)
	}
	c.mustClose(fid)
}

func TestLocks(t *testing.T) {
	s := NewShare("s", writable[0].new(t), ShareOptions{})
	c1, c2 := connectShare(t, s), connectShare(t, s)
	c1.mkfile("f", "0123456789")
	f1 := c1.mustOpen("f", smb2.FileOpen, 0)
	f2 := c2.mustOpen("f", smb2.FileOpen, 0)
	lock := func(c *tc, fid smb2.FileId, off, n uint64, flags smb2.LockFlags) ntstatus.Status {
		req := &smb2.LockRequest{FileId: fid}
		req.Locks.Add(&smb2.LockElement{Offset: off, Length: n, Flags: flags})
		var resp smb2.LockResponse
		return c.tree.Lock(&c.r, req, &resp)
	}
	// lockAsync runs a blocking lock beside the connection's other requests, with a
	// request of its own.
	lockAsync := func(c *tc, fid smb2.FileId, off, n uint64, flags smb2.LockFlags, done chan<- ntstatus.Status) {
		own := *c
		go func() { done <- lock(&own, fid, off, n, flags) }()
	}
	const excl = smb2.LockFlagExclusiveLock | smb2.LockFlagFailImmediately
	const shared = smb2.LockFlagSharedLock | smb2.LockFlagFailImmediately
	if st := lock(c1, f1, 0, 5, excl); st != ntstatus.StatusSuccess {
		t.Fatal(st)
	}
	if st := lock(c2, f2, 2, 2, shared); st != ntstatus.StatusLockNotGranted {
		t.Errorf("shared over exclusive: %v", st)
	}
	// A blocking lock waits: until its context ends (CANCEL) ...
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	c2.r.Ctx = ctx
	if st := lock(c2, f2, 2, 2, smb2.LockFlagSharedLock); st != ntstatus.StatusCancelled {
		t.Errorf("cancelled blocking lock: %v", st)
	}
	cancel()
	c2.r.Ctx = nil
	// ... or until the conflicting lock goes, and then it is granted.
	granted := make(chan ntstatus.Status, 1)
	c3 := connectShare(t, s)
	f3 := c3.mustOpen("f", smb2.FileOpen, 0)
	lockAsync(c3, f3, 3, 1, smb2.LockFlagExclusiveLock, granted)
	waitForLockWaiter(t, c3.tree, f3)
	select {
	case st := <-granted:
		t.Fatalf("blocking lock returned %v while the range is locked", st)
	default:
	}
	if st := lock(c1, f1, 0, 5, smb2.LockFlagUnlock); st != ntstatus.StatusSuccess {
		t.Fatalf("unlock: %v", st)
	}
	if st := <-granted; st != ntstatus.StatusSuccess {
		t.Errorf("blocking lock after the unlock: %v", st)
	}
	// A waiting lock whose handle is closed completes with STATUS_RANGE_NOT_LOCKED.
	f4 := c2.mustOpen("f", smb2.FileOpen, 0)
	lockAsync(c2, f4, 3, 1, smb2.LockFlagSharedLock, granted)
	waitForLockWaiter(t, c2.tree, f4)
	c2.mustClose(f4)
	if st := <-granted; st != ntstatus.StatusRangeNotLocked {
		t.Errorf("waiting lock of a closed handle: %v", st)
	}
	c3.mustClose(f3)
	if st := lock(c1, f1, 0, 5, excl); st != ntstatus.StatusSuccess {
		t.Fatal(st)
	}
	if _, st := c2.read(f2, 0, 3); st != ntstatus.StatusFileLockConflict {
		t.Errorf("read in locked range: %v", st)
	}
	if _, st := c2.write(f2, 4, []byte("x")); st != ntstatus.StatusFileLockConflict {
		t.Errorf("write in locked range: %v", st)
	}
	if _, st := c2.read(f2, 5, 5); st != ntstatus.StatusSuccess {
		t.Errorf("read outside: %v", st)
	}
	if _, st := c1.read(f1, 0, 5); st != ntstatus.StatusSuccess {
		t.Errorf("owner read: %v", st)
	}
	if st := lock(c1, f1, 0, 5, smb2.LockFlagUnlock); st != ntstatus.StatusSuccess {
		t.Errorf("unlock: %v", st)
	}
	if st := lock(c1, f1, 0, 5, smb2.LockFlagUnlock); st != ntstatus.StatusRangeNotLocked {
		t.Errorf("double unlock: %v", st)
	}
	// Shared locks coexist and block writes, even the owner's.
	if lock(c1, f1, 0, 10, shared) != ntstatus.StatusSuccess || lock(c2, f2, 0, 10, shared) != ntstatus.StatusSuccess {
		t.Error("shared locks")
	}
	if _, st := c1.write(f1, 0, []byte("x")); st != ntstatus.StatusFileLockConflict {
		t.Errorf("write under shared lock: %v", st)
	}
	if st := lock(c1, f1, 0, 0, smb2.LockFlagUnlock|smb2.LockFlagSharedLock); st != ntstatus.StatusInvalidParameter {
		t.Errorf("bad flags: %v", st)
	}
	if st := lock(c1, f1, ^uint64(0), 2, excl); st != ntstatus.StatusInvalidLockRange {
		t.Errorf("wrapping range: %v", st)
	}
	// The last byte of the 64-bit space can be locked, and then conflicts.
	if st := lock(c1, f1, ^uint64(0), 1, excl); st != ntstatus.StatusSuccess {
		t.Errorf("lock of the last byte: %v", st)
	}
	if st := lock(c2, f2, ^uint64(0), 1, shared); st != ntstatus.StatusLockNotGranted {
		t.Errorf("second lock of the last byte: %v", st)
	}
	// A shared lock stacks on the open's own exclusive lock; an exclusive one does not.
	if st := lock(c1, f1, ^uint64(0), 1, shared); st != ntstatus.StatusSuccess {
		t.Errorf("shared over own exclusive: %v", st)
	}
	if st := lock(c1, f1, ^uint64(0), 1, excl); st != ntstatus.StatusLockNotGranted {
		t.Errorf("exclusive over own locks: %v", st)
	}
	// Zero-length locks: {0,0} meets nothing; elsewhere one conflicts with ranges around it.
	if lock(c1, f1, 0, 0, excl) != ntstatus.StatusSuccess || lock(c2, f2, 0, 0, excl) != ntstatus.StatusSuccess {
		t.Error("{0,0} locks")
	}
	if st := lock(c1, f1, 100, 0, excl); st != ntstatus.StatusSuccess {
		t.Errorf("zero-length lock: %v", st)
	}
	if st := lock(c2, f2, 90, 20, excl); st != ntstatus.StatusLockNotGranted {
		t.Errorf("range over a zero-length lock: %v", st)
	}
	// Unlocks run in order: the first that fails stops the request, earlier ones stay done.
	req := &smb2.LockRequest{FileId: f1}
	req.Locks.Add(&smb2.LockElement{Offset: 100, Length: 0, Flags: smb2.LockFlagUnlock})
	req.Locks.Add(&smb2.LockElement{Offset: 9999, Length: 1, Flags: smb2.LockFlagUnlock})
	req.Locks.Add(&smb2.LockElement{Offset: 9999, Length: 1, Flags: 0})
	var resp smb2.LockResponse
	if st := c1.tree.Lock(&c1.r, req, &resp); st != ntstatus.StatusRangeNotLocked {
		t.Errorf("unlock list: %v", st)
	}
	if st := lock(c2, f2, 90, 20, excl); st != ntstatus.StatusSuccess {
		t.Errorf("range after its zero-length lock was unlocked: %v", st)
	}
	// Closing releases the locks.
	c2.mustClose(f2)
	c1.mustClose(f1)
	f1 = c1.mustOpen("f", smb2.FileOpen, 0)
	if _, st := c1.write(f1, 0, []byte("x")); st != ntstatus.StatusSuccess {
		t.Errorf("write after close of lockers: %v", st)
	}
	c1.mustClose(f1)
}

// waitForLockWaiter waits until a blocking lock request waits on the locks of fid's file.
func waitForLockWaiter(t *testing.T, tree *Tree, fid smb2.FileId) {
	t.Helper()
	lt := &tree.get(fid).f.locks
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		lt.mu.Lock()
		waiting := lt.changed != nil
		lt.mu.Unlock()
		if waiting {
			return
		}
	}
	t.Fatal("no lock request waits")
}

func TestCopyChunk(t *testing.T) {
	for _, b := range writable {
		t.Run(b.name, func(t *testing.T) {
			c := connect(t, b.new(t), ShareOptions{})
			src := bytes.Repeat([]byte("source--"), 300000) // 2.4 MB
			fid := c.mustOpen("src", smb2.FileCreate, 0)
			c.write(fid, 0, src)
			out, st := c.ioctl(fid, fscc.FsctlSrvRequestResumeKey, nil, 32)
			if st != ntstatus.StatusSuccess {
				t.Fatal(st)
			}
			var key fscc.SrvRequestResumeKey
			if err := key.Decode(out); err != nil {
				t.Fatal(err)
			}
			dst := c.mustOpen("dst", smb2.FileCreate, 0)
			cc := fscc.SrvCopychunkCopy{SourceKey: key.ResumeKey}
			for off := 0; off < len(src); off += 1 << 20 {
				n := min(1<<20, len(src)-off)
				cc.Chunks.Add(&fscc.SrvCopychunk{SourceOffset: uint64(off), TargetOffset: uint64(off), Length: uint32(n)})
			}
			in, _ := cc.Append(nil)
			out, st = c.ioctl(dst, fscc.FsctlSrvCopychunkWrite, in, 12)
			var cr fscc.SrvCopychunkResponse
			cr.Decode(out)
			if st != ntstatus.StatusSuccess || cr.ChunksWritten != 3 || cr.TotalBytesWritten != uint32(len(src)) {
				t.Fatalf("copy: %v %+v", st, cr)
			}
			if data, _ := c.read(dst, 0, uint32(len(src))); !bytes.Equal(data, src) {
				t.Error("copied data differs")
			}
			// Over the limits: INVALID_PARAMETER with the limits in the body.
			big := fscc.SrvCopychunkCopy{SourceKey: key.ResumeKey}
			big.Chunks.Add(&fscc.SrvCopychunk{Length: 2 << 20})
			in, _ = big.Append(nil)
			out, st = c.ioctl(dst, fscc.FsctlSrvCopychunk, in, 12)
			cr.Decode(out)
			if st != ntstatus.StatusInvalidParameter || !c.r.BodyOnError || cr.ChunksWritten != 256 || cr.ChunkBytesWritten != 1<<20 || cr.TotalBytesWritten != 16<<20 {
				t.Errorf("limits: %v %v %+v", st, c.r.BodyOnError, cr)
			}
			// Past the end of the source.
			past := fscc.SrvCopychunkCopy{SourceKey: key.ResumeKey}
			past.Chunks.Add(&fscc.SrvCopychunk{SourceOffset: uint64(len(src)) - 10, Length: 100})
			in, _ = past.Append(nil)
			if _, st = c.ioctl(dst, fscc.FsctlSrvCopychunk, in, 12); st != ntstatus.StatusInvalidViewSize {
				t.Errorf("past EOF: %v", st)
			}
			// An unknown key.
			bad := fscc.SrvCopychunkCopy{}
			bad.Chunks.Add(&fscc.SrvCopychunk{Length: 1})
			in, _ = bad.Append(nil)
			if _, st = c.ioctl(dst, fscc.FsctlSrvCopychunk, in, 12); st != ntstatus.StatusObjectNameNotFound {
				t.Errorf("bad key: %v", st)
			}
			// COPYCHUNK (not _WRITE) needs read access on the target.
			wo, _, _ := c.create("dst", createOpts{access: dtyp.FileWriteData, share: shareAll, disp: smb2.FileOpen})
			in, _ = cc.Append(nil)
			if _, st = c.ioctl(wo, fscc.FsctlSrvCopychunk, in, 12); st != ntstatus.StatusAccessDenied {
				t.Errorf("copychunk to write-only: %v", st)
			}
			c.mustClose(wo)
			c.mustClose(fid)
			c.mustClose(dst)
		})
	}
}

func TestSparseAndZeroData(t *testing.T) {
	for _, b := range writable {
		t.Run(b.name, func(t *testing.T) {
			c := connect(t, b.new(t), ShareOptions{})
			fid := c.mustOpen("f", smb2.FileCreate, 0)
			c.write(fid, 0, bytes.Repeat([]byte{0xAA}, 100000))
			if _, st := c.ioctl(fid, fscc.FsctlSetSparse, nil, 0); st != ntstatus.StatusSuccess {
				t.Fatal(st)
			}
			out, _ := c.query(fid, smb2.InfoFile, uint8(fscc.ClassFileBasicInformation), 40)
			var bi fscc.FileBasicInformation
			bi.Decode(out)
			if b.name == "memfs" && bi.FileAttributes&fscc.FileAttributeSparseFile == 0 {
				t.Errorf("sparse attribute not set: %v", bi.FileAttributes)
			}
			z := fscc.FileZeroDataInformation{FileOffset: 1000, BeyondFinalZero: 2000}
			in, _ := z.Append(nil)
			if _, st := c.ioctl(fid, fscc.FsctlSetZeroData, in, 0); st != ntstatus.StatusSuccess {
				t.Fatal(st)
			}
			data, _ := c.read(fid, 0, 100000)
			if data[999] != 0xAA || data[1000] != 0 || data[1999] != 0 || data[2000] != 0xAA {
				t.Error("zeroed range")
			}
			z = fscc.FileZeroDataInformation{FileOffset: 90000, BeyondFinalZero: 200000}
			in, _ = z.Append(nil)
			c.ioctl(fid, fscc.FsctlSetZeroData, in, 0)
			if si := c.standard(fid); si.EndOfFile != 100000 {
				t.Errorf("zero data extended the file: %d", si.EndOfFile)
			}
			q := fscc.FileAllocatedRangeBuffer{FileOffset: 0, Length: 1 << 30}
			in, _ = q.Append(nil)
			out, st := c.ioctl(fid, fscc.FsctlQueryAllocatedRanges, in, 1024)
			var l fscc.FileAllocatedRangeBufferList
			if st != ntstatus.StatusSuccess || l.Decode(out, -1) != nil || l.Count() != 1 {
				t.Errorf("allocated ranges: %v %d", st, l.Count())
			}
			if b.name == "memfs" {
				// A zeroed aligned 64 KiB chunk of a sparse file is a hole.
				z = fscc.FileZeroDataInformation{FileOffset: 0, BeyondFinalZero: 65536}
				in, _ = z.Append(nil)
				c.ioctl(fid, fscc.FsctlSetZeroData, in, 0)
				q := fscc.FileAllocatedRangeBuffer{FileOffset: 1, Length: 1 << 30}
				in, _ = q.Append(nil)
				out, st = c.ioctl(fid, fscc.FsctlQueryAllocatedRanges, in, 1024)
				if st != ntstatus.StatusSuccess || l.Decode(out, -1) != nil || l.Count() != 1 {
					t.Fatalf("allocated ranges after punch: %v %d", st, l.Count())
				}
				it := l.Iter()
				it.Next()
				if r := it.Value(); r.FileOffset != 65536 || r.Length != 100000-65536 {
					t.Errorf("allocated range after punch: %+v", r)
				}
				q = fscc.FileAllocatedRangeBuffer{FileOffset: 0, Length: 65536}
				in, _ = q.Append(nil)
				if out, st = c.ioctl(fid, fscc.FsctlQueryAllocatedRanges, in, 1024); st != ntstatus.StatusSuccess || len(out) != 0 {
					t.Errorf("hole: %v %d bytes", st, len(out))
				}
			}
			z = fscc.FileZeroDataInformation{FileOffset: 10, BeyondFinalZero: 5}
			in, _ = z.Append(nil)
			if _, st := c.ioctl(fid, fscc.FsctlSetZeroData, in, 0); st != ntstatus.StatusInvalidParameter {
				t.Errorf("inverted range: %v", st)
			}
			if _, st := c.ioctl(fid, fscc.FsctlPipeTransceive, nil, 100); st != ntstatus.StatusInvalidDeviceRequest {
				t.Errorf("pipe FSCTL on a file: %v", st)
			}
			var resp smb2.IoctlResponse
			if st := c.tree.Ioctl(&c.r, &smb2.IoctlRequest{CtlCode: fscc.IoctlStorageQueryProperty, FileId: fid}, &resp); st != ntstatus.StatusNotSupported {
				t.Errorf("IOCTL: %v", st)
			}
			c.mustClose(fid)
		})
	}
}

func TestOplockBreakAndNotify(t *testing.T) {
	c := connect(t, writable[0].new(t), ShareOptions{})
	fid := c.mustOpen("f", smb2.FileCreate, 0)
	var resp smb2.OplockBreakResponseForms
	req := &smb2.OplockBreakRequestForms{Size: 24, OplockBreakAcknowledgment: smb2.OplockBreakAcknowledgment{FileId: fid}}
	if st := c.tree.OplockBreak(&c.r, req, &resp); st != ntstatus.StatusInvalidOplockProtocol {
		t.Errorf("oplock ack: %v", st)
	}
	if st := c.tree.OplockBreak(&c.r, &smb2.OplockBreakRequestForms{Size: 36}, &resp); st != ntstatus.StatusObjectNameNotFound {
		t.Errorf("lease ack: %v", st)
	}
	c.mustClose(fid)
	// CHANGE_NOTIFY waits for a change; a cancelled request ends (oplock_test.go tests more).
	d := c.mustOpen("", smb2.FileOpen, 0)
	var nresp smb2.ChangeNotifyResponse
	r := c.r
	r.Ctx = cancelledCtx()
	if st := c.tree.ChangeNotify(&r, &smb2.ChangeNotifyRequest{FileId: d, OutputBufferLength: 1024}, &nresp); st != ntstatus.StatusCancelled {
		t.Errorf("notify: %v", st)
	}
	c.mustClose(d)
}

// TestConcurrentTrees runs many tree connects of one share at once, under -race.
func TestConcurrentTrees(t *testing.T) {
	for _, b := range writable {
		t.Run(b.name, func(t *testing.T) {
			s := NewShare("s", b.new(t), ShareOptions{})
			setup := connectShare(t, s)
			setup.mkdir("d")
			setup.mkfile("shared", "")
			var wg sync.WaitGroup
			for g := range 8 {
				c := connectShare(t, s)
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range 50 {
						name := fmt.Sprintf("d\\g%d-%d", g, i)
						fid, st := c.open(name, smb2.FileCreate, 0)
						if st != ntstatus.StatusSuccess {
							t.Errorf("%s: %v", name, st)
							return
						}
						c.write(fid, 0, []byte(name))
						c.read(fid, 0, 100)
						c.rename(fid, name+".renamed", false)
						c.set(fid, fscc.ClassFileDispositionInformation, []byte{byte(i % 2)})
						c.close(fid)
						// Contend on one file with exclusive opens.
						sf, _, st := c.create("shared", createOpts{access: dtyp.FileWriteData, share: 0, disp: smb2.FileOpen})
						if st == ntstatus.StatusSuccess {
							c.write(sf, 0, []byte("x"))
							c.close(sf)
						} else if st != ntstatus.StatusSharingViolation {
							t.Errorf("shared: %v", st)
						}
					}
				}()
			}
			wg.Wait()
			d := setup.mustOpen("d", smb2.FileOpen, smb2.FileDirectoryFile)
			names, _ := setup.list(d, "*.renamed", 65536)
			if len(names) != 8*25 {
				t.Errorf("%d files left, want %d", len(names), 8*25)
			}
			setup.mustClose(d)
			if n := s.OpenCount(); n != 0 {
				t.Errorf("%d opens left", n)
			}
		})
	}
}
