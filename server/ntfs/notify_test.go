package ntfs

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/smbvfs/smbvfs/backends/memfs"
	"github.com/smbvfs/smbvfs/protocol/dtyp"
	"github.com/smbvfs/smbvfs/protocol/fscc"
	"github.com/smbvfs/smbvfs/protocol/ntstatus"
	"github.com/smbvfs/smbvfs/protocol/smb2"
)

// notifyFixture: a memfs share, a watched directory "d" opened by c, and a second tree.
func notifyFixture(t *testing.T) (c, other *tc, dir smb2.FileId) {
	c = connect(t, memfs.New(memfs.Options{}), ShareOptions{})
	other = connectShare(t, c.tree.Share())
	c.mkdir("d")
	// Read access only: an open that may delete the directory blocks renames into it.
	dir, _, st := c.create("d", createOpts{access: dtyp.GenericRead, share: shareAll, disp: smb2.FileOpen, options: smb2.FileDirectoryFile})
	if st != 0 {
		t.Fatal(st)
	}
	return c, other, dir
}

// start queues a CHANGE_NOTIFY as the engine does, in request order.
func (c *tc) start(dir smb2.FileId, filter smb2.CompletionFilter, max uint32) (*NotifyWait, ntstatus.Status, []string) {
	c.t.Helper()
	var resp smb2.ChangeNotifyResponse
	w, st := c.tree.StartChangeNotify(&c.r, &smb2.ChangeNotifyRequest{FileId: dir, CompletionFilter: filter, OutputBufferLength: max}, &resp)
	return w, st, notifyRecs(st, resp.OutputBuffer)
}

// finish waits for a queued request (at most 5 s) and returns its status and records.
func (c *tc) finish(w *NotifyWait) (ntstatus.Status, []string) {
	c.t.Helper()
	r := Req{}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r.Ctx = ctx
	var resp smb2.ChangeNotifyResponse
	st := w.Wait(&r, &resp)
	return st, notifyRecs(st, resp.OutputBuffer)
}

func notifyRecs(st ntstatus.Status, buf []byte) []string {
	var recs []string
	var l fscc.FileNotifyInformationList
	if st == 0 && l.Decode(buf, -1) == nil {
		for it := l.Iter(); it.Next(); {
			e := it.Value()
			recs = append(recs, e.Action.String()+" "+e.FileName.String())
		}
	}
	return recs
}

func rec(a fscc.NotifyAction, name string) string { return a.String() + " " + name }

// cancelNotify establishes the watch with a request that is cancelled at once.
func (c *tc) cancelNotify(dir smb2.FileId, filter smb2.CompletionFilter, max uint32) {
	c.t.Helper()
	w, st, _ := c.start(dir, filter, max)
	if st != ntstatus.StatusPending {
		c.t.Fatalf("first request: %v", st)
	}
	r := Req{Ctx: cancelledCtx()}
	var resp smb2.ChangeNotifyResponse
	if st := w.Wait(&r, &resp); st != ntstatus.StatusCancelled {
		c.t.Fatalf("cancel: %v", st)
	}
}

func setAttributes(t *testing.T, c *tc, name string, a fscc.FileAttributes) {
	t.Helper()
	fid := c.mustOpen(name, smb2.FileOpen, 0)
	bb, _ := (&fscc.FileBasicInformation{FileAttributes: a}).Append(nil)
	if st := c.set(fid, fscc.ClassFileBasicInformation, bb); st != ntstatus.StatusSuccess {
		t.Fatal(st)
	}
	c.mustClose(fid)
}

// A pending request completes with the first change alone; what follows is buffered
// for the next request (smbtorture smb2.notify.valid-req).
func TestNotifyPendingTakesFirstChange(t *testing.T) {
	c, other, dir := notifyFixture(t)
	w, st, _ := c.start(dir, smb2.NotifyChangeFileName|smb2.NotifyChangeDirName, 4096)
	if st != ntstatus.StatusPending {
		t.Fatalf("start: %v", st)
	}
	other.mkfile(`d\a`, "")
	other.mkfile(`d\b`, "")
	if st, recs := c.finish(w); st != 0 || strings.Join(recs, ",") != rec(fscc.ActionAdded, "a") {
		t.Fatalf("pending: %v %v", st, recs)
	}
	if _, st, recs := c.start(dir, 0, 4096); st != 0 || strings.Join(recs, ",") != rec(fscc.ActionAdded, "b") {
		t.Fatalf("buffered: %v %v", st, recs)
	}
}

// Requests on one open complete in the order they came, and the filter stays the
// first request's (MS-SMB2 3.3.1.4; smbtorture smb2.notify.double, mask-change).
func TestNotifyFIFOAndFirstFilter(t *testing.T) {
	c, other, dir := notifyFixture(t)
	c.cancelNotify(dir, smb2.NotifyChangeDirName, 4096)
	w1, st1, _ := c.start(dir, smb2.NotifyChangeFileName, 4096) // the filter is ignored
	w2, st2, _ := c.start(dir, smb2.NotifyChangeFileName, 4096)
	if st1 != ntstatus.StatusPending || st2 != ntstatus.StatusPending {
		t.Fatalf("start: %v %v", st1, st2)
	}
	other.mkfile(`d\file`, "") // not a directory: not seen
	other.mkdir(`d\one`)
	other.mkdir(`d\two`)
	if st, recs := c.finish(w1); st != 0 || strings.Join(recs, ",") != rec(fscc.ActionAdded, "one") {
		t.Fatalf("first: %v %v", st, recs)
	}
	if st, recs := c.finish(w2); st != 0 || strings.Join(recs, ",") != rec(fscc.ActionAdded, "two") {
		t.Fatalf("second: %v %v", st, recs)
	}
}

// A request queued before its open closes completes with STATUS_NOTIFY_CLEANUP, even
// when the close comes before the wait starts (smbtorture smb2.notify.dir, close).
func TestNotifyQueuedThenClosed(t *testing.T) {
	c, _, dir := notifyFixture(t)
	w, st, _ := c.start(dir, smb2.NotifyChangeFileName, 4096)
	if st != ntstatus.StatusPending {
		t.Fatalf("start: %v", st)
	}
	c.mustClose(dir)
	if st, _ := c.finish(w); st != ntstatus.StatusNotifyCleanup {
		t.Fatalf("closed: %v", st)
	}
}

// A cancelled request leaves the queue: the next change goes to the next request.
func TestNotifyCancelledLeavesQueue(t *testing.T) {
	c, other, dir := notifyFixture(t)
	w1, _, _ := c.start(dir, smb2.NotifyChangeFileName, 4096)
	w2, _, _ := c.start(dir, 0, 4096)
	r := Req{Ctx: cancelledCtx()}
	var resp smb2.ChangeNotifyResponse
	if st := w1.Wait(&r, &resp); st != ntstatus.StatusCancelled {
		t.Fatalf("cancel: %v", st)
	}
	other.mkfile(`d\x`, "")
	if st, recs := c.finish(w2); st != 0 || strings.Join(recs, ",") != rec(fscc.ActionAdded, "x") {
		t.Fatalf("after cancel: %v %v", st, recs)
	}
}

// What a CREATE sets up on a new file (attributes) is part of its creation; a later
// attribute change is reported (smbtorture smb2.notify.mask).
func TestNotifyCreateReportsOnlyAdded(t *testing.T) {
	c, other, dir := notifyFixture(t)
	c.cancelNotify(dir, smb2.NotifyChangeAttributes, 4096)
	fid, _, st := other.create(`d\f`, createOpts{access: 0x1f01ff, share: shareAll, disp: smb2.FileCreate, attrs: fscc.FileAttributeHidden})
	if st != 0 {
		t.Fatal(st)
	}
	other.mustClose(fid)
	setAttributes(t, other, `d\f`, fscc.FileAttributeReadonly)
	_, st, recs := c.start(dir, 0, 4096)
	if st != 0 || strings.Join(recs, ",") != rec(fscc.ActionModified, "f") {
		t.Fatalf("records: %v %v", st, recs)
	}
}

// Writes are reported once, when the open that wrote closes, with SIZE and LAST_WRITE;
// the write times the engine stores are not reported on their own.
func TestNotifyWriteReportedAtClose(t *testing.T) {
	c, other, dir := notifyFixture(t)
	other.mkfile(`d\f`, "")
	c.cancelNotify(dir, smb2.NotifyChangeSize, 4096)
	fid := other.mustOpen(`d\f`, smb2.FileOpen, 0)
	for i := range 3 {
		if _, st := other.write(fid, uint64(i), []byte("x")); st != 0 {
			t.Fatal(st)
		}
	}
	w, st, _ := c.start(dir, 0, 4096)
	if st != ntstatus.StatusPending {
		t.Fatalf("before the close: %v", st)
	}
	other.mustClose(fid)
	if st, recs := c.finish(w); st != 0 || strings.Join(recs, ",") != rec(fscc.ActionModified, "f") {
		t.Fatalf("close: %v %v", st, recs)
	}
	// Nothing else was buffered (the last close's write-time store is quiet).
	w, st, recs := c.start(dir, 0, 4096)
	if st != ntstatus.StatusPending {
		t.Fatalf("extra records: %v %v", st, recs)
	}
	c.mustClose(dir)
	c.finish(w)
}

// A move to another directory is a removal and an addition; a rename in place is
// OLD_NAME/NEW_NAME, and the close of the renaming open reports the file's attributes
// modified (smbtorture smb2.notify.mask-change, rec).
func TestNotifyRenames(t *testing.T) {
	c, other, dir := notifyFixture(t)
	other.mkdir(`d\sub`)
	other.mkfile(`d\sub\f`, "")
	all := smb2.NotifyChangeFileName | smb2.NotifyChangeAttributes
	// WATCH_TREE on the first request: it stays with the handle (MS-SMB2 3.3.1.4).
	var nresp smb2.ChangeNotifyResponse
	w, st := c.tree.StartChangeNotify(&c.r, &smb2.ChangeNotifyRequest{FileId: dir, CompletionFilter: all, Flags: smb2.ChangeNotifyWatchTree, OutputBufferLength: 4096}, &nresp)
	if st != ntstatus.StatusPending {
		t.Fatal(st)
	}
	fid := other.mustOpen(`d\sub\f`, smb2.FileOpen, 0)
	if st := other.rename(fid, `d\g`, false); st != 0 {
		t.Fatal(st)
	}
	if st, recs := c.finish(w); st != 0 || strings.Join(recs, ",") != rec(fscc.ActionRemoved, `sub\f`)+","+rec(fscc.ActionAdded, "g") {
		t.Fatalf("move: %v %v", st, recs)
	}
	if st := other.rename(fid, `d\h`, false); st != 0 {
		t.Fatal(st)
	}
	other.mustClose(fid)
	_, st = c.tree.StartChangeNotify(&c.r, &smb2.ChangeNotifyRequest{FileId: dir, Flags: smb2.ChangeNotifyWatchTree, OutputBufferLength: 4096}, &nresp)
	want := []string{rec(fscc.ActionRenamedOldName, "g"), rec(fscc.ActionRenamedNewName, "h"), rec(fscc.ActionModified, "h")}
	if recs := notifyRecs(st, nresp.OutputBuffer); st != 0 || strings.Join(recs, ",") != strings.Join(want, ",") {
		t.Fatalf("rename: %v %v", st, recs)
	}
}

// The buffer kept between requests is the first request's size: when it is too small,
// later requests complete with STATUS_NOTIFY_ENUM_DIR however large their own buffers
// (smbtorture smb2.notify.valid-req).
func TestNotifyBufferSizedByFirstRequest(t *testing.T) {
	c, other, dir := notifyFixture(t)
	c.cancelNotify(dir, smb2.NotifyChangeFileName, 1)
	other.mkfile(`d\a`, "")
	if _, st, _ := c.start(dir, 0, 4096); st != ntstatus.StatusNotifyEnumDir {
		t.Fatalf("buffered past the first size: %v", st)
	}
	// A pending request gets the change if it fits its own buffer.
	w, st, _ := c.start(dir, 0, 4096)
	if st != ntstatus.StatusPending {
		t.Fatal(st)
	}
	other.mkfile(`d\b`, "")
	if st, recs := c.finish(w); st != 0 || strings.Join(recs, ",") != rec(fscc.ActionAdded, "b") {
		t.Fatalf("pending: %v %v", st, recs)
	}
}

// ".." takes back the component before it (smbtorture smb2.notify.tree); above the share
// root it is a syntax error.
func TestParseNameDotDot(t *testing.T) {
	tests := []struct {
		name string
		want string
		st   ntstatus.Status
	}{
		{`a\b\..`, "a", 0},
		{`a\..\b\c`, `b\c`, 0},
		{`a\..`, "", 0},
		{`a\..\..`, "", ntstatus.StatusObjectPathSyntaxBad},
		{`..\a`, "", ntstatus.StatusObjectPathSyntaxBad},
		{`a\..:s`, "", ntstatus.StatusObjectNameInvalid},
		{`a\.\b`, "", ntstatus.StatusObjectNameInvalid},
	}
	for _, tt := range tests {
		p, st := parseName(tt.name, false)
		if st != tt.st || (st == 0 && strings.Join(p.comps, `\`) != tt.want) {
			t.Errorf("%q: %v %q, want %v %q", tt.name, st, p.comps, tt.st, tt.want)
		}
	}
}
