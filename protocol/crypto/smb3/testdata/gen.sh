#!/bin/sh
# Regenerates the capture extracts of this directory from the shared capture corpus
# (/work/shared/pcaps, see its SOURCES.md). The captures themselves are not in the repository;
# these files hold only the TCP payloads of the frames the tests use, one frame per line:
#
#	<frame number> <c2s|s2c> <hex of the TCP payload: NetBIOS session header + SMB2 PDUs>
#
# Usage: sh gen.sh [pcap directory]
set -eu
here=$(dirname "$0")
dir=${1:-$here/../../../../../shared/pcaps}

extract() { # capture, frame list (tshark syntax), output
	tshark -r "$dir/$1" -Y "frame.number in {$2}" -T fields -e frame.number -e tcp.srcport -e tcp.payload |
		awk '{ d = ($2 == 445) ? "s2c" : "c2s"; gsub(":", "", $3); print $1, d, $3 }' >"$here/$3"
}

# SMB 3.0, AES-128-CCM, Linux cifs -> Windows Server 2016; SessionKey published by the
# Wireshark wiki (smb3-aes-128-ccm.pcap). Frames 9-14: the first six transform PDUs.
extract zeek_smb300_linux-cifs_to_ws2016_encrypted_ccm_key_known.pcap "9,10,11,12,13,14" zeek_smb300_ccm.txt

# SMB 3.1.1, AES-128-CCM, Linux cifs -> Windows Server 2016 (Wireshark wiki
# smb311-aes-128-ccm-filt.pcap). Frames 1-5: NEGOTIATE and SESSION_SETUP exchange (the
# preauthentication hash input), 6: the signed final SESSION_SETUP response, 7-12: transforms.
extract zeek_smb311_linux-cifs_to_ws2016_encrypted_ccm_key_known.pcap "1,2,3,4,5,6,7,8,9,10,11,12" zeek_smb311_ccm.txt
