package vfsmock_test

import (
	"context"
	"errors"
	"testing"

	"github.com/smbvfs/smbvfs/backends/vfs"
	"github.com/smbvfs/smbvfs/backends/vfs/vfsmock"
	"go.uber.org/mock/gomock"
)

// A static directory asks its children for their attributes when listed,
// and passes their failures on.
func TestDirListsMockChild(t *testing.T) {
	ctrl := gomock.NewController(t)
	child := vfsmock.NewMockNode(ctrl)
	gomock.InOrder(
		child.EXPECT().Attr(gomock.Any()).Return(vfs.Attr{ID: 42, Size: 7}, nil),
		child.EXPECT().Attr(gomock.Any()).Return(vfs.Attr{}, vfs.ErrStale),
	)
	dir := vfs.NewDir(vfs.Child{Name: "mocked", Node: child})
	ctx := context.Background()

	ents, err := dir.ReadDir(ctx, 0, 10)
	if err != nil || len(ents) != 1 || ents[0].Attr.ID != 42 || ents[0].Name != "mocked" {
		t.Fatalf("ReadDir = %+v, %v", ents, err)
	}
	if _, err := dir.ReadDir(ctx, 0, 10); !errors.Is(err, vfs.ErrStale) {
		t.Errorf("ReadDir with a failing child: %v, want ErrStale", err)
	}
}

// The typed mocks let a test script a backend, e.g. an FS whose root
// handle fails its reads.
func TestMockFSAndHandle(t *testing.T) {
	ctrl := gomock.NewController(t)
	ctx := context.Background()
	opener := vfsmock.NewMockOpener(ctrl)
	handle := vfsmock.NewMockHandle(ctrl)
	fsys := vfsmock.NewMockFS(ctrl)
	root := vfsmock.NewMockNode(ctrl)
	fsys.EXPECT().Root(gomock.Any()).Return(root, nil)
	opener.EXPECT().Open(gomock.Any(), vfs.OpenRead).Return(handle, nil)
	handle.EXPECT().ReadAt(gomock.Any(), gomock.Any(), int64(0)).
		DoAndReturn(func(_ context.Context, p []byte, _ int64) (int, error) {
			return copy(p, "abc"), errors.Join(vfs.ErrNoSpace)
		})
	handle.EXPECT().Close(gomock.Any()).Return(nil)

	var f vfs.FS = fsys
	if r, err := f.Root(ctx); err != nil || r != root {
		t.Fatalf("Root = %v, %v", r, err)
	}
	h, err := opener.Open(ctx, vfs.OpenRead)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8)
	n, err := h.ReadAt(ctx, buf, 0)
	if n != 3 || string(buf[:n]) != "abc" || !errors.Is(err, vfs.ErrNoSpace) {
		t.Errorf("ReadAt = %d %q, %v", n, buf[:n], err)
	}
	if err := h.Close(ctx); err != nil {
		t.Errorf("Close: %v", err)
	}
}
