package ntfs

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/smbvfs/smbvfs/backends/memfs"
	"github.com/smbvfs/smbvfs/protocol/dtyp"
	"github.com/smbvfs/smbvfs/protocol/fscc"
	"github.com/smbvfs/smbvfs/protocol/ntstatus"
	"github.com/smbvfs/smbvfs/protocol/smb2"
	"github.com/smbvfs/smbvfs/protocol/utf16"
)

// fakeConn records the unsolicited messages of one connection; onBreak, when set, runs
// for each oplock break (in a goroutine of its own, as a client would answer).
type fakeConn struct {
	mu      sync.Mutex
	breaks  []smb2.OplockBreakResponse
	onBreak func(b smb2.OplockBreakResponse)
}

func (f *fakeConn) Notify(sessionID uint64, cmd smb2.Command, body smb2.Body) error {
	if cmd != smb2.CommandOplockBreak {
		return nil
	}
	b := body.(*smb2.OplockBreakResponseForms).OplockBreakResponse
	f.mu.Lock()
	f.breaks = append(f.breaks, b)
	fn := f.onBreak
	f.mu.Unlock()
	if fn != nil {
		go fn(b)
	}
	return nil
}

func (f *fakeConn) got() []smb2.OplockBreakResponse {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]smb2.OplockBreakResponse(nil), f.breaks...)
}

func (c *tc) createOplock(name string, level smb2.OplockLevel, disp smb2.CreateDisposition) (smb2.FileId, smb2.OplockLevel, ntstatus.Status) {
	req := &smb2.CreateRequest{
		ImpersonationLevel:   smb2.ImpersonationLevelImpersonation,
		RequestedOplockLevel: level,
		DesiredAccess:        dtyp.FileReadData | dtyp.FileWriteData,
		ShareAccess:          shareAll,
		CreateDisposition:    disp,
		Name:                 utf16.FromString(name),
	}
	var resp smb2.CreateResponse
	st := c.tree.Create(&c.r, req, &resp)
	return resp.FileId, resp.OplockLevel, st
}

func (c *tc) ack(fid smb2.FileId, level smb2.OplockLevel) (smb2.OplockLevel, ntstatus.Status) {
	var resp smb2.OplockBreakResponseForms
	r := Req{Ctx: context.Background()} // acknowledgments may come from other goroutines
	st := c.tree.OplockBreak(&r, &smb2.OplockBreakRequestForms{Size: 24,
		OplockBreakAcknowledgment: smb2.OplockBreakAcknowledgment{OplockLevel: level, FileId: fid}}, &resp)
	return resp.OplockBreakResponse.OplockLevel, st
}

// twoConns makes two tree connects of one share on two fake connections.
func twoConns(t *testing.T) (*Share, *tc, *fakeConn, *tc, *fakeConn) {
	s := NewShare("s", memfs.New(memfs.Options{}), ShareOptions{})
	s.SetOplockBreakTimeout(2 * time.Second)
	a, b := connectShare(t, s), connectShare(t, s)
	na, nb := &fakeConn{}, &fakeConn{}
	a.r.Notifier, b.r.Notifier = na, nb
	return s, a, na, b, nb
}

func TestOplockGrant(t *testing.T) {
	_, a, _, b, _ := twoConns(t)
	fid, level, st := a.createOplock("f", smb2.OplockLevelBatch, smb2.FileCreate)
	if st != 0 || level != smb2.OplockLevelBatch {
		t.Fatalf("batch on a new file: %v %v", st, level)
	}
	a.mustClose(fid)
	fid, level, _ = a.createOplock("f", smb2.OplockLevelExclusive, smb2.FileOpen)
	if level != smb2.OplockLevelExclusive {
		t.Fatalf("exclusive: %v", level)
	}
	a.mustClose(fid)
	// Another open without oplock: a batch request gets level II.
	plain := b.mustOpen("f", smb2.FileOpen, 0)
	fid, level, _ = a.createOplock("f", smb2.OplockLevelBatch, smb2.FileOpen)
	if level != smb2.OplockLevelII {
		t.Fatalf("batch with another open: %v", level)
	}
	a.mustClose(fid)
	b.mustClose(plain)
	// Directories get none; without a Notifier nothing is granted.
	d, level, st := a.createOplock("", smb2.OplockLevelBatch, smb2.FileOpen)
	if st != 0 || level != smb2.OplockLevelNone {
		t.Fatalf("directory: %v %v", st, level)
	}
	a.mustClose(d)
	a.r.Notifier = nil
	fid, level, _ = a.createOplock("f", smb2.OplockLevelBatch, smb2.FileOpen)
	if level != smb2.OplockLevelNone {
		t.Fatalf("no notifier: %v", level)
	}
	a.mustClose(fid)
	// An acknowledgment without a break in progress is a protocol error.
	fid = a.mustOpen("f", smb2.FileOpen, 0)
	if _, st := a.ack(fid, smb2.OplockLevelNone); st != ntstatus.StatusInvalidOplockProtocol {
		t.Fatalf("ack without break: %v", st)
	}
	a.mustClose(fid)
}

func TestOplockBreakAcknowledged(t *testing.T) {
	_, a, na, b, _ := twoConns(t)
	fid, level, _ := a.createOplock("f", smb2.OplockLevelBatch, smb2.FileCreate)
	if level != smb2.OplockLevelBatch {
		t.Fatalf("batch: %v", level)
	}
	acked := make(chan ntstatus.Status, 1)
	na.mu.Lock()
	na.onBreak = func(br smb2.OplockBreakResponse) {
		time.Sleep(20 * time.Millisecond)
		l, st := a.ack(br.FileId, br.OplockLevel)
		if l != br.OplockLevel {
			st = ntstatus.StatusInternalError
		}
		acked <- st
	}
	na.mu.Unlock()
	start := time.Now()
	fid2, level, st := b.createOplock("f", smb2.OplockLevelBatch, smb2.FileOpen)
	if st != 0 || level != smb2.OplockLevelII {
		t.Fatalf("second open: %v %v", st, level)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("the second open waited %v despite the acknowledgment", d)
	}
	if st := <-acked; st != 0 {
		t.Fatalf("ack: %v", st)
	}
	br := na.got()
	if len(br) != 1 || br[0].FileId != fid || br[0].OplockLevel != smb2.OplockLevelII {
		t.Fatalf("breaks: %+v", br)
	}
	// A write through the second open breaks the first one's level II to none.
	if _, st := b.write(fid2, 0, []byte("x")); st != 0 {
		t.Fatal(st)
	}
	if br := na.got(); len(br) != 2 || br[1].OplockLevel != smb2.OplockLevelNone {
		t.Fatalf("breaks after write: %+v", br)
	}
	a.mustClose(fid)
	b.mustClose(fid2)
}

func TestOplockBreakTimeoutAndClose(t *testing.T) {
	s, a, na, b, _ := twoConns(t)
	s.SetOplockBreakTimeout(100 * time.Millisecond)
	fid, _, _ := a.createOplock("f", smb2.OplockLevelBatch, smb2.FileCreate)
	start := time.Now()
	fid2, _, st := b.createOplock("f", smb2.OplockLevelNone, smb2.FileOverwriteIf)
	if st != 0 {
		t.Fatal(st)
	}
	if d := time.Since(start); d < 90*time.Millisecond || d > 2*time.Second {
		t.Fatalf("waited %v for a 100ms timeout", d)
	}
	if br := na.got(); len(br) != 1 || br[0].OplockLevel != smb2.OplockLevelNone {
		t.Fatalf("overwrite breaks to none: %+v", br)
	}
	// The late acknowledgment finds no break in progress.
	if _, st := a.ack(fid, smb2.OplockLevelNone); st != ntstatus.StatusInvalidOplockProtocol {
		t.Fatalf("late ack: %v", st)
	}
	a.mustClose(fid)
	b.mustClose(fid2)

	// A holder that closes instead of acknowledging releases the waiter at once.
	s.SetOplockBreakTimeout(10 * time.Second)
	fid, _, _ = a.createOplock("g", smb2.OplockLevelBatch, smb2.FileCreate)
	na.mu.Lock()
	na.onBreak = func(br smb2.OplockBreakResponse) {
		var resp smb2.CloseResponse
		a.tree.Close(&Req{Ctx: context.Background()}, &smb2.CloseRequest{FileId: br.FileId}, &resp)
	}
	na.mu.Unlock()
	start = time.Now()
	fid2, _, st = b.createOplock("g", smb2.OplockLevelNone, smb2.FileOpen)
	if st != 0 || time.Since(start) > 5*time.Second {
		t.Fatalf("open after the holder closed: %v after %v", st, time.Since(start))
	}
	b.mustClose(fid2)
}

func TestOplockSameConnectionDoesNotWait(t *testing.T) {
	s, a, na, _, _ := twoConns(t)
	s.SetOplockBreakTimeout(10 * time.Second)
	fid, _, _ := a.createOplock("f", smb2.OplockLevelBatch, smb2.FileCreate)
	start := time.Now()
	fid2, level, st := a.createOplock("f", smb2.OplockLevelBatch, smb2.FileOpen)
	if st != 0 || level != smb2.OplockLevelII || time.Since(start) > 2*time.Second {
		t.Fatalf("second open on the same connection: %v %v after %v", st, level, time.Since(start))
	}
	if len(na.got()) != 1 {
		t.Fatalf("breaks: %+v", na.got())
	}
	// The acknowledgment that follows is accepted.
	if l, st := a.ack(fid, smb2.OplockLevelII); st != 0 || l != smb2.OplockLevelII {
		t.Fatalf("ack: %v %v", l, st)
	}
	a.mustClose(fid)
	a.mustClose(fid2)
}

// notify runs a CHANGE_NOTIFY in a goroutine, as the engine does.
func (c *tc) notify(ctx context.Context, dir smb2.FileId, filter smb2.CompletionFilter, tree bool, max uint32) chan notifyResult {
	ch := make(chan notifyResult, 1)
	r := c.r
	r.Ctx, r.Buf = ctx, nil
	var flags smb2.ChangeNotifyFlags
	if tree {
		flags = smb2.ChangeNotifyWatchTree
	}
	go func() {
		var resp smb2.ChangeNotifyResponse
		st := c.tree.ChangeNotify(&r, &smb2.ChangeNotifyRequest{FileId: dir, CompletionFilter: filter, Flags: flags, OutputBufferLength: max}, &resp)
		var recs []string
		var l fscc.FileNotifyInformationList
		if st == 0 && l.Decode(resp.OutputBuffer, -1) == nil {
			for it := l.Iter(); it.Next(); {
				e := it.Value()
				recs = append(recs, e.Action.String()+" "+e.FileName.String())
			}
		}
		ch <- notifyResult{st, recs}
	}()
	return ch
}

func cancelledCtx() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

type notifyResult struct {
	st   ntstatus.Status
	recs []string
}

func wait(t *testing.T, ch chan notifyResult) notifyResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("CHANGE_NOTIFY did not complete")
	}
	return notifyResult{}
}

func TestChangeNotify(t *testing.T) {
	c := connect(t, memfs.New(memfs.Options{}), ShareOptions{})
	other := connectShare(t, c.tree.Share())
	c.mkdir("d")
	c.mkdir(`d\sub`)
	dir := c.mustOpen("d", smb2.FileOpen, smb2.FileDirectoryFile)
	ctx := context.Background()
	names := smb2.NotifyChangeFileName | smb2.NotifyChangeDirName

	ch := c.notify(ctx, dir, names, false, 4096)
	select {
	case r := <-ch:
		t.Fatalf("completed without a change: %+v", r)
	case <-time.After(50 * time.Millisecond):
	}
	other.mkfile(`d\new.txt`, "x") // a change through another tree
	r := wait(t, ch)
	if r.st != 0 || len(r.recs) == 0 || r.recs[0] != fscc.ActionAdded.String()+" new.txt" {
		t.Fatalf("added: %+v", r)
	}
	// Changes between requests are kept; a subdirectory's are seen with WATCH_TREE only.
	other.mkfile(`d\sub\deep.txt`, "")
	other.mkfile(`d\second.txt`, "")
	r = wait(t, c.notify(ctx, dir, names, false, 4096))
	if r.st != 0 || len(r.recs) != 1 || r.recs[0] != fscc.ActionAdded.String()+" second.txt" {
		t.Fatalf("buffered: %+v", r)
	}
	// WATCH_TREE, like the filter, is the first request's (MS-SMB2 3.3.1.4): asking for it
	// later on the same handle changes nothing; a handle whose first request asks for it
	// sees the subdirectory.
	ch = c.notify(ctx, dir, names, true, 4096)
	tdir := c.mustOpen("d", smb2.FileOpen, smb2.FileDirectoryFile)
	tch := c.notify(ctx, tdir, names, true, 4096)
	time.Sleep(20 * time.Millisecond)
	other.mkfile(`d\sub\deeper.txt`, "")
	r = wait(t, tch)
	if r.st != 0 || len(r.recs) == 0 || r.recs[0] != fscc.ActionAdded.String()+` sub\deeper.txt` {
		t.Fatalf("watch tree: %+v", r)
	}
	select {
	case r := <-ch:
		t.Fatalf("WATCH_TREE of a later request took effect: %+v", r)
	case <-time.After(50 * time.Millisecond):
	}
	other.mkfile(`d\third.txt`, "")
	if r := wait(t, ch); r.st != 0 || len(r.recs) != 1 || r.recs[0] != fscc.ActionAdded.String()+" third.txt" {
		t.Fatalf("after a subdirectory change: %+v", r)
	}
	c.mustClose(tdir)
	// Overflow: more than OutputBufferLength.
	for _, n := range []string{"a1", "a2", "a3", "a4"} {
		other.mkfile(`d\`+n, "")
	}
	r = wait(t, c.notify(ctx, dir, names, false, 40))
	if r.st != ntstatus.StatusNotifyEnumDir {
		t.Fatalf("overflow: %+v", r)
	}
	// Cancel.
	cctx, cancel := context.WithCancel(ctx)
	ch = c.notify(cctx, dir, names, false, 4096)
	time.Sleep(20 * time.Millisecond)
	cancel()
	if r := wait(t, ch); r.st != ntstatus.StatusCancelled {
		t.Fatalf("cancelled: %+v", r)
	}
	// Closing the handle completes a pending request with NOTIFY_CLEANUP.
	ch = c.notify(ctx, dir, names, false, 4096)
	time.Sleep(20 * time.Millisecond)
	c.mustClose(dir)
	if r := wait(t, ch); r.st != ntstatus.StatusNotifyCleanup {
		t.Fatalf("closed: %+v", r)
	}
	// A file is not a directory.
	f := c.mustOpen(`d\a1`, smb2.FileOpen, 0)
	if r := wait(t, c.notify(ctx, f, names, false, 4096)); r.st != ntstatus.StatusInvalidParameter {
		t.Fatalf("file: %+v", r)
	}
	c.mustClose(f)
}

func TestObjectID(t *testing.T) {
	c := connect(t, memfs.New(memfs.Options{}), ShareOptions{})
	c.mkfile("f", "")
	c.mkfile("g", "")
	f := c.mustOpen("f", smb2.FileOpen, 0)
	g := c.mustOpen("g", smb2.FileOpen, 0)
	defer c.mustClose(f)
	defer c.mustClose(g)
	get := func(fid smb2.FileId, code fscc.CtlCode) fscc.FileObjectidBuffer {
		t.Helper()
		out, st := c.ioctl(fid, code, nil, 64)
		if st != 0 {
			t.Fatalf("%v: %v", code, st)
		}
		var b fscc.FileObjectidBuffer
		if err := b.Decode(out); err != nil {
			t.Fatal(err)
		}
		return b
	}
	a1 := get(f, fscc.FsctlCreateOrGetObjectId)
	a2 := get(f, fscc.FsctlGetObjectId)
	b1 := get(g, fscc.FsctlCreateOrGetObjectId)
	if a1 != a2 || a1.ObjectId == b1.ObjectId || a1.ObjectId == (dtyp.GUID{}) {
		t.Fatalf("object ids: %v %v %v", a1.ObjectId, a2.ObjectId, b1.ObjectId)
	}
	if _, st := c.ioctl(f, fscc.FsctlCreateOrGetObjectId, nil, 16); st != ntstatus.StatusBufferTooSmall {
		t.Fatalf("small buffer: %v", st)
	}
}

// sdWith builds a self-relative descriptor owned by owner with one DACL ACE.
func sdWith(owner []byte, typ dtyp.AceType, sid []byte, mask dtyp.AccessMask) []byte {
	body, _ := (&dtyp.AccessAllowedAce{Mask: mask, Sid: sid}).Append(nil)
	var acl dtyp.ACL
	acl.AclRevision = dtyp.AclRevision2
	acl.Aces.Add(&dtyp.ACE{AceType: typ, Body: body})
	dacl, _ := acl.Append(nil)
	sd := dtyp.SecurityDescriptor{Revision: 1, Control: dtyp.SeSelfRelative | dtyp.SeDaclPresent, OwnerSid: owner, Dacl: dacl}
	b, _ := sd.Append(nil)
	return b
}

func TestACLEnforced(t *testing.T) {
	c := connect(t, memfs.New(memfs.Options{}), ShareOptions{})
	c.mkfile("f", "data")
	setSD := func(sd []byte) {
		t.Helper()
		fid, _, st := c.create("f", createOpts{access: dtyp.ReadControl | dtyp.WriteDac, share: shareAll, disp: smb2.FileOpen})
		if st != 0 {
			t.Fatal(st)
		}
		var resp smb2.SetInfoResponse
		if st := c.tree.SetInfo(&c.r, &smb2.SetInfoRequest{InfoType: smb2.InfoSecurity, FileId: fid,
			AdditionalInformation: dtyp.DaclSecurityInformation, Buffer: sd}, &resp); st != 0 {
			t.Fatalf("set security: %v", st)
		}
		c.mustClose(fid)
	}
	try := func(access dtyp.AccessMask) ntstatus.Status {
		fid, _, st := c.create("f", createOpts{access: access, share: shareAll, disp: smb2.FileOpen})
		if st == 0 {
			c.mustClose(fid)
		}
		return st
	}
	creatorOwner := makeSID(3, 0)
	// Read for CREATOR OWNER (which no token holds): writing is refused.
	setSD(sdWith(nil, dtyp.AccessAllowedAceType, creatorOwner, fileGenericRead))
	if st := try(dtyp.FileWriteData); st != ntstatus.StatusAccessDenied {
		t.Fatalf("write with a read-only DACL: %v", st)
	}
	if st := try(dtyp.FileReadData); st != ntstatus.StatusAccessDenied {
		t.Fatalf("read granted to nobody in the token: %v", st)
	}
	// The owner keeps READ_CONTROL and WRITE_DAC (the synthetic owner is Administrators,
	// part of every token), and DELETE comes from the parent's FILE_DELETE_CHILD.
	if st := try(dtyp.ReadControl | dtyp.WriteDac | dtyp.Delete); st != 0 {
		t.Fatalf("owner rights: %v", st)
	}
	// Everyone read: read allowed, write refused; MAXIMUM_ALLOWED gets read.
	setSD(sdWith(nil, dtyp.AccessAllowedAceType, sidEveryone, fileGenericRead))
	if st := try(dtyp.FileReadData); st != 0 {
		t.Fatalf("read: %v", st)
	}
	if st := try(dtyp.FileWriteData); st != ntstatus.StatusAccessDenied {
		t.Fatalf("write: %v", st)
	}
	// The user's own SID.
	setSD(sdWith(nil, dtyp.AccessAllowedAceType, userSID("", "u"), fileAllAccess))
	if st := try(dtyp.FileWriteData); st != 0 {
		t.Fatalf("write for the user: %v", st)
	}
	if userSID("", "u") == nil || string(userSID("", "u")) != string(userSID("", "U")) || string(userSID("", "u")) == string(userSID("", "v")) {
		t.Fatal("user SIDs are not stable and distinct")
	}
}

func TestDaclAccess(t *testing.T) {
	tok := [][]byte{sidEveryone, sidAuthenticated}
	// Deny before allow wins; allow before deny keeps the allowed bits.
	body := func(typ dtyp.AceType, sid []byte, m dtyp.AccessMask) *dtyp.ACE {
		b, _ := (&dtyp.AccessAllowedAce{Mask: m, Sid: sid}).Append(nil)
		return &dtyp.ACE{AceType: typ, Body: b}
	}
	mk := func(aces ...*dtyp.ACE) []byte {
		var acl dtyp.ACL
		acl.AclRevision = dtyp.AclRevision2
		for _, a := range aces {
			acl.Aces.Add(a)
		}
		dacl, _ := acl.Append(nil)
		b, _ := (&dtyp.SecurityDescriptor{Revision: 1, Control: dtyp.SeSelfRelative | dtyp.SeDaclPresent, Dacl: dacl}).Append(nil)
		return b
	}
	if m := daclAccess(mk(body(dtyp.AccessDeniedAceType, sidEveryone, dtyp.FileWriteData), body(dtyp.AccessAllowedAceType, sidEveryone, fileAllAccess)), tok); m&dtyp.FileWriteData != 0 || m&dtyp.FileReadData == 0 {
		t.Fatalf("deny first: %#x", m)
	}
	if m := daclAccess(mk(body(dtyp.AccessAllowedAceType, sidAuthenticated, fileAllAccess), body(dtyp.AccessDeniedAceType, sidEveryone, dtyp.FileWriteData)), tok); m&dtyp.FileWriteData == 0 {
		t.Fatalf("allow first: %#x", m)
	}
	if m := daclAccess(mk(), tok); m != 0 {
		t.Fatalf("empty DACL: %#x", m)
	}
	nodacl, _ := (&dtyp.SecurityDescriptor{Revision: 1, Control: dtyp.SeSelfRelative}).Append(nil)
	if m := daclAccess(nodacl, tok); m != fileAllAccess {
		t.Fatalf("no DACL: %#x", m)
	}
}

func TestChangeNotifyDeletePending(t *testing.T) {
	c := connect(t, memfs.New(memfs.Options{}), ShareOptions{})
	other := connectShare(t, c.tree.Share())
	c.mkdir("d")
	dir := c.mustOpen("d", smb2.FileOpen, smb2.FileDirectoryFile)
	ch := c.notify(context.Background(), dir, smb2.NotifyChangeFileName, false, 1000)
	time.Sleep(20 * time.Millisecond)
	// Another open deletes the directory on close: the watch ends with DELETE_PENDING.
	d2 := other.mustOpen("d", smb2.FileOpen, smb2.FileDirectoryFile|smb2.FileDeleteOnClose)
	other.mustClose(d2)
	if r := wait(t, ch); r.st != ntstatus.StatusDeletePending {
		t.Fatalf("delete pending: %+v", r)
	}
	c.mustClose(dir)
}

func TestOplockStatOpenDoesNotBreak(t *testing.T) {
	_, a, na, b, _ := twoConns(t)
	fid, level, _ := a.createOplock("f", smb2.OplockLevelBatch, smb2.FileCreate)
	if level != smb2.OplockLevelBatch {
		t.Fatalf("batch: %v", level)
	}
	stat, _, st := b.create("f", createOpts{access: dtyp.FileReadAttributes | dtyp.Synchronize, share: shareAll, disp: smb2.FileOpen})
	if st != 0 {
		t.Fatal(st)
	}
	if br := na.got(); len(br) != 0 {
		t.Fatalf("a stat open broke the oplock: %+v", br)
	}
	b.mustClose(stat)
	a.mustClose(fid)
}

// createOL opens name with an oplock request and the access, sharing and disposition of o.
func (c *tc) createOL(name string, level smb2.OplockLevel, o createOpts) (smb2.FileId, smb2.OplockLevel, ntstatus.Status) {
	req := &smb2.CreateRequest{
		ImpersonationLevel:   smb2.ImpersonationLevelImpersonation,
		RequestedOplockLevel: level,
		DesiredAccess:        o.access,
		ShareAccess:          o.share,
		CreateDisposition:    o.disp,
		CreateOptions:        o.options,
		Name:                 utf16.FromString(name),
	}
	var resp smb2.CreateResponse
	st := c.tree.Create(&c.r, req, &resp)
	return resp.FileId, resp.OplockLevel, st
}

// ackOnBreak makes the holder's connection acknowledge every break that needs it, to the
// level of the notification (as smbtorture's oplock handler does).
func ackOnBreak(holder *tc, n *fakeConn) {
	n.mu.Lock()
	n.onBreak = func(br smb2.OplockBreakResponse) {
		if br.OplockLevel == smb2.OplockLevelII {
			holder.ack(br.FileId, br.OplockLevel)
		}
	}
	n.mu.Unlock()
}

// An EXCLUSIVE oplock is not broken by an open that fails its sharing check; a BATCH
// oplock is, before the check (smbtorture smb2.oplock.exclusive1, batch1).
func TestOplockSharingCheckOrder(t *testing.T) {
	_, a, na, b, _ := twoConns(t)
	ackOnBreak(a, na)
	all := dtyp.FileReadData | dtyp.FileWriteData | dtyp.Delete
	fid, level, _ := a.createOL("x", smb2.OplockLevelExclusive, createOpts{access: all, disp: smb2.FileCreate})
	if level != smb2.OplockLevelExclusive {
		t.Fatalf("exclusive: %v", level)
	}
	if _, _, st := b.createOL("x", smb2.OplockLevelExclusive, createOpts{access: all, disp: smb2.FileOpen}); st != ntstatus.StatusSharingViolation {
		t.Fatalf("second open: %v", st)
	}
	if br := na.got(); len(br) != 0 {
		t.Fatalf("a refused open broke the exclusive oplock: %+v", br)
	}
	a.mustClose(fid)

	fid, level, _ = a.createOL("y", smb2.OplockLevelBatch, createOpts{access: all, disp: smb2.FileCreate})
	if level != smb2.OplockLevelBatch {
		t.Fatalf("batch: %v", level)
	}
	if _, _, st := b.createOL("y", 0, createOpts{access: dtyp.Delete, share: shareAll, disp: smb2.FileOpen}); st != ntstatus.StatusSharingViolation {
		t.Fatalf("open for delete: %v", st)
	}
	br := na.got()
	if len(br) != 1 || br[0].FileId != fid || br[0].OplockLevel != smb2.OplockLevelII {
		t.Fatalf("the batch oplock was not broken to level II: %+v", br)
	}
	// Now at level II: the next refused open breaks nothing.
	if _, _, st := b.createOL("y", 0, createOpts{access: dtyp.Delete, share: shareAll, disp: smb2.FileOpen}); st != ntstatus.StatusSharingViolation {
		t.Fatalf("second open for delete: %v", st)
	}
	if br := na.got(); len(br) != 1 {
		t.Fatalf("breaks: %+v", br)
	}
	a.mustClose(fid)
}

// An open of a delete-pending file fails without breaking the oplock (smb2.oplock.doc).
func TestOplockDeletePendingNoBreak(t *testing.T) {
	_, a, na, b, _ := twoConns(t)
	fid, level, _ := a.createOL("f", smb2.OplockLevelBatch, createOpts{access: dtyp.FileReadData | dtyp.Delete, share: shareAll, disp: smb2.FileCreate})
	if level != smb2.OplockLevelBatch {
		t.Fatalf("batch: %v", level)
	}
	if st := a.set(fid, fscc.ClassFileDispositionInformation, []byte{1}); st != 0 {
		t.Fatalf("delete on close: %v", st)
	}
	if _, _, st := b.createOL("f", 0, createOpts{access: dtyp.FileReadData, share: shareAll, disp: smb2.FileOpen}); st != ntstatus.StatusDeletePending {
		t.Fatalf("open of a delete-pending file: %v", st)
	}
	if br := na.got(); len(br) != 0 {
		t.Fatalf("breaks: %+v", br)
	}
	a.mustClose(fid)
}

// Only FILE_READ_ATTRIBUTES, FILE_WRITE_ATTRIBUTES and SYNCHRONIZE make a stat open;
// READ_CONTROL breaks (smb2.oplock.statopen1).
func TestOplockStatOpenAccess(t *testing.T) {
	cases := []struct {
		access dtyp.AccessMask
		breaks bool
	}{
		{dtyp.FileReadAttributes, false},
		{dtyp.FileWriteAttributes, false},
		{dtyp.Synchronize, false},
		{dtyp.ReadControl, true},
		{dtyp.WriteDac, true},
		{dtyp.Delete, true},
		{dtyp.FileReadEa, true},
	}
	for _, tc := range cases {
		_, a, na, b, _ := twoConns(t)
		ackOnBreak(a, na)
		fid, _, _ := a.createOL("f", smb2.OplockLevelBatch, createOpts{access: dtyp.FileReadData | dtyp.FileWriteData, share: shareAll, disp: smb2.FileOpenIf})
		other, _, st := b.createOL("f", 0, createOpts{access: tc.access, share: shareAll, disp: smb2.FileOpen})
		if st != 0 {
			t.Fatalf("%#x: %v", tc.access, st)
		}
		if got := len(na.got()) == 1; got != tc.breaks {
			t.Errorf("access %#x: break %v, want %v", tc.access, got, tc.breaks)
		}
		b.mustClose(other)
		a.mustClose(fid)
	}
}

// A write, an end-of-file or allocation change or a byte-range lock breaks every LEVEL_II
// oplock of the stream to none, the one of the open it goes through too; those breaks
// take no acknowledgment (smb2.oplock.batch1, batch9, batch11, batch12, brl1, levelii500).
func TestOplockLevelIIBrokenBySelf(t *testing.T) {
	_, a, na, b, nb := twoConns(t)
	rw := createOpts{access: dtyp.FileReadData | dtyp.FileWriteData, share: smb2.FileShareRead | smb2.FileShareWrite, disp: smb2.FileOpenIf}
	steps := []struct {
		name string
		op   func(c *tc, fid smb2.FileId) ntstatus.Status
	}{
		{"write", func(c *tc, fid smb2.FileId) ntstatus.Status { _, st := c.write(fid, 0, []byte("x")); return st }},
		{"eof", func(c *tc, fid smb2.FileId) ntstatus.Status {
			return c.set(fid, fscc.ClassFileEndOfFileInformation, []byte{100, 0, 0, 0, 0, 0, 0, 0})
		}},
		{"allocation", func(c *tc, fid smb2.FileId) ntstatus.Status {
			return c.set(fid, fscc.ClassFileAllocationInformation, []byte{0, 0, 8, 0, 0, 0, 0, 0})
		}},
		{"lock", func(c *tc, fid smb2.FileId) ntstatus.Status {
			var req smb2.LockRequest
			req.FileId = fid
			req.Locks.Add(&smb2.LockElement{Offset: 0, Length: 4, Flags: smb2.LockFlagExclusiveLock | smb2.LockFlagFailImmediately})
			var resp smb2.LockResponse
			return c.tree.Lock(&c.r, &req, &resp)
		}},
	}
	for i, step := range steps {
		name := string(rune('a' + i))
		na.mu.Lock()
		na.breaks, na.onBreak = nil, nil
		na.mu.Unlock()
		nb.mu.Lock()
		nb.breaks = nil
		nb.mu.Unlock()
		// The holder's batch oplock goes to level II when the second open comes.
		ackOnBreak(a, na)
		h1, level, _ := a.createOL(name, smb2.OplockLevelBatch, rw)
		if level != smb2.OplockLevelBatch {
			t.Fatalf("%s: batch: %v", step.name, level)
		}
		h2, level, st := b.createOL(name, smb2.OplockLevelBatch, rw)
		if st != 0 || level != smb2.OplockLevelII {
			t.Fatalf("%s: second open: %v %v", step.name, st, level)
		}
		if br := na.got(); len(br) != 1 || br[0].OplockLevel != smb2.OplockLevelII {
			t.Fatalf("%s: break to II: %+v", step.name, br)
		}
		// The operation through the holder's own handle breaks both level II oplocks.
		if st := step.op(a, h1); st != 0 {
			t.Fatalf("%s: %v", step.name, st)
		}
		if br := na.got(); len(br) != 2 || br[1].FileId != h1 || br[1].OplockLevel != smb2.OplockLevelNone {
			t.Fatalf("%s: self break: %+v", step.name, br)
		}
		if br := nb.got(); len(br) != 1 || br[0].FileId != h2 || br[0].OplockLevel != smb2.OplockLevelNone {
			t.Fatalf("%s: other break: %+v", step.name, br)
		}
		// A break from II to none is not acknowledged.
		if _, st := a.ack(h1, smb2.OplockLevelNone); st != ntstatus.StatusInvalidOplockProtocol {
			t.Fatalf("%s: ack of a break to none: %v", step.name, st)
		}
		// Nothing left to break.
		if st := step.op(b, h2); st != 0 && step.name != "lock" {
			t.Fatalf("%s again: %v", step.name, st)
		}
		if len(na.got()) != 2 || len(nb.got()) != 1 {
			t.Fatalf("%s: breaks without oplocks: %+v %+v", step.name, na.got(), nb.got())
		}
		a.mustClose(h1)
		b.mustClose(h2)
	}
}

// OplockWaitNever: a CREATE that would wait returns STATUS_PENDING, sends no break and
// opens nothing; OplockWaitAll waits for a holder on its own connection, for its
// acknowledgment or for the break timeout (smb2.oplock.batch22a, brl3, statopen1).
func TestOplockCreateWaitModes(t *testing.T) {
	s, a, na, _, _ := twoConns(t)
	s.SetOplockBreakTimeout(300 * time.Millisecond)
	rw := createOpts{access: dtyp.FileReadData | dtyp.FileWriteData, share: shareAll, disp: smb2.FileOpenIf}
	h1, level, _ := a.createOL("f", smb2.OplockLevelBatch, rw)
	if level != smb2.OplockLevelBatch {
		t.Fatalf("batch: %v", level)
	}
	a.r.OplockWait = OplockWaitNever
	if _, _, st := a.createOL("f", smb2.OplockLevelBatch, rw); st != ntstatus.StatusPending {
		t.Fatalf("probe: %v", st)
	}
	if br := na.got(); len(br) != 0 {
		t.Fatalf("the probe sent a break: %+v", br)
	}
	s.mu.Lock()
	n := len(s.files[a.tree.get(h1).f.id].opens)
	s.mu.Unlock()
	if n != 1 {
		t.Fatalf("the probe left %d opens", n)
	}
	// A stat open needs no wait even when probing.
	stat, _, st := a.createOL("f", 0, createOpts{access: dtyp.FileReadAttributes, share: shareAll, disp: smb2.FileOpen})
	if st != 0 {
		t.Fatalf("stat open: %v", st)
	}
	a.mustClose(stat)

	// Not acknowledged: the open completes after the timeout, with level II.
	a.r.OplockWait = OplockWaitAll
	start := time.Now()
	h2, level, st := a.createOL("f", smb2.OplockLevelBatch, rw)
	if d := time.Since(start); st != 0 || level != smb2.OplockLevelII || d < 250*time.Millisecond || d > 3*time.Second {
		t.Fatalf("unacknowledged: %v %v after %v", st, level, d)
	}
	if br := na.got(); len(br) != 1 || br[0].FileId != h1 || br[0].OplockLevel != smb2.OplockLevelII {
		t.Fatalf("breaks: %+v", br)
	}
	a.mustClose(h2)
	a.mustClose(h1)

	// Acknowledged on the same connection: the open completes at once.
	s.SetOplockBreakTimeout(10 * time.Second)
	a.r.OplockWait = OplockWaitOthers
	h1, _, _ = a.createOL("g", smb2.OplockLevelBatch, rw)
	ackOnBreak(a, na)
	a.r.OplockWait = OplockWaitAll
	start = time.Now()
	h2, level, st = a.createOL("g", 0, rw)
	if d := time.Since(start); st != 0 || level != smb2.OplockLevelNone || d > 2*time.Second {
		t.Fatalf("acknowledged: %v %v after %v", st, level, d)
	}
	s.mu.Lock()
	got := a.tree.get(h1).ol.level
	s.mu.Unlock()
	if got != smb2.OplockLevelII {
		t.Fatalf("holder after the acknowledgment: %v", got)
	}
	// A cancelled wait answers STATUS_CANCELLED.
	a.mustClose(h2)
	a.mustClose(h1)
	a.r.OplockWait = OplockWaitOthers
	h1, _, _ = a.createOL("h", smb2.OplockLevelBatch, rw)
	na.mu.Lock()
	na.onBreak = nil
	na.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	a.r.Ctx, a.r.OplockWait = ctx, OplockWaitAll
	time.AfterFunc(50*time.Millisecond, cancel)
	if _, _, st := a.createOL("h", 0, rw); st != ntstatus.StatusCancelled {
		t.Fatalf("cancelled: %v", st)
	}
	a.r.Ctx, a.r.OplockWait = context.Background(), OplockWaitOthers
	a.mustClose(h1)
}
