package interop

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	smb2 "github.com/cloudsoda/go-smb2"
)

// dialGoSMB2 logs alice on with go-smb2 and mounts share; both end with the test.
func dialGoSMB2(t testing.TB, srv *testServer, share string) *smb2.Share {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	dialer := &smb2.Dialer{Initiator: &smb2.NTLMInitiator{User: user1, Password: pass1}}
	sess, err := dialer.DialConn(ctx, conn, srv.Addr())
	if err != nil {
		conn.Close()
		t.Fatalf("go-smb2 session: %v", err)
	}
	t.Cleanup(func() { sess.Logoff() })
	fsys, err := sess.Mount(share)
	if err != nil {
		t.Fatalf("go-smb2 mount %s: %v", share, err)
	}
	t.Cleanup(func() { fsys.Umount() })
	return fsys
}

// TestGoSMB2Concurrent drives the server from 16 goroutines with go-smb2: half of them
// share one session (requests multiplexed on one connection), the others have a session
// each. Each goroutine creates, writes, seeks, reads back, stats, lists, renames and
// removes files of its own directory, and lists the common root.
func TestGoSMB2Concurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("interop test (-short)")
	}
	srv := startServer(t, nil)
	for _, share := range []string{shareMem, sharePass} {
		t.Run(share, func(t *testing.T) {
			shared := dialGoSMB2(t, srv, share)
			const workers = 16
			fss := make([]*smb2.Share, workers)
			for i := range fss {
				if i%2 == 0 {
					fss[i] = shared
				} else {
					fss[i] = dialGoSMB2(t, srv, share)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*clientTimeout)
			defer cancel()
			var wg sync.WaitGroup
			errc := make(chan error, workers)
			for i := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := goSMB2Worker(fss[i].WithContext(ctx), i); err != nil {
						errc <- fmt.Errorf("worker %d: %w", i, err)
					}
				}()
			}
			wg.Wait()
			close(errc)
			for err := range errc {
				t.Error(err)
			}
			// Everything the workers made is gone again.
			left, err := shared.ReadDir(".")
			if err != nil {
				t.Fatal(err)
			}
			if len(left) != 0 {
				var names []string
				for _, fi := range left {
					names = append(names, fi.Name())
				}
				t.Errorf("left over: %v", names)
			}
		})
	}
}

const rounds = 2 // files per worker

func goSMB2Worker(fsys *smb2.Share, id int) error {
	dir := fmt.Sprintf("w%02d", id)
	if err := fsys.Mkdir(dir, 0o755); err != nil {
		return fmt.Errorf("mkdir: %w", err)
	}
	rng := rand.New(rand.NewPCG(uint64(id), 1))
	for round := range rounds {
		name := fmt.Sprintf(`%s\f%d.bin`, dir, round)
		size := 1<<20 + rng.IntN(1<<20) // > 1 MiB: several READs and WRITEs
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		f, err := fsys.Create(name)
		if err != nil {
			return fmt.Errorf("create: %w", err)
		}
		// Write in uneven pieces.
		for off := 0; off < size; {
			n := min(size-off, 1+rng.IntN(300<<10))
			if _, err := f.Write(data[off : off+n]); err != nil {
				f.Close()
				return fmt.Errorf("write: %w", err)
			}
			off += n
		}
		// Seek and overwrite a piece, then read everything back.
		at := int64(rng.IntN(size - 100))
		if _, err := f.Seek(at, io.SeekStart); err != nil {
			f.Close()
			return fmt.Errorf("seek: %w", err)
		}
		patch := []byte(fmt.Sprintf("worker %02d round %d", id, round))
		if _, err := f.Write(patch); err != nil {
			f.Close()
			return fmt.Errorf("write at %d: %w", at, err)
		}
		copy(data[at:], patch)
		if pos, err := f.Seek(0, io.SeekCurrent); err != nil || pos != at+int64(len(patch)) {
			f.Close()
			return fmt.Errorf("seek current: %d %v", pos, err)
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			f.Close()
			return fmt.Errorf("seek start: %w", err)
		}
		back, err := io.ReadAll(f)
		if err != nil {
			f.Close()
			return fmt.Errorf("read: %w", err)
		}
		if !bytes.Equal(back, data) {
			f.Close()
			return fmt.Errorf("read back %d bytes differ from the %d written", len(back), len(data))
		}
		part := make([]byte, 4096)
		off := int64(rng.IntN(size - len(part)))
		if _, err := f.ReadAt(part, off); err != nil || !bytes.Equal(part, data[off:off+int64(len(part))]) {
			f.Close()
			return fmt.Errorf("read at %d: %v", off, err)
		}
		if end, err := f.Seek(0, io.SeekEnd); err != nil || end != int64(size) {
			f.Close()
			return fmt.Errorf("seek end: %d %v", end, err)
		}
		fi, err := f.Stat()
		if err != nil || fi.Size() != int64(size) || fi.IsDir() {
			f.Close()
			return fmt.Errorf("stat open file: %v %v", fi, err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("close: %w", err)
		}
		fi, err = fsys.Stat(name)
		if err != nil || fi.Size() != int64(size) || time.Since(fi.ModTime()) > time.Hour {
			return fmt.Errorf("stat: %v %v", fi, err)
		}
		// Rename, then the old name is gone.
		renamed := fmt.Sprintf(`%s\r%d.bin`, dir, round)
		if err := fsys.Rename(name, renamed); err != nil {
			return fmt.Errorf("rename: %w", err)
		}
		if _, err := fsys.Stat(name); !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("stat after rename: %v", err)
		}
		got, err := fsys.ReadFile(renamed)
		if err != nil || !bytes.Equal(got, data) {
			return fmt.Errorf("read renamed: %v", err)
		}
		// Listings: our directory, and the root everybody changes.
		ents, err := fsys.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("readdir: %w", err)
		}
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		want := []string{}
		for r := range round + 1 {
			want = append(want, fmt.Sprintf("r%d.bin", r))
		}
		slices.Sort(names)
		if !slices.Equal(names, want) {
			return fmt.Errorf("readdir %s: %v, want %v", dir, names, want)
		}
		root, err := fsys.ReadDir(".")
		if err != nil {
			return fmt.Errorf("readdir root: %w", err)
		}
		if !slices.ContainsFunc(root, func(fi os.FileInfo) bool { return fi.Name() == dir && fi.IsDir() }) {
			return fmt.Errorf("root listing without %s", dir)
		}
	}
	for round := range rounds {
		if err := fsys.Remove(fmt.Sprintf(`%s\r%d.bin`, dir, round)); err != nil {
			return fmt.Errorf("remove: %w", err)
		}
	}
	if err := fsys.Remove(dir); err != nil {
		return fmt.Errorf("remove dir: %w", err)
	}
	if _, err := fsys.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("stat removed dir: %v", err)
	}
	return nil
}
