// Package passthrough serves a local directory, confined to it.
//
// Every filesystem access goes through an os.Root, which resolves symbolic
// links beneath the root and refuses any path, or link, that leads out of
// it. On top of that, names are checked before use: "..", separators, NUL,
// Windows device names (CON, NUL, aux.txt...) and names Windows cannot
// represent are refused with ErrInvalidName and hidden from listings. Only
// regular files and directories are visible: sockets, FIFOs and device
// nodes inside the share are not.
//
// File IDs are inode numbers (stable across restarts) on Linux and macOS;
// elsewhere they are hashes of paths. Writes go straight to the files and
// Sync is fsync.
//
// DOS attributes other than read-only (which is the owner-write permission
// bit), creation times, named streams and security descriptors are kept in
// extended attributes of the "user." namespace, on Linux:
//
//	user.smbvfs.dos           DOS attributes and creation time
//	user.smbvfs.stream.<name> the content of stream <name>
//	user.smbvfs.sd            the security descriptor
//	user.<name>               the client's extended attribute <name>
//
// Where the filesystem (or the OS) has no user xattrs those features report
// ErrNotSupported; everything else works. Named streams live in xattrs, so
// they are limited to what the filesystem allows per value (a few KiB on
// ext4, more on tmpfs, xfs and btrfs).
//
// A Node is a name: after a rename the server looks the node up again, and
// a node whose name now denotes another file reports ErrStale. Open
// handles follow their file across renames. Changes made through this FS
// are reported to watchers; changes made by other programs are not.
package passthrough

import (
	"context"
	"encoding/binary"
	"errors"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"time"

	"github.com/smbvfs/smbvfs/backends/vfs"
)

// Options configure New. The zero value is a writable, case-sensitive
// share using extended attributes where available.
type Options struct {
	// CaseInsensitive makes Lookup ignore case, as Windows does, on a
	// case-sensitive filesystem, and Create refuse a name that differs
	// only in case from an existing one. It costs a directory scan for
	// each lookup that misses.
	CaseInsensitive bool
	ReadOnly        bool   // refuse every change with ErrReadOnly
	NoXattrs        bool   // do not use extended attributes even if available
	Label           string // volume label
}

// FS is a directory served as a share. Close it when done.
type FS struct {
	notifier vfs.Notifier

	root    *os.Root
	opts    Options
	dev     uint64 // device of the root, to tell mounts apart in IDs
	serial  uint32
	xattrOK bool
}

// New opens dir as a share.
func New(dir string, opts Options) (*FS, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, mapErr(err)
	}
	fi, err := root.Stat(".")
	if err != nil {
		root.Close()
		return nil, mapErr(err)
	}
	f := &FS{root: root, opts: opts, dev: deviceOf(fi)}
	var a vfs.Attr
	sysAttr(fi, f.dev, &a)
	f.serial = uint32(a.ID ^ a.ID>>32 ^ f.dev)
	if !opts.NoXattrs {
		if d, err := root.Open("."); err == nil {
			_, err = fgetxattr(d, "user.smbvfs.probe")
			f.xattrOK = errors.Is(err, vfs.ErrNotExist) || err == nil
			d.Close()
		}
	}
	return f, nil
}

// Watch reports the changes made through this FS (not those made by other
// programs) until ctx is done.
func (f *FS) Watch(ctx context.Context, fn func(vfs.Change)) error { return f.notifier.Watch(ctx, fn) }

// Close releases the root directory.
func (f *FS) Close() error { return f.root.Close() }

// XattrsSupported reports whether the share stores DOS attributes, streams,
// xattrs and security descriptors.
func (f *FS) XattrsSupported() bool { return f.xattrOK }

func (f *FS) Root(context.Context) (vfs.Node, error) {
	fi, err := f.root.Stat(".")
	if err != nil {
		return nil, mapErr(err)
	}
	return &node{fs: f, path: ".", id: f.idOf(".", fi)}, nil
}

func (f *FS) StatVolume(context.Context) (vfs.VolumeInfo, error) {
	d, err := f.root.Open(".")
	if err != nil {
		return vfs.VolumeInfo{}, mapErr(err)
	}
	defer d.Close()
	total, free, bsize, nameMax, err := statVolume(d)
	if err != nil {
		return vfs.VolumeInfo{}, mapErr(err)
	}
	return vfs.VolumeInfo{
		Label: f.opts.Label, Serial: f.serial,
		TotalBytes: total, FreeBytes: free, BlockSize: bsize, MaxNameLength: nameMax,
		CaseSensitive: !f.opts.CaseInsensitive, CasePreserving: true, ReadOnly: f.opts.ReadOnly,
	}, nil
}

func (f *FS) idOf(p string, fi fs.FileInfo) uint64 {
	var a vfs.Attr
	if sysAttr(fi, f.dev, &a) {
		return a.ID
	}
	return pathID(p)
}

// inodeID makes an ID from an inode number, folding in the device for
// files on another mount beneath the root.
func inodeID(ino, dev, rootDev uint64) uint64 {
	id := ino
	if dev != rootDev {
		id ^= (dev*0x9e3779b97f4a7c15)&^(1<<63) | 1<<62
	}
	if id == 0 {
		id = 1 << 61
	}
	return id
}

func pathID(p string) uint64 {
	h := fnv.New64a()
	io.WriteString(h, p)
	return h.Sum64() | 1
}

// attrOf builds the attributes of the file at p from its FileInfo and,
// when f is open on it, its stored DOS attributes.
func (fsys *FS) attrOf(p string, fi fs.FileInfo, f *os.File) vfs.Attr {
	mt := fi.ModTime()
	a := vfs.Attr{Size: fi.Size(), Created: mt, Accessed: mt, Modified: mt, Changed: mt}
	if !sysAttr(fi, fsys.dev, &a) {
		a.ID = pathID(p)
	}
	if a.Created.IsZero() || a.Created.After(mt) {
		a.Created = mt
	}
	if a.Changed.Before(a.Created) {
		a.Created = a.Changed
	}
	if fi.IsDir() {
		a.Size, a.AllocSize = 0, 0
		a.DOS = vfs.DOSDirectory
	} else {
		a.DOS = vfs.DOSArchive
		if fi.Mode().Perm()&0o200 == 0 {
			a.DOS |= vfs.DOSReadOnly
		}
	}
	if base := path.Base(p); strings.HasPrefix(base, ".") && p != "." {
		a.DOS |= vfs.DOSHidden
	}
	if d, ok := fsys.loadDOS(f); ok {
		keep := vfs.DOSDirectory
		if !fi.IsDir() {
			keep |= vfs.DOSReadOnly
		}
		a.DOS = a.DOS&keep | d.attrs&^keep
		if !d.created.IsZero() {
			a.Created = d.created
		}
	}
	return a
}

// dosInfo is what user.smbvfs.dos holds: version 1, the attribute bits
// (little-endian uint16) and the creation time (Unix nanoseconds, 0 when
// unset).
type dosInfo struct {
	attrs   vfs.DOSAttr
	created time.Time
}

const (
	xattrDOS    = "user.smbvfs.dos"
	xattrSD     = "user.smbvfs.sd"
	xattrStream = "user.smbvfs.stream."
	xattrUser   = "user."
	xattrOwn    = "user.smbvfs."
)

func (fsys *FS) loadDOS(f *os.File) (dosInfo, bool) {
	if f == nil || !fsys.xattrOK {
		return dosInfo{}, false
	}
	b, err := fgetxattr(f, xattrDOS)
	if err != nil || len(b) != 12 || b[0] != 1 {
		return dosInfo{}, false
	}
	d := dosInfo{attrs: vfs.DOSAttr(binary.LittleEndian.Uint16(b[2:4]))}
	if ns := int64(binary.LittleEndian.Uint64(b[4:12])); ns != 0 {
		d.created = time.Unix(0, ns)
	}
	return d, true
}

func storeDOS(f *os.File, d dosInfo) error {
	b := make([]byte, 12)
	b[0] = 1
	binary.LittleEndian.PutUint16(b[2:4], uint16(d.attrs))
	if !d.created.IsZero() {
		binary.LittleEndian.PutUint64(b[4:12], uint64(d.created.UnixNano()))
	}
	return fsetxattr(f, xattrDOS, b, 0)
}
