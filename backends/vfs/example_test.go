package vfs_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/smbvfs/smbvfs/backends/vfs"
)

// squares is a read-only folder of n files, "1.txt" to "<n>.txt"; file k
// holds k², computed when it is read. Nothing is stored: listing a million
// files costs no memory.
type squares int

func (d squares) Attr(context.Context) (vfs.Attr, error) {
	return vfs.Attr{ID: 1, DOS: vfs.DOSDirectory | vfs.DOSReadOnly}, nil
}

func (d squares) Lookup(_ context.Context, name string) (vfs.Node, error) {
	k, err := strconv.Atoi(strings.TrimSuffix(name, ".txt"))
	if err != nil || k < 1 || k > int(d) || name != fmt.Sprintf("%d.txt", k) {
		return nil, vfs.ErrNotExist
	}
	return square(k), nil
}

// ReadDir uses k, the number in the file name, as the cookie.
func (d squares) ReadDir(ctx context.Context, cookie uint64, n int) ([]vfs.DirEntry, error) {
	var out []vfs.DirEntry
	for k := int(cookie) + 1; k <= int(d) && len(out) < n; k++ {
		a, _ := square(k).Attr(ctx)
		out = append(out, vfs.DirEntry{Name: fmt.Sprintf("%d.txt", k), Attr: a, Cookie: uint64(k)})
	}
	return out, nil
}

type square int

func (s square) content() []byte { return fmt.Appendf(nil, "%d\n", s*s) }

func (s square) Attr(context.Context) (vfs.Attr, error) {
	return vfs.Attr{ID: uint64(s) + 1, Size: int64(len(s.content())), DOS: vfs.DOSReadOnly}, nil
}

func (s square) Open(_ context.Context, flags vfs.OpenFlag) (vfs.Handle, error) {
	if flags&vfs.OpenWrite != 0 {
		return nil, vfs.ErrReadOnly
	}
	return text(s.content()), nil
}

// text is an open file: its content, fixed when it was opened.
type text []byte

func (t text) ReadAt(_ context.Context, p []byte, off int64) (int, error) {
	return vfs.ReadAt(t, p, off)
}
func (t text) Close(context.Context) error { return nil }

// A virtual backend: a folder whose files are computed when read.
func Example() {
	fsys := vfs.NewFS(squares(1_000_000))
	ctx := context.Background()
	root, _ := fsys.Root(ctx)

	page, _ := root.(vfs.DirReader).ReadDir(ctx, 0, 2)
	next, _ := root.(vfs.DirReader).ReadDir(ctx, page[1].Cookie, 1) // resume
	for _, e := range append(page, next...) {
		fmt.Println(e.Name, e.Attr.Size)
	}

	node, _ := root.(vfs.Lookuper).Lookup(ctx, "12.txt")
	h, _ := node.(vfs.Opener).Open(ctx, vfs.OpenRead)
	defer h.Close(ctx)
	buf := make([]byte, 16)
	n, _ := h.ReadAt(ctx, buf, 0)
	fmt.Printf("12.txt: %s", buf[:n])
	// Output:
	// 1.txt 2
	// 2.txt 2
	// 3.txt 2
	// 12.txt: 144
}

// The helpers build the same kind of tree without writing any node.
func Example_helpers() {
	hits := 0
	root := vfs.NewDir(
		vfs.Child{Name: "motd.txt", Node: vfs.BytesFile([]byte("welcome\n"))},
		vfs.Child{Name: "hits.txt", Node: vfs.FuncFile(func(context.Context) ([]byte, error) {
			hits++
			return fmt.Appendf(nil, "%d\n", hits), nil
		})},
	)
	ctx := context.Background()
	node, _ := root.Lookup(ctx, "hits.txt")
	for range 2 {
		h, _ := node.(vfs.Opener).Open(ctx, vfs.OpenRead)
		buf := make([]byte, 8)
		n, _ := h.ReadAt(ctx, buf, 0)
		fmt.Printf("%s", buf[:n])
		h.Close(ctx)
	}
	// Output:
	// 1
	// 2
}
