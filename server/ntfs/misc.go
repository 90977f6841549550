package ntfs

import (
	"context"

	"github.com/smbvfs/smbvfs/protocol/ntstatus"
	"github.com/smbvfs/smbvfs/protocol/smb2"
)

// ChangeNotify implements SMB2 CHANGE_NOTIFY (notify.go). It blocks until a change,
// the close of the open, or the cancellation of r.Ctx; the engine runs it in a goroutine
// of its own.
func (t *Tree) ChangeNotify(r *Req, req *smb2.ChangeNotifyRequest, resp *smb2.ChangeNotifyResponse) ntstatus.Status {
	r.reset()
	return t.changeNotify(r, req, resp)
}

// OplockBreak handles OPLOCK_BREAK acknowledgments (oplock.go). Leases are never
// granted, so a lease acknowledgment names an unknown lease (MS-SMB2 3.3.5.22.2).
func (t *Tree) OplockBreak(r *Req, req *smb2.OplockBreakRequestForms, resp *smb2.OplockBreakResponseForms) ntstatus.Status {
	r.reset()
	switch req.Size {
	case 24:
		return t.oplockBreakAck(r, req, resp)
	case 36:
		return ntstatus.StatusObjectNameNotFound
	}
	return ntstatus.StatusInvalidParameter
}

// The seam: the methods the connection engine calls.
var _ interface {
	Create(*Req, *smb2.CreateRequest, *smb2.CreateResponse) ntstatus.Status
	Close(*Req, *smb2.CloseRequest, *smb2.CloseResponse) ntstatus.Status
	Flush(*Req, *smb2.FlushRequest, *smb2.FlushResponse) ntstatus.Status
	Read(*Req, *smb2.ReadRequest, *smb2.ReadResponse) ntstatus.Status
	Write(*Req, *smb2.WriteRequest, *smb2.WriteResponse) ntstatus.Status
	Lock(*Req, *smb2.LockRequest, *smb2.LockResponse) ntstatus.Status
	Ioctl(*Req, *smb2.IoctlRequest, *smb2.IoctlResponse) ntstatus.Status
	QueryDirectory(*Req, *smb2.QueryDirectoryRequest, *smb2.QueryDirectoryResponse) ntstatus.Status
	ChangeNotify(*Req, *smb2.ChangeNotifyRequest, *smb2.ChangeNotifyResponse) ntstatus.Status
	QueryInfo(*Req, *smb2.QueryInfoRequest, *smb2.QueryInfoResponse) ntstatus.Status
	SetInfo(*Req, *smb2.SetInfoRequest, *smb2.SetInfoResponse) ntstatus.Status
	OplockBreak(*Req, *smb2.OplockBreakRequestForms, *smb2.OplockBreakResponseForms) ntstatus.Status
	Disconnect(context.Context)
} = (*Tree)(nil)
