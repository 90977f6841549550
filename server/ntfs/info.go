package ntfs

import (
	"context"
	"encoding/binary"
	"errors"
	"hash/fnv"
	"sort"
	"strings"

	"github.com/smbvfs/smbvfs/backends/vfs"
	"github.com/smbvfs/smbvfs/protocol/dtyp"
	"github.com/smbvfs/smbvfs/protocol/fscc"
	"github.com/smbvfs/smbvfs/protocol/ntstatus"
	"github.com/smbvfs/smbvfs/protocol/smb2"
	"github.com/smbvfs/smbvfs/protocol/utf16"
)

// Fixed sizes of the file information classes (the part before any name).
var fileClassFixed = map[fscc.FileInformationClass]int{
	fscc.ClassFileBasicInformation:          40,
	fscc.ClassFileStandardInformation:       24,
	fscc.ClassFileInternalInformation:       8,
	fscc.ClassFileEaInformation:             4,
	fscc.ClassFileAccessInformation:         4,
	fscc.ClassFilePositionInformation:       8,
	fscc.ClassFileFullEaInformation:         0,
	fscc.ClassFileModeInformation:           4,
	fscc.ClassFileAlignmentInformation:      4,
	fscc.ClassFileAllInformation:            104, // Windows counts the aligned first name unit
	fscc.ClassFileAlternateNameInformation:  8,
	fscc.ClassFileStreamInformation:         32,
	fscc.ClassFileCompressionInformation:    16,
	fscc.ClassFileNetworkOpenInformation:    56,
	fscc.ClassFileAttributeTagInformation:   8,
	fscc.ClassFileNormalizedNameInformation: 4,
	fscc.ClassFileIdInformation:             24,
}

var fsClassFixed = map[fscc.FsInformationClass]int{
	fscc.ClassFileFsVolumeInformation:     18,
	fscc.ClassFileFsSizeInformation:       24,
	fscc.ClassFileFsDeviceInformation:     8,
	fscc.ClassFileFsAttributeInformation:  12,
	fscc.ClassFileFsFullSizeInformation:   32,
	fscc.ClassFileFsObjectIdInformation:   64,
	fscc.ClassFileFsSectorSizeInformation: 28,
}

// scratch returns an empty slice over r.Buf when it is large enough.
func scratch(r *Req, n int) []byte {
	if cap(r.Buf) >= n {
		return r.Buf[:0]
	}
	return make([]byte, 0, n)
}

// QueryInfo implements SMB2 QUERY_INFO (MS-SMB2 3.3.5.20): file, file system and
// security information. A buffer smaller than the fixed part of the class is
// STATUS_INFO_LENGTH_MISMATCH; variable data that does not fit is cut with
// STATUS_BUFFER_OVERFLOW; a security descriptor that does not fit is
// STATUS_BUFFER_TOO_SMALL with the size needed in r.ErrorData.
func (t *Tree) QueryInfo(r *Req, req *smb2.QueryInfoRequest, resp *smb2.QueryInfoResponse) ntstatus.Status {
	r.reset()
	ctx := r.ctx()
	o := t.get(req.FileId)
	if o == nil {
		return ntstatus.StatusFileClosed
	}
	if r.MaxTransact > 0 && int64(req.OutputBufferLength) > int64(r.MaxTransact) {
		return ntstatus.StatusInvalidParameter
	}
	max := int(req.OutputBufferLength)
	var out []byte
	var st ntstatus.Status
	switch req.InfoType {
	case smb2.InfoFile:
		class := fscc.FileInformationClass(req.FileInfoClass)
		fixed, ok := fileClassFixed[class]
		if !ok {
			if knownFileClass(class) {
				return ntstatus.StatusNotSupported
			}
			return ntstatus.StatusInvalidInfoClass
		}
		if max < fixed || max == 0 {
			return ntstatus.StatusInfoLengthMismatch
		}
		out, st = t.queryFile(ctx, r, o, class, req, max)
	case smb2.InfoFilesystem:
		class := fscc.FsInformationClass(req.FileInfoClass)
		fixed, ok := fsClassFixed[class]
		if !ok {
			if class >= 1 && class <= fscc.ClassFileFsSectorSizeInformation {
				return ntstatus.StatusNotSupported
			}
			return ntstatus.StatusInvalidInfoClass
		}
		if max < fixed {
			return ntstatus.StatusInfoLengthMismatch
		}
		out, st = t.queryFS(ctx, r, o, class)
	case smb2.InfoSecurity:
		return t.querySecurity(ctx, r, o, req, resp)
	case smb2.InfoQuota:
		return ntstatus.StatusNotSupported
	default:
		return ntstatus.StatusInvalidParameter
	}
	if st != ntstatus.StatusSuccess && st != ntstatus.StatusBufferOverflow {
		return st
	}
	if len(out) > max {
		out, st = out[:max], ntstatus.StatusBufferOverflow
	}
	*resp = smb2.QueryInfoResponse{OutputBuffer: out}
	return st
}

// knownFileClass reports whether MS-FSCC documents the class (STATUS_NOT_SUPPORTED
// rather than STATUS_INVALID_INFO_CLASS, MS-SMB2 3.3.5.20.1).
func knownFileClass(c fscc.FileInformationClass) bool {
	return !strings.HasPrefix(c.String(), "FileInformationClass(")
}

func (t *Tree) basicInfo(a vfs.Attr) fscc.FileBasicInformation {
	return fscc.FileBasicInformation{CreationTime: toFiletime(a.Created), LastAccessTime: toFiletime(a.Accessed),
		LastWriteTime: toFiletime(a.Modified), ChangeTime: toFiletime(a.Changed), FileAttributes: toAttributes(a.DOS)}
}

func (t *Tree) standardInfo(o *open, a vfs.Attr) fscc.FileStandardInformation {
	t.s.mu.Lock()
	pending := o.f.deletePending || o.f.streamDelete[o.skey]
	t.s.mu.Unlock()
	si := fscc.FileStandardInformation{AllocationSize: allocSize(a), EndOfFile: uint64(a.Size), NumberOfLinks: links(a)}
	if o.isDir {
		si.AllocationSize, si.EndOfFile, si.Directory = 0, 0, 1
	}
	if pending {
		si.DeletePending = 1
		if si.NumberOfLinks > 0 {
			si.NumberOfLinks--
		}
	}
	return si
}

func (t *Tree) queryFile(ctx context.Context, r *Req, o *open, class fscc.FileInformationClass, req *smb2.QueryInfoRequest, max int) ([]byte, ntstatus.Status) {
	needAttr := func() ntstatus.Status {
		if o.access&dtyp.FileReadAttributes == 0 {
			return ntstatus.StatusAccessDenied
		}
		return ntstatus.StatusSuccess
	}
	out := scratch(r, 1024)
	var err error
	switch class {
	case fscc.ClassFileAccessInformation:
		ai := fscc.FileAccessInformation{AccessFlags: o.access}
		out, err = ai.Append(out)
		return out, errStatus(err)
	case fscc.ClassFilePositionInformation:
		pi := fscc.FilePositionInformation{CurrentByteOffset: o.pos.Load()}
		out, err = pi.Append(out)
		return out, errStatus(err)
	case fscc.ClassFileModeInformation:
		mi := fscc.FileModeInformation{Mode: o.mode}
		out, err = mi.Append(out)
		return out, errStatus(err)
	case fscc.ClassFileAlignmentInformation:
		ai := fscc.FileAlignmentInformation{AlignmentRequirement: fscc.AlignmentByte}
		out, err = ai.Append(out)
		return out, errStatus(err)
	case fscc.ClassFileAlternateNameInformation:
		t.s.mu.Lock()
		var last string
		if p := o.f.path; len(p) > 0 {
			last = p[len(p)-1]
		}
		t.s.mu.Unlock()
		short, ok := shortName(last)
		if !ok {
			return nil, ntstatus.StatusObjectNameNotFound // the root has no short name
		}
		ni := fscc.FileNameInformation{FileName: utf16.FromString(short)}
		out, err = ni.Append(out)
		return out, errStatus(err)
	case fscc.ClassFileFullEaInformation:
		return t.queryEAs(ctx, o, req, out, max)
	case fscc.ClassFileStreamInformation:
		return t.queryStreams(ctx, o, out)
	case fscc.ClassFileNormalizedNameInformation:
		if r.Dialect != 0 && r.Dialect < smb2.Dialect311 {
			return nil, ntstatus.StatusNotSupported
		}
		name := o.fileName()[1:]
		ni := fscc.FileNameInformation{FileName: utf16.FromString(name)}
		out, err = ni.Append(out)
		return out, errStatus(err)
	}
	a, err := t.attrOf(ctx, o)
	if err != nil {
		return nil, errStatus(err)
	}
	switch class {
	case fscc.ClassFileBasicInformation:
		if st := needAttr(); st != ntstatus.StatusSuccess {
			return nil, st
		}
		bi := t.basicInfo(a)
		out, err = bi.Append(out)
	case fscc.ClassFileStandardInformation:
		si := t.standardInfo(o, a)
		out, err = si.Append(out)
	case fscc.ClassFileInternalInformation:
		ii := fscc.FileInternalInformation{IndexNumber: a.ID}
		out, err = ii.Append(out)
	case fscc.ClassFileEaInformation:
		ei := fscc.FileEaInformation{EaSize: t.eaSize(ctx, o)}
		out, err = ei.Append(out)
	case fscc.ClassFileAllInformation:
		if st := needAttr(); st != ntstatus.StatusSuccess {
			return nil, st
		}
		all := fscc.FileAllInformation{
			BasicInformation:     t.basicInfo(a),
			StandardInformation:  t.standardInfo(o, a),
			InternalInformation:  fscc.FileInternalInformation{IndexNumber: a.ID},
			EaInformation:        fscc.FileEaInformation{EaSize: t.eaSize(ctx, o)},
			AccessInformation:    fscc.FileAccessInformation{AccessFlags: o.access},
			PositionInformation:  fscc.FilePositionInformation{CurrentByteOffset: o.pos.Load()},
			ModeInformation:      fscc.FileModeInformation{Mode: o.mode},
			AlignmentInformation: fscc.FileAlignmentInformation{AlignmentRequirement: fscc.AlignmentByte},
			FileName:             utf16.FromString(o.fileName()),
		}
		out, err = all.Append(out)
	case fscc.ClassFileCompressionInformation:
		ci := fscc.FileCompressionInformation{CompressedFileSize: uint64(a.Size), CompressionFormat: fscc.CompressionFormatNone}
		if o.isDir {
			ci.CompressedFileSize = 0
		}
		out, err = ci.Append(out)
	case fscc.ClassFileNetworkOpenInformation:
		if st := needAttr(); st != ntstatus.StatusSuccess {
			return nil, st
		}
		ni := fscc.FileNetworkOpenInformation{CreationTime: toFiletime(a.Created), LastAccessTime: toFiletime(a.Accessed),
			LastWriteTime: toFiletime(a.Modified), ChangeTime: toFiletime(a.Changed),
			AllocationSize: allocSize(a), EndOfFile: uint64(a.Size), FileAttributes: toAttributes(a.DOS)}
		if o.isDir {
			ni.AllocationSize, ni.EndOfFile = 0, 0
		}
		out, err = ni.Append(out)
	case fscc.ClassFileAttributeTagInformation:
		if st := needAttr(); st != ntstatus.StatusSuccess {
			return nil, st
		}
		ti := fscc.FileAttributeTagInformation{FileAttributes: toAttributes(a.DOS)}
		out, err = ti.Append(out)
	case fscc.ClassFileIdInformation:
		vi := fscc.FileIdInformation{VolumeSerialNumber: uint64(t.s.volumeSerial(ctx))}
		binary.LittleEndian.PutUint64(vi.FileId[:], a.ID)
		out, err = vi.Append(out)
	default:
		return nil, ntstatus.StatusInvalidInfoClass
	}
	return out, errStatus(err)
}

// eaSize is the size of the file's extended attributes as a FILE_FULL_EA_INFORMATION
// list (0 without any).
func (t *Tree) eaSize(ctx context.Context, o *open) uint32 {
	n, err := t.s.nodeOf(ctx, o.f)
	if err != nil {
		return 0
	}
	x, ok := n.(vfs.Xattrer)
	if !ok {
		return 0
	}
	names, err := x.ListXattrs(ctx)
	if err != nil || len(names) == 0 {
		return 0
	}
	size := 0
	for _, name := range names {
		v, err := x.GetXattr(ctx, name)
		if err != nil {
			continue
		}
		size += (8 + len(name) + 1 + len(v) + 3) &^ 3
	}
	if size == 0 {
		return 0
	}
	return uint32(size + 4)
}

// queryEAs returns the extended attributes, all of them or those named in the input
// FILE_GET_EA_INFORMATION list, as whole FILE_FULL_EA_INFORMATION entries.
func (t *Tree) queryEAs(ctx context.Context, o *open, req *smb2.QueryInfoRequest, out []byte, max int) ([]byte, ntstatus.Status) {
	if o.access&dtyp.FileReadEa == 0 {
		return nil, ntstatus.StatusAccessDenied
	}
	n, err := t.s.nodeOf(ctx, o.f)
	if err != nil {
		return nil, errStatus(err)
	}
	x, ok := n.(vfs.Xattrer)
	if !ok {
		return nil, ntstatus.StatusEasNotSupported
	}
	var names []string
	if len(req.InputBuffer) > 0 {
		var gl fscc.FileGetEaInformationList
		if err := gl.Decode(req.InputBuffer, -1); err != nil {
			return nil, ntstatus.StatusInvalidParameter
		}
		it := gl.Iter()
		for it.Next() {
			names = append(names, string(it.Value().EaName))
		}
		if it.Err() != nil {
			return nil, ntstatus.StatusInvalidParameter
		}
	} else {
		if names, err = x.ListXattrs(ctx); err != nil {
			return nil, errStatus(err)
		}
		sort.Strings(names)
		if len(names) == 0 {
			return nil, ntstatus.StatusNoEasOnFile
		}
	}
	var l fscc.FileFullEaInformationList
	l.Reset(out)
	st := ntstatus.StatusSuccess
	for _, name := range names {
		v, err := x.GetXattr(ctx, name)
		if err != nil && !errors.Is(err, vfs.ErrNotExist) {
			return nil, errStatus(err)
		}
		e := fscc.FileFullEaInformation{EaName: []byte(name), EaValue: v}
		need := (len(l.Bytes())+3)&^3 + 8 + len(name) + 1 + len(v)
		if need > max {
			if l.Count() == 0 {
				return nil, ntstatus.StatusBufferTooSmall
			}
			st = ntstatus.StatusBufferOverflow
			break
		}
		l.Add(&e)
		if req.Flags.Has(smb2.QueryInfoReturnSingleEntry) {
			break
		}
	}
	return l.Bytes(), st
}

// queryStreams lists "::$DATA" (files only) and the named streams.
func (t *Tree) queryStreams(ctx context.Context, o *open, out []byte) ([]byte, ntstatus.Status) {
	n, err := t.s.nodeOf(ctx, o.f)
	if err != nil {
		return nil, errStatus(err)
	}
	a, err := n.Attr(ctx)
	if err != nil {
		return nil, errStatus(err)
	}
	var l fscc.FileStreamInformationList
	l.Reset(out)
	var name16 []byte
	if !a.IsDir() {
		if o.stream == "" && o.h != nil {
			if b, err := t.attrOf(ctx, o); err == nil {
				a = b
			}
		}
		name16 = utf16.Append(name16[:0], "::$DATA")
		l.Add(&fscc.FileStreamInformation{StreamSize: uint64(a.Size), StreamAllocationSize: allocSize(a), StreamName: name16})
	}
	if st, ok := n.(vfs.Streamer); ok {
		list, err := st.ListStreams(ctx)
		if err != nil {
			return nil, errStatus(err)
		}
		for _, si := range list {
			name16 = utf16.Append(name16[:0], ":"+si.Name+":$DATA")
			alloc := si.AllocSize
			if alloc == 0 {
				alloc = (si.Size + clusterSize - 1) / clusterSize * clusterSize
			}
			l.Add(&fscc.FileStreamInformation{StreamSize: uint64(si.Size), StreamAllocationSize: uint64(alloc), StreamName: name16})
		}
	}
	return l.Bytes(), ntstatus.StatusSuccess
}

// volume returns the backend's volume information, with defaults.
func (s *Share) volume(ctx context.Context) vfs.VolumeInfo {
	var vi vfs.VolumeInfo
	if vs, ok := s.fs.(vfs.VolumeStater); ok {
		if v, err := vs.StatVolume(ctx); err == nil {
			vi = v
		}
	}
	if vi.BlockSize == 0 {
		vi.BlockSize = clusterSize
	}
	if vi.MaxNameLength == 0 {
		vi.MaxNameLength = maxComponent
	}
	if vi.Serial == 0 {
		vi.Serial = uint32(s.volID) ^ uint32(s.volID>>32)
	}
	if vi.Label == "" {
		vi.Label = s.name
	}
	return vi
}

func (s *Share) volumeSerial(ctx context.Context) uint32 { return s.volume(ctx).Serial }

func (t *Tree) queryFS(ctx context.Context, r *Req, o *open, class fscc.FsInformationClass) ([]byte, ntstatus.Status) {
	s := t.s
	vi := s.volume(ctx)
	out := scratch(r, 256)
	bs := uint64(vi.BlockSize)
	sectors := uint32(max(bs/512, 1))
	var err error
	switch class {
	case fscc.ClassFileFsVolumeInformation:
		v := fscc.FileFsVolumeInformation{VolumeCreationTime: toFiletime(s.created), VolumeSerialNumber: vi.Serial,
			VolumeLabel: utf16.FromString(vi.Label)}
		out, err = v.Append(out)
	case fscc.ClassFileFsSizeInformation:
		v := fscc.FileFsSizeInformation{TotalAllocationUnits: vi.TotalBytes / bs, AvailableAllocationUnits: vi.FreeBytes / bs,
			SectorsPerAllocationUnit: sectors, BytesPerSector: 512}
		out, err = v.Append(out)
	case fscc.ClassFileFsFullSizeInformation:
		v := fscc.FileFsFullSizeInformation{TotalAllocationUnits: vi.TotalBytes / bs, CallerAvailableAllocationUnits: vi.FreeBytes / bs,
			ActualAvailableAllocationUnits: vi.FreeBytes / bs, SectorsPerAllocationUnit: sectors, BytesPerSector: 512}
		out, err = v.Append(out)
	case fscc.ClassFileFsDeviceInformation:
		v := fscc.FileFsDeviceInformation{DeviceType: fscc.DeviceTypeDisk, Characteristics: fscc.DeviceIsMounted}
		if vi.ReadOnly || s.opt.ReadOnly {
			v.Characteristics |= fscc.DeviceReadOnlyDevice
		}
		out, err = v.Append(out)
	case fscc.ClassFileFsAttributeInformation:
		v := fscc.FileFsAttributeInformation{FileSystemAttributes: s.fsAttributes(ctx, vi),
			MaximumComponentNameLength: vi.MaxNameLength, FileSystemName: utf16.FromString("NTFS")}
		out, err = v.Append(out)
	case fscc.ClassFileFsObjectIdInformation:
		var v fscc.FileFsObjectIdInformation
		h := fnv.New128a()
		h.Write([]byte(s.name))
		copy(v.ObjectId[:], h.Sum(nil))
		out, err = v.Append(out)
	case fscc.ClassFileFsSectorSizeInformation:
		v := fscc.FileFsSectorSizeInformation{LogicalBytesPerSector: 512, PhysicalBytesPerSectorForAtomicity: uint32(bs),
			PhysicalBytesPerSectorForPerformance: uint32(bs), FileSystemEffectivePhysicalBytesPerSectorForAtomicity: uint32(bs),
			Flags: fscc.SectorSizeAlignedDevice | fscc.SectorSizePartitionAlignedOnDevice}
		out, err = v.Append(out)
	}
	return out, errStatus(err)
}

// fsAttributes describes what the share supports, from the root's capabilities. Like
// NTFS (and Samba) it reports CASE_SENSITIVE_SEARCH: the file system can match with case
// (what clients ask for with SMB2_FLAGS/POSIX options), although the engine matches
// without.
func (s *Share) fsAttributes(ctx context.Context, vi vfs.VolumeInfo) fscc.FileSystemAttributes {
	a := fscc.FsCaseSensitiveSearch | fscc.FsCasePreservedNames | fscc.FsUnicodeOnDisk | fscc.FsSupportsSparseFiles
	if root, err := s.fs.Root(ctx); err == nil {
		if _, ok := root.(vfs.Streamer); ok {
			a |= fscc.FsNamedStreams
		}
		if _, ok := root.(vfs.Securer); ok {
			a |= fscc.FsPersistentAcls
		}
		if _, ok := root.(vfs.Xattrer); ok {
			a |= fscc.FsSupportsExtendedAttributes
		}
		if _, ok := root.(vfs.Linker); ok {
			a |= fscc.FsSupportsHardLinks
		}
	}
	if vi.ReadOnly || s.opt.ReadOnly {
		a |= fscc.FsReadOnlyVolume
	}
	return a
}

// querySecurity answers SMB2_0_INFO_SECURITY (MS-SMB2 3.3.5.20.3).
func (t *Tree) querySecurity(ctx context.Context, r *Req, o *open, req *smb2.QueryInfoRequest, resp *smb2.QueryInfoResponse) ntstatus.Status {
	info := req.AdditionalInformation
	if info&(dtyp.OwnerSecurityInformation|dtyp.GroupSecurityInformation|dtyp.DaclSecurityInformation|dtyp.LabelSecurityInformation) != 0 &&
		o.access&dtyp.ReadControl == 0 {
		return ntstatus.StatusAccessDenied
	}
	if info&dtyp.SaclSecurityInformation != 0 && o.access&dtyp.AccessSystemSecurity == 0 {
		return ntstatus.StatusPrivilegeNotHeld
	}
	n, err := t.s.nodeOf(ctx, o.f)
	if err != nil {
		return errStatus(err)
	}
	sd, err := securityOf(ctx, n, o.f.isDir)
	if err != nil {
		return errStatus(err)
	}
	out, err := filterSD(sd, info)
	if err != nil {
		// A stored descriptor that does not decode: answer the synthetic one.
		if out, err = filterSD(syntheticSD(o.f.isDir), info); err != nil {
			return ntstatus.StatusInternalError
		}
	}
	if len(out) > int(req.OutputBufferLength) {
		r.ErrorData = sizeErrorData(len(out))
		return ntstatus.StatusBufferTooSmall
	}
	*resp = smb2.QueryInfoResponse{OutputBuffer: out}
	return ntstatus.StatusSuccess
}
