package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

var shared = filepath.Join("..", "..", "..", "shared", "pcaps")

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := app(&out).Run(context.Background(), append([]string{"smbreplay"}, args...))
	return out.String(), err
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func TestRoundtripCommand(t *testing.T) {
	out, err := run(t, "roundtrip", filepath.Join(shared, "zeek_smb311_linux-cifs_to_samba_100_small_files.pcap"))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got := lastLine(out); got != "896 messages, 0 mismatches" {
		t.Fatalf("last line %q", got)
	}
	// a malformed capture fails without expectations, and passes with them
	bad := filepath.Join(shared, "zeek_smb2_setinfo_fs_control.pcap")
	out, err = run(t, "roundtrip", bad)
	if err == nil || lastLine(out) != "1 messages, 1 mismatches" {
		t.Fatalf("want one mismatch and an error, got %v\n%s", err, out)
	}
	out, err = run(t, "roundtrip", "--expect", filepath.Join("..", "..", "pcaps", "expected.tsv"), bad)
	if err != nil || lastLine(out) != "1 messages, 0 mismatches" {
		t.Fatalf("with expectations: %v\n%s", err, out)
	}
}

func TestDumpCommand(t *testing.T) {
	out, err := run(t, "dump", "--tree", filepath.Join(shared, "zeek_smb311_negotiate_contexts_only.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"SMB2_NEGOTIATE request", "Dialects: [0x0202 0x0210 0x0222 0x0224 0x0300 0x0302 0x0310 0x0311]", "DialectRevision: 3.1.1"} {
		if !strings.Contains(out, want) {
			t.Errorf("dump lacks %q:\n%s", want, out)
		}
	}
}
