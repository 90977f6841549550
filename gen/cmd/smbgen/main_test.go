package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smbvfs/smbvfs/gen/emit"
	"github.com/smbvfs/smbvfs/gen/spec"
)

const module = "github.com/smbvfs/smbvfs/protocol"

// stale returns the generated files that differ from what is committed under protocol/.
func stale(t *testing.T, specDir string) []string {
	t.Helper()
	s, err := spec.Load(specDir)
	if err != nil {
		t.Fatal(err)
	}
	files, err := emit.Generate(s, module)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		have, err := os.ReadFile(filepath.Join("..", "..", "..", "protocol", filepath.FromSlash(f.Path)))
		if err != nil || !bytes.Equal(have, f.Data) {
			out = append(out, f.Path)
		}
	}
	return out
}

// TestCommittedCodeIsFresh is the in-test twin of `make check-generate`.
func TestCommittedCodeIsFresh(t *testing.T) {
	if s := stale(t, filepath.Join("..", "..", "..", "spec")); len(s) > 0 {
		t.Fatalf("generated code is stale (run make generate): %v", s)
	}
}

// TestEditWithoutRegenerateIsCaught edits one field of one YAML file, as a developer who
// forgets `make generate` would, and checks that the generated code no longer matches.
func TestEditWithoutRegenerateIsCaught(t *testing.T) {
	src := filepath.Join("..", "..", "..", "spec")
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if rel == filepath.Join("smb2", "header.yaml") {
			// one field of one file: CreditCharge becomes CreditCost
			edited := strings.Replace(string(data), "{name: CreditCharge,", "{name: CreditCost,", 1)
			if edited == string(data) {
				t.Fatal("header.yaml no longer has the field this test edits")
			}
			data = []byte(edited)
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	s := stale(t, dst)
	if len(s) == 0 {
		t.Fatal("an edited spec produced the committed code: staleness would go unnoticed")
	}
	t.Logf("the edit changes %v", s)
}
