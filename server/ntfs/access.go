package ntfs

import (
	"github.com/smbvfs/smbvfs/backends/vfs"
	"github.com/smbvfs/smbvfs/protocol/dtyp"
	"github.com/smbvfs/smbvfs/protocol/smb2"
)

// Access rights of files and directories (MS-SMB2 2.2.13.1, MS-DTYP 2.4.3).
const (
	fileAllAccess      dtyp.AccessMask = 0x001F01FF
	fileGenericRead    dtyp.AccessMask = 0x00120089
	fileGenericWrite   dtyp.AccessMask = 0x00120116
	fileGenericExec    dtyp.AccessMask = 0x001200A0
	specificAndStd     dtyp.AccessMask = 0x001F01FF // the rights an open can hold
	dataRead                           = dtyp.FileReadData | dtyp.FileExecute
	dataWrite                          = dtyp.FileWriteData | dtyp.FileAppendData
	changeRights                       = dtyp.FileWriteData | dtyp.FileAppendData | dtyp.FileWriteEa | dtyp.FileWriteAttributes | dtyp.Delete | dtyp.WriteDac | dtyp.WriteOwner | dtyp.FileDeleteChild
	readOnlyMaximal                    = fileGenericRead | fileGenericExec
	readOnlyAttrDenied                 = dtyp.FileWriteData | dtyp.FileAppendData
)

// mapGeneric replaces the GENERIC_* bits by the file rights they stand for.
func mapGeneric(m dtyp.AccessMask) dtyp.AccessMask {
	if m&dtyp.GenericRead != 0 {
		m |= fileGenericRead
	}
	if m&dtyp.GenericWrite != 0 {
		m |= fileGenericWrite
	}
	if m&dtyp.GenericExecute != 0 {
		m |= fileGenericExec
	}
	if m&dtyp.GenericAll != 0 {
		m |= fileAllAccess
	}
	return m &^ (dtyp.GenericRead | dtyp.GenericWrite | dtyp.GenericExecute | dtyp.GenericAll)
}

// maximalAccess is what a caller may be granted on a node: everything, less the changes
// on a read-only share, and less data writes on a file with the read-only attribute. The
// engine evaluates no ACLs: a stored security descriptor is kept and returned, not
// enforced (the share's access is decided at tree connect).
func (s *Share) maximalAccess(a vfs.Attr, exists bool) dtyp.AccessMask {
	if s.opt.ReadOnly {
		return readOnlyMaximal
	}
	m := fileAllAccess
	if exists && !a.IsDir() && a.DOS&vfs.DOSReadOnly != 0 {
		m &^= readOnlyAttrDenied
	}
	return m
}

// shareConflict reports whether a new open asking access with sharing share conflicts
// with an existing open (MS-FSA 2.1.5.1.2, "check sharing access"). Opens that neither
// read, write nor delete never conflict.
func shareConflict(oldAccess dtyp.AccessMask, oldShare smb2.ShareAccess, access dtyp.AccessMask, share smb2.ShareAccess) bool {
	const relevant = dataRead | dataWrite | dtyp.Delete
	if oldAccess&relevant == 0 || access&relevant == 0 {
		return false
	}
	switch {
	case oldAccess&dataRead != 0 && share&smb2.FileShareRead == 0,
		oldAccess&dataWrite != 0 && share&smb2.FileShareWrite == 0,
		oldAccess&dtyp.Delete != 0 && share&smb2.FileShareDelete == 0,
		access&dataRead != 0 && oldShare&smb2.FileShareRead == 0,
		access&dataWrite != 0 && oldShare&smb2.FileShareWrite == 0,
		access&dtyp.Delete != 0 && oldShare&smb2.FileShareDelete == 0:
		return true
	}
	return false
}

// sharingViolation checks a new open of stream skey of f against the file's opens; call
// with Share.mu held. Share modes apply per stream; in addition, deleting the file (DELETE
// on its unnamed stream) needs every open of every stream to share delete, and an open of
// any stream needs to share delete with an open that may delete the file.
func (f *file) sharingViolation(skey string, access dtyp.AccessMask, share smb2.ShareAccess) bool {
	for _, o := range f.opens {
		if o.skey == skey {
			if shareConflict(o.access, o.share, access, share) {
				return true
			}
			continue
		}
		if skey == "" && access&dtyp.Delete != 0 && o.access&(dataRead|dataWrite|dtyp.Delete) != 0 && o.share&smb2.FileShareDelete == 0 {
			return true
		}
		if o.skey == "" && o.access&dtyp.Delete != 0 && access&(dataRead|dataWrite|dtyp.Delete) != 0 && share&smb2.FileShareDelete == 0 {
			return true
		}
	}
	return false
}
