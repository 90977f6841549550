package ntfs

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/smbvfs/smbvfs/protocol/dtyp"
	"github.com/smbvfs/smbvfs/protocol/fscc"
	"github.com/smbvfs/smbvfs/protocol/ntstatus"
	"github.com/smbvfs/smbvfs/protocol/smb2"
	"github.com/smbvfs/smbvfs/protocol/utf16"
)

// decoder is any generated structure.
type decoder interface{ Decode([]byte) error }

func TestFileInfoClasses(t *testing.T) {
	for _, b := range writable {
		t.Run(b.name, func(t *testing.T) {
			c := connect(t, b.new(t), ShareOptions{})
			c.mkfile("f.txt", "hello world")
			fid := c.mustOpen("f.txt", smb2.FileOpen, 0)
			classes := []struct {
				class fscc.FileInformationClass
				into  decoder
				check func(t *testing.T)
			}{
				{fscc.ClassFileBasicInformation, &fscc.FileBasicInformation{}, nil},
				{fscc.ClassFileStandardInformation, &fscc.FileStandardInformation{}, nil},
				{fscc.ClassFileInternalInformation, &fscc.FileInternalInformation{}, nil},
				{fscc.ClassFileEaInformation, &fscc.FileEaInformation{}, nil},
				{fscc.ClassFileAccessInformation, &fscc.FileAccessInformation{}, nil},
				{fscc.ClassFilePositionInformation, &fscc.FilePositionInformation{}, nil},
				{fscc.ClassFileModeInformation, &fscc.FileModeInformation{}, nil},
				{fscc.ClassFileAlignmentInformation, &fscc.FileAlignmentInformation{}, nil},
				{fscc.ClassFileAllInformation, &fscc.FileAllInformation{}, nil},
				{fscc.ClassFileCompressionInformation, &fscc.FileCompressionInformation{}, nil},
				{fscc.ClassFileNetworkOpenInformation, &fscc.FileNetworkOpenInformation{}, nil},
				{fscc.ClassFileAttributeTagInformation, &fscc.FileAttributeTagInformation{}, nil},
				{fscc.ClassFileNormalizedNameInformation, &fscc.FileNameInformation{}, nil},
				{fscc.ClassFileIdInformation, &fscc.FileIdInformation{}, nil},
			}
			for _, cl := range classes {
				out, st := c.query(fid, smb2.InfoFile, uint8(cl.class), 4096)
				if st != ntstatus.StatusSuccess {
					t.Errorf("%v: %v", cl.class, st)
					continue
				}
				if err := cl.into.Decode(out); err != nil {
					t.Errorf("%v: decode: %v", cl.class, err)
				}
				// A buffer one byte short of the fixed part.
				if fixed := fileClassFixed[cl.class]; fixed > 0 {
					if _, st := c.query(fid, smb2.InfoFile, uint8(cl.class), uint32(fixed-1)); st != ntstatus.StatusInfoLengthMismatch {
						t.Errorf("%v short: %v", cl.class, st)
					}
				}
			}
			var all fscc.FileAllInformation
			out, _ := c.query(fid, smb2.InfoFile, uint8(fscc.ClassFileAllInformation), 4096)
			all.Decode(out)
			if all.StandardInformation.EndOfFile != 11 || all.FileName.String() != "\\f.txt" || all.InternalInformation.IndexNumber == 0 {
				t.Errorf("all: %+v %q", all.StandardInformation, all.FileName.String())
			}
			// The name cut short: BUFFER_OVERFLOW with the fixed part.
			out, st := c.query(fid, smb2.InfoFile, uint8(fscc.ClassFileAllInformation), 104)
			if st != ntstatus.StatusBufferOverflow || len(out) != 104 {
				t.Errorf("all short: %v %d", st, len(out))
			}
			var name fscc.FileNameInformation
			out, _ = c.query(fid, smb2.InfoFile, uint8(fscc.ClassFileNormalizedNameInformation), 4096)
			name.Decode(out)
			if name.FileName.String() != "f.txt" {
				t.Errorf("normalized name %q", name.FileName.String())
			}
			out, st = c.query(fid, smb2.InfoFile, uint8(fscc.ClassFileAlternateNameInformation), 4096)
			name.Decode(out)
			if st != ntstatus.StatusSuccess || name.FileName.String() != "f.txt" {
				t.Errorf("alternate name: %v %q", st, name.FileName.String())
			}
			if _, st := c.query(fid, smb2.InfoFile, 0x77, 4096); st != ntstatus.StatusInvalidInfoClass {
				t.Errorf("unknown class: %v", st)
			}
			if _, st := c.query(fid, smb2.InfoFile, uint8(fscc.ClassFilePipeInformation), 4096); st != ntstatus.StatusNotSupported {
				t.Errorf("pipe class: %v", st)
			}
			// Streams: "::$DATA".
			out, _ = c.query(fid, smb2.InfoFile, uint8(fscc.ClassFileStreamInformation), 4096)
			var sl fscc.FileStreamInformationList
			if err := sl.Decode(out, -1); err != nil || sl.Count() != 1 {
				t.Errorf("streams: %v %d", err, sl.Count())
			}
			c.mustClose(fid)
		})
	}
}

func TestSetBasicAndSizes(t *testing.T) {
	for _, b := range writable {
		t.Run(b.name, func(t *testing.T) {
			c := connect(t, b.new(t), ShareOptions{})
			c.mkfile("f", "0123456789")
			fid := c.mustOpen("f", smb2.FileOpen, 0)
			get := func() fscc.FileBasicInformation {
				out, _ := c.query(fid, smb2.InfoFile, uint8(fscc.ClassFileBasicInformation), 40)
				var bi fscc.FileBasicInformation
				bi.Decode(out)
				return bi
			}
			before := get()
			when := toFiletime(time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC))
			bi := fscc.FileBasicInformation{LastWriteTime: when, LastAccessTime: 0xFFFFFFFFFFFFFFFF, FileAttributes: fscc.FileAttributeHidden}
			buf, _ := bi.Append(nil)
			if st := c.set(fid, fscc.ClassFileBasicInformation, buf); st != ntstatus.StatusSuccess {
				t.Fatal(st)
			}
			after := get()
			if after.LastWriteTime != when || after.CreationTime != before.CreationTime || after.LastAccessTime != before.LastAccessTime {
				t.Errorf("times: before %+v after %+v", before, after)
			}
			if after.FileAttributes&fscc.FileAttributeHidden == 0 {
				t.Errorf("attributes %v", after.FileAttributes)
			}
			bi = fscc.FileBasicInformation{FileAttributes: fscc.FileAttributeNormal}
			buf, _ = bi.Append(nil)
			c.set(fid, fscc.ClassFileBasicInformation, buf)
			if a := get().FileAttributes; a != fscc.FileAttributeNormal {
				t.Errorf("after NORMAL: %v", a)
			}
			if st := c.set(fid, fscc.ClassFileBasicInformation, buf[:10]); st != ntstatus.StatusInfoLengthMismatch {
				t.Errorf("short buffer: %v", st)
			}
			// End of file, allocation.
			if st := c.set(fid, fscc.ClassFileEndOfFileInformation, le64(4)); st != ntstatus.StatusSuccess {
				t.Fatal(st)
			}
			if si := c.standard(fid); si.EndOfFile != 4 {
				t.Errorf("eof %d", si.EndOfFile)
			}
			c.set(fid, fscc.ClassFileEndOfFileInformation, le64(10000))
			c.set(fid, fscc.ClassFileAllocationInformation, le64(100))
			if si := c.standard(fid); si.EndOfFile != 100 {
				t.Errorf("after allocation: eof %d", si.EndOfFile)
			}
			// Position and mode.
			c.set(fid, fscc.ClassFilePositionInformation, le64(77))
			out, _ := c.query(fid, smb2.InfoFile, uint8(fscc.ClassFilePositionInformation), 8)
			if binary.LittleEndian.Uint64(out) != 77 {
				t.Errorf("position %x", out)
			}
			if st := c.set(fid, fscc.ClassFileModeInformation, []byte{2, 0, 0, 0}); st != ntstatus.StatusSuccess {
				t.Errorf("mode: %v", st)
			}
			if st := c.set(fid, fscc.ClassFileModeInformation, []byte{8, 0, 0, 0}); st != ntstatus.StatusInvalidParameter {
				t.Errorf("mode no-buffering: %v", st)
			}
			c.mustClose(fid)
		})
	}
}

func TestFsInfoClasses(t *testing.T) {
	for _, b := range append(writable, backendCase{"hello", helloFS}) {
		t.Run(b.name, func(t *testing.T) {
			c := connect(t, b.new(t), ShareOptions{})
			root := c.mustOpen("", smb2.FileOpen, smb2.FileDirectoryFile)
			for class, into := range map[fscc.FsInformationClass]decoder{
				fscc.ClassFileFsVolumeInformation:     &fscc.FileFsVolumeInformation{},
				fscc.ClassFileFsSizeInformation:       &fscc.FileFsSizeInformation{},
				fscc.ClassFileFsDeviceInformation:     &fscc.FileFsDeviceInformation{},
				fscc.ClassFileFsAttributeInformation:  &fscc.FileFsAttributeInformation{},
				fscc.ClassFileFsFullSizeInformation:   &fscc.FileFsFullSizeInformation{},
				fscc.ClassFileFsObjectIdInformation:   &fscc.FileFsObjectIdInformation{},
				fscc.ClassFileFsSectorSizeInformation: &fscc.FileFsSectorSizeInformation{},
			} {
				out, st := c.query(root, smb2.InfoFilesystem, uint8(class), 1024)
				if st != ntstatus.StatusSuccess {
					t.Errorf("%v: %v", class, st)
					continue
				}
				if err := into.Decode(out); err != nil {
					t.Errorf("%v: %v", class, err)
				}
				if _, st := c.query(root, smb2.InfoFilesystem, uint8(class), uint32(fsClassFixed[class]-1)); st != ntstatus.StatusInfoLengthMismatch {
					t.Errorf("%v short: %v", class, st)
				}
			}
			out, _ := c.query(root, smb2.InfoFilesystem, uint8(fscc.ClassFileFsAttributeInformation), 1024)
			var fa fscc.FileFsAttributeInformation
			fa.Decode(out)
			if fa.FileSystemName.String() != "NTFS" || !fa.FileSystemAttributes.Has(fscc.FsCaseSensitiveSearch|fscc.FsCasePreservedNames) {
				t.Errorf("attributes: %v %q", fa.FileSystemAttributes, fa.FileSystemName.String())
			}
			c.mustClose(root)
		})
	}
}

func TestSecurityInfo(t *testing.T) {
	for _, b := range append(writable, backendCase{"hello", helloFS}) {
		t.Run(b.name, func(t *testing.T) {
			c := connect(t, b.new(t), ShareOptions{})
			root := c.mustOpen("", smb2.FileOpen, smb2.FileDirectoryFile)
			q := func(info dtyp.SecurityInformation, max uint32) ([]byte, ntstatus.Status) {
				var resp smb2.QueryInfoResponse
				st := c.tree.QueryInfo(&c.r, &smb2.QueryInfoRequest{InfoType: smb2.InfoSecurity, OutputBufferLength: max,
					AdditionalInformation: info, FileId: root}, &resp)
				return append([]byte(nil), resp.OutputBuffer...), st
			}
			all := dtyp.OwnerSecurityInformation | dtyp.GroupSecurityInformation | dtyp.DaclSecurityInformation
			out, st := q(all, 4096)
			if st != ntstatus.StatusSuccess {
				t.Fatal(st)
			}
			var sd dtyp.SecurityDescriptor
			if err := sd.Decode(out); err != nil {
				t.Fatal(err)
			}
			if len(sd.OwnerSid) == 0 || len(sd.GroupSid) == 0 || len(sd.Dacl) == 0 {
				t.Errorf("sd parts: owner %d group %d dacl %d", len(sd.OwnerSid), len(sd.GroupSid), len(sd.Dacl))
			}
			out, _ = q(dtyp.DaclSecurityInformation, 4096)
			sd.Decode(out)
			if len(sd.OwnerSid) != 0 || len(sd.Dacl) == 0 {
				t.Errorf("dacl only: owner %d dacl %d", len(sd.OwnerSid), len(sd.Dacl))
			}
			_, st = q(all, 8)
			if st != ntstatus.StatusBufferTooSmall || len(c.r.ErrorData) != 4 || binary.LittleEndian.Uint32(c.r.ErrorData) < 20 {
				t.Errorf("small buffer: %v %x", st, c.r.ErrorData)
			}
			if b.name == "memfs" {
				// Set a new owner, read it back.
				newSD := dtyp.SecurityDescriptor{Revision: 1, Control: dtyp.SeSelfRelative, OwnerSid: sidEveryone}
				buf, _ := newSD.Append(nil)
				var sresp smb2.SetInfoResponse
				st := c.tree.SetInfo(&c.r, &smb2.SetInfoRequest{InfoType: smb2.InfoSecurity, AdditionalInformation: dtyp.OwnerSecurityInformation,
					FileId: root, Buffer: buf}, &sresp)
				if st != ntstatus.StatusSuccess {
					t.Fatal(st)
				}
				out, _ = q(all, 4096)
				sd.Decode(out)
				if !bytes.Equal(sd.OwnerSid, sidEveryone) || len(sd.Dacl) == 0 {
					t.Errorf("after set: owner %x dacl %d", sd.OwnerSid, len(sd.Dacl))
				}
			}
			c.mustClose(root)
		})
	}
}

func TestStreams(t *testing.T) {
	c := connect(t, writable[0].new(t), ShareOptions{})
	c.mkfile("f", "main")
	s := c.mustOpen("f:Zone.Identifier", smb2.FileCreate, 0)
	if _, st := c.write(s, 0, []byte("[ZoneTransfer]")); st != ntstatus.StatusSuccess {
		t.Fatal(st)
	}
	if si := c.standard(s); si.EndOfFile != 14 {
		t.Errorf("stream size %d", si.EndOfFile)
	}
	c.mustClose(s)
	s = c.mustOpen("F:zone.identifier:$DATA", smb2.FileOpen, 0)
	if data, _ := c.read(s, 0, 100); string(data) != "[ZoneTransfer]" {
		t.Errorf("stream data %q", data)
	}
	c.mustClose(s)
	main := c.mustOpen("f::$DATA", smb2.FileOpen, 0)
	if data, _ := c.read(main, 0, 100); string(data) != "main" {
		t.Errorf("main data %q", data)
	}
	out, _ := c.query(main, smb2.InfoFile, uint8(fscc.ClassFileStreamInformation), 4096)
	var l fscc.FileStreamInformationList
	l.Decode(out, -1)
	var names []string
	for it := l.Iter(); it.Next(); {
		names = append(names, it.Value().StreamName.String())
	}
	if len(names) != 2 || names[0] != "::$DATA" || names[1] != ":Zone.Identifier:$DATA" {
		t.Errorf("streams %v", names)
	}
	c.mustClose(main)
	if _, st := c.open("f:missing", smb2.FileOpen, 0); st != ntstatus.StatusObjectNameNotFound {
		t.Errorf("missing stream: %v", st)
	}
	if _, st := c.open("f:s", smb2.FileOpen, smb2.FileDirectoryFile); st != ntstatus.StatusNotADirectory {
		t.Errorf("stream as directory: %v", st)
	}
	// A stream on a new file creates the file.
	s = c.mustOpen("new:alt", smb2.FileCreate, 0)
	c.mustClose(s)
	if !c.exists("new") {
		t.Error("base file not created")
	}
	// Delete-on-close of a stream removes the stream only.
	s, _, st := c.create("f:Zone.Identifier", createOpts{access: dtyp.Delete | dtyp.GenericRead, share: shareAll, disp: smb2.FileOpen, options: smb2.FileDeleteOnClose})
	if st != ntstatus.StatusSuccess {
		t.Fatal(st)
	}
	c.mustClose(s)
	if c.exists("f:Zone.Identifier") || !c.exists("f") {
		t.Error("stream delete-on-close")
	}
	// A backend without streams.
	h := connect(t, helloFS(t), ShareOptions{})
	if _, st := h.open("README.txt:x", smb2.FileOpen, 0); st != ntstatus.StatusObjectNameInvalid {
		t.Errorf("stream on hello: %v", st)
	}
}

func TestEAs(t *testing.T) {
	c := connect(t, writable[0].new(t), ShareOptions{})
	c.mkfile("f", "")
	fid := c.mustOpen("f", smb2.FileOpen, 0)
	if _, st := c.query(fid, smb2.InfoFile, uint8(fscc.ClassFileFullEaInformation), 4096); st != ntstatus.StatusNoEasOnFile {
		t.Errorf("no EAs: %v", st)
	}
	var l fscc.FileFullEaInformationList
	l.Add(&fscc.FileFullEaInformation{EaName: []byte("USER.A"), EaValue: []byte("value")})
	if st := c.set(fid, fscc.ClassFileFullEaInformation, l.Bytes()); st != ntstatus.StatusSuccess {
		t.Fatal(st)
	}
	out, st := c.query(fid, smb2.InfoFile, uint8(fscc.ClassFileFullEaInformation), 4096)
	var got fscc.FileFullEaInformationList
	if st != ntstatus.StatusSuccess || got.Decode(out, -1) != nil || got.Count() != 1 {
		t.Errorf("EAs: %v %d", st, got.Count())
	}
	out, _ = c.query(fid, smb2.InfoFile, uint8(fscc.ClassFileEaInformation), 4)
	if binary.LittleEndian.Uint32(out) == 0 {
		t.Error("EaSize 0")
	}
	c.mustClose(fid)
	_ = utf16.FromString
}

func TestShortName(t *testing.T) {
	for _, tc := range []struct {
		long, want string
	}{
		{"h", "h"}, {"ABCDEFGH.TXT", "ABCDEFGH.TXT"}, {"f.txt", "f.txt"},
	} {
		if got, ok := shortName(tc.long); !ok || got != tc.want {
			t.Errorf("shortName(%q) = %q, %v; want %q", tc.long, got, ok, tc.want)
		}
	}
	for _, long := range []string{"longfilename_abcdef.txt", "a.b.c", "with space", "ünïcode.data", ".hidden", "x.jpeg"} {
		got, ok := shortName(long)
		if !ok || !is83(got) || got == long {
			t.Errorf("shortName(%q) = %q, %v: want a mangled 8.3 name", long, got, ok)
		}
		if again, _ := shortName(strings.ToUpper(long)); again != got {
			t.Errorf("shortName is not case-insensitive: %q vs %q", again, got)
		}
	}
	if _, ok := shortName(""); ok {
		t.Error("the root has a short name")
	}
}
