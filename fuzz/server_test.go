package fuzz

import (
	"encoding/binary"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smbvfs/smbvfs/pcaps/capture"
	"github.com/smbvfs/smbvfs/protocol/smb2"
	"github.com/smbvfs/smbvfs/protocol/utf16"
)

const fixAll = fixMid | fixSession | fixTree | fixFileID

// record encodes one record of a Server input.
func record(flags byte, payload []byte) []byte {
	b := []byte{flags, 0, 0}
	binary.LittleEndian.PutUint16(b[1:], uint16(len(payload)))
	return append(b, payload...)
}

func buildRequest(cmd smb2.Command, body smb2.Body) []byte {
	h := smb2.Header{Command: cmd, Credits: 8, CreditCharge: 1}
	b, _ := h.Append(nil)
	b, _ = body.Append(b, 0)
	return b
}

// serverSeeds are session sequences: the requests of captured connections after their
// TREE_CONNECT (our plaintext recordings), and hand-made attempts at leaving the share.
func serverSeeds() [][]byte {
	var out [][]byte
	files, _ := filepath.Glob(filepath.Join("..", "pcaps", "*.pcapng"))
	for _, f := range files {
		if strings.Contains(f, "encrypted") {
			continue
		}
		type st struct {
			recs    []byte
			started bool
			n       int
		}
		streams := map[int]*st{}
		capture.ReadFile(f, capture.Options{}, func(u *capture.Unit) error {
			if !u.FromClient || capture.Magic(u.Data) != capture.MagicSMB2 || len(u.Data) < 64 || len(u.Data) > 4096 {
				return nil
			}
			s := streams[u.Stream]
			if s == nil {
				s = &st{}
				streams[u.Stream] = s
			}
			cmd := smb2.Command(binary.LittleEndian.Uint16(u.Data[12:]))
			if !s.started {
				s.started = cmd == smb2.CommandCreate
			}
			if s.started && s.n < 24 && cmd != smb2.CommandLogoff && cmd != smb2.CommandTreeDisconnect {
				s.recs = append(s.recs, record(fixAll, u.Data)...)
				s.n++
			}
			return nil
		})
		for _, s := range streams {
			if s.n > 0 {
				out = append(out, append([]byte{0}, s.recs...))
			}
		}
	}
	escape := []byte{0}
	for _, name := range []string{`..\sentinel`, `dir\..\..\sentinel`, `..`, `\..\sentinel`, `a.txt:..\..\x`, `dir\..\..\new`} {
		cr := &smb2.CreateRequest{DesiredAccess: 0x12019f, FileAttributes: 0x80, ShareAccess: 7, CreateDisposition: 5,
			Name: utf16.FromString(name)}
		escape = append(escape, record(fixAll, buildRequest(smb2.CommandCreate, cr))...)
		w := &smb2.WriteRequest{Data: []byte("escaped")}
		escape = append(escape, record(fixAll, buildRequest(smb2.CommandWrite, w))...)
		escape = append(escape, record(fixAll, buildRequest(smb2.CommandClose, &smb2.CloseRequest{}))...)
	}
	out = append(out, escape)
	qd := []byte{1}
	qd = append(qd, record(fixAll, buildRequest(smb2.CommandCreate, &smb2.CreateRequest{DesiredAccess: 0x100081, ShareAccess: 7, CreateDisposition: 1, CreateOptions: 1}))...)
	qd = append(qd, record(fixAll, buildRequest(smb2.CommandQueryDirectory, &smb2.QueryDirectoryRequest{FileInformationClass: 37, OutputBufferLength: 65536, FileName: utf16.FromString("*")}))...)
	qd = append(qd, record(fixAll, buildRequest(smb2.CommandChangeNotify, &smb2.ChangeNotifyRequest{OutputBufferLength: 4096, CompletionFilter: 0xfff}))...)
	out = append(out, qd)
	return out
}

// FuzzServer feeds sequences of requests to a whole in-process server (see Server).
func FuzzServer(f *testing.F) {
	seeds := serverSeeds()
	if len(seeds) > 48 {
		seeds = seeds[:48]
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Add([]byte{0})
	f.Fuzz(func(t *testing.T, data []byte) { Server(data) })
}
