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
		const dbits = dtyp.SeDaclPresent | dtyp.SeDaclDefaulted | dtyp.SeDaclAutoInherited | dtyp.SeDaclProtected
		// A DACL left out (SE_DACL_PRESENT clear) is set as a NULL DACL: present, no ACL.
		res.Dacl = nil
		if u.Control&dtyp.SeDaclPresent != 0 {
			res.Dacl = u.Dacl
		}
		res.Control = res.Control&^dbits | u.Control&dbits | dtyp.SeDaclPresent
	}
	if info&dtyp.SaclSecurityInformation != 0 {
		const sbits = dtyp.SeSaclPresent | dtyp.SeSaclDefaulted | dtyp.SeSaclAutoInherited | dtyp.SeSaclProtected
		res.Sacl = u.Sacl
		res.Control = res.Control&^sbits | u.Control&sbits
	}
	return res.Append(nil)
}

// sizeErrorData is the ErrorData of STATUS_BUFFER_TOO_SMALL: the size needed.
func sizeErrorData(n int) []byte {
	return binary.LittleEndian.AppendUint32(nil, uint32(n))
}
