package ntfs

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smbvfs/smbvfs/backends/vfs"
	"github.com/smbvfs/smbvfs/protocol/dtyp"
	"github.com/smbvfs/smbvfs/protocol/fscc"
	"github.com/smbvfs/smbvfs/protocol/ntstatus"
	"github.com/smbvfs/smbvfs/protocol/smb2"
	"github.com/smbvfs/smbvfs/protocol/utf16"
)

// CHANGE_NOTIFY (MS-SMB2 3.3.5.19, MS-FSA 2.1.5.11 "Server Requests Change
// Notifications for a Directory"). The first request on a directory open establishes a
// watch with that request's CompletionFilter; later requests on the open keep it (MS-SMB2
// 3.3.1.4: the filter of further requests is ignored). Requests queue on the watch and
// complete first in, first out: a change completes the oldest pending request at once,
// with the records of that one change; changes that find no request pending are buffered
// and complete the next request as soon as it arrives.
//
// The changes come from the backend's vfs.Watcher, which reports the server's own
// operations (through any open of any tree) and, where the backend sees them, changes
// from elsewhere. A backend without a Watcher reports nothing: its requests wait until
// cancelled. The server adds what NTFS reports and a backend cannot know: the close of an
// open that wrote or renamed its file reports the file modified (its size and write time,
// its attributes), the write times the engine stores for writes are not reported, and the
// attributes, extended attributes and security a CREATE gives a new file are part of its
// creation, reported as FILE_ACTION_ADDED only.

// maxNotifyBuffered bounds the bytes of records a watch keeps between requests; past it
// (or past the request's OutputBufferLength) the request completes with
// STATUS_NOTIFY_ENUM_DIR: the client must enumerate the directory again.
const maxNotifyBuffered = 64 << 10

// freshFor bounds how long a node the backend reports added counts as being created:
// until its creating open registers, or at most this long.
const freshFor = 2 * time.Second

// shareExt is the state of the Share used by oplocks and notifications.
type shareExt struct {
	breakTimeout atomic.Int64 // time.Duration; 0: the default
	levelII      atomic.Bool  // a LEVEL_II oplock was granted: writes look for some to break

	watchOnce sync.Once
	watching  bool // the backend is a vfs.Watcher and is watched
	nmu       sync.Mutex
	watches   map[*open]*notifyWatch
	fresh     map[uint64]time.Time // node IDs being created (their CREATE has not registered)
	quiet     map[uint64]int       // node IDs whose write time the engine is storing (quietly)
}

// notifyWatch is the watch of one directory open (MS-FSA ChangeNotifyEntry).
type notifyWatch struct {
	// Guarded by shareExt.nmu.
	path     []string // the directory's stored path, refreshed by each request
	filter   smb2.CompletionFilter
	tree     bool
	records  []notifyRecord
	size     int
	overflow bool
	limit    int  // bytes of records kept between requests: the first request's OutputBufferLength
	deleted  bool // the directory became delete pending
	f        *file
	pending  []*NotifyWait // queued requests, oldest first
}

type notifyRecord struct {
	action fscc.NotifyAction
	name   string // relative to the watched directory, backslash-separated
}

// A NotifyWait is a CHANGE_NOTIFY request queued on its directory's watch
// (StartChangeNotify); Wait blocks until it completes.
type NotifyWait struct {
	s     *Share
	w     *notifyWatch
	limit int           // OutputBufferLength
	done  chan struct{} // closed once completed
	// Set before done is closed, under nmu.
	completed bool
	status    ntstatus.Status
	records   []notifyRecord
}

// recordSize is the size of a FILE_NOTIFY_INFORMATION of name, aligned to 4.
func recordSize(name string) int {
	n := 12 + len(utf16.FromString(name))
	return (n + 3) &^ 3
}

// startWatching subscribes to the backend's changes once.
func (s *Share) startWatching() {
	s.ext.watchOnce.Do(func() {
		w, ok := s.fs.(vfs.Watcher)
		if !ok {
			return
		}
		// The subscription lasts as long as the share.
		if err := w.Watch(context.Background(), s.onChange); err == nil {
			s.ext.nmu.Lock()
			s.ext.watching = true
			s.ext.nmu.Unlock()
		}
	})
}

func splitPath(p string) []string {
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// relName returns the name of path relative to the watch, and whether the watch sees it.
func (w *notifyWatch) relName(path []string) (string, bool) {
	if len(path) <= len(w.path) {
		return "", false
	}
	for i, c := range w.path {
		if !strings.EqualFold(c, path[i]) {
			return "", false
		}
	}
	if !w.tree && len(path) != len(w.path)+1 {
		return "", false
	}
	return strings.Join(path[len(w.path):], `\`), true
}

// sameParent reports whether two paths name entries of one directory.
func sameParent(a, b []string) bool {
	if len(a) != len(b) || len(a) == 0 {
		return false
	}
	for i := range len(a) - 1 {
		if !strings.EqualFold(a[i], b[i]) {
			return false
		}
	}
	return true
}

// onChange turns one backend change into records for the watches that see it.
func (s *Share) onChange(c vfs.Change) {
	s.ext.nmu.Lock()
	defer s.ext.nmu.Unlock()
	switch {
	case c.Op == vfs.ChangeAdded && c.Stream == "":
		if s.ext.fresh == nil {
			s.ext.fresh = make(map[uint64]time.Time)
		}
		s.ext.fresh[c.ID] = time.Now()
	case c.Op == vfs.ChangeRemoved && c.Stream == "":
		delete(s.ext.fresh, c.ID)
	case c.Op == vfs.ChangeModified:
		if s.ext.quiet[c.ID] > 0 && c.What&^vfs.WhatTimes == 0 {
			return // the write time of a write, stored late (writetime.go)
		}
		if t, ok := s.ext.fresh[c.ID]; ok {
			if time.Since(t) < freshFor {
				return // the CREATE making the node sets it up
			}
			delete(s.ext.fresh, c.ID)
		}
	}
	var batch []notifyRecord
	for _, w := range s.ext.watches {
		batch = w.recordsOf(c, batch[:0])
		if len(batch) > 0 {
			w.deliver(batch)
		}
	}
}

// recordsOf appends the records c gives the watch.
func (w *notifyWatch) recordsOf(c vfs.Change, recs []notifyRecord) []notifyRecord {
	path, old := splitPath(c.Path), splitPath(c.OldPath)
	nameFilter := smb2.NotifyChangeFileName
	if c.Dir {
		nameFilter = smb2.NotifyChangeDirName
	}
	add := func(filter smb2.CompletionFilter, action fscc.NotifyAction, name string) {
		if w.filter&filter != 0 {
			recs = append(recs, notifyRecord{action, name})
		}
	}
	switch c.Op {
	case vfs.ChangeAdded, vfs.ChangeRemoved:
		action, filter := fscc.ActionAdded, nameFilter
		if c.Op == vfs.ChangeRemoved {
			action = fscc.ActionRemoved
		}
		name, ok := w.relName(path)
		if !ok {
			break
		}
		if c.Stream != "" {
			action, filter = fscc.ActionAddedStream, smb2.NotifyChangeStreamName
			if c.Op == vfs.ChangeRemoved {
				action = fscc.ActionRemovedStream
			}
			name += ":" + c.Stream
		}
		add(filter, action, name)
	case vfs.ChangeRenamed:
		oldName, okOld := w.relName(old)
		newName, okNew := w.relName(path)
		if okOld && okNew && !sameParent(old, path) {
			// A move to another directory is a removal and an addition (NTFS).
			add(nameFilter, fscc.ActionRemoved, oldName)
			add(nameFilter, fscc.ActionAdded, newName)
			break
		}
		switch {
		case okOld && okNew:
			add(nameFilter, fscc.ActionRenamedOldName, oldName)
			add(nameFilter, fscc.ActionRenamedNewName, newName)
		case okOld:
			add(nameFilter, fscc.ActionRemoved, oldName)
		case okNew:
			add(nameFilter, fscc.ActionAdded, newName)
		}
	case vfs.ChangeModified:
		name, ok := w.relName(path)
		if !ok {
			break
		}
		if c.What&vfs.WhatData != 0 {
			// Writes are not reported (neither their size, time nor archive-bit
			// changes), as Samba and as smbtorture smb2.notify.mask expect.
			break
		}
		var filter smb2.CompletionFilter
		action := fscc.ActionModified
		if c.What&vfs.WhatAttr != 0 {
			filter |= smb2.NotifyChangeAttributes
		}
		if c.What&vfs.WhatTimes != 0 {
			filter |= smb2.NotifyChangeLastWrite | smb2.NotifyChangeLastAccess | smb2.NotifyChangeCreation
		}
		if c.What&vfs.WhatXattr != 0 {
			filter |= smb2.NotifyChangeEa
		}
		if c.What&vfs.WhatSecurity != 0 {
			filter |= smb2.NotifyChangeSecurity
		}
		if c.What&vfs.WhatStream != 0 || c.Stream != "" {
			filter = smb2.NotifyChangeStreamSize | smb2.NotifyChangeStreamWrite
			action = fscc.ActionModifiedStream
			if c.Stream != "" {
				name += ":" + c.Stream
			}
		}
		add(filter, action, name)
	}
	return recs
}

// deliver hands the records of one change to the oldest pending request, or buffers
// them when none is pending; call with nmu held.
func (w *notifyWatch) deliver(recs []notifyRecord) {
	if len(w.pending) > 0 {
		p := w.pending[0]
		w.pending = w.pending[1:]
		p.complete(ntstatus.StatusSuccess, append([]notifyRecord(nil), recs...))
		return
	}
	if w.overflow {
		return
	}
	for _, r := range recs {
		w.size += recordSize(r.name)
		w.records = append(w.records, r)
	}
	if w.size > w.limit {
		w.overflow, w.records = true, nil
	}
}

// complete ends a request; call with nmu held, once.
func (p *NotifyWait) complete(st ntstatus.Status, recs []notifyRecord) {
	p.completed, p.status, p.records = true, st, recs
	close(p.done)
}

// drain completes every pending request of the watch with st; call with nmu held.
func (w *notifyWatch) drain(st ntstatus.Status) {
	for _, p := range w.pending {
		p.complete(st, nil)
	}
	w.pending = nil
}

// StartChangeNotify is the first half of SMB2 CHANGE_NOTIFY, run in the order of the
// connection's requests: it checks the request and queues it on the open's watch. A
// status other than StatusPending completes the request at once (an error, or the
// changes buffered since the previous request, in resp); otherwise the caller waits for
// the completion with Wait, asynchronously.
func (t *Tree) StartChangeNotify(r *Req, req *smb2.ChangeNotifyRequest, resp *smb2.ChangeNotifyResponse) (*NotifyWait, ntstatus.Status) {
	r.reset()
	o := t.get(req.FileId)
	if o == nil {
		return nil, ntstatus.StatusFileClosed
	}
	if !o.isDir {
		return nil, ntstatus.StatusInvalidParameter
	}
	if o.access&dtyp.FileReadData == 0 { // FILE_LIST_DIRECTORY
		return nil, ntstatus.StatusAccessDenied
	}
	if r.MaxTransact > 0 && int(req.OutputBufferLength) > r.MaxTransact {
		return nil, ntstatus.StatusInvalidParameter
	}
	s := t.s
	s.startWatching()
	s.mu.Lock()
	path := append([]string(nil), o.f.path...)
	pending := o.f.deletePending
	s.mu.Unlock()
	if pending {
		return nil, ntstatus.StatusDeletePending
	}

	s.ext.nmu.Lock()
	defer s.ext.nmu.Unlock()
	if o.closed.Load() {
		return nil, ntstatus.StatusNotifyCleanup
	}
	if s.ext.watches == nil {
		s.ext.watches = make(map[*open]*notifyWatch)
	}
	w := s.ext.watches[o]
	if w == nil {
		// The buffer between requests is sized by the first request (MS-CIFS 3.3.5.59.4,
		// which MS-SMB2 3.3.1.4 follows): when it is too small, every request after a
		// change completes with STATUS_NOTIFY_ENUM_DIR (smbtorture smb2.notify.valid-req).
		w = &notifyWatch{f: o.f, filter: req.CompletionFilter, limit: min(int(req.OutputBufferLength), maxNotifyBuffered),
			tree: req.Flags.Has(smb2.ChangeNotifyWatchTree)}
		s.ext.watches[o] = w
	}
	// The completion filter and WATCH_TREE stay the first request's (MS-SMB2 3.3.1.4); the
	// path follows renames.
	w.path = path
	if w.deleted {
		return nil, ntstatus.StatusDeletePending
	}
	if w.overflow || len(w.records) > 0 {
		records, overflow := w.records, w.overflow
		w.records, w.size, w.overflow = nil, 0, false
		if overflow {
			*resp = smb2.ChangeNotifyResponse{}
			return nil, ntstatus.StatusNotifyEnumDir
		}
		return nil, encodeNotify(r, records, int(req.OutputBufferLength), resp)
	}
	p := &NotifyWait{s: s, w: w, limit: int(req.OutputBufferLength), done: make(chan struct{})}
	w.pending = append(w.pending, p)
	return p, ntstatus.StatusPending
}

// Wait blocks until the request completes: with a change, STATUS_NOTIFY_CLEANUP when
// its open closes, STATUS_DELETE_PENDING when its directory is being deleted, or
// STATUS_CANCELLED when r.Ctx is done first.
func (p *NotifyWait) Wait(r *Req, resp *smb2.ChangeNotifyResponse) ntstatus.Status {
	r.reset()
	*resp = smb2.ChangeNotifyResponse{}
	select {
	case <-p.done:
	case <-r.ctx().Done():
		p.s.ext.nmu.Lock()
		if !p.completed {
			for i, x := range p.w.pending {
				if x == p {
					p.w.pending = append(p.w.pending[:i:i], p.w.pending[i+1:]...)
					break
				}
			}
			p.complete(ntstatus.StatusCancelled, nil)
		}
		p.s.ext.nmu.Unlock()
	}
	if p.status != ntstatus.StatusSuccess {
		return p.status
	}
	return encodeNotify(r, p.records, p.limit, resp)
}

// changeNotify implements SMB2 CHANGE_NOTIFY in one call: StartChangeNotify, then Wait.
func (t *Tree) changeNotify(r *Req, req *smb2.ChangeNotifyRequest, resp *smb2.ChangeNotifyResponse) ntstatus.Status {
	p, st := t.StartChangeNotify(r, req, resp)
	if st != ntstatus.StatusPending {
		return st
	}
	return p.Wait(r, resp)
}

// encodeNotify builds the FILE_NOTIFY_INFORMATION chain of a completed request; records
// that do not fit in limit bytes give STATUS_NOTIFY_ENUM_DIR.
func encodeNotify(r *Req, records []notifyRecord, limit int, resp *smb2.ChangeNotifyResponse) ntstatus.Status {
	*resp = smb2.ChangeNotifyResponse{}
	var l fscc.FileNotifyInformationList
	l.Reset(r.Buf)
	for _, rec := range records {
		if err := l.Add(&fscc.FileNotifyInformation{Action: rec.action, FileName: utf16.FromString(rec.name)}); err != nil {
			return ntstatus.StatusNotifyEnumDir
		}
		if len(l.Bytes()) > limit {
			return ntstatus.StatusNotifyEnumDir
		}
	}
	resp.OutputBuffer = l.Bytes()
	return ntstatus.StatusSuccess
}

// notifyOpened is the hook of register: a node the backend reported added is created
// once its first open registers; call with s.mu held.
func (s *Share) notifyOpened(o *open) {
	s.ext.nmu.Lock()
	delete(s.ext.fresh, o.f.id)
	s.ext.nmu.Unlock()
}

// quietly runs fn, the engine storing a file's write time (writetime.go), without
// reporting the time change: it stands for the write, and writes are not reported.
func (s *Share) quietly(id uint64, fn func()) {
	s.ext.nmu.Lock()
	if s.ext.quiet == nil {
		s.ext.quiet = make(map[uint64]int)
	}
	s.ext.quiet[id]++
	s.ext.nmu.Unlock()
	defer func() {
		s.ext.nmu.Lock()
		if s.ext.quiet[id]--; s.ext.quiet[id] <= 0 {
			delete(s.ext.quiet, id)
		}
		s.ext.nmu.Unlock()
	}()
	fn()
}

// notifyClosed ends the watch of an open that closes: its pending requests complete
// with STATUS_NOTIFY_CLEANUP.
func (s *Share) notifyClosed(o *open) {
	if !o.isDir {
		return
	}
	s.ext.nmu.Lock()
	if w := s.ext.watches[o]; w != nil {
		delete(s.ext.watches, o)
		w.drain(ntstatus.StatusNotifyCleanup)
	}
	s.ext.nmu.Unlock()
}

// closing is the hook of closeOpen: it ends the open's oplock break and watch. When
// the open makes its directory delete pending, the watches of the directory's other
// opens complete with STATUS_DELETE_PENDING (MS-FSA 2.1.5.4: the directory is going).
// The close of an open that wrote the file or renamed it reports the file modified,
// as NTFS does at cleanup (smbtorture smb2.notify.valid-req, mask-change).
func (s *Share) closing(o *open) {
	s.mu.Lock()
	o.oplockClosed()
	deleting := o.isDir && (o.deleteOnClose || o.f.deletePending)
	var filter smb2.CompletionFilter
	if !o.f.isDir && !o.deleteOnClose && !o.f.deletePending {
		if o.notifyWritten.Load() {
			filter |= smb2.NotifyChangeSize | smb2.NotifyChangeLastWrite
		}
		if o.notifyRenamed.Load() && o.stream == "" {
			filter |= smb2.NotifyChangeAttributes
		}
	}
	path := append([]string(nil), o.f.path...)
	s.mu.Unlock()
	s.notifyClosed(o)
	if deleting {
		s.ext.nmu.Lock()
		for wo, w := range s.ext.watches {
			if wo.f == o.f && !w.deleted {
				w.deleted = true
				w.drain(ntstatus.StatusDeletePending)
			}
		}
		s.ext.nmu.Unlock()
	}
	if filter != 0 {
		s.notifyModified(path, o.stream, filter)
	}
}

// notifyModified reports a change the server makes (not the backend): the file at path
// (its named stream, if any) modified in the ways filter says.
func (s *Share) notifyModified(path []string, stream string, filter smb2.CompletionFilter) {
	action := fscc.ActionModified
	if stream != "" {
		action, filter = fscc.ActionModifiedStream, smb2.NotifyChangeStreamSize|smb2.NotifyChangeStreamWrite
	}
	s.ext.nmu.Lock()
	defer s.ext.nmu.Unlock()
	for _, w := range s.ext.watches {
		name, ok := w.relName(path)
		if !ok || w.filter&filter == 0 {
			continue
		}
		if stream != "" {
			name += ":" + stream
		}
		w.deliver([]notifyRecord{{action, name}})
	}
}
