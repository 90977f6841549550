package ntfs

import (
	"context"
	"time"

	"github.com/smbvfs/smbvfs/protocol/dtyp"
	"github.com/smbvfs/smbvfs/protocol/ntstatus"
	"github.com/smbvfs/smbvfs/protocol/smb2"
)

// Oplocks (MS-SMB2 3.3.5.9 step "oplock", 3.3.4.6, 3.3.5.22.1; MS-FSA 2.1.5.17 and the
// oplock checks of 2.1.5.1.2). An open of a file's stream may hold
//
//   - BATCH or EXCLUSIVE when it is the only open of the stream;
//   - LEVEL_II when no other open of the stream holds BATCH or EXCLUSIVE.
//
// A new open of a stream (other than a stat open) breaks the BATCH and EXCLUSIVE oplocks
// of the other opens: to LEVEL_II, or to NONE when it overwrites. BATCH oplocks break
// before the sharing check, EXCLUSIVE ones after it (an open refused with
// SHARING_VIOLATION breaks no EXCLUSIVE oplock), and neither when the file is delete
// pending. The holder is sent an OPLOCK_BREAK notification and the new open waits for its
// acknowledgment (or its CLOSE) up to the share's break timeout; the engine runs such a
// CREATE asynchronously (OplockWait). LEVEL_II oplocks are broken to NONE, without
// acknowledgment, by an overwriting open and by writes, end-of-file and allocation
// changes and byte-range locks through any open of the stream, the holder's own too.
// Directories get no oplock; leases are not granted.

// DefaultOplockBreakTimeout is how long an open waits for the acknowledgment of the
// oplock break it caused (MS-SMB2 3.3.2.1: the oplock break acknowledgment timer, 35 s).
const DefaultOplockBreakTimeout = 35 * time.Second

// oplockState is the oplock of one open. Its fields are guarded by Share.mu.
type oplockState struct {
	level    smb2.OplockLevel
	breaking bool             // a notification was sent, the acknowledgment is awaited
	breakTo  smb2.OplockLevel // the level of the notification
	acked    chan struct{}    // closed when the break ends (acknowledgment, close, timeout)
	notifier Notifier         // the connection of the holder
	sessID   uint64
}

// endBreak finishes a break in progress; call with Share.mu held.
func (ol *oplockState) endBreak(level smb2.OplockLevel) {
	ol.level = level
	if ol.breaking {
		ol.breaking = false
		close(ol.acked)
	}
}

// SetOplockBreakTimeout sets how long an open waits for the acknowledgment of an oplock
// break; 0 restores DefaultOplockBreakTimeout.
func (s *Share) SetOplockBreakTimeout(d time.Duration) {
	s.ext.breakTimeout.Store(int64(d))
}

func (s *Share) oplockBreakTimeout() time.Duration {
	if d := time.Duration(s.ext.breakTimeout.Load()); d > 0 {
		return d
	}
	return DefaultOplockBreakTimeout
}

// isStatOpen reports whether an open only reads or sets attributes: it breaks no oplock
// (MS-FSA 2.1.4.12: an OPEN whose DesiredAccess holds nothing but FILE_READ_ATTRIBUTES,
// FILE_WRITE_ATTRIBUTES and SYNCHRONIZE). READ_CONTROL breaks, as on Windows and Samba.
func isStatOpen(access dtyp.AccessMask) bool {
	const stat = dtyp.FileReadAttributes | dtyp.FileWriteAttributes | dtyp.Synchronize
	return access&^stat == 0
}

// pendingBreak is a notification to send.
type pendingBreak struct {
	o     *open
	level smb2.OplockLevel
}

// OplockWait says how a CREATE waits for the acknowledgments of the oplock breaks it
// causes (MS-SMB2 3.3.4.6 and MS-FSA 2.1.4.12: the open waits for the acknowledgment, or
// the holder's CLOSE, up to the share's break timeout).
type OplockWait uint8

const (
	// OplockWaitOthers: the CREATE runs on its connection's loop and cannot go
	// asynchronous. It waits for holders on other connections; a holder on its own
	// connection, whose acknowledgment the loop cannot read meanwhile, is lowered at once.
	OplockWaitOthers OplockWait = iota
	// OplockWaitNever: rather than wait, Create returns STATUS_PENDING having changed
	// nothing and sent no break; the engine runs the request again, asynchronously, with
	// OplockWaitAll.
	OplockWaitNever
	// OplockWaitAll: the CREATE runs asynchronously and waits for every holder, those on
	// its own connection too.
	OplockWaitAll
)

// breakOplocks breaks the oplocks of the other opens of stream skey of the file id that
// conflict with a new open, and waits for the acknowledgments as mode says. With
// batchOnly it breaks only BATCH oplocks: an open breaks those before the sharing check
// (a holder that closes on the break lets the open proceed), the others after it
// (MS-FSA 2.1.5.1.2). It returns STATUS_PENDING when mode is OplockWaitNever and the open
// would have to wait, STATUS_CANCELLED when ctx ends first.
func (s *Share) breakOplocks(ctx context.Context, mode OplockWait, from Notifier, id uint64, skey string, access dtyp.AccessMask, overwrite, batchOnly bool) ntstatus.Status {
	if !overwrite && isStatOpen(access) {
		return ntstatus.StatusSuccess
	}
	to := smb2.OplockLevelII
	if overwrite {
		to = smb2.OplockLevelNone
	}
	var sends []pendingBreak
	var waits []*open
	s.mu.Lock()
	f := s.files[id]
	if f == nil {
		s.mu.Unlock()
		return ntstatus.StatusSuccess
	}
	// A detached durable open cannot acknowledge a break: it is closed, and the new open
	// proceeds (MS-SMB2 3.3.4.6).
	var lost []*open
	for _, h := range f.opens {
		if h.skey == skey && h.dur.detached && (h.ol.level == smb2.OplockLevelBatch || (!batchOnly && h.ol.level == smb2.OplockLevelExclusive)) {
			if s.takeDetachedLocked(h) {
				lost = append(lost, h)
			}
		}
	}
	if len(lost) > 0 {
		s.mu.Unlock()
		for _, h := range lost {
			h.t.closeOpen(context.WithoutCancel(ctx), h)
		}
		// Its close may have deleted the file (delete-on-close): the CREATE looks again.
		return errRetry
	}
	if mode == OplockWaitNever {
		for _, h := range f.opens {
			if h.skey != skey {
				continue
			}
			if l := h.ol.level; h.ol.breaking || l == smb2.OplockLevelBatch || (!batchOnly && l == smb2.OplockLevelExclusive) {
				s.mu.Unlock()
				return ntstatus.StatusPending
			}
		}
	}
	for _, h := range f.opens {
		if h.skey != skey {
			continue
		}
		ol := &h.ol
		waitFor := mode == OplockWaitAll || ol.notifier != from
		switch {
		case ol.breaking:
			if waitFor {
				waits = append(waits, h)
			}
		case ol.level == smb2.OplockLevelBatch || (!batchOnly && ol.level == smb2.OplockLevelExclusive):
			ol.breaking, ol.breakTo, ol.acked = true, to, make(chan struct{})
			sends = append(sends, pendingBreak{h, to})
			if waitFor {
				waits = append(waits, h)
			} else {
				ol.level = to // keep breaking: the acknowledgment is still expected
				if to == smb2.OplockLevelII {
					s.ext.levelII.Store(true)
				}
			}
		case !batchOnly && ol.level == smb2.OplockLevelII && overwrite:
			ol.level = smb2.OplockLevelNone
			sends = append(sends, pendingBreak{h, smb2.OplockLevelNone})
		}
	}
	s.mu.Unlock()
	s.sendBreaks(sends)
	if len(waits) == 0 {
		return ntstatus.StatusSuccess
	}
	timer := time.NewTimer(s.oplockBreakTimeout())
	defer timer.Stop()
	for _, h := range waits {
		s.mu.Lock()
		ch, breaking := h.ol.acked, h.ol.breaking
		s.mu.Unlock()
		if !breaking {
			continue
		}
		select {
		case <-ch:
			continue
		case <-ctx.Done():
			return ntstatus.StatusCancelled
		case <-timer.C:
		}
		// No acknowledgment in time: the oplock is taken away (MS-SMB2 3.3.2.1).
		s.mu.Lock()
		for _, h := range waits {
			if h.ol.breaking {
				h.ol.endBreak(smb2.OplockLevelNone)
			}
		}
		s.mu.Unlock()
		break
	}
	return ntstatus.StatusSuccess
}

// sendBreaks sends OPLOCK_BREAK notifications; a holder that cannot be told loses its
// oplock at once.
func (s *Share) sendBreaks(sends []pendingBreak) {
	for _, b := range sends {
		body := &smb2.OplockBreakResponseForms{Size: 24,
			OplockBreakResponse: smb2.OplockBreakResponse{OplockLevel: b.level, FileId: b.o.fid}}
		s.mu.Lock()
		n, sess := b.o.ol.notifier, b.o.ol.sessID
		s.mu.Unlock()
		if n == nil || n.Notify(sess, smb2.CommandOplockBreak, body) != nil {
			s.mu.Lock()
			b.o.ol.endBreak(smb2.OplockLevelNone)
			durable := b.o.dur.version != 0
			s.mu.Unlock()
			if durable {
				// Its connection is going: the break can never be acknowledged, and the
				// open would not survive the disconnect without its oplock. It is closed
				// now, as a detached one would be (MS-SMB2 3.3.4.6).
				b.o.t.closeOpen(context.Background(), b.o)
			}
		}
	}
}

// breakLevelII breaks the LEVEL_II oplocks of the opens of o's stream to NONE, o's own
// included (MS-FSA 2.1.4.12: a write, a change of the end of file or allocation size, or a
// byte-range lock through o breaks every LEVEL_II oplock of the stream). The holders are
// told and not waited for: they acknowledge nothing (MS-SMB2 3.3.4.6).
func (s *Share) breakLevelII(o *open) {
	if !s.ext.levelII.Load() {
		return
	}
	var sends []pendingBreak
	s.mu.Lock()
	for _, h := range o.f.opens {
		if h.skey == o.skey && h.ol.level == smb2.OplockLevelII && !h.ol.breaking {
			h.ol.level = smb2.OplockLevelNone
			sends = append(sends, pendingBreak{h, smb2.OplockLevelNone})
		}
	}
	s.mu.Unlock()
	s.sendBreaks(sends)
}

// grantOplock decides the oplock of a new open (MS-SMB2 3.3.5.9: RequestedOplockLevel).
func (t *Tree) grantOplock(r *Req, o *open, requested smb2.OplockLevel) smb2.OplockLevel {
	if r.Notifier == nil || o.isDir || requested == smb2.OplockLevelNone {
		return smb2.OplockLevelNone
	}
	switch requested {
	case smb2.OplockLevelII, smb2.OplockLevelExclusive, smb2.OplockLevelBatch:
	default:
		return smb2.OplockLevelNone // a lease (0xFF) is not granted
	}
	s := t.s
	s.mu.Lock()
	defer s.mu.Unlock()
	alone, exclusive := true, false
	for _, h := range o.f.opens {
		if h == o || h.skey != o.skey {
			continue
		}
		alone = false
		if h.ol.level == smb2.OplockLevelBatch || h.ol.level == smb2.OplockLevelExclusive {
			exclusive = true
		}
	}
	level := requested
	switch {
	case exclusive:
		level = smb2.OplockLevelNone
	case !alone:
		level = smb2.OplockLevelII
	}
	if level == smb2.OplockLevelII {
		s.ext.levelII.Store(true)
	}
	if level != smb2.OplockLevelNone {
		o.ol = oplockState{level: level, notifier: r.Notifier, sessID: r.SessionID}
	}
	return level
}

// oplockBreakAck handles an OPLOCK_BREAK acknowledgment (MS-SMB2 3.3.5.22.1).
func (t *Tree) oplockBreakAck(r *Req, req *smb2.OplockBreakRequestForms, resp *smb2.OplockBreakResponseForms) ntstatus.Status {
	ack := req.OplockBreakAcknowledgment
	o := t.get(ack.FileId)
	if o == nil {
		return ntstatus.StatusFileClosed
	}
	s := t.s
	s.mu.Lock()
	ol := &o.ol
	if !ol.breaking {
		s.mu.Unlock()
		return ntstatus.StatusInvalidOplockProtocol
	}
	level := ack.OplockLevel
	if (level != smb2.OplockLevelNone && level != smb2.OplockLevelII) || level > ol.breakTo {
		ol.endBreak(smb2.OplockLevelNone)
		s.mu.Unlock()
		return ntstatus.StatusInvalidOplockProtocol
	}
	ol.endBreak(level)
	if level == smb2.OplockLevelII {
		s.ext.levelII.Store(true)
	}
	s.mu.Unlock()
	*resp = smb2.OplockBreakResponseForms{Size: 24,
		OplockBreakResponse: smb2.OplockBreakResponse{OplockLevel: level, FileId: o.fid}}
	return ntstatus.StatusSuccess
}

// oplockClosed ends a break in progress on an open that closes; call with Share.mu held.
func (o *open) oplockClosed() {
	o.ol.endBreak(smb2.OplockLevelNone)
}
