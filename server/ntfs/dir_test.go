package ntfs

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/smbvfs/smbvfs/backends/memfs"
	"github.com/smbvfs/smbvfs/backends/vfs"
	"github.com/smbvfs/smbvfs/protocol/fscc"
	"github.com/smbvfs/smbvfs/protocol/ntstatus"
	"github.com/smbvfs/smbvfs/protocol/smb2"
	"github.com/smbvfs/smbvfs/protocol/utf16"
)

func TestWildcards(t *testing.T) {
	tests := []struct {
		expr, name string
		want       bool
	}{
		{"*", "anything.txt", true},
		{"*.*", "noext", true}, // MS-FSA special case
		{"*", ".", true},
		{"*.txt", "a.txt", true},
		{"*.txt", "A.TXT", true}, // case-insensitive
		{"*.txt", "a.txt.bak", false},
		{"*.txt", "a.b.txt", true},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"a?c", "a.c", true},
		{"a*c", "abbbc", true},
		{"a*c", "abbbd", false},
		{"*a*b*", "xaybz", true},
		{"exact", "EXACT", true},
		{"exact", "exact2", false},
		// DOS_STAR '<': up to the last dot.
		{"<.txt", "a.txt", true},
		{"<.txt", "a.b.txt", true},
		{"<", "abc", true},
		{"<", "abc.def", false},
		{"<\"", "abc", true},      // "*." matches names without extension
		{"<\"", "abc.def", false}, // ... and not those with one
		{"<\"*", "abc.def", true},
		// DOS_QM '>': one character, or nothing at a dot or the end.
		{">>>", "ab", true},
		{">>>", "abcd", false},
		{">>>.txt", "ab.txt", true},
		{">>>.txt", "abcd.txt", false},
		{"a>", "a", true},
		{"a>", "a.", false},
		{"a>\"", "a.", true},
		// DOS_DOT '"': a dot, or nothing at the end.
		{"abc\"", "abc", true},
		{"abc\"", "abc.", true},
		{"abc\">>>", "abc.txt", true},
		{"abc\">>>", "abc", true},
		{"abc\">>>", "abcd", false},
		{"<.>>>", "readme.md", true},    // "*.???"
		{"<.>>>", "readme.html", false}, // longer extension
		{"", "x", true},
	}
	for _, tt := range tests {
		if got := isInExpression(tt.name, tt.expr); got != tt.want {
			t.Errorf("%q in %q: got %v, want %v", tt.name, tt.expr, got, tt.want)
		}
	}
}

func TestListing(t *testing.T) {
	for _, b := range writable {
		t.Run(b.name, func(t *testing.T) {
			fsys := b.new(t)
			c := connect(t, fsys, ShareOptions{})
			c.mkdir("d")
			// Populate through the backend: this test is about listing, and a
			// case-insensitive create on a case-sensitive backend scans the directory.
			ctx := context.Background()
			root, _ := fsys.Root(ctx)
			dn, _ := root.(vfs.Lookuper).Lookup(ctx, "d")
			for i := range 5000 {
				_, h, err := dn.(vfs.Creator).Create(ctx, fmt.Sprintf("file%05d.txt", i))
				if err != nil {
					t.Fatal(err)
				}
				h.Close(ctx)
			}
			c.mkfile("d\\other.dat", "")
			d := c.mustOpen("d", smb2.FileOpen, smb2.FileDirectoryFile)
			names, st := c.list(d, "*", 4096) // small buffers: many resumed calls
			if st != ntstatus.StatusSuccess {
				t.Fatal(st)
			}
			if len(names) != 5003 || names[0] != "." || names[1] != ".." {
				t.Fatalf("%d names, first %v", len(names), names[:min(3, len(names))])
			}
			seen := map[string]bool{}
			for _, n := range names {
				if seen[n] {
					t.Fatalf("duplicate %q", n)
				}
				seen[n] = true
			}
			txt, _ := c.list(d, "*.TXT", 65536)
			if len(txt) != 5000 {
				t.Errorf("*.TXT: %d", len(txt))
			}
			one, _ := c.list(d, "FILE00042.txt", 65536)
			if len(one) != 1 || one[0] != "file00042.txt" {
				t.Errorf("exact name: %v", one)
			}
			if _, st := c.list(d, "nomatch*", 65536); st != ntstatus.StatusNoSuchFile {
				t.Errorf("no match: %v", st)
			}
			c.mustClose(d)
		})
	}
}

func TestListingClasses(t *testing.T) {
	c := connect(t, writable[0].new(t), ShareOptions{})
	c.mkfile("a.txt", "12345")
	c.mkdir("sub")
	root := c.mustOpen("", smb2.FileOpen, smb2.FileDirectoryFile)
	for class := range dirClassFixed {
		var resp smb2.QueryDirectoryResponse
		st := c.tree.QueryDirectory(&c.r, &smb2.QueryDirectoryRequest{FileInformationClass: class, Flags: smb2.QueryDirectoryRestartScans,
			FileId: root, OutputBufferLength: 65536, FileName: utf16.FromString("*")}, &resp)
		if st != ntstatus.StatusSuccess {
			t.Fatalf("%v: %v", class, st)
		}
		names := decodeNames(t, class, resp.OutputBuffer)
		if strings.Join(names, ",") != ".,..,a.txt,sub" {
			t.Errorf("%v: %v", class, names)
		}
		// The second call ends the listing.
		st = c.tree.QueryDirectory(&c.r, &smb2.QueryDirectoryRequest{FileInformationClass: class, FileId: root, OutputBufferLength: 65536}, &resp)
		if st != ntstatus.StatusNoMoreFiles {
			t.Errorf("%v: second call: %v", class, st)
		}
	}
	// Buffer too small for the fixed part; too small for the first entry.
	var resp smb2.QueryDirectoryResponse
	st := c.tree.QueryDirectory(&c.r, &smb2.QueryDirectoryRequest{FileInformationClass: fscc.ClassFileIdBothDirectoryInformation,
		Flags: smb2.QueryDirectoryRestartScans, FileId: root, OutputBufferLength: 50}, &resp)
	if st != ntstatus.StatusInfoLengthMismatch {
		t.Errorf("tiny buffer: %v", st)
	}
	// RETURN_SINGLE_ENTRY.
	st = c.tree.QueryDirectory(&c.r, &smb2.QueryDirectoryRequest{FileInformationClass: fscc.ClassFileNamesInformation,
		Flags: smb2.QueryDirectoryRestartScans | smb2.QueryDirectoryReturnSingleEntry, FileId: root, OutputBufferLength: 65536,
		FileName: utf16.FromString("*")}, &resp)
	if names := decodeNames(t, fscc.ClassFileNamesInformation, resp.OutputBuffer); st != ntstatus.StatusSuccess || len(names) != 1 {
		t.Errorf("single entry: %v %v", st, names)
	}
	// Unknown class, and a file handle.
	st = c.tree.QueryDirectory(&c.r, &smb2.QueryDirectoryRequest{FileInformationClass: fscc.ClassFileBasicInformation, FileId: root, OutputBufferLength: 65536}, &resp)
	if st != ntstatus.StatusInvalidInfoClass {
		t.Errorf("bad class: %v", st)
	}
	c.mustClose(root)
}

func decodeNames(t *testing.T, class fscc.FileInformationClass, b []byte) []string {
	t.Helper()
	var names []string
	add := func(n utf16.Text) { names = append(names, n.String()) }
	var err error
	switch class {
	case fscc.ClassFileDirectoryInformation:
		var l fscc.FileDirectoryInformationList
		if err = l.Decode(b, -1); err == nil {
			for it := l.Iter(); it.Next(); {
				add(it.Value().FileName)
			}
		}
	case fscc.ClassFileFullDirectoryInformation:
		var l fscc.FileFullDirectoryInformationList
		if err = l.Decode(b, -1); err == nil {
			for it := l.Iter(); it.Next(); {
				add(it.Value().FileName)
			}
		}
	case fscc.ClassFileBothDirectoryInformation:
		var l fscc.FileBothDirectoryInformationList
		if err = l.Decode(b, -1); err == nil {
			for it := l.Iter(); it.Next(); {
				add(it.Value().FileName)
			}
		}
	case fscc.ClassFileNamesInformation:
		var l fscc.FileNamesInformationList
		if err = l.Decode(b, -1); err == nil {
			for it := l.Iter(); it.Next(); {
				add(it.Value().FileName)
			}
		}
	case fscc.ClassFileIdBothDirectoryInformation:
		var l fscc.FileIdBothDirectoryInformationList
		if err = l.Decode(b, -1); err == nil {
			for it := l.Iter(); it.Next(); {
				add(it.Value().FileName)
			}
		}
	case fscc.ClassFileIdFullDirectoryInformation:
		var l fscc.FileIdFullDirectoryInformationList
		if err = l.Decode(b, -1); err == nil {
			for it := l.Iter(); it.Next(); {
				add(it.Value().FileName)
			}
		}
	case fscc.ClassFileIdExtdDirectoryInformation:
		var l fscc.FileIdExtdDirectoryInformationList
		if err = l.Decode(b, -1); err == nil {
			for it := l.Iter(); it.Next(); {
				add(it.Value().FileName)
			}
		}
	case fscc.ClassFileId64ExtdDirectoryInformation:
		var l fscc.FileId64ExtdDirectoryInformationList
		if err = l.Decode(b, -1); err == nil {
			for it := l.Iter(); it.Next(); {
				add(it.Value().FileName)
			}
		}
	case fscc.ClassFileId64ExtdBothDirectoryInformation:
		var l fscc.FileId64ExtdBothDirectoryInformationList
		if err = l.Decode(b, -1); err == nil {
			for it := l.Iter(); it.Next(); {
				add(it.Value().FileName)
			}
		}
	case fscc.ClassFileIdAllExtdDirectoryInformation:
		var l fscc.FileIdAllExtdDirectoryInformationList
		if err = l.Decode(b, -1); err == nil {
			for it := l.Iter(); it.Next(); {
				add(it.Value().FileName)
			}
		}
	case fscc.ClassFileIdAllExtdBothDirectoryInformation:
		var l fscc.FileIdAllExtdBothDirectoryInformationList
		if err = l.Decode(b, -1); err == nil {
			for it := l.Iter(); it.Next(); {
				add(it.Value().FileName)
			}
		}
	}
	if err != nil {
		t.Fatalf("%v: %v", class, err)
	}
	return names
}

// TestListing100k lists a memfs directory of 100,000 entries with 64 KiB responses,
// resuming from backend cookies; it reports the time taken.
func TestListing100k(t *testing.T) {
	const n = 100000
	fsys := memfs.New(memfs.Options{})
	ctx := context.Background()
	root, _ := fsys.Root(ctx)
	dir, _ := root.(vfs.Mkdirer).Mkdir(ctx, "big")
	for i := range n {
		_, h, err := dir.(vfs.Creator).Create(ctx, fmt.Sprintf("entry-%06d.dat", i))
		if err != nil {
			t.Fatal(err)
		}
		h.Close(ctx)
	}
	c := connect(t, fsys, ShareOptions{})
	d := c.mustOpen("big", smb2.FileOpen, smb2.FileDirectoryFile)
	start := time.Now()
	calls, count := 0, 0
	flags := smb2.QueryDirectoryRestartScans
	for {
		var resp smb2.QueryDirectoryResponse
		st := c.tree.QueryDirectory(&c.r, &smb2.QueryDirectoryRequest{FileInformationClass: fscc.ClassFileIdBothDirectoryInformation,
			Flags: flags, FileId: d, OutputBufferLength: 65536, FileName: utf16.FromString("*")}, &resp)
		flags = 0
		if st == ntstatus.StatusNoMoreFiles {
			break
		}
		if st != ntstatus.StatusSuccess {
			t.Fatal(st)
		}
		calls++
		var l fscc.FileIdBothDirectoryInformationList
		if err := l.Decode(resp.OutputBuffer, -1); err != nil {
			t.Fatal(err)
		}
		count += l.Count()
		if o := c.tree.get(d); o.enum != nil && len(o.enum.page) > dirPage {
			t.Fatalf("held %d entries", len(o.enum.page))
		}
	}
	elapsed := time.Since(start)
	if count != n+2 {
		t.Fatalf("listed %d", count)
	}
	t.Logf("listed %d entries in %d calls in %v (%.0f entries/s)", count, calls, elapsed, float64(count)/elapsed.Seconds())
	if elapsed > 20*time.Second {
		t.Errorf("too slow: %v", elapsed)
	}
	c.mustClose(d)
}
