package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	gosmb2 "github.com/cloudsoda/go-smb2"

	"github.com/smbvfs/smbvfs/protocol/ntlm"
	"github.com/smbvfs/smbvfs/server"
)

func writeFile(t *testing.T, dir, name, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func usersFile(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "users")
	u := server.NewUsers()
	u.SetPassword("alice", "Secret123")
	if err := u.Save(p); err != nil {
		t.Fatal(err)
	}
	return p
}

// Every documented key is read and shows in the effective configuration.
func TestConfigEveryKey(t *testing.T) {
	dir := t.TempDir()
	users := usersFile(t, dir)
	data := filepath.Join(dir, "data")
	os.Mkdir(data, 0o755)
	cfg := fmt.Sprintf(`# every key
listen: ["127.0.0.1:31445", "[::1]:31445"]
name: FILER
domain: EXAMPLE
state_file: %[1]s/state
min_dialect: "2.1"
max_dialect: "3.1.1"
signing: required
encryption: disabled
guest: true
map_to_guest: true
anonymous: false
users_file: %[2]s
idle_timeout: 90s
log_level: debug
log_format: json
metrics: 127.0.0.1:31446
pprof: true
keylog: %[1]s/keys
shares:
  - name: data
    comment: Team data
    backend: passthrough:%[3]s
    read_only: true
    guest: false
    encrypt: true
    allow: [alice, bob]
    deny: [mallory]
  - name: scratch
    backend: memfs
`, dir, users, data)
	f := writeFile(t, dir, "smbserve.yaml", cfg, 0o644)
	out, err := runApp(t, "", "check-config", "--config", f)
	if err != nil {
		t.Fatalf("check-config: %v\n%s", err, out)
	}
	for _, want := range []string{
		"- 127.0.0.1:31445", "- '[::1]:31445'", "name: FILER", "domain: EXAMPLE", "state_file: " + dir + "/state",
		`min_dialect: "2.1"`, "max_dialect: 3.1.1", "signing: required", "encryption: disabled", "guest: true",
		"map_to_guest: true", "anonymous: false", "users_file: " + users, "idle_timeout: 1m30s", "log_level: debug",
		"log_format: json", "metrics: 127.0.0.1:31446", "pprof: true", "keylog: " + dir + "/keys",
		"name: data", "comment: Team data", "backend: passthrough:" + data, "read_only: true", "guest: false",
		"encrypt: true", "- alice", "- bob", "- mallory", "name: scratch", "backend: memfs",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("effective configuration lacks %q:\n%s", want, out)
		}
	}
	// Flags override the file and --share adds a share.
	out, err = runApp(t, "", "check-config", "--config", f, "--signing", "enabled", "--name", "OTHER", "--share", "x=hello")
	if err != nil || !strings.Contains(out, "signing: enabled") || !strings.Contains(out, "name: OTHER") || !strings.Contains(out, "name: x") {
		t.Errorf("flags: %v\n%s", err, out)
	}
	// The state file keeps the GUID.
	g1, err := serverGUID(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	g2, err := serverGUID(filepath.Join(dir, "state"))
	if err != nil || g1 != g2 {
		t.Errorf("GUID not kept: %v %v %v", g1, g2, err)
	}
}

// Every error names the file and line and fails the command.
func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	users := usersFile(t, dir)
	open := writeFile(t, dir, "open-users", "alice:00000000000000000000000000000000\n", 0o644)
	notDir := writeFile(t, dir, "plain", "x", 0o644)
	head := "guest: true\nshares:\n  - name: a\n    backend: memfs\n"
	for _, tc := range []struct{ name, cfg, want string }{
		{"unknown key", "guest: true\nsigningg: required\n", `:2: unknown key "signingg"`},
		{"unknown share key", head + "    readonly: true\n", `:5: unknown key "readonly"`},
		{"bad bool", "guest: maybe\n", `:1: guest: bad value "maybe": want true or false`},
		{"bad duration", head + "idle_timeout: soon\n", `:5: idle_timeout: bad duration "soon"`},
		{"bad signing", head + "signing: sometimes\n", `:5: signing: unknown policy "sometimes"`},
		{"signing disabled", head + "signing: disabled\n", `:5: signing: SMB2 signing can not be disabled`},
		{"bad encryption", head + "encryption: maybe\n", `:5: encryption: unknown policy`},
		{"bad dialect", head + "max_dialect: \"1.0\"\n", `:5: max_dialect: unknown dialect "1.0"`},
		{"bad min dialect", head + "min_dialect: 4\n", `:5: min_dialect: unknown dialect "4"`},
		{"bad log level", head + "log_level: loud\n", `:5: log_level: unknown level "loud"`},
		{"bad log format", head + "log_format: xml\n", `:5: log_format: "xml" is not text or json`},
		{"bad listen", head + "listen: [\"nowhere\"]\n", `:5: listen: "nowhere"`},
		{"bad metrics", head + "metrics: 9445\n", `:5: metrics: "9445"`},
		{"listen not a list", head + "listen: {a: b}\n", `:5: listen: bad value`},
		{"shares not a list", "guest: true\nshares: test\n", `:2: shares: want a list`},
		{"share not a mapping", "guest: true\nshares:\n  - test\n", `:3: want a mapping`},
		{"share without name", "guest: true\nshares:\n  - backend: memfs\n", `:3: share without a name`},
		{"duplicate share", head + "  - name: A\n    backend: memfs\n", `:5: share "A" is already defined at line 3`},
		{"reserved share", "guest: true\nshares:\n  - name: ipc$\n    backend: memfs\n", `:3: share name "ipc$" is not allowed`},
		{"no backend", "guest: true\nshares:\n  - name: a\n", `:3: share a: backend: missing`},
		{"unknown backend", "guest: true\nshares:\n  - name: a\n    backend: ftp:x\n", `:4: share a: backend: unknown backend "ftp"`},
		{"passthrough without dir", "guest: true\nshares:\n  - name: a\n    backend: passthrough\n", `:4: share a: backend: passthrough needs a directory`},
		{"missing share dir", "guest: true\nshares:\n  - name: a\n    backend: passthrough:" + dir + "/nosuch\n", `:4: share a: stat ` + dir + `/nosuch: no such file or directory`},
		{"share path not a dir", "guest: true\nshares:\n  - name: a\n    backend: passthrough:" + notDir + "\n", `:4: share a: ` + notDir + ` is not a directory`},
		{"missing users file", head + "users_file: " + dir + "/nosuch\n", `:5: users_file: ` + dir + `/nosuch does not exist (create it with: smbserve user add`},
		{"insecure users file", head + "users_file: " + open + "\n", `:5: users_file: ` + open + `: users file is readable or writable by others`},
		{"bad user in allow", head + "    allow: [\"a:b\"]\n", `:5: share a: bad user name "a:b"`},
		{"yaml syntax", "guest: [\n", `yaml`},
		{"nobody can log on", "shares:\n  - name: a\n    backend: memfs\n", `nobody can log on`},
		{"no share", "guest: true\n", `no share`},
		{"state dir missing", head + "state_file: " + dir + "/nosuch/state\n", `:5: state_file: stat ` + dir + `/nosuch`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := writeFile(t, t.TempDir(), "smbserve.yaml", tc.cfg, 0o644)
			out, err := runApp(t, "", "check-config", "--config", f)
			if err == nil {
				t.Fatalf("accepted:\n%s", out)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, f) {
				t.Errorf("message does not start with the file name: %v", msg)
			}
			if !strings.Contains(msg, tc.want) {
				t.Errorf("message %q lacks %q", msg, tc.want)
			}
		})
	}
	_ = users
	// serve refuses the same configurations.
	f := writeFile(t, dir, "bad.yaml", "guest: true\nfoo: 1\n", 0o644)
	if _, err := runApp(t, "", "serve", "--config", f); err == nil || !strings.Contains(err.Error(), f+`:2: unknown key "foo"`) {
		t.Errorf("serve: %v", err)
	}
	if _, err := runApp(t, "", "check-config", "--config", dir+"/nosuch.yaml"); err == nil {
		t.Error("missing configuration file accepted")
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startServe runs 'smbserve serve' in-process and returns the instance it built.
func startServe(t *testing.T, args ...string) (*instance, *syncBuffer) {
	t.Helper()
	got := make(chan *instance, 1)
	testHookServe = func(in *instance) { got <- in }
	t.Cleanup(func() { testHookServe = nil })
	var out syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- app(strings.NewReader(""), &out, &out).Run(ctx, append([]string{"smbserve", "serve"}, args...))
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("serve did not stop")
		}
	})
	select {
	case in := <-got:
		for i := 0; i < 100 && !strings.Contains(out.String(), "listening on"); i++ {
			time.Sleep(20 * time.Millisecond)
		}
		return in, &out
	case err := <-done:
		t.Fatalf("serve: %v\n%s", err, out.String())
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}
	return nil, nil
}

func smbclientRun(t *testing.T, args ...string) string {
	t.Helper()
	smbclient, err := exec.LookPath("smbclient")
	if err != nil || testing.Short() {
		t.Skip("smbclient not installed (or -short)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, smbclient, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("smbclient %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// After scripted smbclient traffic, /metrics shows the connections, sessions, requests by
// command and status, bytes, latency histograms.
func TestMetrics(t *testing.T) {
	if _, err := exec.LookPath("smbclient"); err != nil || testing.Short() {
		t.Skip("smbclient not installed (or -short)")
	}
	dir := t.TempDir()
	addr, maddr := freeAddr(t), freeAddr(t)
	_, logs := startServe(t, "--listen", addr, "--share", "test=memfs", "--users", usersFile(t, dir),
		"--metrics", maddr, "--pprof", "--log-format", "json")
	port := addr[strings.LastIndexByte(addr, ':')+1:]
	payload := writeFile(t, dir, "payload", strings.Repeat("x", 100000), 0o644)
	smbclientRun(t, "//127.0.0.1/test", "-p", port, "-U", "alice%Secret123", "-c",
		"put "+payload+" p.bin; get p.bin "+filepath.Join(dir, "back")+"; get nosuch.bin "+filepath.Join(dir, "x")+"; ls")
	resp, err := http.Get("http://" + maddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := string(body)
	for _, re := range []string{
		`(?m)^smbvfs_connections_total [1-9]`,
		`(?m)^smbvfs_sessions_total [1-9]`,
		`(?m)^smbvfs_written_bytes_total 100000$`,
		`(?m)^smbvfs_read_bytes_total 100000$`,
		`(?m)^smbvfs_open_files 0$`,
		`(?m)^smbvfs_requests_total\{command="write",status="STATUS_SUCCESS"\} [1-9]`,
		`(?m)^smbvfs_requests_total\{command="read",status="STATUS_SUCCESS"\} [1-9]`,
		`(?m)^smbvfs_requests_total\{command="create",status="STATUS_OBJECT_NAME_NOT_FOUND"\} [1-9]`,
		`(?m)^smbvfs_requests_total\{command="session_setup",status="STATUS_MORE_PROCESSING_REQUIRED"\} 1$`,
		`(?m)^smbvfs_request_duration_seconds_count\{command="create"\} [1-9]`,
		`(?m)^smbvfs_request_duration_seconds_bucket\{command="write",le="\+Inf"\} [1-9]`,
		`(?m)^smbvfs_signing_failures_total 0$`,
		`(?m)^smbvfs_backend_errors_total 0$`,
	} {
		if !regexp.MustCompile(re).MatchString(m) {
			t.Errorf("metrics lack %s", re)
		}
	}
	if t.Failed() {
		t.Logf("metrics:\n%s", m)
	}
	resp, err = http.Get("http://" + maddr + "/debug/pprof/")
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("pprof: %v %v", err, resp)
	} else {
		resp.Body.Close()
	}
	for _, want := range []string{`"msg":"connection"`, `"msg":"session"`, `"user":"alice"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %s:\n%s", want, logs.String())
		}
	}
	if strings.Contains(logs.String(), "Secret123") {
		t.Error("the password is in the logs")
	}
}

// A reload adds a share that a new connection sees, while a file open on an existing
// connection (on a share the reload removes) stays readable; users are reloaded too.
func TestReload(t *testing.T) {
	dir := t.TempDir()
	users := usersFile(t, dir)
	old := filepath.Join(dir, "old")
	os.Mkdir(old, 0o755)
	writeFile(t, old, "keep.txt", "still readable", 0o644)
	cfgFile := filepath.Join(dir, "smbserve.yaml")
	writeCfg := func(shares string) {
		writeFile(t, dir, "smbserve.yaml", "users_file: "+users+"\nshares:\n"+shares, 0o644)
	}
	writeCfg("  - name: old\n    backend: passthrough:" + old + "\n")
	addr := freeAddr(t)
	in, logs := startServe(t, "--config", cfgFile, "--listen", addr)

	dialFS := func(user, password, share string) (*gosmb2.Share, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		d := &gosmb2.Dialer{Initiator: &gosmb2.NTLMInitiator{User: user, Password: password}}
		var nd net.Dialer
		conn, err := nd.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		sess, err := d.DialConn(ctx, conn, addr)
		if err != nil {
			conn.Close()
			return nil, err
		}
		t.Cleanup(func() { sess.Logoff() })
		fsys, err := sess.Mount(share)
		if err != nil {
			return nil, err
		}
		t.Cleanup(func() { fsys.Umount() })
		return fsys, nil
	}
	fsys, err := dialFS("alice", "Secret123", "old")
	if err != nil {
		t.Fatal(err)
	}
	f, err := fsys.Open("keep.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	// A broken configuration is refused and the running one stays.
	writeFile(t, dir, "smbserve.yaml", "users_file: "+users+"\nshares:\n  - name: x\n    backend: nosuch\n", 0o644)
	if err := in.reload(context.Background()); err == nil || !strings.Contains(err.Error(), cfgFile+":4:") {
		t.Errorf("bad reload: %v", err)
	}

	u, _ := server.LoadUsers(users)
	u.SetPassword("bob", "Secret456")
	u.Save(users)
	writeCfg("  - name: new\n    backend: memfs\n")
	if err := in.reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "configuration reloaded") {
		t.Errorf("reload not logged:\n%s", logs.String())
	}
	b := make([]byte, 100)
	n, err := f.ReadAt(b, 0)
	if string(b[:n]) != "still readable" {
		t.Errorf("open file after reload: %q %v", b[:n], err)
	}
	if _, err := dialFS("bob", "Secret456", "new"); err != nil {
		t.Errorf("new user on the new share: %v", err)
	}
	if _, err := dialFS("alice", "Secret123", "old"); err == nil {
		t.Error("the removed share is still served")
	}
}

// The example configuration of dist/ parses (its directories need not exist here).
func TestExampleConfig(t *testing.T) {
	c, err := LoadConfig("../../dist/smbserve.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Shares) != 3 || c.Signing != "required" || c.UsersFile != "/etc/smbserve/users" {
		t.Errorf("%+v", c)
	}
}

func TestPasswdVersionHelp(t *testing.T) {
	f := filepath.Join(t.TempDir(), "users")
	if _, err := runApp(t, "one\n", "user", "add", "--file", f, "alice"); err != nil {
		t.Fatal(err)
	}
	if out, err := runApp(t, "two\n", "user", "passwd", "--file", f, "ALICE"); err != nil {
		t.Fatalf("passwd: %v %s", err, out)
	}
	u, _ := server.LoadUsers(f)
	if h, _ := u.NTHash("alice", ""); h != ntlm.NTHash("two") {
		t.Error("password not changed")
	}
	if _, err := runApp(t, "x\n", "user", "passwd", "--file", f, "nobody"); err == nil || !strings.Contains(err.Error(), "no user") {
		t.Errorf("passwd of a missing user: %v", err)
	}
	if out, err := runApp(t, "", "version"); err != nil || !strings.HasPrefix(out, "smbserve ") {
		t.Errorf("version: %q %v", out, err)
	}
	for _, args := range [][]string{{"--help"}, {"serve", "--help"}, {"check-config", "--help"}, {"user", "--help"}, {"user", "add", "--help"}} {
		out, err := runApp(t, "", args...)
		if err != nil || !strings.Contains(out, "USAGE") {
			t.Errorf("%v: %v\n%s", args, err, out)
		}
	}
	if _, err := runApp(t, "", "bogus"); err == nil {
		t.Error("unknown command accepted")
	}
}
