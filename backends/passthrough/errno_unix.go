//go:build unix

package passthrough

import (
	"errors"
	"syscall"

	"github.com/smbvfs/smbvfs/backends/vfs"
)

func errnoSentinel(err error) error {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return nil
	}
	switch errno {
	case syscall.ENOENT:
		return vfs.ErrNotExist
	case syscall.EEXIST:
		return vfs.ErrExist
	case syscall.ENOTDIR:
		return vfs.ErrNotDir
	case syscall.EISDIR:
		return vfs.ErrIsDir
	case syscall.ENOTEMPTY:
		return vfs.ErrNotEmpty
	case syscall.EACCES, syscall.EPERM, syscall.ELOOP, syscall.EXDEV:
		return vfs.ErrPermission
	case syscall.EROFS:
		return vfs.ErrReadOnly
	case syscall.ENOSPC, syscall.EDQUOT, syscall.EFBIG, syscall.E2BIG:
		return vfs.ErrNoSpace
	case syscall.ENAMETOOLONG:
		return vfs.ErrInvalidName
	case syscall.EINVAL:
		return vfs.ErrInvalid
	case syscall.ESTALE:
		return vfs.ErrStale
	}
	if errno == syscall.ENOTSUP || errno == syscall.EOPNOTSUPP {
		return vfs.ErrNotSupported
	}
	return nil
}

// nonblock keeps Open from hanging on a FIFO that appeared in the share;
// regular files ignore it.
const nonblock = syscall.O_NONBLOCK
