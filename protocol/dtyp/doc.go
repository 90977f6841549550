// Package dtyp holds the MS-DTYP types SMB uses: GUID, FILETIME, access masks, and the
// self-relative security descriptor with its SIDs, ACLs and ACEs. Generated from spec/dtyp by
// gen/cmd/smbgen (see package smb2 for the conventions), with GUID and FILETIME helpers written
// by hand.
package dtyp
