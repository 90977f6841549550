#!/bin/sh
# Regenerates the capture extracts of this directory from the shared capture corpus
# (/work/shared/pcaps, see its SOURCES.md). The captures are not in the repository.
#
# blobs.txt: the SPNEGO security buffers of the SMB2 NEGOTIATE and SESSION_SETUP messages
# of two captures, one per line: <capture> <frame> <c2s|s2c> <hex>.
#
# samrlab_*.txt: whole TCP payloads (NetBIOS header + SMB2 PDUs), one frame per line:
# <frame> <c2s|s2c> <hex>.
#
# Usage: sh gen.sh [pcap directory]
set -eu
here=$(dirname "$0")
dir=${1:-$here/../../../../shared/pcaps}

blobs() { # capture
	tshark -r "$dir/$1" -Y smb2.security_blob -T fields -e frame.number -e tcp.srcport -e smb2.security_blob |
		awk -v c="$1" '$3 ~ /^[0-9a-f:]+$/ { d = ($2 == 445 || $2 == 139) ? "s2c" : "c2s"; gsub(":", "", $3); print c, $1, d, $3 }'
}

payloads() { # capture, frame list, output
	tshark -r "$dir/$1" -Y "frame.number in {$2}" -T fields -e frame.number -e tcp.srcport -e tcp.payload |
		awk '{ d = ($2 == 445) ? "s2c" : "c2s"; gsub(":", "", $3); print $1, d, $3 }' >"$here/$3"
}

# Samba smbclient -> Windows 10 2004 (NegTokenInit2 with Kerberos and NTLM, NTLM exchange
# with mechListMIC both ways) and Windows 10 1511 -> Windows 10 1511 (NegTokenInit with a
# NEGOEX token, several NTLM exchanges, failed and successful).
{
	blobs sv_smb311_samba-smbclient_to_win10_ipc.pcap
	blobs arkime_smb311_win10_to_win10_share_browse.pcap
} >"$here/blobs.txt"

# Metasploit RubySMB -> Windows Server 2022, SMB 3.1.1 encrypted with AES-256-GCM; user
# "enum", password "LabAdm1!" (SOURCES.md). 7/8: NEGOTIATE, 10/11/13: SESSION_SETUP
# exchange, 35: final SESSION_SETUP response (signed), 37-46: transform PDUs.
payloads samrlab_smb311_rubysmb_to_ws2022_encrypted_aes256gcm_decryptable.pcapng \
	"7,8,10,11,13,35,37,38,42,43,45,46" samrlab_aes256gcm.txt

# Samba rpcclient -> Windows Server 2022, SMB 3.1.1 signed with AES-GMAC; same account.
# 4/5: NEGOTIATE, 7/8/10: SESSION_SETUP exchange, 13: final response, 15-34: signed PDUs.
payloads samrlab_smb311_samba_rpcclient_to_ws2022_signed.pcapng \
	"4,5,7,8,10,13,15,16,18,19,21,22,24,25,27,28,30,31,33,34" samrlab_gmac.txt
