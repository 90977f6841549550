package server

import (
	"context"

	"github.com/smbvfs/smbvfs/server/ntfs"
)

// *ntfs.Tree implements every file command of a tree connect.
var _ fileTree = (*ntfs.Tree)(nil)

// ntfsShare adapts *ntfs.Share to fileShare.
type ntfsShare struct{ s *ntfs.Share }

func (n ntfsShare) Connect(ctx context.Context, id ntfs.Identity) (fileTree, error) {
	t, err := n.s.Connect(ctx, id)
	if err != nil {
		return nil, err
	}
	return t, nil
}

func init() {
	newFileShare = func(sh Share) fileShare {
		s := ntfs.NewShare(sh.Name, sh.FS, ntfs.ShareOptions{Comment: sh.Comment, ReadOnly: sh.ReadOnly})
		s.SetOplockBreakTimeout(sh.OplockBreakTimeout)
		return ntfsShare{s}
	}
}
