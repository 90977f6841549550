package ntfs

import (
	"context"
	"errors"
	"strings"

	"github.com/smbvfs/smbvfs/backends/vfs"
	"github.com/smbvfs/smbvfs/protocol/dtyp"
	"github.com/smbvfs/smbvfs/protocol/fscc"
	"github.com/smbvfs/smbvfs/protocol/ntstatus"
	"github.com/smbvfs/smbvfs/protocol/smb2"
	"github.com/smbvfs/smbvfs/protocol/utf16"
)

// Fixed sizes of the settable file information classes.
var setClassFixed = map[fscc.FileInformationClass]int{
	fscc.ClassFileBasicInformation:           36,
	fscc.ClassFileRenameInformation:          20,
	fscc.ClassFileRenameInformationEx:        20,
	fscc.ClassFileLinkInformation:            20,
	fscc.ClassFileDispositionInformation:     1,
	fscc.ClassFileDispositionInformationEx:   4,
	fscc.ClassFilePositionInformation:        8,
	fscc.ClassFileFullEaInformation:          0,
	fscc.ClassFileModeInformation:            4,
	fscc.ClassFileAllocationInformation:      8,
	fscc.ClassFileEndOfFileInformation:       8,
	fscc.ClassFileValidDataLengthInformation: 8,
}

// SetInfo implements SMB2 SET_INFO (MS-SMB2 3.3.5.21).
func (t *Tree) SetInfo(r *Req, req *smb2.SetInfoRequest, resp *smb2.SetInfoResponse) ntstatus.Status {
	r.reset()
	ctx := r.ctx()
	o := t.get(req.FileId)
	if o == nil {
		return ntstatus.StatusFileClosed
	}
	*resp = smb2.SetInfoResponse{}
	switch req.InfoType {
	case smb2.InfoFile:
		class := fscc.FileInformationClass(req.FileInfoClass)
		fixed, ok := setClassFixed[class]
		if !ok {
			if knownFileClass(class) {
				return ntstatus.StatusNotSupported
			}
			return ntstatus.StatusInvalidInfoClass
		}
		if len(req.Buffer) < fixed {
			return ntstatus.StatusInfoLengthMismatch
		}
		return t.setFile(ctx, o, class, req.Buffer)
	case smb2.InfoSecurity:
		return t.setSecurity(ctx, o, req)
	case smb2.InfoFilesystem, smb2.InfoQuota:
		return ntstatus.StatusNotSupported
	}
	return ntstatus.StatusInvalidParameter
}

func (t *Tree) setFile(ctx context.Context, o *open, class fscc.FileInformationClass, buf []byte) ntstatus.Status {
	s := t.s
	switch class {
	case fscc.ClassFilePositionInformation:
		var pi fscc.FilePositionInformation
		if err := pi.Decode(buf); err != nil {
			return ntstatus.StatusInvalidParameter
		}
		if o.mode.Has(fscc.ModeNoIntermediateBuffering) && pi.CurrentByteOffset%512 != 0 {
			return ntstatus.StatusInvalidParameter
		}
		o.pos.Store(pi.CurrentByteOffset)
		return ntstatus.StatusSuccess
	case fscc.ClassFileModeInformation:
		var mi fscc.FileModeInformation
		if err := mi.Decode(buf); err != nil {
			return ntstatus.StatusInvalidParameter
		}
		const settable = fscc.ModeWriteThrough | fscc.ModeSequentialOnly | fscc.ModeSynchronousIoAlert | fscc.ModeSynchronousIoNonalert
		if mi.Mode&^settable != 0 || mi.Mode.Has(fscc.ModeSynchronousIoAlert|fscc.ModeSynchronousIoNonalert) {
			return ntstatus.StatusInvalidParameter
		}
		o.mode = o.mode&^settable | mi.Mode
		return ntstatus.StatusSuccess
	}
	if s.opt.ReadOnly {
		return ntstatus.StatusAccessDenied
	}
	switch class {
	case fscc.ClassFileBasicInformation:
		return t.setBasic(ctx, o, buf)
	case fscc.ClassFileRenameInformation:
		var ri fscc.FileRenameInformation
		if err := ri.Decode(buf); err != nil {
			return ntstatus.StatusInvalidParameter
		}
		return t.rename(ctx, o, ri.ReplaceIfExists != 0, ri.RootDirectory, ri.FileName)
	case fscc.ClassFileRenameInformationEx:
		var ri fscc.FileRenameInformationEx
		if err := ri.Decode(buf); err != nil {
			return ntstatus.StatusInvalidParameter
		}
		return t.rename(ctx, o, ri.Flags.Has(fscc.RenameReplaceIfExists), ri.RootDirectory, ri.FileName)
	case fscc.ClassFileLinkInformation:
		var li fscc.FileLinkInformation
		if err := li.Decode(buf); err != nil {
			return ntstatus.StatusInvalidParameter
		}
		return t.link(ctx, o, li.ReplaceIfExists != 0, li.RootDirectory, li.FileName)
	case fscc.ClassFileDispositionInformation:
		return t.setDisposition(ctx, o, buf[0]&1 != 0, false, false)
	case fscc.ClassFileDispositionInformationEx:
		var di fscc.FileDispositionInformationEx
		if err := di.Decode(buf); err != nil {
			return ntstatus.StatusInvalidParameter
		}
		del := di.Flags.Has(fscc.DispositionDelete)
		return t.setDisposition(ctx, o, del, di.Flags.Has(fscc.DispositionOnClose), di.Flags.Has(fscc.DispositionIgnoreReadonlyAttribute))
	case fscc.ClassFileFullEaInformation:
		if o.access&dtyp.FileWriteEa == 0 {
			return ntstatus.StatusAccessDenied
		}
		n, err := s.nodeOf(ctx, o.f)
		if err != nil {
			return errStatus(err)
		}
		return applyEAs(ctx, n, buf)
	case fscc.ClassFileEndOfFileInformation, fscc.ClassFileAllocationInformation:
		var size uint64
		if class == fscc.ClassFileEndOfFileInformation {
			var ei fscc.FileEndOfFileInformation
			if err := ei.Decode(buf); err != nil {
				return ntstatus.StatusInvalidParameter
			}
			size = ei.EndOfFile
		} else {
			var ai fscc.FileAllocationInformation
			if err := ai.Decode(buf); err != nil {
				return ntstatus.StatusInvalidParameter
			}
			size = ai.AllocationSize
		}
		if o.isDir {
			return ntstatus.StatusInvalidParameter
		}
		if o.access&dtyp.FileWriteData == 0 || o.h == nil {
			return ntstatus.StatusAccessDenied
		}
		if size > 1<<62 {
			return ntstatus.StatusInvalidParameter
		}
		s.breakLevelII(o) // oplock.go
		if class == fscc.ClassFileAllocationInformation {
			// Allocation only shrinks the data when it is below the end of file.
			a, err := t.attrOf(ctx, o)
			if err != nil {
				return errStatus(err)
			}
			if int64(size) >= a.Size {
				return ntstatus.StatusSuccess
			}
		}
		t.wtSetEOF(ctx, o) // writetime.go
		if err := truncate(ctx, o.h, int64(size)); err != nil {
			if errors.Is(err, vfs.ErrReadOnly) {
				return ntstatus.StatusAccessDenied
			}
			return errStatus(err)
		}
		return ntstatus.StatusSuccess
	case fscc.ClassFileValidDataLengthInformation:
		if o.access&dtyp.FileWriteData == 0 {
			return ntstatus.StatusAccessDenied
		}
		return ntstatus.StatusSuccess
	}
	return ntstatus.StatusInvalidInfoClass
}

// FILETIME values with a meaning in FileBasicInformation.
const (
	ftNoChange = dtyp.Filetime(0)
	ftSuspend  = dtyp.Filetime(0xFFFFFFFFFFFFFFFF) // -1: no change, and stop updating it
	ftResume   = dtyp.Filetime(0xFFFFFFFFFFFFFFFE) // -2: no change, resume updating
)

func settableTime(ft dtyp.Filetime) bool {
	return ft != ftNoChange && ft != ftSuspend && ft != ftResume
}

// setBasic applies FileBasicInformation: times other than 0, -1 and -2, and the
// attributes unless 0.
func (t *Tree) setBasic(ctx context.Context, o *open, buf []byte) ntstatus.Status {
	if o.access&dtyp.FileWriteAttributes == 0 {
		return ntstatus.StatusAccessDenied
	}
	var bi fscc.FileBasicInformation
	if len(buf) < 40 {
		buf = append(append([]byte(nil), buf...), make([]byte, 40-len(buf))...)
	}
	if err := bi.Decode(buf); err != nil {
		return ntstatus.StatusInvalidParameter
	}
	t.wtSetBasic(ctx, o, bi.LastWriteTime) // writetime.go
	var c vfs.AttrChange
	if settableTime(bi.CreationTime) {
		c.Created = fromFiletime(bi.CreationTime)
	}
	if settableTime(bi.LastAccessTime) {
		c.Accessed = fromFiletime(bi.LastAccessTime)
	}
	if settableTime(bi.LastWriteTime) {
		c.Modified = fromFiletime(bi.LastWriteTime)
	}
	if settableTime(bi.ChangeTime) {
		c.Changed = fromFiletime(bi.ChangeTime)
	}
	if fa := bi.FileAttributes; fa != 0 {
		if fa&^validAttributes != 0 {
			return ntstatus.StatusInvalidParameter
		}
		if fa&fscc.FileAttributeDirectory != 0 && !o.f.isDir {
			return ntstatus.StatusInvalidParameter
		}
		if fa&fscc.FileAttributeTemporary != 0 && o.f.isDir {
			return ntstatus.StatusInvalidParameter // a directory cannot be temporary (NTFS)
		}
		set := fromAttributes(fa) & settableAttributes
		c.Set, c.Clear = set, settableAttributes&^set
	}
	if c == (vfs.AttrChange{}) {
		return ntstatus.StatusSuccess
	}
	n, err := t.s.nodeOf(ctx, o.f)
	if err != nil {
		return errStatus(err)
	}
	as, ok := n.(vfs.AttrSetter)
	if !ok {
		return ntstatus.StatusSuccess // nothing can be stored: accepted and dropped
	}
	if err := as.SetAttr(ctx, c); err != nil && !errors.Is(err, vfs.ErrNotSupported) {
		return errStatus(err)
	}
	return ntstatus.StatusSuccess
}

// setDisposition marks the file (or stream) delete pending, or clears the mark.
// onClose sets delete-on-close on this open instead (FILE_DISPOSITION_ON_CLOSE).
func (t *Tree) setDisposition(ctx context.Context, o *open, del, onClose, ignoreRO bool) ntstatus.Status {
	s := t.s
	if o.access&dtyp.Delete == 0 {
		return ntstatus.StatusAccessDenied
	}
	if del {
		s.mu.Lock()
		root := len(o.f.path) == 0
		s.mu.Unlock()
		if root {
			return ntstatus.StatusCannotDelete
		}
		n, err := s.nodeOf(ctx, o.f)
		if err != nil {
			return errStatus(err)
		}
		a, err := n.Attr(ctx)
		if err != nil {
			return errStatus(err)
		}
		if a.DOS&vfs.DOSReadOnly != 0 && !ignoreRO && o.stream == "" {
			return ntstatus.StatusCannotDelete
		}
		if o.isDir {
			if dr, ok := n.(vfs.DirReader); ok {
				ents, err := dr.ReadDir(ctx, 0, 1)
				if err != nil {
					return errStatus(err)
				}
				if len(ents) > 0 {
					return ntstatus.StatusDirectoryNotEmpty
				}
			}
		}
		if o.stream == "" {
			parent, _, err := s.parentOf(ctx, o.f)
			if err != nil {
				return errStatus(err)
			}
			if _, ok := parent.(vfs.Remover); !ok {
				return ntstatus.StatusAccessDenied
			}
		}
	}
	if onClose {
		o.deleteOnClose = del
		return ntstatus.StatusSuccess
	}
	s.mu.Lock()
	if o.stream == "" {
		o.f.deletePending = del
	} else {
		if o.f.streamDelete == nil {
			o.f.streamDelete = make(map[string]bool)
		}
		o.f.streamDelete[o.skey] = del
	}
	if !del {
		o.deleteOnClose = false
	}
	s.mu.Unlock()
	return ntstatus.StatusSuccess
}

// target resolves the new name of a rename or link: a path from the share root.
func (t *Tree) target(ctx context.Context, root uint64, name utf16.Text) (walked, parsedName, ntstatus.Status) {
	if root != 0 || len(name) == 0 || len(name)%2 != 0 {
		return walked{}, parsedName{}, ntstatus.StatusInvalidParameter
	}
	str := name.String()
	if strings.HasPrefix(str, ":") {
		return walked{}, parsedName{}, ntstatus.StatusNotSupported // stream renames
	}
	pn, st := parseName(str, true)
	if st != ntstatus.StatusSuccess {
		return walked{}, pn, st
	}
	if pn.stream != "" || pn.dataType || len(pn.comps) == 0 {
		return walked{}, pn, ntstatus.StatusInvalidParameter
	}
	w, err := t.s.walk(ctx, pn.comps, false)
	if err != nil {
		return w, pn, errStatus(err)
	}
	return w, pn, ntstatus.StatusSuccess
}

// busy reports whether a file other than f with the given ID, or anything below the
// directory path, is open; call with Share.mu held.
func (s *Share) openBelow(path []string) bool {
	for _, f := range s.files {
		if len(f.opens) > 0 && len(f.path) > len(path) && hasPrefixFold(f.path, path) {
			return true
		}
	}
	return false
}

func hasPrefixFold(p, prefix []string) bool {
	if len(p) < len(prefix) {
		return false
	}
	for i := range prefix {
		if fold(p[i]) != fold(prefix[i]) {
			return false
		}
	}
	return true
}

// rename moves the open's file to a new path (FileRenameInformation).
func (t *Tree) rename(ctx context.Context, o *open, replace bool, root uint64, name utf16.Text) ntstatus.Status {
	s := t.s
	if o.access&dtyp.Delete == 0 {
		return ntstatus.StatusAccessDenied
	}
	if o.stream != "" {
		return ntstatus.StatusNotSupported
	}
	w, pn, st := t.target(ctx, root, name)
	if st != ntstatus.StatusSuccess {
		return st
	}
	srcParent, oldName, err := s.parentOf(ctx, o.f)
	if err != nil {
		if errors.Is(err, vfs.ErrPermission) {
			return ntstatus.StatusAccessDenied // the share root
		}
		return errStatus(err)
	}
	newName := pn.comps[len(pn.comps)-1]
	newPath := append(append([]string(nil), w.stored[:len(w.stored)-1]...), newName)
	if w.node != nil {
		a, err := w.node.Attr(ctx)
		if err != nil {
			return errStatus(err)
		}
		if a.ID != o.f.id {
			if !replace {
				return ntstatus.StatusObjectNameCollision
			}
			if a.IsDir() {
				return ntstatus.StatusAccessDenied
			}
			s.mu.Lock()
			tf := s.files[a.ID]
			busy := tf != nil && len(tf.opens) > 0
			s.mu.Unlock()
			if busy {
				return ntstatus.StatusAccessDenied
			}
		}
	}
	// Like Samba: an open of the destination directory that may delete it blocks
	// renames into it (smbtorture smb2.rename.*_delete_access).
	var dstParentID uint64
	if pa, err := w.parent.Attr(ctx); err == nil {
		dstParentID = pa.ID
	}
	s.mu.Lock()
	for _, x := range o.f.opens {
		if x != o && x.share&smb2.FileShareDelete == 0 {
			s.mu.Unlock()
			return ntstatus.StatusSharingViolation
		}
	}
	if pf := s.files[dstParentID]; pf != nil && pf != o.f {
		for _, x := range pf.opens {
			if x.access&dtyp.Delete != 0 {
				s.mu.Unlock()
				return ntstatus.StatusSharingViolation
			}
		}
	}
	oldPath := append([]string(nil), o.f.path...)
	if o.f.isDir && s.openBelow(oldPath) {
		s.mu.Unlock()
		return ntstatus.StatusAccessDenied
	}
	s.mu.Unlock()
	rn, ok := srcParent.(vfs.Renamer)
	if !ok {
		return ntstatus.StatusAccessDenied
	}
	if err := rn.Rename(ctx, oldName, w.parent, newName, replace); err != nil {
		if errors.Is(err, vfs.ErrInvalid) {
			return ntstatus.StatusInvalidParameter
		}
		return errStatus(err)
	}
	o.notifyRenamed.Store(true)
	s.mu.Lock()
	o.f.path, o.f.node = newPath, nil
	if o.f.isDir {
		for _, f := range s.files {
			if f != o.f && hasPrefixFold(f.path, oldPath) && len(f.path) > len(oldPath) {
				f.path = append(append([]string(nil), newPath...), f.path[len(oldPath):]...)
				f.node = nil
			}
		}
	}
	s.mu.Unlock()
	return ntstatus.StatusSuccess
}

// link gives the open's file another name (FileLinkInformation).
func (t *Tree) link(ctx context.Context, o *open, replace bool, root uint64, name utf16.Text) ntstatus.Status {
	s := t.s
	if o.isDir {
		return ntstatus.StatusFileIsADirectory
	}
	if o.stream != "" {
		return ntstatus.StatusInvalidParameter
	}
	w, pn, st := t.target(ctx, root, name)
	if st != ntstatus.StatusSuccess {
		return st
	}
	lk, ok := w.parent.(vfs.Linker)
	if !ok {
		return ntstatus.StatusNotSupported
	}
	newName := pn.comps[len(pn.comps)-1]
	if w.node != nil {
		a, err := w.node.Attr(ctx)
		if err != nil {
			return errStatus(err)
		}
		if !replace {
			return ntstatus.StatusObjectNameCollision
		}
		if a.ID == o.f.id {
			return ntstatus.StatusSuccess
		}
		if a.IsDir() {
			return ntstatus.StatusAccessDenied
		}
		s.mu.Lock()
		tf := s.files[a.ID]
		busy := tf != nil && len(tf.opens) > 0
		s.mu.Unlock()
		if busy {
			return ntstatus.StatusAccessDenied
		}
		rm, ok := w.parent.(vfs.Remover)
		if !ok {
			return ntstatus.StatusAccessDenied
		}
		if err := rm.Remove(ctx, w.stored[len(w.stored)-1]); err != nil {
			return errStatus(err)
		}
	}
	n, err := s.nodeOf(ctx, o.f)
	if err != nil {
		return errStatus(err)
	}
	if err := lk.Link(ctx, n, newName); err != nil {
		if errors.Is(err, vfs.ErrInvalid) {
			return ntstatus.StatusNotSameDevice
		}
		return errStatus(err)
	}
	return ntstatus.StatusSuccess
}

// setSecurity stores the parts of a security descriptor (MS-SMB2 3.3.5.21.3). A backend
// without Securer accepts and drops it, as a file system without ACLs does.
func (t *Tree) setSecurity(ctx context.Context, o *open, req *smb2.SetInfoRequest) ntstatus.Status {
	info := req.AdditionalInformation
	if info&(dtyp.OwnerSecurityInformation|dtyp.GroupSecurityInformation) != 0 && o.access&dtyp.WriteOwner == 0 {
		return ntstatus.StatusAccessDenied
	}
	if info&dtyp.DaclSecurityInformation != 0 && o.access&dtyp.WriteDac == 0 {
		return ntstatus.StatusAccessDenied
	}
	if info&dtyp.SaclSecurityInformation != 0 && o.access&dtyp.AccessSystemSecurity == 0 {
		return ntstatus.StatusPrivilegeNotHeld
	}
	if t.s.opt.ReadOnly {
		return ntstatus.StatusAccessDenied
	}
	n, err := t.s.nodeOf(ctx, o.f)
	if err != nil {
		return errStatus(err)
	}
	sec, ok := n.(vfs.Securer)
	if !ok {
		var sd dtyp.SecurityDescriptor
		if sd.Decode(req.Buffer) != nil {
			return ntstatus.StatusInvalidSecurityDescr
		}
		return ntstatus.StatusSuccess
	}
	old, err := securityOf(ctx, n, o.f.isDir)
	if err != nil {
		return errStatus(err)
	}
	merged, err := mergeSD(old, req.Buffer, info)
	if err != nil {
		return errStatus(err)
	}
	return errStatus(sec.SetSecurity(ctx, merged))
}
