//go:build !unix

package main

import "net"

// systemdListeners: socket activation exists only on Unix systems.
func systemdListeners() ([]net.Listener, error) { return nil, nil }
