package ntfs

import (
	"bytes"
	"context"

	"github.com/smbvfs/smbvfs/backends/vfs"
	"github.com/smbvfs/smbvfs/protocol/dtyp"
)

// The security descriptor of a new node (MS-DTYP 2.5.3.4 CreateSecurityDescriptor,
// simplified): the parts the creator gives (the SecD create context) are kept, generic
// rights mapped as SET_INFO stores them; an owner and group it leaves out are the
// token's (Administrators and Users, as in the synthetic descriptors); a DACL it leaves
// out (SE_DACL_PRESENT clear) is inherited from the parent's (ComputeACL): object-inherit
// ACEs reach files, container-inherit ACEs directories, with INHERIT_ONLY and
// NO_PROPAGATE_INHERIT honoured and CREATOR OWNER / CREATOR GROUP replaced by the new
// owner and group in the effective ACEs. The inherited ACEs are marked INHERITED_ACE and
// the DACL SE_DACL_AUTO_INHERITED only when the parent's DACL is auto-inherited (the
// file system asks for DACL_AUTO_INHERIT then, and only then, as Windows does). When the
// parent passes on nothing, the new node gets the token's default DACL: full control for
// the owner and for SYSTEM.

var (
	sidCreatorOwner = makeSID(3, 0)  // CREATOR OWNER
	sidCreatorGroup = makeSID(3, 1)  // CREATOR GROUP
	sidSystem       = makeSID(5, 18) // NT AUTHORITY\SYSTEM
)

// newSecurity returns the descriptor to store on a node created under parent with the
// creator's descriptor creator (nil: none given), or nil when nothing needs storing:
// no descriptor was given and the parent stores none (the synthetic descriptor applies).
func newSecurity(ctx context.Context, parent vfs.Node, creator []byte, dir bool) []byte {
	var psd []byte
	if sec, ok := parent.(vfs.Securer); ok {
		if b, err := sec.GetSecurity(ctx); err == nil {
			psd = b
		}
	}
	if creator == nil && psd == nil {
		return nil
	}
	var cd dtyp.SecurityDescriptor
	if creator != nil {
		if err := cd.Decode(creator); err != nil {
			return creator
		}
	}
	if psd == nil {
		psd = syntheticSD(true)
	}
	out := dtyp.SecurityDescriptor{Revision: 1, Sbz1: cd.Sbz1, Control: dtyp.SeSelfRelative,
		OwnerSid: cd.OwnerSid, GroupSid: cd.GroupSid}
	if out.OwnerSid == nil {
		out.OwnerSid = sidAdministrators
	}
	if out.GroupSid == nil {
		out.GroupSid = sidUsers
	}
	if cd.Control&dtyp.SeSaclPresent != 0 {
		out.Control |= setControl(cd.Control, saclBits, dtyp.SeSaclAutoInheritReq, dtyp.SeSaclAutoInherited)
		if cd.Sacl != nil {
			if out.Sacl = mapACLGeneric(cd.Sacl); out.Sacl == nil {
				return creator
			}
		}
	}
	if cd.Control&dtyp.SeDaclPresent != 0 {
		out.Control |= setControl(cd.Control, daclBits, dtyp.SeDaclAutoInheritReq, dtyp.SeDaclAutoInherited)
		if cd.Dacl != nil {
			if out.Dacl = mapACLGeneric(cd.Dacl); out.Dacl == nil {
				return creator
			}
		}
	} else {
		var p dtyp.SecurityDescriptor
		var dacl []byte
		auto := false
		if p.Decode(psd) == nil && p.Control&dtyp.SeDaclPresent != 0 && p.Dacl != nil {
			auto = p.Control&dtyp.SeDaclAutoInherited != 0
			dacl = inheritACL(p.Dacl, dir, out.OwnerSid, out.GroupSid, auto)
		}
		if dacl == nil {
			dacl = defaultDACL(out.OwnerSid)
		} else if auto {
			out.Control |= dtyp.SeDaclAutoInherited
		}
		out.Control |= dtyp.SeDaclPresent
		out.Dacl = dacl
	}
	b, err := out.Append(nil)
	if err != nil {
		return creator
	}
	return b
}

// defaultDACL is the token's default DACL (MS-DTYP 2.5.3.4.2: used when the creator gives
// no DACL and the parent passes on none): full control for owner and for SYSTEM.
func defaultDACL(owner []byte) []byte {
	var acl dtyp.ACL
	acl.AclRevision = dtyp.AclRevision2
	for _, sid := range [][]byte{owner, sidSystem} {
		body, err := (&dtyp.AccessAllowedAce{Mask: fileAllAccess, Sid: sid}).Append(nil)
		if err != nil {
			return nil
		}
		acl.Aces.Add(&dtyp.ACE{AceType: dtyp.AccessAllowedAceType, Body: body})
	}
	b, err := acl.Append(nil)
	if err != nil {
		return nil
	}
	return b
}

// inheritACL computes the ACL a child (a directory when dir) inherits from the parent
// ACL pacl: nil when no ACE is inheritable. auto (the parent's ACL is auto-inherited)
// marks the ACEs INHERITED_ACE; otherwise they carry no such mark, even when the parent's
// ACEs did.
func inheritACL(pacl []byte, dir bool, owner, group []byte, auto bool) []byte {
	var in dtyp.ACL
	if in.Decode(pacl) != nil {
		return nil
	}
	var out dtyp.ACL
	out.AclRevision = in.AclRevision
	const inheritBits = dtyp.ObjectInheritAce | dtyp.ContainerInheritAce | dtyp.NoPropagateInheritAce | dtyp.InheritOnlyAce
	var inherited dtyp.AceFlags
	if auto {
		inherited = dtyp.InheritedAce
	}
	add := func(t dtyp.AceType, f dtyp.AceFlags, body []byte) {
		out.Aces.Add(&dtyp.ACE{AceType: t, AceFlags: f&^dtyp.InheritedAce | inherited, Body: body})
	}
	it := in.Aces.Iter()
	for it.Next() {
		ace := it.Value()
		f := ace.AceFlags
		eff, effOK := effectiveBody(ace, owner, group)
		if !dir {
			if f&dtyp.ObjectInheritAce == 0 {
				continue
			}
			if effOK {
				add(ace.AceType, f&^inheritBits, eff)
			} else {
				add(ace.AceType, f&^inheritBits, ace.Body)
			}
			continue
		}
		switch {
		case f&dtyp.ContainerInheritAce != 0:
			if f&dtyp.NoPropagateInheritAce != 0 {
				body := ace.Body
				if effOK {
					body = eff
				}
				add(ace.AceType, f&^inheritBits, body)
				continue
			}
			if effOK && !bytes.Equal(eff, ace.Body) {
				// CREATOR OWNER/GROUP or generic rights: an effective ACE for the
				// directory and an inherit-only one that passes the original on.
				add(ace.AceType, f&^inheritBits, eff)
				add(ace.AceType, f|dtyp.InheritOnlyAce, ace.Body)
				continue
			}
			add(ace.AceType, f&^dtyp.InheritOnlyAce, ace.Body)
		case f&dtyp.ObjectInheritAce != 0 && f&dtyp.NoPropagateInheritAce == 0:
			// For the files below the directory only.
			add(ace.AceType, f|dtyp.InheritOnlyAce, ace.Body)
		}
	}
	if out.Aces.Count() == 0 {
		return nil
	}
	b, err := out.Append(nil)
	if err != nil {
		return nil
	}
	return b
}

// effectiveBody returns the body of an allow or deny ACE as it applies to the new node:
// generic rights mapped, CREATOR OWNER and CREATOR GROUP replaced; false for other ACE
// types (copied as they are).
func effectiveBody(ace *dtyp.ACE, owner, group []byte) ([]byte, bool) {
	if ace.AceType != dtyp.AccessAllowedAceType && ace.AceType != dtyp.AccessDeniedAceType {
		return nil, false
	}
	var body dtyp.AccessAllowedAce
	if body.Decode(ace.Body) != nil {
		return nil, false
	}
	sid := sidPrefix(body.Sid)
	switch {
	case bytes.Equal(sid, sidCreatorOwner):
		sid = owner
	case bytes.Equal(sid, sidCreatorGroup):
		sid = group
	}
	nb := dtyp.AccessAllowedAce{Mask: mapGeneric(body.Mask), Sid: sid}
	b, err := nb.Append(nil)
	if err != nil {
		return nil, false
	}
	return b, true
}
