// Command smbgen turns the YAML wire specification under spec/ into Go code under protocol/.
//
//	go run ./gen/cmd/smbgen            # regenerate protocol/*/*_gen.go
//	go run ./gen/cmd/smbgen -check     # only validate the spec; print file:line for each problem
//
// Output is deterministic: the same spec gives the same bytes.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/smbvfs/smbvfs/gen/emit"
	"github.com/smbvfs/smbvfs/gen/spec"
)

func main() {
	specDir := flag.String("spec", "spec", "folder holding one sub-folder of YAML files per package")
	outDir := flag.String("out", "protocol", "folder receiving one sub-folder per package")
	module := flag.String("module", "github.com/smbvfs/smbvfs/protocol", "import path of the -out folder")
	check := flag.Bool("check", false, "validate the spec and exit")
	fuzzDir := flag.String("fuzz", "fuzz", "folder receiving the generated fuzz targets (empty: none)")
	fuzzPath := flag.String("fuzz-module", "github.com/smbvfs/smbvfs/fuzz", "import path of the -fuzz folder")
	flag.Parse()

	s, err := spec.Load(*specDir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if *check {
		n := 0
		for _, p := range s.Packages {
			n += len(p.Files)
		}
		fmt.Printf("spec ok: %d packages, %d files\n", len(s.Packages), n)
		return
	}
	files, err := emit.Generate(s, *module)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := emit.Write(*outDir, files); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	n := len(files)
	if *fuzzDir != "" {
		ff, err := emit.GenerateFuzz(s, *module, *fuzzPath)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if err := emit.Write(*fuzzDir, ff); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		n += len(ff)
	}
	fmt.Printf("wrote %d files\n", n)
}
