package server

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/smbvfs/smbvfs/protocol/crypto/smb3"
	"github.com/smbvfs/smbvfs/protocol/ntstatus"
	"github.com/smbvfs/smbvfs/protocol/smb2"
	"github.com/smbvfs/smbvfs/server/ntfs"
)

// reqState is what the loop knows of the request being processed.
type reqState struct {
	msg       []byte // the request: its header .. its end (padding of a compound included)
	sess      *session
	tree      *tree
	encrypted bool
	related   bool

	respSessionID uint64
	respTreeID    uint32
	signWith      *session  // sign the response with this session's key (nil: unsigned)
	preauthSess   *session  // hash the response into this session's preauth value
	negotiate311  bool      // hash the NEGOTIATE response into the connection's value
	async         *asyncOp  // the request went asynchronous: answer with an interim response
	syncBody      smb2.Body // the response body of an asynchronous operation that completed in time
	noResponse    bool
	disconnect    bool // drop the connection instead of answering

	r ntfs.Req
}

// compoundState carries what related operations inherit (MS-SMB2 3.3.5.2.7.2).
type compoundState struct {
	sessID    uint64
	treeID    uint32
	fileID    smb2.FileId
	haveFile  bool
	createErr ntstatus.Status // a failed CREATE: related operations on its FileId fail with it
	prevErr   ntstatus.Status
	invalid   bool // the first request of the chain claims to be related
}

// respElem is one response of the frame being built, at offset start of c.wbuf.
type respElem struct {
	start    int
	signWith *session
}

// outHeadroom is the room before the first response: the Direct-TCP header and, for an
// encrypted response, the transform header.
const outHeadroom = 4 + smb3.TransformHeaderSize

var anyFileID = smb2.FileId{Persistent: ^uint64(0), Volatile: ^uint64(0)}

func (c *conn) handleFrame(frame []byte) error {
	if len(frame) < 4 {
		return disconnect("short message")
	}
	switch string(frame[:4]) {
	case smb2.ProtocolSMB1:
		return c.handleSMB1(frame)
	case smb2.ProtocolTransform:
		if !c.negotiated || c.dialect < smb2.Dialect300 {
			return disconnect("transform before 3.x negotiate")
		}
		sid, err := smb3.TransformSessionID(frame)
		if err != nil {
			return disconnect("transform: %v", err)
		}
		s := c.lookupSession(sid)
		if s == nil || s.dec == nil {
			return disconnect("transform for unknown session %#x", sid)
		}
		plain, err := s.dec.Open(frame)
		if err != nil {
			c.srv.stats.DecryptFailures.Add(1)
			return disconnect("decrypt: %v", err)
		}
		return c.handleSMB2(plain, s)
	case smb2.ProtocolSMB2:
		return c.handleSMB2(frame, nil)
	}
	return disconnect("unknown protocol %x", frame[:4])
}

func (c *conn) lookupSession(id uint64) *session {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sessions[id]
}

// handleSMB2 runs the requests of one frame (a message or a compound chain) and sends the
// responses. encSess is the session whose key decrypted the frame, nil when in clear.
func (c *conn) handleSMB2(frame []byte, encSess *session) error {
	if cap(c.wbuf) < 4096 {
		c.wbuf = make([]byte, 0, 4096)
	}
	c.wbuf = c.wbuf[:outHeadroom]
	c.started = c.started[:0]
	defer func() {
		// Requests that went asynchronous finish now that their interim response is out
		// (or the connection is going down: then they only release their resources).
		for _, a := range c.started {
			a.start()
		}
		clear(c.started)
		c.started = c.started[:0]
	}()
	var elems [8]respElem
	resp := elems[:0]
	c.cmp = compoundState{}
	cmp := smb2.Compound{Frame: frame}
	n := 0
	for cmp.Next() {
		hdrOff := cmp.Hdr()
		pdu := cmp.PDU()
		if len(resp) > 0 {
			// Align the next response to 8 bytes (MS-SMB2 3.3.4.1.3).
			for (len(c.wbuf)-outHeadroom)%8 != 0 {
				c.wbuf = append(c.wbuf, 0)
			}
		}
		start := len(c.wbuf)
		ok, err := c.processOne(pdu, hdrOff, encSess, n == 0, cmp.PDU()[hdrOff:])
		if err != nil {
			return err
		}
		n++
		if ok {
			resp = append(resp, respElem{start: start, signWith: c.cur.signWith})
		} else {
			c.wbuf = c.wbuf[:start]
		}
	}
	if cmp.Err() != nil {
		return disconnect("compound: %v", cmp.Err())
	}
	if len(resp) == 0 {
		return nil
	}
	if n > 1 {
		// Every response of a compound is padded to 8 bytes, the last one too.
		for (len(c.wbuf)-outHeadroom)%8 != 0 {
			c.wbuf = append(c.wbuf, 0)
		}
	}
	// Chain the responses, then sign each one (its padding included).
	for i := range resp {
		end := len(c.wbuf)
		if i+1 < len(resp) {
			end = resp[i+1].start
			binary.LittleEndian.PutUint32(c.wbuf[resp[i].start+20:], uint32(end-resp[i].start))
		}
		msg := c.wbuf[resp[i].start:end]
		if encSess == nil && resp[i].signWith != nil && resp[i].signWith.signer != nil {
			if err := resp[i].signWith.signer.Sign(msg); err != nil {
				return err
			}
		}
	}
	if encSess == nil {
		return c.writeFrame(c.wbuf[resp[0].start-4:])
	}
	if encSess.enc == nil {
		return errors.New("no encryption key")
	}
	if cap(c.wbuf)-len(c.wbuf) < smb3.TransformSlack {
		// Room for GCM to seal in place.
		c.wbuf = append(c.wbuf, make([]byte, smb3.TransformSlack)...)[:len(c.wbuf)]
	}
	out := c.wbuf[resp[0].start-4-smb3.TransformHeaderSize:]
	if err := encSess.enc.Seal(out[4:], encSess.id); err != nil {
		return err
	}
	return c.writeFrame(out)
}

// processOne runs one request of a frame; it appends the response to c.wbuf and reports
// whether there is one.
func (c *conn) processOne(pdu []byte, hdrOff int, encSess *session, first bool, msg []byte) (bool, error) {
	h := &c.hdr
	if err := h.Decode(pdu[hdrOff:]); err != nil {
		return false, disconnect("header: %v", err)
	}
	if h.Flags.Has(smb2.FlagsServerToRedir) {
		return false, disconnect("response from the client")
	}
	c.cur = reqState{msg: msg, encrypted: encSess != nil}
	cur := &c.cur
	started := time.Now()
	cur.related = h.Flags.Has(smb2.FlagsRelatedOperations) && !first
	// A chain whose first request claims to be related: that request is invalid.
	c.cmp.invalid = first && h.Flags.Has(smb2.FlagsRelatedOperations)

	// Before NEGOTIATE only NEGOTIATE; NEGOTIATE only once (MS-SMB2 3.3.5.2).
	if !c.negotiated || c.wildcard {
		if h.Command != smb2.CommandNegotiate {
			return false, disconnect("%v before negotiate", h.Command)
		}
	} else if h.Command == smb2.CommandNegotiate {
		return false, disconnect("second negotiate")
	}

	// Credits and message ids (MS-SMB2 3.3.5.2.3).
	if h.Command != smb2.CommandCancel {
		charge := int(h.CreditCharge)
		if c.dialect == smb2.Dialect202 || !c.negotiated || c.serverCaps&smb2.CapLargeMtu == 0 {
			charge = 1
		}
		if !c.credits.consume(h.MessageId, charge) {
			return false, disconnect("message id %d (charge %d) outside the window [%d,%d)", h.MessageId, charge, c.credits.lo, c.credits.hi)
		}
	}

	sid, tid := h.SessionId, h.TreeId
	if h.Flags.Has(smb2.FlagsAsyncCommand) {
		tid = 0
	}
	if cur.related {
		sid, tid = c.cmp.sessID, c.cmp.treeID
	} else if !first {
		// An unrelated request ends the related chain: nothing is inherited past it.
		c.cmp = compoundState{}
	}
	cur.respSessionID = h.SessionId
	cur.respTreeID = h.TreeId

	if encSess != nil && !cur.related && sid != encSess.id {
		return false, disconnect("encrypted message for session %#x inside a transform of session %#x", sid, encSess.id)
	}

	state := smb2.SessionNone
	var sess *session
	if sid != 0 {
		sess = c.lookupSession(sid)
		if sess != nil {
			state = sess.state
			cur.sess = sess
			if state == smb2.SessionValid {
				cur.tree = sess.lookupTree(tid)
			}
		}
	}
	c.cmp.sessID, c.cmp.treeID = sid, tid
	if c.cmp.invalid {
		// What follows a first request that claims to be related inherits nothing valid.
		c.cmp.sessID, c.cmp.treeID = ^uint64(0), ^uint32(0)
	}

	status := ntstatus.StatusSuccess
	var body smb2.Body
	dispatch := true
	if c.cmp.invalid || (cur.related && sess == nil && h.Command != smb2.CommandSessionSetup) {
		// A related request without a valid session to inherit (Samba and Windows answer
		// STATUS_INVALID_PARAMETER rather than USER_SESSION_DELETED).
		status, dispatch = ntstatus.StatusInvalidParameter, false
	}

	// Signing (MS-SMB2 3.3.5.2.4) and encryption (3.3.5.2.9) checks.
	if dispatch && sess != nil && encSess == nil && h.Command != smb2.CommandNegotiate {
		if sess.signer != nil {
			if h.Flags.Has(smb2.FlagsSigned) {
				if err := sess.signer.Verify(msg); err != nil {
					c.log.Debug("bad signature", "cmd", h.Command, "mid", h.MessageId)
					c.srv.stats.SigningFailures.Add(1)
					status, dispatch = ntstatus.StatusAccessDenied, false
				} else {
					cur.signWith = sess
				}
			} else if sess.signingRequired && state == smb2.SessionValid && h.Command != smb2.CommandCancel {
				status, dispatch = ntstatus.StatusAccessDenied, false
			}
		}
		if dispatch && state == smb2.SessionValid && h.Command != smb2.CommandCancel &&
			(sess.encryptData || (cur.tree != nil && cur.tree.encrypt)) {
			status, dispatch = ntstatus.StatusAccessDenied, false
		}
	}
	if dispatch && sess != nil && sess.signingRequired && sess.signer != nil && encSess == nil {
		cur.signWith = sess
	}

	if dispatch {
		c.call = smb2.Call{Header: h, PDU: pdu, Hdr: hdrOff, Dialect: c.dialect, Session: state, TreeValid: cur.tree != nil}
		if !c.negotiated {
			c.call.Dialect = 0
		}
		c.prepareReq()
		status, body = smb2.Dispatch(c, &c.call, &c.msgs)
		if c.call.DecodeErr != nil {
			c.log.Debug("decode", "cmd", h.Command, "err", c.call.DecodeErr)
		}
		if cur.syncBody != nil {
			body = cur.syncBody
			if smb2.IsErrorResponse(h.Command, status) && !cur.r.BodyOnError {
				body = nil
			}
		} else if cur.r.BodyOnError && body == nil {
			body = c.msgs.Response(h.Command)
		}
	}
	c.srv.observe(h.Command, status, started)
	if c.srv.debug {
		c.log.Debug("request", "cmd", h.Command, "mid", h.MessageId, "sid", h.SessionId, "tid", h.TreeId,
			"flags", h.Flags, "related", cur.related, "status", status, "encrypted", cur.encrypted)
	}
	if h.Command == smb2.CommandCreate && smb2.IsErrorResponse(h.Command, status) {
		c.cmp.haveFile, c.cmp.createErr = false, status
	}
	if cur.disconnect {
		return false, disconnect("%v asked to drop the connection", h.Command)
	}
	if cur.noResponse || h.Command == smb2.CommandCancel {
		return false, nil // CANCEL is never answered, not even when refused
	}
	if status != ntstatus.StatusSuccess && status != ntstatus.StatusPending {
		c.cmp.prevErr = status
		if smb2.IsErrorResponse(h.Command, status) {
			c.srv.stats.Failures.Add(1)
		}
	}
	// Credits granted (MS-SMB2 3.3.1.2).
	want := int(h.Credits)
	if want < 1 {
		want = 1
	}
	granted := c.credits.grant(want)
	if cur.async != nil {
		status, body = ntstatus.StatusPending, nil
	}
	start := len(c.wbuf)
	if err := c.appendResponse(status, body, uint16(granted)); err != nil {
		return false, err
	}
	if status == ntstatus.StatusUserSessionDeleted && h.Flags.Has(smb2.FlagsSigned) && cur.signWith == nil {
		// There is no key to sign with, but clients that require signing look for the flag
		// before they accept this status (they do not verify it).
		binary.LittleEndian.PutUint32(c.wbuf[start+16:], uint32(smb2.HeaderFlags(binary.LittleEndian.Uint32(c.wbuf[start+16:]))|smb2.FlagsSigned))
	}
	respMsg := c.wbuf[start:]
	if cur.negotiate311 {
		c.preauth.Update(respMsg)
	}
	if cur.preauthSess != nil && status == ntstatus.StatusMoreProcessingRequired {
		cur.preauthSess.preauth.Update(respMsg)
	}
	if cur.async != nil {
		c.started = append(c.started, cur.async)
	}
	return true, nil
}

// appendResponse appends the response header and body (an ERROR body when body is nil).
func (c *conn) appendResponse(status ntstatus.Status, body smb2.Body, credits uint16) error {
	h := &c.hdr
	cur := &c.cur
	rh := smb2.Header{
		CreditCharge: h.CreditCharge,
		Status:       status,
		Command:      h.Command,
		Credits:      credits,
		Flags:        smb2.FlagsServerToRedir | h.Flags&smb2.FlagsRelatedOperations,
		MessageId:    h.MessageId,
		SessionId:    cur.respSessionID,
	}
	if cur.async != nil {
		rh.Flags |= smb2.FlagsAsyncCommand
		rh.AsyncId = cur.async.id
	} else if h.Flags.Has(smb2.FlagsAsyncCommand) {
		rh.Flags |= smb2.FlagsAsyncCommand
		rh.AsyncId = h.AsyncId
	} else {
		rh.ProcessId = h.ProcessId
		rh.TreeId = cur.respTreeID
	}
	start := len(c.wbuf)
	var err error
	if c.wbuf, err = rh.Append(c.wbuf); err != nil {
		return err
	}
	if body != nil {
		c.wbuf, err = body.Append(c.wbuf, start)
		return err
	}
	c.wbuf = appendErrorBody(c.wbuf, start, c.dialect, cur.r.ErrorData)
	return nil
}

// appendErrorBody appends an SMB2 ERROR response body (MS-SMB2 2.2.2); 3.1.1 wraps error
// data in an error context.
func appendErrorBody(b []byte, hdr int, d smb2.Dialect, data []byte) []byte {
	e := smb2.ErrorResponse{}
	if len(data) > 0 {
		if d == smb2.Dialect311 {
			ctx := make([]byte, 8, 8+len(data)+8)
			binary.LittleEndian.PutUint32(ctx, uint32(len(data)))
			ctx = append(ctx, data...)
			for len(ctx)%8 != 0 {
				ctx = append(ctx, 0)
			}
			e.ErrorContextCount = 1
			e.ErrorData = ctx
		} else {
			e.ErrorData = data
		}
	}
	b, _ = e.Append(b, hdr)
	if len(e.ErrorData) == 0 {
		b = append(b, 0) // the body is 9 bytes: one byte of ErrorData
	}
	return b
}

// prepareReq fills the ntfs.Req of the request.
func (c *conn) prepareReq() {
	r := &c.cur.r
	*r = ntfs.Req{
		Ctx:         c.ctx,
		Dialect:     c.dialect,
		SessionID:   c.cmp.sessID,
		MaxRead:     c.maxRead,
		MaxWrite:    c.maxWrite,
		MaxTransact: c.maxTransact,
		Notifier:    c,
		Replay:      c.hdr.Flags.Has(smb2.FlagsReplayOperation),
		ClientGuid:  c.clientGuid,
	}
	r.Buf = c.scratch[:0]
}

// readIntoResponse points the request's buffer at the place in c.wbuf where the data of
// a READ response of n bytes will stand (after its header and the 16 bytes of the READ
// body, MS-SMB2 2.2.20), with room after it to encrypt in place: the backend reads straight
// into the outgoing frame, and ReadResponse.Append finds the data already where it copies
// it to (a copy onto itself is free).
func (c *conn) readIntoResponse(n int) {
	const dataAt = smb2.HeaderSize + 16
	need := dataAt + n + smb3.TransformSlack
	if cap(c.wbuf)-len(c.wbuf) < need {
		nb := getBig(len(c.wbuf) + need)[:len(c.wbuf)]
		copy(nb, c.wbuf)
		if cap(c.wbuf) > smallBuf {
			putBig(c.wbuf)
		}
		c.wbuf = nb
	}
	at := len(c.wbuf) + dataAt
	c.cur.r.Buf = c.wbuf[at : at : at+n]
}

// scratchFor makes the scratch buffer hold at least n bytes.
func (c *conn) scratchFor(n int) {
	if cap(c.scratch) < n {
		if cap(c.scratch) > smallBuf {
			putBig(c.scratch)
		}
		if n <= smallBuf {
			c.scratch = make([]byte, 0, smallBuf)
		} else {
			c.scratch = getBig(n)
		}
	}
	c.cur.r.Buf = c.scratch[:0]
}
