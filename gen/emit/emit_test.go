package emit

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smbvfs/smbvfs/gen/spec"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestGolden generates code for a small spec and compares it with the committed golden output.
func TestGolden(t *testing.T) {
	s, err := spec.Load("testdata/spec")
	if err != nil {
		t.Fatal(err)
	}
	files, err := Generate(s, "example.com/out")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 {
		t.Fatalf("want 2 files, got %d", len(files))
	}
	for _, f := range files {
		golden := filepath.Join("testdata", "golden", strings.ReplaceAll(f.Path, "/", "_")+".golden")
		if *update {
			if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, f.Data, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test ./gen/emit -update)", err)
		}
		if !bytes.Equal(want, f.Data) {
			t.Errorf("%s differs from %s (run go test ./gen/emit -update and review the diff)", f.Path, golden)
		}
		if !IsGenerated(f.Data) {
			t.Errorf("%s lacks the generated-code marker", f.Path)
		}
	}
}

// TestDeterministic generates twice and compares.
func TestDeterministic(t *testing.T) {
	var outs [2][]File
	for i := range outs {
		s, err := spec.Load("testdata/spec")
		if err != nil {
			t.Fatal(err)
		}
		outs[i], err = Generate(s, "example.com/out")
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := range outs[0] {
		if !bytes.Equal(outs[0][i].Data, outs[1][i].Data) {
			t.Fatalf("%s differs between two runs", outs[0][i].Path)
		}
	}
}
