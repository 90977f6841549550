package ntfs

import (
	"testing"
	"time"

	"github.com/smbvfs/smbvfs/protocol/dtyp"
	"github.com/smbvfs/smbvfs/protocol/fscc"
	"github.com/smbvfs/smbvfs/protocol/ntstatus"
	"github.com/smbvfs/smbvfs/protocol/smb2"
	"github.com/smbvfs/smbvfs/protocol/utf16"
)

// shortWriteTimeDelay makes the delayed write-time update quick for a test.
func shortWriteTimeDelay(t *testing.T, d time.Duration) {
	old := writeTimeDelay
	writeTimeDelay = d
	t.Cleanup(func() { writeTimeDelay = old })
}

func (c *tc) lastWrite(fid smb2.FileId) dtyp.Filetime {
	c.t.Helper()
	out, st := c.query(fid, smb2.InfoFile, uint8(fscc.ClassFileBasicInformation), 40)
	if st != ntstatus.StatusSuccess {
		c.t.Fatalf("query basic: %v", st)
	}
	var bi fscc.FileBasicInformation
	if err := bi.Decode(out); err != nil {
		c.t.Fatal(err)
	}
	return bi.LastWriteTime
}

func (c *tc) setBasicTimes(fid smb2.FileId, bi fscc.FileBasicInformation) {
	c.t.Helper()
	buf, _ := bi.Append(nil)
	if st := c.set(fid, fscc.ClassFileBasicInformation, buf); st != ntstatus.StatusSuccess {
		c.t.Fatalf("set basic: %v", st)
	}
}

func (c *tc) mustWrite(fid smb2.FileId, data string) {
	c.t.Helper()
	if _, st := c.write(fid, 0, []byte(data)); st != ntstatus.StatusSuccess {
		c.t.Fatalf("write: %v", st)
	}
}

// closeTime closes fid asking for the attributes and returns its LastWriteTime.
func (c *tc) closeTime(fid smb2.FileId) dtyp.Filetime {
	c.t.Helper()
	var resp smb2.CloseResponse
	if st := c.tree.Close(&c.r, &smb2.CloseRequest{FileId: fid, Flags: smb2.CloseFlagPostqueryAttrib}, &resp); st != ntstatus.StatusSuccess {
		c.t.Fatalf("close: %v", st)
	}
	return resp.LastWriteTime
}

// listedWrite is the LastWriteTime of name in a listing of the root.
func (c *tc) listedWrite(name string) dtyp.Filetime {
	c.t.Helper()
	root := c.mustOpen("", smb2.FileOpen, smb2.FileDirectoryFile)
	defer c.mustClose(root)
	var resp smb2.QueryDirectoryResponse
	st := c.tree.QueryDirectory(&c.r, &smb2.QueryDirectoryRequest{FileInformationClass: fscc.ClassFileIdBothDirectoryInformation,
		Flags: smb2.QueryDirectoryRestartScans, FileId: root, OutputBufferLength: 65536, FileName: utf16.FromString(name)}, &resp)
	if st != ntstatus.StatusSuccess {
		c.t.Fatalf("list %s: %v", name, st)
	}
	var l fscc.FileIdBothDirectoryInformationList
	if err := l.Decode(resp.OutputBuffer, -1); err != nil {
		c.t.Fatal(err)
	}
	it := l.Iter()
	for it.Next() {
		return it.Value().LastWriteTime
	}
	c.t.Fatalf("%s not listed", name)
	return 0
}

const tick = 20 * time.Millisecond // beyond the time granularity of the backends

func TestWriteTimeDelayed(t *testing.T) {
	shortWriteTimeDelay(t, 300*time.Millisecond)
	for _, b := range writable {
		t.Run(b.name, func(t *testing.T) {
			c := connect(t, b.new(t), ShareOptions{})
			fid, cr, st := c.create("f", createOpts{access: dtyp.MaximumAllowed, share: shareAll, disp: smb2.FileCreate})
			if st != ntstatus.StatusSuccess {
				t.Fatal(st)
			}
			w0 := cr.LastWriteTime
			time.Sleep(tick)
			c.mustWrite(fid, "one")
			if w := c.lastWrite(fid); w != w0 {
				t.Fatalf("first write changed the time at once: %v -> %v", w0, w)
			}
			if w := c.listedWrite("f"); w != w0 {
				t.Errorf("listing shows %v, want %v", w, w0)
			}
			time.Sleep(writeTimeDelay + 200*time.Millisecond)
			w1 := c.lastWrite(fid)
			if w1 <= w0 {
				t.Fatalf("delayed update did not happen: %v -> %v", w0, w1)
			}
			if w := c.listedWrite("f"); w != w1 {
				t.Errorf("listing shows %v, want %v", w, w1)
			}
			time.Sleep(tick)
			c.mustWrite(fid, "two")
			time.Sleep(writeTimeDelay + 200*time.Millisecond)
			if w := c.lastWrite(fid); w != w1 {
				t.Fatalf("second write moved the time: %v -> %v", w1, w)
			}
			time.Sleep(tick)
			wc := c.closeTime(fid)
			if wc <= w1 {
				t.Fatalf("close after a second write: %v, want > %v", wc, w1)
			}
			fid = c.mustOpen("f", smb2.FileOpen, 0)
			if w := c.lastWrite(fid); w != wc {
				t.Errorf("after reopen: %v, want the close time %v", w, wc)
			}
			// A close without writes since the delayed update keeps the time.
			time.Sleep(tick)
			c.mustWrite(fid, "three")
			time.Sleep(writeTimeDelay + 200*time.Millisecond)
			w2 := c.lastWrite(fid)
			if w2 <= wc {
				t.Fatalf("delayed update: %v, want > %v", w2, wc)
			}
			time.Sleep(tick)
			if w := c.closeTime(fid); w != w2 {
				t.Errorf("close: %v, want %v", w, w2)
			}
		})
	}
}

func TestWriteTimeFlushAndEOF(t *testing.T) {
	shortWriteTimeDelay(t, time.Hour)
	for _, b := range writable {
		t.Run(b.name, func(t *testing.T) {
			c := connect(t, b.new(t), ShareOptions{})
			fid, cr, _ := c.create("f", createOpts{access: dtyp.MaximumAllowed, share: shareAll, disp: smb2.FileCreate})
			w0 := cr.LastWriteTime
			time.Sleep(tick)
			c.mustWrite(fid, "x")
			if w := c.lastWrite(fid); w != w0 {
				t.Fatalf("write changed the time at once")
			}
			var fr smb2.FlushResponse
			if st := c.tree.Flush(&c.r, &smb2.FlushRequest{FileId: fid}, &fr); st != ntstatus.StatusSuccess {
				t.Fatal(st)
			}
			w1 := c.lastWrite(fid)
			if w1 <= w0 {
				t.Fatalf("flush did not update the time: %v -> %v", w0, w1)
			}
			time.Sleep(tick)
			c.tree.Flush(&c.r, &smb2.FlushRequest{FileId: fid}, &fr)
			if w := c.lastWrite(fid); w != w1 {
				t.Errorf("flush without writes moved the time")
			}
			if w := c.closeTime(fid); w != w1 {
				t.Errorf("close after flush: %v, want %v", w, w1)
			}

			// End of file, even the same size, updates at once.
			fid = c.mustOpen("f", smb2.FileOpen, 0)
			time.Sleep(tick)
			if st := c.set(fid, fscc.ClassFileEndOfFileInformation, le64(1)); st != ntstatus.StatusSuccess {
				t.Fatal(st)
			}
			w2 := c.lastWrite(fid)
			if w2 <= w1 {
				t.Fatalf("set EOF: %v, want > %v", w2, w1)
			}
			// Another open sets the time: the close of the first keeps it.
			h2 := c.mustOpen("f", smb2.FileOpen, 0)
			set := toFiletime(time.Now().Add(24 * time.Hour))
			c.setBasicTimes(h2, fscc.FileBasicInformation{LastWriteTime: set})
			c.mustClose(h2)
			if w := c.closeTime(fid); w != set {
				t.Errorf("close: %v, want the set time %v", w, set)
			}
		})
	}
}

func TestWriteTimeSetBasic(t *testing.T) {
	shortWriteTimeDelay(t, time.Hour)
	for _, b := range writable {
		t.Run(b.name, func(t *testing.T) {
			c := connect(t, b.new(t), ShareOptions{})
			// SET_INFO FileBasicInformation, even all zero, does the pending update.
			fid, cr, _ := c.create("f", createOpts{access: dtyp.MaximumAllowed, share: shareAll, disp: smb2.FileCreate})
			time.Sleep(tick)
			c.mustWrite(fid, "x")
			c.setBasicTimes(fid, fscc.FileBasicInformation{})
			if w := c.lastWrite(fid); w <= cr.LastWriteTime {
				t.Fatalf("set basic did not update the time")
			}
			c.mustClose(fid)

			// An explicit time sticks: later writes and the close keep it.
			fid = c.mustOpen("f", smb2.FileOpen, 0)
			set := toFiletime(time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC))
			c.setBasicTimes(fid, fscc.FileBasicInformation{LastWriteTime: set})
			c.mustWrite(fid, "y")
			if w := c.lastWrite(fid); w != set {
				t.Errorf("write after an explicit time: %v, want %v", w, set)
			}
			if w := c.closeTime(fid); w != set {
				t.Errorf("close: %v, want %v", w, set)
			}
			fid = c.mustOpen("f", smb2.FileOpen, 0)
			if w := c.lastWrite(fid); w != set {
				t.Errorf("reopen: %v, want %v (stored)", w, set)
			}

			// -1 stops the updates of the open, -2 resumes them.
			c.setBasicTimes(fid, fscc.FileBasicInformation{LastWriteTime: ftSuspend})
			c.mustWrite(fid, "z")
			var fr smb2.FlushResponse
			c.tree.Flush(&c.r, &smb2.FlushRequest{FileId: fid}, &fr)
			if w := c.lastWrite(fid); w != set {
				t.Errorf("write while suspended: %v, want %v", w, set)
			}
			c.setBasicTimes(fid, fscc.FileBasicInformation{LastWriteTime: ftResume})
			c.mustWrite(fid, "w")
			if w := c.closeTime(fid); w <= set {
				t.Errorf("close after resume and a write: %v, want > %v", w, set)
			}
		})
	}
}

// Writes through one open do not show through while another open still holds the file;
// the last close stores the time clients saw.
func TestWriteTimeStoredOnLastClose(t *testing.T) {
	shortWriteTimeDelay(t, time.Hour)
	base := wtActive.Load()
	c := connect(t, writable[0].new(t), ShareOptions{})
	h1, cr, _ := c.create("f", createOpts{access: dtyp.MaximumAllowed, share: shareAll, disp: smb2.FileCreate})
	h2 := c.mustOpen("f", smb2.FileOpen, 0)
	time.Sleep(tick)
	c.mustWrite(h1, "data")
	if w := c.lastWrite(h2); w != cr.LastWriteTime {
		t.Fatalf("other open sees %v, want %v", w, cr.LastWriteTime)
	}
	w1 := c.closeTime(h1)
	if w1 <= cr.LastWriteTime {
		t.Fatalf("close of the writer: %v", w1)
	}
	if w := c.lastWrite(h2); w != w1 {
		t.Errorf("other open after the close: %v, want %v", w, w1)
	}
	time.Sleep(tick)
	c.mustClose(h2)
	h3 := c.mustOpen("f", smb2.FileOpen, 0)
	defer c.mustClose(h3)
	if w := c.lastWrite(h3); w != w1 {
		t.Errorf("after the last close: %v, want %v", w, w1)
	}
	if n := wtActive.Load() - base; n != 0 {
		t.Errorf("%d files still overridden", n)
	}
}
