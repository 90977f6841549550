package hello_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smbvfs/smbvfs/backends/hello"
	"github.com/smbvfs/smbvfs/backends/vfs"
	"github.com/smbvfs/smbvfs/backends/vfs/vfstest"
)

func newHello(t *testing.T, cfg hello.Config) *hello.FS {
	t.Helper()
	fsys, err := hello.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { fsys.Close() })
	return fsys
}

// TestConformance checks the read-only files, the inbox as far as it
// goes (create, write, read, remove, listings) and files/ by walking it.
func TestConformance(t *testing.T) {
	vfstest.Run(t, func(t *testing.T) vfs.FS {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "real.txt"), []byte("a real file\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return newHello(t, hello.Config{Dir: dir, Stats: func() string { return "requests: 1\n" }})
	},
		vfstest.Scratch("inbox"),
		vfstest.ReadOnlyPaths("", "README.txt", "now.txt", "stats.txt"),
		vfstest.ManyEntries(1000))
}

func read(t *testing.T, fsys vfs.FS, path string) string {
	t.Helper()
	ctx := context.Background()
	n, err := fsys.Root(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range strings.Split(path, "/") {
		if n, err = n.(vfs.Lookuper).Lookup(ctx, name); err != nil {
			t.Fatalf("Lookup(%q): %v", name, err)
		}
	}
	h, err := n.(vfs.Opener).Open(ctx, vfs.OpenRead)
	if err != nil {
		t.Fatalf("Open(%q): %v", path, err)
	}
	defer h.Close(ctx)
	buf := make([]byte, 4096)
	m, _ := h.ReadAt(ctx, buf, 0)
	return string(buf[:m])
}

func TestComputedFiles(t *testing.T) {
	var mu sync.Mutex
	requests := 0
	fsys := newHello(t, hello.Config{Stats: func() string {
		mu.Lock()
		defer mu.Unlock()
		requests++
		return strings.Repeat("x", requests)
	}})
	got, err := time.Parse(time.RFC3339, strings.TrimSpace(read(t, fsys, "now.txt")))
	if err != nil || time.Since(got) > time.Minute || time.Since(got) < -time.Second {
		t.Errorf("now.txt holds %v (%v), want the current time", got, err)
	}
	first, second := read(t, fsys, "stats.txt"), read(t, fsys, "stats.txt")
	if len(second) <= len(first) {
		t.Errorf("stats.txt is not recomputed: %q then %q", first, second)
	}
	fsys.SetStats(func() string { return "set later\n" })
	if got := read(t, fsys, "stats.txt"); got != "set later\n" {
		t.Errorf("after SetStats stats.txt = %q", got)
	}
	if got := read(t, fsys, "README.txt"); !strings.Contains(got, "Hello") {
		t.Errorf("README.txt = %q", got)
	}
}

func TestInboxCallback(t *testing.T) {
	ctx := context.Background()
	type received struct{ name, data string }
	var got []received
	fsys := newHello(t, hello.Config{Inbox: func(name string, data []byte) {
		got = append(got, received{name, string(data)})
	}})
	root, _ := fsys.Root(ctx)
	inbox, err := root.(vfs.Lookuper).Lookup(ctx, "inbox")
	if err != nil {
		t.Fatal(err)
	}
	_, h, err := inbox.(vfs.Creator).Create(ctx, "note.txt")
	if err != nil {
		t.Fatal(err)
	}
	h.(vfs.HandleWriter).WriteAt(ctx, []byte("hi there"), 0)
	h.(vfs.HandleWriter).WriteAt(ctx, []byte("HI"), 0)
	if len(got) != 0 {
		t.Errorf("callback ran before close: %v", got)
	}
	if err := h.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != (received{"note.txt", "HI there"}) {
		t.Errorf("callback got %v, want note.txt with HI there", got)
	}
	if s := read(t, fsys, "inbox/note.txt"); s != "HI there" {
		t.Errorf("received file reads %q", s)
	}
	if _, err := root.(vfs.Lookuper).Lookup(ctx, "files"); err == nil {
		t.Errorf("files/ exists without Config.Dir")
	}
}

func TestFilesFolder(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Real.txt"), []byte("real"), 0o644); err != nil {
		t.Fatal(err)
	}
	fsys := newHello(t, hello.Config{Dir: dir})
	if got := read(t, fsys, "files/real.TXT"); got != "real" {
		t.Errorf("files/real.TXT (case-insensitive) reads %q", got)
	}
}
