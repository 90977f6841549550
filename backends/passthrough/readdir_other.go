//go:build !linux

package passthrough

import (
	"io"
	"os"
)

// scanDir calls fn for each entry of the open directory d that follows
// cookie, with the cookie that resumes after it, until fn returns false.
// Without access to the kernel's directory offsets the cookie is a count
// of entries, so a listing resumed while the directory changes may skip
// or repeat entries.
func scanDir(d *os.File, cookie uint64, fn func(name string, next uint64) bool) error {
	pos := uint64(0)
	for {
		names, err := d.Readdirnames(256)
		for _, name := range names {
			pos++
			if pos <= cookie {
				continue
			}
			if !fn(name, pos) {
				return nil
			}
		}
		if err == io.EOF || len(names) == 0 {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
