package ntfs

import (
	"bytes"
	"testing"

	"github.com/smbvfs/smbvfs/protocol/dtyp"
	"github.com/smbvfs/smbvfs/protocol/fscc"
	"github.com/smbvfs/smbvfs/protocol/ntstatus"
	"github.com/smbvfs/smbvfs/protocol/smb2"
)

// testSD encodes a self-relative descriptor with the given control, owner and DACL.
func testSD(t *testing.T, control dtyp.SecurityDescriptorControl, owner, dacl []byte) []byte {
	t.Helper()
	b, err := (&dtyp.SecurityDescriptor{Revision: 1, Control: dtyp.SeSelfRelative | control, OwnerSid: owner, Dacl: dacl}).Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (c *tc) setSD(fid smb2.FileId, info dtyp.SecurityInformation, sd []byte) ntstatus.Status {
	var resp smb2.SetInfoResponse
	return c.tree.SetInfo(&c.r, &smb2.SetInfoRequest{InfoType: smb2.InfoSecurity, AdditionalInformation: info,
		FileId: fid, Buffer: sd}, &resp)
}

func (c *tc) getSD(fid smb2.FileId, info dtyp.SecurityInformation) dtyp.SecurityDescriptor {
	c.t.Helper()
	var resp smb2.QueryInfoResponse
	if st := c.tree.QueryInfo(&c.r, &smb2.QueryInfoRequest{InfoType: smb2.InfoSecurity, OutputBufferLength: 4096,
		AdditionalInformation: info, FileId: fid}, &resp); st != ntstatus.StatusSuccess {
		c.t.Fatalf("query security: %v", st)
	}
	var sd dtyp.SecurityDescriptor
	if err := sd.Decode(append([]byte(nil), resp.OutputBuffer...)); err != nil {
		c.t.Fatal(err)
	}
	return sd
}

func sameACEs(got, want []gotACE) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range want {
		if got[i].flags != want[i].flags || got[i].mask != want[i].mask || !bytes.Equal(got[i].sid, want[i].sid) {
			return false
		}
	}
	return true
}

// A DACL set through SET_INFO is stored with its generic rights mapped to the file rights
// (smb2.acls CREATOR and GENERIC), except in inherit-only ACEs; the owner's mapped
// GENERIC_READ then grants exactly FILE_GENERIC_READ.
func TestSetSecurityMapsGeneric(t *testing.T) {
	const oi, ci, io = dtyp.ObjectInheritAce, dtyp.ContainerInheritAce, dtyp.InheritOnlyAce
	const stdAll = dtyp.AccessMask(0x001F0000)
	for _, b := range writable {
		t.Run(b.name, func(t *testing.T) {
			c := connect(t, b.new(t), ShareOptions{})
			owner := sidAdministrators
			for _, dir := range []bool{false, true} {
				name, opt := "f", smb2.FileNonDirectoryFile
				if dir {
					name, opt = "d", smb2.FileDirectoryFile
				}
				fid := c.mustOpen(name, smb2.FileCreate, opt)
				for _, g := range []struct{ gen, specific dtyp.AccessMask }{
					{dtyp.GenericRead, fileGenericRead},
					{dtyp.GenericWrite, fileGenericWrite},
					{dtyp.GenericExecute, fileGenericExec},
					{dtyp.GenericAll, fileAllAccess},
					{dtyp.FileReadData, dtyp.FileReadData},
				} {
					dacl := testACL(t,
						testACE(t, dtyp.AccessAllowedAceType, 0, g.gen|stdAll, owner),
						testACE(t, dtyp.AccessAllowedAceType, oi|ci|io, g.gen, sidCreatorOwner))
					if st := c.setSD(fid, dtyp.DaclSecurityInformation|dtyp.OwnerSecurityInformation,
						testSD(t, dtyp.SeDaclPresent, owner, dacl)); st != ntstatus.StatusSuccess {
						t.Fatalf("set %#x: %v", g.gen, st)
					}
					got := aclACEs(t, c.getSD(fid, dtyp.DaclSecurityInformation).Dacl)
					want := []gotACE{{0, g.specific | stdAll, owner}, {oi | ci | io, g.gen, sidCreatorOwner}}
					if !sameACEs(got, want) {
						t.Errorf("dir %v, set %#x: stored %+v, want %+v", dir, g.gen, got, want)
					}
				}
				// The owner allowed GENERIC_READ only: FILE_GENERIC_READ is what it gets.
				dacl := testACL(t, testACE(t, dtyp.AccessAllowedAceType, 0, dtyp.GenericRead, owner))
				if st := c.setSD(fid, dtyp.DaclSecurityInformation, testSD(t, dtyp.SeDaclPresent, nil, dacl)); st != ntstatus.StatusSuccess {
					t.Fatal(st)
				}
				mx, _, st := c.create(name, createOpts{access: dtyp.MaximumAllowed, share: shareAll, disp: smb2.FileOpen})
				if st != ntstatus.StatusSuccess {
					t.Fatalf("dir %v: open MAXIMUM_ALLOWED: %v", dir, st)
				}
				b, _ := c.query(mx, smb2.InfoFile, uint8(fscc.ClassFileAccessInformation), 8)
				var ai fscc.FileAccessInformation
				ai.Decode(b)
				if want := fileGenericRead | dtyp.WriteDac; ai.AccessFlags&want != want || ai.AccessFlags&(dtyp.FileWriteData|dtyp.FileAppendData|dtyp.FileWriteEa) != 0 {
					t.Errorf("dir %v: granted %v, want FILE_GENERIC_READ and the owner's WRITE_DAC, no writes", dir, ai.AccessFlags)
				}
				c.mustClose(mx)
				c.mustClose(fid)
			}
		})
	}
}

// SET_INFO stores SE_DACL_AUTO_INHERITED only when the setter also asks for
// SE_DACL_AUTO_INHERIT_REQ, never stores the request, keeps SE_DACL_PROTECTED and the
// ACEs' INHERITED_ACE flags as set (smb2.acls INHERITFLAGS); setting only the owner
// leaves the DACL's control bits alone (SDFLAGSVSCHOWN).
func TestSetSecurityControl(t *testing.T) {
	const ai, req, prot = dtyp.SeDaclAutoInherited, dtyp.SeDaclAutoInheritReq, dtyp.SeDaclProtected
	owner := sidAdministrators
	old := testSD(t, dtyp.SeDaclPresent, owner, testACL(t))
	for _, tc := range []struct {
		set, want dtyp.SecurityDescriptorControl
	}{
		{0, 0},
		{ai, 0},
		{req, 0},
		{ai | req, ai},
		{prot, prot},
		{ai | prot, prot},
		{req | prot, prot},
		{ai | req | prot, ai | prot},
	} {
		for _, aceFlags := range []dtyp.AceFlags{0, dtyp.InheritedAce} {
			dacl := testACL(t, testACE(t, dtyp.AccessAllowedAceType, aceFlags, dtyp.FileWriteData, owner))
			m, err := mergeSD(old, testSD(t, dtyp.SeDaclPresent|tc.set, nil, dacl), dtyp.DaclSecurityInformation)
			if err != nil {
				t.Fatal(err)
			}
			// Change the owner away and back: the DACL and its bits stay.
			for _, o := range [][]byte{sidEveryone, owner} {
				if m, err = mergeSD(m, testSD(t, 0, o, nil), dtyp.OwnerSecurityInformation); err != nil {
					t.Fatal(err)
				}
			}
			var sd dtyp.SecurityDescriptor
			if err := sd.Decode(m); err != nil {
				t.Fatal(err)
			}
			wantCtl := dtyp.SeSelfRelative | dtyp.SeDaclPresent | tc.want
			if sd.Control != wantCtl {
				t.Errorf("set %v: stored control %v, want %v", tc.set, sd.Control, wantCtl)
			}
			if got := aclACEs(t, sd.Dacl); !sameACEs(got, []gotACE{{aceFlags, dtyp.FileWriteData, owner}}) {
				t.Errorf("set %v, ACE flags %v: stored %+v", tc.set, aceFlags, got)
			}
			if !bytes.Equal(sd.OwnerSid, owner) {
				t.Errorf("owner %x, want %x", sd.OwnerSid, owner)
			}
		}
	}
}

// Inheritance on create marks the inherited ACEs INHERITED_ACE and the DACL
// SE_DACL_AUTO_INHERITED only under an auto-inherited parent DACL; otherwise the ACEs
// carry no INHERITED_ACE, even one the parent's ACE had (smb2.acls INHERITANCE,
// INHERITFLAGS). A parent that passes nothing on gives the default DACL: the owner and
// SYSTEM with full control.
func TestCreateInheritFlags(t *testing.T) {
	const oi, ci, io, inh = dtyp.ObjectInheritAce, dtyp.ContainerInheritAce, dtyp.InheritOnlyAce, dtyp.InheritedAce
	for _, b := range writable {
		t.Run(b.name, func(t *testing.T) {
			c := connect(t, b.new(t), ShareOptions{})
			owner := sidAdministrators
			c.mkdir("p")
			p := c.mustOpen("p", smb2.FileOpen, smb2.FileDirectoryFile)
			for _, tc := range []struct {
				control    dtyp.SecurityDescriptorControl
				parentFlag dtyp.AceFlags
				auto       bool
			}{
				{0, 0, false},
				{dtyp.SeDaclAutoInherited, 0, false},
				{dtyp.SeDaclAutoInherited | dtyp.SeDaclAutoInheritReq, 0, true},
				{0, inh, false},
				{dtyp.SeDaclAutoInherited | dtyp.SeDaclAutoInheritReq, inh, true},
			} {
				dacl := testACL(t,
					testACE(t, dtyp.AccessAllowedAceType, oi|ci|tc.parentFlag, dtyp.FileWriteData|dtyp.WriteDac, owner),
					testACE(t, dtyp.AccessAllowedAceType, ci|io|tc.parentFlag, dtyp.GenericRead, sidCreatorOwner),
					testACE(t, dtyp.AccessAllowedAceType, 0, fileAllAccess, sidEveryone))
				if st := c.setSD(p, dtyp.DaclSecurityInformation, testSD(t, dtyp.SeDaclPresent|tc.control, nil, dacl)); st != ntstatus.StatusSuccess {
					t.Fatal(st)
				}
				var mark dtyp.AceFlags
				wantCtl := dtyp.SeSelfRelative | dtyp.SeDaclPresent
				if tc.auto {
					mark = inh
					wantCtl |= dtyp.SeDaclAutoInherited
				}
				c.mkfile("p/f", "")
				c.mkdir("p/d")
				for _, k := range []struct {
					name string
					want []gotACE
				}{
					{"p/f", []gotACE{{mark, dtyp.FileWriteData | dtyp.WriteDac, owner}}},
					{"p/d", []gotACE{
						{oi | ci | mark, dtyp.FileWriteData | dtyp.WriteDac, owner},
						{mark, fileGenericRead, owner},
						{ci | io | mark, dtyp.GenericRead, sidCreatorOwner},
					}},
				} {
					fid := c.mustOpen(k.name, smb2.FileOpen, 0)
					sd := c.getSD(fid, dtyp.DaclSecurityInformation|dtyp.OwnerSecurityInformation)
					c.mustClose(fid)
					if sd.Control != wantCtl {
						t.Errorf("parent %v: %s control %v, want %v", tc.control, k.name, sd.Control, wantCtl)
					}
					if got := aclACEs(t, sd.Dacl); !sameACEs(got, k.want) {
						t.Errorf("parent %v, ACE flag %v: %s ACEs %+v, want %+v", tc.control, tc.parentFlag, k.name, got, k.want)
					}
				}
				for _, n := range []string{"p/f", "p/d"} {
					fid, _, st := c.create(n, createOpts{access: dtyp.Delete, share: shareAll, disp: smb2.FileOpen, options: smb2.FileDeleteOnClose})
					if st != ntstatus.StatusSuccess {
						t.Fatalf("delete %s: %v", n, st)
					}
					c.mustClose(fid)
				}
			}

			// Nothing inheritable: the default DACL.
			dacl := testACL(t, testACE(t, dtyp.AccessAllowedAceType, io, dtyp.FileWriteData, sidCreatorOwner),
				testACE(t, dtyp.AccessAllowedAceType, 0, fileAllAccess, sidEveryone))
			if st := c.setSD(p, dtyp.DaclSecurityInformation, testSD(t, dtyp.SeDaclPresent, nil, dacl)); st != ntstatus.StatusSuccess {
				t.Fatal(st)
			}
			c.mkfile("p/f", "")
			fid := c.mustOpen("p/f", smb2.FileOpen, 0)
			sd := c.getSD(fid, dtyp.DaclSecurityInformation|dtyp.OwnerSecurityInformation)
			c.mustClose(fid)
			want := []gotACE{{0, fileAllAccess, owner}, {0, fileAllAccess, sidSystem}}
			if got := aclACEs(t, sd.Dacl); !sameACEs(got, want) || sd.Control != dtyp.SeSelfRelative|dtyp.SeDaclPresent {
				t.Errorf("default DACL: control %v, ACEs %+v, want %+v", sd.Control, got, want)
			}
			c.mustClose(p)
		})
	}
}

// inheritACL without auto-inheritance drops the parent's INHERITED_ACE marks.
func TestInheritACLNotAuto(t *testing.T) {
	const oi, ci, inh = dtyp.ObjectInheritAce, dtyp.ContainerInheritAce, dtyp.InheritedAce
	owner := userSID("D", "alice")
	parent := testACL(t, testACE(t, dtyp.AccessAllowedAceType, oi|ci|inh, dtyp.FileReadData, sidEveryone))
	if got, want := aclACEs(t, inheritACL(parent, false, owner, sidUsers, false)), []gotACE{{0, dtyp.FileReadData, sidEveryone}}; !sameACEs(got, want) {
		t.Errorf("file: %+v, want %+v", got, want)
	}
	if got, want := aclACEs(t, inheritACL(parent, true, owner, sidUsers, false)), []gotACE{{oi | ci, dtyp.FileReadData, sidEveryone}}; !sameACEs(got, want) {
		t.Errorf("dir: %+v, want %+v", got, want)
	}
}
