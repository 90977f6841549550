package roundtrip

import (
	"encoding/binary"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/smbvfs/smbvfs/pcaps/capture"
	"github.com/smbvfs/smbvfs/protocol/smb2"
)

// differentialCaptures are the captures compared field by field with tshark: unencrypted
// traffic of Windows, macOS, Linux and Samba clients and servers, every command among them.
var differentialCaptures = []string{
	"arkime_smb311_win10_to_win10_share_browse.pcap",
	"zeek_smb311_win10_to_winsrv_multichannel.pcap",
	"zeek_smb311_linux-cifs_to_samba_100_small_files.pcap",
	"zeek_smb311_macos_to_samba_many_open_files_lock.pcap",
	"sv_smb202_wireshark_wiki_smb2-peter.pcap",
	"zeek_smb311_samba_client_to_samba_dcerpc_20_fids.pcap",
	"zeek_smb311_kerberos_tso_large_segments.pcapng",
	"ndpi_smb2_midstream_delete_file_oplock_notify.pcap",
	"sv_smb210_win_net_user_samr.pcap",
	"zeek_smb311_negotiate_contexts_only.pcap",
}

var tsharkFields = []string{
	"smb2.cmd", "smb2.nt_status", "smb2.msg_id", "smb2.flags", "smb2.sesid", "smb2.tid",
	"smb2.credit.charge", "smb2.chain_offset", "smb2.dialect", "smb2.fid", "smb2.filename",
	"smb2.read_length", "smb2.write_length", "smb2.file_offset", "smb2.ioctl.function",
	"smb2.share_type", "smb2.create.disposition", "smb2.create.action", "smb2.eof",
	"smb2.negotiate_context.type",
}

// ours formats the fields of a decoded message the way tshark prints them.
func ours(h *smb2.Header, m smb2.Message) map[string][]string {
	out := map[string][]string{}
	set := func(k string, v ...string) { out[k] = append(out[k], v...) }
	hex := func(bits int, v uint64) string { return fmt.Sprintf("0x%0*x", bits/4, v) }
	dec := func(v uint64) string { return strconv.FormatUint(v, 10) }
	set("smb2.cmd", dec(uint64(h.Command)))
	set("smb2.msg_id", dec(h.MessageId))
	set("smb2.flags", hex(32, uint64(h.Flags)))
	set("smb2.sesid", hex(64, h.SessionId))
	set("smb2.credit.charge", dec(uint64(h.CreditCharge)))
	set("smb2.chain_offset", hex(32, uint64(h.NextCommand)))
	if h.Flags.Has(smb2.FlagsServerToRedir) {
		set("smb2.nt_status", hex(32, uint64(h.Status)))
	}
	if !h.Flags.Has(smb2.FlagsAsyncCommand) {
		set("smb2.tid", hex(32, uint64(h.TreeId)))
	}
	fid := func(f smb2.FileId) string {
		var b [16]byte
		binary.LittleEndian.PutUint64(b[:], f.Persistent)
		binary.LittleEndian.PutUint64(b[8:], f.Volatile)
		return fmt.Sprintf("%08x-%04x-%04x-%x-%x", binary.LittleEndian.Uint32(b[:]), binary.LittleEndian.Uint16(b[4:]), binary.LittleEndian.Uint16(b[6:]), b[8:10], b[10:])
	}
	switch x := m.(type) {
	case *smb2.NegotiateRequest:
		for i := 0; i < x.Dialects.Len(); i++ {
			set("smb2.dialect", hex(16, uint64(x.Dialects.At(i))))
		}
		for it := x.NegotiateContexts.Iter(); it.Next(); {
			set("smb2.negotiate_context.type", hex(16, uint64(it.Value().ContextType)))
		}
	case *smb2.NegotiateResponse:
		set("smb2.dialect", hex(16, uint64(x.DialectRevision)))
		for it := x.NegotiateContexts.Iter(); it.Next(); {
			set("smb2.negotiate_context.type", hex(16, uint64(it.Value().ContextType)))
		}
	case *smb2.TreeConnectResponse:
		set("smb2.share_type", hex(8, uint64(x.ShareType)))
	case *smb2.CreateRequest:
		set("smb2.create.disposition", dec(uint64(x.CreateDisposition)))
		if len(x.Name) > 0 {
			set("smb2.filename", x.Name.String())
		}
	case *smb2.CreateResponse:
		set("smb2.create.action", dec(uint64(x.CreateAction)))
		set("smb2.fid", fid(x.FileId))
		set("smb2.eof", dec(x.EndofFile))
	case *smb2.CloseRequest:
		set("smb2.fid", fid(x.FileId))
	case *smb2.ReadRequest:
		set("smb2.read_length", dec(uint64(x.Length)))
		set("smb2.file_offset", dec(x.Offset))
		set("smb2.fid", fid(x.FileId))
	case *smb2.WriteRequest:
		set("smb2.write_length", dec(uint64(len(x.Data))))
		set("smb2.file_offset", dec(x.Offset))
		set("smb2.fid", fid(x.FileId))
	case *smb2.IoctlRequest:
		set("smb2.ioctl.function", hex(32, uint64(x.CtlCode)))
		set("smb2.fid", fid(x.FileId))
	case *smb2.IoctlResponse:
		set("smb2.ioctl.function", hex(32, uint64(x.CtlCode)))
	}
	return out
}

// TestTsharkDifferential compares, message by message, the values our decoders give with
// the values tshark (an independent dissector) prints for the same frames: the header of every
// message, and the main fields of NEGOTIATE, TREE_CONNECT, CREATE, CLOSE, READ, WRITE and IOCTL.
func TestTsharkDifferential(t *testing.T) {
	if !capture.TsharkAvailable() {
		t.Fatal("tshark is not installed (apt-get install tshark; .ci/run installs it)")
	}
	dir := filepath.Join("..", "..", "..", "shared", "pcaps")
	var (
		h        smb2.Header
		msgs     smb2.Messages
		er       smb2.ErrorResponse
		messages int
		values   int
		missing  int
	)
	for _, name := range differentialCaptures {
		path := filepath.Join(dir, name)
		pdus, err := capture.TsharkPDUs(path, tsharkFields)
		if err != nil {
			t.Fatalf("%s: tshark: %v", name, err)
		}
		byKey := map[[2]int]map[string][]string{}
		for _, p := range pdus {
			byKey[[2]int{p.Frame, p.Index}] = p.Fields
		}
		n := 0
		_, _, err = capture.ReadFile(path, capture.Options{}, func(u *capture.Unit) error {
			if len(u.Data) < 4 || string(u.Data[:4]) != smb2.ProtocolSMB2 {
				return nil
			}
			c := smb2.Compound{Frame: u.Data}
			for i := 0; c.Next(); i++ {
				m, err := smb2.DecodeMessage(c.PDU(), c.Hdr(), &h, &msgs, &er)
				if err != nil {
					continue // listed by TestRoundTrip
				}
				theirs, ok := byKey[[2]int{u.Frame, u.PDUIndex + i}]
				if !ok {
					missing++
					continue
				}
				for field, want := range ours(&h, m) {
					got := theirs[field]
					values++
					if len(got) == 0 {
						t.Errorf("%s frame %d message %d: tshark shows no %s, we decoded %q", name, u.Frame, i, field, want)
						continue
					}
					// tshark lists a field once per occurrence in the PDU tree; ours are the
					// message's own, in order, at the start
					for k := range want {
						if k >= len(got) || got[k] != want[k] {
							t.Errorf("%s frame %d message %d (%s): %s = %q, tshark %q", name, u.Frame, i, h.Command, field, want, got)
							break
						}
					}
				}
				n++
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Logf("%-60s %5d messages compared with tshark", name, n)
		messages += n
	}
	t.Logf("total: %d messages, %d field values equal to tshark's; %d messages tshark did not show", messages, values, missing)
	if messages < 500 {
		t.Fatalf("only %d messages compared; the check needs at least 500", messages)
	}
}
