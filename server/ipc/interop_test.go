package ipc_test

// End-to-end tests: the server runs in-process on 127.0.0.1:0 with memfs shares, and
// smbclient -L, rpcclient and impacket list the shares and read share and server
// information over the srvsvc and wkssvc pipes of IPC$. Skipped with -short or when a
// client is not installed.

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/smbvfs/smbvfs/backends/memfs"
	"github.com/smbvfs/smbvfs/server"
	"github.com/smbvfs/smbvfs/server/servertest"
)

const clientTimeout = 60 * time.Second

// The configured shares and what the clients must list for them.
var shares = []struct{ name, comment, kind string }{
	{"public", "Public files", "Disk"},
	{"docs", "Documents of the team", "Disk"},
	{"hidden$", "Hidden share", "Disk"},
	{"IPC$", "Remote IPC", "IPC"},
}

func startServer(t *testing.T, mod func(*server.Options)) int {
	t.Helper()
	opts := server.Options{Users: servertest.Users(t, "alice", "Secret123"), Guest: true, Anonymous: true, ServerName: "IPCTEST"}
	for _, s := range shares {
		if s.name != "IPC$" {
			opts.Shares = append(opts.Shares, server.Share{Name: s.name, Comment: s.comment, FS: memfs.New(memfs.Options{})})
		}
	}
	if mod != nil {
		mod(&opts)
	}
	return servertest.Serve(t, opts)
}

func run(t *testing.T, name string, args ...string) (string, error) {
	t.Helper()
	return servertest.RunClient(t, clientTimeout, nil, name, args...)
}

func TestSmbclientList(t *testing.T) {
	smbclient := servertest.NeedClient(t, "smbclient", "smbclient")
	port := startServer(t, func(o *server.Options) { o.MapUnknownToGuest = true })
	for _, dialect := range []string{"SMB2_10", "SMB3_11"} {
		for _, who := range []struct {
			name string
			args []string
		}{{"user", []string{"-U", "alice%Secret123"}}, {"anonymous", []string{"-N"}}, {"guest", []string{"-U", "guest%"}}} {
			t.Run(dialect+" "+who.name, func(t *testing.T) {
				args := append([]string{"-L", "//127.0.0.1", "-p", strconv.Itoa(port), "-m", dialect}, who.args...)
				out, err := run(t, smbclient, args...)
				if err != nil {
					t.Fatalf("smbclient -L: %v\n%s", err, out)
				}
				for _, s := range shares {
					re := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(s.name) + `\s+` + s.kind + `\s+` + regexp.QuoteMeta(s.comment) + `\s*$`)
					if !re.MatchString(out) {
						t.Errorf("share %s (%s, %q) not listed:\n%s", s.name, s.kind, s.comment, out)
					}
				}
			})
		}
	}
}

func TestRpcclient(t *testing.T) {
	rpcclient := servertest.NeedClient(t, "rpcclient", "samba-common-bin")
	port := startServer(t, func(o *server.Options) { o.MapUnknownToGuest = true })
	for _, who := range []struct {
		name string
		args []string
	}{
		{"user", []string{"-U", "alice%Secret123"}},
		{"anonymous", []string{"-N", "-U", ""}},
		// A guest session has no signing key: rpcclient requires IPC signing unless told.
		{"guest", []string{"-U", "guest%", "--option=client ipc signing=off"}},
	} {
		t.Run(who.name, func(t *testing.T) {
			rpc := func(cmd string) string {
				t.Helper()
				args := append([]string{"-p", strconv.Itoa(port)}, who.args...)
				args = append(args, "127.0.0.1", "-c", cmd)
				out, err := run(t, rpcclient, args...)
				if err != nil || strings.Contains(out, "result was") || strings.Contains(out, "NT_STATUS") {
					t.Fatalf("rpcclient %s: %v\n%s", cmd, err, out)
				}
				return out
			}
			out := rpc("netshareenumall")
			for _, s := range shares {
				if !strings.Contains(out, "netname: "+s.name+"\n\tremark:\t"+s.comment+"\n") {
					t.Errorf("netshareenumall: %s missing:\n%s", s.name, out)
				}
			}
			for _, s := range shares {
				out = rpc("netsharegetinfo " + s.name)
				typ := "0x0"
				if s.name == "IPC$" {
					typ = "0x80000003"
				} else if strings.HasSuffix(s.name, "$") {
					typ = "0x80000000"
				}
				if !strings.Contains(out, "netname: "+s.name+"\n\tremark:\t"+s.comment+"\n") || !strings.Contains(out, "type:\t"+typ+"\n") {
					t.Errorf("netsharegetinfo %s:\n%s", s.name, out)
				}
			}
			for _, level := range []string{"0", "1", "2", "501", "1005"} {
				rpc("netsharegetinfo public " + level)
			}
			out = rpc("srvinfo")
			if !strings.Contains(out, "IPCTEST") || !strings.Contains(out, "platform_id     :\t500") {
				t.Errorf("srvinfo:\n%s", out)
			}
			out = rpc("wkssvc_wkstagetinfo")
			_ = out
		})
	}
}

func TestImpacket(t *testing.T) {
	python := servertest.NeedClient(t, "/usr/bin/python3", "python3-impacket")
	if out, err := run(t, python, "-c", "import impacket"); err != nil {
		t.Skipf("impacket not installed: %s", out)
	}
	port := startServer(t, nil)
	for _, dialect := range []string{"2.0.2", "2.1", "3.0"} {
		for _, who := range [][2]string{{"alice", "Secret123"}, {"", ""}} {
			t.Run(dialect+" "+who[0], func(t *testing.T) {
				out, err := run(t, python, "testdata/impacket_srvsvc.py", strconv.Itoa(port), dialect, who[0], who[1], "docs")
				if err != nil {
					t.Fatalf("impacket: %v\n%s", err, out)
				}
				want := []string{
					"share public 0x0 Public files\n",
					"share docs 0x0 Documents of the team\n",
					"share hidden$ 0x80000000 Hidden share\n",
					"share IPC$ 0x80000003 Remote IPC\n",
					"getinfo2 docs 0x0 Documents of the team\n",
					"getinfo1 docs 0x0 Documents of the team\n",
					"server101 IPCTEST 500 10.0 0x9003 \n",
					"server100 IPCTEST 500\n",
					"enum2 4\n",
					"wksta100 IPCTEST IPCTEST 10.0\n",
				}
				for _, w := range want {
					if !strings.Contains(out, w) {
						t.Errorf("missing %q in:\n%s", w, out)
					}
				}
			})
		}
	}
}
