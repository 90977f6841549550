package fuzz

import "testing"

func FuzzCompound(f *testing.F) {
	addSeeds(f, "frame")
	f.Fuzz(func(t *testing.T, data []byte) { Compound(data) })
}

func FuzzTransform(f *testing.F) {
	addSeeds(f, "frame")
	f.Add([]byte{3, 0xfe, 'S', 'M', 'B'})
	f.Fuzz(func(t *testing.T, data []byte) { Transform(data) })
}

func FuzzCaptureStream(f *testing.F) {
	seedOnce.Do(loadSeeds)
	for i, s := range seeds["frame"] {
		if i >= 32 {
			break
		}
		framed := []byte{byte(i * 37), 0, byte(len(s) >> 16), byte(len(s) >> 8), byte(len(s))}
		framed = append(framed, s...)
		f.Add(append(framed, framed[1:]...))
	}
	f.Add([]byte{0, 0x85, 0, 0, 0, 0, 0, 0, 4, 0xfe, 'S', 'M', 'B'})
	f.Fuzz(func(t *testing.T, data []byte) { CaptureStream(data) })
}
