//go:build !linux

package passthrough

import (
	"os"

	"github.com/smbvfs/smbvfs/backends/vfs"
)

// Extended attributes are implemented on Linux only; elsewhere streams,
// xattrs, security descriptors and stored DOS attributes report
// ErrNotSupported.

const xattrCreate = 1

func fgetxattr(*os.File, string) ([]byte, error)    { return nil, vfs.ErrNotSupported }
func fsetxattr(*os.File, string, []byte, int) error { return vfs.ErrNotSupported }
func flistxattr(*os.File) ([]string, error)         { return nil, vfs.ErrNotSupported }
func fremovexattr(*os.File, string) error           { return vfs.ErrNotSupported }
