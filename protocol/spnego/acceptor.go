package spnego

import (
	"bytes"
	"errors"

	"github.com/smbvfs/smbvfs/protocol/ntlm"
)

// Errors of the Acceptor.
var (
	// ErrNoCommonMech: the client does not offer NTLMSSP.
	ErrNoCommonMech = errors.New("spnego: no mechanism in common (NTLMSSP not offered)")
	// ErrMechListMIC: the client's mechListMIC is missing where required or does not verify.
	ErrMechListMIC = errors.New("spnego: bad or missing mechListMIC")
	// ErrUnexpectedToken: a token arrived that the exchange cannot be in a state to take.
	ErrUnexpectedToken = errors.New("spnego: unexpected token")
)

type stage int

const (
	stageStart     stage = iota // expecting the client's NegTokenInit (or a raw NTLMSSP message)
	stageNegotiate              // NTLM chosen, its NEGOTIATE_MESSAGE not seen yet
	stageAuth                   // CHALLENGE sent, expecting the AUTHENTICATE_MESSAGE
	stageDone
)

// Acceptor runs the server side of one SPNEGO exchange with NTLM (one SMB2 session setup).
// Feed it each SESSION_SETUP request's security buffer with Step and send back what it
// returns. It is used by one goroutine.
//
// The mechListMIC (RFC 4178 5, MS-SPNG 3.3.5.1): the client signs the DER MechTypeList it
// sent in its NegTokenInit (RawMechTypes, tag and length included) with NTLM's GSS_GetMIC:
// HMAC-MD5 under the client-to-server signing key over sequence number 0 and those bytes,
// the first 8 bytes of which are RC4-sealed with the client-to-server sealing key when
// NTLMSSP_NEGOTIATE_KEY_EXCH was negotiated (MS-NLMP 3.4.4.2; ntlm.Session). The Acceptor
// verifies it when present, requires it when NTLMSSP was not the client's first choice (the
// downgrade RFC 4178 guards against), and answers with its own mechListMIC over the same
// bytes signed with the server-to-client keys whenever the client sent one or it was
// required.
//
// A client may also skip SPNEGO and send bare NTLMSSP messages (Windows servers accept
// that); the Acceptor then answers with bare NTLMSSP messages.
type Acceptor struct {
	srv      *ntlm.Server
	stage    stage
	raw      bool // bare NTLMSSP, no SPNEGO
	micReq   bool // NTLM was not the client's preferred mechanism: mechListMIC required
	mechList []byte
	ntlm     *ntlm.State
	result   *ntlm.Result
}

// NewAcceptor returns an Acceptor that authenticates with srv.
func NewAcceptor(srv *ntlm.Server) *Acceptor {
	return &Acceptor{srv: srv}
}

// Result returns the NTLM result once Step has processed the AUTHENTICATE_MESSAGE (also
// when it failed with ntlm.ErrUnknownUser, for guest mapping), else nil.
func (a *Acceptor) Result() *ntlm.Result { return a.result }

// AcceptCompleted is the NegTokenResp with negState accept-completed and nothing else: the
// final token of a session the server accepts without a key (guest mapping of an unknown
// user, which the server decides to allow after ErrUnknownUser).
func AcceptCompleted() []byte {
	return (&NegTokenResp{NegState: NegStateAcceptCompleted}).Marshal()
}

// Reject is the NegTokenResp with negState reject.
func Reject() []byte {
	return (&NegTokenResp{NegState: NegStateReject}).Marshal()
}

// Step processes one token from the client and returns the token to send back. done is true
// when authentication has succeeded (then Result is set; for an anonymous session
// Result().Anonymous is true and there is no session key). On error the exchange is over:
// out may hold a token to send with the failure status (a reject), or be nil; errors from
// the ntlm package (ntlm.ErrLogonFailure, ntlm.ErrUnknownUser, ...) are returned as they
// are.
func (a *Acceptor) Step(in []byte) (out []byte, done bool, err error) {
	switch a.stage {
	case stageStart:
		if bytes.HasPrefix(in, []byte("NTLMSSP\x00")) {
			a.raw = true
			return a.ntlmNegotiate(in)
		}
		init, err := DecodeInit(in)
		if err != nil {
			a.stage = stageDone
			return nil, false, err
		}
		pos := -1
		for i, m := range init.MechTypes {
			if m.Equal(OIDNTLMSSP) {
				pos = i
				break
			}
		}
		if pos < 0 {
			a.stage = stageDone
			return Reject(), false, ErrNoCommonMech
		}
		a.mechList = init.RawMechTypes
		if pos != 0 {
			// The optimistic token, if any, is for another mechanism: select NTLM, ask for
			// its first message, and require the mechListMIC.
			a.micReq = true
			a.stage = stageNegotiate
			return (&NegTokenResp{NegState: NegStateRequestMIC, SupportedMech: OIDNTLMSSP}).Marshal(), false, nil
		}
		if init.MechToken == nil {
			a.stage = stageNegotiate
			return (&NegTokenResp{NegState: NegStateAcceptIncomplete, SupportedMech: OIDNTLMSSP}).Marshal(), false, nil
		}
		return a.ntlmNegotiate(init.MechToken)

	case stageNegotiate, stageAuth:
		if a.raw {
			return a.ntlmAuthenticate(in, nil)
		}
		resp, err := DecodeResp(in)
		if err != nil {
			a.stage = stageDone
			return nil, false, err
		}
		if resp.NegState == NegStateReject {
			a.stage = stageDone
			return nil, false, ErrUnexpectedToken
		}
		if resp.ResponseToken == nil {
			a.stage = stageDone
			return Reject(), false, ErrUnexpectedToken
		}
		if a.stage == stageNegotiate {
			return a.ntlmNegotiate(resp.ResponseToken)
		}
		return a.ntlmAuthenticate(resp.ResponseToken, resp.MechListMIC)
	}
	return nil, false, ErrUnexpectedToken
}

func (a *Acceptor) ntlmNegotiate(msg []byte) ([]byte, bool, error) {
	chal, st, err := a.srv.Challenge(msg)
	if err != nil {
		a.stage = stageDone
		if a.raw {
			return nil, false, err
		}
		return Reject(), false, err
	}
	a.ntlm = st
	a.stage = stageAuth
	if a.raw {
		return chal, false, nil
	}
	// request-mic may only be in the first reply (RFC 4178 4.2.2); when NTLM was not the
	// client's first choice that reply was the mechanism selection, so this is always
	// accept-incomplete.
	return (&NegTokenResp{NegState: NegStateAcceptIncomplete, SupportedMech: OIDNTLMSSP, ResponseToken: chal}).Marshal(), false, nil
}

func (a *Acceptor) ntlmAuthenticate(msg, mic []byte) ([]byte, bool, error) {
	a.stage = stageDone
	if a.ntlm == nil {
		return nil, false, ErrUnexpectedToken
	}
	res, err := a.ntlm.Authenticate(msg)
	a.result = res
	if err != nil {
		// Windows sends no token with STATUS_LOGON_FAILURE; the caller may send Reject().
		return nil, false, err
	}
	if a.raw {
		return nil, true, nil
	}
	final := &NegTokenResp{NegState: NegStateAcceptCompleted}
	if res.Anonymous {
		// No key, so no MIC either way; a downgrade cannot be detected for a session that
		// has no privileges to protect.
		return final.Marshal(), true, nil
	}
	if mic == nil && a.micReq {
		return Reject(), false, ErrMechListMIC
	}
	if mic != nil {
		s, err := ntlm.NewSession(res.SessionKey, res.Flags, true)
		if err != nil {
			return Reject(), false, ErrMechListMIC
		}
		if err := s.Verify(a.mechList, mic); err != nil {
			return Reject(), false, ErrMechListMIC
		}
		sig := s.Sign(a.mechList)
		final.MechListMIC = sig[:]
	}
	return final.Marshal(), true, nil
}
