package ntfs

import (
	"sync"
	"sync/atomic"

	"github.com/smbvfs/smbvfs/protocol/ntstatus"
	"github.com/smbvfs/smbvfs/protocol/smb2"
)

// brl is one byte-range lock.
type brl struct {
	o        *open
	off, len uint64
	excl     bool
}

func (l *brl) overlaps(off, n uint64) bool {
	if l.len == 0 || n == 0 {
		return false
	}
	return off < l.off+l.len && l.off < off+n
}

// lockTable holds the byte-range locks of one file (all its streams, told apart by the
// open's stream key). Reads and writes consult it only when it holds locks.
type lockTable struct {
	mu    sync.Mutex
	n     atomic.Int32
	locks []brl
}

// conflict reports whether an access by o to [off, off+n) meets a lock: a read meets
// the exclusive locks of other opens, a write meets those and every shared lock.
func (lt *lockTable) conflict(o *open, off, n uint64, write bool) bool {
	if lt.n.Load() == 0 || n == 0 {
		return false
	}
	lt.mu.Lock()
	defer lt.mu.Unlock()
	for i := range lt.locks {
		l := &lt.locks[i]
		if l.o.skey != o.skey || !l.overlaps(off, n) {
			continue
		}
		if l.excl && l.o != o {
			return true
		}
		if write && !l.excl {
			return true
		}
	}
	return false
}

// lock takes a lock for o, or reports the conflict.
func (lt *lockTable) lock(o *open, off, n uint64, excl bool) ntstatus.Status {
	if n > 0 && off+n-1 < off {
		return ntstatus.StatusInvalidLockRange
	}
	lt.mu.Lock()
	defer lt.mu.Unlock()
	for i := range lt.locks {
		l := &lt.locks[i]
		if l.o.skey != o.skey || !l.overlaps(off, n) {
			continue
		}
		if excl || (l.excl && l.o != o) {
			return ntstatus.StatusLockNotGranted
		}
	}
	lt.locks = append(lt.locks, brl{o: o, off: off, len: n, excl: excl})
	lt.n.Add(1)
	return ntstatus.StatusSuccess
}

// unlock releases the lock of o at exactly [off, off+n).
func (lt *lockTable) unlock(o *open, off, n uint64) ntstatus.Status {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	for i := range lt.locks {
		l := &lt.locks[i]
		if l.o == o && l.off == off && l.len == n {
			lt.locks = append(lt.locks[:i], lt.locks[i+1:]...)
			lt.n.Add(-1)
			return ntstatus.StatusSuccess
		}
	}
	return ntstatus.StatusRangeNotLocked
}

// releaseOpen drops every lock of o (CLOSE).
func (lt *lockTable) releaseOpen(o *open) {
	if lt.n.Load() == 0 {
		return
	}
	lt.mu.Lock()
	defer lt.mu.Unlock()
	kept := lt.locks[:0]
	for _, l := range lt.locks {
		if l.o != o {
			kept = append(kept, l)
		}
	}
	for i := len(kept); i < len(lt.locks); i++ {
		lt.locks[i] = brl{}
	}
	lt.locks = kept
	lt.n.Store(int32(len(kept)))
}

// Lock implements SMB2 LOCK (MS-SMB2 3.3.5.14). Locks that would have to wait are not
// queued: without asynchronous completion from the connection engine, a blocking lock
// that conflicts fails at once with STATUS_LOCK_NOT_GRANTED.
func (t *Tree) Lock(r *Req, req *smb2.LockRequest, resp *smb2.LockResponse) ntstatus.Status {
	r.reset()
	o := t.get(req.FileId)
	if o == nil {
		return ntstatus.StatusFileClosed
	}
	*resp = smb2.LockResponse{}
	type elem struct {
		off, n uint64
		flags  smb2.LockFlags
	}
	var elems [16]elem
	list := elems[:0]
	it := req.Locks.Iter()
	for it.Next() {
		e := it.Value()
		list = append(list, elem{e.Offset, e.Length, e.Flags})
	}
	if it.Err() != nil || len(list) == 0 {
		return ntstatus.StatusInvalidParameter
	}
	if o.isDir {
		return ntstatus.StatusInvalidParameter
	}
	lt := &o.f.locks
	if list[0].flags&smb2.LockFlagUnlock != 0 {
		for _, e := range list {
			if e.flags != smb2.LockFlagUnlock {
				return ntstatus.StatusInvalidParameter
			}
		}
		for _, e := range list {
			if st := lt.unlock(o, e.off, e.n); st != ntstatus.StatusSuccess {
				return st
			}
		}
		return ntstatus.StatusSuccess
	}
	for _, e := range list {
		switch e.flags {
		case smb2.LockFlagSharedLock | smb2.LockFlagFailImmediately, smb2.LockFlagExclusiveLock | smb2.LockFlagFailImmediately:
		case smb2.LockFlagSharedLock, smb2.LockFlagExclusiveLock:
			if len(list) > 1 {
				return ntstatus.StatusInvalidParameter
			}
		default:
			return ntstatus.StatusInvalidParameter
		}
	}
	for i, e := range list {
		st := lt.lock(o, e.off, e.n, e.flags&smb2.LockFlagExclusiveLock != 0)
		if st != ntstatus.StatusSuccess {
			for _, u := range list[:i] {
				lt.unlock(o, u.off, u.n)
			}
			return st
		}
	}
	return ntstatus.StatusSuccess
}
