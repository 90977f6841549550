// Package ntfs is the NT file-system engine of the server: the semantics Windows clients
// expect from a share (create dispositions and options, access checks, share modes,
// delete-on-close, case-insensitive names, wildcard listings, information classes,
// alternate data streams, byte-range locks, FSCTLs), implemented once over the small
// backends/vfs contract so that every backend gets them.
//
// The connection engine (package server) owns transport, sessions, signing, credits and
// compounds; it calls a Tree's methods with decoded requests and encodes what they fill in.
// A Tree never sees the wire.
package ntfs

import (
	"context"

	"github.com/smbvfs/smbvfs/protocol/dtyp"
	"github.com/smbvfs/smbvfs/protocol/smb2"
)

// Identity is who a tree connect acts for.
type Identity struct {
	User      string
	Domain    string
	Guest     bool // authenticated as the guest account
	Anonymous bool // null session
}

// ShareOptions configures a share.
type ShareOptions struct {
	Comment  string
	ReadOnly bool // every change is refused with STATUS_MEDIA_WRITE_PROTECTED / ACCESS_DENIED
}

// Req carries what the connection engine knows of one request.
type Req struct {
	Ctx       context.Context
	Dialect   smb2.Dialect
	SessionID uint64
	// Buf is scratch space owned by the connection, valid until the response has been sent.
	// Response fields (READ data, QUERY_DIRECTORY and QUERY_INFO output) may point into it;
	// when it is too small the engine allocates.
	Buf []byte
	// MaxRead, MaxWrite, MaxTransact are the negotiated limits.
	MaxRead, MaxWrite, MaxTransact int
	// Notifier, set by the connection engine, sends unsolicited messages (OPLOCK_BREAK
	// notifications, MS-SMB2 3.3.4.6) to the connection of the request. A Tree keeps it
	// with each open it grants an oplock to; without one, no oplock is granted.
	Notifier Notifier
	// OplockWait says how a CREATE waits for the acknowledgments of the oplock breaks it
	// causes (oplock.go); the zero value, OplockWaitOthers, suits a request that cannot go
	// asynchronous.
	OplockWait OplockWait
	// Replay is SMB2_FLAGS_REPLAY_OPERATION of the request's header; ClientGuid the
	// ClientGuid of its connection (durable v2 replay detection, durable.go).
	Replay     bool
	ClientGuid dtyp.GUID

	// Set by the Tree (every method clears them first), read by the engine:

	// ErrorData, when the returned status goes out as an SMB2 ERROR response, is its
	// ErrorData (MS-SMB2 2.2.2): the 4-byte required buffer size of STATUS_BUFFER_TOO_SMALL
	// for a security query (MS-SMB2 3.3.5.20.3). Dialect 3.1.1 wraps it in an error
	// context; the engine does that.
	ErrorData []byte
	// BodyOnError asks the engine to send resp as the response body although the status
	// is an error: FSCTL_SRV_COPYCHUNK answers STATUS_INVALID_PARAMETER with the server
	// limits, and a failed copy with the progress made (MS-SMB2 3.3.5.15.6.1, .2).
	BodyOnError bool
}

// A Notifier sends a server-initiated message on one connection: MessageId
// 0xFFFFFFFFFFFFFFFF, encrypted for sessionID when that session or its tree requires it.
// It must not block for long (the message is written, not acknowledged).
type Notifier interface {
	Notify(sessionID uint64, cmd smb2.Command, body smb2.Body) error
}

func (r *Req) reset() {
	r.ErrorData = nil
	r.BodyOnError = false
}

// ctx returns the request context (never nil).
func (r *Req) ctx() context.Context {
	if r.Ctx == nil {
		return context.Background()
	}
	return r.Ctx
}

// A Share is one exported vfs.FS with its options and the state shared by every tree
// connect to it (open files, share modes, locks).
//
// type Share struct { ... }
// func NewShare(name string, fs vfs.FS, opt ShareOptions) *Share
// func (s *Share) Name() string
// func (s *Share) Options() ShareOptions
// func (s *Share) Connect(ctx context.Context, id Identity) (*Tree, error)
//
// A Tree is one tree connect. Its methods implement the file commands; each returns the
// NTSTATUS of the response and fills resp when the status has a response body
// (smb2.IsErrorResponse false):
//
// func (t *Tree) Create(r *Req, req *smb2.CreateRequest, resp *smb2.CreateResponse) ntstatus.Status
// func (t *Tree) Close(r *Req, req *smb2.CloseRequest, resp *smb2.CloseResponse) ntstatus.Status
// func (t *Tree) Flush(r *Req, req *smb2.FlushRequest, resp *smb2.FlushResponse) ntstatus.Status
// func (t *Tree) Read(r *Req, req *smb2.ReadRequest, resp *smb2.ReadResponse) ntstatus.Status
// func (t *Tree) Write(r *Req, req *smb2.WriteRequest, resp *smb2.WriteResponse) ntstatus.Status
// func (t *Tree) Lock(r *Req, req *smb2.LockRequest, resp *smb2.LockResponse) ntstatus.Status
// func (t *Tree) Ioctl(r *Req, req *smb2.IoctlRequest, resp *smb2.IoctlResponse) ntstatus.Status
// func (t *Tree) QueryDirectory(r *Req, req *smb2.QueryDirectoryRequest, resp *smb2.QueryDirectoryResponse) ntstatus.Status
// func (t *Tree) ChangeNotify(r *Req, req *smb2.ChangeNotifyRequest, resp *smb2.ChangeNotifyResponse) ntstatus.Status
// func (t *Tree) QueryInfo(r *Req, req *smb2.QueryInfoRequest, resp *smb2.QueryInfoResponse) ntstatus.Status
// func (t *Tree) SetInfo(r *Req, req *smb2.SetInfoRequest, resp *smb2.SetInfoResponse) ntstatus.Status
// func (t *Tree) OplockBreak(r *Req, req *smb2.OplockBreakRequestForms, resp *smb2.OplockBreakResponseForms) ntstatus.Status
// func (t *Tree) Disconnect(ctx context.Context)        // closes every open of the tree
// func (t *Tree) DisconnectPreserving(ctx context.Context) // connection lost: durable opens survive
//
// The connection engine answers FSCTL_VALIDATE_NEGOTIATE_INFO and
// FSCTL_QUERY_NETWORK_INTERFACE_INFO itself; every other IOCTL reaches Tree.Ioctl. In a
// related compound, the engine replaces a FileId of all 0xFF bytes by the FileId of the
// previous CREATE before calling.
