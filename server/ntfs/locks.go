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
	// MS-FSA 2.1.4.10: the {0, 0} range overlaps nothing; otherwise compare last bytes
	// (off+n-1), which also places a zero-length range just before off and lets a range
	// end at the very top of the 64-bit space.
	if (off == 0 && n == 0) || (l.off == 0 && l.len == 0) {
		return false
	}
	return off <= l.off+l.len-1 && off+n-1 >= l.off
}

// lockTable holds the byte-range locks of one file (all its streams, told apart by the
// open's stream key). Reads and writes consult it only when it holds locks.
type lockTable struct {
	mu    sync.Mutex
	n     atomic.Int32
	locks []brl
	// changed is closed (and dropped) when locks are released: blocking lock requests
	// wait on it and try again.
	changed chan struct{}
}

// released wakes the blocking lock requests; lt.mu is held.
func (lt *lockTable) released() {
	if lt.changed != nil {
		close(lt.changed)
		lt.changed = nil
	}
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
	st, _ := lt.lockOrWatch(o, off, n, excl, false)
	return st
}

// lockOrWatch takes a lock for o. On a conflict it reports STATUS_LOCK_NOT_GRANTED and,
// when watch is set, a channel closed at the next release of a lock of the file, taken
// under the same mutex so that no release in between is missed.
func (lt *lockTable) lockOrWatch(o *open, off, n uint64, excl, watch bool) (ntstatus.Status, <-chan struct{}) {
	if n > 0 && off+n-1 < off {
		return ntstatus.StatusInvalidLockRange, nil
	}
	lt.mu.Lock()
	defer lt.mu.Unlock()
	if o.closed.Load() {
		// The handle was closed under a waiting lock request (Windows and Samba answer so).
		return ntstatus.StatusRangeNotLocked, nil
	}
	for i := range lt.locks {
		l := &lt.locks[i]
		if l.o.skey != o.skey || !l.overlaps(off, n) {
			continue
		}
		// An exclusive request meets every overlapping lock, its own open's too; a shared
		// one meets the exclusive locks of other opens (a shared lock may stack on the
		// open's own exclusive lock, as Windows allows).
		if excl || (l.excl && l.o != o) {
			if !watch {
				return ntstatus.StatusLockNotGranted, nil
			}
			if lt.changed == nil {
				lt.changed = make(chan struct{})
			}
			return ntstatus.StatusLockNotGranted, lt.changed
		}
	}
	lt.locks = append(lt.locks, brl{o: o, off: off, len: n, excl: excl})
	lt.n.Add(1)
	return ntstatus.StatusSuccess, nil
}

// unlock releases the lock of o at exactly [off, off+n).
func (lt *lockTable) unlock(o *open, off, n uint64) ntstatus.Status {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	for i := range lt.locks {
		l := &lt.locks[i]
		if l.o == o && l.off == off && l.len == n {
			lt.locks = append(lt.locks[:i], lt.locks[i+1:]...)
			lt.locks[len(lt.locks):cap(lt.locks)][0] = brl{}
			lt.n.Add(-1)
			lt.released()
			return ntstatus.StatusSuccess
		}
	}
	return ntstatus.StatusRangeNotLocked
}

// releaseOpen drops every lock of o (CLOSE).
func (lt *lockTable) releaseOpen(o *open) {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	lt.released() // also wakes a lock request of o itself, which then fails
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

// Lock implements SMB2 LOCK (MS-SMB2 3.3.5.14). A blocking lock (one element without
// SMB2_LOCKFLAG_FAIL_IMMEDIATELY) waits until the conflicting locks are released or r.Ctx
// ends, which answers STATUS_CANCELLED; the connection engine runs such a request
// asynchronously.
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
		// Elements are unlocked in order; the first bad one stops the request and what was
		// unlocked before it stays unlocked (MS-SMB2 3.3.5.14.1).
		for _, e := range list {
			if e.flags != smb2.LockFlagUnlock {
				return ntstatus.StatusInvalidParameter
			}
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
	t.s.breakLevelII(o) // oplock.go
	if len(list) == 1 && list[0].flags&smb2.LockFlagFailImmediately == 0 {
		e := list[0]
		for {
			st, changed := lt.lockOrWatch(o, e.off, e.n, e.flags&smb2.LockFlagExclusiveLock != 0, true)
			if changed == nil {
				return st
			}
			select {
			case <-changed:
			case <-r.ctx().Done():
				return ntstatus.StatusCancelled
			}
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
