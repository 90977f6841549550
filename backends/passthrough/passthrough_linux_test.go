package passthrough_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/smbvfs/smbvfs/backends/passthrough"
	"github.com/smbvfs/smbvfs/backends/vfs"
)

// Writes reach the disk, IDs are inode numbers that survive a restart, and
// DOS attributes live in user.smbvfs.dos.
func TestOnDisk(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	fsys, err := passthrough.New(dir, passthrough.Options{})
	must(t, err)
	root, _ := fsys.Root(ctx)
	n, h, err := root.(vfs.Creator).Create(ctx, "disk.txt")
	must(t, err)
	_, err = h.(vfs.HandleWriter).WriteAt(ctx, []byte("on disk"), 0)
	must(t, err)
	must(t, h.(vfs.HandleSyncer).Sync(ctx))
	if b, err := os.ReadFile(filepath.Join(dir, "disk.txt")); err != nil || string(b) != "on disk" {
		t.Errorf("host reads %q, %v before close", b, err)
	}
	must(t, h.Close(ctx))

	a, err := n.Attr(ctx)
	must(t, err)
	var st syscall.Stat_t
	must(t, syscall.Stat(filepath.Join(dir, "disk.txt"), &st))
	if a.ID != st.Ino {
		t.Errorf("ID %d, inode %d", a.ID, st.Ino)
	}
	fsys.Close()

	again, err := passthrough.New(dir, passthrough.Options{})
	must(t, err)
	defer again.Close()
	root, _ = again.Root(ctx)
	n, err = root.(vfs.Lookuper).Lookup(ctx, "disk.txt")
	must(t, err)
	if b, _ := n.Attr(ctx); b.ID != a.ID {
		t.Errorf("after a restart the ID is %d, was %d", b.ID, a.ID)
	}

	if !again.XattrsSupported() {
		t.Skip("no user xattrs on the temporary directory: DOS attribute storage not tested")
	}
	created := time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC)
	must(t, n.(vfs.AttrSetter).SetAttr(ctx, vfs.AttrChange{Set: vfs.DOSHidden | vfs.DOSSystem, Created: created}))
	buf := make([]byte, 64)
	sz, err := syscall.Getxattr(filepath.Join(dir, "disk.txt"), "user.smbvfs.dos", buf)
	if err != nil || sz != 12 {
		t.Fatalf("user.smbvfs.dos: %d bytes, %v", sz, err)
	}
	b, _ := n.Attr(ctx)
	if b.DOS&(vfs.DOSHidden|vfs.DOSSystem) != vfs.DOSHidden|vfs.DOSSystem || !b.Created.Equal(created) {
		t.Errorf("attributes %v created %v after SetAttr", b.DOS, b.Created)
	}
	// A stream is an xattr of the file.
	sh, err := n.(vfs.Streamer).CreateStream(ctx, "Zone.Identifier")
	must(t, err)
	_, err = sh.(vfs.HandleWriter).WriteAt(ctx, []byte("[ZoneTransfer]"), 0)
	must(t, err)
	must(t, sh.Close(ctx))
	sz, err = syscall.Getxattr(filepath.Join(dir, "disk.txt"), "user.smbvfs.stream.Zone.Identifier", buf)
	if err != nil || string(buf[:sz]) != "[ZoneTransfer]" {
		t.Errorf("stream xattr holds %q, %v", buf[:max(sz, 0)], err)
	}
	// Internal xattrs are not shown as the client's.
	names, err := n.(vfs.Xattrer).ListXattrs(ctx)
	if err != nil || len(names) != 0 {
		t.Errorf("ListXattrs = %q, %v; want none", names, err)
	}
	if err := n.(vfs.Xattrer).SetXattr(ctx, "smbvfs.dos", nil); err == nil {
		t.Errorf("a client could overwrite user.smbvfs.dos")
	}
}
