package roundtrip

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/smbvfs/smbvfs/pcaps/sessions"
)

// TestDecryptedRoundTrip opens the encrypted captures with the keys of pcaps/keys (smbserve's
// key log, the reference Samba's password, the published keys of ../shared/pcaps) and
// round-trips what they carry: every transform message must decrypt and every message inside
// must re-encode byte for byte.
func TestDecryptedRoundTrip(t *testing.T) {
	ring, err := sessions.Load(filepath.Join("..", "keys"))
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join("..", "*encrypted*.pcapng"))
	for _, name := range []string{
		"zeek_smb300_linux-cifs_to_ws2016_encrypted_ccm_key_known.pcap",
		"zeek_smb311_linux-cifs_to_ws2016_encrypted_ccm_key_known.pcap",
		"samrlab_smb311_rubysmb_to_ws2022_encrypted_aes256gcm_decryptable.pcapng",
	} {
		p := filepath.Join("..", "..", "..", "shared", "pcaps", name)
		if _, err := os.Stat(p); err == nil {
			files = append(files, p)
		}
	}
	if len(files) < 5 {
		t.Fatalf("only %d encrypted captures", len(files))
	}
	for _, f := range files {
		c := Checker{Ring: ring}
		r, err := c.File(f)
		if err != nil {
			t.Fatal(err)
		}
		if r.Transform == 0 || r.Decrypted != r.Transform || len(r.Failures) > 0 {
			t.Errorf("%s: %d transform, %d decrypted, failures %v", r.Capture, r.Transform, r.Decrypted, r.Failures)
			continue
		}
		t.Logf("%s: %d transform messages decrypted, %d SMB2 messages round-tripped", r.Capture, r.Decrypted, r.SMB2)
	}
}
