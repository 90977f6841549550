package passthrough

import (
	"bytes"
	"os"
	"syscall"
	"unsafe"

	"github.com/smbvfs/smbvfs/backends/vfs"
)

// Extended attributes through the open file (f*xattr(2)), never through a
// path: a path would be resolved outside os.Root's confinement.

const xattrCreate = 1 // XATTR_CREATE: fail if it exists

func xattrErr(errno syscall.Errno) error {
	switch errno {
	case 0:
		return nil
	case syscall.ENODATA:
		return vfs.ErrNotExist
	case syscall.ENOTSUP:
		return vfs.ErrNotSupported
	case syscall.EEXIST:
		return vfs.ErrExist
	case syscall.E2BIG, syscall.ENOSPC, syscall.EDQUOT:
		return vfs.ErrNoSpace
	case syscall.ERANGE:
		return vfs.ErrInvalidName
	}
	return mapErr(errno)
}

// withFd runs fn on f's descriptor and translates its errno.
func withFd(f *os.File, fn func(fd uintptr) syscall.Errno) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return mapErr(err)
	}
	var errno syscall.Errno
	if err := rc.Control(func(fd uintptr) { errno = fn(fd) }); err != nil {
		return mapErr(err)
	}
	return xattrErr(errno)
}

func bufPtr(b []byte) uintptr {
	if len(b) == 0 {
		return 0
	}
	return uintptr(unsafe.Pointer(&b[0]))
}

// sizedCall calls a get/list syscall with a growing buffer.
func sizedCall(f *os.File, call func(fd uintptr, buf []byte) (int, syscall.Errno)) ([]byte, error) {
	for {
		var size int
		if err := withFd(f, func(fd uintptr) syscall.Errno {
			var e syscall.Errno
			size, e = call(fd, nil)
			return e
		}); err != nil {
			return nil, err
		}
		buf := make([]byte, size)
		var n int
		err := withFd(f, func(fd uintptr) syscall.Errno {
			var e syscall.Errno
			n, e = call(fd, buf)
			return e
		})
		if err == vfs.ErrInvalidName { // ERANGE: it grew meanwhile
			continue
		}
		if err != nil {
			return nil, err
		}
		return buf[:n], nil
	}
}

func fgetxattr(f *os.File, name string) ([]byte, error) {
	p, err := syscall.BytePtrFromString(name)
	if err != nil {
		return nil, vfs.ErrInvalidName
	}
	return sizedCall(f, func(fd uintptr, buf []byte) (int, syscall.Errno) {
		n, _, e := syscall.Syscall6(syscall.SYS_FGETXATTR, fd, uintptr(unsafe.Pointer(p)),
			bufPtr(buf), uintptr(len(buf)), 0, 0)
		return int(n), e
	})
}

func fsetxattr(f *os.File, name string, value []byte, flags int) error {
	p, err := syscall.BytePtrFromString(name)
	if err != nil {
		return vfs.ErrInvalidName
	}
	return withFd(f, func(fd uintptr) syscall.Errno {
		_, _, e := syscall.Syscall6(syscall.SYS_FSETXATTR, fd, uintptr(unsafe.Pointer(p)),
			bufPtr(value), uintptr(len(value)), uintptr(flags), 0)
		return e
	})
}

func flistxattr(f *os.File) ([]string, error) {
	buf, err := sizedCall(f, func(fd uintptr, buf []byte) (int, syscall.Errno) {
		n, _, e := syscall.Syscall(syscall.SYS_FLISTXATTR, fd, bufPtr(buf), uintptr(len(buf)))
		return int(n), e
	})
	if err != nil {
		return nil, err
	}
	var names []string
	for _, b := range bytes.Split(buf, []byte{0}) {
		if len(b) > 0 {
			names = append(names, string(b))
		}
	}
	return names, nil
}

func fremovexattr(f *os.File, name string) error {
	p, err := syscall.BytePtrFromString(name)
	if err != nil {
		return vfs.ErrInvalidName
	}
	return withFd(f, func(fd uintptr) syscall.Errno {
		_, _, e := syscall.Syscall(syscall.SYS_FREMOVEXATTR, fd, uintptr(unsafe.Pointer(p)), 0)
		return e
	})
}
