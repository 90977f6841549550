// Package emit writes Go code for a resolved spec with github.com/dave/jennifer.
package emit

import (
	"github.com/smbvfs/smbvfs/gen/spec"
)

// File is one generated file, by path relative to the output folder.
type File struct {
	Path string
	Data []byte
}

// Generate returns every generated file of the spec.
func Generate(s *spec.Spec, module string) ([]File, error) { return nil, nil }

// Write writes files below dir.
func Write(dir string, files []File) error { return nil }
