package queryfs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/smbvfs/smbvfs/backends/queryfs/index"
	"github.com/smbvfs/smbvfs/backends/queryfs/store"
)

// Demo generates a demo library of tracks files in dir/library (see
// index.Demo), indexes it into dir/index.db and serves it with the
// default views. An existing library and index in dir are reused (and
// brought up to date). Close the FS when done.
func Demo(ctx context.Context, dir string, tracks int) (*FS, error) {
	lib := filepath.Join(dir, "library")
	if _, err := os.Stat(lib); os.IsNotExist(err) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		tmp, err := os.MkdirTemp(dir, ".library-")
		if err != nil {
			return nil, err
		}
		if _, err := index.Demo(tmp, tracks, 1); err != nil {
			os.RemoveAll(tmp)
			return nil, fmt.Errorf("queryfs: demo library: %w", err)
		}
		if err := os.Rename(tmp, lib); err != nil {
			os.RemoveAll(tmp)
			return nil, err
		}
	}
	st, err := store.OpenSQLite(ctx, filepath.Join(dir, "index.db"))
	if err != nil {
		return nil, err
	}
	if _, err := index.Scan(ctx, st, lib, index.Options{}); err != nil {
		st.Close()
		return nil, fmt.Errorf("queryfs: demo index: %w", err)
	}
	f, err := New(ctx, st, Config{})
	if err != nil {
		st.Close()
		return nil, err
	}
	f.ownsSt = true
	return f, nil
}
