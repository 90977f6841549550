package server

import (
	"context"

	"github.com/smbvfs/smbvfs/protocol/ntstatus"
	"github.com/smbvfs/smbvfs/protocol/smb2"
	"github.com/smbvfs/smbvfs/server/ntfs"
)

// ntfsShare adapts *ntfs.Share to fileShare.
type ntfsShare struct{ s *ntfs.Share }

func (n ntfsShare) Connect(ctx context.Context, id ntfs.Identity) (fileTree, error) {
	t, err := n.s.Connect(ctx, id)
	if err != nil {
		return nil, err
	}
	return ntfsTree{t}, nil
}

func init() {
	newFileShare = func(sh Share) fileShare {
		return ntfsShare{ntfs.NewShare(sh.Name, sh.FS, ntfs.ShareOptions{Comment: sh.Comment, ReadOnly: sh.ReadOnly})}
	}
}

// ntfsTree adapts *ntfs.Tree to fileTree; a command the engine does not implement (yet)
// answers STATUS_NOT_SUPPORTED.
type ntfsTree struct{ t *ntfs.Tree }

func (n ntfsTree) Disconnect(ctx context.Context) { n.t.Disconnect(ctx) }

func (n ntfsTree) Create(r *ntfs.Req, req *smb2.CreateRequest, resp *smb2.CreateResponse) ntstatus.Status {
	if x, ok := any(n.t).(interface {
		Create(*ntfs.Req, *smb2.CreateRequest, *smb2.CreateResponse) ntstatus.Status
	}); ok {
		return x.Create(r, req, resp)
	}
	return ntstatus.StatusNotSupported
}

func (n ntfsTree) Close(r *ntfs.Req, req *smb2.CloseRequest, resp *smb2.CloseResponse) ntstatus.Status {
	if x, ok := any(n.t).(interface {
		Close(*ntfs.Req, *smb2.CloseRequest, *smb2.CloseResponse) ntstatus.Status
	}); ok {
		return x.Close(r, req, resp)
	}
	return ntstatus.StatusNotSupported
}

func (n ntfsTree) Flush(r *ntfs.Req, req *smb2.FlushRequest, resp *smb2.FlushResponse) ntstatus.Status {
	if x, ok := any(n.t).(interface {
		Flush(*ntfs.Req, *smb2.FlushRequest, *smb2.FlushResponse) ntstatus.Status
	}); ok {
		return x.Flush(r, req, resp)
	}
	return ntstatus.StatusNotSupported
}

func (n ntfsTree) Read(r *ntfs.Req, req *smb2.ReadRequest, resp *smb2.ReadResponse) ntstatus.Status {
	if x, ok := any(n.t).(interface {
		Read(*ntfs.Req, *smb2.ReadRequest, *smb2.ReadResponse) ntstatus.Status
	}); ok {
		return x.Read(r, req, resp)
	}
	return ntstatus.StatusNotSupported
}

func (n ntfsTree) Write(r *ntfs.Req, req *smb2.WriteRequest, resp *smb2.WriteResponse) ntstatus.Status {
	if x, ok := any(n.t).(interface {
		Write(*ntfs.Req, *smb2.WriteRequest, *smb2.WriteResponse) ntstatus.Status
	}); ok {
		return x.Write(r, req, resp)
	}
	return ntstatus.StatusNotSupported
}

func (n ntfsTree) Lock(r *ntfs.Req, req *smb2.LockRequest, resp *smb2.LockResponse) ntstatus.Status {
	if x, ok := any(n.t).(interface {
		Lock(*ntfs.Req, *smb2.LockRequest, *smb2.LockResponse) ntstatus.Status
	}); ok {
		return x.Lock(r, req, resp)
	}
	return ntstatus.StatusNotSupported
}

func (n ntfsTree) Ioctl(r *ntfs.Req, req *smb2.IoctlRequest, resp *smb2.IoctlResponse) ntstatus.Status {
	if x, ok := any(n.t).(interface {
		Ioctl(*ntfs.Req, *smb2.IoctlRequest, *smb2.IoctlResponse) ntstatus.Status
	}); ok {
		return x.Ioctl(r, req, resp)
	}
	return ntstatus.StatusNotSupported
}

func (n ntfsTree) QueryDirectory(r *ntfs.Req, req *smb2.QueryDirectoryRequest, resp *smb2.QueryDirectoryResponse) ntstatus.Status {
	if x, ok := any(n.t).(interface {
		QueryDirectory(*ntfs.Req, *smb2.QueryDirectoryRequest, *smb2.QueryDirectoryResponse) ntstatus.Status
	}); ok {
		return x.QueryDirectory(r, req, resp)
	}
	return ntstatus.StatusNotSupported
}

func (n ntfsTree) ChangeNotify(r *ntfs.Req, req *smb2.ChangeNotifyRequest, resp *smb2.ChangeNotifyResponse) ntstatus.Status {
	if x, ok := any(n.t).(interface {
		ChangeNotify(*ntfs.Req, *smb2.ChangeNotifyRequest, *smb2.ChangeNotifyResponse) ntstatus.Status
	}); ok {
		return x.ChangeNotify(r, req, resp)
	}
	return ntstatus.StatusNotSupported
}

func (n ntfsTree) QueryInfo(r *ntfs.Req, req *smb2.QueryInfoRequest, resp *smb2.QueryInfoResponse) ntstatus.Status {
	if x, ok := any(n.t).(interface {
		QueryInfo(*ntfs.Req, *smb2.QueryInfoRequest, *smb2.QueryInfoResponse) ntstatus.Status
	}); ok {
		return x.QueryInfo(r, req, resp)
	}
	return ntstatus.StatusNotSupported
}

func (n ntfsTree) SetInfo(r *ntfs.Req, req *smb2.SetInfoRequest, resp *smb2.SetInfoResponse) ntstatus.Status {
	if x, ok := any(n.t).(interface {
		SetInfo(*ntfs.Req, *smb2.SetInfoRequest, *smb2.SetInfoResponse) ntstatus.Status
	}); ok {
		return x.SetInfo(r, req, resp)
	}
	return ntstatus.StatusNotSupported
}

func (n ntfsTree) OplockBreak(r *ntfs.Req, req *smb2.OplockBreakRequestForms, resp *smb2.OplockBreakResponseForms) ntstatus.Status {
	if x, ok := any(n.t).(interface {
		OplockBreak(*ntfs.Req, *smb2.OplockBreakRequestForms, *smb2.OplockBreakResponseForms) ntstatus.Status
	}); ok {
		return x.OplockBreak(r, req, resp)
	}
	return ntstatus.StatusNotSupported
}
