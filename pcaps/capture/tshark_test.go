package capture

import (
	"encoding/binary"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func tsharkCapture(t *testing.T, name string) string {
	t.Helper()
	if !TsharkAvailable() {
		t.Skip("tshark not installed")
	}
	return filepath.Join(corpusDirs(t)[0], name)
}

func TestTsharkFieldsCompound(t *testing.T) {
	path := tsharkCapture(t, "zeek_smb2_multiple_pdus_in_one_segment.pcap")
	frames, err := Tshark(path, []string{"smb2.cmd", "smb2.msg_id", "smb2.flags", "smb2.sesid", "smb2.fid", "smb2.create.disposition", "smb2.nt_status"})
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(frames)
	// Two frames, each with a CREATE+SET_INFO+CLOSE compound; field values
	// as tshark -T json -e prints them. smb2.fid has fewer values than there
	// are PDUs: -e output cannot be aligned per PDU for optional fields.
	for _, want := range []string{
		"{1 map[smb2.cmd:[5 17 6] smb2.create.disposition:[1] smb2.fid:[ffffffff-ffff-ffff-ffff-ffffffffffff ffffffff-ffff-ffff-ffff-ffffffffffff] smb2.flags:[0x00000000 0x00000004 0x00000004] smb2.msg_id:[920 921 922] smb2.sesid:[0x00000000bc8d8cfb 0x00000000bc8d8cfb 0x00000000bc8d8cfb]]}",
		"{2 map[smb2.cmd:[5 17 6] smb2.fid:[645babb3-0000-0000-bd96-b75100000000] smb2.flags:[0x00000001 0x00000005 0x00000005] smb2.msg_id:[920 921 922] smb2.nt_status:[0x00000000 0x00000000 0x00000000] smb2.sesid:[0x00000000bc8d8cfb 0x00000000bc8d8cfb 0x00000000bc8d8cfb]]}",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("tshark output\n%s\nlacks\n%s", got, want)
		}
	}

	pdus, err := TsharkPDUs(path, []string{"smb2.cmd", "smb2.fid", "smb2.tag"})
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, p := range pdus {
		lines = append(lines, fmt.Sprintf("%d/%d cmd=%v fid=%v tag=%v", p.Frame, p.Index, p.Fields["smb2.cmd"], p.Fields["smb2.fid"], p.Fields["smb2.tag"]))
	}
	want := strings.Join([]string{
		"1/0 cmd=[5] fid=[] tag=[MxAc RqLs]",
		"1/1 cmd=[17] fid=[ffffffff-ffff-ffff-ffff-ffffffffffff] tag=[]",
		"1/2 cmd=[6] fid=[ffffffff-ffff-ffff-ffff-ffffffffffff] tag=[]",
		"2/0 cmd=[5] fid=[645babb3-0000-0000-bd96-b75100000000] tag=[MxAc RqLs]",
		"2/1 cmd=[17] fid=[] tag=[]",
		"2/2 cmd=[6] fid=[] tag=[]",
	}, "\n")
	if g := strings.Join(lines, "\n"); g != want {
		t.Errorf("TsharkPDUs:\n%s\nwant\n%s", g, want)
	}
}

func TestTsharkNonStandardPort(t *testing.T) {
	path := tsharkCapture(t, "sv_smb302_macos_to_macos_proxy_write_len_bigger.pcap")
	count := func(ports ...int) int {
		frames, err := Tshark(path, []string{"smb2.cmd"}, ports...)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, f := range frames {
			n += len(f.Fields["smb2.cmd"])
		}
		return n
	}
	st, _, err := ReadFile(path, Options{}, func(*Unit) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(st.ServerPorts) != "[445 4445]" {
		t.Fatalf("server ports %v", st.ServerPorts)
	}
	if n := count(); n != 1877 {
		t.Errorf("port 445 only: %d smb2.cmd, want 1877", n)
	}
	if n := count(st.ServerPorts...); n != 3738 {
		t.Errorf("with 4445: %d smb2.cmd, want 3738", n)
	}
}

// TestTsharkPDUHeaders is a small version of the differential test to come:
// every SMB2 header of every unit is matched with tshark's PDU by (frame,
// PDUIndex+i), and header fields are compared with tshark's values.
func TestTsharkPDUHeaders(t *testing.T) {
	for _, name := range []string{
		"zeek_smb311_macos_to_samba_many_open_files_lock.pcap", // compounds, async (STATUS_PENDING) headers
		"zeek_smb311_kerberos_tso_large_segments.pcapng",       // pcapng, TSO segments, 4 connections
	} {
		t.Run(name, func(t *testing.T) {
			path := tsharkCapture(t, name)
			fields := []string{"smb2.cmd", "smb2.msg_id", "smb2.flags", "smb2.sesid", "smb2.tid", "smb2.aid", "smb2.nt_status", "smb2.credit.charge", "smb2.signature"}
			pdus, err := TsharkPDUs(path, fields)
			if err != nil {
				t.Fatal(err)
			}
			byPos := map[[2]int]map[string][]string{}
			for _, p := range pdus {
				byPos[[2]int{p.Frame, p.Index}] = p.Fields
			}
			n := 0
			_, _, err = ReadFile(path, Options{}, func(u *Unit) error {
				var err error
				Compound(u.Data, func(i int, pdu []byte) {
					ts := byPos[[2]int{u.Frame, u.PDUIndex + i}]
					if ts == nil {
						err = fmt.Errorf("frame %d pdu %d: not in tshark output", u.Frame, u.PDUIndex+i)
						return
					}
					le := binary.LittleEndian
					flags := le.Uint32(pdu[16:20])
					want := map[string]string{
						"smb2.cmd":           strconv.Itoa(int(le.Uint16(pdu[12:14]))),
						"smb2.msg_id":        strconv.FormatUint(le.Uint64(pdu[24:32]), 10),
						"smb2.flags":         fmt.Sprintf("0x%08x", flags),
						"smb2.sesid":         fmt.Sprintf("0x%016x", le.Uint64(pdu[40:48])),
						"smb2.credit.charge": strconv.Itoa(int(le.Uint16(pdu[6:8]))),
						"smb2.signature":     colonHex(pdu[48:64]),
					}
					if flags&0x2 != 0 { // SMB2_FLAGS_ASYNC_COMMAND
						want["smb2.aid"] = fmt.Sprintf("0x%016x", le.Uint64(pdu[32:40]))
					} else {
						want["smb2.tid"] = fmt.Sprintf("0x%08x", le.Uint32(pdu[36:40]))
					}
					if flags&smb2FlagsResponse != 0 {
						want["smb2.nt_status"] = fmt.Sprintf("0x%08x", le.Uint32(pdu[8:12]))
					}
					for f, w := range want {
						if v := ts[f]; len(v) == 0 || v[0] != w {
							err = fmt.Errorf("frame %d pdu %d: %s: tshark %v, header %s", u.Frame, u.PDUIndex+i, f, v, w)
						}
					}
					n++
				})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if n != len(pdus) {
				t.Fatalf("%d headers, tshark %d PDUs", n, len(pdus))
			}
			t.Logf("%d SMB2 headers match tshark", n)
		})
	}
}

func colonHex(b []byte) string {
	var s strings.Builder
	for i, c := range b {
		if i > 0 {
			s.WriteByte(':')
		}
		fmt.Fprintf(&s, "%02x", c)
	}
	return s.String()
}
