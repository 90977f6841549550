package ntfs

import (
	"crypto/sha256"
	"encoding/binary"

	"github.com/smbvfs/smbvfs/protocol/dtyp"
	"github.com/smbvfs/smbvfs/protocol/fscc"
	"github.com/smbvfs/smbvfs/protocol/ntstatus"
	"github.com/smbvfs/smbvfs/protocol/smb2"
)

// Object ids (MS-FSCC 2.3.7 FSCTL_CREATE_OR_GET_OBJECT_ID, 2.3.21 FSCTL_GET_OBJECT_ID,
// 2.1.3 FILE_OBJECTID_BUFFER). The engine stores none: every file has the object id
// derived from its share and its Attr.ID, the same on every query, and its
// BirthObjectId is the same id, on the share's volume.

// guidFrom makes a version-4-shaped GUID from a hash of parts.
func guidFrom(parts ...uint64) dtyp.GUID {
	h := sha256.New()
	var b [8]byte
	for _, p := range parts {
		binary.LittleEndian.PutUint64(b[:], p)
		h.Write(b[:])
	}
	var g dtyp.GUID
	copy(g[:], h.Sum(nil))
	g[7] = g[7]&0x0f | 0x40 // version 4 (Data3 is little-endian)
	g[8] = g[8]&0x3f | 0x80 // RFC 4122 variant
	return g
}

// objectIDOf returns the FILE_OBJECTID_BUFFER of a file.
func (s *Share) objectIDOf(fileID uint64) fscc.FileObjectidBuffer {
	oid := guidFrom(s.volID, fileID, 1)
	vol := guidFrom(s.volID, 0, 2)
	var ext [48]byte
	copy(ext[0:], vol[:])  // BirthVolumeId
	copy(ext[16:], oid[:]) // BirthObjectId; DomainId stays zero
	return fscc.FileObjectidBuffer{ObjectId: oid, ExtendedInfo: ext}
}

// objectID answers FSCTL_CREATE_OR_GET_OBJECT_ID and FSCTL_GET_OBJECT_ID.
func (t *Tree) objectID(r *Req, o *open, req *smb2.IoctlRequest) ([]byte, ntstatus.Status) {
	if req.MaxOutputResponse < 64 {
		return nil, ntstatus.StatusBufferTooSmall
	}
	ob := t.s.objectIDOf(o.f.id)
	out, err := ob.Append(scratch(r, 64))
	if err != nil {
		return nil, ntstatus.StatusInternalError
	}
	return out, ntstatus.StatusSuccess
}
