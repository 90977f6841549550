package passthrough

import (
	"encoding/binary"
	"os"
	"syscall"
)

// scanDir calls fn for each entry of the open directory d that follows
// cookie, with the cookie that resumes after it, until fn returns false.
// Cookies are the kernel's own directory offsets (d_off), which ext4, xfs,
// btrfs and tmpfs keep stable while entries come and go, so a listing can
// be resumed by a fresh open at any time.
func scanDir(d *os.File, cookie uint64, fn func(name string, next uint64) bool) error {
	rc, err := d.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	err = rc.Control(func(fd uintptr) {
		if _, serr = syscall.Seek(int(fd), int64(cookie), 0); serr != nil {
			return
		}
		buf := make([]byte, 16<<10)
		for {
			n, err := syscall.Getdents(int(fd), buf)
			if err == syscall.EINTR {
				continue
			}
			if err != nil {
				serr = err
				return
			}
			if n <= 0 {
				return
			}
			// struct linux_dirent64 { u64 ino; s64 off; u16 reclen; u8 type; char name[]; }
			for b := buf[:n]; len(b) >= 19; {
				reclen := int(binary.NativeEndian.Uint16(b[16:18]))
				if reclen < 19 || reclen > len(b) {
					return
				}
				off := binary.NativeEndian.Uint64(b[8:16])
				name := b[19:reclen]
				for i, c := range name {
					if c == 0 {
						name = name[:i]
						break
					}
				}
				b = b[reclen:]
				if s := string(name); s != "." && s != ".." {
					if !fn(s, off) {
						return
					}
				}
			}
		}
	})
	if err != nil {
		return err
	}
	return serr
}
