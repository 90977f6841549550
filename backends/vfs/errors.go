package vfs

import (
	"errors"
	"io/fs"
)

// The sentinel errors of the contract. Backends return them, possibly
// wrapped (fmt.Errorf("...: %w", vfs.ErrNotExist)); callers test them with
// errors.Is.
//
// The server turns each sentinel into one NTSTATUS in a single table, so a
// backend never deals with SMB status codes. The intended mapping is:
//
//	ErrNotExist     STATUS_OBJECT_NAME_NOT_FOUND (or _PATH_NOT_FOUND for a parent)
//	ErrExist        STATUS_OBJECT_NAME_COLLISION
//	ErrNotDir       STATUS_NOT_A_DIRECTORY (or _OBJECT_PATH_NOT_FOUND mid-path)
//	ErrIsDir        STATUS_FILE_IS_A_DIRECTORY
//	ErrNotEmpty     STATUS_DIRECTORY_NOT_EMPTY
//	ErrPermission   STATUS_ACCESS_DENIED
//	ErrReadOnly     STATUS_MEDIA_WRITE_PROTECTED (or ACCESS_DENIED)
//	ErrNotSupported STATUS_NOT_SUPPORTED (or INVALID_DEVICE_REQUEST)
//	ErrInvalidName  STATUS_OBJECT_NAME_INVALID
//	ErrInvalid      STATUS_INVALID_PARAMETER
//	ErrNoSpace      STATUS_DISK_FULL
//	ErrStale        STATUS_FILE_DELETED / STATUS_INVALID_HANDLE
//	ErrClosed       STATUS_FILE_CLOSED
//	anything else   STATUS_UNEXPECTED_IO_ERROR (logged)
//
// ErrNotExist, ErrExist, ErrPermission and ErrClosed also match their io/fs
// counterparts, so errors.Is(vfs.ErrNotExist, fs.ErrNotExist) is true.
var (
	ErrNotExist     error = &vfsError{"no such file or directory", fs.ErrNotExist}
	ErrExist        error = &vfsError{"file already exists", fs.ErrExist}
	ErrNotDir       error = &vfsError{"not a directory", nil}
	ErrIsDir        error = &vfsError{"is a directory", nil}
	ErrNotEmpty     error = &vfsError{"directory not empty", nil}
	ErrPermission   error = &vfsError{"permission denied", fs.ErrPermission}
	ErrReadOnly     error = &vfsError{"read-only file system", nil}
	ErrNotSupported error = &vfsError{"operation not supported", errors.ErrUnsupported}
	ErrInvalidName  error = &vfsError{"invalid name", nil}
	ErrInvalid      error = &vfsError{"invalid argument", fs.ErrInvalid}
	ErrNoSpace      error = &vfsError{"no space left on device", nil}
	ErrStale        error = &vfsError{"stale node: it was removed", nil}
	ErrClosed       error = &vfsError{"file already closed", fs.ErrClosed}
)

type vfsError struct {
	msg string
	std error // the io/fs (or errors) equivalent, if any
}

func (e *vfsError) Error() string { return "vfs: " + e.msg }

// Is makes a sentinel match its standard-library counterpart.
func (e *vfsError) Is(target error) bool { return e.std != nil && target == e.std }
