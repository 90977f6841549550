package vfs_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/smbvfs/smbvfs/backends/vfs"
	"github.com/smbvfs/smbvfs/backends/vfs/vfstest"
)

func TestSentinelsMatchStdlib(t *testing.T) {
	wrapped := fmt.Errorf("lookup %q: %w", "x", vfs.ErrNotExist)
	for _, tc := range []struct {
		err, target error
	}{
		{wrapped, vfs.ErrNotExist},
		{wrapped, fs.ErrNotExist},
		{vfs.ErrExist, fs.ErrExist},
		{vfs.ErrPermission, fs.ErrPermission},
		{vfs.ErrClosed, fs.ErrClosed},
		{vfs.ErrNotSupported, errors.ErrUnsupported},
	} {
		if !errors.Is(tc.err, tc.target) {
			t.Errorf("errors.Is(%v, %v) = false", tc.err, tc.target)
		}
	}
	if errors.Is(vfs.ErrNotDir, vfs.ErrIsDir) || errors.Is(vfs.ErrReadOnly, fs.ErrPermission) {
		t.Errorf("distinct sentinels match each other")
	}
	if os.IsNotExist(vfs.ErrNotExist) {
		t.Logf("os.IsNotExist does not unwrap; errors.Is is the way")
	}
}

func TestValidName(t *testing.T) {
	for name, want := range map[string]bool{
		"a.txt": true, "with space": true, "ünïcödé": true, ".hidden": true,
		"": false, ".": false, "..": false, "a/b": false, `a\b`: false, "a\x00": false, "\xff": false,
	} {
		if got := vfs.ValidName(name); got != want {
			t.Errorf("ValidName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestDOSAttrString(t *testing.T) {
	if s := (vfs.DOSReadOnly | vfs.DOSDirectory | vfs.DOSArchive).String(); s != "RDA" {
		t.Errorf("String = %q, want RDA", s)
	}
}

func TestNotifier(t *testing.T) {
	var n vfs.Notifier
	n.Notify(vfs.Change{Op: vfs.ChangeAdded}) // nobody watches: nothing happens
	ctx, cancel := context.WithCancel(context.Background())
	var got atomic.Int32
	if err := n.Watch(ctx, func(c vfs.Change) {
		if c.Path == "x" {
			got.Add(1)
		}
	}); err != nil {
		t.Fatal(err)
	}
	n.Notify(vfs.Change{Op: vfs.ChangeAdded, Path: "x"})
	if got.Load() != 1 || !n.Watching() {
		t.Fatalf("watcher called %d times", got.Load())
	}
	cancel()
	for deadline := time.Now().Add(time.Second); n.Watching() && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	n.Notify(vfs.Change{Op: vfs.ChangeAdded, Path: "x"})
	if got.Load() != 1 || n.Watching() {
		t.Errorf("watcher still called after its context ended")
	}
}

func TestNewDirRejectsDuplicates(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Errorf("NewDir accepted a duplicate name")
		}
	}()
	f := vfs.BytesFile(nil)
	vfs.NewDir(vfs.Child{Name: "a", Node: f}, vfs.Child{Name: "a", Node: f})
}

func TestConformanceStatic(t *testing.T) {
	vfstest.Run(t, func(t *testing.T) vfs.FS {
		sub := vfs.NewDir(vfs.Child{Name: "deep.txt", Node: vfs.BytesFile([]byte("deep"))})
		return vfs.NewFS(vfs.NewDir(
			vfs.Child{Name: "empty", Node: vfs.BytesFile(nil)},
			vfs.Child{Name: "big.bin", Node: vfs.BytesFile(make([]byte, 100_000))},
			vfs.Child{Name: "computed.txt", Node: vfs.FuncFile(func(context.Context) ([]byte, error) {
				return []byte(time.Now().Format(time.RFC3339)), nil
			})},
			vfs.Child{Name: "sub", Node: sub},
		))
	}, vfstest.ReadOnly())
}

func TestConformanceFromFS(t *testing.T) {
	vfstest.Run(t, func(t *testing.T) vfs.FS {
		return vfs.FromFS(fstest.MapFS{
			"a.txt":           {Data: []byte("alpha")},
			"dir/b.txt":       {Data: make([]byte, 5000)},
			"dir/deeper/c.go": {Data: []byte("package c")},
			"empty-dir":       {Mode: fs.ModeDir},
		})
	}, vfstest.ReadOnly())
}

func TestConformanceDirFS(t *testing.T) {
	vfstest.Run(t, func(t *testing.T) vfs.FS { return vfs.FromFS(os.DirFS(".")) }, vfstest.ReadOnly())
}

// The package example passes the suite too (with a listing of 1,500).
func TestConformanceExample(t *testing.T) {
	vfstest.Run(t, func(t *testing.T) vfs.FS { return vfs.NewFS(squares(1500)) }, vfstest.ReadOnly())
}
