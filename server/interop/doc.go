// Package interop holds the interoperability tests of the server: each test starts
// smbserve (in-process through package server, or the built tools/smbserve binary) on a
// loopback port of its own and drives real clients against it: Samba's smbclient and
// smbtorture, impacket (Debian python3-impacket, run with /usr/bin/python3) and
// github.com/cloudsoda/go-smb2.
//
// A test whose client is not installed is skipped with the reason, except when CI=true:
// then it fails, because CI installs them (smbclient, samba-testsuite, samba-common-bin,
// python3-impacket). -short skips them all. Every client call is bounded by a timeout.
//
// The package has no code outside its tests.
package interop
