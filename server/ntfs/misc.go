package ntfs

import (
	"context"

	"github.com/smbvfs/smbvfs/protocol/ntstatus"
	"github.com/smbvfs/smbvfs/protocol/smb2"
)

// ChangeNotify answers SMB2 CHANGE_NOTIFY with STATUS_NOT_SUPPORTED for now. A watch
// completes later, so it needs a hook from the connection engine: an interim
// STATUS_PENDING response, then an asynchronous completion (and CANCEL, and
// STATUS_NOTIFY_CLEANUP when the open closes). The plan: the engine passes a
// completion callback (for example a Req.Async func(status, body) field); the Tree
// registers the watch on the open and feeds it from vfs.Watcher changes, encoded as
// fscc.FileNotifyInformation lists.
func (t *Tree) ChangeNotify(r *Req, req *smb2.ChangeNotifyRequest, resp *smb2.ChangeNotifyResponse) ntstatus.Status {
	r.reset()
	o := t.get(req.FileId)
	if o == nil {
		return ntstatus.StatusFileClosed
	}
	if !o.isDir {
		return ntstatus.StatusInvalidParameter
	}
	return ntstatus.StatusNotSupported
}

// OplockBreak handles OPLOCK_BREAK acknowledgements. No oplock or lease is ever granted,
// so an oplock acknowledgement is a protocol error and a lease acknowledgement names an
// unknown lease (MS-SMB2 3.3.5.22).
func (t *Tree) OplockBreak(r *Req, req *smb2.OplockBreakRequestForms, resp *smb2.OplockBreakResponseForms) ntstatus.Status {
	r.reset()
	switch req.Size {
	case 24:
		if t.get(req.OplockBreakAcknowledgment.FileId) == nil {
			return ntstatus.StatusFileClosed
		}
		return ntstatus.StatusInvalidOplockProtocol
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
