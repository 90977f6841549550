// Package hello is the example share, and the file to copy when writing a
// backend. It mixes the three kinds of files a share usually has:
//
//	README.txt   a constant file
//	now.txt      computed when read: the current time
//	stats.txt    computed when read: whatever the Stats callback returns
//	inbox/       a writable folder: each file written there is handed to
//	             the Inbox callback when it is closed
//	files/       (optional) a real directory, served by passthrough
//
// Everything but inbox/ and files/ is read-only. The read-only parts take
// a few lines thanks to the helpers of package vfs; inbox.go shows how to
// implement the writable interfaces by hand.
package hello

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/smbvfs/smbvfs/backends/passthrough"
	"github.com/smbvfs/smbvfs/backends/vfs"
)

// Config says where the share gets its content. Every field is optional.
type Config struct {
	// Dir is a local directory shown as files/.
	Dir string
	// Stats returns the content of stats.txt, e.g. the server's counters.
	Stats func() string
	// Inbox receives each file written in inbox/, when its writer closes it.
	Inbox func(name string, data []byte)
}

// FS is the hello share. Close it when done.
type FS struct {
	root  vfs.Node
	files *passthrough.FS // nil without Config.Dir
	stats atomic.Pointer[func() string]
}

// New builds the share.
func New(cfg Config) (*FS, error) {
	f := &FS{}
	f.SetStats(cfg.Stats)
	children := []vfs.Child{
		{Name: "README.txt", Node: vfs.BytesFile([]byte("Hello from smbvfs!\n"))},
		// FuncFile computes the content each time the file is opened.
		{Name: "now.txt", Node: vfs.FuncFile(func(context.Context) ([]byte, error) {
			return fmt.Appendf(nil, "%s\n", time.Now().Format(time.RFC3339)), nil
		})},
		{Name: "stats.txt", Node: vfs.FuncFile(func(context.Context) ([]byte, error) {
			return []byte((*f.stats.Load())()), nil
		})},
		{Name: "inbox", Node: newInbox(cfg.Inbox)},
	}
	if cfg.Dir != "" {
		files, err := passthrough.New(cfg.Dir, passthrough.Options{CaseInsensitive: true})
		if err != nil {
			return nil, err
		}
		dir, err := files.Root(context.Background())
		if err != nil {
			files.Close()
			return nil, err
		}
		f.files = files
		children = append(children, vfs.Child{Name: "files", Node: dir})
	}
	f.root = vfs.NewDir(children...)
	return f, nil
}

// SetStats replaces the function that computes stats.txt; the server can
// call it once its counters exist. nil shows a placeholder.
func (f *FS) SetStats(stats func() string) {
	if stats == nil {
		stats = func() string { return "no statistics\n" }
	}
	f.stats.Store(&stats)
}

// Root returns the top directory.
func (f *FS) Root(context.Context) (vfs.Node, error) { return f.root, nil }

// Close releases files/.
func (f *FS) Close() error {
	if f.files != nil {
		return f.files.Close()
	}
	return nil
}

var _ vfs.FS = (*FS)(nil)
