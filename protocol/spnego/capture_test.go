package spnego

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/smbvfs/smbvfs/protocol/crypto/smb3"
	"github.com/smbvfs/smbvfs/protocol/ntlm"
)

// End-to-end checks against Windows Server 2022 (testdata/samrlab_*.txt, see gen.sh): the
// whole chain of this package, protocol/ntlm and protocol/crypto/smb3 must reproduce what
// the real server did, from the password alone.

type capFrame struct {
	number int
	c2s    bool
	pdus   [][]byte
}

func readCapture(t *testing.T, name string) map[int]capFrame {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	frames := map[int]capFrame{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var fr capFrame
		var dir, hx string
		if _, err := fmt.Sscan(sc.Text(), &fr.number, &dir, &hx); err != nil {
			t.Fatal(err)
		}
		fr.c2s = dir == "c2s"
		b := unhex(t, hx)
		for len(b) > 0 {
			n := int(b[1])<<16 | int(b[2])<<8 | int(b[3])
			if b[0] != 0 || len(b) < 4+n {
				t.Fatalf("%s frame %d: bad NetBIOS framing", name, fr.number)
			}
			fr.pdus = append(fr.pdus, b[4:4+n])
			b = b[4+n:]
		}
		frames[fr.number] = fr
	}
	return frames
}

// securityBuffer returns the security buffer of an SMB2 NEGOTIATE response or SESSION_SETUP
// request or response (offsets of MS-SMB2 2.2.4, 2.2.5, 2.2.6 from the header's start).
func securityBuffer(t *testing.T, msg []byte) []byte {
	t.Helper()
	cmd := binary.LittleEndian.Uint16(msg[12:])
	response := binary.LittleEndian.Uint32(msg[16:])&1 != 0
	var at int
	switch {
	case cmd == 0 && response:
		at = 64 + 56
	case cmd == 1 && !response:
		at = 64 + 12
	case cmd == 1 && response:
		at = 64 + 4
	default:
		t.Fatalf("no security buffer in command %d", cmd)
	}
	off, n := int(binary.LittleEndian.Uint16(msg[at:])), int(binary.LittleEndian.Uint16(msg[at+2:]))
	return msg[off : off+n]
}

type captured struct {
	name                   string
	file                   string
	negotiate              []int // NEGOTIATE request, response
	setup                  []int // SESSION_SETUP request 1, response 1, request 2
	final                  int   // final SESSION_SETUP response
	cipher                 smb3.Cipher
	signing                smb3.SigningAlgorithm
	user, password         string
	transforms, signedPDUs []int
}

var captures = []captured{
	{
		name:      "RubySMB -> Windows Server 2022, 3.1.1, AES-256-GCM",
		file:      "samrlab_aes256gcm.txt",
		negotiate: []int{7, 8}, setup: []int{10, 11, 13}, final: 35,
		cipher: smb3.AES256GCM, signing: smb3.AESCMAC,
		user: "enum", password: "LabAdm1!",
		transforms: []int{37, 38, 42, 43, 45, 46},
	},
	{
		name:      "Samba rpcclient -> Windows Server 2022, 3.1.1, AES-GMAC signing",
		file:      "samrlab_gmac.txt",
		negotiate: []int{4, 5}, setup: []int{7, 8, 10}, final: 13,
		cipher: smb3.AES128GCM, signing: smb3.AESGMAC,
		user: "enum", password: "LabAdm1!",
		signedPDUs: []int{15, 16, 18, 19, 21, 22, 24, 25, 27, 28, 30, 31, 33, 34},
	},
}

func TestCaptureEndToEnd(t *testing.T) {
	for _, c := range captures {
		t.Run(c.file, func(t *testing.T) {
			frames := readCapture(t, c.file)
			pdu := func(n int) []byte {
				fr, ok := frames[n]
				if !ok || len(fr.pdus) != 1 {
					t.Fatalf("frame %d missing or compound", n)
				}
				return fr.pdus[0]
			}

			// SPNEGO and NTLM: the client's three tokens through the Acceptor, with the
			// server's NTLM state restored from the CHALLENGE_MESSAGE Windows sent.
			srv := &ntlm.Server{Users: ntlm.Users{c.user: ntlm.NTHash(c.password)}}
			a := NewAcceptor(srv)
			clientInit := securityBuffer(t, pdu(c.setup[0]))
			if _, _, err := a.Step(clientInit); err != nil {
				t.Fatalf("client NegTokenInit: %v", err)
			}
			init, _ := DecodeInit(clientInit)
			windowsChallenge, err := DecodeResp(securityBuffer(t, pdu(c.setup[1])))
			if err != nil {
				t.Fatal(err)
			}
			if a.ntlm, err = srv.RestoreState(init.MechToken, windowsChallenge.ResponseToken); err != nil {
				t.Fatal(err)
			}
			a.stage = stageAuth
			out, done, err := a.Step(securityBuffer(t, pdu(c.setup[2])))
			if err != nil || !done {
				t.Fatalf("AUTHENTICATE: %v", err)
			}
			res := a.Result()
			if res.User != c.user || len(res.SessionKey) != 16 {
				t.Fatalf("result %+v", res)
			}
			// Our final token is byte for byte the one Windows sent (accept-completed and,
			// when the client sent one, the mechListMIC over the client's mech list).
			windowsFinal := securityBuffer(t, pdu(c.final))
			if !bytes.Equal(out, windowsFinal) {
				t.Errorf("final token\n got %x\nwant %x", out, windowsFinal)
			}

			// The preauthentication hash over the NEGOTIATE and SESSION_SETUP messages (not
			// the final response), the keys, and the final response's signature.
			var h smb3.PreauthHash
			for _, n := range append(append([]int{}, c.negotiate...), c.setup...) {
				h.Update(pdu(n))
			}
			keys, err := smb3.DeriveKeys(smb3.Dialect311, c.cipher, res.SessionKey, h[:])
			if err != nil {
				t.Fatal(err)
			}
			signer, err := smb3.NewSigner(c.signing, keys.Signing)
			if err != nil {
				t.Fatal(err)
			}
			if err := signer.Verify(pdu(c.final)); err != nil {
				t.Errorf("final SESSION_SETUP response: %v", err)
			}

			// Every later signed message verifies, both directions.
			for _, n := range c.signedPDUs {
				for _, m := range frames[n].pdus {
					if binary.LittleEndian.Uint32(m[16:])&0x8 == 0 {
						continue
					}
					if err := signer.Verify(m); err != nil {
						t.Errorf("frame %d: %v", n, err)
					}
				}
			}

			// Every transform message opens: the client's with the server's decryption key,
			// the server's with its encryption key.
			fromClient, err := smb3.NewDecrypter(c.cipher, keys.Decryption)
			if err != nil {
				t.Fatal(err)
			}
			fromServer, _ := smb3.NewDecrypter(c.cipher, keys.Encryption)
			for _, n := range c.transforms {
				d := fromServer
				if frames[n].c2s {
					d = fromClient
				}
				pt, err := d.Open(bytes.Clone(pdu(n)))
				if err != nil {
					t.Errorf("frame %d: %v", n, err)
					continue
				}
				if string(pt[:4]) != "\xfeSMB" {
					t.Errorf("frame %d: plaintext starts %x", n, pt[:4])
				}
			}
		})
	}
}
