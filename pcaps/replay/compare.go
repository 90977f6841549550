package replay

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"reflect"
	"strings"

	"github.com/smbvfs/smbvfs/pcaps/roundtrip"
	"github.com/smbvfs/smbvfs/protocol/crypto/smb3"
	"github.com/smbvfs/smbvfs/protocol/fscc"
	"github.com/smbvfs/smbvfs/protocol/ntstatus"
	"github.com/smbvfs/smbvfs/protocol/smb2"
	"github.com/smbvfs/smbvfs/protocol/utf16"
)

// learn takes the ids and keys a live response assigns.
func (l *live) learn(p pendingReq, capt, pdu []byte) {
	var h smb2.Header
	var msgs smb2.Messages
	var er smb2.ErrorResponse
	m, err := smb2.DecodeMessage(pdu, 0, &h, &msgs, &er)
	if err != nil {
		return
	}
	var ch smb2.Header
	var cm smb2.Message
	var cmsgs smb2.Messages
	var cer smb2.ErrorResponse
	if capt != nil {
		cm, _ = smb2.DecodeMessage(capt, 0, &ch, &cmsgs, &cer)
	}
	switch x := m.(type) {
	case *smb2.NegotiateResponse:
		l.dialect = x.DialectRevision
		l.preauth.Update(pdu)
		l.cipher = 0
		l.signAlg = smb3.SigningAlgorithm(smb2.SigningHMACSHA256)
		if l.dialect >= smb2.Dialect300 {
			l.signAlg = smb3.SigningAlgorithm(smb2.SigningAESCMAC)
			if l.dialect < smb2.Dialect311 {
				l.cipher = smb3.AES128CCM
			}
		}
		it := x.NegotiateContexts.Iter()
		for it.Next() {
			nc := it.Value()
			switch nc.ContextType {
			case smb2.NegotiateContextEncryptionCapabilities:
				var e smb2.EncryptionCapabilities
				if e.Decode(nc.Data) == nil && e.Ciphers.Len() > 0 {
					l.cipher = smb3.Cipher(e.Ciphers.At(0))
				}
			case smb2.NegotiateContextSigningCapabilities:
				var sc smb2.SigningCapabilities
				if sc.Decode(nc.Data) == nil && sc.SigningAlgorithms.Len() > 0 {
					l.signAlg = smb3.SigningAlgorithm(sc.SigningAlgorithms.At(0))
				}
			}
		}
	case *smb2.SessionSetupResponse:
		ls := l.bySetup[h.MessageId]
		if ls == nil {
			return
		}
		delete(l.bySetup, h.MessageId)
		ls.id = h.SessionId
		if capt != nil && ch.SessionId != 0 {
			l.sess[ch.SessionId] = ls
		}
		switch h.Status {
		case ntstatus.StatusMoreProcessingRequired:
			if l.dialect == smb2.Dialect311 {
				ls.preauth.Update(pdu)
			}
			if tok, _ := ntlmToken(x.SecurityBuffer); tok != nil {
				ls.challenge = bytes.Clone(tok)
			}
		case ntstatus.StatusSuccess:
			if ls.client == nil || ls.client.SessionKey == nil || x.SessionFlags&(smb2.SessionFlagIsGuest|smb2.SessionFlagIsNull) != 0 {
				return
			}
			keys, err := smb3.DeriveKeys(smb3.Dialect(l.dialect), l.cipher, ls.client.SessionKey, ls.preauth[:])
			if err != nil {
				return
			}
			ls.signer, _ = smb3.NewSigner(l.signAlg, keys.Signing)
			if keys.Encryption != nil && l.cipher != 0 {
				ls.enc, _ = smb3.NewEncrypter(l.cipher, keys.Decryption)
				ls.dec, _ = smb3.NewDecrypter(l.cipher, keys.Encryption)
			}
		}
	case *smb2.TreeConnectResponse:
		if h.Status == 0 && capt != nil && ch.Status == 0 {
			l.trees[ch.TreeId] = h.TreeId
		}
	case *smb2.CreateResponse:
		if c, ok := cm.(*smb2.CreateResponse); ok && h.Status == 0 && ch.Status == 0 {
			l.files[c.FileId] = x.FileId
		}
	}
}

// ignored are the fields that differ from run to run (and server to server) without saying
// anything about behaviour: times, ids, GUIDs, the GSS tokens, the preauth salt.
var ignored = map[string]bool{
	"CreationTime": true, "LastAccessTime": true, "LastWriteTime": true, "ChangeTime": true,
	"SystemTime": true, "ServerStartTime": true, "VolumeCreationTime": true,
	"FileId": true, "ServerGuid": true, "Guid": true, "IndexNumber": true, "VolumeSerialNumber": true,
	"SecurityBuffer": true, "SecurityBufferOffset": true, "ObjectId": true,
}

// compare checks a live response against the captured one.
func (l *live) compare(frame int, capt, pdu []byte, p pendingReq) {
	name := cmdName(p.cmd)
	if capt == nil {
		l.r.Notes = append(l.r.Notes, fmt.Sprintf("frame %d: %s: no captured response to compare with", frame, name))
		return
	}
	before := len(l.r.Diffs)
	var ch, lh smb2.Header
	var cmsgs, lmsgs smb2.Messages
	var cer, ler smb2.ErrorResponse
	cm, cerr := smb2.DecodeMessage(capt, 0, &ch, &cmsgs, &cer)
	lm, lerr := smb2.DecodeMessage(pdu, 0, &lh, &lmsgs, &ler)
	switch {
	case cerr != nil || lerr != nil:
		if !bytes.Equal(capt, pdu) {
			l.diff(frame, name, "decode", fmt.Sprint(cerr), fmt.Sprint(lerr))
		}
	case ch.Status != lh.Status:
		field := "Status"
		if p.cmd == smb2.CommandIoctl {
			field = fscc.CtlCode(p.ctl).String() + ".Status"
		}
		l.diff(frame, name, field, ch.Status.String(), lh.Status.String())
	default:
		typ := strings.TrimPrefix(fmt.Sprintf("%T", cm), "*smb2.")
		l.values(frame, name, typ, reflect.ValueOf(cm).Elem(), reflect.ValueOf(lm).Elem())
		l.payload(frame, name, p, cm, lm)
	}
	l.r.count(name, len(l.r.Diffs) == before)
}

// payload compares the structures inside the buffers of a response.
func (l *live) payload(frame int, name string, p pendingReq, cm, lm smb2.Message) {
	var c, v []any
	var ok1, ok2 bool
	var what string
	switch x := cm.(type) {
	case *smb2.QueryInfoResponse:
		y := lm.(*smb2.QueryInfoResponse)
		c, ok1 = roundtrip.DecodeInfo(p.infoType, p.class, x.OutputBuffer)
		v, ok2 = roundtrip.DecodeInfo(p.infoType, p.class, y.OutputBuffer)
		what = infoName(p.infoType, p.class)
	case *smb2.QueryDirectoryResponse:
		y := lm.(*smb2.QueryDirectoryResponse)
		c, ok1 = roundtrip.DecodeDirectory(fscc.FileInformationClass(p.class), x.OutputBuffer)
		v, ok2 = roundtrip.DecodeDirectory(fscc.FileInformationClass(p.class), y.OutputBuffer)
		what = fscc.FileInformationClass(p.class).String()
	case *smb2.IoctlResponse:
		y := lm.(*smb2.IoctlResponse)
		c, ok1 = roundtrip.DecodeIoctl(fscc.CtlCode(p.ctl), x.Output)
		v, ok2 = roundtrip.DecodeIoctl(fscc.CtlCode(p.ctl), y.Output)
		what = fscc.CtlCode(p.ctl).String()
		if !ok1 && !bytes.Equal(x.Output, y.Output) {
			l.diff(frame, name, what+" output", short(x.Output), short(y.Output))
		}
	default:
		return
	}
	if !ok1 || !ok2 {
		return
	}
	if len(c) != len(v) {
		l.diff(frame, name, what+" entries", fmt.Sprint(len(c)), fmt.Sprint(len(v)))
		return
	}
	for i := range c {
		cv, lv := reflect.ValueOf(c[i]), reflect.ValueOf(v[i])
		if cv.Kind() == reflect.Pointer {
			cv, lv = cv.Elem(), lv.Elem()
		}
		l.values(frame, name, what, cv, lv)
	}
}

func infoName(t smb2.InfoType, class uint8) string {
	switch t {
	case smb2.InfoFile:
		return fscc.FileInformationClass(class).String()
	case smb2.InfoFilesystem:
		return fscc.FsInformationClass(class).String()
	}
	return t.String()
}

// opaque are buffers whose content is compared through their decoded form (payload) or not
// at all.
var opaque = map[string]bool{"OutputBuffer": true, "Output": true, "NegotiateContexts": true, "CreateContexts": true, "ErrorData": true}

// values compares two decoded structures field by field.
func (l *live) values(frame int, name, path string, c, v reflect.Value) {
	t := c.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() || ignored[f.Name] || strings.HasPrefix(f.Name, "Reserved") {
			continue
		}
		cf, lf := c.Field(i), v.Field(i)
		p := path + "." + f.Name
		if opaque[f.Name] {
			if f.Name == "CreateContexts" {
				l.createContexts(frame, name, p, cf, lf)
			}
			continue
		}
		switch x := cf.Interface().(type) {
		case utf16.Text:
			if y := lf.Interface().(utf16.Text); !bytes.Equal(x, y) {
				l.diff(frame, name, p, fmt.Sprintf("%q", x.String()), fmt.Sprintf("%q", y.String()))
			}
			continue
		case []byte:
			if y := lf.Interface().([]byte); !bytes.Equal(x, y) {
				l.diff(frame, name, p, short(x), short(y))
			}
			continue
		}
		if cf.Kind() == reflect.Struct {
			if b, ok := cf.Addr().Interface().(interface{ Bytes() []byte }); ok {
				if y := lf.Addr().Interface().(interface{ Bytes() []byte }).Bytes(); !bytes.Equal(b.Bytes(), y) {
					l.diff(frame, name, p, short(b.Bytes()), short(y))
				}
				continue
			}
			l.values(frame, name, p, cf, lf)
			continue
		}
		if !reflect.DeepEqual(cf.Interface(), lf.Interface()) {
			l.diff(frame, name, p, fmt.Sprint(cf.Interface()), fmt.Sprint(lf.Interface()))
		}
	}
}

// createContexts compares the names of the create contexts of two responses, and their data
// but for the ids of QFid.
func (l *live) createContexts(frame int, name, path string, c, v reflect.Value) {
	list := func(x reflect.Value) map[string][]byte {
		out := map[string][]byte{}
		cl, ok := x.Addr().Interface().(*smb2.CreateContextList)
		if !ok {
			return out
		}
		it := cl.Iter()
		for it.Next() {
			e := it.Value()
			out[string(e.Name)] = e.Data
		}
		return out
	}
	cc, lc := list(c), list(v)
	for n, d := range cc {
		ld, ok := lc[n]
		switch {
		case !ok:
			l.diff(frame, name, path+"["+n+"]", "present", "absent")
		case n != "QFid" && !bytes.Equal(d, ld):
			l.diff(frame, name, path+"["+n+"]", short(d), short(ld))
		}
	}
	for n := range lc {
		if _, ok := cc[n]; !ok {
			l.diff(frame, name, path+"["+n+"]", "absent", "present")
		}
	}
}

func short(b []byte) string {
	if len(b) > 24 {
		return fmt.Sprintf("%d bytes %x…", len(b), b[:24])
	}
	return fmt.Sprintf("%x", b)
}

var _ = binary.LittleEndian
