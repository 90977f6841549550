package interop

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// smbclientMode is one way of running smbclient.
type smbclientMode struct {
	name string
	args []string
}

var smbclientModes = []smbclientMode{
	{"SMB2_10", []string{"-m", "SMB2_10"}},
	{"SMB3_11", []string{"-m", "SMB3_11"}},
	{"SMB3_11-encrypt", []string{"-m", "SMB3_11", "--option=client smb encrypt=required"}},
}

// smbclient runs one smbclient command line against share and fails the test on a
// non-zero exit or an NT_STATUS error in the output (smbclient -c keeps going and exits 0
// after most failed commands).
type smbclient struct {
	t     *testing.T
	bin   string
	srv   *testServer
	share string
	auth  []string // -U user%pass or -N
	mode  smbclientMode
	dir   string // local directory (lcd)
}

func (c *smbclient) try(cmds string) (string, error) {
	c.t.Helper()
	args := []string{"//" + c.srv.Host + "/" + c.share, "-p", fmt.Sprint(c.srv.Port)}
	args = append(args, c.auth...)
	args = append(args, c.mode.args...)
	args = append(args, "-c", cmds)
	return run(c.t, nil, c.bin, args...)
}

var ntStatus = regexp.MustCompile(`NT_STATUS_[A-Z_]+`)

func (c *smbclient) do(cmds string) string {
	c.t.Helper()
	out, err := c.try(cmds)
	if err != nil || ntStatus.MatchString(out) {
		c.t.Fatalf("smbclient %s %q: %v\n%s", c.mode.name, cmds, err, out)
	}
	return out
}

// TestSmbclient: mkdir, put and get of a 64 MiB file with identical checksums, allinfo,
// rename, del, rmdir, and ls of a 5,000-entry directory, with SMB 2.1, 3.1.1 and 3.1.1
// encrypted, on memfs and passthrough, as a user (alice) and as guest.
func TestSmbclient(t *testing.T) {
	bin := needTool(t, "smbclient", "smbclient")
	srv := startServer(t, nil)
	local := t.TempDir()
	const bigSize = 64 << 20
	big, bigSum := randomFile(t, local, bigSize, 64)
	// 5,000 empty files to mput once per share.
	manyDir := filepath.Join(local, "many")
	if err := os.Mkdir(manyDir, 0o755); err != nil {
		t.Fatal(err)
	}
	const nMany = 5000
	for i := range nMany {
		if err := os.WriteFile(filepath.Join(manyDir, fmt.Sprintf("entry%05d.txt", i)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, share := range []string{shareMem, sharePass} {
		t.Run(share, func(t *testing.T) {
			t.Parallel()
			if share == shareMem {
				setup := &smbclient{t: t, bin: bin, srv: srv, share: share, auth: []string{"-U", user1 + "%" + pass1}, mode: smbclientModes[1]}
				setup.do(fmt.Sprintf(`mkdir many; cd many; lcd "%s"; prompt off; mput *`, manyDir))
			} else {
				// Made on disk: the case-insensitive passthrough backend scans the
				// directory on every lookup that misses, so 5,000 creates over SMB take
				// O(n²) (~18 s, a minute with -race).
				if err := os.CopyFS(filepath.Join(srv.DataDir, "many"), os.DirFS(manyDir)); err != nil {
					t.Fatal(err)
				}
			}
			for i, mode := range smbclientModes {
				t.Run(mode.name, func(t *testing.T) {
					auth := []string{"-U", user1 + "%" + pass1}
					if i == 1 {
						auth = []string{"-N"} // guest (the server allows it)
					}
					c := &smbclient{t: t, bin: bin, srv: srv, share: share, auth: auth, mode: mode}
					dir := "d_" + strings.ReplaceAll(mode.name, "-", "_")
					back := filepath.Join(t.TempDir(), "back.bin")
					c.do("mkdir " + dir)
					c.do(fmt.Sprintf(`put "%s" %s\big.bin`, big, dir))
					c.do(fmt.Sprintf(`get %s\big.bin "%s"`, dir, back))
					if sum := fileSHA256(t, back); sum != bigSum {
						t.Fatalf("get: sha256 %s, put %s", sum, bigSum)
					}
					out := c.do(fmt.Sprintf(`allinfo %s\big.bin`, dir))
					for _, want := range []string{"altname: ", "create_time:", "write_time:", "attributes: A", fmt.Sprintf("stream: [::$DATA], %d bytes", bigSize)} {
						if !strings.Contains(out, want) {
							t.Errorf("allinfo: no %q in\n%s", want, out)
						}
					}
					c.do(fmt.Sprintf(`rename %s\big.bin %s\renamed.bin`, dir, dir))
					out = c.do(fmt.Sprintf(`ls %s\*`, dir))
					if !strings.Contains(out, "renamed.bin") || strings.Contains(out, "big.bin") {
						t.Errorf("ls after rename:\n%s", out)
					}
					if !regexp.MustCompile(`renamed\.bin\s+A\s+67108864 `).MatchString(out) {
						t.Errorf("ls: size of renamed.bin:\n%s", out)
					}
					c.do(fmt.Sprintf(`del %s\renamed.bin`, dir))
					if out, _ := c.try(fmt.Sprintf(`ls %s\renamed.bin`, dir)); !strings.Contains(out, "NT_STATUS_NO_SUCH_FILE") {
						t.Errorf("ls after del:\n%s", out)
					}
					c.do("rmdir " + dir)
					if out, _ := c.try("cd " + dir); !strings.Contains(out, "NT_STATUS_OBJECT_NAME_NOT_FOUND") {
						t.Errorf("cd after rmdir:\n%s", out)
					}
					// The 5,000-entry directory.
					out = c.do(`ls many\*`)
					n := len(regexp.MustCompile(`(?m)^\s+entry\d{5}\.txt\s+A\s+0 `).FindAllString(out, -1))
					if n != nMany {
						t.Errorf("ls many: %d entries, want %d", n, nMany)
					}
				})
			}
		})
	}
}

// TestSmbclientUserFromCLI runs the built smbserve binary with a users file made by
// "smbserve user add" (password on stdin) and logs on with that user; a wrong password is
// refused.
func TestSmbclientUserFromCLI(t *testing.T) {
	bin := needTool(t, "smbclient", "smbclient")
	users := filepath.Join(t.TempDir(), "users")
	if out, err := run(t, []byte("S3cret-pw\n"), smbserveBinary(t), "user", "add", "--file", users, "carol"); err != nil {
		t.Fatalf("smbserve user add: %v\n%s", err, out)
	}
	data := t.TempDir()
	port := startBinary(t, "--share", "data=passthrough:"+data, "--users", users)
	srv := &testServer{Host: "127.0.0.1", Port: port, DataDir: data}
	local, sum := randomFile(t, t.TempDir(), 3<<20+17, 7)
	back := filepath.Join(t.TempDir(), "back.bin")
	for _, mode := range smbclientModes {
		t.Run(mode.name, func(t *testing.T) {
			c := &smbclient{t: t, bin: bin, srv: srv, share: "data", auth: []string{"-U", "carol%S3cret-pw"}, mode: mode}
			c.do(fmt.Sprintf(`put "%s" f.bin; get f.bin "%s"; del f.bin`, local, back))
			if got := fileSHA256(t, back); got != sum {
				t.Errorf("sha256 %s, want %s", got, sum)
			}
		})
	}
	c := &smbclient{t: t, bin: bin, srv: srv, share: "data", auth: []string{"-U", "carol%wrong"}, mode: smbclientModes[1]}
	if out, _ := c.try("ls"); !strings.Contains(out, "NT_STATUS_LOGON_FAILURE") {
		t.Errorf("wrong password: want NT_STATUS_LOGON_FAILURE:\n%s", out)
	}
	// No guest: the binary was started without --guest.
	c.auth = []string{"-N"}
	if out, err := c.try("ls"); err == nil && !ntStatus.MatchString(out) {
		t.Errorf("guest logon accepted without --guest:\n%s", out)
	}
}
