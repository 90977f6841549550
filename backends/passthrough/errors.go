package passthrough

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/smbvfs/smbvfs/backends/vfs"
)

// mapErr translates an error from the os package into the contract's
// sentinels, keeping the original for the logs.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if s := sentinel(err); s != nil {
		return fmt.Errorf("%w: %w", s, err)
	}
	return err
}

func sentinel(err error) error {
	if s := errnoSentinel(err); s != nil {
		return s
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return vfs.ErrNotExist
	case errors.Is(err, fs.ErrExist):
		return vfs.ErrExist
	case errors.Is(err, fs.ErrPermission):
		return vfs.ErrPermission
	case errors.Is(err, fs.ErrClosed):
		return vfs.ErrClosed
	case errors.Is(err, errors.ErrUnsupported):
		return vfs.ErrNotSupported
	case strings.Contains(err.Error(), "escapes"):
		// os.Root refusing a path or symlink that leads outside the root
		// (its error value is not exported).
		return vfs.ErrPermission
	}
	return nil
}
