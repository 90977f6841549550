package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

func TestCommands(t *testing.T) {
	dir := t.TempDir()
	lib := filepath.Join(dir, "lib")
	db := "sqlite:" + filepath.Join(dir, "index.db")
	run := func(args ...string) (string, string, error) {
		var out, errs strings.Builder
		err := app(&out, &errs).Run(context.Background(), append([]string{"mp3index"}, args...))
		return out.String(), errs.String(), err
	}
	out, _, err := run("demo", lib, "--tracks", "40", "--max-seconds", "30")
	if err != nil || !strings.Contains(out, "40 tracks") {
		t.Fatalf("demo: %q, %v", out, err)
	}
	out, errs, err := run("scan", lib, "--store", db)
	if err != nil || !strings.Contains(out, "40 files") || !strings.Contains(errs, "skipped") {
		t.Fatalf("scan: %q %q, %v", out, errs, err)
	}
	out, _, err = run("scan", "--store", db, lib, "-q")
	if err != nil || !strings.Contains(out, "0 added, 0 updated") {
		t.Fatalf("rescan: %q, %v", out, err)
	}
	for _, bad := range [][]string{{"scan", lib}, {"scan", lib, "--store", "mysql:x"}, {"scan", "--store", db}, {"demo", lib, "--tracks", "0"}} {
		if _, _, err := run(bad...); err == nil {
			t.Errorf("%q succeeded", bad)
		}
	}
}
