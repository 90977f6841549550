package mp3

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"time"
)

// Info is what Analyze learns about a file.
type Info struct {
	Duration   time.Duration
	Bitrate    int // average, bits per second
	SampleRate int
	Version    int // 1, 2 or 25
	Layer      int
	Mono       bool
	VBR        bool   // frames of several bitrates (or a Xing/VBRI header says so)
	Method     string // how the duration was found: "xing", "info", "vbri", "cbr" or "scan"
	Frames     int64  // audio frames, when known (Xing/VBRI or scan)
	AudioStart int64  // offset of the first frame
	AudioEnd   int64  // end of the audio data (before trailing tags)
	Truncated  bool   // the last frame (or the data a Xing header announces) is cut short
	Skipped    int64  // bytes between frames that were not audio (scan only)
}

// Options adjust Analyze.
type Options struct {
	// Scan reads every frame header instead of trusting the first frame
	// of a constant-bitrate file. Slower (the whole file is read), exact
	// for VBR files without a Xing or VBRI header.
	Scan bool
}

const searchWindow = 64 << 10 // how far past the tags the first frame is looked for

// Analyze finds the audio frames of the MPEG file r of the given size and
// measures its duration. It returns ErrNoFrames when there are none.
func Analyze(r io.ReaderAt, size int64, opt Options) (Info, error) {
	var info Info
	start, end, err := audioBounds(r, size)
	if err != nil {
		return info, err
	}
	buf := make([]byte, min(end-start, searchWindow+4096))
	n, err := r.ReadAt(buf, start)
	if err != nil && !errors.Is(err, io.EOF) {
		return info, err
	}
	buf = buf[:n]
	off, h, ok := firstFrame(buf, end-start)
	if !ok && start > 0 {
		// A damaged ID3v2 size: look for audio from the beginning.
		start = 0
		buf = make([]byte, min(end, searchWindow+4096))
		n, _ = r.ReadAt(buf, 0)
		buf = buf[:n]
		off, h, ok = firstFrame(buf, end)
	}
	if !ok {
		return info, ErrNoFrames
	}
	info.AudioStart = start + int64(off)
	info.AudioEnd = end
	info.SampleRate, info.Version, info.Layer, info.Mono = h.SampleRate, h.Version, h.Layer, h.Mono()
	audio := end - info.AudioStart

	if !opt.Scan {
		frame := buf[off:min(len(buf), off+h.FrameLen())]
		if x, ok := parseXing(frame, h); ok && x.frames > 0 {
			info.Method, info.VBR, info.Frames = x.kind, x.kind != "info", x.frames
			info.Duration = time.Duration(x.frames) * h.Duration()
			if x.bytes > 0 && x.bytes > audio+int64(h.FrameLen()) {
				// Cut short: only the data present plays.
				info.Truncated = true
				info.Duration = time.Duration(float64(info.Duration) * float64(audio) / float64(x.bytes))
			}
			info.Bitrate = bitrateOf(audio, info.Duration)
			return info, nil
		}
		// Constant bitrate: the data length gives the duration.
		info.Method, info.Bitrate = "cbr", h.Bitrate
		info.Duration = time.Duration(float64(audio) * 8 / float64(h.Bitrate) * float64(time.Second))
		info.Truncated = tailTruncated(r, info.AudioStart, end, h)
		return info, nil
	}
	return scan(r, info, h, opt)
}

// scan walks every frame from AudioStart to AudioEnd.
func scan(r io.ReaderAt, info Info, first Header, _ Options) (Info, error) {
	info.Method = "scan"
	br := bufio.NewReaderSize(io.NewSectionReader(r, info.AudioStart, info.AudioEnd-info.AudioStart), 64<<10)
	pos, end := info.AudioStart, info.AudioEnd
	var samples int64
	var frames int64
	rate := 0
	hdr := make([]byte, 4)
	for pos+4 <= end {
		b, err := br.Peek(4)
		if err != nil {
			break
		}
		copy(hdr, b)
		h, ok := ParseHeader(hdr)
		if !ok || !h.same(first) {
			br.Discard(1)
			pos++
			info.Skipped++
			continue
		}
		if frames == 0 {
			if b, err := br.Peek(min(h.FrameLen(), int(end-pos))); err == nil || len(b) > 0 {
				if x, ok := parseXing(b, h); ok {
					// The info frame holds no audio.
					info.Method += "+" + x.kind
					if x.kind != "info" {
						info.VBR = true
					}
					br.Discard(len(b))
					pos += int64(len(b))
					frames = -1 // not counted
					continue
				}
			}
		}
		fl := int64(h.FrameLen())
		if pos+fl > end {
			info.Truncated = true
			// A partial frame plays partially at best: count what is there.
			samples += int64(h.Samples()) * (end - pos) / fl
			break
		}
		if rate != 0 && rate != h.Bitrate {
			info.VBR = true
		}
		rate = h.Bitrate
		frames = max(frames, 0) + 1
		samples += int64(h.Samples())
		br.Discard(int(fl))
		pos += fl
	}
	info.Frames = max(frames, 0)
	info.Duration = time.Duration(samples) * time.Second / time.Duration(first.SampleRate)
	info.Bitrate = bitrateOf(info.AudioEnd-info.AudioStart, info.Duration)
	if info.Frames == 0 && info.Duration == 0 {
		return info, ErrNoFrames
	}
	return info, nil
}

func bitrateOf(bytes int64, d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int(float64(bytes) * 8 / d.Seconds())
}

// firstFrame finds the first offset in buf where a frame header is followed
// by a consistent one (or by the end of the audio, total bytes from buf[0]).
func firstFrame(buf []byte, total int64) (int, Header, bool) {
	for i := 0; i+4 <= len(buf) && i < searchWindow; i++ {
		if buf[i] != 0xFF {
			continue
		}
		h, ok := ParseHeader(buf[i:])
		if !ok {
			continue
		}
		next := i + h.FrameLen()
		switch {
		case int64(next) >= total: // the only (maybe partial) frame
			return i, h, true
		case next+4 <= len(buf):
			if h2, ok := ParseHeader(buf[next:]); ok && h2.same(h) {
				return i, h, true
			}
		}
	}
	return 0, Header{}, false
}

// tailTruncated looks at the last two frame lengths of a CBR stream for a
// header of the stream whose frame runs past the end.
func tailTruncated(r io.ReaderAt, start, end int64, h Header) bool {
	fl := int64(h.FrameLen()) + 1
	from := max(start, end-2*fl)
	buf := make([]byte, end-from)
	if n, _ := r.ReadAt(buf, from); n != len(buf) {
		return false
	}
	// Walk back from the end to the last plausible header.
	for i := len(buf) - 4; i >= 0; i-- {
		h2, ok := ParseHeader(buf[i:])
		if !ok || !h2.same(h) || h2.Bitrate != h.Bitrate {
			continue
		}
		return from+int64(i)+int64(h2.FrameLen()) > end
	}
	return false
}

type xing struct {
	kind   string // "xing", "info" or "vbri"
	frames int64
	bytes  int64
}

// parseXing reads a Xing/Info header (after the side information) or a
// VBRI header (32 bytes after the header) in the first frame.
func parseXing(frame []byte, h Header) (xing, bool) {
	if h.Layer != 3 {
		return xing{}, false
	}
	for _, off := range []int{4 + h.SideInfoLen(), 4 + h.SideInfoLen() + 2} {
		if off+8 > len(frame) {
			break
		}
		tag := string(frame[off : off+4])
		if tag != "Xing" && tag != "Info" {
			continue
		}
		x := xing{kind: "xing"}
		if tag == "Info" {
			x.kind = "info"
		}
		flags := binary.BigEndian.Uint32(frame[off+4:])
		p := off + 8
		if flags&1 != 0 && p+4 <= len(frame) {
			x.frames = int64(binary.BigEndian.Uint32(frame[p:]))
			p += 4
		}
		if flags&2 != 0 && p+4 <= len(frame) {
			x.bytes = int64(binary.BigEndian.Uint32(frame[p:]))
		}
		return x, true
	}
	const v = 36
	if v+18 <= len(frame) && string(frame[v:v+4]) == "VBRI" {
		return xing{kind: "vbri",
			bytes:  int64(binary.BigEndian.Uint32(frame[v+10:])),
			frames: int64(binary.BigEndian.Uint32(frame[v+14:]))}, true
	}
	return xing{}, false
}

// audioBounds skips an ID3v2 tag at the start and ID3v1, APEv2 and
// Lyrics3-free trailing tags at the end.
func audioBounds(r io.ReaderAt, size int64) (start, end int64, err error) {
	end = size
	var head [10]byte
	if n, err := r.ReadAt(head[:], 0); n == 10 && string(head[:3]) == "ID3" {
		start = 10 + syncsafe(head[6:10])
		if head[5]&0x10 != 0 { // footer
			start += 10
		}
		if start > size {
			start = 0 // damaged: Analyze searches from 0
		}
	} else if err != nil && !errors.Is(err, io.EOF) {
		return 0, 0, err
	}
	if end-start >= 128 {
		var tail [128]byte
		if _, err := r.ReadAt(tail[:], end-128); err == nil && string(tail[:3]) == "TAG" {
			end -= 128
		}
	}
	if end-start >= 32 {
		var ape [32]byte
		if _, err := r.ReadAt(ape[:], end-32); err == nil && string(ape[:8]) == "APETAGEX" {
			n := int64(binary.LittleEndian.Uint32(ape[12:]))
			if binary.LittleEndian.Uint32(ape[20:])&(1<<31) != 0 {
				n += 32
			}
			if n <= end-start {
				end -= n
			}
		}
	}
	return start, end, nil
}

func syncsafe(b []byte) int64 {
	return int64(b[0]&0x7F)<<21 | int64(b[1]&0x7F)<<14 | int64(b[2]&0x7F)<<7 | int64(b[3]&0x7F)
}
