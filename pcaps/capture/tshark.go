package capture

// Differential helpers: run tshark (Wireshark 4.0) on a capture and return
// what it decoded, so that tests can compare it with our own decoding of the
// units that ReadFile delivers.
//
// Matching: ReadFile's Unit.Frame is the frame where tshark shows the
// reassembled PDU, and the i-th SMB2 header of a unit (see Compound) is the
// (Unit.PDUIndex+i)-th SMB2 PDU tshark lists for that frame. With Tshark
// (per-frame arrays, tshark -e) only fields present in every SMB2 header can
// be aligned that way (smb2.cmd, smb2.msg_id, smb2.flags, smb2.sesid,
// smb2.signature, smb2.header_len, smb2.credit.charge, smb2.chain_offset;
// smb2.tid and smb2.pid only without the async flag, smb2.aid only with it):
// tshark -e concatenates the values of all PDUs of a frame and omits
// absent fields, so for example in a compound CREATE+SET_INFO+CLOSE request
// smb2.fid has 2 values for 3 PDUs. Use TsharkPDUs for per-PDU values.
//
// Field names verified with `tshark -G fields` (tshark 4.0.17) and how
// `-T json -e` prints their values (checked on the corpus); "hex" means a
// 0x-prefixed, zero-padded lower-case hexadecimal string of the field width:
//
//	field                          type            -e value printed as
//	frame.number                   FT_UINT32       decimal
//	tcp.stream                     FT_UINT32       decimal (tshark's connection index, = Unit.Stream)
//	smb2.protocol_id               FT_UINT32       hex "0xfe534d42"
//	smb2.header_len                FT_UINT16       decimal ("64")
//	smb2.cmd                       FT_UINT16       decimal ("5" for CREATE)
//	smb2.nt_status                 FT_UINT32       hex "0x00000000" (responses only: requests show smb2.channel_sequence)
//	smb2.channel_sequence          FT_UINT16       decimal (requests, dialect >= 3.0 header layout)
//	smb2.msg_id                    FT_UINT64       decimal ("920"; the 0xffffffffffffffff of oplock breaks as "18446744073709551615")
//	smb2.flags                     FT_UINT32       hex "0x00000005"
//	smb2.chain_offset              FT_UINT32       hex "0x000000f8" (NextCommand)
//	smb2.sesid                     FT_UINT64       hex "0x00000000bc8d8cfb"
//	smb2.tid                       FT_UINT32       hex "0x17e3b6b9" (sync header only)
//	smb2.pid                       FT_UINT32       hex "0x0000feff" (sync header only)
//	smb2.aid                       FT_UINT64       hex (async header only)
//	smb2.signature                 FT_BYTES        hex digits without separators ("0000…", 32 digits)
//	smb2.credit.charge             FT_UINT16       decimal
//	smb2.credits.requested         FT_UINT16       decimal (requests only)
//	smb2.credits.granted           FT_UINT16       decimal (responses only)
//	smb2.dialect                   FT_UINT16       hex "0x0311" (one per dialect offered, then the one chosen)
//	smb2.fid                       FT_GUID         GUID text "645babb3-0000-0000-bd96-b75100000000"
//	smb2.filename                  FT_STRING       text
//	smb2.read_length               FT_UINT32       decimal
//	smb2.write_length              FT_UINT32       decimal
//	smb2.file_offset               FT_UINT64       decimal
//	smb2.ioctl.function            FT_UINT32       hex "0x0011c017"
//	smb2.class                     FT_UINT8        hex "0x01"
//	smb2.infolevel                 FT_UINT8        hex "0x05"
//	smb2.tag                       FT_STRING       text ("MxAc", "RqLs", …)
//	smb2.share_type                FT_UINT8        hex "0x01"
//	smb2.create.disposition        FT_UINT32       decimal ("1")
//	smb2.create.action             FT_UINT32       decimal
//	smb2.create.oplock             FT_UINT8        hex "0xff"
//	smb2.eof                       FT_UINT64       decimal (end of file; there is no smb2.end_of_file)
//	smb2.negotiate_context.type    FT_UINT16       hex "0x0001"
//	smb2.header.transform.nonce    FT_BYTES        hex digits (the TRANSFORM header; there is no smb2.transform.*)
//	smb2.header.transform.msg_size FT_UINT32       decimal
//	smb2.header.comp_transform.comp_alg FT_UINT16  hex (COMPRESSION_TRANSFORM header)
//
// Names that do NOT exist in tshark 4.0 although they look plausible:
// smb2.end_of_file (use smb2.eof), smb2.seqnum, smb2.security_mode (use
// smb2.sec_mode), smb2.transform_header / smb2.transform.nonce (use
// smb2.header.transform.*), smb2.create.file_attribute (use
// smb2.file_attribute), smb2.nonce.
//
// Booleans of flag subtrees (smb2.flags.response, …) print as "1"/"0" with
// TsharkPDUs and as "1"/"0" with -e. FT_BYTES print as hex without
// separators with -e but as colon-separated hex ("00:00:…") in TsharkPDUs,
// which reads tshark's full JSON tree.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"sync"
)

// TsharkFrame is one frame of Tshark's output: for each requested field,
// the values tshark printed, in order (several for compound chains or
// several PDUs in the frame, none when absent).
type TsharkFrame struct {
	Frame  int
	Fields map[string][]string
}

// TsharkPDU is one SMB2 PDU (one "smb2" protocol tree) of TsharkPDUs'
// output.
type TsharkPDU struct {
	Frame  int
	Index  int // position among the SMB2 PDUs tshark shows in Frame, 0-based
	Fields map[string][]string
}

var (
	tsharkOnce sync.Once
	tsharkPath string
)

// TsharkAvailable reports whether a tshark executable is on PATH.
func TsharkAvailable() bool {
	tsharkOnce.Do(func() {
		if p, err := exec.LookPath("tshark"); err == nil {
			tsharkPath = p
		}
	})
	return tsharkPath != ""
}

// tsharkArgs returns the common arguments: no name resolution, SMB2 frames
// only, and the given non-standard server ports dissected as NetBIOS
// session service (which carries SMB, also for Direct-TCP framing).
func tsharkArgs(path string, ports []int) []string {
	args := []string{"-n", "-r", path}
	for _, p := range ports {
		if p == 445 || p == 139 || p <= 0 || p > 65535 {
			continue
		}
		args = append(args, "-d", fmt.Sprintf("tcp.port==%d,nbss", p))
	}
	return append(args, "-Y", "smb2")
}

// runTshark runs tshark and returns its standard output. A capture whose
// last record is cut short is not an error (tshark exits with status 2
// after printing everything it could read).
func runTshark(args []string) ([]byte, error) {
	if !TsharkAvailable() {
		return nil, errors.New("tshark not found on PATH")
	}
	cmd := exec.Command(tsharkPath, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		var serious []string
		for _, line := range strings.Split(stderr.String(), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "Running as user") ||
				strings.Contains(line, "cut short in the middle of a packet") {
				continue
			}
			serious = append(serious, line)
		}
		if len(serious) > 0 || stdout.Len() == 0 {
			return nil, fmt.Errorf("tshark %s: %v: %s", strings.Join(args, " "), err, strings.Join(serious, "; "))
		}
	}
	return stdout.Bytes(), nil
}

// Tshark runs
//
//	tshark -n -r PATH [-d tcp.port==N,nbss ...] -Y smb2 -T json -e frame.number -e FIELD...
//
// and returns one TsharkFrame per frame that contains SMB2 (including
// frames with only TRANSFORM headers). ports are the SMB server ports of the
// capture (Stats.ServerPorts); those other than 445 and 139 are passed to
// tshark with -d. See the file comment for the field names and value
// formats.
func Tshark(path string, fields []string, ports ...int) ([]TsharkFrame, error) {
	args := tsharkArgs(path, ports)
	args = append(args, "-T", "json", "-e", "frame.number")
	for _, f := range fields {
		if f != "frame.number" {
			args = append(args, "-e", f)
		}
	}
	out, err := runTshark(args)
	if err != nil {
		return nil, err
	}
	var pkts []struct {
		Source struct {
			Layers map[string][]string `json:"layers"`
		} `json:"_source"`
	}
	if err := json.Unmarshal(out, &pkts); err != nil {
		return nil, fmt.Errorf("tshark output of %s: %w", path, err)
	}
	frames := make([]TsharkFrame, 0, len(pkts))
	for _, p := range pkts {
		l := p.Source.Layers
		nums := l["frame.number"]
		if len(nums) != 1 {
			return nil, fmt.Errorf("tshark output of %s: frame without frame.number", path)
		}
		n, err := strconv.Atoi(nums[0])
		if err != nil {
			return nil, fmt.Errorf("tshark output of %s: frame.number %q", path, nums[0])
		}
		fr := TsharkFrame{Frame: n, Fields: make(map[string][]string, len(fields))}
		for _, f := range fields {
			if v, ok := l[f]; ok {
				fr.Fields[f] = v
			}
		}
		frames = append(frames, fr)
	}
	return frames, nil
}

// TsharkPDUs runs
//
//	tshark -n -r PATH [-d tcp.port==N,nbss ...] -Y smb2 -T json --no-duplicate-keys -J "frame smb2"
//
// and returns one TsharkPDU per SMB2 protocol tree, that is per SMB2 PDU
// (TRANSFORM and COMPRESSION_TRANSFORM headers are PDUs too), in frame
// order. Fields holds, for every field name in fields (all fields when
// fields is empty), the values found anywhere in that PDU's tree, in
// document order. Unlike Tshark, values can be attributed to their PDU;
// tshark's output is larger (21 MB of JSON for the 2.5 MB
// samrlab_..._bulk_8k_pdus capture, about 1 s), still fine for the corpus.
// Values are printed as in the full JSON tree: FT_BYTES as colon-separated
// hex ("00:00:…"), integers as with -e.
func TsharkPDUs(path string, fields []string, ports ...int) ([]TsharkPDU, error) {
	args := tsharkArgs(path, ports)
	args = append(args, "-T", "json", "--no-duplicate-keys", "-J", "frame smb2")
	out, err := runTshark(args)
	if err != nil {
		return nil, err
	}
	var want map[string]bool
	if len(fields) > 0 {
		want = make(map[string]bool, len(fields))
		for _, f := range fields {
			want[f] = true
		}
	}
	var pkts []struct {
		Source struct {
			Layers map[string]json.RawMessage `json:"layers"`
		} `json:"_source"`
	}
	if err := json.Unmarshal(out, &pkts); err != nil {
		return nil, fmt.Errorf("tshark output of %s: %w", path, err)
	}
	var pdus []TsharkPDU
	for _, p := range pkts {
		var fr struct {
			Number string `json:"frame.number"`
		}
		if err := json.Unmarshal(p.Source.Layers["frame"], &fr); err != nil {
			return nil, fmt.Errorf("tshark output of %s: frame: %w", path, err)
		}
		n, err := strconv.Atoi(fr.Number)
		if err != nil {
			return nil, fmt.Errorf("tshark output of %s: frame.number %q", path, fr.Number)
		}
		raw := bytes.TrimSpace(p.Source.Layers["smb2"])
		var trees []json.RawMessage
		switch {
		case len(raw) == 0:
		case raw[0] == '[':
			if err := json.Unmarshal(raw, &trees); err != nil {
				return nil, fmt.Errorf("tshark output of %s: frame %d: %w", path, n, err)
			}
		default:
			trees = []json.RawMessage{raw}
		}
		for i, t := range trees {
			pdu := TsharkPDU{Frame: n, Index: i, Fields: map[string][]string{}}
			if err := flattenJSON(t, want, pdu.Fields); err != nil {
				return nil, fmt.Errorf("tshark output of %s: frame %d: %w", path, n, err)
			}
			pdus = append(pdus, pdu)
		}
	}
	return pdus, nil
}

// flattenJSON collects the string values of a tshark JSON tree under their
// keys, in document order. Objects (under text labels or "*_tree" keys) are
// descended into; the values of an array belong to the key of the array
// (tshark --no-duplicate-keys turns repeated keys into arrays).
func flattenJSON(raw []byte, want map[string]bool, out map[string][]string) error {
	type level struct {
		object    bool
		key       string // key of this container (for arrays: the key of their values)
		cur       string // objects: key of the current member
		expectKey bool
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	var stack []level
	// valueKey is the key the next value belongs to.
	valueKey := func() string {
		if len(stack) == 0 {
			return ""
		}
		top := &stack[len(stack)-1]
		if top.object {
			return top.cur
		}
		return top.key
	}
	// afterValue: in an object, a key follows a value.
	afterValue := func() {
		if len(stack) > 0 && stack[len(stack)-1].object {
			stack[len(stack)-1].expectKey = true
		}
	}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{', '[':
				stack = append(stack, level{object: v == '{', key: valueKey(), expectKey: v == '{'})
			default:
				stack = stack[:len(stack)-1]
				afterValue()
			}
		case string:
			if len(stack) > 0 && stack[len(stack)-1].object && stack[len(stack)-1].expectKey {
				stack[len(stack)-1].cur = v
				stack[len(stack)-1].expectKey = false
				continue
			}
			if k := valueKey(); want == nil || want[k] {
				out[k] = append(out[k], v)
			}
			afterValue()
		default:
			afterValue()
		}
	}
}
