package server

import (
	"context"

	"github.com/smbvfs/smbvfs/server/ipc"
	"github.com/smbvfs/smbvfs/server/ntfs"
)

// ipcShare adapts *ipc.Share (the named pipes of IPC$ and their RPC services) to fileShare.
type ipcShare struct{ s *ipc.Share }

func (i ipcShare) Connect(ctx context.Context, id ntfs.Identity) (fileTree, error) {
	t, err := i.s.Connect(ctx, id)
	if err != nil {
		return nil, err
	}
	return t, nil
}

// newIPCShare builds IPC$ with the server's shares, for srvsvc share enumeration.
func newIPCShare(opts *Options, shares []Share) fileShare {
	cfg := ipc.Config{ServerName: opts.ServerName, Domain: opts.Domain}
	for _, sh := range shares {
		cfg.Shares = append(cfg.Shares, ipc.ShareEntry{Name: sh.Name, Comment: sh.Comment})
	}
	return ipcShare{ipc.NewShare(cfg)}
}
