package ntfs

import (
	"fmt"
	"strings"
	"testing"

	"github.com/smbvfs/smbvfs/protocol/dtyp"
	"github.com/smbvfs/smbvfs/protocol/fscc"
	"github.com/smbvfs/smbvfs/protocol/ntstatus"
	"github.com/smbvfs/smbvfs/protocol/smb2"
)

// TestDispositions: every disposition × {missing, file, directory} × {no option,
// FILE_DIRECTORY_FILE, FILE_NON_DIRECTORY_FILE}, on every writable backend.
func TestDispositions(t *testing.T) {
	type want struct {
		st     ntstatus.Status
		action smb2.CreateAction
	}
	ok := func(a smb2.CreateAction) want { return want{ntstatus.StatusSuccess, a} }
	fail := func(st ntstatus.Status) want { return want{st: st} }
	const (
		missing = iota
		isFile
		isDir
	)
	disps := []smb2.CreateDisposition{smb2.FileSupersede, smb2.FileOpen, smb2.FileCreate, smb2.FileOpenIf, smb2.FileOverwrite, smb2.FileOverwriteIf}
	// expected[state][option][disposition]
	notFound := fail(ntstatus.StatusObjectNameNotFound)
	collision := fail(ntstatus.StatusObjectNameCollision)
	inval := fail(ntstatus.StatusInvalidParameter)
	isADir := fail(ntstatus.StatusFileIsADirectory)
	notADir := fail(ntstatus.StatusNotADirectory)
	expected := [3][3][6]want{
		missing: {
			{ok(smb2.FileCreated), notFound, ok(smb2.FileCreated), ok(smb2.FileCreated), notFound, ok(smb2.FileCreated)},
			{inval, notFound, ok(smb2.FileCreated), ok(smb2.FileCreated), inval, inval},
			{ok(smb2.FileCreated), notFound, ok(smb2.FileCreated), ok(smb2.FileCreated), notFound, ok(smb2.FileCreated)},
		},
		isFile: {
			{ok(smb2.FileSuperseded), ok(smb2.FileOpened), collision, ok(smb2.FileOpened), ok(smb2.FileOverwritten), ok(smb2.FileOverwritten)},
			{inval, notADir, collision, notADir, inval, inval}, // FILE_CREATE: collision first (smbtorture smb2.mkdir)
			{ok(smb2.FileSuperseded), ok(smb2.FileOpened), collision, ok(smb2.FileOpened), ok(smb2.FileOverwritten), ok(smb2.FileOverwritten)},
		},
		isDir: {
			{isADir, ok(smb2.FileOpened), collision, ok(smb2.FileOpened), isADir, isADir},
			{inval, ok(smb2.FileOpened), collision, ok(smb2.FileOpened), inval, inval},
			{isADir, isADir, collision, isADir, isADir, isADir},
		},
	}
	options := []smb2.CreateOptions{0, smb2.FileDirectoryFile, smb2.FileNonDirectoryFile}
	for _, b := range writable {
		t.Run(b.name, func(t *testing.T) {
			c := connect(t, b.new(t), ShareOptions{})
			n := 0
			for state := range 3 {
				for oi, opt := range options {
					for di, disp := range disps {
						n++
						name := fmt.Sprintf("n%d", n)
						switch state {
						case isFile:
							c.mkfile(name, "content")
						case isDir:
							c.mkdir(name)
						}
						fid, resp, st := c.create(name, createOpts{access: dtyp.GenericRead | dtyp.GenericWrite | dtyp.Delete,
							share: shareAll, disp: disp, options: opt})
						w := expected[state][oi][di]
						if st != w.st || (st == ntstatus.StatusSuccess && resp.CreateAction != w.action) {
							t.Errorf("state %d %v %v: got %v %v, want %v %v", state, opt, disp, st, resp.CreateAction, w.st, w.action)
						}
						if st != ntstatus.StatusSuccess {
							continue
						}
						isDirNow := resp.FileAttributes&fscc.FileAttributeDirectory != 0
						wantDir := state == isDir || (state == missing && opt == smb2.FileDirectoryFile)
						if isDirNow != wantDir {
							t.Errorf("state %d %v %v: directory attribute %v", state, opt, disp, isDirNow)
						}
						if state == isFile && resp.CreateAction == smb2.FileOverwritten || resp.CreateAction == smb2.FileSuperseded {
							if resp.EndofFile != 0 {
								t.Errorf("%v: not truncated: %d", disp, resp.EndofFile)
							}
						}
						if state == isFile && resp.CreateAction == smb2.FileOpened && resp.EndofFile != 7 {
							t.Errorf("%v: size %d", disp, resp.EndofFile)
						}
						c.mustClose(fid)
					}
				}
			}
		})
	}
}

func TestCreateNames(t *testing.T) {
	c := connect(t, writable[0].new(t), ShareOptions{})
	c.mkdir("dir")
	c.mkfile("dir\\file.txt", "x")
	long := strings.Repeat("a", 256)
	tests := []struct {
		name string
		disp smb2.CreateDisposition
		want ntstatus.Status
	}{
		{"", smb2.FileOpen, ntstatus.StatusSuccess}, // the share root
		{"DIR\\FILE.TXT", smb2.FileOpen, ntstatus.StatusSuccess},
		{"dir\\", smb2.FileOpen, ntstatus.StatusSuccess},
		{"dir\\file.txt\\", smb2.FileOpen, ntstatus.StatusObjectNameInvalid},
		{"\\dir", smb2.FileOpen, ntstatus.StatusInvalidParameter},
		{"dir\\\\file.txt", smb2.FileOpen, ntstatus.StatusObjectNameInvalid},
		{"missing\\file.txt", smb2.FileOpen, ntstatus.StatusObjectPathNotFound},
		{"missing\\file.txt", smb2.FileCreate, ntstatus.StatusObjectPathNotFound},
		{"dir\\file.txt\\x", smb2.FileOpen, ntstatus.StatusObjectPathNotFound},
		{"dir\\missing", smb2.FileOpen, ntstatus.StatusObjectNameNotFound},
		{"a*b", smb2.FileCreate, ntstatus.StatusObjectNameInvalid},
		{"a?b", smb2.FileCreate, ntstatus.StatusObjectNameInvalid},
		{"a<b", smb2.FileCreate, ntstatus.StatusObjectNameInvalid},
		{"a>b", smb2.FileCreate, ntstatus.StatusObjectNameInvalid},
		{"a|b", smb2.FileCreate, ntstatus.StatusObjectNameInvalid},
		{"a\"b", smb2.FileCreate, ntstatus.StatusObjectNameInvalid},
		{"a/b", smb2.FileCreate, ntstatus.StatusObjectPathNotFound}, // a slash separates, as in Samba
		{"a\x01b", smb2.FileCreate, ntstatus.StatusObjectNameInvalid},
		{"..", smb2.FileOpen, ntstatus.StatusObjectPathSyntaxBad},
		{"..\\..\\..", smb2.FileCreate, ntstatus.StatusObjectPathSyntaxBad},
		{"dir\\..\\dir\\file.txt", smb2.FileOpen, ntstatus.StatusSuccess}, // ".." takes back "dir", as in Samba
		{"dir\\..\\..\\x", smb2.FileOpen, ntstatus.StatusObjectPathSyntaxBad},
		{long, smb2.FileCreate, ntstatus.StatusObjectNameInvalid},
		{long[:255], smb2.FileCreate, ntstatus.StatusSuccess},
		{"file:", smb2.FileCreate, ntstatus.StatusObjectNameInvalid},
		{"dir\\file.txt:s:$FOO", smb2.FileOpenIf, ntstatus.StatusObjectNameInvalid},
		{"dir\\file.txt::$DATA", smb2.FileOpen, ntstatus.StatusSuccess},
		{"dir::$DATA", smb2.FileOpen, ntstatus.StatusFileIsADirectory},
		{"trailing. ", smb2.FileCreate, ntstatus.StatusSuccess},
	}
	for _, tt := range tests {
		fid, _, st := c.create(tt.name, createOpts{access: dtyp.GenericRead, share: shareAll, disp: tt.disp})
		if st != tt.want {
			t.Errorf("%q: got %v, want %v", tt.name, st, tt.want)
		}
		if st == ntstatus.StatusSuccess {
			c.close(fid)
		}
	}
}

func TestCaseInsensitiveCreate(t *testing.T) {
	for _, b := range writable {
		t.Run(b.name, func(t *testing.T) {
			c := connect(t, b.new(t), ShareOptions{})
			c.mkdir("Folder")
			c.mkfile("Folder\\Readme.TXT", "hi")
			fid, resp, st := c.create("FOLDER\\readme.txt", createOpts{access: dtyp.GenericRead, share: shareAll, disp: smb2.FileOpenIf})
			if st != ntstatus.StatusSuccess || resp.CreateAction != smb2.FileOpened {
				t.Fatalf("got %v %v", st, resp.CreateAction)
			}
			all, st := c.query(fid, smb2.InfoFile, uint8(fscc.ClassFileAllInformation), 4096)
			if st != ntstatus.StatusSuccess {
				t.Fatal(st)
			}
			var ai fscc.FileAllInformation
			if err := ai.Decode(all); err != nil {
				t.Fatal(err)
			}
			if got := ai.FileName.String(); got != "\\Folder\\Readme.TXT" {
				t.Errorf("stored name %q", got)
			}
			c.mustClose(fid)
			_, st = c.open("folder\\README.TXT", smb2.FileCreate, 0)
			if st != ntstatus.StatusObjectNameCollision {
				t.Errorf("create over differently cased name: %v", st)
			}
		})
	}
}

func TestAccessAndMxAc(t *testing.T) {
	c := connect(t, writable[0].new(t), ShareOptions{})
	fid, resp, st := c.create("f", createOpts{access: dtyp.GenericRead, share: shareAll, disp: smb2.FileCreate, ctxs: []string{"MxAc", "QFid"}})
	if st != ntstatus.StatusSuccess {
		t.Fatal(st)
	}
	var gotMx, gotQ bool
	it := resp.CreateContexts.Iter()
	for it.Next() {
		e := it.Value()
		switch string(e.Name) {
		case "MxAc":
			var m smb2.QueryMaximalAccessResponse
			if err := m.Decode(e.Data); err != nil {
				t.Fatal(err)
			}
			gotMx = m.QueryStatus == ntstatus.StatusSuccess && m.MaximalAccess == fileAllAccess
		case "QFid":
			var q smb2.QueryOnDiskIdResponse
			if err := q.Decode(e.Data); err != nil {
				t.Fatal(err)
			}
			gotQ = q.DiskFileId != 0 && q.VolumeId != 0
		}
	}
	if !gotMx || !gotQ {
		t.Errorf("contexts: MxAc %v QFid %v", gotMx, gotQ)
	}
	// GENERIC_READ maps to FILE_GENERIC_READ: writing is refused.
	if _, st := c.write(fid, 0, []byte("x")); st != ntstatus.StatusAccessDenied {
		t.Errorf("write with read access: %v", st)
	}
	b, _ := c.query(fid, smb2.InfoFile, uint8(fscc.ClassFileAccessInformation), 8)
	var ai fscc.FileAccessInformation
	ai.Decode(b)
	if ai.AccessFlags != fileGenericRead {
		t.Errorf("granted %v", ai.AccessFlags)
	}
	c.mustClose(fid)

	// Read-only share: MAXIMUM_ALLOWED gives read access; write is denied.
	ro := connectShare(t, NewShare("ro", c.tree.s.fs, ShareOptions{ReadOnly: true}))
	fid, resp, st = ro.create("f", createOpts{access: dtyp.MaximumAllowed, share: shareAll, disp: smb2.FileOpen, ctxs: []string{"MxAc"}})
	if st != ntstatus.StatusSuccess {
		t.Fatal(st)
	}
	ro.close(fid)
	if _, _, st := ro.create("f", createOpts{access: dtyp.GenericWrite, share: shareAll, disp: smb2.FileOpen}); st != ntstatus.StatusAccessDenied {
		t.Errorf("write on read-only share: %v", st)
	}
	if _, st := ro.open("new", smb2.FileCreate, 0); st != ntstatus.StatusAccessDenied {
		t.Errorf("create on read-only share: %v", st)
	}
	// Read-only attribute: data writes are refused, delete-on-close cannot delete.
	c.mustClose(c.mustOpen("ro.txt", smb2.FileCreate, 0))
	fid = c.mustOpen("ro.txt", smb2.FileOpen, 0)
	bi := fscc.FileBasicInformation{FileAttributes: fscc.FileAttributeReadonly}
	bb, _ := bi.Append(nil)
	if st := c.set(fid, fscc.ClassFileBasicInformation, bb); st != ntstatus.StatusSuccess {
		t.Fatal(st)
	}
	c.mustClose(fid)
	if _, _, st := c.create("ro.txt", createOpts{access: dtyp.FileWriteData, share: shareAll, disp: smb2.FileOpen}); st != ntstatus.StatusAccessDenied {
		t.Errorf("write open of read-only file: %v", st)
	}
	if _, _, st := c.create("ro.txt", createOpts{access: dtyp.Delete, share: shareAll, disp: smb2.FileOpen, options: smb2.FileDeleteOnClose}); st != ntstatus.StatusCannotDelete {
		t.Errorf("delete-on-close of read-only file: %v", st)
	}
	if _, _, st := c.create("x", createOpts{access: dtyp.GenericRead, share: shareAll, disp: smb2.FileCreate, options: smb2.FileDeleteOnClose}); st != ntstatus.StatusInvalidParameter {
		t.Errorf("delete-on-close without DELETE: %v", st)
	}
}

func TestShareModes(t *testing.T) {
	for _, b := range writable {
		t.Run(b.name, func(t *testing.T) {
			s := NewShare("s", b.new(t), ShareOptions{})
			c1, c2 := connectShare(t, s), connectShare(t, s) // two tree connects of one share
			c1.mkfile("f", "data")
			r, w, d := dtyp.FileReadData, dtyp.FileWriteData, dtyp.Delete
			R, W, D := smb2.FileShareRead, smb2.FileShareWrite, smb2.FileShareDelete
			tests := []struct {
				a1 dtyp.AccessMask
				s1 smb2.ShareAccess
				a2 dtyp.AccessMask
				s2 smb2.ShareAccess
				ok bool
			}{
				{r, R, r, R, true},
				{r, R, w, R | W, false},
				{r, R | W, w, R | W, true},
				{w, R, r, R | W, true},
				{w, R, r, R, false},
				{w, R | W, w, R | W, true},
				{r, R, d, R | D, false},
				{r, R | D, d, R | D, true},
				{d, R | W | D, r, R | W, false},
				{dtyp.FileReadAttributes, 0, w, 0, true}, // attribute-only opens never conflict
				{r, 0, dtyp.FileReadAttributes, 0, true},
				{r, 0, r, R | W | D, false},
			}
			for i, tt := range tests {
				f1, _, st := c1.create("f", createOpts{access: tt.a1, share: tt.s1, disp: smb2.FileOpen})
				if st != ntstatus.StatusSuccess {
					t.Fatalf("%d: first open: %v", i, st)
				}
				f2, _, st := c2.create("F", createOpts{access: tt.a2, share: tt.s2, disp: smb2.FileOpen})
				if got := st == ntstatus.StatusSuccess; got != tt.ok || (!got && st != ntstatus.StatusSharingViolation) {
					t.Errorf("%d: second open: %v", i, st)
				}
				if st == ntstatus.StatusSuccess {
					c2.mustClose(f2)
				}
				c1.mustClose(f1)
			}
			// After the conflicting open is closed, the open succeeds.
			f1, _, _ := c1.create("f", createOpts{access: r, share: 0, disp: smb2.FileOpen})
			if _, _, st := c2.create("f", createOpts{access: r, share: R, disp: smb2.FileOpen}); st != ntstatus.StatusSharingViolation {
				t.Errorf("exclusive: %v", st)
			}
			c1.mustClose(f1)
			f2, _, st := c2.create("f", createOpts{access: r, share: R, disp: smb2.FileOpen})
			if st != ntstatus.StatusSuccess {
				t.Errorf("after close: %v", st)
			}
			c2.mustClose(f2)
			// Disconnect releases the opens.
			c1.create("f", createOpts{access: r, share: 0, disp: smb2.FileOpen})
			c1.tree.Disconnect(c1.r.Ctx)
			if f, _, st := c2.create("f", createOpts{access: r, share: R, disp: smb2.FileOpen}); st != ntstatus.StatusSuccess {
				t.Errorf("after disconnect: %v", st)
			} else {
				c2.close(f)
			}
		})
	}
}

func TestDeleteOnClose(t *testing.T) {
	for _, b := range writable {
		t.Run(b.name, func(t *testing.T) {
			c := connect(t, b.new(t), ShareOptions{})
			c.mkfile("f", "x")
			doc, _, st := c.create("f", createOpts{access: dtyp.Delete | dtyp.FileReadData, share: shareAll, disp: smb2.FileOpen, options: smb2.FileDeleteOnClose})
			if st != ntstatus.StatusSuccess {
				t.Fatal(st)
			}
			other := c.mustOpen("f", smb2.FileOpen, 0)
			if c.standard(other).DeletePending != 0 {
				t.Error("delete pending before the DOC open closes")
			}
			c.mustClose(doc)
			if si := c.standard(other); si.DeletePending != 1 || si.NumberOfLinks != 0 {
				t.Errorf("after DOC close: %+v", si)
			}
			if _, st := c.open("f", smb2.FileOpen, 0); st != ntstatus.StatusDeletePending {
				t.Errorf("open of delete-pending file: %v", st)
			}
			c.mustClose(other)
			if c.exists("f") {
				t.Error("file survives its last close")
			}

			// SET_INFO disposition, then undo it.
			c.mkfile("g", "x")
			g := c.mustOpen("g", smb2.FileOpen, 0)
			if st := c.set(g, fscc.ClassFileDispositionInformation, []byte{1}); st != ntstatus.StatusSuccess {
				t.Fatal(st)
			}
			if _, st := c.open("g", smb2.FileOpen, 0); st != ntstatus.StatusDeletePending {
				t.Errorf("open of delete-pending file: %v", st)
			}
			c.set(g, fscc.ClassFileDispositionInformation, []byte{0})
			c.mustClose(g)
			if !c.exists("g") {
				t.Error("undone disposition deleted the file")
			}
			// Disposition without DELETE access.
			g, _, _ = c.create("g", createOpts{access: dtyp.GenericRead, share: shareAll, disp: smb2.FileOpen})
			if st := c.set(g, fscc.ClassFileDispositionInformation, []byte{1}); st != ntstatus.StatusAccessDenied {
				t.Errorf("disposition without DELETE: %v", st)
			}
			c.mustClose(g)
			// Non-empty directory.
			c.mkdir("d")
			c.mkfile("d\\x", "")
			d := c.mustOpen("d", smb2.FileOpen, smb2.FileDirectoryFile)
			if st := c.set(d, fscc.ClassFileDispositionInformation, []byte{1}); st != ntstatus.StatusDirectoryNotEmpty {
				t.Errorf("non-empty dir: %v", st)
			}
			c.mustClose(d)
			// A directory with delete-on-close, and creating in a delete-pending dir.
			c.mkdir("e")
			e, _, st := c.create("e", createOpts{access: dtyp.Delete | dtyp.GenericRead, share: shareAll, disp: smb2.FileOpen,
				options: smb2.FileDirectoryFile})
			if st != ntstatus.StatusSuccess {
				t.Fatal(st)
			}
			c.set(e, fscc.ClassFileDispositionInformation, []byte{1})
			if _, st := c.open("e\\new", smb2.FileCreate, 0); st != ntstatus.StatusDeletePending {
				t.Errorf("create in delete-pending dir: %v", st)
			}
			c.mustClose(e)
			if c.exists("e") {
				t.Error("directory survives")
			}
			// Created with delete-on-close: gone after close.
			n, _, st := c.create("tmp", createOpts{access: dtyp.Delete | dtyp.GenericWrite, share: shareAll, disp: smb2.FileCreate, options: smb2.FileDeleteOnClose})
			if st != ntstatus.StatusSuccess {
				t.Fatal(st)
			}
			c.mustClose(n)
			if c.exists("tmp") {
				t.Error("temporary file survives")
			}
		})
	}
}

func TestRename(t *testing.T) {
	for _, b := range writable {
		t.Run(b.name, func(t *testing.T) {
			c := connect(t, b.new(t), ShareOptions{})
			c.mkfile("a", "A")
			c.mkfile("b", "B")
			c.mkdir("sub")
			fa := c.mustOpen("a", smb2.FileOpen, 0)
			if st := c.rename(fa, "b", false); st != ntstatus.StatusObjectNameCollision {
				t.Errorf("no replace: %v", st)
			}
			if st := c.rename(fa, "b", true); st != ntstatus.StatusSuccess {
				t.Errorf("replace: %v", st)
			}
			// The open follows its file.
			if data, st := c.read(fa, 0, 10); st != ntstatus.StatusSuccess || string(data) != "A" {
				t.Errorf("read after rename: %v %q", st, data)
			}
			if st := c.rename(fa, "sub\\moved", false); st != ntstatus.StatusSuccess {
				t.Errorf("into subdir: %v", st)
			}
			all, _ := c.query(fa, smb2.InfoFile, uint8(fscc.ClassFileAllInformation), 4096)
			var ai fscc.FileAllInformation
			ai.Decode(all)
			if ai.FileName.String() != "\\sub\\moved" {
				t.Errorf("name after rename: %q", ai.FileName.String())
			}
			if _, st := c.read(fa, 0, 1); st != ntstatus.StatusSuccess {
				t.Errorf("read after move: %v", st)
			}
			if st := c.rename(fa, "nodir\\x", false); st != ntstatus.StatusObjectPathNotFound {
				t.Errorf("into missing dir: %v", st)
			}
			c.mustClose(fa)
			if c.exists("a") || c.exists("b") || !c.exists("sub\\moved") {
				t.Error("namespace after renames")
			}
			// Over an open file.
			c.mkfile("c", "C")
			c.mkfile("d", "D")
			fd := c.mustOpen("d", smb2.FileOpen, 0)
			fc := c.mustOpen("c", smb2.FileOpen, 0)
			if st := c.rename(fc, "d", true); st != ntstatus.StatusAccessDenied {
				t.Errorf("over an open file: %v", st)
			}
			c.mustClose(fd)
			// Case-only rename.
			if st := c.rename(fc, "C", false); st != ntstatus.StatusSuccess {
				t.Errorf("case-only rename: %v", st)
			}
			c.mustClose(fc)
			// Source opened by another without FILE_SHARE_DELETE.
			c.mkfile("e", "")
			other, _, _ := c.create("e", createOpts{access: dtyp.FileReadData, share: smb2.FileShareRead, disp: smb2.FileOpen})
			fe, _, st := c.create("e", createOpts{access: dtyp.Delete, share: shareAll, disp: smb2.FileOpen})
			if st != ntstatus.StatusSuccess {
				// DELETE access conflicts with the other open's share mode already.
				if st != ntstatus.StatusSharingViolation {
					t.Errorf("open for rename: %v", st)
				}
			} else {
				c.close(fe)
			}
			c.mustClose(other)
			// Directory with an open file below cannot be renamed.
			c.mkdir("dd")
			c.mkfile("dd\\in", "")
			in := c.mustOpen("dd\\in", smb2.FileOpen, 0)
			dd := c.mustOpen("dd", smb2.FileOpen, smb2.FileDirectoryFile)
			if st := c.rename(dd, "dd2", false); st != ntstatus.StatusAccessDenied {
				t.Errorf("dir with open child: %v", st)
			}
			c.mustClose(in)
			if st := c.rename(dd, "dd2", false); st != ntstatus.StatusSuccess {
				t.Errorf("dir rename: %v", st)
			}
			c.mustClose(dd)
			if !c.exists("DD2\\IN") {
				t.Error("child not found after dir rename")
			}
			// Rename without DELETE access.
			ro, _, _ := c.create("dd2\\in", createOpts{access: dtyp.GenericRead, share: shareAll, disp: smb2.FileOpen})
			if st := c.rename(ro, "zz", false); st != ntstatus.StatusAccessDenied {
				t.Errorf("without DELETE: %v", st)
			}
			c.mustClose(ro)
		})
	}
}

func TestHelloBackend(t *testing.T) {
	c := connect(t, helloFS(t), ShareOptions{})
	fid, resp, st := c.create("readme.txt", createOpts{access: dtyp.GenericRead, share: smb2.FileShareRead, disp: smb2.FileOpen})
	if st != ntstatus.StatusSuccess {
		t.Fatal(st)
	}
	data, st := c.read(fid, 0, 100)
	if st != ntstatus.StatusSuccess || !strings.HasPrefix(string(data), "Hello") || resp.EndofFile != uint64(len(data)) {
		t.Errorf("read: %v %q size %d", st, data, resp.EndofFile)
	}
	if _, st := c.read(fid, uint64(len(data)), 10); st != ntstatus.StatusEndOfFile {
		t.Errorf("read at EOF: %v", st)
	}
	c.mustClose(fid)
	if _, _, st := c.create("README.TXT", createOpts{access: dtyp.GenericWrite, share: shareAll, disp: smb2.FileOpen}); st != ntstatus.StatusAccessDenied {
		t.Errorf("write open of a read-only file: %v", st)
	}
	if _, st := c.open("new.txt", smb2.FileCreate, 0); st != ntstatus.StatusAccessDenied {
		t.Errorf("create in the read-only root: %v", st)
	}
	// The writable inbox.
	fid = c.mustOpen("inbox\\letter.txt", smb2.FileCreate, 0)
	if _, st := c.write(fid, 0, []byte("dear")); st != ntstatus.StatusSuccess {
		t.Error(st)
	}
	c.mustClose(fid)
	if _, st := c.open("inbox\\sub", smb2.FileCreate, smb2.FileDirectoryFile); st != ntstatus.StatusAccessDenied {
		t.Errorf("mkdir in inbox: %v", st)
	}
	root := c.mustOpen("", smb2.FileOpen, smb2.FileDirectoryFile)
	names, st := c.list(root, "*", 4096)
	if st != ntstatus.StatusSuccess || strings.Join(names, ",") != ".,..,README.txt,now.txt,stats.txt,inbox" {
		t.Errorf("root listing: %v %v", st, names)
	}
	c.mustClose(root)
	fid = c.mustOpen("INBOX\\LETTER.TXT", smb2.FileOpen, 0)
	if st := c.set(fid, fscc.ClassFileDispositionInformation, []byte{1}); st != ntstatus.StatusSuccess {
		t.Error(st)
	}
	c.mustClose(fid)
	if c.exists("inbox\\letter.txt") {
		t.Error("letter not deleted")
	}
}
