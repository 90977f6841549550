package vfstest

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/smbvfs/smbvfs/backends/vfs"
)

func testStreams(t *testing.T, s *suite) {
	_, dir := s.scratch(t)
	ctx := ctxT(t)
	f := create(t, dir, "f", []byte("main"))
	st, ok := f.(vfs.Streamer)
	if !ok {
		s.skip(t, "files are not Streamers")
	}
	h, err := st.CreateStream(ctx, "extra")
	s.skipUnsupported(t, err, "CreateStream")
	if err != nil {
		t.Fatalf("CreateStream: %v", err)
	}
	writeAt(t, h, "side data", 0)
	if err := h.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	_, err = st.CreateStream(ctx, "extra")
	wantErr(t, err, vfs.ErrExist, "CreateStream of an existing stream")
	_, err = st.OpenStream(ctx, "missing", vfs.OpenRead)
	wantErr(t, err, vfs.ErrNotExist, "OpenStream of a missing stream")
	infos, err := st.ListStreams(ctx)
	if err != nil {
		t.Fatalf("ListStreams: %v", err)
	}
	if len(infos) != 1 || infos[0].Name != "extra" || infos[0].Size != 9 {
		t.Errorf("ListStreams = %+v, want [extra, 9 bytes]", infos)
	}
	h, err = st.OpenStream(ctx, "extra", vfs.OpenRead|vfs.OpenWrite)
	if err != nil {
		t.Fatalf("OpenStream: %v", err)
	}
	writeAt(t, h, "S", 0)
	if got := readAll(t, h); string(got) != "Side data" {
		t.Errorf("stream reads %q", got)
	}
	h.Close(ctx)
	if got := contents(t, f); string(got) != "main" {
		t.Errorf("writing a stream changed the main data to %q", got)
	}
	if err := st.RemoveStream(ctx, "extra"); err != nil {
		t.Fatalf("RemoveStream: %v", err)
	}
	wantErr(t, st.RemoveStream(ctx, "extra"), vfs.ErrNotExist, "second RemoveStream")
	if infos, err := st.ListStreams(ctx); err != nil || len(infos) != 0 {
		t.Errorf("after removal ListStreams = %+v, %v", infos, err)
	}
}

func testXattrs(t *testing.T, s *suite) {
	_, dir := s.scratch(t)
	ctx := ctxT(t)
	f := create(t, dir, "f", nil)
	x, ok := f.(vfs.Xattrer)
	if !ok {
		s.skip(t, "files are not Xattrers")
	}
	err := x.SetXattr(ctx, "color", []byte("blue"))
	s.skipUnsupported(t, err, "SetXattr")
	if err != nil {
		t.Fatalf("SetXattr: %v", err)
	}
	if err := x.SetXattr(ctx, "empty", nil); err != nil {
		t.Fatalf("SetXattr(empty): %v", err)
	}
	if v, err := x.GetXattr(ctx, "color"); err != nil || string(v) != "blue" {
		t.Errorf("GetXattr = %q, %v", v, err)
	}
	if v, err := x.GetXattr(ctx, "empty"); err != nil || len(v) != 0 {
		t.Errorf("GetXattr(empty) = %q, %v", v, err)
	}
	_, err = x.GetXattr(ctx, "missing")
	wantErr(t, err, vfs.ErrNotExist, "GetXattr of a missing name")
	list, err := x.ListXattrs(ctx)
	slices.Sort(list)
	if err != nil || !slices.Equal(list, []string{"color", "empty"}) {
		t.Errorf("ListXattrs = %q, %v", list, err)
	}
	if err := x.SetXattr(ctx, "color", []byte("green")); err != nil {
		t.Fatalf("SetXattr(replace): %v", err)
	}
	if v, _ := x.GetXattr(ctx, "color"); string(v) != "green" {
		t.Errorf("replaced value reads %q", v)
	}
	if err := x.RemoveXattr(ctx, "color"); err != nil {
		t.Fatalf("RemoveXattr: %v", err)
	}
	wantErr(t, x.RemoveXattr(ctx, "color"), vfs.ErrNotExist, "second RemoveXattr")
	if list, _ := x.ListXattrs(ctx); !slices.Equal(list, []string{"empty"}) {
		t.Errorf("after removal ListXattrs = %q", list)
	}
}

func testSecurity(t *testing.T, s *suite) {
	_, dir := s.scratch(t)
	ctx := ctxT(t)
	f := create(t, dir, "f", nil)
	sec, ok := f.(vfs.Securer)
	if !ok {
		s.skip(t, "files are not Securers")
	}
	sd := []byte{1, 0, 4, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	err := sec.SetSecurity(ctx, sd)
	s.skipUnsupported(t, err, "SetSecurity")
	if err != nil {
		t.Fatalf("SetSecurity: %v", err)
	}
	got, err := sec.GetSecurity(ctx)
	if err != nil || !bytes.Equal(got, sd) {
		t.Errorf("GetSecurity = %x, %v; want %x", got, err, sd)
	}
	sd[4] = 9 // the backend keeps its own copy
	if got, _ := sec.GetSecurity(ctx); got[4] != 0 {
		t.Errorf("backend kept the caller's slice")
	}
}

func testVolume(t *testing.T, s *suite) {
	fsys := s.newFS(t)
	v, ok := fsys.(vfs.VolumeStater)
	if !ok {
		s.skip(t, "FS is not a VolumeStater")
	}
	info, err := v.StatVolume(ctxT(t))
	if err != nil {
		t.Fatalf("StatVolume: %v", err)
	}
	if info.FreeBytes > info.TotalBytes {
		t.Errorf("free %d > total %d", info.FreeBytes, info.TotalBytes)
	}
	if s.cfg.readOnly && !info.ReadOnly {
		t.Logf("read-only FS does not report VolumeInfo.ReadOnly")
	}
	t.Logf("volume: %+v", info)
}

// testWatch checks that the changes the suite makes are reported.
func testWatch(t *testing.T, s *suite) {
	fsys, dir := s.scratch(t)
	w, ok := fsys.(vfs.Watcher)
	if !ok {
		s.skip(t, "FS is not a Watcher")
	}
	ctx, cancel := context.WithCancel(ctxT(t))
	defer cancel()
	var mu sync.Mutex
	var got []vfs.Change
	err := w.Watch(ctx, func(c vfs.Change) {
		mu.Lock()
		got = append(got, c)
		mu.Unlock()
	})
	s.skipUnsupported(t, err, "Watch")
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	prefix := s.cfg.scratch
	if prefix != "" {
		prefix += "/"
	}
	// wait polls for a change matching want.
	wait := func(what string, match func(vfs.Change) bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			mu.Lock()
			for _, c := range got {
				if match(c) {
					mu.Unlock()
					return
				}
			}
			mu.Unlock()
			time.Sleep(5 * time.Millisecond)
		}
		mu.Lock()
		defer mu.Unlock()
		t.Errorf("no change reported for %s; got %+v", what, got)
	}
	id := attr(t, create(t, dir, "w.txt", []byte("data"))).ID
	wait("Create", func(c vfs.Change) bool {
		return c.Op == vfs.ChangeAdded && c.Path == prefix+"w.txt" && c.ID == id
	})
	wait("WriteAt", func(c vfs.Change) bool {
		return c.Op == vfs.ChangeModified && c.Path == prefix+"w.txt" && c.What&vfs.WhatData != 0
	})
	if r, ok := dir.(vfs.Renamer); ok {
		if err := r.Rename(ctxT(t), "w.txt", dir, "w2.txt", false); err != nil {
			t.Fatalf("Rename: %v", err)
		}
		wait("Rename", func(c vfs.Change) bool {
			return c.Op == vfs.ChangeRenamed && c.Path == prefix+"w2.txt" && c.OldPath == prefix+"w.txt" && c.ID == id
		})
		if rm, ok := dir.(vfs.Remover); ok {
			if err := rm.Remove(ctxT(t), "w2.txt"); err != nil {
				t.Fatalf("Remove: %v", err)
			}
			wait("Remove", func(c vfs.Change) bool {
				return c.Op == vfs.ChangeRemoved && c.Path == prefix+"w2.txt"
			})
		}
	}
	if m, ok := dir.(vfs.Mkdirer); ok {
		if _, err := m.Mkdir(ctxT(t), "wd"); err != nil {
			t.Fatalf("Mkdir: %v", err)
		}
		wait("Mkdir", func(c vfs.Change) bool {
			return c.Op == vfs.ChangeAdded && c.Path == prefix+"wd" && c.Dir
		})
	}
	cancel()
	time.Sleep(50 * time.Millisecond) // let the backend see the end of the watch
	mu.Lock()
	n := len(got)
	mu.Unlock()
	create(t, dir, "after-cancel", nil)
	time.Sleep(50 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if len(got) != n {
		t.Errorf("changes reported after the watch ended: %+v", got[n:])
	}
}
