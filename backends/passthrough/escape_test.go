package passthrough_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/smbvfs/smbvfs/backends/passthrough"
	"github.com/smbvfs/smbvfs/backends/vfs"
)

// escapeLayout builds base/outside (a sentinel that must never be touched)
// beside base/share (the share), full of links that point out of it.
func escapeLayout(t *testing.T) (base, share string) {
	base = t.TempDir()
	outside := filepath.Join(base, "outside")
	share = filepath.Join(base, "share")
	must(t, os.MkdirAll(filepath.Join(outside, "sub"), 0o755))
	must(t, os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("secret"), 0o644))
	must(t, os.WriteFile(filepath.Join(outside, "sub", "deep.txt"), []byte("deep"), 0o644))
	must(t, os.MkdirAll(filepath.Join(share, "dir"), 0o755))
	must(t, os.WriteFile(filepath.Join(share, "inside.txt"), []byte("inside"), 0o644))
	must(t, os.WriteFile(filepath.Join(share, "swap"), []byte("swap"), 0o644))
	links := map[string]string{
		"link-etc":     "/etc",
		"link-passwd":  "/etc/passwd",
		"link-up":      "..",
		"link-outside": "../outside",
		"link-secret":  "../outside/secret.txt",
		"chain1":       "chain2",
		"chain2":       "chain3",
		"chain3":       "../outside",
		"chain-in":     "dir/../chain1",
		"loop1":        "loop2",
		"loop2":        "loop1",
		"dangling":     "../outside/new.txt",
		"dangling-dir": "../outside/newdir",
		"abs-inside":   filepath.Join(share, "inside.txt"),
		"dir/deep-up":  "../../outside",
		"dir/sub-rel":  "../link-outside/sub",
	}
	for name, target := range links {
		must(t, os.Symlink(target, filepath.Join(share, filepath.FromSlash(name))))
	}
	return base, share
}

// fileState is what must not change outside the share.
type fileState struct {
	mode fs.FileMode
	size int64
	mod  int64
	sum  [32]byte
}

// snapshot records every file beside the share (the share itself excluded).
func snapshot(t *testing.T, base string) map[string]fileState {
	t.Helper()
	out := make(map[string]fileState)
	err := filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(base, p)
		if rel == "share" {
			return filepath.SkipDir
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st := fileState{mode: fi.Mode(), size: fi.Size(), mod: fi.ModTime().UnixNano()}
		if fi.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			st.sum = sha256.Sum256(b)
		}
		out[rel] = st
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// refused reports whether err is one of the ways a hostile name is turned
// away.
func refused(err error) bool {
	for _, s := range []error{vfs.ErrInvalidName, vfs.ErrPermission, vfs.ErrNotExist, vfs.ErrExist, vfs.ErrInvalid, vfs.ErrStale} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

func TestEscapes(t *testing.T) {
	base, share := escapeLayout(t)
	before := snapshot(t, base)
	fsys, err := passthrough.New(share, passthrough.Options{})
	must(t, err)
	defer fsys.Close()
	other, err := passthrough.New(filepath.Join(base, "outside"), passthrough.Options{})
	must(t, err)
	defer other.Close()

	ctx := context.Background()
	rootNode, err := fsys.Root(ctx)
	must(t, err)
	root := rootNode.(interface {
		vfs.Node
		vfs.Lookuper
		vfs.Creator
		vfs.Mkdirer
		vfs.Renamer
		vfs.Linker
		vfs.Remover
		vfs.DirReader
	})
	inside, err := root.Lookup(ctx, "inside.txt")
	must(t, err)
	dir, err := root.Lookup(ctx, "dir")
	must(t, err)
	otherRoot, err := other.Root(ctx)
	must(t, err)
	secret, err := otherRoot.(vfs.Lookuper).Lookup(ctx, "secret.txt")
	must(t, err)

	hostileNames := []string{
		"..", "../x", "a/../../x", "../outside/secret.txt", "/etc/passwd", "/",
		`\..\`, `..\outside`, `a\..\..\x`, "x\x00y", "\x00", ".", "", "dir/../..",
		"CON", "nul", "aux.txt", "Com1", "LPT9.log", "CONIN$", "prn .txt", "evil.", "evil ",
		"link-etc", "link-passwd", "link-up", "link-outside", "link-secret",
		"chain1", "chain2", "chain3", "chain-in", "loop1", "dangling", "dangling-dir", "abs-inside",
	}
	for _, name := range hostileNames {
		t.Run(fmt.Sprintf("Lookup(%q)", name), func(t *testing.T) {
			if n, err := root.Lookup(ctx, name); !refused(err) {
				t.Errorf("Lookup(%q) = %v, %v; want it refused", name, n, err)
			}
			if n, _, err := root.(vfs.FoldLookuper).LookupFold(ctx, name); !refused(err) {
				t.Errorf("LookupFold(%q) = %v, %v; want it refused", name, n, err)
			}
		})
	}
	for _, name := range []string{"deep-up", "sub-rel"} {
		if n, err := dir.(vfs.Lookuper).Lookup(ctx, name); !refused(err) {
			t.Errorf("Lookup(dir/%q) = %v, %v; want it refused", name, n, err)
		}
	}

	createNames := append(slices.Clone(hostileNames), "../evil.txt", `..\evil.txt`, "/tmp/evil", "../outside/new.txt")
	for _, name := range createNames {
		t.Run(fmt.Sprintf("Create(%q)", name), func(t *testing.T) {
			if _, h, err := root.Create(ctx, name); !refused(err) {
				if h != nil {
					h.Close(ctx)
				}
				t.Errorf("Create(%q): %v; want it refused", name, err)
			}
			if _, err := root.Mkdir(ctx, name); !refused(err) {
				t.Errorf("Mkdir(%q): %v; want it refused", name, err)
			}
			if err := root.Link(ctx, inside, name); !refused(err) {
				t.Errorf("Link(inside.txt, %q): %v; want it refused", name, err)
			}
			if err := root.Rename(ctx, "inside.txt", root, name, true); !refused(err) {
				t.Errorf("Rename(inside.txt, %q): %v; want it refused", name, err)
			}
		})
	}

	t.Run("RenameFromOutside", func(t *testing.T) {
		for _, name := range []string{"../outside/secret.txt", "link-secret/..", `..\outside\secret.txt`} {
			if err := root.Rename(ctx, name, root, "stolen", false); !refused(err) {
				t.Errorf("Rename(%q, stolen): %v; want it refused", name, err)
			}
		}
	})
	t.Run("ForeignNodes", func(t *testing.T) {
		if err := root.Link(ctx, secret, "hardlink"); !errors.Is(err, vfs.ErrInvalid) {
			t.Errorf("Link to a node of another share: %v, want ErrInvalid", err)
		}
		if err := root.Rename(ctx, "inside.txt", otherRoot, "moved", false); !errors.Is(err, vfs.ErrInvalid) {
			t.Errorf("Rename into another share: %v, want ErrInvalid", err)
		}
		if err := otherRoot.(vfs.Renamer).Rename(ctx, "secret.txt", rootNode, "moved-in", false); !errors.Is(err, vfs.ErrInvalid) {
			t.Errorf("Rename from another share: %v, want ErrInvalid", err)
		}
	})
	t.Run("Listing", func(t *testing.T) {
		ents, err := root.ReadDir(ctx, 0, 1000)
		must(t, err)
		var got []string
		for _, e := range ents {
			got = append(got, e.Name)
		}
		slices.Sort(got)
		// Only the real entries and the one link that stays inside.
		want := []string{"dir", "inside.txt", "swap"}
		if !slices.Equal(got, want) {
			t.Errorf("root lists %q, want %q", got, want)
		}
		ents, err = dir.(vfs.DirReader).ReadDir(ctx, 0, 100)
		if err != nil || len(ents) != 0 {
			t.Errorf("dir lists %v, %v; want nothing", ents, err)
		}
	})
	t.Run("SwappedForLink", func(t *testing.T) {
		// A node looked up while it was a file, then replaced by a link
		// that points outside: nothing done through it may reach out.
		n, err := root.Lookup(ctx, "swap")
		must(t, err)
		must(t, os.Remove(filepath.Join(share, "swap")))
		must(t, os.Symlink("../outside/secret.txt", filepath.Join(share, "swap")))
		if h, err := n.(vfs.Opener).Open(ctx, vfs.OpenRead|vfs.OpenWrite); !refused(err) {
			if err == nil {
				h.Close(ctx)
			}
			t.Errorf("Open of a swapped node: %v; want it refused", err)
		}
		if _, err := n.Attr(ctx); !refused(err) {
			t.Errorf("Attr of a swapped node: %v; want it refused", err)
		}
		if err := n.(vfs.AttrSetter).SetAttr(ctx, vfs.AttrChange{Set: vfs.DOSReadOnly}); !refused(err) {
			t.Errorf("SetAttr of a swapped node: %v; want it refused", err)
		}
		if err := n.(vfs.Xattrer).SetXattr(ctx, "x", []byte("y")); !refused(err) && !errors.Is(err, vfs.ErrNotSupported) {
			t.Errorf("SetXattr of a swapped node: %v; want it refused", err)
		}
		if _, err := n.(vfs.Streamer).CreateStream(ctx, "s"); !refused(err) && !errors.Is(err, vfs.ErrNotSupported) {
			t.Errorf("CreateStream of a swapped node: %v; want it refused", err)
		}
		if err := root.Link(ctx, n, "swap-link"); !refused(err) {
			t.Errorf("Link of a swapped node: %v; want it refused", err)
		}
	})
	t.Run("HiddenEntriesUntouchable", func(t *testing.T) {
		// Entries the share hides cannot be removed or renamed either.
		for _, name := range []string{"link-secret", "link-outside", "link-up", "chain1", "loop1", "dangling", "link-etc"} {
			if err := root.Remove(ctx, name); !refused(err) {
				t.Errorf("Remove(%q): %v; want it refused", name, err)
			}
			if err := root.RemoveDir(ctx, name); !refused(err) {
				t.Errorf("RemoveDir(%q): %v; want it refused", name, err)
			}
			if err := root.Rename(ctx, name, dir, "moved", false); !refused(err) {
				t.Errorf("Rename(%q): %v; want it refused", name, err)
			}
		}
		if err := root.RemoveDir(ctx, "../outside/sub"); !refused(err) {
			t.Errorf("RemoveDir(../outside/sub): %v; want it refused", err)
		}
	})
	t.Run("RemoveInnerLink", func(t *testing.T) {
		// A link that stays inside is removed itself, not its target.
		must(t, os.Symlink("inside.txt", filepath.Join(share, "inner-link")))
		must(t, root.Remove(ctx, "inner-link"))
		if _, err := root.Lookup(ctx, "inside.txt"); err != nil {
			t.Errorf("removing a link removed its target: %v", err)
		}
	})

	after := snapshot(t, base)
	if !maps.Equal(before, after) {
		for k, v := range before {
			if after[k] != v {
				t.Errorf("outside the share %q changed: %+v -> %+v", k, v, after[k])
			}
		}
		for k := range after {
			if _, ok := before[k]; !ok {
				t.Errorf("outside the share %q appeared", k)
			}
		}
	}
	if _, err := os.Lstat("/tmp/evil"); err == nil {
		t.Errorf("/tmp/evil was created")
	}
}

func TestDeviceNamesHiddenFromListing(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"ok.txt", "aux.txt", "NUL", "trailing."} {
		must(t, os.WriteFile(filepath.Join(dir, name), nil, 0o644))
	}
	fsys, err := passthrough.New(dir, passthrough.Options{})
	must(t, err)
	defer fsys.Close()
	root, _ := fsys.Root(context.Background())
	ents, err := root.(vfs.DirReader).ReadDir(context.Background(), 0, 100)
	must(t, err)
	if len(ents) != 1 || ents[0].Name != "ok.txt" {
		t.Errorf("listing %v, want only ok.txt", ents)
	}
}
