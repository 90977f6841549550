package interop

import (
	"os/exec"
	"strings"
	"testing"
)

const python = "/usr/bin/python3" // Debian's, where python3-impacket installs

// TestImpacket runs testdata/impacket_ops.py (createDirectory, putFile, listPath, getFile,
// rename, deleteFile, deleteDirectory) over SMB 2.1 and 3.0 against memfs and passthrough.
func TestImpacket(t *testing.T) {
	if testing.Short() {
		t.Skip("interop test (-short)")
	}
	if _, err := exec.LookPath(python); err != nil {
		unavailable(t, "%s not installed (apt-get install python3-impacket)", python)
	}
	if out, err := run(t, nil, python, "-c", "import impacket.smbconnection"); err != nil {
		unavailable(t, "impacket not importable by %s (apt-get install python3-impacket): %s", python, out)
	}
	srv := startServer(t, nil)
	for _, share := range []string{shareMem, sharePass} {
		for _, dialect := range []string{"2.1", "3.0"} {
			t.Run(share+"/"+dialect, func(t *testing.T) {
				t.Parallel()
				out, err := run(t, nil, python, "testdata/impacket_ops.py", srv.Host, itoa(srv.Port), share, user1, pass1, dialect)
				if err != nil || strings.Contains(out, "FAIL") || !strings.Contains(out, "ok logoff") {
					t.Fatalf("impacket %s: %v\n%s", dialect, err, out)
				}
			})
		}
	}
}
