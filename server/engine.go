package server

import (
	"context"
	"strings"

	"github.com/smbvfs/smbvfs/protocol/ntstatus"
	"github.com/smbvfs/smbvfs/protocol/smb2"
	"github.com/smbvfs/smbvfs/server/ntfs"
)

// fileTree is what the connection engine needs of one tree connect of a disk share: the
// methods of *ntfs.Tree. Tests substitute fakes.
type fileTree interface {
	Create(r *ntfs.Req, req *smb2.CreateRequest, resp *smb2.CreateResponse) ntstatus.Status
	Close(r *ntfs.Req, req *smb2.CloseRequest, resp *smb2.CloseResponse) ntstatus.Status
	Flush(r *ntfs.Req, req *smb2.FlushRequest, resp *smb2.FlushResponse) ntstatus.Status
	Read(r *ntfs.Req, req *smb2.ReadRequest, resp *smb2.ReadResponse) ntstatus.Status
	Write(r *ntfs.Req, req *smb2.WriteRequest, resp *smb2.WriteResponse) ntstatus.Status
	Lock(r *ntfs.Req, req *smb2.LockRequest, resp *smb2.LockResponse) ntstatus.Status
	Ioctl(r *ntfs.Req, req *smb2.IoctlRequest, resp *smb2.IoctlResponse) ntstatus.Status
	QueryDirectory(r *ntfs.Req, req *smb2.QueryDirectoryRequest, resp *smb2.QueryDirectoryResponse) ntstatus.Status
	ChangeNotify(r *ntfs.Req, req *smb2.ChangeNotifyRequest, resp *smb2.ChangeNotifyResponse) ntstatus.Status
	QueryInfo(r *ntfs.Req, req *smb2.QueryInfoRequest, resp *smb2.QueryInfoResponse) ntstatus.Status
	SetInfo(r *ntfs.Req, req *smb2.SetInfoRequest, resp *smb2.SetInfoResponse) ntstatus.Status
	OplockBreak(r *ntfs.Req, req *smb2.OplockBreakRequestForms, resp *smb2.OplockBreakResponseForms) ntstatus.Status
	Disconnect(ctx context.Context)
}

// fileShare makes tree connects: *ntfs.Share behind an adapter.
type fileShare interface {
	Connect(ctx context.Context, id ntfs.Identity) (fileTree, error)
}

// share is one share of the server.
type share struct {
	name    string
	comment string
	pipe    bool // IPC$
	encrypt bool
	ro      bool
	fs      fileShare
}

// newFileShare builds the engine of a disk share; engine_ntfs.go sets it to the ntfs
// engine. Tests may replace it.
var newFileShare func(sh Share) fileShare

func (s *Server) addShare(sh Share) error {
	if sh.Name == "" || strings.ContainsAny(sh.Name, `\/:*?"<>|`) {
		return errorf("bad share name %q", sh.Name)
	}
	key := strings.ToUpper(sh.Name)
	if key == "IPC$" {
		return errorf("share name IPC$ is reserved")
	}
	if _, dup := s.shares[key]; dup {
		return errorf("duplicate share %q", sh.Name)
	}
	if sh.FS == nil {
		return errorf("share %q has no filesystem", sh.Name)
	}
	if newFileShare == nil {
		return errorf("no file engine linked in")
	}
	s.shares[key] = &share{
		name:    sh.Name,
		comment: sh.Comment,
		encrypt: sh.Encrypt,
		ro:      sh.ReadOnly,
		fs:      newFileShare(sh),
	}
	return nil
}
