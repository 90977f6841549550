package ntfs

import (
	"context"
	"encoding/binary"

	"github.com/smbvfs/smbvfs/backends/vfs"
	"github.com/smbvfs/smbvfs/protocol/dtyp"
	"github.com/smbvfs/smbvfs/protocol/ntstatus"
	"github.com/smbvfs/smbvfs/protocol/wire"
)

// The SIDs of the synthetic security descriptor.
var (
	sidAdministrators = makeSID(5, 32, 544) // BUILTIN\Administrators: owner
	sidUsers          = makeSID(5, 32, 545) // BUILTIN\Users: group
	sidEveryone       = makeSID(1, 0)       // Everyone: full control
)

func makeSID(authority byte, sub ...uint32) []byte {
	s := dtyp.SID{Revision: 1, IdentifierAuthority: [6]byte{0, 0, 0, 0, 0, authority},
		SubAuthority: wire.AppendUint32s(nil, sub...)}
	b, err := s.Append(nil)
	if err != nil {
		panic(err)
	}
	return b
}

// syntheticSD is the descriptor of a node whose backend stores none: owned by
// Administrators, Everyone has full control (inherited by children for a directory).
func syntheticSD(dir bool) []byte {
	var flags dtyp.AceFlags
	if dir {
		flags = dtyp.ObjectInheritAce | dtyp.ContainerInheritAce
	}
	body, _ := (&dtyp.AccessAllowedAce{Mask: fileAllAccess, Sid: sidEveryone}).Append(nil)
	var acl dtyp.ACL
	acl.AclRevision = dtyp.AclRevision2
	acl.Aces.Add(&dtyp.ACE{AceType: dtyp.AccessAllowedAceType, AceFlags: flags, Body: body})
	dacl, _ := acl.Append(nil)
	sd := dtyp.SecurityDescriptor{Revision: 1, Control: dtyp.SeSelfRelative | dtyp.SeDaclPresent,
		OwnerSid: sidAdministrators, GroupSid: sidUsers, Dacl: dacl}
	b, _ := sd.Append(nil)
	return b
}

// securityOf returns the node's self-relative descriptor, stored or synthetic.
func securityOf(ctx context.Context, n vfs.Node, dir bool) ([]byte, error) {
	if sec, ok := n.(vfs.Securer); ok {
		b, err := sec.GetSecurity(ctx)
		if err != nil {
			return nil, err
		}
		if b != nil {
			return b, nil
		}
	}
	return syntheticSD(dir), nil
}

// filterSD keeps the parts of a descriptor that info asks for.
func filterSD(b []byte, info dtyp.SecurityInformation) ([]byte, error) {
	var in dtyp.SecurityDescriptor
	if err := in.Decode(b); err != nil {
		return nil, err
	}
	out := dtyp.SecurityDescriptor{Revision: 1, Sbz1: in.Sbz1, Control: in.Control | dtyp.SeSelfRelative}
	if info&dtyp.OwnerSecurityInformation != 0 {
		out.OwnerSid = in.OwnerSid
	} else {
		out.Control &^= dtyp.SeOwnerDefaulted
	}
	if info&dtyp.GroupSecurityInformation != 0 {
		out.GroupSid = in.GroupSid
	} else {
		out.Control &^= dtyp.SeGroupDefaulted
	}
	if info&dtyp.DaclSecurityInformation != 0 {
		out.Dacl = in.Dacl
	} else {
		out.Control &^= dtyp.SeDaclPresent | dtyp.SeDaclDefaulted | dtyp.SeDaclAutoInherited | dtyp.SeDaclProtected
	}
	if info&(dtyp.SaclSecurityInformation|dtyp.LabelSecurityInformation) != 0 {
		out.Sacl = in.Sacl
	} else {
		out.Control &^= dtyp.SeSaclPresent | dtyp.SeSaclDefaulted | dtyp.SeSaclAutoInherited | dtyp.SeSaclProtected
	}
	return out.Append(nil)
}

// mergeSD replaces the parts of old named by info with those of upd.
func mergeSD(old, upd []byte, info dtyp.SecurityInformation) ([]byte, error) {
	var o, u dtyp.SecurityDescriptor
	if err := o.Decode(old); err != nil {
		return nil, err
	}
	if err := u.Decode(upd); err != nil {
		return nil, ntstatus.StatusInvalidSecurityDescr
	}
	if u.Revision != 1 {
		return nil, ntstatus.StatusUnknownRevision
	}
	res := dtyp.SecurityDescriptor{Revision: 1, Control: o.Control | dtyp.SeSelfRelative,
		OwnerSid: o.OwnerSid, GroupSid: o.GroupSid, Sacl: o.Sacl, Dacl: o.Dacl}
	if info&dtyp.OwnerSecurityInformation != 0 {
		if u.OwnerSid == nil {
			return nil, ntstatus.StatusInvalidOwner
		}
		res.OwnerSid = u.OwnerSid
	}
	if info&dtyp.GroupSecurityInformation != 0 {
		res.GroupSid = u.GroupSid
	}
	if info&dtyp.DaclSecurityInformation != 0 {
		// A DACL left out (SE_DACL_PRESENT clear) is set as a NULL DACL: present, no ACL.
		res.Dacl = nil
		if u.Control&dtyp.SeDaclPresent != 0 && u.Dacl != nil {
			if res.Dacl = mapACLGeneric(u.Dacl); res.Dacl == nil {
				return nil, ntstatus.StatusInvalidAcl
			}
		}
		res.Control = res.Control&^daclBits | setControl(u.Control, daclBits, dtyp.SeDaclAutoInheritReq, dtyp.SeDaclAutoInherited) | dtyp.SeDaclPresent
	}
	if info&dtyp.SaclSecurityInformation != 0 {
		res.Sacl = nil
		if u.Control&dtyp.SeSaclPresent != 0 && u.Sacl != nil {
			if res.Sacl = mapACLGeneric(u.Sacl); res.Sacl == nil {
				return nil, ntstatus.StatusInvalidAcl
			}
		}
		res.Control = res.Control&^saclBits | setControl(u.Control, saclBits, dtyp.SeSaclAutoInheritReq, dtyp.SeSaclAutoInherited)
	}
	return res.Append(nil)
}

// The control bits that go with a DACL and with a SACL.
const (
	daclBits = dtyp.SeDaclPresent | dtyp.SeDaclDefaulted | dtyp.SeDaclAutoInherited | dtyp.SeDaclProtected | dtyp.SeDaclAutoInheritReq
	saclBits = dtyp.SeSaclPresent | dtyp.SeSaclDefaulted | dtyp.SeSaclAutoInherited | dtyp.SeSaclProtected | dtyp.SeSaclAutoInheritReq
)

// setControl returns the control bits among bits that a descriptor set with control c
// stores: the AUTO_INHERIT_REQ request is never stored, and AUTO_INHERITED only when the
// setter asked for it with AUTO_INHERIT_REQ (as Windows does: a caller cannot mark an ACL
// auto-inherited without the request).
func setControl(c, bits, req, inherited dtyp.SecurityDescriptorControl) dtyp.SecurityDescriptorControl {
	out := c & bits &^ (req | inherited)
	if c&(req|inherited) == req|inherited {
		out |= inherited
	}
	return out
}

// mapACLGeneric returns acl with the GENERIC_* rights of its ACEs replaced by the file
// rights they stand for (MS-DTYP 2.4.3, 2.5.3.4: an object's ACL holds no generic
// rights), as the file system stores an ACL set on it. Inherit-only ACEs keep them: they
// do not apply to the object and are mapped when children inherit them. Mandatory
// label, resource attribute and policy ACEs carry no access mask to map. nil when acl
// does not decode.
func mapACLGeneric(acl []byte) []byte {
	var in dtyp.ACL
	if in.Decode(acl) != nil {
		return nil
	}
	var out dtyp.ACL
	out.AclRevision, out.Sbz1, out.Sbz2 = in.AclRevision, in.Sbz1, in.Sbz2
	it := in.Aces.Iter()
	for it.Next() {
		v := it.Value()
		ace := dtyp.ACE{AceType: v.AceType, AceFlags: v.AceFlags, Body: v.Body}
		if ace.AceFlags&dtyp.InheritOnlyAce == 0 && ace.AceType <= dtyp.SystemAlarmCallbackObjectAceType && len(ace.Body) >= 4 {
			m := dtyp.AccessMask(binary.LittleEndian.Uint32(ace.Body))
			if mm := mapGeneric(m); mm != m {
				body := append([]byte(nil), ace.Body...)
				binary.LittleEndian.PutUint32(body, uint32(mm))
				ace.Body = body
			}
		}
		if out.Aces.Add(&ace) != nil {
			return nil
		}
	}
	if it.Err() != nil {
		return nil
	}
	b, err := out.Append(nil)
	if err != nil {
		return nil
	}
	return b
}

// sizeErrorData is the ErrorData of STATUS_BUFFER_TOO_SMALL: the size needed.
func sizeErrorData(n int) []byte {
	return binary.LittleEndian.AppendUint32(nil, uint32(n))
}
