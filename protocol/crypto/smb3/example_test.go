package smb3_test

import (
	"fmt"

	"github.com/smbvfs/smbvfs/protocol/crypto/smb3"
)

// The server side of a 3.1.1 session: hash the NEGOTIATE and SESSION_SETUP messages, derive
// the keys from the authentication's session key, then sign and encrypt responses and
// decrypt requests.
func Example() {
	var connHash smb3.PreauthHash
	connHash.Update([]byte("NEGOTIATE request bytes"))
	connHash.Update([]byte("NEGOTIATE response bytes"))
	session := connHash // each session starts from the connection's value
	session.Update([]byte("SESSION_SETUP request 1"))
	session.Update([]byte("SESSION_SETUP response 1 (MORE_PROCESSING_REQUIRED)"))
	session.Update([]byte("SESSION_SETUP request 2"))

	gssKey := make([]byte, 16) // ntlm.Result.SessionKey
	keys, err := smb3.DeriveKeys(smb3.Dialect311, smb3.AES128GCM, gssKey, session[:])
	if err != nil {
		panic(err)
	}
	signer, _ := smb3.NewSigner(smb3.AESCMAC, keys.Signing)
	enc, _ := smb3.NewEncrypter(smb3.AES128GCM, keys.Encryption) // one per session
	dec, _ := smb3.NewDecrypter(smb3.AES128GCM, keys.Decryption)

	// A response: room for the transform header, the message, and GCM's slack.
	msg := make([]byte, smb3.HeaderSize+8)
	copy(msg, "\xfeSMB")
	signer.Sign(msg) // when signing rather than encrypting
	pdu := make([]byte, smb3.TransformHeaderSize+len(msg), smb3.TransformHeaderSize+len(msg)+smb3.TransformSlack)
	copy(pdu[smb3.TransformHeaderSize:], msg)
	if err := enc.Seal(pdu, 0x1000000000025); err != nil {
		panic(err)
	}
	sid, _ := smb3.TransformSessionID(pdu)
	_, err = dec.Open(pdu) // a request would come in like this, with the client's key
	fmt.Printf("%#x %v\n", sid, err)
	// Output: 0x1000000000025 smb3: message failed authentication
}
