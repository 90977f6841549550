package server

import (
	"bytes"
	"errors"
	"strings"

	"github.com/smbvfs/smbvfs/protocol/ntlm"
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

// ntlmAuth runs NTLM, raw or inside SPNEGO, against the server's users and guest policy.
type ntlmAuth struct {
	srv    *Server
	ntlm   *ntlm.Server
	st     *ntlm.State
	spnego bool
	mic    spnegoMIC // mechListMIC state when in SPNEGO
	res    authResult
	step   int
}

func (s *Server) newAuthenticator() authenticator {
	return &ntlmAuth{srv: s, ntlm: s.ntlmServer()}
}

func (s *Server) ntlmServer() *ntlm.Server {
	users := s.opts.Users
	if users == nil {
		users = ntlm.Users{}
	}
	return &ntlm.Server{Users: users, Domain: s.opts.Domain, Computer: strings.ToUpper(s.opts.ServerName)}
}

var ntlmSignature = []byte("NTLMSSP\x00")

func (a *ntlmAuth) Result() authResult { return a.res }

func (a *ntlmAuth) Accept(in []byte) ([]byte, bool, error) {
	a.step++
	if a.step > 3 {
		return nil, false, errMalformed
	}
	mech := in
	if !bytes.HasPrefix(in, ntlmSignature) {
		if len(in) == 0 && a.step == 1 {
			// No token: start SPNEGO with our hint, as NEGOTIATE did.
			a.spnego = true
			return negTokenInitHint(), false, nil
		}
		tok, err := a.mic.parseClient(in)
		if err != nil {
			return nil, false, err
		}
		a.spnego = true
		if tok == nil {
			// A NegTokenInit without an NTLM token: ask for one.
			return a.mic.respIncomplete(nil), false, nil
		}
		mech = tok
	}
	if len(mech) < 12 || !bytes.HasPrefix(mech, ntlmSignature) {
		return nil, false, errMalformed
	}
	switch mech[8] {
	case 1: // NEGOTIATE_MESSAGE
		if a.st != nil {
			return nil, false, errMalformed
		}
		challenge, st, err := a.ntlm.Challenge(mech)
		if err != nil {
			return nil, false, errMalformed
		}
		a.st = st
		if a.spnego {
			return a.mic.respIncomplete(challenge), false, nil
		}
		return challenge, false, nil
	case 3: // AUTHENTICATE_MESSAGE
		if a.st == nil {
			return nil, false, errMalformed
		}
		res, err := a.st.Authenticate(mech)
		o := &a.srv.opts
		switch {
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
		case errors.Is(err, ntlm.ErrMalformed):
			return nil, false, errMalformed
		default:
			return nil, false, errLogonFailure
		}
		if !a.spnego {
			return nil, true, nil
		}
		out, err := a.mic.respComplete(res, a.st)
		if err != nil {
			return nil, false, errLogonFailure
		}
		return out, true, nil
	}
	return nil, false, errMalformed
}
