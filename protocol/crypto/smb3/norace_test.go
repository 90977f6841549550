//go:build !race

package smb3

const raceEnabled = false
