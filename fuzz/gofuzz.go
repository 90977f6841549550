//go:build gofuzz

package fuzz

// Fuzz is the default go-fuzz entry point (github.com/dvyukov/go-fuzz): whole Direct-TCP
// payloads, as FuzzFrame. Every other target is a function of this package with the same
// signature, built with `go-fuzz-build -func Smb2CreateRequest` and so on.
func Fuzz(data []byte) int { return Frame(data) }
