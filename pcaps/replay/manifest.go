package replay

import (
	"fmt"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Manifest is pcaps/manifest.yaml.
type Manifest struct {
	Captures []Capture `yaml:"captures"`
}

// Capture is one entry of the manifest.
type Capture struct {
	File        string        `yaml:"file"`
	ProducedBy  string        `yaml:"produced_by"`
	Server      string        `yaml:"server"`
	Dialect     string        `yaml:"dialect"`
	Signed      string        `yaml:"signed"`
	Encrypted   string        `yaml:"encrypted"`
	Keys        string        `yaml:"keys"`
	Size        int64         `yaml:"size"`
	Exercises   string        `yaml:"exercises"`
	Replay      bool          `yaml:"replay"`
	Differences []Explanation `yaml:"differences"`
}

// Explanation is a known difference of a replay: the command and the start of the field.
type Explanation struct {
	Command string `yaml:"command"`
	Field   string `yaml:"field"`
	Reason  string `yaml:"reason"`
}

// LoadManifest reads the manifest (the top-level "differences" map holds the anchors).
func LoadManifest(path string) (*Manifest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := yaml.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return &m, nil
}

// Explained returns the explanation of a difference, if the capture lists one.
func (c *Capture) Explained(d Diff) (Explanation, bool) {
	for _, e := range c.Differences {
		if e.Command == d.Command && strings.HasPrefix(d.Field, e.Field) {
			return e, true
		}
	}
	return Explanation{}, false
}
