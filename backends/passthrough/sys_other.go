//go:build !linux && !darwin

package passthrough

import (
	"io/fs"
	"os"

	"github.com/smbvfs/smbvfs/backends/vfs"
)

// sysAttr has no portable source of inode numbers here: the caller falls
// back to IDs hashed from paths (stable only while names are).
func sysAttr(fs.FileInfo, uint64, *vfs.Attr) bool { return false }

func deviceOf(fs.FileInfo) uint64 { return 0 }

// statVolume is not implemented on this OS: sizes are reported as unknown.
func statVolume(*os.File) (total, free uint64, bsize, nameMax uint32, err error) {
	return 0, 0, 0, 0, nil
}
