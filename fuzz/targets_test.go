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
