package passthrough

import (
	"io/fs"
	"os"
	"syscall"
	"time"

	"github.com/smbvfs/smbvfs/backends/vfs"
)

// sysAttr fills in what fs.FileInfo does not carry: the inode number as
// ID, access and change times, allocation and link count.
func sysAttr(fi fs.FileInfo, rootDev uint64, a *vfs.Attr) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return false
	}
	a.ID = inodeID(st.Ino, uint64(st.Dev), rootDev)
	a.Accessed = time.Unix(st.Atim.Unix())
	a.Changed = time.Unix(st.Ctim.Unix())
	a.AllocSize = st.Blocks * 512
	a.Links = uint32(st.Nlink)
	return true
}

func deviceOf(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Dev)
	}
	return 0
}

// statVolume reports the size of the filesystem holding dir.
func statVolume(dir *os.File) (total, free uint64, bsize, nameMax uint32, err error) {
	var st syscall.Statfs_t
	rc, err := dir.SyscallConn()
	if err != nil {
		return 0, 0, 0, 0, err
	}
	if cerr := rc.Control(func(fd uintptr) { err = syscall.Fstatfs(int(fd), &st) }); cerr != nil {
		return 0, 0, 0, 0, cerr
	}
	if err != nil {
		return 0, 0, 0, 0, err
	}
	return st.Blocks * uint64(st.Bsize), st.Bavail * uint64(st.Bsize), uint32(st.Bsize), uint32(st.Namelen), nil
}
