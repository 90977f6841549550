package roundtrip

import (
	"bytes"
	"fmt"

	"github.com/smbvfs/smbvfs/protocol/dtyp"
	"github.com/smbvfs/smbvfs/protocol/fscc"
	"github.com/smbvfs/smbvfs/protocol/ntstatus"
	"github.com/smbvfs/smbvfs/protocol/smb2"
)

// The payloads inside messages — information classes, directory listings, FSCTL buffers,
// create and negotiate context bodies, change notifications, security descriptors — are
// structures of their own. payload re-encodes each one it recognises.

// structure is a self-contained generated structure.
type structure interface {
	Decode(b []byte) error
	Len() int
	Append(b []byte) ([]byte, error)
}

// roundTripStruct decodes data into m and re-encodes it; the encoding must equal data, but
// for at most 7 trailing bytes (alignment padding after the structure).
func roundTripStruct(m structure, data []byte) error {
	if err := m.Decode(data); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	enc, err := m.Append(nil)
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	return sameBytes(data, enc)
}

func sameBytes(orig, enc []byte) error {
	if len(enc) > len(orig) || !bytes.Equal(orig[:len(enc)], enc) {
		i := 0
		for i < len(orig) && i < len(enc) && orig[i] == enc[i] {
			i++
		}
		return fmt.Errorf("re-encoding differs at byte %d (%d bytes encoded, %d captured)", i, len(enc), len(orig))
	}
	if len(orig)-len(enc) >= 8 {
		return fmt.Errorf("%d captured bytes after the structure", len(orig)-len(enc))
	}
	return nil
}

// roundTripList decodes a chained list from data, rebuilds it element by element with Add,
// and compares.
func roundTripList[E, I, L any,
	PI interface {
		*I
		Next() bool
		Value() *E
		Err() error
	},
	PL interface {
		*L
		DecodeChain([]byte, int, bool) (int, error)
		Iter() I
		Add(*E) error
		Bytes() []byte
	}](data []byte) error {
	var in, out L
	if _, err := PL(&in).DecodeChain(data, -1, true); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	it := PL(&in).Iter()
	for PI(&it).Next() {
		if err := PL(&out).Add(PI(&it).Value()); err != nil {
			return fmt.Errorf("encode: %w", err)
		}
	}
	if err := PI(&it).Err(); err != nil {
		return fmt.Errorf("iterate: %w", err)
	}
	return sameBytes(data, PL(&out).Bytes())
}

type reqKey struct {
	stream int
	msgID  uint64
}

// pending remembers what a request asked for, to interpret its response.
type pending struct {
	infoType smb2.InfoType
	class    uint8
}

// fileInfo returns the structure of a file information class, or nil.
func fileInfo(c fscc.FileInformationClass) structure {
	switch c {
	case fscc.ClassFileBasicInformation:
		return new(fscc.FileBasicInformation)
	case fscc.ClassFileStandardInformation:
		return new(fscc.FileStandardInformation)
	case fscc.ClassFileInternalInformation:
		return new(fscc.FileInternalInformation)
	case fscc.ClassFileEaInformation:
		return new(fscc.FileEaInformation)
	case fscc.ClassFileAccessInformation:
		return new(fscc.FileAccessInformation)
	case fscc.ClassFileNameInformation, fscc.ClassFileAlternateNameInformation, fscc.ClassFileNormalizedNameInformation:
		return new(fscc.FileNameInformation)
	case fscc.ClassFilePositionInformation:
		return new(fscc.FilePositionInformation)
	case fscc.ClassFileModeInformation:
		return new(fscc.FileModeInformation)
	case fscc.ClassFileAlignmentInformation:
		return new(fscc.FileAlignmentInformation)
	case fscc.ClassFileAllInformation:
		return new(fscc.FileAllInformation)
	case fscc.ClassFileCompressionInformation:
		return new(fscc.FileCompressionInformation)
	case fscc.ClassFileNetworkOpenInformation:
		return new(fscc.FileNetworkOpenInformation)
	case fscc.ClassFileAttributeTagInformation:
		return new(fscc.FileAttributeTagInformation)
	case fscc.ClassFileIdInformation:
		return new(fscc.FileIdInformation)
	case fscc.ClassFileRenameInformation:
		return new(fscc.FileRenameInformation)
	case fscc.ClassFileLinkInformation:
		return new(fscc.FileLinkInformation)
	case fscc.ClassFileDispositionInformation:
		return new(fscc.FileDispositionInformation)
	case fscc.ClassFileDispositionInformationEx:
		return new(fscc.FileDispositionInformationEx)
	case fscc.ClassFileEndOfFileInformation:
		return new(fscc.FileEndOfFileInformation)
	case fscc.ClassFileAllocationInformation:
		return new(fscc.FileAllocationInformation)
	case fscc.ClassFileValidDataLengthInformation:
		return new(fscc.FileValidDataLengthInformation)
	case fscc.ClassFilePipeInformation:
		return new(fscc.FilePipeInformation)
	case fscc.ClassFilePipeLocalInformation:
		return new(fscc.FilePipeLocalInformation)
	}
	return nil
}

// fileInfoList round-trips the list classes of file information.
func fileInfoList(c fscc.FileInformationClass, data []byte) (bool, error) {
	switch c {
	case fscc.ClassFileStreamInformation:
		return true, roundTripList[fscc.FileStreamInformation, fscc.FileStreamInformationIter, fscc.FileStreamInformationList](data)
	case fscc.ClassFileFullEaInformation:
		return true, roundTripList[fscc.FileFullEaInformation, fscc.FileFullEaInformationIter, fscc.FileFullEaInformationList](data)
	}
	return false, nil
}

func fsInfo(c fscc.FsInformationClass) structure {
	switch c {
	case fscc.ClassFileFsVolumeInformation:
		return new(fscc.FileFsVolumeInformation)
	case fscc.ClassFileFsSizeInformation:
		return new(fscc.FileFsSizeInformation)
	case fscc.ClassFileFsDeviceInformation:
		return new(fscc.FileFsDeviceInformation)
	case fscc.ClassFileFsAttributeInformation:
		return new(fscc.FileFsAttributeInformation)
	case fscc.ClassFileFsControlInformation:
		return new(fscc.FileFsControlInformation)
	case fscc.ClassFileFsFullSizeInformation:
		return new(fscc.FileFsFullSizeInformation)
	case fscc.ClassFileFsObjectIdInformation:
		return new(fscc.FileFsObjectIdInformation)
	case fscc.ClassFileFsSectorSizeInformation:
		return new(fscc.FileFsSectorSizeInformation)
	}
	return nil
}

func dirInfoList(c fscc.FileInformationClass, data []byte) (bool, error) {
	switch c {
	case fscc.ClassFileDirectoryInformation:
		return true, roundTripList[fscc.FileDirectoryInformation, fscc.FileDirectoryInformationIter, fscc.FileDirectoryInformationList](data)
	case fscc.ClassFileFullDirectoryInformation:
		return true, roundTripList[fscc.FileFullDirectoryInformation, fscc.FileFullDirectoryInformationIter, fscc.FileFullDirectoryInformationList](data)
	case fscc.ClassFileBothDirectoryInformation:
		return true, roundTripList[fscc.FileBothDirectoryInformation, fscc.FileBothDirectoryInformationIter, fscc.FileBothDirectoryInformationList](data)
	case fscc.ClassFileNamesInformation:
		return true, roundTripList[fscc.FileNamesInformation, fscc.FileNamesInformationIter, fscc.FileNamesInformationList](data)
	case fscc.ClassFileIdBothDirectoryInformation:
		return true, roundTripList[fscc.FileIdBothDirectoryInformation, fscc.FileIdBothDirectoryInformationIter, fscc.FileIdBothDirectoryInformationList](data)
	case fscc.ClassFileIdFullDirectoryInformation:
		return true, roundTripList[fscc.FileIdFullDirectoryInformation, fscc.FileIdFullDirectoryInformationIter, fscc.FileIdFullDirectoryInformationList](data)
	case fscc.ClassFileIdExtdDirectoryInformation:
		return true, roundTripList[fscc.FileIdExtdDirectoryInformation, fscc.FileIdExtdDirectoryInformationIter, fscc.FileIdExtdDirectoryInformationList](data)
	}
	return false, nil
}

// info round-trips a QUERY_INFO output or SET_INFO input buffer.
func info(t smb2.InfoType, class uint8, data []byte) (string, bool, error) {
	switch t {
	case smb2.InfoFile:
		c := fscc.FileInformationClass(class)
		if ok, err := fileInfoList(c, data); ok {
			return c.String(), true, err
		}
		if m := fileInfo(c); m != nil {
			return c.String(), true, roundTripStruct(m, data)
		}
		return c.String(), false, nil
	case smb2.InfoFilesystem:
		c := fscc.FsInformationClass(class)
		if m := fsInfo(c); m != nil {
			return c.String(), true, roundTripStruct(m, data)
		}
		return c.String(), false, nil
	case smb2.InfoSecurity:
		return "SECURITY_DESCRIPTOR", true, roundTripStruct(new(dtyp.SecurityDescriptor), data)
	}
	return "", false, nil
}

// ioctl round-trips FSCTL input (request) or output (response) buffers.
func ioctl(code fscc.CtlCode, response bool, data []byte) (bool, error) {
	var m structure
	switch code {
	case fscc.FsctlValidateNegotiateInfo:
		if response {
			m = new(fscc.ValidateNegotiateInfoResponse)
		} else {
			m = new(fscc.ValidateNegotiateInfoRequest)
		}
	case fscc.FsctlQueryNetworkInterfaceInfo:
		if response {
			return true, roundTripList[fscc.NetworkInterfaceInfo, fscc.NetworkInterfaceInfoIter, fscc.NetworkInterfaceInfoList](data)
		}
	case fscc.FsctlSrvRequestResumeKey:
		if response {
			m = new(fscc.SrvRequestResumeKey)
		}
	case fscc.FsctlSrvCopychunk, fscc.FsctlSrvCopychunkWrite:
		if response {
			m = new(fscc.SrvCopychunkResponse)
		} else {
			m = new(fscc.SrvCopychunkCopy)
		}
	case fscc.FsctlSrvEnumerateSnapshots:
		if response {
			m = new(fscc.SrvSnapshotArray)
		}
	case fscc.FsctlDfsGetReferrals:
		if response {
			m = new(fscc.RespGetDfsReferral)
		} else {
			m = new(fscc.ReqGetDfsReferral)
		}
	case fscc.FsctlPipeWait:
		if !response {
			m = new(fscc.FsctlPipeWaitRequest)
		}
	}
	if m == nil {
		return false, nil
	}
	return true, roundTripStruct(m, data)
}

// createContext round-trips the body of one create context, by its name.
func createContext(name string, response bool, data []byte) (bool, error) {
	var m structure
	switch name {
	case "MxAc":
		if response {
			m = new(smb2.QueryMaximalAccessResponse)
		} else if len(data) > 0 {
			m = new(smb2.QueryMaximalAccessRequest)
		}
	case "QFid":
		if response {
			m = new(smb2.QueryOnDiskIdResponse)
		}
	case "RqLs":
		if len(data) >= 52 {
			m = new(smb2.LeaseContextV2)
		} else {
			m = new(smb2.LeaseContext)
		}
	case "DH2Q", "DHnQ", "DH2C", "DHnC":
		if !response && name == "DHnQ" {
			m = new(smb2.DurableHandleRequest)
		}
	case "AlSi":
		m = new(smb2.AllocationSizeContext)
	case "TWrp":
		m = new(smb2.TimewarpToken)
	case "SecD":
		m = new(dtyp.SecurityDescriptor)
	case "ExtA":
		return true, roundTripList[fscc.FileFullEaInformation, fscc.FileFullEaInformationIter, fscc.FileFullEaInformationList](data)
	}
	if m == nil {
		return false, nil
	}
	return true, roundTripStruct(m, data)
}

// negotiateContext round-trips the body of one negotiate context.
func negotiateContext(t smb2.NegotiateContextType, data []byte) (bool, error) {
	var m structure
	switch t {
	case smb2.NegotiateContextPreauthIntegrityCapabilities:
		m = new(smb2.PreauthIntegrityCapabilities)
	case smb2.NegotiateContextEncryptionCapabilities:
		m = new(smb2.EncryptionCapabilities)
	case smb2.NegotiateContextCompressionCapabilities:
		m = new(smb2.CompressionCapabilities)
	case smb2.NegotiateContextNetname:
		m = new(smb2.NetnameNegotiateContextId)
	case smb2.NegotiateContextTransportCapabilities:
		m = new(smb2.TransportCapabilities)
	case smb2.NegotiateContextRdmaTransformCapabilities:
		m = new(smb2.RdmaTransformCapabilities)
	case smb2.NegotiateContextSigningCapabilities:
		m = new(smb2.SigningCapabilities)
	}
	if m == nil {
		return false, nil
	}
	return true, roundTripStruct(m, data)
}

// payloads round-trips the payloads of message m (header h) of a stream. It returns how
// many it checked and the first failure.
func (c *Checker) payloads(stream int, h *smb2.Header, m smb2.Message) (int, string) {
	n := 0
	var fail string
	check := func(what string, ok bool, err error) {
		if !ok {
			return
		}
		n++
		if err != nil && fail == "" {
			fail = what + ": " + err.Error()
		}
	}
	resp := h.Flags.Has(smb2.FlagsServerToRedir)
	ok := resp && (h.Status == ntstatus.StatusSuccess)
	key := reqKey{stream, h.MessageId}
	switch x := m.(type) {
	case *smb2.QueryInfoRequest:
		c.pending[key] = pending{infoType: x.InfoType, class: x.FileInfoClass}
	case *smb2.QueryDirectoryRequest:
		c.pending[key] = pending{class: uint8(x.FileInformationClass)}
	case *smb2.QueryInfoResponse:
		if p, found := c.pending[key]; found && ok && len(x.OutputBuffer) > 0 {
			name, known, err := info(p.infoType, p.class, x.OutputBuffer)
			check("QUERY_INFO output "+name, known, err)
		}
	case *smb2.SetInfoRequest:
		name, known, err := info(x.InfoType, x.FileInfoClass, x.Buffer)
		check("SET_INFO input "+name, known, err)
	case *smb2.QueryDirectoryResponse:
		if p, found := c.pending[key]; found && ok && len(x.OutputBuffer) > 0 {
			known, err := dirInfoList(fscc.FileInformationClass(p.class), x.OutputBuffer)
			check("QUERY_DIRECTORY output "+fscc.FileInformationClass(p.class).String(), known, err)
		}
	case *smb2.ChangeNotifyResponse:
		if ok && len(x.OutputBuffer) > 0 {
			check("CHANGE_NOTIFY output", true, roundTripList[fscc.FileNotifyInformation, fscc.FileNotifyInformationIter, fscc.FileNotifyInformationList](x.OutputBuffer))
		}
	case *smb2.IoctlRequest:
		if len(x.Input) > 0 {
			known, err := ioctl(x.CtlCode, false, x.Input)
			check("IOCTL input "+x.CtlCode.String(), known, err)
		}
	case *smb2.IoctlResponse:
		if ok && len(x.Output) > 0 {
			known, err := ioctl(x.CtlCode, true, x.Output)
			check("IOCTL output "+x.CtlCode.String(), known, err)
		}
	case *smb2.CreateRequest:
		for it := x.CreateContexts.Iter(); it.Next(); {
			e := it.Value()
			known, err := createContext(string(e.Name), false, e.Data)
			check("create context "+string(e.Name), known, err)
		}
	case *smb2.CreateResponse:
		for it := x.CreateContexts.Iter(); it.Next(); {
			e := it.Value()
			known, err := createContext(string(e.Name), true, e.Data)
			check("create context "+string(e.Name), known, err)
		}
	case *smb2.NegotiateRequest:
		for it := x.NegotiateContexts.Iter(); it.Next(); {
			e := it.Value()
			known, err := negotiateContext(e.ContextType, e.Data)
			check("negotiate context "+e.ContextType.String(), known, err)
		}
	case *smb2.NegotiateResponse:
		for it := x.NegotiateContexts.Iter(); it.Next(); {
			e := it.Value()
			known, err := negotiateContext(e.ContextType, e.Data)
			check("negotiate context "+e.ContextType.String(), known, err)
		}
	}
	return n, fail
}
