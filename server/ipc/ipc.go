// Package ipc is the IPC$ share of the server: named pipes opened by CREATE on IPC$, each
// the client end of a DCE/RPC association (ncacn_np, MS-RPCE 2.1.1.2) with one of the
// server's RPC services:
//
//	srvsvc  MS-SRVS: NetrShareEnum (NetShareEnumAll), NetrShareGetInfo, NetrServerGetInfo
//	wkssvc  MS-WKST: NetrWkstaGetInfo
//
// A pipe is in message mode: each PDU the server sends is one message. WRITE feeds PDUs
// to the association and queues its answers; READ returns the next message (with
// STATUS_BUFFER_OVERFLOW when it does not fit, the rest staying for the next READ);
// FSCTL_PIPE_TRANSCEIVE does both. A READ when nothing is queued answers STATUS_PIPE_EMPTY
// at once: every answer of these services is queued by the WRITE that asks for it, so the
// clients (Windows, smbclient/rpcclient, impacket) never wait on a pipe.
//
// The Tree has the methods of the connection engine's file tree (the methods of
// *ntfs.Tree).
package ipc

import (
	"context"
	"strings"
	"sync"

	"github.com/smbvfs/smbvfs/protocol/dcerpc"
	"github.com/smbvfs/smbvfs/protocol/fscc"
	"github.com/smbvfs/smbvfs/protocol/ntstatus"
	"github.com/smbvfs/smbvfs/protocol/smb2"
	"github.com/smbvfs/smbvfs/server/ntfs"
)

// ShareEntry is one share of the server as the RPC services list it.
type ShareEntry struct {
	Name    string
	Comment string
	// Type is the share type (dcerpc.STypeDisktree, dcerpc.STypeIPC, ...); the special
	// bit (STYPE_SPECIAL) is added to IPC$ and to hidden shares (a name ending in $).
	Type uint32
}

// Config configures the IPC$ share.
type Config struct {
	ServerName string // the NetBIOS name (SERVER_INFO_10x, WKSTA_INFO_100)
	Domain     string // the workgroup or domain (WKSTA_INFO_100 langroup)
	Comment    string // the server comment (SERVER_INFO_101)
	// Shares are the shares of the server; IPC$ is added when missing.
	Shares []ShareEntry
}

// Share is the IPC$ share: the state every tree connect to it shares.
type Share struct {
	cfg    Config
	list   []dcerpc.ShareInfo
	sticky []dcerpc.ShareInfo // the shares without STYPE_SPECIAL
	mu     sync.Mutex
	seq    uint64
}

// IPCComment is the comment of IPC$, as Windows gives it.
const IPCComment = "Remote IPC"

// NewShare builds the IPC$ share.
func NewShare(cfg Config) *Share {
	s := &Share{cfg: cfg}
	haveIPC := false
	for _, e := range cfg.Shares {
		if strings.EqualFold(e.Name, "IPC$") {
			haveIPC = true
		}
	}
	entries := cfg.Shares
	if !haveIPC {
		entries = append(append([]ShareEntry{}, entries...), ShareEntry{Name: "IPC$", Comment: IPCComment, Type: dcerpc.STypeIPC})
	}
	for _, e := range entries {
		t := e.Type
		if strings.EqualFold(e.Name, "IPC$") {
			t = dcerpc.STypeIPC
		}
		if strings.HasSuffix(e.Name, "$") {
			t |= dcerpc.STypeSpecial
		}
		s.list = append(s.list, dcerpc.ShareInfo{
			Name: e.Name, Type: t, Remark: e.Comment,
			MaxUses: 0xFFFFFFFF, // SHI_USES_UNLIMITED
		})
		if t&dcerpc.STypeSpecial == 0 {
			s.sticky = append(s.sticky, s.list[len(s.list)-1])
		}
	}
	return s
}

// shares returns the share list in the order configured (IPC$ last when added here).
func (s *Share) shares() []dcerpc.ShareInfo { return s.list }

// Connect makes a tree connect.
func (s *Share) Connect(ctx context.Context, id ntfs.Identity) (*Tree, error) {
	return &Tree{share: s, id: id, opens: map[smb2.FileId]*pipe{}}, nil
}

// Tree is one tree connect to IPC$.
type Tree struct {
	share *Share
	id    ntfs.Identity
	mu    sync.Mutex
	opens map[smb2.FileId]*pipe
}

// pipe is one open of a named pipe.
type pipe struct {
	name string
	ep   *endpoint
	mode fscc.PipeReadMode
}

// pipes are the named pipes served: name (lower case) to service.
var pipes = map[string]func() service{
	"srvsvc": func() service { return srvsvc{} },
	"wkssvc": func() service { return wkssvc{} },
}

// pipeName returns the pipe a CREATE names: "srvsvc", `\srvsvc`, `PIPE\srvsvc`.
func pipeName(name string) string {
	n := strings.ToLower(strings.TrimLeft(strings.ReplaceAll(name, "/", `\`), `\`))
	n = strings.TrimPrefix(n, `pipe\`)
	return n
}

func (t *Tree) lookup(fid smb2.FileId) *pipe {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.opens[fid]
}

// Create opens a named pipe (MS-SMB2 3.3.5.9 on a pipe share).
func (t *Tree) Create(r *ntfs.Req, req *smb2.CreateRequest, resp *smb2.CreateResponse) ntstatus.Status {
	name := pipeName(req.Name.String())
	mk, ok := pipes[name]
	if !ok || name == "" {
		return ntstatus.StatusObjectNameNotFound
	}
	if req.CreateOptions&smb2.CreateOptions(0x00000001) != 0 { // FILE_DIRECTORY_FILE
		return ntstatus.StatusNotADirectory
	}
	t.share.mu.Lock()
	t.share.seq++
	seq := t.share.seq
	t.share.mu.Unlock()
	fid := smb2.FileId{Persistent: seq, Volatile: seq ^ 0x5a5a5a5a00000000}
	p := &pipe{name: name, mode: fscc.PipeReadModeMessage}
	p.ep = newEndpoint(t, mk(), name)
	t.mu.Lock()
	t.opens[fid] = p
	t.mu.Unlock()
	*resp = smb2.CreateResponse{
		CreateAction:   smb2.FileOpened,
		AllocationSize: 4096,
		FileAttributes: fscc.FileAttributeNormal,
		FileId:         fid,
	}
	return ntstatus.StatusSuccess
}

// Close closes a pipe.
func (t *Tree) Close(r *ntfs.Req, req *smb2.CloseRequest, resp *smb2.CloseResponse) ntstatus.Status {
	t.mu.Lock()
	p := t.opens[req.FileId]
	delete(t.opens, req.FileId)
	t.mu.Unlock()
	if p == nil {
		return ntstatus.StatusFileClosed
	}
	*resp = smb2.CloseResponse{Flags: req.Flags}
	if req.Flags&smb2.CloseFlags(1) != 0 { // SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB
		resp.AllocationSize = 4096
		resp.FileAttributes = fscc.FileAttributeNormal
	}
	return ntstatus.StatusSuccess
}

// Flush succeeds on a pipe: the data written has been consumed.
func (t *Tree) Flush(r *ntfs.Req, req *smb2.FlushRequest, resp *smb2.FlushResponse) ntstatus.Status {
	if t.lookup(req.FileId) == nil {
		return ntstatus.StatusFileClosed
	}
	return ntstatus.StatusSuccess
}

// Write feeds the data to the pipe's RPC association.
func (t *Tree) Write(r *ntfs.Req, req *smb2.WriteRequest, resp *smb2.WriteResponse) ntstatus.Status {
	p := t.lookup(req.FileId)
	if p == nil {
		return ntstatus.StatusFileClosed
	}
	t.mu.Lock()
	p.ep.write(req.Data)
	t.mu.Unlock()
	resp.Count = uint32(len(req.Data))
	return ntstatus.StatusSuccess
}

// Read returns the next message of the pipe, or what fits of it with
// STATUS_BUFFER_OVERFLOW.
func (t *Tree) Read(r *ntfs.Req, req *smb2.ReadRequest, resp *smb2.ReadResponse) ntstatus.Status {
	p := t.lookup(req.FileId)
	if p == nil {
		return ntstatus.StatusFileClosed
	}
	t.mu.Lock()
	data, more, ok := p.ep.read(int(req.Length))
	t.mu.Unlock()
	if !ok {
		return ntstatus.StatusPipeEmpty
	}
	resp.Data = append(r.Buf[:0], data...)
	if more && p.mode == fscc.PipeReadModeMessage {
		return ntstatus.StatusBufferOverflow
	}
	return ntstatus.StatusSuccess
}

// Lock is not a pipe operation.
func (t *Tree) Lock(r *ntfs.Req, req *smb2.LockRequest, resp *smb2.LockResponse) ntstatus.Status {
	return ntstatus.StatusInvalidDeviceRequest
}

// Ioctl answers the pipe FSCTLs: TRANSCEIVE, WAIT and PEEK.
func (t *Tree) Ioctl(r *ntfs.Req, req *smb2.IoctlRequest, resp *smb2.IoctlResponse) ntstatus.Status {
	resp.CtlCode = req.CtlCode
	resp.FileId = req.FileId
	switch req.CtlCode {
	case fscc.FsctlPipeWait:
		// MS-FSCC 2.3.49: success when an instance of the pipe is available; every
		// served pipe always has one.
		var w fscc.FsctlPipeWaitRequest
		if err := w.Decode(req.Input); err != nil {
			return ntstatus.StatusInvalidParameter
		}
		if _, ok := pipes[pipeName(w.Name.String())]; !ok {
			return ntstatus.StatusObjectNameNotFound
		}
		return ntstatus.StatusSuccess
	case fscc.FsctlPipeTransceive:
		p := t.lookup(req.FileId)
		if p == nil {
			return ntstatus.StatusFileClosed
		}
		t.mu.Lock()
		defer t.mu.Unlock()
		if p.ep.pending() > 0 {
			// MS-FSCC 2.3.47: the pipe must be empty before a transceive.
			return ntstatus.StatusPipeBusy
		}
		p.ep.write(req.Input)
		data, more, ok := p.ep.read(int(req.MaxOutputResponse))
		if !ok {
			return ntstatus.StatusSuccess // nothing to answer (auth3)
		}
		resp.Output = append(r.Buf[:0], data...)
		if more {
			return ntstatus.StatusBufferOverflow
		}
		return ntstatus.StatusSuccess
	case fscc.FsctlPipePeek:
		p := t.lookup(req.FileId)
		if p == nil {
			return ntstatus.StatusFileClosed
		}
		if req.MaxOutputResponse < 16 {
			return ntstatus.StatusBufferTooSmall
		}
		t.mu.Lock()
		defer t.mu.Unlock()
		var msgLen, n int
		var first []byte
		if len(p.ep.out) > 0 {
			first = p.ep.out[0][p.ep.part:]
			msgLen, n = len(first), len(p.ep.out)
		}
		out := make([]byte, 16, 16+len(first))
		le32(out[0:], uint32(fscc.PipeStateConnected))
		le32(out[4:], uint32(p.ep.pending()))
		le32(out[8:], uint32(n))
		le32(out[12:], uint32(msgLen))
		room := int(req.MaxOutputResponse) - 16
		out = append(out, first[:min(room, len(first))]...)
		resp.Output = out
		if room < len(first) {
			return ntstatus.StatusBufferOverflow
		}
		return ntstatus.StatusSuccess
	}
	return ntstatus.StatusInvalidDeviceRequest
}

func le32(b []byte, v uint32) { b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24) }

// QueryDirectory is not a pipe operation.
func (t *Tree) QueryDirectory(r *ntfs.Req, req *smb2.QueryDirectoryRequest, resp *smb2.QueryDirectoryResponse) ntstatus.Status {
	return ntstatus.StatusInvalidParameter
}

// ChangeNotify is not a pipe operation.
func (t *Tree) ChangeNotify(r *ntfs.Req, req *smb2.ChangeNotifyRequest, resp *smb2.ChangeNotifyResponse) ntstatus.Status {
	return ntstatus.StatusInvalidDeviceRequest
}

// QueryInfo answers the file information classes Windows answers on a pipe.
func (t *Tree) QueryInfo(r *ntfs.Req, req *smb2.QueryInfoRequest, resp *smb2.QueryInfoResponse) ntstatus.Status {
	p := t.lookup(req.FileId)
	if p == nil {
		return ntstatus.StatusFileClosed
	}
	if req.InfoType != smb2.InfoFile {
		return ntstatus.StatusNotSupported
	}
	t.mu.Lock()
	avail := p.ep.pending()
	mode := p.mode
	t.mu.Unlock()
	var out []byte
	var err error
	buf := r.Buf[:0]
	switch fscc.FileInformationClass(req.FileInfoClass) {
	case fscc.ClassFileBasicInformation:
		v := fscc.FileBasicInformation{FileAttributes: fscc.FileAttributeNormal}
		out, err = v.Append(buf)
	case fscc.ClassFileStandardInformation:
		// Windows reports a pipe as a one-link file of 4 KiB allocation, delete pending.
		v := fscc.FileStandardInformation{AllocationSize: 4096, NumberOfLinks: 1, DeletePending: 1}
		out, err = v.Append(buf)
	case fscc.ClassFileNetworkOpenInformation:
		v := fscc.FileNetworkOpenInformation{AllocationSize: 4096, FileAttributes: fscc.FileAttributeNormal}
		out, err = v.Append(buf)
	case fscc.ClassFilePipeInformation:
		v := fscc.FilePipeInformation{ReadMode: mode, CompletionMode: fscc.PipeQueueOperation}
		out, err = v.Append(buf)
	case fscc.ClassFilePipeLocalInformation:
		v := fscc.FilePipeLocalInformation{
			NamedPipeType:          fscc.PipeTypeMessage,
			NamedPipeConfiguration: fscc.PipeFullDuplex,
			MaximumInstances:       0xFFFFFFFF, // unlimited
			CurrentInstances:       1,
			InboundQuota:           serverMaxFrag,
			ReadDataAvailable:      uint32(avail),
			OutboundQuota:          serverMaxFrag,
			WriteQuotaAvailable:    serverMaxFrag,
			NamedPipeState:         fscc.PipeStateConnected,
			NamedPipeEnd:           fscc.PipeClientEnd,
		}
		out, err = v.Append(buf)
	default:
		return ntstatus.StatusInvalidInfoClass
	}
	if err != nil {
		return ntstatus.StatusInvalidParameter
	}
	if len(out) > int(req.OutputBufferLength) {
		return ntstatus.StatusInfoLengthMismatch
	}
	resp.OutputBuffer = out
	return ntstatus.StatusSuccess
}

// SetInfo accepts FilePipeInformation (the read mode); nothing else is settable.
func (t *Tree) SetInfo(r *ntfs.Req, req *smb2.SetInfoRequest, resp *smb2.SetInfoResponse) ntstatus.Status {
	p := t.lookup(req.FileId)
	if p == nil {
		return ntstatus.StatusFileClosed
	}
	if req.InfoType == smb2.InfoFile && fscc.FileInformationClass(req.FileInfoClass) == fscc.ClassFilePipeInformation {
		var v fscc.FilePipeInformation
		if err := v.Decode(req.Buffer); err != nil {
			return ntstatus.StatusInfoLengthMismatch
		}
		if v.ReadMode > fscc.PipeReadModeMessage || v.CompletionMode > fscc.PipeCompleteOperation {
			return ntstatus.StatusInvalidParameter
		}
		t.mu.Lock()
		p.mode = v.ReadMode
		t.mu.Unlock()
		return ntstatus.StatusSuccess
	}
	return ntstatus.StatusInvalidDeviceRequest
}

// OplockBreak: pipes are never granted oplocks.
func (t *Tree) OplockBreak(r *ntfs.Req, req *smb2.OplockBreakRequestForms, resp *smb2.OplockBreakResponseForms) ntstatus.Status {
	return ntstatus.StatusInvalidOplockProtocol
}

// Disconnect closes every pipe of the tree.
func (t *Tree) Disconnect(ctx context.Context) {
	t.mu.Lock()
	clear(t.opens)
	t.mu.Unlock()
}
