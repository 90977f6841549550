// Package fscc holds the MS-FSCC structures an SMB server exchanges inside SMB2 messages:
// file and file-system information classes, directory listings, change notifications, FSCTL
// payloads and reparse data. It is generated from spec/fscc by gen/cmd/smbgen; see package smb2
// for the conventions (Decode aliases its input, Append encodes, lists are cursors).
package fscc
