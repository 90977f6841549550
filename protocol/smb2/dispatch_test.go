package smb2

import (
	"errors"
	"testing"

	"github.com/smbvfs/smbvfs/protocol/ntstatus"
	"github.com/smbvfs/smbvfs/protocol/utf16"
	"github.com/smbvfs/smbvfs/protocol/wire"
)

// createHandler implements CREATE only and records what it saw.
type createHandler struct {
	UnimplementedHandler
	calls int
	name  string
}

func (h *createHandler) Create(call *Call, req *CreateRequest, resp *CreateResponse) ntstatus.Status {
	h.calls++
	h.name = req.Name.String()
	resp.CreateAction = CreateAction(1)
	resp.FileId = FileId{Persistent: 7, Volatile: 9}
	return ntstatus.StatusSuccess
}

// message builds a request: header then body.
func message(t *testing.T, cmd Command, body Body) []byte {
	t.Helper()
	h := Header{Command: cmd, MessageId: 5, SessionId: 0x11, TreeId: 3}
	b, err := h.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err = body.Append(b, 0)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func call(t *testing.T, pdu []byte, session SessionState, tree bool) *Call {
	t.Helper()
	c := &Call{Header: new(Header), PDU: pdu, Dialect: Dialect311, Session: session, TreeValid: tree}
	if err := c.Header.Decode(pdu); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDispatchEnforcesRules(t *testing.T) {
	req := CreateRequest{Name: utf16.FromString(`dir\a.txt`), CreateDisposition: CreateDisposition(1)}
	pdu := message(t, CommandCreate, &req)
	var msgs Messages
	cases := []struct {
		name    string
		session SessionState
		tree    bool
		dialect Dialect
		want    ntstatus.Status
		called  bool
	}{
		{"no session", SessionNone, true, Dialect311, ntstatus.StatusUserSessionDeleted, false},
		{"expired session", SessionExpired, true, Dialect311, ntstatus.StatusNetworkSessionExpired, false},
		{"authenticating", SessionInProgress, true, Dialect311, ntstatus.StatusAccessDenied, false},
		{"no tree", SessionValid, false, Dialect311, ntstatus.StatusNetworkNameDeleted, false},
		{"ok", SessionValid, true, Dialect311, ntstatus.StatusSuccess, true},
	}
	for _, c := range cases {
		h := &createHandler{}
		cl := call(t, pdu, c.session, c.tree)
		cl.Dialect = c.dialect
		st, body := Dispatch(h, cl, &msgs)
		if st != c.want || (h.calls == 1) != c.called {
			t.Errorf("%s: status %v, handler called %d times; want %v, called %v", c.name, st, h.calls, c.want, c.called)
		}
		if c.called {
			if h.name != `dir\a.txt` {
				t.Errorf("%s: handler saw name %q", c.name, h.name)
			}
			resp, ok := body.(*CreateResponse)
			if !ok || resp.FileId.Volatile != 9 {
				t.Errorf("%s: response body %T %+v", c.name, body, body)
			}
		} else if body != nil {
			t.Errorf("%s: an error status came with a body", c.name)
		}
	}
}

func TestDispatchUnimplementedAndMalformed(t *testing.T) {
	var msgs Messages
	h := &createHandler{}
	// a command the handler does not implement
	pdu := message(t, CommandFlush, &FlushRequest{})
	if st, body := Dispatch(h, call(t, pdu, SessionValid, true), &msgs); st != ntstatus.StatusNotSupported || body != nil {
		t.Errorf("FLUSH: %v %v, want STATUS_NOT_SUPPORTED", st, body)
	}
	// a body that does not decode: StructureSize wrong
	pdu = message(t, CommandCreate, &CreateRequest{})
	pdu[64] = 0x55
	c := call(t, pdu, SessionValid, true)
	if st, _ := Dispatch(h, c, &msgs); st != ntstatus.StatusInvalidParameter || h.calls != 0 {
		t.Errorf("bad body: %v, handler called %d times", st, h.calls)
	}
	var we *wire.Error
	if !errors.As(c.DecodeErr, &we) || we.Kind != wire.BadConst {
		t.Errorf("DecodeErr = %v", c.DecodeErr)
	}
	// an unknown command
	pdu = message(t, Command(0x77), &EchoRequest{})
	if st, _ := Dispatch(h, call(t, pdu, SessionValid, true), &msgs); st != ntstatus.StatusInvalidParameter {
		t.Errorf("unknown command: %v", st)
	}
	// NEGOTIATE needs no session
	if r, ok := Rules(CommandNegotiate); !ok || r.NeedsSession || !r.PreAuth {
		t.Errorf("NEGOTIATE rules: %+v", r)
	}
	if r, _ := Rules(CommandCancel); !r.NoResponse {
		t.Errorf("CANCEL must have no response: %+v", r)
	}
}

func TestDispatchAllocatesNothing(t *testing.T) {
	req := CreateRequest{Name: utf16.FromString(`a.txt`)}
	pdu := message(t, CommandCreate, &req)
	var msgs Messages
	h := &createHandler{}
	c := call(t, pdu, SessionValid, true)
	if a := testing.AllocsPerRun(100, func() { Dispatch(h, c, &msgs) }); a > 1 {
		// the handler's String() of the name allocates once; Dispatch itself must not
		t.Errorf("Dispatch allocates %v times", a)
	}
}

func TestCreditCharge(t *testing.T) {
	for _, c := range []struct {
		length uint32
		want   int
	}{{0, 1}, {1, 1}, {65536, 1}, {65537, 2}, {8 << 20, 128}} {
		r := ReadRequest{Length: c.length}
		if got := r.CreditCharge(); got != c.want {
			t.Errorf("READ of %d: CreditCharge %d, want %d", c.length, got, c.want)
		}
	}
	w := WriteRequest{Data: make([]byte, 3*65536)}
	if got := w.CreditCharge(); got != 3 {
		t.Errorf("WRITE of 192 KiB: CreditCharge %d, want 3", got)
	}
}

func TestIsErrorResponse(t *testing.T) {
	for _, c := range []struct {
		cmd  Command
		st   ntstatus.Status
		want bool
	}{
		{CommandCreate, ntstatus.StatusSuccess, false},
		{CommandCreate, ntstatus.StatusObjectNameNotFound, true},
		{CommandSessionSetup, ntstatus.StatusMoreProcessingRequired, false},
		{CommandRead, ntstatus.StatusBufferOverflow, false},
		{CommandCreate, ntstatus.StatusBufferOverflow, true},
		{CommandChangeNotify, ntstatus.StatusNotifyEnumDir, true},
		{CommandRead, ntstatus.StatusPending, true},
	} {
		if got := IsErrorResponse(c.cmd, c.st); got != c.want {
			t.Errorf("IsErrorResponse(%v, %v) = %v", c.cmd, c.st, got)
		}
	}
}
