package roundtrip

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/smbvfs/smbvfs/protocol/smb2"
)

// TestRoundTripCatchesABrokenField breaks the encoding of one field — CREATE's DesiredAccess
// gets one more bit, as an encoder bug would write — and checks that the round trip fails on
// exactly the CREATE requests, naming that field.
func TestRoundTripCatchesABrokenField(t *testing.T) {
	path := filepath.Join("..", "..", "..", "shared", "pcaps", "zeek_smb311_linux-cifs_to_samba_100_small_files.pcap")
	c := Checker{breakEncoding: func(m smb2.Message) {
		if cr, ok := m.(*smb2.CreateRequest); ok {
			cr.DesiredAccess ^= 0x00100000
		}
	}}
	r, err := c.File(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Failures) == 0 {
		t.Fatal("a broken DesiredAccess encoding went unnoticed")
	}
	for _, f := range r.Failures {
		if !strings.Contains(f.What, "SMB2_CREATE request") || !strings.Contains(f.Err, "in CreateRequest.DesiredAccess") {
			t.Errorf("unexpected failure: %v", f)
		}
	}
	var clean Checker
	ok, err := clean.File(path)
	if err != nil || len(ok.Failures) != 0 {
		t.Fatalf("the unbroken codec fails: %v %v", err, ok.Failures)
	}
	t.Logf("%d CREATE requests reported, e.g. %s", len(r.Failures), r.Failures[0].Err)
}
