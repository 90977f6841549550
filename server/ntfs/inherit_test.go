package ntfs

import (
	"bytes"
	"testing"

	"github.com/smbvfs/smbvfs/protocol/dtyp"
)

func testACL(t *testing.T, aces ...dtyp.ACE) []byte {
	t.Helper()
	var acl dtyp.ACL
	acl.AclRevision = dtyp.AclRevision2
	for i := range aces {
		if err := acl.Aces.Add(&aces[i]); err != nil {
			t.Fatal(err)
		}
	}
	b, err := acl.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testACE(t *testing.T, typ dtyp.AceType, f dtyp.AceFlags, mask dtyp.AccessMask, sid []byte) dtyp.ACE {
	t.Helper()
	body, err := (&dtyp.AccessAllowedAce{Mask: mask, Sid: sid}).Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	return dtyp.ACE{AceType: typ, AceFlags: f, Body: body}
}

type gotACE struct {
	flags dtyp.AceFlags
	mask  dtyp.AccessMask
	sid   []byte
}

func aclACEs(t *testing.T, b []byte) []gotACE {
	t.Helper()
	if b == nil {
		return nil
	}
	var acl dtyp.ACL
	if err := acl.Decode(b); err != nil {
		t.Fatal(err)
	}
	var out []gotACE
	it := acl.Aces.Iter()
	for it.Next() {
		a := it.Value()
		var body dtyp.AccessAllowedAce
		if err := body.Decode(a.Body); err != nil {
			t.Fatal(err)
		}
		out = append(out, gotACE{a.AceFlags, body.Mask, sidPrefix(body.Sid)})
	}
	return out
}

func TestInheritACL(t *testing.T) {
	const oi, ci, np, io, inh = dtyp.ObjectInheritAce, dtyp.ContainerInheritAce, dtyp.NoPropagateInheritAce, dtyp.InheritOnlyAce, dtyp.InheritedAce
	owner, group := userSID("D", "alice"), sidUsers
	parent := testACL(t,
		testACE(t, dtyp.AccessAllowedAceType, 0, fileAllAccess, sidAdministrators),         // not inheritable
		testACE(t, dtyp.AccessAllowedAceType, oi, dtyp.FileReadData, sidEveryone),          // files; dirs pass it on
		testACE(t, dtyp.AccessDeniedAceType, ci|np, dtyp.Delete, sidEveryone),              // direct subdirectories only
		testACE(t, dtyp.AccessAllowedAceType, oi|ci|io, dtyp.GenericAll, sidCreatorOwner),  // both, substituted
		testACE(t, dtyp.AccessAllowedAceType, oi|np, dtyp.FileWriteData, sidAuthenticated), // direct files only
	)
	file := aclACEs(t, inheritACL(parent, false, owner, group, true))
	wantFile := []gotACE{
		{inh, dtyp.FileReadData, sidEveryone},
		{inh, fileAllAccess, owner},
		{inh, dtyp.FileWriteData, sidAuthenticated},
	}
	dir := aclACEs(t, inheritACL(parent, true, owner, group, true))
	wantDir := []gotACE{
		{oi | io | inh, dtyp.FileReadData, sidEveryone},
		{inh, dtyp.Delete, sidEveryone},
		{inh, fileAllAccess, owner},
		{oi | ci | io | inh, dtyp.GenericAll, sidCreatorOwner},
	}
	for _, c := range []struct {
		name      string
		got, want []gotACE
	}{{"file", file, wantFile}, {"dir", dir, wantDir}} {
		if len(c.got) != len(c.want) {
			t.Fatalf("%s: got %d ACEs %+v, want %+v", c.name, len(c.got), c.got, c.want)
		}
		for i := range c.want {
			g, w := c.got[i], c.want[i]
			if g.flags != w.flags || g.mask != w.mask || !bytes.Equal(g.sid, w.sid) {
				t.Errorf("%s ACE %d: got %+v, want %+v", c.name, i, g, w)
			}
		}
	}
	if b := inheritACL(testACL(t, testACE(t, dtyp.AccessAllowedAceType, 0, fileAllAccess, sidEveryone)), false, owner, group, true); b != nil {
		t.Errorf("nothing inheritable: got an ACL")
	}
}

func TestNullAndEmptyDACL(t *testing.T) {
	tok := [][]byte{sidEveryone, sidAdministrators}
	null := dtyp.SecurityDescriptor{Revision: 1, Control: dtyp.SeSelfRelative | dtyp.SeDaclPresent, OwnerSid: sidAdministrators}
	nb, err := null.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := daclAccess(nb, tok); got != fileAllAccess {
		t.Errorf("NULL DACL grants %#x, want everything", got)
	}
	empty := null
	empty.Dacl = testACL(t)
	eb, err := empty.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := daclAccess(eb, tok); got != dtyp.ReadControl|dtyp.WriteDac {
		t.Errorf("empty DACL grants %#x, want the owner's READ_CONTROL|WRITE_DAC", got)
	}
	// A DACL set without SE_DACL_PRESENT is stored as a NULL DACL.
	noDacl := dtyp.SecurityDescriptor{Revision: 1, Control: dtyp.SeSelfRelative}
	ub, err := noDacl.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := mergeSD(eb, ub, dtyp.DaclSecurityInformation)
	if err != nil {
		t.Fatal(err)
	}
	var got dtyp.SecurityDescriptor
	if err := got.Decode(m); err != nil {
		t.Fatal(err)
	}
	if got.Control&dtyp.SeDaclPresent == 0 || got.Dacl != nil || !bytes.Equal(got.OwnerSid, sidAdministrators) {
		t.Errorf("merged: control %v, dacl %x, owner %x; want SE_DACL_PRESENT, no DACL, the old owner", got.Control, got.Dacl, got.OwnerSid)
	}
}
