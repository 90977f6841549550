package queryfs

import (
	"context"
	"path"
	"time"

	"github.com/smbvfs/smbvfs/backends/queryfs/store"
	"github.com/smbvfs/smbvfs/backends/vfs"
)

// watch follows the store's changes (SQLite: polling a change counter;
// CouchDB: the _changes feed, long-polled) and reports each track written
// or removed at its path in every view, and a modification of every query
// folder. Listings need none of this: they always ask the store.
func (f *FS) watch(ctx context.Context, since string) {
	defer close(f.done)
	for ctx.Err() == nil {
		changes, next, err := f.st.Changes(ctx, since)
		if err != nil || len(changes) == 0 {
			if err == nil {
				since = next
				f.setSynced(next)
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(f.poll):
			}
			continue
		}
		since = next
		if f.Watching() {
			f.report(changes)
		}
		f.setSynced(next)
	}
}

func (f *FS) setSynced(seq string) {
	f.seqMu.Lock()
	f.synced = seq
	f.seqMu.Unlock()
}

// Synced returns the store position the watcher has reported up to.
func (f *FS) Synced() string {
	f.seqMu.Lock()
	defer f.seqMu.Unlock()
	return f.synced
}

func (f *FS) report(changes []store.Change) {
	for _, c := range changes {
		t := &c.Track
		if t.Path == "" {
			continue // a deletion without its fields: only query folders learn of it
		}
		op := vfs.ChangeAdded
		if c.Deleted {
			op = vfs.ChangeRemoved
		}
		for _, v := range f.views {
			if !v.match(t) {
				continue
			}
			p := v.folder
			for _, l := range v.levels {
				p = path.Join(p, l.render(t))
			}
			f.Notify(vfs.Change{Op: op, Path: path.Join(p, v.leaf.render(t)), ID: uint64(t.Num)})
		}
	}
	f.root.mu.Lock()
	var qs []rootChild
	for _, c := range f.root.ch {
		if _, ok := c.node.(*queryDir); ok {
			qs = append(qs, c)
		}
	}
	f.root.mu.Unlock()
	for _, c := range qs {
		a, _ := c.node.Attr(context.Background())
		f.Notify(vfs.Change{Op: vfs.ChangeModified, Path: c.name, ID: a.ID, Dir: true, What: vfs.WhatData})
	}
}
