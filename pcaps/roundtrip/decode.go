package roundtrip

import (
	"github.com/smbvfs/smbvfs/protocol/dtyp"
	"github.com/smbvfs/smbvfs/protocol/fscc"
	"github.com/smbvfs/smbvfs/protocol/smb2"
)

// The decoders of the payloads, for readers that compare captured and live responses
// (pcaps/replay): each returns the decoded structures (a slice of element values for a list)
// and false when the payload is not one it knows or does not decode.

// collect decodes a chained list into its elements.
func collect[E, I, L any,
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
	}](data []byte) ([]any, bool) {
	var in L
	if _, err := PL(&in).DecodeChain(data, -1, true); err != nil {
		return nil, false
	}
	var out []any
	it := PL(&in).Iter()
	for PI(&it).Next() {
		out = append(out, *PI(&it).Value())
	}
	return out, PI(&it).Err() == nil
}

// DecodeInfo decodes a QUERY_INFO output buffer.
func DecodeInfo(t smb2.InfoType, class uint8, data []byte) ([]any, bool) {
	var m structure
	switch t {
	case smb2.InfoFile:
		c := fscc.FileInformationClass(class)
		switch c {
		case fscc.ClassFileStreamInformation:
			return collect[fscc.FileStreamInformation, fscc.FileStreamInformationIter, fscc.FileStreamInformationList](data)
		case fscc.ClassFileFullEaInformation:
			return collect[fscc.FileFullEaInformation, fscc.FileFullEaInformationIter, fscc.FileFullEaInformationList](data)
		}
		m = fileInfo(c)
	case smb2.InfoFilesystem:
		m = fsInfo(fscc.FsInformationClass(class))
	case smb2.InfoSecurity:
		m = new(dtyp.SecurityDescriptor)
	}
	if m == nil || m.Decode(data) != nil {
		return nil, false
	}
	return []any{m}, true
}

// DecodeDirectory decodes a QUERY_DIRECTORY output buffer.
func DecodeDirectory(class fscc.FileInformationClass, data []byte) ([]any, bool) {
	switch class {
	case fscc.ClassFileDirectoryInformation:
		return collect[fscc.FileDirectoryInformation, fscc.FileDirectoryInformationIter, fscc.FileDirectoryInformationList](data)
	case fscc.ClassFileFullDirectoryInformation:
		return collect[fscc.FileFullDirectoryInformation, fscc.FileFullDirectoryInformationIter, fscc.FileFullDirectoryInformationList](data)
	case fscc.ClassFileBothDirectoryInformation:
		return collect[fscc.FileBothDirectoryInformation, fscc.FileBothDirectoryInformationIter, fscc.FileBothDirectoryInformationList](data)
	case fscc.ClassFileNamesInformation:
		return collect[fscc.FileNamesInformation, fscc.FileNamesInformationIter, fscc.FileNamesInformationList](data)
	case fscc.ClassFileIdBothDirectoryInformation:
		return collect[fscc.FileIdBothDirectoryInformation, fscc.FileIdBothDirectoryInformationIter, fscc.FileIdBothDirectoryInformationList](data)
	case fscc.ClassFileIdFullDirectoryInformation:
		return collect[fscc.FileIdFullDirectoryInformation, fscc.FileIdFullDirectoryInformationIter, fscc.FileIdFullDirectoryInformationList](data)
	case fscc.ClassFileIdExtdDirectoryInformation:
		return collect[fscc.FileIdExtdDirectoryInformation, fscc.FileIdExtdDirectoryInformationIter, fscc.FileIdExtdDirectoryInformationList](data)
	}
	return nil, false
}

// DecodeIoctl decodes an FSCTL output buffer.
func DecodeIoctl(code fscc.CtlCode, data []byte) ([]any, bool) {
	var m structure
	switch code {
	case fscc.FsctlValidateNegotiateInfo:
		m = new(fscc.ValidateNegotiateInfoResponse)
	case fscc.FsctlQueryNetworkInterfaceInfo:
		return collect[fscc.NetworkInterfaceInfo, fscc.NetworkInterfaceInfoIter, fscc.NetworkInterfaceInfoList](data)
	case fscc.FsctlSrvRequestResumeKey:
		m = new(fscc.SrvRequestResumeKey)
	case fscc.FsctlSrvCopychunk, fscc.FsctlSrvCopychunkWrite:
		m = new(fscc.SrvCopychunkResponse)
	case fscc.FsctlSrvEnumerateSnapshots:
		m = new(fscc.SrvSnapshotArray)
	case fscc.FsctlDfsGetReferrals:
		m = new(fscc.RespGetDfsReferral)
	}
	if m == nil || m.Decode(data) != nil {
		return nil, false
	}
	return []any{m}, true
}
