package server_test

// Interoperability tests: the server runs in-process on 127.0.0.1 with memfs shares and the
// real clients (smbclient, impacket, smbtorture) are run against it, each call bounded by a
// timeout. They are skipped when a client is not installed, and with -short.

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/smbvfs/smbvfs/backends/memfs"
	"github.com/smbvfs/smbvfs/server"
	"github.com/smbvfs/smbvfs/server/servertest"
)

const clientTimeout = 30 * time.Second

// interopServer starts a server with users alice/Secret123 and bob/Secret456, guest
// allowed, a writable memfs share "test" and an encrypted one "secret".
func interopServer(t *testing.T, mod func(*server.Options)) (host string, port int) {
	t.Helper()
	opts := server.Options{
		Shares: []server.Share{
			{Name: "test", FS: memfs.New(memfs.Options{})},
			{Name: "secret", FS: memfs.New(memfs.Options{}), Encrypt: true},
		},
		Users:     servertest.Users(t, "alice", "Secret123", "bob", "Secret456"),
		Guest:     true,
		Anonymous: true,
	}
	if mod != nil {
		mod(&opts)
	}
	return "127.0.0.1", servertest.Serve(t, opts)
}

func runClient(t *testing.T, name string, args ...string) (string, error) {
	t.Helper()
	return servertest.RunClient(t, clientTimeout, nil, name, args...)
}

func TestInteropSmbclient(t *testing.T) {
	smbclient := servertest.NeedClient(t, "smbclient", "smbclient")
	host, port := interopServer(t, nil)
	p := strconv.Itoa(port)
	user := []string{"-U", "alice%Secret123"}
	cases := []struct {
		name  string
		share string
		args  []string
	}{
		{"SMB2_02", "test", append([]string{"-m", "SMB2_02"}, user...)},
		{"SMB2_10", "test", append([]string{"-m", "SMB2_10"}, user...)},
		{"SMB3_00", "test", append([]string{"-m", "SMB3_00"}, user...)},
		{"SMB3_02", "test", append([]string{"-m", "SMB3_02"}, user...)},
		{"SMB3_11", "test", append([]string{"-m", "SMB3_11"}, user...)},
		{"guest SMB3_11", "test", []string{"-m", "SMB3_11", "-N"}},
		{"guest SMB2_02", "test", []string{"-m", "SMB2_02", "-N"}},
		{"signing SMB2_02", "test", append([]string{"-m", "SMB2_02", "--option=client signing=required"}, user...)},
		{"signing SMB2_10", "test", append([]string{"-m", "SMB2_10", "--option=client signing=required"}, user...)},
		{"signing SMB3_00", "test", append([]string{"-m", "SMB3_00", "--option=client signing=required"}, user...)},
		{"signing SMB3_11", "test", append([]string{"-m", "SMB3_11", "--option=client signing=required"}, user...)},
		{"encryption SMB3_00", "test", append([]string{"-m", "SMB3_00", "--option=client smb encrypt=required"}, user...)},
		{"encryption SMB3_02", "test", append([]string{"-m", "SMB3_02", "--option=client smb encrypt=required"}, user...)},
		{"encryption SMB3_11", "test", append([]string{"-m", "SMB3_11", "--option=client smb encrypt=required"}, user...)},
		{"encrypted share SMB3_11", "secret", append([]string{"-m", "SMB3_11"}, user...)},
		{"encrypted share SMB3_00", "secret", append([]string{"-m", "SMB3_00"}, user...)},
	}
	for _, alg := range []string{"AES-128-CCM", "AES-128-GCM", "AES-256-CCM", "AES-256-GCM"} {
		cases = append(cases, struct {
			name  string
			share string
			args  []string
		}{"encryption " + alg, "test", append([]string{"-m", "SMB3_11", "--option=client smb encrypt=required",
			"--option=client smb3 encryption algorithms=" + alg}, user...)})
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := fmt.Sprintf("dir%d", i)
			args := append([]string{"//" + host + "/" + tc.share, "-p", p, "-c", "mkdir " + dir + "; ls"}, tc.args...)
			out, err := runClient(t, smbclient, args...)
			if err != nil || !strings.Contains(out, "blocks of size") || !strings.Contains(out, dir) || strings.Contains(out, "NT_STATUS_") {
				t.Fatalf("smbclient %s: %v\n%s", strings.Join(args, " "), err, out)
			}
		})
	}
	t.Run("wrong password", func(t *testing.T) {
		out, err := runClient(t, smbclient, "//"+host+"/test", "-p", p, "-U", "alice%wrong", "-c", "ls")
		if err == nil || !strings.Contains(out, "NT_STATUS_LOGON_FAILURE") {
			t.Fatalf("wrong password: %v\n%s", err, out)
		}
	})
	t.Run("unknown share", func(t *testing.T) {
		out, err := runClient(t, smbclient, "//"+host+"/nosuch", "-p", p, "-U", "alice%Secret123", "-c", "ls")
		if err == nil || !strings.Contains(out, "NT_STATUS_BAD_NETWORK_NAME") {
			t.Fatalf("unknown share: %v\n%s", err, out)
		}
	})
	t.Run("SMB2_10 on encrypted share", func(t *testing.T) {
		out, err := runClient(t, smbclient, "//"+host+"/secret", "-p", p, "-m", "SMB2_10", "-U", "alice%Secret123", "-c", "ls")
		if err == nil || !strings.Contains(out, "NT_STATUS_ACCESS_DENIED") {
			t.Fatalf("2.1 on an encrypted share: %v\n%s", err, out)
		}
	})
}

func TestInteropSmbclientSigningRequired(t *testing.T) {
	smbclient := servertest.NeedClient(t, "smbclient", "smbclient")
	host, port := interopServer(t, func(o *server.Options) { o.Signing = server.Required; o.Guest = false; o.Anonymous = false })
	for _, m := range []string{"SMB2_02", "SMB2_10", "SMB3_00", "SMB3_11"} {
		out, err := runClient(t, smbclient, "//"+host+"/test", "-p", strconv.Itoa(port), "-m", m, "-U", "alice%Secret123", "-c", "ls")
		if err != nil || !strings.Contains(out, "blocks of size") {
			t.Errorf("%s with server signing required: %v\n%s", m, err, out)
		}
	}
}

func TestInteropSmbclientEncryptionRequired(t *testing.T) {
	smbclient := servertest.NeedClient(t, "smbclient", "smbclient")
	host, port := interopServer(t, func(o *server.Options) { o.Encryption = server.Required })
	for _, m := range []string{"SMB3_00", "SMB3_02", "SMB3_11"} {
		out, err := runClient(t, smbclient, "//"+host+"/test", "-p", strconv.Itoa(port), "-m", m, "-U", "alice%Secret123", "-c", "ls")
		if err != nil || !strings.Contains(out, "blocks of size") {
			t.Errorf("%s with server encryption required: %v\n%s", m, err, out)
		}
	}
	out, err := runClient(t, smbclient, "//"+host+"/test", "-p", strconv.Itoa(port), "-m", "SMB2_10", "-U", "alice%Secret123", "-c", "ls")
	if err == nil {
		t.Errorf("SMB2_10 with server encryption required succeeded:\n%s", out)
	}
}

const impacketScript = `
import sys
from impacket.smbconnection import SMBConnection
from impacket import smb3structs as s
host, port, d = sys.argv[1], int(sys.argv[2]), sys.argv[3]
dialect = {"2.0.2": s.SMB2_DIALECT_002, "2.1": s.SMB2_DIALECT_21, "3.0": s.SMB2_DIALECT_30}[d]
c = SMBConnection(host, host, sess_port=port, preferredDialect=dialect, timeout=20)
c.login("alice", "Secret123")
assert c.getDialect() == dialect, hex(c.getDialect())
c.createDirectory("test", "imp_" + d)
names = [f.get_longname() for f in c.listPath("test", "*")]
assert "imp_" + d in names, names
c.deleteDirectory("test", "imp_" + d)
c.logoff()
try:
    c = SMBConnection(host, host, sess_port=port, preferredDialect=dialect, timeout=20)
    c.login("alice", "wrong")
    print("WRONG PASSWORD ACCEPTED")
    sys.exit(1)
except Exception as e:
    assert "STATUS_LOGON_FAILURE" in str(e), str(e)
print("OK")
`

func TestInteropImpacket(t *testing.T) {
	python := servertest.NeedClient(t, "/usr/bin/python3", "python3-impacket")
	if out, err := runClient(t, python, "-c", "import impacket"); err != nil {
		t.Skipf("impacket not installed: %s", out)
	}
	host, port := interopServer(t, nil)
	for _, d := range []string{"2.0.2", "2.1", "3.0"} {
		t.Run(d, func(t *testing.T) {
			out, err := runClient(t, python, "-c", impacketScript, host, strconv.Itoa(port), d)
			if err != nil || !strings.Contains(out, "OK") {
				t.Fatalf("impacket %s: %v\n%s", d, err, out)
			}
		})
	}
}

// tortureTests is the smbtorture list of the connection engine. A test with a reason is
// known to fail (the reason says why); the test asserts that it still fails, so that the
// list stays true: when one starts passing, move it to the passing set.
var tortureTests = []struct {
	name       string
	knownFails string
}{
	{"smb2.connect", ""},
	{"smb2.tcon", ""},
	{"smb2.session-id", ""},
	{"smb2.credits.session_setup_credits_granted", ""},
	{"smb2.credits.single_req_credits_granted", ""},
	{"smb2.credits.skipped_mid", ""},
	{"smb2.session.reconnect1", ""},
	{"smb2.session.reconnect2", ""},
	{"smb2.session.reauth1", ""},
	{"smb2.session.reauth2", ""},
	{"smb2.session.reauth3", ""},
	{"smb2.session.reauth4", ""},
	{"smb2.session.reauth6", ""},
	{"smb2.session.two_logoff", ""},
	{"smb2.session.signing-hmac-sha-256", ""},
	{"smb2.session.signing-aes-128-cmac", ""},
	{"smb2.session.signing-aes-128-gmac", ""},
	{"smb2.session.encryption-aes-128-ccm", ""},
	{"smb2.session.encryption-aes-128-gcm", ""},
	{"smb2.session.encryption-aes-256-ccm", ""},
	{"smb2.session.encryption-aes-256-gcm", ""},
	{"smb2.session.ntlmssp_bug14932", ""},
	{"smb2.compound.related1", ""},
	{"smb2.compound.related2", ""},
	{"smb2.compound.related3", ""},
	{"smb2.compound.related4", ""},
	{"smb2.compound.related5", ""},
	{"smb2.compound.related6", ""},
	{"smb2.compound.related7", ""},
	{"smb2.compound.related8", ""},
	{"smb2.compound.related9", ""},
	{"smb2.compound.unrelated1", ""},
	{"smb2.compound.invalid1", ""},
	{"smb2.compound.invalid2", ""},
	{"smb2.compound.invalid3", ""},
	{"smb2.compound.invalid4", ""},
	{"smb2.compound.interim1", ""},
	{"smb2.compound.compound-padding", ""},
	{"smb2.compound.create-write-close", ""},
	{"smb2.compound_async.flush_close", ""},
	{"smb2.compound_async.flush_flush", ""},
}

func TestInteropSmbtorture(t *testing.T) {
	torture := servertest.NeedClient(t, "smbtorture", "samba-testsuite")
	host, port := interopServer(t, nil)
	for _, tc := range tortureTests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runClient(t, torture, "//"+host+"/test", "-p", strconv.Itoa(port), "-U", "alice%Secret123",
				"--option=torture:user2name=bob", "--option=torture:user2password=Secret456",
				"--option=torture:progress=no", tc.name)
			passed := err == nil && strings.Contains(out, "success: ") && !strings.Contains(out, "failure: ") && !strings.Contains(out, "error: ")
			switch {
			case tc.knownFails == "" && !passed:
				t.Fatalf("%s failed: %v\n%s", tc.name, err, out)
			case tc.knownFails != "" && passed:
				t.Fatalf("%s passes now although listed as failing (%s): update tortureTests", tc.name, tc.knownFails)
			case tc.knownFails != "":
				t.Logf("%s fails as known: %s", tc.name, tc.knownFails)
			}
		})
	}
}
