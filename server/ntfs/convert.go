package ntfs

import (
	"errors"
	"log"
	"time"

	"github.com/smbvfs/smbvfs/backends/vfs"
	"github.com/smbvfs/smbvfs/protocol/dtyp"
	"github.com/smbvfs/smbvfs/protocol/fscc"
	"github.com/smbvfs/smbvfs/protocol/ntstatus"
)

// errorTable maps the vfs sentinels to NTSTATUS, in the order they are tested. It is the
// one place where backend errors become SMB statuses; callers that know better (a
// missing parent is OBJECT_PATH_NOT_FOUND) translate before calling errStatus.
var errorTable = []struct {
	err    error
	status ntstatus.Status
}{
	{vfs.ErrNotExist, ntstatus.StatusObjectNameNotFound},
	{vfs.ErrExist, ntstatus.StatusObjectNameCollision},
	{vfs.ErrNotDir, ntstatus.StatusNotADirectory},
	{vfs.ErrIsDir, ntstatus.StatusFileIsADirectory},
	{vfs.ErrNotEmpty, ntstatus.StatusDirectoryNotEmpty},
	{vfs.ErrPermission, ntstatus.StatusAccessDenied},
	{vfs.ErrReadOnly, ntstatus.StatusAccessDenied},
	{vfs.ErrNotSupported, ntstatus.StatusNotSupported},
	{vfs.ErrInvalidName, ntstatus.StatusObjectNameInvalid},
	{vfs.ErrInvalid, ntstatus.StatusInvalidParameter},
	{vfs.ErrNoSpace, ntstatus.StatusDiskFull},
	{vfs.ErrStale, ntstatus.StatusFileDeleted},
	{vfs.ErrClosed, ntstatus.StatusFileClosed},
	{errPathNotFound, ntstatus.StatusObjectPathNotFound},
}

// errStatus turns a backend error into the NTSTATUS of the response. Errors outside the
// contract are logged and reported as STATUS_UNEXPECTED_IO_ERROR.
func errStatus(err error) ntstatus.Status {
	if err == nil {
		return ntstatus.StatusSuccess
	}
	var st ntstatus.Status
	if errors.As(err, &st) {
		return st
	}
	for _, e := range errorTable {
		if errors.Is(err, e.err) {
			return e.status
		}
	}
	log.Printf("ntfs: unexpected backend error: %v", err)
	return ntstatus.StatusUnexpectedIoError
}

// ---- Times -------------------------------------------------------------------

// filetimeEpoch is 1970-01-01 in FILETIME units (100 ns since 1601-01-01).
const filetimeEpoch = 116444736000000000

func toFiletime(t time.Time) dtyp.Filetime {
	if t.IsZero() {
		return 0
	}
	ft := t.Unix()*10000000 + int64(t.Nanosecond())/100 + filetimeEpoch
	if ft < 0 {
		return 0
	}
	return dtyp.Filetime(ft)
}

func fromFiletime(ft dtyp.Filetime) time.Time {
	v := int64(ft) - filetimeEpoch
	return time.Unix(v/10000000, (v%10000000)*100)
}

// ---- Attributes ----------------------------------------------------------------

var dosBits = [...]struct {
	dos vfs.DOSAttr
	fa  fscc.FileAttributes
}{
	{vfs.DOSReadOnly, fscc.FileAttributeReadonly},
	{vfs.DOSHidden, fscc.FileAttributeHidden},
	{vfs.DOSSystem, fscc.FileAttributeSystem},
	{vfs.DOSDirectory, fscc.FileAttributeDirectory},
	{vfs.DOSArchive, fscc.FileAttributeArchive},
	{vfs.DOSTemporary, fscc.FileAttributeTemporary},
	{vfs.DOSSparse, fscc.FileAttributeSparseFile},
	{vfs.DOSOffline, fscc.FileAttributeOffline},
	{vfs.DOSNotIndexed, fscc.FileAttributeNotContentIndexed},
}

// toAttributes is the SMB form of DOS attributes: FILE_ATTRIBUTE_NORMAL when none is set.
func toAttributes(d vfs.DOSAttr) fscc.FileAttributes {
	var fa fscc.FileAttributes
	for _, b := range dosBits {
		if d&b.dos != 0 {
			fa |= b.fa
		}
	}
	if fa == 0 {
		fa = fscc.FileAttributeNormal
	}
	return fa
}

// fromAttributes keeps the bits a backend can store (never Directory).
func fromAttributes(fa fscc.FileAttributes) vfs.DOSAttr {
	var d vfs.DOSAttr
	for _, b := range dosBits {
		if fa&b.fa != 0 && b.dos != vfs.DOSDirectory {
			d |= b.dos
		}
	}
	return d
}

// settableAttributes are the attributes a client may set with SET_INFO or CREATE.
const settableAttributes = vfs.DOSReadOnly | vfs.DOSHidden | vfs.DOSSystem | vfs.DOSArchive |
	vfs.DOSTemporary | vfs.DOSOffline | vfs.DOSNotIndexed

// validAttributes are the FileAttributes bits a request may carry.
const validAttributes = fscc.FileAttributeReadonly | fscc.FileAttributeHidden | fscc.FileAttributeSystem |
	fscc.FileAttributeDirectory | fscc.FileAttributeArchive | fscc.FileAttributeNormal |
	fscc.FileAttributeTemporary | fscc.FileAttributeSparseFile | fscc.FileAttributeReparsePoint |
	fscc.FileAttributeCompressed | fscc.FileAttributeOffline | fscc.FileAttributeNotContentIndexed |
	fscc.FileAttributeEncrypted | fscc.FileAttributeIntegrityStream | fscc.FileAttributeNoScrubData |
	fscc.FileAttributeRecallOnOpen | fscc.FileAttributePinned | fscc.FileAttributeUnpinned |
	fscc.FileAttributeRecallOnDataAccess

// allocSize is the allocation size to report: the backend's, or the size rounded up to
// the cluster.
func allocSize(a vfs.Attr) uint64 {
	if a.AllocSize > 0 {
		return uint64(a.AllocSize)
	}
	if a.IsDir() {
		return 0
	}
	return uint64(a.Size+clusterSize-1) / clusterSize * clusterSize
}

const clusterSize = 4096

func links(a vfs.Attr) uint32 {
	if a.Links == 0 {
		return 1
	}
	return a.Links
}
