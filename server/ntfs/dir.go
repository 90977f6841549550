package ntfs

import (
	"context"
	"encoding/binary"
	"strings"

	"github.com/smbvfs/smbvfs/backends/vfs"
	"github.com/smbvfs/smbvfs/protocol/dtyp"
	"github.com/smbvfs/smbvfs/protocol/fscc"
	"github.com/smbvfs/smbvfs/protocol/ntstatus"
	"github.com/smbvfs/smbvfs/protocol/smb2"
	"github.com/smbvfs/smbvfs/protocol/utf16"
)

// dirPage is how many entries a QUERY_DIRECTORY asks the backend for at a time. Only
// one page is held between calls, whatever the size of the directory.
const dirPage = 256

// dirEnum is the enumeration state of a directory open.
type dirEnum struct {
	m       *matcher
	pattern string
	dots    int // "." and ".." already returned (0, 1 or 2)
	cookie  uint64
	page    []vfs.DirEntry // fetched from the backend, not yet returned
	eof     bool           // the backend listing is exhausted
	found   bool           // an entry was returned since the scan (re)started
	single  bool           // a pattern without wildcards: one lookup instead of a scan
	name16  []byte         // scratch
}

func (e *dirEnum) restart(pattern string) {
	e.pattern = pattern
	if e.m == nil {
		e.m = newMatcher(pattern)
	} else {
		e.m.set(pattern)
	}
	e.dots, e.cookie, e.page, e.eof, e.found = 0, 0, e.page[:0], false, false
	e.single = pattern != "" && !strings.ContainsAny(pattern, "*?<>\"") && pattern != "." && pattern != ".."
}

// dirClassFixed is the size of the fixed part of each directory information class.
var dirClassFixed = map[fscc.FileInformationClass]int{
	fscc.ClassFileDirectoryInformation:              64,
	fscc.ClassFileFullDirectoryInformation:          68,
	fscc.ClassFileBothDirectoryInformation:          94,
	fscc.ClassFileNamesInformation:                  12,
	fscc.ClassFileIdBothDirectoryInformation:        104,
	fscc.ClassFileIdFullDirectoryInformation:        80,
	fscc.ClassFileIdExtdDirectoryInformation:        88,
	fscc.ClassFileId64ExtdDirectoryInformation:      80,
	fscc.ClassFileId64ExtdBothDirectoryInformation:  106,
	fscc.ClassFileIdAllExtdDirectoryInformation:     96,
	fscc.ClassFileIdAllExtdBothDirectoryInformation: 122,
}

// QueryDirectory implements SMB2 QUERY_DIRECTORY (MS-SMB2 3.3.5.18): every directory
// information class of MS-FSCC 2.4, NT and DOS wildcards, RESTART_SCANS, REOPEN,
// RETURN_SINGLE_ENTRY (INDEX_SPECIFIED is accepted and ignored, as NTFS does). The
// listing streams from the backend a page at a time, resuming from its cookies; "." and
// ".." come first, for the share root too.
func (t *Tree) QueryDirectory(r *Req, req *smb2.QueryDirectoryRequest, resp *smb2.QueryDirectoryResponse) ntstatus.Status {
	r.reset()
	ctx := r.ctx()
	o := t.get(req.FileId)
	if o == nil {
		return ntstatus.StatusFileClosed
	}
	if !o.isDir {
		return ntstatus.StatusInvalidParameter
	}
	if o.access&dtyp.FileReadData == 0 {
		return ntstatus.StatusAccessDenied
	}
	fixed, ok := dirClassFixed[req.FileInformationClass]
	if !ok {
		return ntstatus.StatusInvalidInfoClass
	}
	if r.MaxTransact > 0 && int64(req.OutputBufferLength) > int64(r.MaxTransact) {
		return ntstatus.StatusInvalidParameter
	}
	if int(req.OutputBufferLength) < fixed {
		return ntstatus.StatusInfoLengthMismatch
	}
	if len(req.FileName)%2 != 0 {
		return ntstatus.StatusInvalidParameter
	}
	pattern := req.FileName.String()
	if strings.ContainsAny(pattern, "\\/:\x00") {
		return ntstatus.StatusObjectNameInvalid
	}
	if pattern == "" {
		pattern = "*"
	}
	e := o.enum
	switch {
	case e == nil:
		e = &dirEnum{}
		e.restart(pattern)
		o.enum = e
	case req.Flags&(smb2.QueryDirectoryRestartScans|smb2.QueryDirectoryReopen) != 0:
		if len(req.FileName) == 0 {
			pattern = e.pattern
		}
		e.restart(pattern)
	}
	max := int(req.OutputBufferLength)
	single := req.Flags.Has(smb2.QueryDirectoryReturnSingleEntry)

	var out []byte
	if cap(r.Buf) >= min(max, 64<<10) {
		out = r.Buf[:0]
	}
	prev := -1
	count := 0
	overflow := false
	// emit encodes one entry; it reports false when the entry does not fit.
	emit := func(name string, a vfs.Attr) bool {
		a = t.s.wtListed(a) // writetime.go
		before := len(out)
		start := (before + 7) &^ 7
		if start+fixed+2*len(name) > max && count > 0 {
			return false
		}
		for len(out) < start {
			out = append(out, 0)
		}
		e.name16 = utf16.Append(e.name16[:0], name)
		out = appendDirEntry(out, req.FileInformationClass, e.name16, a)
		if len(out) > max {
			if count > 0 {
				out = out[:before]
				return false
			}
			// Not even one entry fits: return what fits, as the object store does.
			out = out[:max]
			overflow = true
		}
		if prev >= 0 {
			binary.LittleEndian.PutUint32(out[prev:], uint32(start-prev))
		}
		prev = start
		count++
		e.found = true
		return true
	}

	var st ntstatus.Status
	if e.single {
		st = t.listSingle(ctx, o, e, emit)
	} else {
		st = t.listScan(ctx, o, e, emit, single)
	}
	if st != ntstatus.StatusSuccess {
		return st
	}
	if count == 0 {
		if !e.found {
			return ntstatus.StatusNoSuchFile
		}
		return ntstatus.StatusNoMoreFiles
	}
	*resp = smb2.QueryDirectoryResponse{OutputBuffer: out}
	if overflow {
		return ntstatus.StatusBufferOverflow
	}
	return ntstatus.StatusSuccess
}

// listSingle answers a pattern without wildcards with one case-insensitive lookup.
func (t *Tree) listSingle(ctx context.Context, o *open, e *dirEnum, emit func(string, vfs.Attr) bool) ntstatus.Status {
	if e.eof {
		return ntstatus.StatusSuccess
	}
	dir, err := t.s.nodeOf(ctx, o.f)
	if err != nil {
		return errStatus(err)
	}
	e.eof = true
	child, stored, err := lookupFold(ctx, dir, e.pattern)
	if err != nil {
		return ntstatus.StatusSuccess // nothing matches
	}
	a, err := child.Attr(ctx)
	if err != nil {
		return ntstatus.StatusSuccess
	}
	if !emit(stored, a) {
		e.eof = false
	}
	return ntstatus.StatusSuccess
}

// listScan walks "." and "..", then the backend listing a page at a time.
func (t *Tree) listScan(ctx context.Context, o *open, e *dirEnum, emit func(string, vfs.Attr) bool, single bool) ntstatus.Status {
	for e.dots < 2 {
		name := "."
		if e.dots == 1 {
			name = ".."
		}
		if e.m.match(name) {
			a, err := t.dotAttr(ctx, o, e.dots == 1)
			if err != nil {
				return errStatus(err)
			}
			if !emit(name, a) {
				return ntstatus.StatusSuccess
			}
			e.dots++
			if single {
				return ntstatus.StatusSuccess
			}
			continue
		}
		e.dots++
	}
	var dr vfs.DirReader
	for {
		if len(e.page) == 0 {
			if e.eof {
				return ntstatus.StatusSuccess
			}
			if dr == nil {
				dir, err := t.s.nodeOf(ctx, o.f)
				if err != nil {
					return errStatus(err)
				}
				var ok bool
				if dr, ok = dir.(vfs.DirReader); !ok {
					e.eof = true
					return ntstatus.StatusSuccess
				}
			}
			page, err := dr.ReadDir(ctx, e.cookie, dirPage)
			if err != nil {
				return errStatus(err)
			}
			if len(page) == 0 {
				e.eof = true
				return ntstatus.StatusSuccess
			}
			e.page = page
		}
		for len(e.page) > 0 {
			ent := &e.page[0]
			if e.m.match(ent.Name) {
				if !emit(ent.Name, ent.Attr) {
					return ntstatus.StatusSuccess
				}
				e.cookie = ent.Cookie
				e.page = e.page[1:]
				if single {
					return ntstatus.StatusSuccess
				}
				continue
			}
			e.cookie = ent.Cookie
			e.page = e.page[1:]
		}
	}
}

// dotAttr is the attributes of "." (the directory) or ".." (its parent; the root's
// parent is the root itself).
func (t *Tree) dotAttr(ctx context.Context, o *open, parent bool) (vfs.Attr, error) {
	if !parent {
		return t.attrOf(ctx, o)
	}
	t.s.mu.Lock()
	root := len(o.f.path) == 0
	t.s.mu.Unlock()
	if root {
		return t.attrOf(ctx, o)
	}
	p, _, err := t.s.parentOf(ctx, o.f)
	if err != nil {
		return vfs.Attr{}, err
	}
	return p.Attr(ctx)
}

// appendDirEntry appends one entry of class, NextEntryOffset 0.
func appendDirEntry(b []byte, class fscc.FileInformationClass, name utf16.Text, a vfs.Attr) []byte {
	ct, at, wt, cht := toFiletime(a.Created), toFiletime(a.Accessed), toFiletime(a.Modified), toFiletime(a.Changed)
	eof, alloc := uint64(a.Size), allocSize(a)
	if a.IsDir() {
		eof, alloc = 0, 0
	}
	attrs := toAttributes(a.DOS)
	var id128 fscc.FileId128
	binary.LittleEndian.PutUint64(id128[:], a.ID)
	var err error
	switch class {
	case fscc.ClassFileDirectoryInformation:
		e := fscc.FileDirectoryInformation{CreationTime: ct, LastAccessTime: at, LastWriteTime: wt, ChangeTime: cht,
			EndOfFile: eof, AllocationSize: alloc, FileAttributes: attrs, FileName: name}
		b, err = e.Append(b)
	case fscc.ClassFileFullDirectoryInformation:
		e := fscc.FileFullDirectoryInformation{CreationTime: ct, LastAccessTime: at, LastWriteTime: wt, ChangeTime: cht,
			EndOfFile: eof, AllocationSize: alloc, FileAttributes: attrs, FileName: name}
		b, err = e.Append(b)
	case fscc.ClassFileBothDirectoryInformation:
		e := fscc.FileBothDirectoryInformation{CreationTime: ct, LastAccessTime: at, LastWriteTime: wt, ChangeTime: cht,
			EndOfFile: eof, AllocationSize: alloc, FileAttributes: attrs, FileName: name}
		b, err = e.Append(b)
	case fscc.ClassFileNamesInformation:
		e := fscc.FileNamesInformation{FileName: name}
		b, err = e.Append(b)
	case fscc.ClassFileIdBothDirectoryInformation:
		e := fscc.FileIdBothDirectoryInformation{CreationTime: ct, LastAccessTime: at, LastWriteTime: wt, ChangeTime: cht,
			EndOfFile: eof, AllocationSize: alloc, FileAttributes: attrs, FileId: a.ID, FileName: name}
		b, err = e.Append(b)
	case fscc.ClassFileIdFullDirectoryInformation:
		e := fscc.FileIdFullDirectoryInformation{CreationTime: ct, LastAccessTime: at, LastWriteTime: wt, ChangeTime: cht,
			EndOfFile: eof, AllocationSize: alloc, FileAttributes: attrs, FileId: a.ID, FileName: name}
		b, err = e.Append(b)
	case fscc.ClassFileIdExtdDirectoryInformation:
		e := fscc.FileIdExtdDirectoryInformation{CreationTime: ct, LastAccessTime: at, LastWriteTime: wt, ChangeTime: cht,
			EndOfFile: eof, AllocationSize: alloc, FileAttributes: attrs, FileId: id128, FileName: name}
		b, err = e.Append(b)
	case fscc.ClassFileId64ExtdDirectoryInformation:
		e := fscc.FileId64ExtdDirectoryInformation{CreationTime: ct, LastAccessTime: at, LastWriteTime: wt, ChangeTime: cht,
			EndOfFile: eof, AllocationSize: alloc, FileAttributes: attrs, FileId: a.ID, FileName: name}
		b, err = e.Append(b)
	case fscc.ClassFileId64ExtdBothDirectoryInformation:
		e := fscc.FileId64ExtdBothDirectoryInformation{CreationTime: ct, LastAccessTime: at, LastWriteTime: wt, ChangeTime: cht,
			EndOfFile: eof, AllocationSize: alloc, FileAttributes: attrs, FileId: a.ID, FileName: name}
		b, err = e.Append(b)
	case fscc.ClassFileIdAllExtdDirectoryInformation:
		e := fscc.FileIdAllExtdDirectoryInformation{CreationTime: ct, LastAccessTime: at, LastWriteTime: wt, ChangeTime: cht,
			EndOfFile: eof, AllocationSize: alloc, FileAttributes: attrs, FileId: a.ID, FileId128: id128, FileName: name}
		b, err = e.Append(b)
	case fscc.ClassFileIdAllExtdBothDirectoryInformation:
		e := fscc.FileIdAllExtdBothDirectoryInformation{CreationTime: ct, LastAccessTime: at, LastWriteTime: wt, ChangeTime: cht,
			EndOfFile: eof, AllocationSize: alloc, FileAttributes: attrs, FileId: a.ID, FileId128: id128, FileName: name}
		b, err = e.Append(b)
	}
	if err != nil {
		panic("ntfs: directory entry encoding: " + err.Error())
	}
	return b
}
