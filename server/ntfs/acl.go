package ntfs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"strings"

	"github.com/smbvfs/smbvfs/backends/vfs"
	"github.com/smbvfs/smbvfs/protocol/dtyp"
)

// Access checks against stored security descriptors (MS-DTYP 2.5.3.2, simplified: no
// privileges, no object or callback ACEs, no mandatory labels). A node whose backend
// stores no descriptor (no vfs.Securer, or none set) has the synthetic one, which grants
// everything: only a descriptor set by a client (SET_INFO, or the SecD create context)
// restricts access.
//
// The token of a tree connect holds: the user's SID (S-1-5-21-a-b-c-rid, derived stably
// from the domain and user name), Everyone, Authenticated Users (not for guest and
// anonymous), Anonymous Logon (for anonymous), BUILTIN\Guests (for guest),
// BUILTIN\Users, and BUILTIN\Administrators: the owner of the synthetic descriptors, so
// that the files a user creates are its own.

// Well-known SIDs of the token.
var (
	sidAuthenticated = makeSID(5, 11)      // NT AUTHORITY\Authenticated Users
	sidAnonymous     = makeSID(5, 7)       // NT AUTHORITY\ANONYMOUS LOGON
	sidGuests        = makeSID(5, 32, 546) // BUILTIN\Guests
	sidOwnerRights   = makeSID(3, 4)       // OWNER RIGHTS
)

// userSID maps a user to a stable domain SID: S-1-5-21-x-y-z-rid, x-y-z from the domain
// name, the rid (at least 1000) from the user name.
func userSID(domain, user string) []byte {
	h := sha256.Sum256([]byte(strings.ToUpper(domain)))
	u := sha256.Sum256([]byte(strings.ToUpper(domain) + "\\" + strings.ToUpper(user)))
	rid := 1000 + binary.LittleEndian.Uint32(u[:])%(1<<30)
	return makeSID(5, 21, binary.LittleEndian.Uint32(h[0:]), binary.LittleEndian.Uint32(h[4:]),
		binary.LittleEndian.Uint32(h[8:]), rid)
}

// token returns the SIDs the tree acts with.
func (t *Tree) token() [][]byte {
	id := t.id
	tok := [][]byte{sidEveryone, sidUsers, sidAdministrators}
	switch {
	case id.Anonymous:
		tok = append(tok, sidAnonymous)
	case id.Guest:
		tok = append(tok, sidGuests, userSID(id.Domain, id.User))
	default:
		tok = append(tok, sidAuthenticated, userSID(id.Domain, id.User))
	}
	return tok
}

func hasSID(tok [][]byte, sid []byte) bool {
	for _, s := range tok {
		if bytes.Equal(s, sid) {
			return true
		}
	}
	return false
}

// daclAccess returns the rights the descriptor sd grants the token: every right when
// it has no DACL or a NULL one.
func daclAccess(sd []byte, tok [][]byte) dtyp.AccessMask {
	var d dtyp.SecurityDescriptor
	if err := d.Decode(sd); err != nil {
		return fileAllAccess
	}
	if d.Control&dtyp.SeDaclPresent == 0 || d.Dacl == nil {
		return fileAllAccess
	}
	var acl dtyp.ACL
	if err := acl.Decode(d.Dacl); err != nil {
		return fileAllAccess
	}
	var granted, denied dtyp.AccessMask
	ownerRightsACE := false
	it := acl.Aces.Iter()
	for it.Next() {
		ace := it.Value()
		if ace.AceFlags&dtyp.InheritOnlyAce != 0 {
			continue
		}
		if ace.AceType != dtyp.AccessAllowedAceType && ace.AceType != dtyp.AccessDeniedAceType {
			continue
		}
		var body dtyp.AccessAllowedAce
		if err := body.Decode(ace.Body); err != nil {
			continue
		}
		sid := sidPrefix(body.Sid)
		owner := d.OwnerSid != nil && bytes.Equal(sid, sidOwnerRights)
		if owner {
			ownerRightsACE = true
		}
		if !hasSID(tok, sid) && !(owner && hasSID(tok, d.OwnerSid)) {
			continue
		}
		m := mapGeneric(body.Mask)
		if ace.AceType == dtyp.AccessAllowedAceType {
			granted |= m &^ denied
		} else {
			denied |= m &^ granted
		}
	}
	// The owner may always read and change the descriptor, unless an OWNER RIGHTS ACE
	// says otherwise (MS-DTYP 2.5.3.2).
	if !ownerRightsACE && d.OwnerSid != nil && hasSID(tok, d.OwnerSid) {
		granted |= (dtyp.ReadControl | dtyp.WriteDac) &^ denied
	}
	return granted &^ denied
}

// sidPrefix trims an ACE's SID field to the SID's own length.
func sidPrefix(b []byte) []byte {
	if len(b) < 8 {
		return b
	}
	n := 8 + 4*int(b[1])
	if n > len(b) {
		return b
	}
	return b[:n]
}

// aclMaximal returns what the stored descriptor of node lets the tree do: every right
// when the backend stores none. DELETE is also granted by FILE_DELETE_CHILD on the
// parent, and FILE_READ_ATTRIBUTES by FILE_LIST_DIRECTORY on it (MS-FSA 2.1.5.1.2.1).
func (t *Tree) aclMaximal(ctx context.Context, node, parent vfs.Node) dtyp.AccessMask {
	m := t.storedAccess(ctx, node)
	if m&(dtyp.Delete|dtyp.FileReadAttributes) != dtyp.Delete|dtyp.FileReadAttributes && parent != nil {
		p := t.storedAccess(ctx, parent)
		if p&dtyp.FileDeleteChild != 0 {
			m |= dtyp.Delete
		}
		if p&dtyp.FileReadData != 0 {
			m |= dtyp.FileReadAttributes
		}
	}
	return m
}

func (t *Tree) storedAccess(ctx context.Context, node vfs.Node) dtyp.AccessMask {
	sec, ok := node.(vfs.Securer)
	if !ok {
		return fileAllAccess
	}
	sd, err := sec.GetSecurity(ctx)
	if err != nil || sd == nil {
		return fileAllAccess
	}
	return daclAccess(sd, t.token())
}
