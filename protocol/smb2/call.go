package smb2

import "github.com/smbvfs/smbvfs/protocol/ntstatus"

// SessionState is what the server knows of the session a request names.
type SessionState uint8

const (
	SessionNone       SessionState = iota // no session with that id on the connection
	SessionInProgress                     // authentication is still going on
	SessionValid                          // authenticated
	SessionExpired                        // authenticated once; must re-authenticate
)

// Call is one request as Dispatch sees it. The server fills it before calling Dispatch.
type Call struct {
	Header    *Header // the decoded request header
	PDU       []byte  // the message: its header at Hdr, ending where the message ends
	Hdr       int
	Dialect   Dialect      // negotiated dialect, 0 before NEGOTIATE
	Session   SessionState // state of the session named by Header.SessionId
	TreeValid bool         // Header.TreeId names a tree connect of that session
	// DecodeErr is set by Dispatch when the body does not decode.
	DecodeErr error
}

// Body is an encodable message body.
type Body interface {
	Len() int
	Append(b []byte, hdr int) ([]byte, error)
}

// IsErrorResponse reports whether a response with this status carries an SMB2 ERROR body
// rather than the command's own response (MS-SMB2 3.3.4.4 and the exceptions of 3.2.5.1.x):
// success and informational statuses have the command's body, except the notify statuses;
// SESSION_SETUP's MORE_PROCESSING_REQUIRED and BUFFER_OVERFLOW of the commands that return
// partial data also have it.
func IsErrorResponse(cmd Command, status ntstatus.Status) bool {
	switch status {
	case ntstatus.StatusSuccess:
		return false
	case ntstatus.StatusPending, ntstatus.StatusNotifyEnumDir, ntstatus.StatusNotifyCleanup:
		return true
	case ntstatus.StatusMoreProcessingRequired:
		return cmd != CommandSessionSetup
	case ntstatus.StatusBufferOverflow:
		switch cmd {
		case CommandRead, CommandIoctl, CommandQueryInfo, CommandQueryDirectory, CommandChangeNotify:
			return false
		}
		return true
	}
	return uint32(status)>>30 >= 2 // warning and error severities
}

// Message is a body that can also be decoded: every request and response structure.
type Message interface {
	Body
	Decode(pdu []byte, hdr int) error
}
