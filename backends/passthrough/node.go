package passthrough

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/smbvfs/smbvfs/backends/vfs"
)

// node is a file or directory of the share, by its path from the root
// ("." for the root) and the ID it had when it was looked up.
type node struct {
	fs   *FS
	path string
	id   uint64
}

func (n *node) child(name string) string { return path.Join(n.path, name) }

// changePath is n's path as Change events spell it ("" for the root).
func changePath(p string) string {
	if p == "." {
		return ""
	}
	return p
}

// visible reports whether the share shows a file of this type.
func visible(fi fs.FileInfo) bool { return fi.Mode().IsRegular() || fi.IsDir() }

// stat returns n's FileInfo, checking that the name still denotes the
// node's file.
func (n *node) stat() (fs.FileInfo, error) {
	fi, err := n.fs.root.Stat(n.path)
	if err != nil {
		return nil, mapErr(err)
	}
	if n.fs.idOf(n.path, fi) != n.id {
		return nil, vfs.ErrStale
	}
	return fi, nil
}

// openMeta opens n read-only to reach its extended attributes, checking
// that the name still denotes the node's file.
func (n *node) openMeta() (*os.File, fs.FileInfo, error) {
	f, err := n.fs.root.OpenFile(n.path, os.O_RDONLY|nonblock, 0)
	if err != nil {
		return nil, nil, mapErr(err)
	}
	fi, err := f.Stat()
	if err == nil && n.fs.idOf(n.path, fi) != n.id {
		err = vfs.ErrStale
	}
	if err == nil && !visible(fi) {
		err = vfs.ErrPermission
	}
	if err != nil {
		f.Close()
		return nil, nil, mapErr(err)
	}
	return f, fi, nil
}

// attrAt returns the attributes of the file at p, stored DOS attributes
// included, and whether it is visible in the share.
func (fsys *FS) attrAt(p string) (vfs.Attr, fs.FileInfo, error) {
	fi, err := fsys.root.Stat(p)
	if err != nil {
		return vfs.Attr{}, nil, mapErr(err)
	}
	if !visible(fi) {
		return vfs.Attr{}, nil, vfs.ErrPermission
	}
	var f *os.File
	if fsys.xattrOK {
		if f, err = fsys.root.OpenFile(p, os.O_RDONLY|nonblock, 0); err == nil {
			defer f.Close()
			if fi2, err := f.Stat(); err == nil {
				fi = fi2
			}
		} else {
			f = nil
		}
	}
	return fsys.attrOf(p, fi, f), fi, nil
}

func (n *node) Attr(context.Context) (vfs.Attr, error) {
	a, _, err := n.fs.attrAt(n.path)
	if err == nil && a.ID != n.id {
		return vfs.Attr{}, vfs.ErrStale
	}
	return a, err
}

func (n *node) checkName(name string) error {
	if !validName(name) {
		return vfs.ErrInvalidName
	}
	return nil
}

func (n *node) writable() error {
	if n.fs.opts.ReadOnly {
		return vfs.ErrReadOnly
	}
	return nil
}

// ---- Lookup and listing --------------------------------------------------

func (n *node) Lookup(ctx context.Context, name string) (vfs.Node, error) {
	if n.fs.opts.CaseInsensitive {
		c, _, err := n.LookupFold(ctx, name)
		return c, err
	}
	return n.lookupExact(name)
}

func (n *node) lookupExact(name string) (vfs.Node, error) {
	if err := n.checkName(name); err != nil {
		return nil, err
	}
	if _, err := n.isDir(); err != nil {
		return nil, err
	}
	p := n.child(name)
	fi, err := n.fs.root.Stat(p)
	if err != nil {
		return nil, mapErr(err)
	}
	if !visible(fi) {
		return nil, vfs.ErrPermission
	}
	return &node{fs: n.fs, path: p, id: n.fs.idOf(p, fi)}, nil
}

// isDir checks that n is (still) a directory.
func (n *node) isDir() (fs.FileInfo, error) {
	fi, err := n.stat()
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, vfs.ErrNotDir
	}
	return fi, nil
}

func (n *node) LookupFold(_ context.Context, name string) (vfs.Node, string, error) {
	c, err := n.lookupExact(name)
	if err == nil {
		return c, name, nil
	}
	if !errors.Is(err, vfs.ErrNotExist) {
		return nil, "", err
	}
	found, err := n.findFold(name)
	if err != nil {
		return nil, "", err
	}
	if found == "" {
		return nil, "", vfs.ErrNotExist
	}
	c, err = n.lookupExact(found)
	return c, found, err
}

// findFold scans the directory for a visible name equal to name ignoring
// case, returning "" if there is none.
func (n *node) findFold(name string) (string, error) {
	d, err := n.fs.root.Open(n.path)
	if err != nil {
		return "", mapErr(err)
	}
	defer d.Close()
	key, found := vfs.FoldName(name), ""
	err = scanDir(d, 0, func(entry string, _ uint64) bool {
		if validName(entry) && vfs.FoldName(entry) == key {
			found = entry
			return false
		}
		return true
	})
	return found, mapErr(err)
}

func (n *node) ReadDir(_ context.Context, cookie uint64, count int) ([]vfs.DirEntry, error) {
	if _, err := n.isDir(); err != nil {
		return nil, err
	}
	d, err := n.fs.root.Open(n.path)
	if err != nil {
		return nil, mapErr(err)
	}
	defer d.Close()
	var out []vfs.DirEntry
	err = scanDir(d, cookie, func(name string, next uint64) bool {
		if !validName(name) {
			return true
		}
		a, _, err := n.fs.attrAt(n.child(name))
		if err != nil {
			return true // gone, escaping link, or not a file or directory
		}
		out = append(out, vfs.DirEntry{Name: name, Attr: a, Cookie: next})
		return len(out) < count
	})
	return out, mapErr(err)
}

// ---- Changing the namespace ---------------------------------------------

// reachable checks that the entry at p is one the share shows: entries it
// hides (links leading outside, dangling or looping links, devices...)
// cannot be removed or renamed over either.
func (fsys *FS) reachable(p string) error {
	fi, err := fsys.root.Stat(p)
	if err != nil || !visible(fi) {
		return vfs.ErrPermission
	}
	return nil
}

// prepare checks that name can be added to the directory n.
func (n *node) prepare(name string) error {
	if err := n.writable(); err != nil {
		return err
	}
	if err := n.checkName(name); err != nil {
		return err
	}
	if _, err := n.isDir(); err != nil {
		return err
	}
	if n.fs.opts.CaseInsensitive {
		if found, err := n.findFold(name); err != nil || found != "" {
			return vfs.ErrExist
		}
	}
	return nil
}

func (n *node) notify(c vfs.Change) { n.fs.notifier.Notify(c) }

func (n *node) Create(_ context.Context, name string) (vfs.Node, vfs.Handle, error) {
	if err := n.prepare(name); err != nil {
		return nil, nil, err
	}
	p := n.child(name)
	// O_EXCL also refuses to follow a symlink, dangling or not.
	f, err := n.fs.root.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL|nonblock, 0o666)
	if err != nil {
		return nil, nil, mapErr(err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, mapErr(err)
	}
	if n.fs.xattrOK {
		storeDOS(f, dosInfo{attrs: vfs.DOSArchive, created: fi.ModTime()})
	}
	c := &node{fs: n.fs, path: p, id: n.fs.idOf(p, fi)}
	n.notify(vfs.Change{Op: vfs.ChangeAdded, Path: p, ID: c.id})
	return c, &handle{f: f, node: c, write: true}, nil
}

func (n *node) Mkdir(_ context.Context, name string) (vfs.Node, error) {
	if err := n.prepare(name); err != nil {
		return nil, err
	}
	p := n.child(name)
	if err := n.fs.root.Mkdir(p, 0o777); err != nil {
		return nil, mapErr(err)
	}
	fi, err := n.fs.root.Stat(p)
	if err != nil {
		return nil, mapErr(err)
	}
	c := &node{fs: n.fs, path: p, id: n.fs.idOf(p, fi)}
	n.notify(vfs.Change{Op: vfs.ChangeAdded, Path: p, ID: c.id, Dir: true})
	return c, nil
}

func (n *node) Remove(_ context.Context, name string) error { return n.remove(name, false) }

func (n *node) RemoveDir(_ context.Context, name string) error { return n.remove(name, true) }

// remove removes a file or an empty directory. A symbolic link is removed
// itself, whichever way it is asked for, never what it points to.
func (n *node) remove(name string, dir bool) error {
	if err := n.writable(); err != nil {
		return err
	}
	if err := n.checkName(name); err != nil {
		return err
	}
	if _, err := n.isDir(); err != nil {
		return err
	}
	p := n.child(name)
	fi, err := n.fs.root.Lstat(p)
	if err != nil {
		return mapErr(err)
	}
	isLink := fi.Mode()&fs.ModeSymlink != 0
	if isLink {
		if err := n.fs.reachable(p); err != nil {
			return err
		}
	}
	switch {
	case !isLink && fi.IsDir() && !dir:
		return vfs.ErrIsDir
	case !isLink && !fi.IsDir() && dir:
		return vfs.ErrNotDir
	case !isLink && !visible(fi):
		return vfs.ErrPermission
	}
	id := n.fs.idOf(p, fi)
	if err := n.fs.root.Remove(p); err != nil {
		return mapErr(err)
	}
	n.notify(vfs.Change{Op: vfs.ChangeRemoved, Path: p, ID: id, Dir: fi.IsDir()})
	return nil
}

func (n *node) Rename(_ context.Context, oldName string, newDir vfs.Node, newName string, replace bool) error {
	to, ok := newDir.(*node)
	if !ok || to.fs != n.fs {
		return vfs.ErrInvalid
	}
	if err := n.writable(); err != nil {
		return err
	}
	if err := n.checkName(oldName); err != nil {
		return err
	}
	if err := to.checkName(newName); err != nil {
		return err
	}
	if _, err := n.isDir(); err != nil {
		return err
	}
	if _, err := to.isDir(); err != nil {
		return err
	}
	oldPath, newPath := n.child(oldName), to.child(newName)
	src, err := n.fs.root.Lstat(oldPath)
	if err != nil {
		return mapErr(err)
	}
	if src.IsDir() && (newPath == oldPath || strings.HasPrefix(newPath, oldPath+"/")) {
		if newPath == oldPath {
			return nil
		}
		return vfs.ErrInvalid
	}
	if src.Mode()&fs.ModeSymlink != 0 {
		if err := n.fs.reachable(oldPath); err != nil {
			return err
		}
	}
	if dst, err := n.fs.root.Lstat(newPath); err == nil {
		if err := n.fs.reachable(newPath); err != nil {
			return err
		}
		sameFile := n.fs.idOf(newPath, dst) == n.fs.idOf(oldPath, src)
		switch {
		case oldPath == newPath:
			return nil
		case sameFile && strings.EqualFold(oldPath, newPath):
			// a change of case on a case-insensitive filesystem
		case !replace || dst.IsDir():
			return vfs.ErrExist
		}
	} else if n.fs.opts.CaseInsensitive && !strings.EqualFold(oldPath, newPath) {
		if found, err := to.findFold(newName); err != nil || found != "" {
			if !replace {
				return vfs.ErrExist
			}
			newName = found
			newPath = to.child(newName)
		}
	}
	if err := n.fs.root.Rename(oldPath, newPath); err != nil {
		return mapErr(err)
	}
	n.notify(vfs.Change{Op: vfs.ChangeRenamed, Path: newPath, OldPath: oldPath,
		ID: n.fs.idOf(oldPath, src), Dir: src.IsDir()})
	return nil
}

func (n *node) Link(_ context.Context, target vfs.Node, name string) error {
	t, ok := target.(*node)
	if !ok || t.fs != n.fs {
		return vfs.ErrInvalid
	}
	if err := n.prepare(name); err != nil {
		return err
	}
	fi, err := t.stat()
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return vfs.ErrIsDir
	}
	p := n.child(name)
	if err := n.fs.root.Link(t.path, p); err != nil {
		return mapErr(err)
	}
	n.notify(vfs.Change{Op: vfs.ChangeAdded, Path: p, ID: t.id})
	return nil
}

var (
	_ vfs.FS           = (*FS)(nil)
	_ vfs.VolumeStater = (*FS)(nil)
	_ vfs.Watcher      = (*FS)(nil)
	_ vfs.Lookuper     = (*node)(nil)
	_ vfs.FoldLookuper = (*node)(nil)
	_ vfs.DirReader    = (*node)(nil)
	_ vfs.Creator      = (*node)(nil)
	_ vfs.Mkdirer      = (*node)(nil)
	_ vfs.Remover      = (*node)(nil)
	_ vfs.Renamer      = (*node)(nil)
	_ vfs.Linker       = (*node)(nil)
)
