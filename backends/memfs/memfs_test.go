package memfs_test

import (
	"testing"

	"github.com/smbvfs/smbvfs/backends/memfs"
	"github.com/smbvfs/smbvfs/backends/vfs"
	"github.com/smbvfs/smbvfs/backends/vfs/vfstest"
)

func TestConformance(t *testing.T) {
	vfstest.Run(t, func(t *testing.T) vfs.FS { return memfs.New(memfs.Options{Label: "TEST"}) })
}

func TestConformanceCaseInsensitive(t *testing.T) {
	vfstest.Run(t, func(t *testing.T) vfs.FS {
		return memfs.New(memfs.Options{CaseInsensitive: true})
	}, vfstest.ManyEntries(300))
}
