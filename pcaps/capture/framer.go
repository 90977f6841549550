package capture

import "fmt"

// NetBIOS session service message types (RFC 1002 4.3.1). Type 0x00
// (session message) carries SMB; the others are consumed silently.
const (
	nbssSessionMessage  = 0x00
	nbssSessionRequest  = 0x81
	nbssPositive        = 0x82
	nbssNegative        = 0x83
	nbssRetarget        = 0x84
	nbssKeepAlive       = 0x85
	maxNBSSControlBytes = 1 << 17 // NBSS control messages have a 17-bit length
)

// framer states.
const (
	stSync   uint8 = iota // the next byte is a frame header
	stVerify              // the next byte should be a frame header: check it is plausible
	stHunt                // position unknown: look for a plausible frame header
)

// mark records that the bytes from offset off of the framer window on came
// from frame, and that all bytes of the stream up to them had been captured
// by frame upto (>= frame when segments arrived out of order).
type mark struct{ off, frame, upto int }

// framer splits one direction of a connection into units.
type framer struct {
	h     *half
	state uint8
	skip  int    // bytes to discard before the next frame header
	buf   []byte // unconsumed bytes: the start of the current frame, or bytes being examined
	marks []mark // frames of the bytes of the window being processed
	upto  int    // highest frame that carried bytes delivered so far

	// hunting
	huntKind  string // Problem.Kind reported for the bytes skipped
	huntWhy   string // why we are hunting
	hunted    int    // bytes skipped so far
	huntFirst int    // lowest frame number of the skipped bytes
	huntLast  int    // highest frame number of the skipped bytes
	huntGap   int    // bytes missing (holes) met while hunting
}

func (f *framer) frameAt(off int) int {
	for i := len(f.marks) - 1; i >= 0; i-- {
		if f.marks[i].off <= off {
			return f.marks[i].frame
		}
	}
	return 0
}

// uptoAt returns the frame by which every captured byte of the stream up to
// window offset off had been seen.
func (f *framer) uptoAt(off int) int {
	for i := len(f.marks) - 1; i >= 0; i-- {
		if f.marks[i].off <= off {
			return f.marks[i].upto
		}
	}
	return 0
}

// feed processes the next contiguous bytes of the stream, carried by frame.
func (f *framer) feed(data []byte, frame int) {
	c := f.h.c
	f.upto = max(f.upto, frame)
	upto := f.upto
	if c.smb == 0 {
		// Port not known to be SMB: look at the first bytes.
		f.marks = append(f.marks, mark{len(f.buf), frame, upto})
		f.buf = append(f.buf, data...)
		switch classify(f.buf) {
		case vMore:
			if len(f.buf) < 64 {
				return
			}
			c.reject()
			return
		case vNo:
			c.reject()
			return
		}
		c.smb = 1
		if f.state == stHunt {
			// Start of the connection not captured, but the first bytes
			// are a frame header: nothing to report.
			f.state = stSync
		}
		f.compact(f.process(f.buf))
		// The other direction may have buffered bytes while undecided.
		if o := &c.half[1-f.h.dir].f; len(o.buf) > 0 {
			o.compact(o.process(o.buf))
		}
		return
	}
	if len(f.buf) == 0 {
		// Fast path: no copy of units contained in data.
		f.marks = append(f.marks[:0], mark{0, frame, upto})
		n := f.process(data)
		if n < len(data) {
			f.buf = append(f.buf, data[n:]...)
			f.reserve()
		} else {
			f.marks = f.marks[:0]
		}
		return
	}
	f.marks = append(f.marks, mark{len(f.buf), frame, upto})
	f.buf = append(f.buf, data...)
	f.compact(f.process(f.buf))
	f.reserve()
}

// reserve makes room in f.buf for the whole frame it starts with, so that
// a large unit arriving in many segments is not copied again at every
// doubling of the buffer.
func (f *framer) reserve() {
	if f.state == stHunt || f.skip > 0 || len(f.buf) < 4 || f.buf[0] != nbssSessionMessage {
		return
	}
	if need := 4 + frameLen(f.buf); cap(f.buf) < need {
		nb := make([]byte, len(f.buf), need)
		copy(nb, f.buf)
		f.buf = nb
	}
}

// compact drops the first n bytes of f.buf.
func (f *framer) compact(n int) {
	if n == 0 {
		return
	}
	if n >= len(f.buf) {
		f.buf = f.buf[:0]
		f.marks = f.marks[:0]
		return
	}
	k := copy(f.buf, f.buf[n:])
	f.buf = f.buf[:k]
	i := 0
	for i+1 < len(f.marks) && f.marks[i+1].off <= n {
		i++
	}
	m := copy(f.marks, f.marks[i:])
	f.marks = f.marks[:m]
	f.marks[0].off = 0
	for j := 1; j < m; j++ {
		f.marks[j].off -= n
	}
}

// process consumes as many bytes of b (the window described by f.marks) as
// possible and returns how many.
func (f *framer) process(b []byte) int {
	p := 0
	for p < len(b) {
		if f.h.c.r.err != nil {
			return len(b)
		}
		if f.skip > 0 {
			n := min(f.skip, len(b)-p)
			f.skip -= n
			p += n
			continue
		}
		rest := b[p:]
		switch f.state {
		case stHunt:
			i, v := scan(rest)
			if i > 0 {
				f.account(p, p+i)
				p += i
			}
			if v != vYes {
				return p
			}
			f.endHunt(f.frameAt(p))
			f.state = stSync
		default:
			if len(rest) < 4 {
				return p
			}
			typ, l := rest[0], frameLen(rest)
			switch {
			case typ == nbssSessionMessage:
				if f.state == stVerify {
					switch plausible(rest) {
					case vMore:
						return p
					case vNo:
						f.startHunt("resync", "no frame header where the length of the unit lost in the hole said the next one starts")
						continue
					}
					f.state = stSync
				}
				if l == 0 {
					p += 4 // empty session message
					continue
				}
				if l >= 4 && len(rest) < 8 {
					return p
				}
				if l < 4 || !isSMBMagic(rest[4:8]) {
					f.startHunt("resync", fmt.Sprintf("frame header (length %d) in frame %d not followed by an SMB magic", l, f.frameAt(p)))
					continue
				}
				if len(rest) < 4+l {
					return p
				}
				f.h.c.r.emit(f.h.c, f.h.dir, rest[4:4+l], f.frameAt(p), f.uptoAt(p+4+l-1))
				p += 4 + l
			case f.state == stSync && typ >= nbssSessionRequest && typ <= nbssKeepAlive && rest[1]&^1 == 0:
				// NetBIOS session control message: 17-bit length.
				p += 4
				f.skip = l
			default:
				f.startHunt("resync", fmt.Sprintf("unexpected frame header %02x%02x%02x%02x in frame %d", rest[0], rest[1], rest[2], rest[3], f.frameAt(p)))
			}
		}
	}
	return p
}

// scan returns the offset of the first position in b that may be a frame
// header (vYes) or may be one once more bytes are known (vMore); len(b)
// and vNo if there is none.
func scan(b []byte) (int, verdict) {
	for i := 0; i < len(b); i++ {
		if b[i] != 0 {
			continue
		}
		if v := plausible(b[i:]); v != vNo {
			return i, v
		}
	}
	return len(b), vNo
}

func (f *framer) startHunt(kind, why string) {
	f.state = stHunt
	f.huntKind, f.huntWhy = kind, why
	f.hunted, f.huntFirst, f.huntLast, f.huntGap = 0, 0, 0, 0
}

// account records window bytes [from, to) as skipped while hunting.
func (f *framer) account(from, to int) {
	for i, mk := range f.marks {
		end := to
		if i+1 < len(f.marks) {
			end = f.marks[i+1].off
		}
		if end <= from || mk.off >= to {
			continue
		}
		if f.huntFirst == 0 || mk.frame < f.huntFirst {
			f.huntFirst = mk.frame
		}
		f.huntLast = max(f.huntLast, mk.frame)
	}
	f.hunted += to - from
}

// endHunt reports the bytes skipped while hunting, if any; frame is where a
// header was found, 0 at the end of the stream.
func (f *framer) endHunt(frame int) {
	if f.hunted > 0 {
		var d string
		if frame > 0 {
			d = fmt.Sprintf("%d bytes skipped in frames %d-%d before the frame header found in frame %d (%s)", f.hunted, f.huntFirst, f.huntLast, frame, f.huntWhy)
		} else {
			frame = f.huntLast
			d = fmt.Sprintf("%d bytes skipped in frames %d-%d, no frame header found before the end of the stream (%s)", f.hunted, f.huntFirst, f.huntLast, f.huntWhy)
		}
		if f.huntGap > 0 {
			d += fmt.Sprintf("; %d bytes missing in holes meanwhile, reported separately", f.huntGap)
		}
		f.problem(Problem{Frame: frame, Kind: f.huntKind, Skipped: f.hunted, Detail: d})
	}
	f.hunted, f.huntFirst, f.huntLast, f.huntGap = 0, 0, 0, 0
}

func (f *framer) problem(p Problem) {
	f.h.c.r.problem(f.h.c, f.h.dir, p)
}

// gap tells the framer that n bytes of the stream are missing, between
// frames before and after; kind is "gap" or "truncated".
func (f *framer) gap(n, before, after int, kind string) {
	if f.h.c.smb == 0 {
		// A connection on a port not known to be SMB is recognised by its
		// first bytes; with a hole before them it cannot be.
		f.h.c.reject()
		return
	}
	var what string
	if kind == "truncated" {
		what = fmt.Sprintf("frame %d cut by the snap length: %d bytes of TCP payload not captured", after, n)
	} else if after == 0 {
		what = fmt.Sprintf("%d bytes acknowledged by the receiver but never captured after frame %d, at the end of the stream", n, before)
		after = before
	} else {
		what = fmt.Sprintf("%d bytes never captured between frame %d and frame %d", n, before, after)
	}
	skipped := 0
	switch f.state {
	case stHunt:
		// Bytes kept as the possible start of a header cannot be continued
		// by what follows the hole.
		if len(f.buf) > 0 {
			f.account(0, len(f.buf))
			f.buf = f.buf[:0]
			f.marks = f.marks[:0]
		}
		f.huntGap += n
		what += "; was already looking for a frame header"
	default:
		have := len(f.buf)
		switch {
		case f.skip > 0:
			if n < f.skip {
				f.skip -= n
				f.state = stVerify
				what += fmt.Sprintf("; inside bytes already being skipped, %d more to skip", f.skip)
			} else {
				f.skip = 0
				f.startHunt("resync", fmt.Sprintf("looking for a frame header after the hole before frame %d", after))
				what += "; next frame header position unknown"
			}
		case have >= 4 && f.buf[0] == nbssSessionMessage && n <= 4+frameLen(f.buf)-have:
			l := frameLen(f.buf)
			f.skip = 4 + l - have - n
			skipped = have + f.skip
			f.state = stVerify
			what += fmt.Sprintf("; unit of %d bytes begun in frame %d lost (%d bytes before the hole, %d after it skipped)", l, f.frameAt(0), have-4, f.skip)
		default:
			skipped = have
			if have >= 4 {
				what += fmt.Sprintf("; unit of %d bytes begun in frame %d lost (%d bytes before the hole), next frame header position unknown", frameLen(f.buf), f.frameAt(0), have-4)
			} else {
				what += "; next frame header position unknown"
			}
			f.startHunt("resync", fmt.Sprintf("looking for a frame header after the hole before frame %d", after))
		}
		f.buf = f.buf[:0]
		f.marks = f.marks[:0]
	}
	f.problem(Problem{Frame: after, Kind: kind, Missing: n, Skipped: skipped, Detail: what})
}

// finish is called at the end of the stream.
func (f *framer) finish() {
	switch f.state {
	case stHunt:
		if len(f.buf) > 0 {
			f.account(0, len(f.buf))
		}
		f.endHunt(0)
	default:
		if len(f.buf) > 0 {
			var d string
			if len(f.buf) >= 4 {
				d = fmt.Sprintf("stream ends inside a unit of %d bytes begun in frame %d (%d bytes captured)", frameLen(f.buf), f.frameAt(0), len(f.buf)-4)
			} else {
				d = fmt.Sprintf("stream ends inside a frame header begun in frame %d", f.frameAt(0))
			}
			f.problem(Problem{Frame: f.uptoAt(len(f.buf) - 1), Kind: "incomplete", Skipped: len(f.buf), Detail: d})
		}
	}
	f.buf, f.marks = nil, nil
}
