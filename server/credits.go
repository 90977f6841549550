package server

// creditWindow is Connection.CommandSequenceWindow (MS-SMB2 3.3.1.1): the message ids the
// client may use. Ids below lo have all been used; ids in [lo, hi) are granted and may be
// used once each, in any order; used marks those of [lo, hi) already consumed. The
// bitmap is a ring indexed by id modulo its size, so hi-lo never exceeds it.
type creditWindow struct {
	lo, hi uint64
	used   []uint64
	nUsed  int
	max    int // budget: at most max unused credits outstanding
}

func newCreditWindow(max int) creditWindow {
	size := 1
	for size < 4*max || size < 64 {
		size <<= 1
	}
	// The connection starts with one credit: message id 0 (the NEGOTIATE).
	return creditWindow{lo: 0, hi: 1, used: make([]uint64, size/64), max: max}
}

func (w *creditWindow) size() uint64 { return uint64(len(w.used) * 64) }

func (w *creditWindow) isUsed(id uint64) bool {
	i := id % w.size()
	return w.used[i/64]&(1<<(i%64)) != 0
}

func (w *creditWindow) flip(id uint64) {
	i := id % w.size()
	w.used[i/64] ^= 1 << (i % 64)
}

// consume takes the ids mid .. mid+charge-1; it fails, consuming nothing, when one is
// outside the window or already used.
func (w *creditWindow) consume(mid uint64, charge int) bool {
	if charge < 1 {
		charge = 1
	}
	end := mid + uint64(charge)
	if mid < w.lo || end > w.hi || end < mid {
		return false
	}
	for id := mid; id < end; id++ {
		if w.isUsed(id) {
			return false
		}
	}
	for id := mid; id < end; id++ {
		w.flip(id)
	}
	w.nUsed += charge
	for w.lo < w.hi && w.isUsed(w.lo) {
		w.flip(w.lo)
		w.lo++
		w.nUsed--
	}
	return true
}

// available is the number of credits the client holds.
func (w *creditWindow) available() int { return int(w.hi-w.lo) - w.nUsed }

// grant decides how many credits to grant for a request asking for want (MS-SMB2 3.3.1.2):
// what it asks for, at least one when the client would otherwise hold none, never past the
// budget nor the bitmap; it extends the window and returns the number granted.
func (w *creditWindow) grant(want int) int {
	avail := w.available()
	g := want
	if g > w.max-avail {
		g = w.max - avail
	}
	if room := int(w.size() - (w.hi - w.lo)); g > room {
		g = room
	}
	if g < 0 {
		g = 0
	}
	if avail+g == 0 && int(w.size()-(w.hi-w.lo)) > 0 {
		g = 1
	}
	w.hi += uint64(g)
	return g
}
