package spnego_test

import (
	"errors"
	"fmt"

	"github.com/smbvfs/smbvfs/protocol/ntlm"
	"github.com/smbvfs/smbvfs/protocol/spnego"
)

// The server side of SMB2 authentication: the hint goes into the NEGOTIATE response, then
// each SESSION_SETUP request's security buffer goes through the Acceptor.
func Example() {
	srv := &ntlm.Server{
		Users:    ntlm.Users{"alice": ntlm.NTHash("secret")},
		Domain:   "WORKGROUP",
		Computer: "FILER",
	}
	_ = spnego.NegotiateHint() // NEGOTIATE response security buffer

	client := &ntlm.Client{User: "alice", Password: "secret"} // stands for the SMB client
	a := spnego.NewAcceptor(srv)
	in := (&spnego.NegTokenInit{MechTypes: []spnego.OID{spnego.OIDNTLMSSP}, MechToken: client.Negotiate()}).Marshal()
	out, done, err := a.Step(in) // STATUS_MORE_PROCESSING_REQUIRED with out
	resp, _ := spnego.DecodeResp(out)
	auth, _ := client.Authenticate(resp.ResponseToken)
	out, done, err = a.Step((&spnego.NegTokenResp{NegState: spnego.NegStateAcceptIncomplete, ResponseToken: auth}).Marshal())
	switch {
	case errors.Is(err, ntlm.ErrUnknownUser):
		// map to guest if the server allows it, else STATUS_LOGON_FAILURE
	case err != nil:
		// STATUS_LOGON_FAILURE
	case done && a.Result().Anonymous:
		// anonymous session, if allowed
	case done:
		fmt.Println(a.Result().User, len(a.Result().SessionKey), len(out) > 0)
	}
	// Output: alice 16 true
}
