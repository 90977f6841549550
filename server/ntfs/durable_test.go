package ntfs

import (
	"context"
	"testing"
	"time"

	"github.com/smbvfs/smbvfs/backends/memfs"
	"github.com/smbvfs/smbvfs/protocol/dtyp"
	"github.com/smbvfs/smbvfs/protocol/ntstatus"
	"github.com/smbvfs/smbvfs/protocol/smb2"
	"github.com/smbvfs/smbvfs/protocol/utf16"
)

// durableCreate opens name with a BATCH oplock and the given create contexts.
func (c *tc) durableCreate(name string, share smb2.ShareAccess, ctxs ...smb2.CreateContext) (*smb2.CreateResponse, ntstatus.Status) {
	req := &smb2.CreateRequest{
		RequestedOplockLevel: smb2.OplockLevelBatch,
		ImpersonationLevel:   smb2.ImpersonationLevelImpersonation,
		DesiredAccess:        dtyp.GenericRead | dtyp.GenericWrite | dtyp.Delete,
		ShareAccess:          share,
		CreateDisposition:    smb2.FileOpenIf,
		Name:                 utf16.FromString(name),
	}
	for i := range ctxs {
		req.CreateContexts.Add(&ctxs[i])
	}
	var resp smb2.CreateResponse
	st := c.tree.Create(&c.r, req, &resp)
	return &resp, st
}

func dhnq() smb2.CreateContext {
	data, _ := (&smb2.DurableHandleRequest{}).Append(nil)
	return smb2.CreateContext{Name: []byte("DHnQ"), Data: data}
}

func dhnc(fid smb2.FileId) smb2.CreateContext {
	data, _ := (&smb2.DurableHandleReconnect{Data: fid}).Append(nil)
	return smb2.CreateContext{Name: []byte("DHnC"), Data: data}
}

func dh2q(guid dtyp.GUID, timeout uint32) smb2.CreateContext {
	data, _ := (&smb2.DurableHandleRequestV2{Timeout: timeout, CreateGuid: guid}).Append(nil)
	return smb2.CreateContext{Name: []byte("DH2Q"), Data: data}
}

func dh2c(fid smb2.FileId, guid dtyp.GUID) smb2.CreateContext {
	data, _ := (&smb2.DurableHandleReconnectV2{FileId: fid, CreateGuid: guid}).Append(nil)
	return smb2.CreateContext{Name: []byte("DH2C"), Data: data}
}

func hasContext(resp *smb2.CreateResponse, name string) bool {
	it := resp.CreateContexts.Iter()
	for it.Next() {
		if string(it.Value().Name) == name {
			return true
		}
	}
	return false
}

// durableShare makes a share and a tree connect on it with a connection to notify.
func durableShare(t *testing.T) (*Share, *tc) {
	s := NewShare("test", memfs.New(memfs.Options{}), ShareOptions{})
	return s, withConn(connectShare(t, s))
}

func withConn(c *tc) *tc {
	c.r.Notifier = &fakeConn{}
	return c
}

// openDurable makes f durable (v1) on c and returns its FileId.
func openDurable(t *testing.T, c *tc, name string, share smb2.ShareAccess) smb2.FileId {
	t.Helper()
	resp, st := c.durableCreate(name, share, dhnq())
	if st != ntstatus.StatusSuccess {
		t.Fatal(st)
	}
	if resp.OplockLevel != smb2.OplockLevelBatch || !hasContext(resp, "DHnQ") {
		t.Fatalf("oplock %v, DHnQ answered %v: want a durable BATCH open", resp.OplockLevel, hasContext(resp, "DHnQ"))
	}
	return resp.FileId
}

func TestDurableReconnectKeepsOpen(t *testing.T) {
	s, c1 := durableShare(t)
	fid := openDurable(t, c1, "f", 0)
	if _, st := c1.write(fid, 0, []byte("hello")); st != ntstatus.StatusSuccess {
		t.Fatal(st)
	}
	lock := func(c *tc, fid smb2.FileId) ntstatus.Status {
		req := &smb2.LockRequest{FileId: fid}
		req.Locks.Add(&smb2.LockElement{Offset: 0, Length: 5, Flags: smb2.LockFlagExclusiveLock | smb2.LockFlagFailImmediately})
		var resp smb2.LockResponse
		return c.tree.Lock(&c.r, req, &resp)
	}
	if st := lock(c1, fid); st != ntstatus.StatusSuccess {
		t.Fatal(st)
	}
	// A DHnC on the still-connected open is refused.
	if _, st := c1.durableCreate("", 0, dhnc(fid)); st != ntstatus.StatusObjectNameNotFound {
		t.Fatalf("reconnect of a connected open: %v", st)
	}

	c1.tree.DisconnectPreserving(context.Background())
	if n := s.DetachedCount(); n != 1 {
		t.Fatalf("%d detached opens, want 1", n)
	}
	// Detached, it still holds its share mode (none): a stat open may look.
	c2 := withConn(connectShare(t, s))
	resp, st := c2.durableCreate("ignored name", 0, dhnc(fid))
	if st != ntstatus.StatusSuccess {
		t.Fatal(st)
	}
	if resp.FileId != fid || resp.OplockLevel != smb2.OplockLevelBatch || resp.CreateAction != smb2.FileOpened {
		t.Fatalf("reconnect: fid %v oplock %v action %v", resp.FileId, resp.OplockLevel, resp.CreateAction)
	}
	if got, st := c2.read(fid, 0, 5); st != ntstatus.StatusSuccess || string(got) != "hello" {
		t.Fatalf("read after reconnect: %q %v", got, st)
	}
	// The byte-range lock came along: the open's own lock conflicts with a new one.
	if st := lock(c2, fid); st != ntstatus.StatusLockNotGranted {
		t.Fatalf("lock again: %v, want LOCK_NOT_GRANTED (the lock survived)", st)
	}
	c2.mustClose(fid)
	if s.OpenCount() != 0 || s.DetachedCount() != 0 {
		t.Fatalf("after close: %d opens, %d detached", s.OpenCount(), s.DetachedCount())
	}
	// Explicit close is final.
	if _, st := c2.durableCreate("", 0, dhnc(fid)); st != ntstatus.StatusObjectNameNotFound {
		t.Fatalf("reconnect after close: %v", st)
	}
}

func TestDurableTimeout(t *testing.T) {
	s, c1 := durableShare(t)
	s.SetDurableTimeout(20 * time.Millisecond)
	fid := openDurable(t, c1, "f", 0)
	c1.tree.DisconnectPreserving(context.Background())
	deadline := time.Now().Add(5 * time.Second)
	for s.OpenCount() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the detached open did not expire")
		}
		time.Sleep(5 * time.Millisecond)
	}
	c2 := withConn(connectShare(t, s))
	if _, st := c2.durableCreate("", 0, dhnc(fid)); st != ntstatus.StatusObjectNameNotFound {
		t.Fatalf("reconnect after the timeout: %v", st)
	}
}

func TestDurableConflictClosesDetached(t *testing.T) {
	s, c1 := durableShare(t)
	fid := openDurable(t, c1, "f", 0) // no sharing
	c1.tree.DisconnectPreserving(context.Background())
	c2 := withConn(connectShare(t, s))
	// Its BATCH oplock must break, which a detached open cannot acknowledge: it is closed
	// and the new open proceeds instead of failing with SHARING_VIOLATION.
	f2, st := c2.open("f", smb2.FileOpen, 0)
	if st != ntstatus.StatusSuccess {
		t.Fatalf("open over a detached durable open: %v", st)
	}
	if s.DetachedCount() != 0 || s.OpenCount() != 1 {
		t.Fatalf("%d detached, %d opens", s.DetachedCount(), s.OpenCount())
	}
	if _, st := c2.durableCreate("", 0, dhnc(fid)); st != ntstatus.StatusObjectNameNotFound {
		t.Fatalf("reconnect of the closed open: %v", st)
	}
	c2.mustClose(f2)
}

func TestDurableStatOpenKeepsDetached(t *testing.T) {
	s, c1 := durableShare(t)
	openDurable(t, c1, "f", 0)
	c1.tree.DisconnectPreserving(context.Background())
	// A stat open breaks no oplock; the detached open is still there and keeps the file.
	c2 := withConn(connectShare(t, s))
	fid, _, st := c2.create("f", createOpts{access: dtyp.FileReadAttributes, share: shareAll, disp: smb2.FileOpen})
	if st != ntstatus.StatusSuccess {
		t.Fatal(st)
	}
	if s.DetachedCount() != 1 {
		t.Fatalf("%d detached after a stat open", s.DetachedCount())
	}
	c2.mustClose(fid)
}

func TestDurableReconnectChecks(t *testing.T) {
	s, c1 := durableShare(t)
	guid := dtyp.GUID{1, 2, 3}
	resp, st := c1.durableCreate("f", 0, dh2q(guid, 0))
	if st != ntstatus.StatusSuccess || !hasContext(resp, "DH2Q") {
		t.Fatalf("DH2Q: %v, answered %v", st, hasContext(resp, "DH2Q"))
	}
	fid := resp.FileId
	c1.tree.DisconnectPreserving(context.Background())

	other, err := s.Connect(context.Background(), Identity{User: "other"})
	if err != nil {
		t.Fatal(err)
	}
	co := &tc{t: t, tree: other, r: c1.r}
	if _, st := co.durableCreate("", 0, dh2c(fid, guid)); st != ntstatus.StatusObjectNameNotFound {
		t.Fatalf("reconnect by another user: %v", st)
	}
	c2 := withConn(connectShare(t, s))
	if _, st := c2.durableCreate("", 0, dh2c(fid, dtyp.GUID{9})); st != ntstatus.StatusObjectNameNotFound {
		t.Fatalf("reconnect with another CreateGuid: %v", st)
	}
	if _, st := c2.durableCreate("", 0, dh2c(fid, guid), dhnq()); st != ntstatus.StatusInvalidParameter {
		t.Fatalf("DH2C with DHnQ: %v", st)
	}
	resp, st = c2.durableCreate("", 0, dh2c(fid, guid))
	if st != ntstatus.StatusSuccess || resp.FileId != fid {
		t.Fatalf("reconnect: %v %v", st, resp.FileId)
	}
	// TREE_DISCONNECT closes it for good.
	c2.tree.Disconnect(context.Background())
	if s.OpenCount() != 0 {
		t.Fatalf("%d opens after TREE_DISCONNECT", s.OpenCount())
	}
}

func TestDurableOnlyWithBatch(t *testing.T) {
	_, c1 := durableShare(t)
	c1.r.Notifier = nil // no connection to notify: no oplock, so no durability
	resp, st := c1.durableCreate("f", 0, dhnq())
	if st != ntstatus.StatusSuccess {
		t.Fatal(st)
	}
	if hasContext(resp, "DHnQ") {
		t.Fatal("durable granted without a BATCH oplock")
	}
	c1.mustClose(resp.FileId)
}
