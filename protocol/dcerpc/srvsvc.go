package dcerpc

import "errors"

// Interfaces served on the srvsvc and wkssvc pipes.
var (
	// SrvsvcSyntax is the srvsvc interface (MS-SRVS 1.9), version 3.0.
	SrvsvcSyntax = SyntaxId{UUID: MustUUID("4b324fc8-1670-01d3-1278-5a47bf6ee188"), VersMajor: 3}
	// WkssvcSyntax is the wkssvc interface (MS-WKST 1.9), version 1.0.
	WkssvcSyntax = SyntaxId{UUID: MustUUID("6bffd098-a112-3610-9833-46c3f87e345a"), VersMajor: 1}
)

// Operation numbers.
const (
	OpNetrShareEnum       = 15 // MS-SRVS 3.1.4.8 (NetShareEnumAll)
	OpNetrShareGetInfo    = 16 // MS-SRVS 3.1.4.10
	OpNetrServerGetInfo   = 21 // MS-SRVS 3.1.4.17
	OpNetrShareEnumSticky = 36 // MS-SRVS 3.1.4.9: NetrShareEnum's signature
	OpNetrWkstaGetInfo    = 0  // MS-WKST 3.2.4.1
)

// Share types (MS-SRVS 2.2.2.4).
const (
	STypeDisktree  = 0x00000000
	STypePrintq    = 0x00000001
	STypeDevice    = 0x00000002
	STypeIPC       = 0x00000003
	STypeTemporary = 0x40000000
	STypeSpecial   = 0x80000000
)

// Win32 error codes of the NET API results (MS-ERREF 2.2).
const (
	ErrorSuccess          = 0
	ErrorAccessDenied     = 5
	ErrorInvalidParameter = 87
	ErrorInvalidLevel     = 124
	ErrorMoreData         = 234
	NERRNetNameNotFound   = 2310
)

// MaxPreferredLength asks for all entries (MS-SRVS 2.2.2.2).
const MaxPreferredLength = 0xFFFFFFFF

// Server types and platform (MS-SRVS 2.2.2.7, 2.2.2.6).
const (
	SVTypeWorkstation = 0x00000001
	SVTypeServer      = 0x00000002
	SVTypeNT          = 0x00001000
	SVTypeServerNT    = 0x00008000
	PlatformIDNT      = 500
)

// ShareInfo is one share at any SHARE_INFO level (MS-SRVS 2.2.4.22 to 2.2.4.29): level 0
// uses Name; 1 adds Type and Remark; 2 adds Permissions, MaxUses, CurrentUses, Path and
// Passwd; 501 is level 1 with Flags; 502 is level 2 with a security descriptor
// (self-relative, SecurityDescriptor; the server sends none); 1005 is Flags alone.
type ShareInfo struct {
	Name        string
	Type        uint32
	Remark      string
	Permissions uint32
	MaxUses     uint32
	CurrentUses uint32
	Path        string
	Passwd      *string
	Flags       uint32
	// SecurityDescriptor is the level 502 shi502_security_descriptor, nil for none.
	SecurityDescriptor []byte
}

// ErrBadLevel is returned by the codecs for an information level they do not know.
var ErrBadLevel = errors.New("dcerpc: unknown information level")

func knownShareLevel(level uint32, enum bool) bool {
	switch level {
	case 0, 1, 2, 501, 502:
		return true
	case 1005:
		return !enum
	}
	return false
}

// shareInfoFixed writes the fixed part of one SHARE_INFO_<level> (pointers as referents).
func shareInfoFixed(e *Encoder, level uint32, s *ShareInfo) {
	switch level {
	case 0:
		e.Pointer(true)
	case 1, 501:
		e.Pointer(true)
		e.Uint32(s.Type)
		e.Pointer(true)
		if level == 501 {
			e.Uint32(s.Flags)
		}
	case 2, 502:
		e.Pointer(true)
		e.Uint32(s.Type)
		e.Pointer(true)
		e.Uint32(s.Permissions)
		e.Uint32(s.MaxUses)
		e.Uint32(s.CurrentUses)
		e.Pointer(true)
		e.Pointer(s.Passwd != nil)
		if level == 502 {
			e.Uint32(uint32(len(s.SecurityDescriptor)))
			e.Pointer(s.SecurityDescriptor != nil)
		}
	case 1005:
		e.Uint32(s.Flags)
	}
}

// shareInfoDeferred writes the pointees of one SHARE_INFO_<level>.
func shareInfoDeferred(e *Encoder, level uint32, s *ShareInfo) {
	switch level {
	case 0:
		e.String(s.Name)
	case 1, 501:
		e.String(s.Name)
		e.String(s.Remark)
	case 2, 502:
		e.String(s.Name)
		e.String(s.Remark)
		e.String(s.Path)
		if s.Passwd != nil {
			e.String(*s.Passwd)
		}
		if level == 502 && s.SecurityDescriptor != nil {
			e.Uint32(uint32(len(s.SecurityDescriptor)))
			for _, c := range s.SecurityDescriptor {
				e.Uint8(c)
			}
		}
	}
}

type sharePtrs struct {
	name, remark, path, passwd, sd bool
	sdLen                          uint32
}

func decodeShareInfoFixed(d *Decoder, level uint32, s *ShareInfo) (p sharePtrs) {
	switch level {
	case 0:
		p.name = d.Pointer()
	case 1, 501:
		p.name = d.Pointer()
		s.Type = d.Uint32()
		p.remark = d.Pointer()
		if level == 501 {
			s.Flags = d.Uint32()
		}
	case 2, 502:
		p.name = d.Pointer()
		s.Type = d.Uint32()
		p.remark = d.Pointer()
		s.Permissions = d.Uint32()
		s.MaxUses = d.Uint32()
		s.CurrentUses = d.Uint32()
		p.path = d.Pointer()
		p.passwd = d.Pointer()
		if level == 502 {
			p.sdLen = d.Uint32()
			p.sd = d.Pointer()
		}
	case 1005:
		s.Flags = d.Uint32()
	}
	return p
}

func decodeShareInfoDeferred(d *Decoder, p sharePtrs, s *ShareInfo) {
	if p.name {
		s.Name = d.String()
	}
	if p.remark {
		s.Remark = d.String()
	}
	if p.path {
		s.Path = d.String()
	}
	if p.passwd {
		pw := d.String()
		s.Passwd = &pw
	}
	if p.sd {
		n := d.Uint32()
		if d.Err() != nil || n != p.sdLen || int(n) > d.Remaining() {
			d.fail()
			return
		}
		s.SecurityDescriptor = append([]byte{}, d.take(int(n))...)
	}
}

// NetrShareEnumRequest is the input of NetrShareEnum (opnum 15, MS-SRVS 3.1.4.8). The
// client's container (its entries) is read and ignored, as the server must.
type NetrShareEnumRequest struct {
	ServerName            *string
	Level                 uint32
	PreferedMaximumLength uint32
	ResumeHandle          *uint32
}

// Decode reads the request stub.
func (r *NetrShareEnumRequest) Decode(stub []byte) error {
	d := NewDecoder(stub)
	r.ServerName = d.UniqueString()
	r.Level = d.Uint32()
	tag := d.Uint32()
	if d.Err() == nil && tag != r.Level {
		return ErrNDR
	}
	if d.Pointer() { // SHARE_INFO_x_CONTAINER
		n := d.Uint32()
		if d.Pointer() {
			// a client-supplied buffer: skip it (conformant array of the level's structs)
			if !knownShareLevel(r.Level, true) {
				return ErrNDR
			}
			max := d.Uint32()
			if max < n || int(max) > d.Remaining() {
				return ErrNDR
			}
			ptrs := make([]sharePtrs, n)
			var tmp ShareInfo
			for i := range ptrs {
				ptrs[i] = decodeShareInfoFixed(d, r.Level, &tmp)
			}
			for i := range ptrs {
				decodeShareInfoDeferred(d, ptrs[i], &tmp)
			}
		}
	}
	r.PreferedMaximumLength = d.Uint32()
	if d.Pointer() {
		h := d.Uint32()
		r.ResumeHandle = &h
	}
	return d.Err()
}

// Encode writes the request stub (a client's; used by tests).
func (r *NetrShareEnumRequest) Encode(e *Encoder) {
	e.UniqueString(r.ServerName)
	e.Uint32(r.Level)
	e.Uint32(r.Level)
	e.Pointer(true)
	e.Uint32(0)
	e.Pointer(false)
	e.Uint32(r.PreferedMaximumLength)
	e.Pointer(r.ResumeHandle != nil)
	if r.ResumeHandle != nil {
		e.Uint32(*r.ResumeHandle)
	}
}

// NetrShareEnumResponse is the output of NetrShareEnum. A nil Shares with a known level is
// an empty container; an unknown level is written with a null container.
type NetrShareEnumResponse struct {
	Level        uint32
	Shares       []ShareInfo
	TotalEntries uint32
	ResumeHandle *uint32
	Result       uint32
}

// Encode writes the response stub.
func (r *NetrShareEnumResponse) Encode(e *Encoder) {
	e.Uint32(r.Level)
	e.Uint32(r.Level)
	ok := knownShareLevel(r.Level, true)
	e.Pointer(ok)
	if ok {
		e.Uint32(uint32(len(r.Shares)))
		e.Pointer(len(r.Shares) > 0)
		if len(r.Shares) > 0 {
			e.Uint32(uint32(len(r.Shares)))
			for i := range r.Shares {
				shareInfoFixed(e, r.Level, &r.Shares[i])
			}
			for i := range r.Shares {
				shareInfoDeferred(e, r.Level, &r.Shares[i])
			}
		}
	}
	e.Uint32(r.TotalEntries)
	e.Pointer(r.ResumeHandle != nil)
	if r.ResumeHandle != nil {
		e.Uint32(*r.ResumeHandle)
	}
	e.Uint32(r.Result)
}

// Decode reads the response stub (a client's view; used by tests).
func (r *NetrShareEnumResponse) Decode(stub []byte) error {
	d := NewDecoder(stub)
	r.Level = d.Uint32()
	if tag := d.Uint32(); d.Err() == nil && tag != r.Level {
		return ErrNDR
	}
	r.Shares = nil
	if d.Pointer() {
		if !knownShareLevel(r.Level, true) {
			return ErrBadLevel
		}
		n := d.Uint32()
		if d.Pointer() {
			max := d.Uint32()
			if max != n || int(n) > d.Remaining()/4 {
				return ErrNDR
			}
			r.Shares = make([]ShareInfo, n)
			ptrs := make([]sharePtrs, n)
			for i := range r.Shares {
				ptrs[i] = decodeShareInfoFixed(d, r.Level, &r.Shares[i])
			}
			for i := range r.Shares {
				decodeShareInfoDeferred(d, ptrs[i], &r.Shares[i])
			}
		}
	}
	r.TotalEntries = d.Uint32()
	r.ResumeHandle = nil
	if d.Pointer() {
		h := d.Uint32()
		r.ResumeHandle = &h
	}
	r.Result = d.Uint32()
	return d.Err()
}

// NetrShareGetInfoRequest is the input of NetrShareGetInfo (opnum 16, MS-SRVS 3.1.4.10).
type NetrShareGetInfoRequest struct {
	ServerName *string
	NetName    string
	Level      uint32
}

// Decode reads the request stub.
func (r *NetrShareGetInfoRequest) Decode(stub []byte) error {
	d := NewDecoder(stub)
	r.ServerName = d.UniqueString()
	r.NetName = d.String()
	r.Level = d.Uint32()
	return d.Err()
}

// Encode writes the request stub.
func (r *NetrShareGetInfoRequest) Encode(e *Encoder) {
	e.UniqueString(r.ServerName)
	e.String(r.NetName)
	e.Uint32(r.Level)
}

// NetrShareGetInfoResponse is the output of NetrShareGetInfo: the SHARE_INFO union (a
// pointer to the level's structure, null when Share is nil or the level unknown) and the
// result.
type NetrShareGetInfoResponse struct {
	Level  uint32
	Share  *ShareInfo
	Result uint32
}

// Encode writes the response stub.
func (r *NetrShareGetInfoResponse) Encode(e *Encoder) {
	e.Uint32(r.Level)
	ok := r.Share != nil && knownShareLevel(r.Level, false)
	e.Pointer(ok)
	if ok {
		shareInfoFixed(e, r.Level, r.Share)
		shareInfoDeferred(e, r.Level, r.Share)
	}
	e.Uint32(r.Result)
}

// Decode reads the response stub.
func (r *NetrShareGetInfoResponse) Decode(stub []byte) error {
	d := NewDecoder(stub)
	r.Level = d.Uint32()
	r.Share = nil
	if d.Pointer() {
		if !knownShareLevel(r.Level, false) {
			return ErrBadLevel
		}
		var s ShareInfo
		p := decodeShareInfoFixed(d, r.Level, &s)
		decodeShareInfoDeferred(d, p, &s)
		r.Share = &s
	}
	r.Result = d.Uint32()
	return d.Err()
}

// ServerInfo is SERVER_INFO_100 / SERVER_INFO_101 (MS-SRVS 2.2.4.40, 2.2.4.41).
type ServerInfo struct {
	PlatformID   uint32
	Name         string
	VersionMajor uint32
	VersionMinor uint32
	Type         uint32
	Comment      string
}

// NetrServerGetInfoRequest is the input of NetrServerGetInfo (opnum 21, MS-SRVS 3.1.4.17).
type NetrServerGetInfoRequest struct {
	ServerName *string
	Level      uint32
}

// Decode reads the request stub.
func (r *NetrServerGetInfoRequest) Decode(stub []byte) error {
	d := NewDecoder(stub)
	r.ServerName = d.UniqueString()
	r.Level = d.Uint32()
	return d.Err()
}

// Encode writes the request stub.
func (r *NetrServerGetInfoRequest) Encode(e *Encoder) {
	e.UniqueString(r.ServerName)
	e.Uint32(r.Level)
}

// NetrServerGetInfoResponse is the output of NetrServerGetInfo at level 100 or 101.
type NetrServerGetInfoResponse struct {
	Level  uint32
	Info   *ServerInfo
	Result uint32
}

// Encode writes the response stub.
func (r *NetrServerGetInfoResponse) Encode(e *Encoder) {
	e.Uint32(r.Level)
	ok := r.Info != nil && (r.Level == 100 || r.Level == 101)
	e.Pointer(ok)
	if ok {
		i := r.Info
		e.Uint32(i.PlatformID)
		e.Pointer(true)
		if r.Level == 101 {
			e.Uint32(i.VersionMajor)
			e.Uint32(i.VersionMinor)
			e.Uint32(i.Type)
			e.Pointer(true)
		}
		e.String(i.Name)
		if r.Level == 101 {
			e.String(i.Comment)
		}
	}
	e.Uint32(r.Result)
}

// Decode reads the response stub.
func (r *NetrServerGetInfoResponse) Decode(stub []byte) error {
	d := NewDecoder(stub)
	r.Level = d.Uint32()
	r.Info = nil
	if d.Pointer() {
		if r.Level != 100 && r.Level != 101 {
			return ErrBadLevel
		}
		var i ServerInfo
		i.PlatformID = d.Uint32()
		pn, pc := d.Pointer(), false
		if r.Level == 101 {
			i.VersionMajor = d.Uint32()
			i.VersionMinor = d.Uint32()
			i.Type = d.Uint32()
			pc = d.Pointer()
		}
		if pn {
			i.Name = d.String()
		}
		if pc {
			i.Comment = d.String()
		}
		r.Info = &i
	}
	r.Result = d.Uint32()
	return d.Err()
}

// WkstaInfo is WKSTA_INFO_100 (MS-WKST 2.2.5.1).
type WkstaInfo struct {
	PlatformID   uint32
	ComputerName string
	LanGroup     string
	VerMajor     uint32
	VerMinor     uint32
}

// NetrWkstaGetInfoRequest is the input of NetrWkstaGetInfo (opnum 0, MS-WKST 3.2.4.1).
type NetrWkstaGetInfoRequest struct {
	ServerName *string
	Level      uint32
}

// Decode reads the request stub.
func (r *NetrWkstaGetInfoRequest) Decode(stub []byte) error {
	d := NewDecoder(stub)
	r.ServerName = d.UniqueString()
	r.Level = d.Uint32()
	return d.Err()
}

// Encode writes the request stub.
func (r *NetrWkstaGetInfoRequest) Encode(e *Encoder) {
	e.UniqueString(r.ServerName)
	e.Uint32(r.Level)
}

// NetrWkstaGetInfoResponse is the output of NetrWkstaGetInfo at level 100.
type NetrWkstaGetInfoResponse struct {
	Level  uint32
	Info   *WkstaInfo
	Result uint32
}

// Encode writes the response stub.
func (r *NetrWkstaGetInfoResponse) Encode(e *Encoder) {
	e.Uint32(r.Level)
	ok := r.Info != nil && r.Level == 100
	e.Pointer(ok)
	if ok {
		e.Uint32(r.Info.PlatformID)
		e.Pointer(true)
		e.Pointer(true)
		e.Uint32(r.Info.VerMajor)
		e.Uint32(r.Info.VerMinor)
		e.String(r.Info.ComputerName)
		e.String(r.Info.LanGroup)
	}
	e.Uint32(r.Result)
}

// Decode reads the response stub.
func (r *NetrWkstaGetInfoResponse) Decode(stub []byte) error {
	d := NewDecoder(stub)
	r.Level = d.Uint32()
	r.Info = nil
	if d.Pointer() {
		if r.Level != 100 {
			return ErrBadLevel
		}
		var i WkstaInfo
		i.PlatformID = d.Uint32()
		pc, pl := d.Pointer(), d.Pointer()
		i.VerMajor = d.Uint32()
		i.VerMinor = d.Uint32()
		if pc {
			i.ComputerName = d.String()
		}
		if pl {
			i.LanGroup = d.String()
		}
		r.Info = &i
	}
	r.Result = d.Uint32()
	return d.Err()
}
