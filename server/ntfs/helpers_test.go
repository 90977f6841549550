package ntfs

import (
	"context"
	"encoding/binary"
	"testing"

	"github.com/smbvfs/smbvfs/backends/hello"
	"github.com/smbvfs/smbvfs/backends/memfs"
	"github.com/smbvfs/smbvfs/backends/passthrough"
	"github.com/smbvfs/smbvfs/backends/vfs"
	"github.com/smbvfs/smbvfs/protocol/dtyp"
	"github.com/smbvfs/smbvfs/protocol/fscc"
	"github.com/smbvfs/smbvfs/protocol/ntstatus"
	"github.com/smbvfs/smbvfs/protocol/smb2"
	"github.com/smbvfs/smbvfs/protocol/utf16"
)

// backendCase is a writable backend the table tests run against.
type backendCase struct {
	name string
	new  func(t *testing.T) vfs.FS
}

var writable = []backendCase{
	{"memfs", func(t *testing.T) vfs.FS { return memfs.New(memfs.Options{}) }},
	{"passthrough", func(t *testing.T) vfs.FS {
		fs, err := passthrough.New(t.TempDir(), passthrough.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { fs.Close() })
		return fs
	}},
}

func helloFS(t *testing.T) vfs.FS {
	fs, err := hello.New(hello.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fs.Close() })
	return fs
}

// tc is a tree connect driven directly, as the connection engine would.
type tc struct {
	t    testing.TB
	tree *Tree
	r    Req
}

func connect(t testing.TB, fs vfs.FS, opt ShareOptions) *tc {
	s := NewShare("test", fs, opt)
	return connectShare(t, s)
}

func connectShare(t testing.TB, s *Share) *tc {
	tree, err := s.Connect(context.Background(), Identity{User: "u"})
	if err != nil {
		t.Fatal(err)
	}
	c := &tc{t: t, tree: tree}
	c.r = Req{Ctx: context.Background(), Dialect: smb2.Dialect311, Buf: make([]byte, 0, 1<<20),
		MaxRead: 8 << 20, MaxWrite: 8 << 20, MaxTransact: 8 << 20}
	t.Cleanup(func() { tree.Disconnect(context.Background()) })
	return c
}

type createOpts struct {
	access  dtyp.AccessMask
	share   smb2.ShareAccess
	disp    smb2.CreateDisposition
	options smb2.CreateOptions
	attrs   fscc.FileAttributes
	ctxs    []string // context names to send (empty bodies except MxAc/QFid)
}

const shareAll = smb2.FileShareRead | smb2.FileShareWrite | smb2.FileShareDelete

func (c *tc) create(name string, o createOpts) (smb2.FileId, *smb2.CreateResponse, ntstatus.Status) {
	req := &smb2.CreateRequest{
		ImpersonationLevel: smb2.ImpersonationLevelImpersonation,
		DesiredAccess:      o.access,
		FileAttributes:     o.attrs,
		ShareAccess:        o.share,
		CreateDisposition:  o.disp,
		CreateOptions:      o.options,
		Name:               utf16.FromString(name),
	}
	for _, n := range o.ctxs {
		var data []byte
		if n == "MxAc" {
			data = make([]byte, 0)
		}
		req.CreateContexts.Add(&smb2.CreateContext{Name: []byte(n), Data: data})
	}
	var resp smb2.CreateResponse
	st := c.tree.Create(&c.r, req, &resp)
	return resp.FileId, &resp, st
}

// open opens or creates with full access and full sharing.
func (c *tc) open(name string, disp smb2.CreateDisposition, options smb2.CreateOptions) (smb2.FileId, ntstatus.Status) {
	fid, _, st := c.create(name, createOpts{access: dtyp.MaximumAllowed, share: shareAll, disp: disp, options: options})
	return fid, st
}

func (c *tc) mustOpen(name string, disp smb2.CreateDisposition, options smb2.CreateOptions) smb2.FileId {
	c.t.Helper()
	fid, st := c.open(name, disp, options)
	if st != ntstatus.StatusSuccess {
		c.t.Fatalf("open %q: %v", name, st)
	}
	return fid
}

func (c *tc) close(fid smb2.FileId) ntstatus.Status {
	var resp smb2.CloseResponse
	return c.tree.Close(&c.r, &smb2.CloseRequest{FileId: fid}, &resp)
}

func (c *tc) mustClose(fid smb2.FileId) {
	c.t.Helper()
	if st := c.close(fid); st != ntstatus.StatusSuccess {
		c.t.Fatalf("close: %v", st)
	}
}

func (c *tc) write(fid smb2.FileId, off uint64, data []byte) (uint32, ntstatus.Status) {
	var resp smb2.WriteResponse
	st := c.tree.Write(&c.r, &smb2.WriteRequest{FileId: fid, Offset: off, Data: data}, &resp)
	return resp.Count, st
}

func (c *tc) read(fid smb2.FileId, off uint64, n uint32) ([]byte, ntstatus.Status) {
	var resp smb2.ReadResponse
	st := c.tree.Read(&c.r, &smb2.ReadRequest{FileId: fid, Offset: off, Length: n}, &resp)
	return append([]byte(nil), resp.Data...), st
}

// mkfile creates a file with content and closes it.
func (c *tc) mkfile(name string, data string) {
	c.t.Helper()
	fid := c.mustOpen(name, smb2.FileOverwriteIf, smb2.FileNonDirectoryFile)
	if len(data) > 0 {
		if _, st := c.write(fid, 0, []byte(data)); st != ntstatus.StatusSuccess {
			c.t.Fatalf("write %q: %v", name, st)
		}
	}
	c.mustClose(fid)
}

func (c *tc) mkdir(name string) {
	c.t.Helper()
	c.mustClose(c.mustOpen(name, smb2.FileCreate, smb2.FileDirectoryFile))
}

func (c *tc) query(fid smb2.FileId, typ smb2.InfoType, class uint8, max uint32) ([]byte, ntstatus.Status) {
	var resp smb2.QueryInfoResponse
	st := c.tree.QueryInfo(&c.r, &smb2.QueryInfoRequest{InfoType: typ, FileInfoClass: class, OutputBufferLength: max, FileId: fid}, &resp)
	return append([]byte(nil), resp.OutputBuffer...), st
}

func (c *tc) set(fid smb2.FileId, class fscc.FileInformationClass, buf []byte) ntstatus.Status {
	var resp smb2.SetInfoResponse
	return c.tree.SetInfo(&c.r, &smb2.SetInfoRequest{InfoType: smb2.InfoFile, FileInfoClass: uint8(class), FileId: fid, Buffer: buf}, &resp)
}

func (c *tc) standard(fid smb2.FileId) fscc.FileStandardInformation {
	c.t.Helper()
	b, st := c.query(fid, smb2.InfoFile, uint8(fscc.ClassFileStandardInformation), 1024)
	if st != ntstatus.StatusSuccess {
		c.t.Fatalf("standard info: %v", st)
	}
	var si fscc.FileStandardInformation
	if err := si.Decode(b); err != nil {
		c.t.Fatal(err)
	}
	return si
}

func (c *tc) exists(name string) bool {
	fid, _, st := c.create(name, createOpts{access: dtyp.FileReadAttributes, share: shareAll, disp: smb2.FileOpen})
	if st == ntstatus.StatusSuccess {
		c.close(fid)
		return true
	}
	return false
}

func (c *tc) rename(fid smb2.FileId, to string, replace bool) ntstatus.Status {
	ri := fscc.FileRenameInformation{FileName: utf16.FromString(to)}
	if replace {
		ri.ReplaceIfExists = 1
	}
	b, err := ri.Append(nil)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.set(fid, fscc.ClassFileRenameInformation, b)
}

func (c *tc) ioctl(fid smb2.FileId, code fscc.CtlCode, in []byte, maxOut uint32) ([]byte, ntstatus.Status) {
	var resp smb2.IoctlResponse
	st := c.tree.Ioctl(&c.r, &smb2.IoctlRequest{CtlCode: code, FileId: fid, Input: in, MaxOutputResponse: maxOut, Flags: smb2.IoctlIsFsctl}, &resp)
	return append([]byte(nil), resp.Output...), st
}

// list enumerates a directory with class FileIdBothDirectoryInformation, buffer max,
// and returns the names in order.
func (c *tc) list(dir smb2.FileId, pattern string, max uint32) ([]string, ntstatus.Status) {
	var names []string
	flags := smb2.QueryDirectoryRestartScans
	for {
		var resp smb2.QueryDirectoryResponse
		st := c.tree.QueryDirectory(&c.r, &smb2.QueryDirectoryRequest{FileInformationClass: fscc.ClassFileIdBothDirectoryInformation,
			Flags: flags, FileId: dir, OutputBufferLength: max, FileName: utf16.FromString(pattern)}, &resp)
		flags = 0
		if st == ntstatus.StatusNoMoreFiles {
			return names, ntstatus.StatusSuccess
		}
		if st != ntstatus.StatusSuccess {
			return names, st
		}
		var l fscc.FileIdBothDirectoryInformationList
		if err := l.Decode(resp.OutputBuffer, -1); err != nil {
			c.t.Fatalf("decode listing: %v", err)
		}
		it := l.Iter()
		for it.Next() {
			names = append(names, it.Value().FileName.String())
		}
		if it.Err() != nil {
			c.t.Fatal(it.Err())
		}
	}
}

func le64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }
