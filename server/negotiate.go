package server

import (
	"bytes"
	"crypto/rand"
	"time"

	"github.com/smbvfs/smbvfs/protocol/crypto/smb3"
	"github.com/smbvfs/smbvfs/protocol/dtyp"
	"github.com/smbvfs/smbvfs/protocol/ntstatus"
	"github.com/smbvfs/smbvfs/protocol/smb2"
	"github.com/smbvfs/smbvfs/protocol/wire"
)

// handleSMB1 answers a multi-protocol SMB1 NEGOTIATE with an SMB2 NEGOTIATE response
// (MS-SMB2 3.3.5.3): the wildcard revision 0x02FF when the client knows SMB 2.1 or later,
// 0x0202 when it knows only SMB 2.0.2.
func (c *conn) handleSMB1(frame []byte) error {
	if c.negotiated || c.wildcard {
		return disconnect("SMB1 after negotiate")
	}
	var req smb2.Smb1NegotiateRequest
	if err := req.Decode(frame); err != nil || req.Command != 0x72 {
		return disconnect("SMB1 message that is not a NEGOTIATE")
	}
	var has202, hasWild bool
	for it := req.Dialects.Iter(); it.Next(); {
		s := string(bytes.TrimRight(it.Value().DialectString, "\x00"))
		switch s {
		case "SMB 2.002":
			has202 = true
		case "SMB 2.???":
			hasWild = true
		}
	}
	var d smb2.Dialect
	switch {
	case hasWild && c.srv.opts.MaxDialect >= smb2.Dialect210:
		d = smb2.DialectWildcard
		c.wildcard = true
	case has202 && c.srv.opts.MinDialect <= smb2.Dialect202:
		d = smb2.Dialect202
		c.negotiated = true
		c.dialect = d
	default:
		return disconnect("SMB1 negotiate without an SMB2 dialect we offer")
	}
	if !c.credits.consume(0, 1) {
		return disconnect("SMB1 negotiate with credits used")
	}
	c.hdr = smb2.Header{Command: smb2.CommandNegotiate}
	c.cur = reqState{}
	var resp smb2.NegotiateResponse
	c.fillNegotiateResponse(&resp, d)
	c.wbuf = c.wbuf[:0]
	if cap(c.wbuf) < 4096 {
		c.wbuf = make([]byte, 0, 4096)
	}
	c.wbuf = append(c.wbuf, 0, 0, 0, 0)
	if err := c.appendResponse(ntstatus.StatusSuccess, &resp, uint16(c.credits.grant(1))); err != nil {
		return err
	}
	return c.writeFrame(c.wbuf)
}

// fillNegotiateResponse fills what every NEGOTIATE response has.
func (c *conn) fillNegotiateResponse(resp *smb2.NegotiateResponse, d smb2.Dialect) {
	o := &c.srv.opts
	c.serverSecMode = smb2.SecurityModeSigningEnabled
	if o.Signing == Required {
		c.serverSecMode |= smb2.SecurityModeSigningRequired
	}
	resp.SecurityMode = c.serverSecMode
	resp.DialectRevision = d
	resp.ServerGuid = c.srv.guid
	c.maxRead, c.maxWrite, c.maxTransact = 65536, 65536, 65536
	var caps smb2.Capabilities
	if d != smb2.Dialect202 {
		caps |= smb2.CapLargeMtu
		c.maxRead, c.maxWrite, c.maxTransact = o.MaxIOSize, o.MaxIOSize, o.MaxIOSize
	}
	if (d == smb2.Dialect300 || d == smb2.Dialect302) && o.Encryption != Disabled && c.clientCaps&smb2.CapEncryption != 0 {
		caps |= smb2.CapEncryption
	}
	if d >= smb2.Dialect300 {
		// FSCTL_QUERY_NETWORK_INTERFACE_INFO is answered (files.go); binding a session to
		// a second channel is refused (refuseBinding), so clients keep one channel.
		caps |= smb2.CapMultiChannel
	}
	c.serverCaps = caps
	resp.Capabilities = caps
	resp.MaxTransactSize = uint32(c.maxTransact)
	resp.MaxReadSize = uint32(c.maxRead)
	resp.MaxWriteSize = uint32(c.maxWrite)
	resp.SystemTime = dtyp.Filetime(uint64(time.Now().UnixNano()/100) + 116444736000000000)
	resp.SecurityBuffer = negTokenInitHint()
}

// Negotiate handles SMB2 NEGOTIATE (MS-SMB2 3.3.5.4).
func (c *conn) Negotiate(call *smb2.Call, req *smb2.NegotiateRequest, resp *smb2.NegotiateResponse) ntstatus.Status {
	o := &c.srv.opts
	if req.Dialects.Len() == 0 {
		return ntstatus.StatusInvalidParameter
	}
	var best smb2.Dialect
	c.clientDialects = c.clientDialects[:0]
	for i := 0; i < req.Dialects.Len(); i++ {
		d := smb2.Dialect(req.Dialects.At(i))
		c.clientDialects = append(c.clientDialects, d)
		if knownDialect(d) && d >= o.MinDialect && d <= o.MaxDialect && d > best {
			best = d
		}
	}
	if best == 0 {
		return ntstatus.StatusNotSupported
	}
	c.clientGuid = req.ClientGuid
	c.clientCaps = req.Capabilities
	c.clientSecMode = req.SecurityMode
	c.signAlg = smb2.SigningHMACSHA256
	if best >= smb2.Dialect300 {
		c.signAlg = smb2.SigningAESCMAC
	}
	if best == smb2.Dialect300 || best == smb2.Dialect302 {
		if o.Encryption != Disabled && req.Capabilities&smb2.CapEncryption != 0 {
			c.cipher = smb2.CipherAES128CCM
		}
	}
	var hasEnc, hasSign bool
	if best == smb2.Dialect311 {
		var hasPreauth bool
		for it := req.NegotiateContexts.Iter(); it.Next(); {
			ctx := it.Value()
			switch ctx.ContextType {
			case smb2.NegotiateContextPreauthIntegrityCapabilities:
				if hasPreauth {
					return ntstatus.StatusInvalidParameter
				}
				hasPreauth = true
				var p smb2.PreauthIntegrityCapabilities
				if p.Decode(ctx.Data) != nil || p.HashAlgorithms.Len() == 0 {
					return ntstatus.StatusInvalidParameter
				}
				if !p.HashAlgorithms.Contains(uint16(smb2.HashAlgorithmSHA512)) {
					return ntstatus.StatusSmbNoPreauthIntegrityHashOverlap
				}
			case smb2.NegotiateContextEncryptionCapabilities:
				if hasEnc {
					return ntstatus.StatusInvalidParameter
				}
				hasEnc = true
				var e smb2.EncryptionCapabilities
				if e.Decode(ctx.Data) != nil || e.Ciphers.Len() == 0 {
					return ntstatus.StatusInvalidParameter
				}
				if o.Encryption != Disabled {
					for _, want := range o.Ciphers {
						if e.Ciphers.Contains(uint16(want)) {
							c.cipher = want
							break
						}
					}
				}
			case smb2.NegotiateContextSigningCapabilities:
				if hasSign {
					return ntstatus.StatusInvalidParameter
				}
				hasSign = true
				var s smb2.SigningCapabilities
				if s.Decode(ctx.Data) != nil || s.SigningAlgorithms.Len() == 0 {
					return ntstatus.StatusInvalidParameter
				}
				for _, want := range o.SigningAlgorithms {
					if s.SigningAlgorithms.Contains(uint16(want)) {
						c.signAlg = want
						break
					}
				}
			case smb2.NegotiateContextCompressionCapabilities:
				if ctx.Data == nil || len(ctx.Data) < 8 {
					return ntstatus.StatusInvalidParameter
				}
				var cc smb2.CompressionCapabilities
				if cc.Decode(ctx.Data) != nil {
					return ntstatus.StatusInvalidParameter
				}
				// Parsed, not offered: no response context.
			case smb2.NegotiateContextNetname:
				var nn smb2.NetnameNegotiateContextId
				_ = nn.Decode(ctx.Data)
			}
		}
		if it := req.NegotiateContexts.Iter(); it.Err() != nil {
			return ntstatus.StatusInvalidParameter
		}
		if !hasPreauth {
			return ntstatus.StatusInvalidParameter
		}
	}
	c.dialect = best
	c.negotiated = true
	c.wildcard = false
	c.fillNegotiateResponse(resp, best)
	if best == smb2.Dialect311 {
		var salt [32]byte
		rand.Read(salt[:])
		buf := make([]byte, 0, 128)
		p := smb2.PreauthIntegrityCapabilities{HashAlgorithms: wire.AppendUint16s(nil, uint16(smb2.HashAlgorithmSHA512)), Salt: salt[:]}
		data, _ := p.Append(nil)
		resp.NegotiateContexts.Reset(buf)
		resp.NegotiateContexts.Add(&smb2.NegotiateContext{ContextType: smb2.NegotiateContextPreauthIntegrityCapabilities, Data: data})
		if hasEnc {
			e := smb2.EncryptionCapabilities{Ciphers: wire.AppendUint16s(nil, uint16(c.cipher))}
			data, _ := e.Append(nil)
			resp.NegotiateContexts.Add(&smb2.NegotiateContext{ContextType: smb2.NegotiateContextEncryptionCapabilities, Data: data})
		}
		if hasSign {
			s := smb2.SigningCapabilities{SigningAlgorithms: wire.AppendUint16s(nil, uint16(c.signAlg))}
			data, _ := s.Append(nil)
			resp.NegotiateContexts.Add(&smb2.NegotiateContext{ContextType: smb2.NegotiateContextSigningCapabilities, Data: data})
		}
		// The request is hashed now, the response once encoded.
		c.preauth = smb3.PreauthHash{}
		c.preauth.Update(c.cur.msg)
		c.cur.negotiate311 = true
	}
	c.log.Debug("negotiated", "dialect", best, "cipher", c.cipher, "signing", c.signAlg)
	return ntstatus.StatusSuccess
}
