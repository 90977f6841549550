package passthrough_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/smbvfs/smbvfs/backends/passthrough"
	"github.com/smbvfs/smbvfs/backends/vfs"
	"github.com/smbvfs/smbvfs/backends/vfs/vfstest"
)

// newShare serves a fresh directory under parent ("" for t.TempDir).
func newShare(t *testing.T, parent string, opts passthrough.Options) *passthrough.FS {
	t.Helper()
	dir := t.TempDir()
	if parent != "" {
		var err error
		if dir, err = os.MkdirTemp(parent, "passthrough-test-"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
	}
	fsys, err := passthrough.New(dir, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { fsys.Close() })
	return fsys
}

func TestConformance(t *testing.T) {
	vfstest.Run(t, func(t *testing.T) vfs.FS { return newShare(t, "", passthrough.Options{Label: "TMP"}) })
}

// TestConformanceXattrs runs on tmpfs, whose user xattrs make streams,
// xattrs and security descriptors testable wherever /dev/shm exists.
func TestConformanceXattrs(t *testing.T) {
	if fi, err := os.Stat("/dev/shm"); err != nil || !fi.IsDir() {
		t.Skip("no /dev/shm")
	}
	probe := newShare(t, "/dev/shm", passthrough.Options{})
	if !probe.XattrsSupported() {
		t.Skip("/dev/shm has no user extended attributes")
	}
	vfstest.Run(t, func(t *testing.T) vfs.FS {
		return newShare(t, "/dev/shm", passthrough.Options{})
	}, vfstest.ManyEntries(500))
}

func TestConformanceNoXattrs(t *testing.T) {
	vfstest.Run(t, func(t *testing.T) vfs.FS {
		return newShare(t, "", passthrough.Options{NoXattrs: true})
	}, vfstest.ManyEntries(300))
}

func TestConformanceCaseInsensitive(t *testing.T) {
	vfstest.Run(t, func(t *testing.T) vfs.FS {
		return newShare(t, "", passthrough.Options{CaseInsensitive: true})
	}, vfstest.ManyEntries(300))
}

func TestConformanceReadOnly(t *testing.T) {
	vfstest.Run(t, func(t *testing.T) vfs.FS {
		dir := t.TempDir()
		must(t, os.MkdirAll(filepath.Join(dir, "docs", "deep"), 0o755))
		must(t, os.WriteFile(filepath.Join(dir, "a.txt"), []byte("alpha"), 0o644))
		must(t, os.WriteFile(filepath.Join(dir, "docs", "b.bin"), make([]byte, 100000), 0o644))
		must(t, os.WriteFile(filepath.Join(dir, "docs", "deep", "c"), nil, 0o644))
		must(t, os.Symlink("docs/b.bin", filepath.Join(dir, "link-to-b")))
		fsys, err := passthrough.New(dir, passthrough.Options{ReadOnly: true})
		must(t, err)
		t.Cleanup(func() { fsys.Close() })
		return fsys
	}, vfstest.ReadOnly())
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
