package ntfs

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/smbvfs/smbvfs/backends/vfs"
	"github.com/smbvfs/smbvfs/protocol/dtyp"
	"github.com/smbvfs/smbvfs/protocol/fscc"
	"github.com/smbvfs/smbvfs/protocol/ntstatus"
	"github.com/smbvfs/smbvfs/protocol/smb2"
	"github.com/smbvfs/smbvfs/protocol/utf16"
)

// CHANGE_NOTIFY (MS-SMB2 3.3.5.19, MS-FSA 2.1.5.11 "Server Requests Change
// Notifications for a Directory"). The first request on a directory open establishes a
// watch; changes are collected from then on, between requests too, and a request
// completes as soon as some are buffered. The changes come from the backend's
// vfs.Watcher, which reports the server's own operations (through any open of any
// tree) and, where the backend sees them, changes from elsewhere. A backend without a
// Watcher reports nothing: its requests wait until cancelled.

// maxNotifyBuffered bounds the bytes of records a watch keeps between requests; past it
// (or past the request's OutputBufferLength) the request completes with
// STATUS_NOTIFY_ENUM_DIR: the client must enumerate the directory again.
const maxNotifyBuffered = 64 << 10

// shareExt is the state of the Share used by oplocks and notifications.
type shareExt struct {
	breakTimeout atomic.Int64 // time.Duration; 0: the default
	levelII      atomic.Bool  // a LEVEL_II oplock was granted: writes look for some to break

	watchOnce sync.Once
	watching  bool // the backend is a vfs.Watcher and is watched
	nmu       sync.Mutex
	watches   map[*open]*notifyWatch
}

// notifyWatch is the watch of one directory open.
type notifyWatch struct {
	// Guarded by shareExt.nmu.
	path     []string // the directory's stored path, refreshed by each request
	filter   smb2.CompletionFilter
	tree     bool
	records  []notifyRecord
	size     int
	overflow bool
	deleted  bool // the directory became delete pending
	f        *file
	wake     chan struct{} // capacity 1: something was buffered
	closed   chan struct{} // the open closed
}

type notifyRecord struct {
	action fscc.NotifyAction
	name   string // relative to the watched directory, backslash-separated
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

// onChange turns one backend change into records for the watches that see it.
func (s *Share) onChange(c vfs.Change) {
	path, old := splitPath(c.Path), splitPath(c.OldPath)
	nameFilter := smb2.NotifyChangeFileName
	if c.Dir {
		nameFilter = smb2.NotifyChangeDirName
	}
	s.ext.nmu.Lock()
	defer s.ext.nmu.Unlock()
	for _, w := range s.ext.watches {
		switch c.Op {
		case vfs.ChangeAdded, vfs.ChangeRemoved:
			action, filter := fscc.ActionAdded, nameFilter
			if c.Op == vfs.ChangeRemoved {
				action = fscc.ActionRemoved
			}
			name, ok := w.relName(path)
			if c.Stream != "" {
				action, filter = fscc.ActionAddedStream, smb2.NotifyChangeStreamName
				if c.Op == vfs.ChangeRemoved {
					action = fscc.ActionRemovedStream
				}
				name += ":" + c.Stream
			}
			if ok && w.filter&filter != 0 {
				w.add(action, name)
			}
		case vfs.ChangeRenamed:
			if w.filter&nameFilter == 0 {
				continue
			}
			oldName, okOld := w.relName(old)
			newName, okNew := w.relName(path)
			switch {
			case okOld && okNew:
				w.add(fscc.ActionRenamedOldName, oldName)
				w.add(fscc.ActionRenamedNewName, newName)
			case okOld:
				w.add(fscc.ActionRemoved, oldName)
			case okNew:
				w.add(fscc.ActionAdded, newName)
			}
		case vfs.ChangeModified:
			name, ok := w.relName(path)
			if !ok {
				continue
			}
			if c.What&vfs.WhatData != 0 {
				// Writes are not reported (neither their size, time nor archive-bit
				// changes), as Samba and as smbtorture smb2.notify.mask expect.
				continue
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
			if w.filter&filter != 0 {
				w.add(action, name)
			}
		}
	}
}

// add buffers a record; call with nmu held.
func (w *notifyWatch) add(action fscc.NotifyAction, name string) {
	if !w.overflow {
		w.size += recordSize(name)
		if w.size > maxNotifyBuffered {
			w.overflow, w.records = true, nil
		} else {
			w.records = append(w.records, notifyRecord{action, name})
		}
	}
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// changeNotify implements SMB2 CHANGE_NOTIFY. It blocks until a change is buffered, the
// open closes (STATUS_NOTIFY_CLEANUP) or r.Ctx is cancelled (STATUS_CANCELLED).
func (t *Tree) changeNotify(r *Req, req *smb2.ChangeNotifyRequest, resp *smb2.ChangeNotifyResponse) ntstatus.Status {
	o := t.get(req.FileId)
	if o == nil {
		return ntstatus.StatusFileClosed
	}
	if !o.isDir {
		return ntstatus.StatusInvalidParameter
	}
	if o.access&dtyp.FileReadData == 0 { // FILE_LIST_DIRECTORY
		return ntstatus.StatusAccessDenied
	}
	if r.MaxTransact > 0 && int(req.OutputBufferLength) > r.MaxTransact {
		return ntstatus.StatusInvalidParameter
	}
	s := t.s
	s.startWatching()
	s.mu.Lock()
	path := append([]string(nil), o.f.path...)
	pending := o.f.deletePending
	s.mu.Unlock()
	if pending {
		return ntstatus.StatusDeletePending
	}

	s.ext.nmu.Lock()
	if o.closed.Load() {
		s.ext.nmu.Unlock()
		return ntstatus.StatusNotifyCleanup
	}
	if s.ext.watches == nil {
		s.ext.watches = make(map[*open]*notifyWatch)
	}
	w := s.ext.watches[o]
	if w == nil {
		w = &notifyWatch{f: o.f, wake: make(chan struct{}, 1), closed: make(chan struct{})}
		s.ext.watches[o] = w
	}
	w.path, w.filter, w.tree = path, req.CompletionFilter, req.Flags.Has(smb2.ChangeNotifyWatchTree)
	s.ext.nmu.Unlock()

	ctx := r.ctx()
	for {
		s.ext.nmu.Lock()
		if w.deleted {
			s.ext.nmu.Unlock()
			return ntstatus.StatusDeletePending
		}
		if w.overflow || len(w.records) > 0 {
			records, overflow := w.records, w.overflow
			w.records, w.size, w.overflow = nil, 0, false
			s.ext.nmu.Unlock()
			return encodeNotify(r, records, overflow, int(req.OutputBufferLength), resp)
		}
		s.ext.nmu.Unlock()
		select {
		case <-w.wake:
		case <-w.closed:
			return ntstatus.StatusNotifyCleanup
		case <-ctx.Done():
			return ntstatus.StatusCancelled
		}
	}
}

// encodeNotify builds the FILE_NOTIFY_INFORMATION chain of a completed request.
func encodeNotify(r *Req, records []notifyRecord, overflow bool, limit int, resp *smb2.ChangeNotifyResponse) ntstatus.Status {
	*resp = smb2.ChangeNotifyResponse{}
	if overflow {
		return ntstatus.StatusNotifyEnumDir
	}
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

// notifyClosed ends the watch of an open that closes.
func (s *Share) notifyClosed(o *open) {
	if !o.isDir {
		return
	}
	s.ext.nmu.Lock()
	if w := s.ext.watches[o]; w != nil {
		delete(s.ext.watches, o)
		close(w.closed)
	}
	s.ext.nmu.Unlock()
}

// closing is the hook of closeOpen: it ends the open's oplock break and watch. When
// the open makes its directory delete pending, the watches of the directory's other
// opens complete with STATUS_DELETE_PENDING (MS-FSA 2.1.5.4: the directory is going).
func (s *Share) closing(o *open) {
	s.mu.Lock()
	o.oplockClosed()
	deleting := o.isDir && (o.deleteOnClose || o.f.deletePending)
	s.mu.Unlock()
	s.notifyClosed(o)
	if deleting {
		s.ext.nmu.Lock()
		for wo, w := range s.ext.watches {
			if wo.f == o.f && !w.deleted {
				w.deleted = true
				select {
				case w.wake <- struct{}{}:
				default:
				}
			}
		}
		s.ext.nmu.Unlock()
	}
}
