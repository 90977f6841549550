package fuzz

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/smbvfs/smbvfs/pcaps/capture"
	"github.com/smbvfs/smbvfs/protocol/smb2"
)

// maxSeeds bounds the seeds a target takes from the captures.
const maxSeeds = 64

var (
	seedOnce sync.Once
	seeds    map[string][][]byte // by "pkg.Struct"; "frame" for whole payloads
)

func captureFiles() []string {
	dirs := []string{filepath.Join("..", "pcaps"), filepath.Join("..", "..", "shared", "pcaps")}
	if env := os.Getenv("SMBVFS_PCAPS"); env != "" {
		dirs = append(dirs, filepath.SplitList(env)...)
	}
	var files []string
	for _, d := range dirs {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			switch strings.ToLower(filepath.Ext(e.Name())) {
			case ".pcap", ".pcapng", ".cap":
				files = append(files, filepath.Join(d, e.Name()))
			}
		}
	}
	return files
}

// loadSeeds splits every capture into messages and files each under the structure its body
// decodes to.
func loadSeeds() {
	seeds = map[string][][]byte{}
	add := func(key string, b []byte) {
		if len(seeds[key]) < maxSeeds {
			seeds[key] = append(seeds[key], append([]byte(nil), b...))
		}
	}
	var (
		h    smb2.Header
		msgs smb2.Messages
		er   smb2.ErrorResponse
	)
	for _, f := range captureFiles() {
		capture.ReadFile(f, capture.Options{}, func(u *capture.Unit) error {
			d := u.Data
			add("frame", d)
			if len(d) < 4 {
				return nil
			}
			switch string(d[:4]) {
			case smb2.ProtocolTransform:
				add("smb2.TransformHeader", d)
			case smb2.ProtocolCompression:
				add("smb2.CompressionTransformHeader", d)
			case smb2.ProtocolSMB1:
				add("smb2.Smb1NegotiateRequest", d)
			case smb2.ProtocolSMB2:
				c := smb2.Compound{Frame: d}
				for c.Next() {
					pdu, hdr := c.PDU(), c.Hdr()
					add("smb2.Header", pdu[hdr:])
					m, err := smb2.DecodeMessage(pdu, hdr, &h, &msgs, &er)
					if err != nil {
						continue
					}
					name := strings.TrimPrefix(fmt.Sprintf("%T", m), "*")
					add(name, pdu[hdr:])
				}
			}
			return nil
		})
	}
}

// addSeeds adds the captured seeds filed under key ("pkg.*": none besides the defaults).
func addSeeds(f *testing.F, key string) {
	seedOnce.Do(loadSeeds)
	for _, s := range seeds[key] {
		f.Add(s)
	}
	f.Add(make([]byte, 64))
	f.Add([]byte{})
}

func FuzzFrame(f *testing.F) {
	addSeeds(f, "frame")
	f.Fuzz(func(t *testing.T, data []byte) { Frame(data) })
}

// TestSeedsDecode runs every target over its seeds once (this is also what `go test` does
// with the f.Add seeds); here it checks that the captures gave each message target seeds.
func TestSeedsLoaded(t *testing.T) {
	seedOnce.Do(loadSeeds)
	if len(captureFiles()) == 0 {
		t.Skip("no captures in ../shared/pcaps: fuzz targets run on their default seeds only")
	}
	for _, key := range []string{"frame", "smb2.Header", "smb2.NegotiateRequest", "smb2.CreateRequest", "smb2.CreateResponse", "smb2.ReadResponse", "smb2.WriteRequest", "smb2.TransformHeader", "smb2.Smb1NegotiateRequest", "smb2.QueryDirectoryResponse", "smb2.IoctlRequest"} {
		if len(seeds[key]) == 0 {
			t.Errorf("no seed for %s", key)
		}
	}
	t.Logf("%d seed groups", len(seeds))
}
