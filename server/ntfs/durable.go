package ntfs

import (
	"context"
	"time"

	"github.com/smbvfs/smbvfs/protocol/dtyp"
	"github.com/smbvfs/smbvfs/protocol/ntstatus"
	"github.com/smbvfs/smbvfs/protocol/smb2"
)

// Durable handles, version 1 (DHnQ/DHnC, MS-SMB2 3.3.5.9.6, 3.3.5.9.7) and version 2
// (DH2Q/DH2C, 3.3.5.9.10, 3.3.5.9.12), without leases and without persistence.
//
// An open is made durable when the request asks for it and the open is granted a BATCH
// oplock (there are no leases). When the connection of a durable open is lost (not on
// CLOSE, TREE_DISCONNECT or LOGOFF), the open survives, detached from every tree, if it
// still holds its BATCH oplock and no break of it is in progress (MS-SMB2 3.3.7.1): it
// keeps its FileId, oplock, byte-range locks, share mode, position and delete-on-close,
// and it counts in the sharing and delete checks of other opens. A CREATE with DHnC or
// DH2C by the same user on the same share attaches it to the new tree; a durable timer
// (v1: the share's durable timeout, v2: the granted Timeout) closes it if nobody does
// (3.3.2.4, 3.3.6.2). An oplock break of a detached open cannot be acknowledged: the open
// is closed and the open that caused the break proceeds (3.3.4.6).

// DefaultDurableTimeout is how long a detached durable open waits for its client: the
// v1 timeout, and the v2 timeout when the client lets the server choose.
const DefaultDurableTimeout = 60 * time.Second

// MaxDurableTimeout caps the Timeout a DH2Q asks for, as Windows and Samba do.
const MaxDurableTimeout = 300 * time.Second

// durableState is the durability of one open; guarded by Share.mu.
type durableState struct {
	version    uint8 // 0: not durable; 1: DHnQ; 2: DH2Q
	createGuid dtyp.GUID
	clientGuid dtyp.GUID
	timeout    time.Duration
	owner      Identity    // who opened it: only they may reconnect
	detached   bool        // its connection is lost; it waits for a reconnect
	timer      *time.Timer // the durable timer while detached
}

// durableRequest is what the durable create contexts of a request ask.
type durableRequest struct {
	v1, v2      bool        // DHnQ, DH2Q
	reconnect   bool        // DHnC or DH2C
	reconnectV2 bool        // DH2C
	fid         smb2.FileId // of the open to reconnect
	createGuid  dtyp.GUID   // DH2Q, DH2C
	timeout     uint32      // DH2Q, milliseconds
	flags       smb2.DurableHandleFlags
}

// parseDurable records a durable context; v2 contexts are ignored below SMB 3.0.
func (d *durableRequest) parse(name string, data []byte, dialect smb2.Dialect, seen map[string]bool) ntstatus.Status {
	switch name {
	case "DHnQ":
		var q smb2.DurableHandleRequest
		if q.Decode(data) != nil {
			return ntstatus.StatusInvalidParameter
		}
		d.v1 = true
	case "DHnC":
		var q smb2.DurableHandleReconnect
		if q.Decode(data) != nil {
			return ntstatus.StatusInvalidParameter
		}
		d.reconnect, d.fid = true, q.Data
	case "DH2Q", "DH2C":
		if dialect != 0 && dialect < smb2.Dialect300 {
			return ntstatus.StatusSuccess
		}
		if name == "DH2Q" {
			var q smb2.DurableHandleRequestV2
			if q.Decode(data) != nil {
				return ntstatus.StatusInvalidParameter
			}
			d.v2, d.timeout, d.flags, d.createGuid = true, q.Timeout, q.Flags, q.CreateGuid
		} else {
			var q smb2.DurableHandleReconnectV2
			if q.Decode(data) != nil {
				return ntstatus.StatusInvalidParameter
			}
			d.reconnect, d.reconnectV2, d.fid, d.createGuid, d.flags = true, true, q.FileId, q.CreateGuid, q.Flags
		}
	default:
		return ntstatus.StatusSuccess
	}
	seen[name] = true
	return ntstatus.StatusSuccess
}

// check applies the rules on combinations (MS-SMB2 3.3.5.9.6, .7, .10, .12): a v2
// context with any other durable context is INVALID_PARAMETER; DHnC ignores DHnQ.
func (d *durableRequest) check(seen map[string]bool) ntstatus.Status {
	v2 := seen["DH2Q"] || seen["DH2C"]
	if v2 && (seen["DHnQ"] || seen["DHnC"] || (seen["DH2Q"] && seen["DH2C"])) {
		return ntstatus.StatusInvalidParameter
	}
	if d.reconnect {
		d.v1, d.v2 = false, false
	}
	return ntstatus.StatusSuccess
}

// SetDurableTimeout sets how long a detached v1 durable open waits for its client, and
// the v2 timeout when the client lets the server choose; 0 restores
// DefaultDurableTimeout.
func (s *Share) SetDurableTimeout(d time.Duration) {
	s.durableTimeout.Store(int64(d))
}

func (s *Share) defaultDurableTimeout() time.Duration {
	if d := time.Duration(s.durableTimeout.Load()); d > 0 {
		return d
	}
	return DefaultDurableTimeout
}

// makeDurable marks a new open durable when it was asked and the open holds a BATCH
// oplock; it returns the response context to add, if any.
func (t *Tree) makeDurable(r *Req, o *open, d *durableRequest, level smb2.OplockLevel) *smb2.CreateContext {
	if !(d.v1 || d.v2) || o.isDir || level != smb2.OplockLevelBatch {
		return nil
	}
	s := t.s
	ds := durableState{version: 1, owner: t.id, timeout: s.defaultDurableTimeout(), clientGuid: r.ClientGuid}
	if d.v2 {
		ds.version, ds.createGuid = 2, d.createGuid
		if d.timeout != 0 {
			ds.timeout = min(time.Duration(d.timeout)*time.Millisecond, MaxDurableTimeout)
		}
	}
	s.mu.Lock()
	if o.closed.Load() {
		s.mu.Unlock()
		return nil
	}
	o.dur = ds
	s.durables[o.fid.Persistent] = o
	s.mu.Unlock()
	if d.v2 {
		body := smb2.DurableHandleResponseV2{Timeout: uint32(ds.timeout / time.Millisecond)}
		data, _ := body.Append(nil)
		return &smb2.CreateContext{Name: []byte("DH2Q"), Data: data}
	}
	var body smb2.DurableHandleResponse
	data, _ := body.Append(nil)
	return &smb2.CreateContext{Name: []byte("DHnQ"), Data: data}
}

// replayed finds the open a DH2Q with SMB2_FLAGS_REPLAY_OPERATION asks again for: a
// durable v2 open of this tree with the same CreateGuid and client (MS-SMB2 3.3.5.9.10).
func (t *Tree) replayed(r *Req, d *durableRequest) *open {
	if !d.v2 || !r.Replay {
		return nil
	}
	s := t.s
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range s.durables {
		if o.dur.version == 2 && o.dur.createGuid == d.createGuid && o.dur.clientGuid == r.ClientGuid &&
			!o.dur.detached && o.t == t && !o.closed.Load() {
			return o
		}
	}
	return nil
}

// reconnect attaches the detached durable open a DHnC or DH2C names to this tree
// (MS-SMB2 3.3.5.9.7, 3.3.5.9.12). Anything that does not match (an unknown FileId, an
// open still connected, another user, another CreateGuid) is OBJECT_NAME_NOT_FOUND, as
// Windows answers.
func (t *Tree) reconnect(r *Req, d *durableRequest) (*open, ntstatus.Status) {
	s := t.s
	s.mu.Lock()
	o := s.durables[d.fid.Persistent]
	ok := o != nil && o.dur.detached && o.dur.owner == t.id && !o.closed.Load()
	if ok && d.reconnectV2 {
		// DH2C also names the CreateGuid; DHnC reconnects v1 and v2 opens alike.
		ok = o.dur.createGuid == d.createGuid
	}
	if !ok {
		s.mu.Unlock()
		return nil, ntstatus.StatusObjectNameNotFound
	}
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		s.mu.Unlock()
		return nil, ntstatus.StatusNetworkNameDeleted
	}
	o.dur.detached = false
	if o.dur.timer != nil {
		o.dur.timer.Stop()
		o.dur.timer = nil
	}
	o.dur.clientGuid = r.ClientGuid
	o.t = t
	if r.Notifier != nil {
		o.ol.notifier, o.ol.sessID = r.Notifier, r.SessionID
	} else {
		o.ol = oplockState{}
	}
	t.opens[o.fid.Volatile] = o
	t.mu.Unlock()
	s.mu.Unlock()
	return o, ntstatus.StatusSuccess
}

// detach keeps a durable open whose connection is lost (MS-SMB2 3.3.7.1): it must still
// hold its BATCH oplock with no break in progress. It reports whether o was kept.
func (s *Share) detach(o *open) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o.dur.version == 0 || o.closed.Load() || o.ol.level != smb2.OplockLevelBatch || o.ol.breaking {
		return false
	}
	o.dur.detached = true
	o.ol.notifier = nil
	o.dur.timer = time.AfterFunc(o.dur.timeout, func() { s.expire(o) })
	return true
}

// expire closes a detached durable open whose timer ran out (MS-SMB2 3.3.6.2).
func (s *Share) expire(o *open) {
	if s.takeDetached(o) {
		o.t.closeOpen(context.Background(), o)
	}
}

// takeDetached claims a detached durable open for closing, so that no reconnect gets
// it; call without Share.mu.
func (s *Share) takeDetached(o *open) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.takeDetachedLocked(o)
}

func (s *Share) takeDetachedLocked(o *open) bool {
	if !o.dur.detached {
		return false
	}
	o.dur.detached = false
	if o.dur.timer != nil {
		o.dur.timer.Stop()
		o.dur.timer = nil
	}
	if s.durables[o.fid.Persistent] == o {
		delete(s.durables, o.fid.Persistent)
	}
	return true
}

// forgetDurable drops o from the durable table when it closes; call with Share.mu held.
func (s *Share) forgetDurable(o *open) {
	if o.dur.version == 0 {
		return
	}
	if o.dur.timer != nil {
		o.dur.timer.Stop()
		o.dur.timer = nil
	}
	o.dur.detached = false
	if s.durables[o.fid.Persistent] == o {
		delete(s.durables, o.fid.Persistent)
	}
}

// DisconnectPreserving ends the tree when its connection is lost (MS-SMB2 3.3.7.1), its
// session logs off (3.3.5.6) or expires: its durable opens survive, detached, for their
// timeout; the others are closed. An explicit TREE_DISCONNECT calls Disconnect instead,
// which closes everything.
func (t *Tree) DisconnectPreserving(ctx context.Context) { t.end(ctx, true) }

// DetachedCount reports the number of durable opens waiting for their client.
func (s *Share) DetachedCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, o := range s.durables {
		if o.dur.detached {
			n++
		}
	}
	return n
}

// reopened answers a reconnect or a replay with the state of the existing open: FILE_OPENED,
// its oplock, no create contexts (as Windows and Samba answer a DHnC).
func (t *Tree) reopened(ctx context.Context, o *open, resp *smb2.CreateResponse) ntstatus.Status {
	a, err := t.attrOf(ctx, o)
	if err != nil {
		return errStatus(err)
	}
	t.s.mu.Lock()
	level := o.ol.level
	t.s.mu.Unlock()
	fillCreateResponse(resp, o, a, smb2.FileOpened, level)
	return ntstatus.StatusSuccess
}
