package server

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/smbvfs/smbvfs/protocol/ntlm"
	"github.com/smbvfs/smbvfs/protocol/spnego"
)

// UserStore finds the NT hash of a user (the NT one-way function of the password: MD4 of
// its UTF-16LE encoding). The password itself is never needed.
type UserStore = ntlm.UserStore

// authResult is the outcome of a completed authentication.
type authResult struct {
	User, Domain     string
	Guest, Anonymous bool
	SessionKey       []byte
}

// authenticator is one GSS authentication in progress (SPNEGO or raw NTLMSSP).
type authenticator interface {
	// Accept consumes the client's token and returns the server's; done reports that the
	// authentication succeeded (Result is then valid). An error ends it.
	Accept(in []byte) (out []byte, done bool, err error)
	Result() authResult
}

var (
	errMalformed    = errors.New("malformed security token")
	errLogonFailure = errors.New("logon failure")
)

// ntlmAuth runs NTLM, raw or inside SPNEGO (protocol/spnego), against the server's users
// and guest policy.
type ntlmAuth struct {
	srv  *Server
	acc  *spnego.Acceptor
	raw  bool
	res  authResult
	step int
}

func (s *Server) newAuthenticator() authenticator {
	return &ntlmAuth{srv: s, acc: spnego.NewAcceptor(s.ntlmServer())}
}

func (s *Server) ntlmServer() *ntlm.Server {
	users := s.opts.Users
	if users == nil {
		users = ntlm.Users{}
	}
	return &ntlm.Server{Users: users, Domain: s.opts.Domain, Computer: strings.ToUpper(s.opts.ServerName)}
}

var hintToken = spnego.NegotiateHint(spnego.OIDNTLMSSP)

// negTokenInitHint returns the NegTokenInit2 of the NEGOTIATE response (MS-SPNG 2.2.1).
func negTokenInitHint() []byte { return hintToken }

func (a *ntlmAuth) Result() authResult { return a.res }

func (a *ntlmAuth) Accept(in []byte) ([]byte, bool, error) {
	a.step++
	if a.step == 1 {
		if len(in) == 0 {
			// No token: offer SPNEGO with our hint, as NEGOTIATE did.
			a.step = 0
			return hintToken, false, nil
		}
		a.raw = bytes.HasPrefix(in, []byte("NTLMSSP\x00"))
	}
	// The acceptor keeps parts of the token (the MechTypeList the mechListMIC covers) and the
	// token aliases the connection's read buffer: give it a copy.
	out, done, err := a.acc.Step(append([]byte(nil), in...))
	res := a.acc.Result()
	o := &a.srv.opts
	switch {
	case err == nil && !done:
		return out, false, nil
	case err == nil && res.Anonymous:
		if !o.Anonymous && !o.Guest {
			return nil, false, errLogonFailure
		}
		a.res = authResult{Anonymous: true}
	case err == nil:
		a.res = authResult{User: res.User, Domain: res.Domain, SessionKey: res.SessionKey}
		if strings.EqualFold(res.User, "guest") {
			if !o.Guest {
				return nil, false, errLogonFailure
			}
			a.res = authResult{User: "guest", Guest: true}
		}
	case errors.Is(err, ntlm.ErrUnknownUser) && o.Guest && res != nil &&
		(o.MapUnknownToGuest || strings.EqualFold(res.User, "guest")):
		a.res = authResult{User: "guest", Domain: res.Domain, Guest: true}
		out = a.completed()
	case errors.Is(err, ntlm.ErrNTLMv1) && res != nil && res.User != "" && a.noPassword(in) && a.unknown(res):
		// A user name with no password at all (empty NT response, LM response empty or
		// one zero byte): what smbclient and rpcclient -N send with the local user name.
		// The name is not ours, so the client gets what Windows and Samba ("map to guest =
		// bad user") give: a guest session when guests are allowed, else an anonymous one.
		switch {
		case o.Guest:
			a.res = authResult{User: "guest", Domain: res.Domain, Guest: true}
		case o.Anonymous:
			a.res = authResult{Anonymous: true}
		default:
			return nil, false, fmt.Errorf("%w: %v", errLogonFailure, err)
		}
		out = a.completed()
	case errors.Is(err, ntlm.ErrMalformed) || errors.Is(err, spnego.ErrUnexpectedToken):
		return nil, false, errMalformed
	default:
		return nil, false, fmt.Errorf("%w: %v", errLogonFailure, err)
	}
	return out, true, nil
}

// completed is the final token of an authentication the server ends itself (guest mapping):
// SPNEGO accept-completed, nothing for raw NTLMSSP.
func (a *ntlmAuth) completed() []byte {
	if a.raw {
		return nil
	}
	return spnego.AcceptCompleted()
}

// unknown reports whether the user store has no entry for the result's user.
func (a *ntlmAuth) unknown(res *ntlm.Result) bool {
	if a.srv.opts.Users == nil {
		return true
	}
	_, ok := a.srv.opts.Users.NTHash(res.User, res.Domain)
	return !ok
}

// noPassword reports whether the AUTHENTICATE_MESSAGE in the client's token (raw NTLMSSP or
// inside a SPNEGO NegTokenResp) carries no password proof: an empty NT response and an LM
// response that is empty or one zero byte (MS-NLMP 3.2.5.1.2, as for an anonymous logon but
// with a user name).
func (a *ntlmAuth) noPassword(in []byte) bool {
	msg := in
	if !a.raw {
		resp, err := spnego.DecodeResp(in)
		if err != nil {
			return false
		}
		msg = resp.ResponseToken
	}
	m, err := ntlm.ParseAuthenticate(msg)
	if err != nil {
		return false
	}
	return len(m.NtChallengeResponse) == 0 &&
		(len(m.LmChallengeResponse) == 0 || bytes.Equal(m.LmChallengeResponse, []byte{0}))
}
