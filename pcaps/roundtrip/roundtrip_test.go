package roundtrip

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// captureDirs are the folders whose captures the test reads: our own pcaps/, the public
// corpus in ../shared/pcaps beside the repository, and every folder in $SMBVFS_PCAPS.
func captureDirs() []string {
	dirs := []string{"..", filepath.Join("..", "..", "..", "shared", "pcaps")}
	if env := os.Getenv("SMBVFS_PCAPS"); env != "" {
		dirs = append(dirs, filepath.SplitList(env)...)
	}
	return dirs
}

func captureFiles(t *testing.T) []string {
	var files []string
	for _, d := range captureDirs() {
		entries, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		for _, e := range entries {
			switch strings.ToLower(filepath.Ext(e.Name())) {
			case ".pcap", ".pcapng", ".cap":
				files = append(files, filepath.Join(d, e.Name()))
			}
		}
	}
	sort.Strings(files)
	return files
}

// TestRoundTrip decodes and re-encodes every SMB2 message of every capture. Messages that
// are malformed on the wire and bytes the capture lost are listed in pcaps/expected.tsv with
// the reason: each must happen exactly as listed, and anything else fails the test.
func TestRoundTrip(t *testing.T) {
	files := captureFiles(t)
	if len(files) == 0 {
		t.Fatalf("no captures found in %v: the public corpus is expected in ../shared/pcaps beside the repository", captureDirs())
	}
	expected, err := LoadExpectations(filepath.Join("..", "expected.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	var c Checker
	seenFail := map[string]bool{}
	seenProb := map[string]bool{}
	var total Result
	for _, f := range files {
		r, err := c.File(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		t.Logf("%-75s smb2 %5d  lists %4d  payloads %4d  transform %5d  compression %d  smb1-negotiate %d  smb1-other %d  problems %d  failures %d",
			r.Capture, r.SMB2, r.Lists, r.Payloads, r.Transform, r.Compression, r.SMB1Negotiate, r.SMB1Other, len(r.Problems), len(r.Failures))
		total.SMB2 += r.SMB2
		total.Transform += r.Transform
		total.Lists += r.Lists
		total.Payloads += r.Payloads
		for _, fl := range r.Failures {
			if _, ok := Explained(expected, fl); !ok {
				t.Errorf("unexpected failure (or one that no longer matches pcaps/expected.tsv): %v", fl)
			}
			seenFail[fl.Key()] = true
		}
		for _, p := range r.Problems {
			key := fmt.Sprintf("%s#%d#%s", p.Capture, p.Frame, p.Kind)
			if e, ok := expected[key]; !ok || e.Kind != "problem" {
				t.Errorf("unexpected capture problem: %v", p)
			}
			seenProb[key] = true
		}
	}
	for key, e := range expected {
		seen := seenFail[key]
		if e.Kind == "problem" {
			seen = seenProb[key]
		}
		if !seen && captureFound(files, key) {
			t.Errorf("expected %s %s (%s) did not happen: remove it from pcaps/expected.tsv", e.Kind, key, e.Reason)
		}
	}
	t.Logf("total: %d SMB2 messages, %d lists, %d payloads, %d transform headers round-tripped", total.SMB2, total.Lists, total.Payloads, total.Transform)
	if total.SMB2 == 0 {
		t.Fatal("no SMB2 message checked")
	}
}

func captureFound(files []string, key string) bool {
	name := key[:strings.IndexByte(key, '#')]
	for _, f := range files {
		if filepath.Base(f) == name {
			return true
		}
	}
	return false
}
