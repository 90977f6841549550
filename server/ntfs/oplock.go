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
// A new open of a stream breaks the BATCH and EXCLUSIVE oplocks of the other opens: to
// LEVEL_II, or to NONE when it overwrites. The holder is sent an OPLOCK_BREAK
// notification and the new open waits for its acknowledgment (or its CLOSE) up to the
// share's break timeout. LEVEL_II oplocks are broken to NONE, without acknowledgment,
// by an overwriting open and by writes through other opens. Directories get no oplock;
// leases are not granted.

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

// isStatOpen reports whether an open only reads or sets attributes or reads the security
// descriptor: it breaks no oplock (MS-FSA 2.1.5.1.2.1, as Windows and Samba).
func isStatOpen(access dtyp.AccessMask) bool {
	const stat = dtyp.FileReadAttributes | dtyp.FileWriteAttributes | dtyp.Synchronize | dtyp.ReadControl
	return access&^stat == 0
}

// pendingBreak is a notification to send.
type pendingBreak struct {
	o     *open
	level smb2.OplockLevel
}

// breakOplocks breaks the oplocks of the other opens of stream skey of the file id that
// conflict with a new open, and waits for the acknowledgments. Opens of the caller's own
// connection are not waited for (the connection cannot read their acknowledgment while
// it processes the CREATE): their oplock is lowered at once.
func (s *Share) breakOplocks(ctx context.Context, from Notifier, id uint64, skey string, access dtyp.AccessMask, overwrite bool) {
	if !overwrite && isStatOpen(access) {
		return
	}
	to := smb2.OplockLevelII
	if overwrite {
		to = smb2.OplockLevelNone
	}
	var sends []pendingBreak
	var waits []*open
	s.mu.Lock()
	f := s.files[id]
	if f != nil {
		for _, h := range f.opens {
			if h.skey != skey {
				continue
			}
			ol := &h.ol
			switch {
			case ol.breaking:
				if ol.notifier != from {
					waits = append(waits, h)
				}
			case ol.level == smb2.OplockLevelBatch || ol.level == smb2.OplockLevelExclusive:
				ol.breaking, ol.breakTo, ol.acked = true, to, make(chan struct{})
				sends = append(sends, pendingBreak{h, to})
				if ol.notifier == from {
					ol.level = to // keep breaking: the acknowledgment is still expected
				} else {
					waits = append(waits, h)
				}
			case ol.level == smb2.OplockLevelII && overwrite:
				ol.level = smb2.OplockLevelNone
				sends = append(sends, pendingBreak{h, smb2.OplockLevelNone})
			}
		}
	}
	s.mu.Unlock()
	s.sendBreaks(sends)
	if len(waits) == 0 {
		return
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
		case <-timer.C:
		case <-ctx.Done():
		}
		// No acknowledgment in time: the oplock is taken away (MS-SMB2 3.3.2.1).
		s.mu.Lock()
		for _, h := range waits {
			if h.ol.breaking {
				h.ol.endBreak(smb2.OplockLevelNone)
			}
		}
		s.mu.Unlock()
		return
	}
}

// sendBreaks sends OPLOCK_BREAK notifications; a holder that cannot be told loses its
// oplock at once.
func (s *Share) sendBreaks(sends []pendingBreak) {
	for _, b := range sends {
		body := &smb2.OplockBreakResponseForms{Size: 24,
			OplockBreakResponse: smb2.OplockBreakResponse{OplockLevel: b.level, FileId: b.o.fid}}
		if err := b.o.ol.notifier.Notify(b.o.ol.sessID, smb2.CommandOplockBreak, body); err != nil {
			s.mu.Lock()
			b.o.ol.endBreak(smb2.OplockLevelNone)
			s.mu.Unlock()
		}
	}
}

// breakLevelII breaks the LEVEL_II oplocks of the other opens of o's stream to NONE (a
// write, a truncation or a byte-range lock through o).
func (s *Share) breakLevelII(o *open) {
	if !s.ext.levelII.Load() {
		return
	}
	var sends []pendingBreak
	s.mu.Lock()
	for _, h := range o.f.opens {
		if h != o && h.skey == o.skey && h.ol.level == smb2.OplockLevelII && !h.ol.breaking {
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
	s.mu.Unlock()
	*resp = smb2.OplockBreakResponseForms{Size: 24,
		OplockBreakResponse: smb2.OplockBreakResponse{OplockLevel: level, FileId: o.fid}}
	return ntstatus.StatusSuccess
}

// oplockClosed ends a break in progress on an open that closes; call with Share.mu held.
func (o *open) oplockClosed() {
	o.ol.endBreak(smb2.OplockLevelNone)
}
