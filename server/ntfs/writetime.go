package ntfs

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smbvfs/smbvfs/backends/vfs"
	"github.com/smbvfs/smbvfs/protocol/dtyp"
)

// LastWriteTime of files with opens (MS-FSA 2.1.5.4 "Server Requests a Write", with the
// behaviour of NTFS and Samba that smbtorture's smb2.timestamps checks):
//
//   - The first write through an open does not change LastWriteTime at once: it schedules
//     the update writeTimeDelay later. Further writes through that open do not move it
//     again; they only make the close of the open set it.
//   - A FLUSH, or a FileBasicInformation SET_INFO, through an open with writes not yet
//     reflected does the pending update at once. FileEndOfFileInformation and
//     FileAllocationInformation update it at once, even to the same size.
//   - CLOSE of an open with writes not yet reflected sets it to the time of the close.
//   - An explicit LastWriteTime (or -1, MS-FSA 2.1.5.14.2) in FileBasicInformation sets
//     Open.UserSetModificationTime: that open no longer updates the time; -2 clears it.
//
// The backend stamps its own Modified on every write; while a file is open the engine
// reports its own value instead (wtAttr), writes it through vfs.AttrSetter when it
// changes, and once more when the last open closes, so that the backend keeps the time
// clients saw.

// writeTimeDelay is the delay of the write-time update of an open's first write (Samba's
// and Windows Server's 2 seconds).
var writeTimeDelay = 2 * time.Second

// wtActive counts the files (of every share) whose LastWriteTime the engine overrides:
// directory listings only look the files up when it is not 0.
var wtActive atomic.Int64

// fileWT is the write-time state of a file (all its streams) while it has opens.
type fileWT struct {
	mu     sync.Mutex
	active bool      // t overrides the backend's Modified
	t      time.Time // LastWriteTime as clients see it
}

// openWT is the write-time state of an open; guarded by its file's fileWT.mu.
type openWT struct {
	triggered bool        // a write has scheduled (or done) the delayed update
	dirty     bool        // written since the last update of the time by this open
	userSet   bool        // Open.UserSetModificationTime
	done      bool        // closed
	timer     *time.Timer // the pending delayed update
}

// activate starts overriding the backend's time with t; call with mu held.
func (w *fileWT) activate(t time.Time) {
	if !w.active {
		w.active = true
		wtActive.Add(1)
	}
	w.t = t
}

// stopTimer cancels the pending delayed update of o; call with o.f.wt.mu held.
func (w *openWT) stopTimer() {
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
}

// wtAttr replaces the Modified time of a (attributes of f) by the engine's, if any.
func (s *Share) wtAttr(f *file, a vfs.Attr) vfs.Attr {
	if f == nil || f.isDir {
		return a
	}
	f.wt.mu.Lock()
	if f.wt.active {
		a.Modified = f.wt.t
	}
	f.wt.mu.Unlock()
	return a
}

// wtListed is wtAttr for a directory entry: a is the backend's attributes of a file that
// may be open.
func (s *Share) wtListed(a vfs.Attr) vfs.Attr {
	if wtActive.Load() == 0 || a.IsDir() {
		return a
	}
	s.mu.Lock()
	f := s.files[a.ID]
	s.mu.Unlock()
	return s.wtAttr(f, a)
}

// wtBackendTime reads the backend's Modified time of f.
func (s *Share) wtBackendTime(ctx context.Context, f *file) (time.Time, bool) {
	n, err := s.nodeOf(ctx, f)
	if err != nil {
		return time.Time{}, false
	}
	a, err := n.Attr(ctx)
	if err != nil {
		return time.Time{}, false
	}
	return a.Modified, true
}

// wtPin makes the engine override f's time (from the backend's current value) so that a
// change of the data does not show through; it reports false when the time cannot be
// read. It returns with f.wt.mu held when it reports true.
func (s *Share) wtPin(ctx context.Context, f *file) bool {
	f.wt.mu.Lock()
	if f.wt.active {
		return true
	}
	f.wt.mu.Unlock()
	t, ok := s.wtBackendTime(ctx, f)
	f.wt.mu.Lock()
	if f.wt.active {
		return true
	}
	if !ok {
		f.wt.mu.Unlock()
		return false
	}
	f.wt.activate(t)
	return true
}

// wtStamp sets f's time to now; call with f.wt.mu held. It returns the time to write
// through to the backend.
func wtStamp(f *file) time.Time {
	now := time.Now()
	if f.wt.active && !now.After(f.wt.t) && f.wt.t.Sub(now) < time.Second {
		// The clock went back a little: keep the time moving forward.
		now = f.wt.t.Add(100 * time.Nanosecond)
	}
	f.wt.activate(now)
	return now
}

// wtStore writes t through to the backend as f's Modified time.
func (s *Share) wtStore(ctx context.Context, f *file, t time.Time) {
	n, err := s.nodeOf(ctx, f)
	if err != nil {
		return
	}
	if as, ok := n.(vfs.AttrSetter); ok {
		s.quietly(f.id, func() { as.SetAttr(ctx, vfs.AttrChange{Modified: t}) }) // not a change to report (notify.go)
	}
}

// wtWrite is called before data is written through o (WRITE, copy-chunk destination,
// FSCTL_SET_ZERO_DATA).
func (t *Tree) wtWrite(ctx context.Context, o *open) {
	o.notifyWritten.Store(true) // its close reports the change (notify.go)
	s, f := t.s, o.f
	if f.isDir || !s.wtPin(ctx, f) {
		return
	}
	defer f.wt.mu.Unlock()
	w := &o.wt
	if w.userSet || w.done {
		return
	}
	w.dirty = true
	if !w.triggered {
		w.triggered = true
		w.timer = time.AfterFunc(writeTimeDelay, func() { s.wtFire(o) })
	}
}

// wtFire is the delayed update of o's first write.
func (s *Share) wtFire(o *open) {
	f := o.f
	f.wt.mu.Lock()
	w := &o.wt
	if w.done || w.timer == nil {
		f.wt.mu.Unlock()
		return
	}
	w.timer = nil
	if w.userSet {
		f.wt.mu.Unlock()
		return
	}
	w.dirty = false
	now := wtStamp(f)
	f.wt.mu.Unlock()
	s.wtStore(context.Background(), f, now)
}

// wtFlushPending does the pending update of o at once, when o has written since its
// last update (FLUSH, SET_INFO FileBasicInformation). Call with f.wt.mu held; it
// reports the time to store, if any.
func wtFlushPending(o *open) (time.Time, bool) {
	w := &o.wt
	if !w.dirty || w.userSet || w.done {
		return time.Time{}, false
	}
	w.stopTimer()
	w.dirty = false
	w.triggered = true
	return wtStamp(o.f), true
}

// wtFlush is called by FLUSH on o.
func (t *Tree) wtFlush(ctx context.Context, o *open) {
	f := o.f
	f.wt.mu.Lock()
	now, ok := wtFlushPending(o)
	f.wt.mu.Unlock()
	if ok {
		t.s.wtStore(ctx, f, now)
	}
}

// wtSetEOF is called before FileEndOfFileInformation or FileAllocationInformation
// changes the size through o: the time is updated at once, unless o has set it.
func (t *Tree) wtSetEOF(ctx context.Context, o *open) {
	s, f := t.s, o.f
	if f.isDir || !s.wtPin(ctx, f) {
		return
	}
	w := &o.wt
	if w.userSet || w.done {
		f.wt.mu.Unlock()
		return
	}
	w.stopTimer()
	w.dirty = false
	w.triggered = true
	now := wtStamp(f)
	f.wt.mu.Unlock()
	s.wtStore(ctx, f, now)
}

// wtSetBasic is called by SET_INFO FileBasicInformation on o before the times are
// applied, with the LastWriteTime of the request.
func (t *Tree) wtSetBasic(ctx context.Context, o *open, lastWrite dtyp.Filetime) {
	f := o.f
	if f.isDir {
		return
	}
	f.wt.mu.Lock()
	now, store := wtFlushPending(o)
	w := &o.wt
	switch {
	case lastWrite == ftSuspend:
		w.userSet = true
		w.stopTimer()
	case lastWrite == ftResume:
		w.userSet = false
	case settableTime(lastWrite):
		w.userSet = true
		w.stopTimer()
		w.dirty = false
		if f.wt.active {
			// setBasic stores it in the backend.
			f.wt.t = fromFiletime(lastWrite)
		}
	}
	f.wt.mu.Unlock()
	if store {
		t.s.wtStore(ctx, f, now)
	}
}

// wtClose is called when o closes (CLOSE before its response is built, and closeOpen):
// writes not yet reflected set the time.
func (t *Tree) wtClose(ctx context.Context, o *open) {
	f := o.f
	if f.isDir {
		return
	}
	f.wt.mu.Lock()
	w := &o.wt
	if w.done {
		f.wt.mu.Unlock()
		return
	}
	var now time.Time
	store := w.dirty && !w.userSet
	if store {
		now = wtStamp(f)
	}
	w.done = true
	w.dirty = false
	w.stopTimer()
	f.wt.mu.Unlock()
	if store {
		t.s.wtStore(ctx, f, now)
	}
}

// wtLastClose is called when the last open of f has closed: the engine's time is
// written to the backend (unless the file was deleted) and forgotten.
func (s *Share) wtLastClose(ctx context.Context, f *file, removed bool) {
	f.wt.mu.Lock()
	if !f.wt.active {
		f.wt.mu.Unlock()
		return
	}
	t := f.wt.t
	f.wt.active = false
	wtActive.Add(-1)
	f.wt.mu.Unlock()
	if !removed {
		s.wtStore(ctx, f, t)
	}
}
