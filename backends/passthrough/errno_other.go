//go:build !unix

package passthrough

func errnoSentinel(error) error { return nil }

const nonblock = 0
