package roundtrip

// expectation is a message that must fail to round-trip, with why.
type expectation struct {
	match  string // substring of "What: error"
	reason string
}

// expectedFailures lists, by "capture#frame#index-in-compound", the captured messages that are
// malformed on the wire and must be rejected with the given error.
var expectedFailures = map[string]expectation{
	"sv_smb302_macos_to_macos_proxy_write_len_bigger.pcap#2229#0": {
		match:  "SMB2_WRITE request: decode: WriteRequest.Data: bad length",
		reason: "the capturing proxy rewrote the WRITE Length to more than the message holds (suricata-verify evasion test)",
	},
	"sv_smb302_macos_to_macos_proxy_write_len_smaller_split.pcap#370#0": {
		match:  "SMB2_WRITE request: 512 captured bytes after the message's last field",
		reason: "the capturing proxy rewrote the WRITE Length to 512 bytes less than the data sent (suricata-verify evasion test)",
	},
	"zeek_smb2_setinfo_fs_control.pcap#4#0": {
		match:  "decode: Header.StructureSize: bad constant",
		reason: "a parser regression input: the header's StructureSize is 0x013f and the body is not a SET_INFO response",
	},
}

// expectedProblems lists, by "capture#frame#kind", the bytes the captures themselves lack
// (segments never captured, frames cut by the snap length, files cut short).
var expectedProblems = map[string]string{
	"otrf_smb311_win10_kerberos_svcctl.cap#254#file": "the capture file ends inside the record of frame 254",
	"zeek_smb210_kerberos_auth.pcap#43#truncated":    "frame 43 was cut by the snap length: the 11960-byte READ response it begins is lost",
}
