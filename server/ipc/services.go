package ipc

import (
	"strings"

	"github.com/smbvfs/smbvfs/protocol/dcerpc"
)

// srvsvc serves MS-SRVS: share enumeration, share and server information.
type srvsvc struct{}

func (srvsvc) syntax() dcerpc.SyntaxId { return dcerpc.SrvsvcSyntax }

func (srvsvc) call(c *callCtx, opnum uint16, stub []byte) ([]byte, dcerpc.FaultStatus) {
	e := &c.enc
	cfg := &c.tree.share.cfg
	switch opnum {
	case dcerpc.OpNetrShareEnum, dcerpc.OpNetrShareEnumSticky:
		var req dcerpc.NetrShareEnumRequest
		if req.Decode(stub) != nil {
			return nil, dcerpc.NcaFaultNdr
		}
		all := c.tree.share.shares()
		if opnum == dcerpc.OpNetrShareEnumSticky {
			// the sticky (persistent, configured) shares: not the special ones
			all = c.tree.share.sticky
		}
		resp := shareEnum(all, &req)
		resp.Encode(e)
	case dcerpc.OpNetrShareGetInfo:
		var req dcerpc.NetrShareGetInfoRequest
		if req.Decode(stub) != nil {
			return nil, dcerpc.NcaFaultNdr
		}
		resp := dcerpc.NetrShareGetInfoResponse{Level: req.Level}
		switch req.Level {
		case 0, 1, 2, 501, 502, 1005:
			resp.Result = dcerpc.NERRNetNameNotFound
			for _, s := range c.tree.share.shares() {
				if strings.EqualFold(s.Name, req.NetName) {
					info := s
					resp.Share, resp.Result = &info, dcerpc.ErrorSuccess
					break
				}
			}
		default:
			resp.Result = dcerpc.ErrorInvalidLevel
		}
		resp.Encode(e)
	case dcerpc.OpNetrServerGetInfo:
		var req dcerpc.NetrServerGetInfoRequest
		if req.Decode(stub) != nil {
			return nil, dcerpc.NcaFaultNdr
		}
		resp := dcerpc.NetrServerGetInfoResponse{Level: req.Level}
		switch req.Level {
		case 100, 101:
			resp.Info = &dcerpc.ServerInfo{
				PlatformID:   dcerpc.PlatformIDNT,
				Name:         cfg.ServerName,
				VersionMajor: 10,
				VersionMinor: 0,
				Type:         dcerpc.SVTypeWorkstation | dcerpc.SVTypeServer | dcerpc.SVTypeNT | dcerpc.SVTypeServerNT,
				Comment:      cfg.Comment,
			}
		default:
			resp.Result = dcerpc.ErrorInvalidLevel
		}
		resp.Encode(e)
	default:
		return nil, dcerpc.NcaOpRngError
	}
	return e.Bytes(), 0
}

// shareEnum answers NetrShareEnum (MS-SRVS 3.1.4.8): entries from the resume handle on,
// as many as PreferedMaximumLength allows (at least one), ERROR_MORE_DATA and the index of
// the next entry in the resume handle when some are left.
func shareEnum(all []dcerpc.ShareInfo, req *dcerpc.NetrShareEnumRequest) dcerpc.NetrShareEnumResponse {
	resp := dcerpc.NetrShareEnumResponse{Level: req.Level, TotalEntries: uint32(len(all))}
	switch req.Level {
	case 0, 1, 2, 501, 502:
	default:
		resp.Result = dcerpc.ErrorInvalidLevel
		resp.TotalEntries = 0
		return resp
	}
	start := 0
	if req.ResumeHandle != nil {
		start = int(min(*req.ResumeHandle, uint32(len(all))))
	}
	end := len(all)
	if req.PreferedMaximumLength != dcerpc.MaxPreferredLength {
		size, end2 := 0, start
		for end2 < len(all) {
			size += entrySize(req.Level, &all[end2])
			if size > int(req.PreferedMaximumLength) && end2 > start {
				break
			}
			end2++
		}
		end = end2
	}
	resp.Shares = all[start:end]
	if end < len(all) {
		resp.Result = dcerpc.ErrorMoreData
		h := uint32(end)
		resp.ResumeHandle = &h
	} else if req.ResumeHandle != nil {
		h := uint32(0)
		resp.ResumeHandle = &h
	}
	return resp
}

// entrySize is the size an entry takes in the caller's buffer, as the NET API counts it:
// the fixed structure plus its strings with their NULs.
func entrySize(level uint32, s *dcerpc.ShareInfo) int {
	str := func(x string) int { return 2 * (len([]rune(x)) + 1) }
	switch level {
	case 0:
		return 4 + str(s.Name)
	case 1:
		return 12 + str(s.Name) + str(s.Remark)
	case 501:
		return 16 + str(s.Name) + str(s.Remark)
	case 502:
		return 40 + str(s.Name) + str(s.Remark) + str(s.Path) + len(s.SecurityDescriptor)
	default:
		return 32 + str(s.Name) + str(s.Remark) + str(s.Path)
	}
}

// wkssvc serves MS-WKST NetrWkstaGetInfo.
type wkssvc struct{}

func (wkssvc) syntax() dcerpc.SyntaxId { return dcerpc.WkssvcSyntax }

func (wkssvc) call(c *callCtx, opnum uint16, stub []byte) ([]byte, dcerpc.FaultStatus) {
	e := &c.enc
	cfg := &c.tree.share.cfg
	switch opnum {
	case dcerpc.OpNetrWkstaGetInfo:
		var req dcerpc.NetrWkstaGetInfoRequest
		if req.Decode(stub) != nil {
			return nil, dcerpc.NcaFaultNdr
		}
		resp := dcerpc.NetrWkstaGetInfoResponse{Level: req.Level}
		if req.Level == 100 {
			resp.Info = &dcerpc.WkstaInfo{PlatformID: dcerpc.PlatformIDNT, ComputerName: cfg.ServerName, LanGroup: cfg.Domain, VerMajor: 10, VerMinor: 0}
		} else {
			resp.Result = dcerpc.ErrorInvalidLevel
		}
		resp.Encode(e)
	default:
		return nil, dcerpc.NcaOpRngError
	}
	return e.Bytes(), 0
}
