//go:build linux

package interop

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/smbvfs/smbvfs/backends/queryfs"
	"github.com/smbvfs/smbvfs/backends/queryfs/index"
	"github.com/smbvfs/smbvfs/backends/queryfs/mp3"
	"github.com/smbvfs/smbvfs/backends/queryfs/store"
	"github.com/smbvfs/smbvfs/server"
)

// The end-to-end checks of the query backend (backends/queryfs) with smbclient, on
// both stores: a demo library of queryfsTracks tracks is generated and indexed with
// the indexer's Go API (what "mp3index demo" and "mp3index scan" run), then served
// in-process as the share "music" built the way "smbserve serve --share
// music=queryfs:SPEC" builds it (queryfs.Open(ctx, SPEC), writable so that query
// folders can be made), guest logons allowed.
//
// The CouchDB store runs on pouchdb-server, found like the queryfs tests find it
// ($SMBVFS_POUCHDB, else npx --offline): skipped without it, failed when CI=true.
// The file is Linux only: pouchdb-server dies with the test binary (Pdeathsig).

const (
	queryfsTracks     = 240
	queryfsClientTime = 30 * time.Second // every smbclient call
)

func TestQueryfs(t *testing.T) {
	bin := needTool(t, "smbclient", "smbclient")
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		queryfsE2E(t, bin, "sqlite:"+filepath.Join(t.TempDir(), "music.db"))
	})
	t.Run("couchdb", func(t *testing.T) {
		t.Parallel()
		url := startPouchDB(t)
		queryfsE2E(t, bin, "couchdb:"+url+"/music")
	})
}

// qclient runs smbclient against the share "music" as guest with SMB 3.1.1.
type qclient struct {
	t   *testing.T
	bin string
	srv *testServer
}

func (c *qclient) args() []string {
	return []string{"//" + c.srv.Host + "/music", "-p", fmt.Sprint(c.srv.Port), "-N", "-m", "SMB3_11"}
}

// try runs commands given with -c (split at ';' by smbclient).
func (c *qclient) try(cmds string) (string, error) {
	c.t.Helper()
	return runTimeout(c.t, queryfsClientTime, nil, c.bin, append(c.args(), "-c", cmds)...)
}

// stdin runs one command line read from standard input (not split at ';').
func (c *qclient) stdin(line string) (string, error) {
	c.t.Helper()
	return runTimeout(c.t, queryfsClientTime, []byte(line+"\n"), c.bin, c.args()...)
}

func (c *qclient) do(cmds string) string {
	c.t.Helper()
	start := time.Now()
	out, err := c.try(cmds)
	if err != nil || ntStatus.MatchString(out) {
		c.t.Fatalf("smbclient %q: %v\n%s", cmds, err, out)
	}
	c.t.Logf("smbclient %q: %v", cmds, time.Since(start).Round(time.Millisecond))
	return out
}

// lsEntry is one line of smbclient's ls.
type lsEntry struct {
	Name  string
	Attrs string
	Size  int64
}

var lsLine = regexp.MustCompile(`(?m)^  (.*?)\s+([DAHSRNV]*)\s+(\d+)\s+\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$`)

// parseLs returns the entries of an ls output, without . and ..
func parseLs(out string) []lsEntry {
	var ents []lsEntry
	for _, m := range lsLine.FindAllStringSubmatch(out, -1) {
		if m[1] == "." || m[1] == ".." {
			continue
		}
		var size int64
		fmt.Sscan(m[3], &size)
		ents = append(ents, lsEntry{Name: m[1], Attrs: m[2], Size: size})
	}
	return ents
}

func lsNames(ents []lsEntry) []string {
	var names []string
	for _, e := range ents {
		names = append(names, e.Name)
	}
	slices.Sort(names)
	return names
}

var plainName = regexp.MustCompile(`^[A-Za-z0-9 ]+$`)

func queryfsE2E(t *testing.T, bin, spec string) {
	ctx := context.Background()
	t0 := time.Now()
	lib := filepath.Join(t.TempDir(), "library")
	truth, err := index.DemoWith(lib, queryfsTracks, 7, 360)
	if err != nil {
		t.Fatal(err)
	}
	tDemo := time.Since(t0)
	st, err := store.Open(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	stats, err := index.Scan(ctx, st, lib, index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	all, err := st.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d demo files generated in %v; scan: %v; %d tracks in the store", spec, len(truth), tDemo.Round(time.Millisecond), stats, len(all))
	if len(all) < 200 {
		t.Fatalf("%d tracks indexed, want at least 200", len(all))
	}

	fsys, err := queryfs.Open(ctx, spec) // what smbserve --share music=queryfs:SPEC opens
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, func(o *server.Options) {
		o.Shares = []server.Share{{Name: "music", FS: fsys, Comment: "queryfs " + spec}}
	})
	t.Cleanup(func() { fsys.Close() }) // after the server's shutdown (cleanups run last first)
	c := &qclient{t: t, bin: bin, srv: srv}
	tServe := time.Now()

	// 1. Artists, one artist, one album, one track's bytes.
	artists := map[string]bool{}
	for _, tr := range all {
		artists[strings.ToLower(tr.Artist)] = true
	}
	root := parseLs(c.do(`ls Artists\`))
	if len(root) != len(artists) {
		t.Errorf(`ls Artists\: %d folders, want %d distinct artists`, len(root), len(artists))
	}
	for _, e := range root {
		if !strings.Contains(e.Attrs, "D") || !artists[strings.ToLower(e.Name)] {
			t.Errorf(`ls Artists\: unexpected entry %+v`, e)
		}
	}
	// A track with plain names, alone with its number and title in its album.
	var pick store.Track
	for _, tr := range all {
		if tr.Problem != "" || !plainName.MatchString(tr.Artist) || !plainName.MatchString(tr.Album) || !plainName.MatchString(tr.Title) {
			continue
		}
		same := 0
		for _, o := range all {
			if strings.EqualFold(o.Artist, tr.Artist) && strings.EqualFold(o.Album, tr.Album) && o.Track == tr.Track && strings.EqualFold(o.Title, tr.Title) {
				same++
			}
		}
		if same == 1 {
			pick = tr
			break
		}
	}
	if pick.Num == 0 {
		t.Fatal("no track with plain names in the library")
	}
	albums := parseLs(c.do(fmt.Sprintf(`cd "Artists\%s"; ls`, pick.Artist)))
	if !slices.ContainsFunc(albums, func(e lsEntry) bool { return e.Name == pick.Album && strings.Contains(e.Attrs, "D") }) {
		t.Errorf("artist %q: no album folder %q in %v", pick.Artist, pick.Album, lsNames(albums))
	}
	trackName := fmt.Sprintf("%02d - %s.mp3", pick.Track, pick.Title)
	files := parseLs(c.do(fmt.Sprintf(`cd "Artists\%s\%s"; ls`, pick.Artist, pick.Album)))
	i := slices.IndexFunc(files, func(e lsEntry) bool { return e.Name == trackName })
	if i < 0 {
		t.Fatalf("album %q: no %q in %v", pick.Album, trackName, lsNames(files))
	}
	if files[i].Size != pick.Size {
		t.Errorf("%s: size %d, want %d", trackName, files[i].Size, pick.Size)
	}
	back := filepath.Join(t.TempDir(), "back.mp3")
	c.do(fmt.Sprintf(`cd "Artists\%s\%s"; get "%s" "%s"`, pick.Artist, pick.Album, trackName, back))
	if got, want := fileSHA256(t, back), fileSHA256(t, pick.Path); got != want {
		t.Errorf("get %s: sha256 %s, the original %s", trackName, got, want)
	}

	// 2. Query folders.
	c.do(`mkdir "Tracknum key=4"`)
	var want4 []string
	for _, tr := range all {
		if tr.Track == 4 {
			want4 = append(want4, fmt.Sprintf("04 - %s - %s - %s.mp3", tr.Artist, tr.Album, tr.Title))
		}
	}
	libTrack4 := 0
	for _, d := range truth {
		if !d.Corrupt && d.Tags.Track == 4 {
			libTrack4++
		}
	}
	got4 := parseLs(c.do(`ls "Tracknum key=4\*"`))
	if len(got4) != len(want4) || len(want4) == 0 {
		t.Errorf("Tracknum key=4: %d entries, want %d (the store's tracks number 4; the library has %d)", len(got4), len(want4), libTrack4)
	}
	gotNames := map[string]bool{}
	for _, e := range got4 {
		// Duplicate names get " (2)"... before the extension.
		gotNames[strings.ToLower(regexp.MustCompile(` \(\d+\)\.mp3$`).ReplaceAllString(e.Name, ".mp3"))] = true
		if !strings.HasPrefix(e.Name, "04 - ") || strings.Contains(e.Attrs, "D") {
			t.Errorf("Tracknum key=4 lists %+v", e)
		}
	}
	for _, w := range want4 {
		if !gotNames[strings.ToLower(w)] {
			t.Errorf("Tracknum key=4: %q missing", w)
		}
	}
	t.Logf("Tracknum key=4: %d tracks (library truth: %d)", len(got4), libTrack4)

	const durQuery = "Duration startkey=200 endkey=300 limit=5"
	c.do(fmt.Sprintf(`mkdir "%s"`, durQuery))
	var inRange []int64
	for _, tr := range all {
		if d := (tr.DurationMS + 500) / 1000; d >= 200 && d <= 300 {
			inRange = append(inRange, d)
		}
	}
	slices.Sort(inRange)
	var secs []int64
	for _, e := range parseLs(c.do(fmt.Sprintf(`ls "%s\*"`, durQuery))) {
		var s int64
		if _, err := fmt.Sscanf(e.Name, "%d s - ", &s); err != nil || s < 200 || s > 300 {
			t.Errorf("%s lists %q", durQuery, e.Name)
		}
		secs = append(secs, s)
	}
	slices.Sort(secs)
	if wantSecs := inRange[:min(5, len(inRange))]; len(inRange) < 5 || !slices.Equal(secs, wantSecs) {
		t.Errorf("%s: durations %v, want %v (%d tracks in range)", durQuery, secs, wantSecs, len(inRange))
	}

	// Bad parameters: refused with STATUS_OBJECT_NAME_INVALID, nothing made.
	for _, bad := range []string{"Tracknum key=4; DROP TABLE tracks", "Tracknum limit=abc", "Tracknum key=1'%20OR%201=1--"} {
		out, err := c.stdin(fmt.Sprintf(`mkdir "%s"`, bad))
		if err != nil && !strings.Contains(out, "NT_STATUS") {
			t.Errorf("mkdir %q: %v\n%s", bad, err, out)
		}
		if !strings.Contains(out, "NT_STATUS_OBJECT_NAME_INVALID") {
			t.Errorf("mkdir %q: want NT_STATUS_OBJECT_NAME_INVALID:\n%s", bad, out)
		} else {
			t.Logf("mkdir %q: %s", bad, ntStatus.FindString(out))
		}
	}
	top := lsNames(parseLs(c.do(`ls`)))
	for _, n := range top {
		if strings.Contains(n, "DROP") || strings.Contains(n, "abc") || strings.Contains(n, "OR") {
			t.Errorf("a refused query folder exists: %q in %v", n, top)
		}
	}
	for _, n := range []string{"Artists", "Tracknum key=4", durQuery} {
		if !slices.Contains(top, n) {
			t.Errorf("ls: no %q in %v", n, top)
		}
	}
	if again := parseLs(c.do(`ls Artists\`)); len(again) != len(root) {
		t.Errorf(`ls Artists\ after the refusals: %d folders, want %d`, len(again), len(root))
	}

	// 3. A new file in the library, indexed while the server runs, shows up.
	newDir := filepath.Join(lib, "Live Newcomer", "Debut")
	newPath := filepath.Join(newDir, "01 Fresh Song.mp3")
	writeMP3(t, newPath, mp3.Tags{Title: "Fresh Song", Artist: "Live Newcomer", Album: "Debut", Genre: "Pop", Track: 1, Year: 2025}, 61*time.Second)
	rescan, err := index.Scan(ctx, st, lib, index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rescan.Added != 1 {
		t.Errorf("re-scan: %v, want 1 added", rescan)
	}
	tAdded := time.Now()
	const liveName = "01 - Fresh Song.mp3"
	var out string
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(250 * time.Millisecond) {
		out, _ = c.try(`ls "Artists\Live Newcomer\Debut\*"`)
		if slices.ContainsFunc(parseLs(out), func(e lsEntry) bool { return e.Name == liveName }) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the new track is not listed 15s after the scan:\n%s", out)
		}
	}
	tSeen := time.Since(tAdded)
	if !slices.ContainsFunc(parseLs(c.do(`ls Artists\`)), func(e lsEntry) bool { return e.Name == "Live Newcomer" }) {
		t.Errorf(`ls Artists\: no "Live Newcomer" after the scan`)
	}
	c.do(fmt.Sprintf(`cd "Artists\Live Newcomer\Debut"; get "%s" "%s"`, liveName, back))
	if got, want := fileSHA256(t, back), fileSHA256(t, newPath); got != want {
		t.Errorf("get the new track: sha256 %s, want %s", got, want)
	}
	t.Logf("%s: %d tracks; smbclient checks %v; new track listed %v after its scan", spec, len(all),
		time.Since(tServe).Round(time.Millisecond), tSeen.Round(time.Millisecond))
}

// writeMP3 writes an mp3 file of silence with an ID3v2.3 tag.
func writeMP3(t *testing.T, path string, tags mp3.Tags, d time.Duration) {
	t.Helper()
	var buf bytes.Buffer
	tag, err := mp3.ID3v2(tags, 3, 0)
	if err != nil {
		t.Fatal(err)
	}
	buf.Write(tag)
	if _, err := mp3.WriteSilence(&buf, mp3.Format{Version: 25, SampleRate: 8000, Mono: true, Bitrates: []int{8000}}, d); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// startPouchDB starts pouchdb-server in memory on a free loopback port, as
// backends/queryfs/internal/pouchtest does, and returns its URL; it is killed (with
// its process group) when the test ends, or by the kernel if the test binary dies.
func startPouchDB(t *testing.T) string {
	t.Helper()
	var argv []string
	if p := os.Getenv("SMBVFS_POUCHDB"); p != "" {
		argv = []string{p}
	} else if npx, err := exec.LookPath("npx"); err == nil {
		if _, err := runTimeout(t, 30*time.Second, nil, npx, "--offline", "--yes", "pouchdb-server", "--help"); err == nil {
			argv = []string{npx, "--offline", "--yes", "pouchdb-server"}
		}
	}
	if argv == nil {
		unavailable(t, "no pouchdb-server: set SMBVFS_POUCHDB to its path "+
			"(npm install --prefix /opt/pouchdb pouchdb-server; SMBVFS_POUCHDB=/opt/pouchdb/node_modules/.bin/pouchdb-server)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir := t.TempDir()
	cmd := exec.Command(argv[0], append(argv[1:], "--in-memory", "--host", "127.0.0.1", "--port", fmt.Sprint(port),
		"--no-stdout-logs", "--no-color", "--config", filepath.Join(dir, "config.json"))...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	})
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	client := &http.Client{Timeout: 2 * time.Second}
	for deadline := time.Now().Add(30 * time.Second); ; {
		if resp, err := client.Get(url + "/"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return url
			}
		}
		select {
		case <-exited:
			t.Fatalf("pouchdb-server exited: %.500s", out.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("pouchdb-server did not answer on %s within 30s", url)
		}
	}
}
