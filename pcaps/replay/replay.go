package replay

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/smbvfs/smbvfs/pcaps/sessions"
	"github.com/smbvfs/smbvfs/protocol/crypto/smb3"
	"github.com/smbvfs/smbvfs/protocol/ntlm"
	"github.com/smbvfs/smbvfs/protocol/ntstatus"
	"github.com/smbvfs/smbvfs/protocol/smb2"
	"github.com/smbvfs/smbvfs/protocol/spnego"
	"github.com/smbvfs/smbvfs/protocol/utf16"
)

// Options configure a replay.
type Options struct {
	// Dial opens a connection to the live server.
	Dial func() (net.Conn, error)
	// Ring holds the keys that decrypt the capture, and the passwords that re-authenticate
	// NTLM sessions (the first one is used).
	Ring *sessions.Ring
	// Password, when set, re-authenticates NTLM sessions instead of the Ring's passwords.
	Password string
	// User, when set, replaces the captured user name of re-authenticated NTLM sessions (to
	// replay a foreign capture as a user the live server knows).
	User string
	// Share, when set, replaces the share name of every TREE_CONNECT but IPC$'s.
	Share string
	// Timeout bounds the wait for each response (default 10 s).
	Timeout time.Duration
}

// Diff is one difference between a captured and a live response.
type Diff struct {
	Capture string
	Stream  int
	Frame   int    // frame of the request in the capture
	Command string // "CREATE", ...
	Field   string // "Status", "CreateResponse.EndofFile", "QUERY_INFO FileAllInformation.AllocationSize", ...
	Capt    string
	Live    string
}

func (d Diff) String() string {
	return fmt.Sprintf("%s stream %d frame %d: %s %s: captured %s, live %s", d.Capture, d.Stream, d.Frame, d.Command, d.Field, d.Capt, d.Live)
}

// Count is the tally of one command.
type Count struct{ Match, Differ int }

// Report is the outcome of replaying one capture.
type Report struct {
	Capture  string
	Commands map[string]*Count
	Diffs    []Diff
	Notes    []string // what was not replayed, and why
}

func (r *Report) count(cmd string, ok bool) {
	c := r.Commands[cmd]
	if c == nil {
		c = &Count{}
		r.Commands[cmd] = c
	}
	if ok {
		c.Match++
	} else {
		c.Differ++
	}
}

// Totals returns the responses that matched and differed.
func (r *Report) Totals() (match, differ int) {
	for _, c := range r.Commands {
		match += c.Match
		differ += c.Differ
	}
	return
}

// Print writes the report: per command the matches and differences, then every difference.
func (r *Report) Print(w io.Writer) {
	names := make([]string, 0, len(r.Commands))
	for n := range r.Commands {
		names = append(names, n)
	}
	sort.Strings(names)
	m, d := r.Totals()
	fmt.Fprintf(w, "%s: %d responses, %d match, %d differ\n", r.Capture, m+d, m, d)
	for _, n := range names {
		fmt.Fprintf(w, "  %-16s %4d match %4d differ\n", n, r.Commands[n].Match, r.Commands[n].Differ)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	for _, x := range r.Diffs {
		fmt.Fprintf(w, "  DIFF frame %d %s %s: captured %s, live %s\n", x.Frame, x.Command, x.Field, x.Capt, x.Live)
	}
}

// File replays every connection of the capture at path.
func File(path string, opt Options) (*Report, error) {
	if opt.Timeout == 0 {
		opt.Timeout = 10 * time.Second
	}
	streams, tr, err := load(path, opt.Ring)
	if err != nil {
		return nil, err
	}
	r := &Report{Capture: base(path), Commands: map[string]*Count{}}
	for _, s := range streams {
		if len(s.client) == 0 {
			continue
		}
		if s.undecrypt > 0 {
			r.Notes = append(r.Notes, fmt.Sprintf("stream %d: %d encrypted messages without a key: not replayed", s.id, s.undecrypt))
			continue
		}
		if err := replayStream(r, s, tr, opt); err != nil {
			r.Notes = append(r.Notes, fmt.Sprintf("stream %d: %v", s.id, err))
		}
	}
	return r, nil
}

// liveSession is a session on the live connection.
type liveSession struct {
	id         uint64
	capt       *sessions.Session
	client     *ntlm.Client
	preauth    smb3.PreauthHash
	signer     *smb3.Signer
	enc        *smb3.Encrypter
	dec        *smb3.Decrypter
	challenge  []byte // the live CHALLENGE_MESSAGE
	negotiated bool
}

type live struct {
	r       *Report
	s       *stream
	tr      *sessions.Tracker
	opt     Options
	nc      net.Conn
	nextMid uint64
	capMid  map[uint64]uint64 // live -> captured
	frames  map[uint64]int    // live mid -> capture frame
	sess    map[uint64]*liveSession
	bySetup map[uint64]*liveSession // live mid of a SESSION_SETUP -> session being set up
	trees   map[uint32]uint32
	files   map[smb2.FileId]smb2.FileId
	pending map[uint64]pendingReq // by live mid
	dialect smb2.Dialect
	cipher  smb3.Cipher
	signAlg smb3.SigningAlgorithm
	preauth smb3.PreauthHash
	h       smb2.Header
	msgs    smb2.Messages
	er      smb2.ErrorResponse
}

// pendingReq remembers what a request asked for, to read its response.
type pendingReq struct {
	cmd      smb2.Command
	infoType smb2.InfoType
	class    uint8
	ctl      uint32
}

func replayStream(r *Report, s *stream, tr *sessions.Tracker, opt Options) error {
	nc, err := opt.Dial()
	if err != nil {
		return err
	}
	defer nc.Close()
	l := &live{r: r, s: s, tr: tr, opt: opt, nc: nc, capMid: map[uint64]uint64{}, frames: map[uint64]int{},
		sess: map[uint64]*liveSession{}, bySetup: map[uint64]*liveSession{}, trees: map[uint32]uint32{},
		files: map[smb2.FileId]smb2.FileId{}, pending: map[uint64]pendingReq{}}
	for _, u := range s.client {
		if err := l.unit(u); err != nil {
			return fmt.Errorf("frame %d: %v", u.frame, err)
		}
	}
	return nil
}

func (l *live) diff(frame int, cmd, field, capt, lv string) {
	l.r.Diffs = append(l.r.Diffs, Diff{Capture: l.r.Capture, Stream: l.s.id, Frame: frame, Command: cmd, Field: field, Capt: capt, Live: lv})
}

func cmdName(c smb2.Command) string { return strings.TrimPrefix(c.String(), "SMB2_") }

// unit sends one captured client payload and checks the responses.
func (l *live) unit(u clientUnit) error {
	if u.smb1 {
		if err := l.send(u.data); err != nil {
			return err
		}
		resp, err := l.recv()
		if err != nil {
			return err
		}
		l.nextMid = 1
		l.compare(u.frame, l.s.smb1Resp, resp, pendingReq{cmd: smb2.CommandNegotiate})
		return nil
	}
	frame, want, sessID, err := l.rewrite(u)
	if err != nil {
		return err
	}
	if u.encrypted {
		ls := l.sess[sessID]
		if ls == nil || ls.enc == nil {
			return fmt.Errorf("encrypted request of session %#x without live keys", sessID)
		}
		pdu := make([]byte, smb3.TransformHeaderSize+len(frame), smb3.TransformHeaderSize+len(frame)+smb3.TransformSlack)
		copy(pdu[smb3.TransformHeaderSize:], frame)
		if err := ls.enc.Seal(pdu, ls.id); err != nil {
			return err
		}
		frame = pdu
	}
	if err := l.send(frame); err != nil {
		return err
	}
	for len(want) > 0 {
		data, err := l.recv()
		if err != nil {
			for mid := range want {
				p := l.pending[mid]
				l.r.count(cmdName(p.cmd), false)
				l.diff(l.frames[mid], cmdName(p.cmd), "response", "a response", err.Error())
			}
			return err
		}
		if string(data[:4]) == smb2.ProtocolTransform {
			id, err := smb3.TransformSessionID(data)
			var ls *liveSession
			for _, x := range l.sess {
				if x.id == id {
					ls = x
				}
			}
			if err != nil || ls == nil || ls.dec == nil {
				return fmt.Errorf("encrypted response of unknown session %#x", id)
			}
			if data, err = ls.dec.Open(data); err != nil {
				return err
			}
		}
		cp := smb2.Compound{Frame: data}
		for cp.Next() {
			pdu := cp.PDU()[cp.Hdr():]
			if err := l.h.Decode(pdu); err != nil {
				return err
			}
			mid := l.h.MessageId
			if mid == ^uint64(0) {
				continue // an oplock or lease break
			}
			if l.h.Status == ntstatus.StatusPending && l.h.Flags.Has(smb2.FlagsAsyncCommand) {
				continue
			}
			if !want[mid] {
				continue
			}
			delete(want, mid)
			p := l.pending[mid]
			delete(l.pending, mid)
			capt := l.s.responses[l.capMid[mid]]
			l.learn(p, capt, bytes.Clone(pdu))
			l.compare(l.frames[mid], capt, pdu, p)
		}
	}
	return nil
}

func (l *live) send(msg []byte) error {
	b := make([]byte, 4, 4+len(msg))
	binary.BigEndian.PutUint32(b, uint32(len(msg)))
	l.nc.SetWriteDeadline(time.Now().Add(l.opt.Timeout))
	_, err := l.nc.Write(append(b, msg...))
	return err
}

func (l *live) recv() ([]byte, error) {
	l.nc.SetReadDeadline(time.Now().Add(l.opt.Timeout))
	var h [4]byte
	if _, err := io.ReadFull(l.nc, h[:]); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint32(h[:]) & 0xffffff)
	b := make([]byte, n, n+smb3.TransformSlack)
	if _, err := io.ReadFull(l.nc, b); err != nil {
		return nil, err
	}
	return b, nil
}

var allOnes = smb2.FileId{Persistent: ^uint64(0), Volatile: ^uint64(0)}

// rewrite builds the live form of a captured compound: ids mapped, NTLM tokens replaced,
// signed. It returns the live message ids that expect a response.
func (l *live) rewrite(u clientUnit) ([]byte, map[uint64]bool, uint64, error) {
	var out []byte
	var starts []int
	var signed []bool
	var signers []*smb3.Signer
	want := map[uint64]bool{}
	var firstSess uint64
	cp := smb2.Compound{Frame: u.data}
	for cp.Next() {
		pdu, hdr := bytes.Clone(cp.PDU()), cp.Hdr()
		var h smb2.Header
		var msgs smb2.Messages
		var er smb2.ErrorResponse
		m, err := smb2.DecodeMessage(pdu, hdr, &h, &msgs, &er)
		if err != nil {
			return nil, nil, 0, err
		}
		captSess := h.SessionId
		if len(starts) == 0 {
			firstSess = captSess
		}
		if h.Command == smb2.CommandCancel {
			continue // its target's async id is the live server's; not replayed
		}
		capMid := h.MessageId
		h.MessageId = l.nextMid
		l.nextMid += uint64(max(1, h.CreditCharge))
		l.capMid[h.MessageId] = capMid
		l.frames[h.MessageId] = u.frame
		want[h.MessageId] = true
		var ls *liveSession
		if h.SessionId != 0 && h.SessionId != ^uint64(0) {
			ls = l.sess[h.SessionId]
			if ls != nil {
				h.SessionId = ls.id
			}
		}
		if !h.Flags.Has(smb2.FlagsAsyncCommand) && h.TreeId != 0 && h.TreeId != ^uint32(0) {
			if t, ok := l.trees[h.TreeId]; ok {
				h.TreeId = t
			}
		}
		mapFileIDs(reflect.ValueOf(m).Elem(), l.files)
		p := pendingReq{cmd: h.Command}
		switch x := m.(type) {
		case *smb2.QueryInfoRequest:
			p.infoType, p.class = x.InfoType, x.FileInfoClass
		case *smb2.QueryDirectoryRequest:
			p.class = uint8(x.FileInformationClass)
		case *smb2.IoctlRequest:
			p.ctl = uint32(x.CtlCode)
		case *smb2.TreeConnectRequest:
			if l.opt.Share != "" {
				path := x.Path.String()
				if i := strings.LastIndexByte(path, '\\'); i >= 0 && !strings.EqualFold(path[i+1:], "IPC$") {
					x.Path = utf16.FromString(path[:i+1] + l.opt.Share)
				}
			}
		case *smb2.SessionSetupRequest:
			if err := l.sessionSetup(&h, x, captSess); err != nil {
				return nil, nil, 0, err
			}
			ls = l.bySetup[h.MessageId]
		}
		l.pending[h.MessageId] = p
		start := len(out)
		if start > 0 {
			for len(out)%8 != 0 {
				out = append(out, 0)
			}
			start = len(out)
			binary.LittleEndian.PutUint32(out[starts[len(starts)-1]+20:], uint32(start-starts[len(starts)-1]))
		}
		h.NextCommand = 0
		h.Signature = [16]byte{}
		isSigned := h.Flags.Has(smb2.FlagsSigned)
		h.Flags &^= smb2.FlagsSigned
		if out, err = h.Append(out); err != nil {
			return nil, nil, 0, err
		}
		if out, err = m.Append(out, start); err != nil {
			return nil, nil, 0, err
		}
		if h.Command == smb2.CommandNegotiate {
			l.preauth = smb3.PreauthHash{}
			l.preauth.Update(out[start:])
		}
		starts = append(starts, start)
		signed = append(signed, isSigned)
		var sg *smb3.Signer
		if ls != nil {
			sg = ls.signer
		}
		signers = append(signers, sg)
	}
	if err := cp.Err(); err != nil {
		return nil, nil, 0, err
	}
	for i, st := range starts {
		end := len(out)
		if i+1 < len(starts) {
			end = starts[i+1]
		}
		if signed[i] && signers[i] != nil {
			if err := signers[i].Sign(out[st:end]); err != nil {
				return nil, nil, 0, err
			}
		}
	}
	// the 3.1.1 preauth hash of a session covers its SESSION_SETUP requests as sent
	for i, st := range starts {
		end := len(out)
		if i+1 < len(starts) {
			end = starts[i+1]
		}
		mid := binary.LittleEndian.Uint64(out[st+24:])
		if ls := l.bySetup[mid]; ls != nil && l.dialect == smb2.Dialect311 {
			ls.preauth.Update(out[st:end])
		}
	}
	return out, want, firstSess, nil
}

// mapFileIDs replaces the captured FileIds of a request body by the live ones.
func mapFileIDs(v reflect.Value, files map[smb2.FileId]smb2.FileId) {
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		if !f.CanSet() {
			continue
		}
		if id, ok := f.Interface().(smb2.FileId); ok {
			if id == allOnes {
				continue
			}
			if lid, ok := files[id]; ok {
				f.Set(reflect.ValueOf(lid))
			}
		}
	}
}

// sessionSetup prepares a SESSION_SETUP request: guest and anonymous tokens go as captured,
// NTLM is run again with the known password.
func (l *live) sessionSetup(h *smb2.Header, req *smb2.SessionSetupRequest, captSess uint64) error {
	var ls *liveSession
	if captSess != 0 {
		ls = l.sess[captSess]
	}
	// the captured session this request belongs to: by its response
	capt := l.s.responses[l.capMid[h.MessageId]]
	var capSessID uint64
	if len(capt) >= smb2.HeaderSize {
		capSessID = binary.LittleEndian.Uint64(capt[40:])
	}
	cs := l.tr.Session(capSessID)
	if ls == nil {
		ls = &liveSession{capt: cs, preauth: l.preauth}
	}
	l.bySetup[h.MessageId] = ls
	if cs != nil && (cs.Guest || cs.Anonymous) {
		return nil
	}
	pw := l.opt.Password
	if pw == "" && l.opt.Ring != nil && len(l.opt.Ring.Passwords) > 0 {
		pw = l.opt.Ring.Passwords[0]
	}
	tok, kind := ntlmToken(req.SecurityBuffer)
	if tok == nil || pw == "" {
		return nil // sent as captured
	}
	if ls.client == nil {
		ls.client = &ntlm.Client{Password: pw, NoMIC: true}
	}
	var mine []byte
	switch {
	case bytes.Equal(tok[8:12], []byte{1, 0, 0, 0}):
		mine = ls.client.Negotiate()
		ls.negotiated = true
	case bytes.Equal(tok[8:12], []byte{3, 0, 0, 0}):
		a, err := ntlm.ParseAuthenticate(tok)
		if err != nil {
			return err
		}
		if !ls.negotiated || ls.challenge == nil {
			return errors.New("NTLM AUTHENTICATE without a live challenge")
		}
		ls.client.User, ls.client.Domain = a.User, a.Domain
		if l.opt.User != "" {
			ls.client.User, ls.client.Domain = l.opt.User, ""
		}
		if mine, err = ls.client.Authenticate(ls.challenge); err != nil {
			return err
		}
	default:
		return nil
	}
	switch kind {
	case 'i':
		req.SecurityBuffer = (&spnego.NegTokenInit{MechTypes: []spnego.OID{spnego.OIDNTLMSSP}, MechToken: mine}).Marshal()
	case 'r':
		req.SecurityBuffer = (&spnego.NegTokenResp{NegState: spnego.NegStateAbsent, ResponseToken: mine}).Marshal()
	default:
		req.SecurityBuffer = mine
	}
	return nil
}

// ntlmToken returns the NTLM message of a security buffer and how it was wrapped: 'i'
// NegTokenInit, 'r' NegTokenResp, 'n' raw.
func ntlmToken(b []byte) ([]byte, byte) {
	isNTLM := func(t []byte) bool { return len(t) >= 12 && bytes.HasPrefix(t, []byte("NTLMSSP\x00")) }
	if isNTLM(b) {
		return b, 'n'
	}
	if len(b) > 0 && b[0] == 0x60 {
		if t, err := spnego.DecodeInit(b); err == nil && isNTLM(t.MechToken) {
			return t.MechToken, 'i'
		}
		return nil, 0
	}
	if t, err := spnego.DecodeResp(b); err == nil && isNTLM(t.ResponseToken) {
		return t.ResponseToken, 'r'
	}
	return nil, 0
}
