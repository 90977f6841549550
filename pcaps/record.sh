#!/usr/bin/env bash
# pcaps/record.sh — record our own corpus of SMB traffic on loopback (run by `make pcaps`).
#
# Real, independent clients (smbclient, impacket, smbtorture, rpcclient) talk to a reference
# Samba smbd (../shared/harness/samba-ref.sh) and to smbserve; dumpcap records each session
# into pcaps/<name>.pcapng with a capture filter on the server's port. Every capture is
# described in pcaps/manifest.yaml.
#
# Keys: smbserve runs with --keylog; the lines of each capture's sessions go to
# pcaps/keys/<name>.keys (Wireshark smb2_seskey_list format). Samba's sessions are decrypted
# from the harness' known password (pcaps/keys/samba-ref.keys: "password Secret123"): the
# NTLM exchange in the capture gives the session key.
#
# Needs root (capture on lo), tshark/dumpcap, smbclient, smbtorture, rpcclient, samba,
# python3-impacket (Debian: see ../shared/harness/README.md). Ports: Samba 30451, smbserve
# 30445 (override with SAMBA_PORT / SERVE_PORT); 127.0.0.1 only.
#
#   pcaps/record.sh              # record everything
#   pcaps/record.sh smb311       # only the captures whose name contains "smb311"
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
harness=${HARNESS:-$repo/../shared/harness}
SAMBA_PORT=${SAMBA_PORT:-30451}
SERVE_PORT=${SERVE_PORT:-30445}
USER_NAME=alice
PASS=Secret123
only=${1:-}

[ "$(id -u)" = 0 ] || { echo "record.sh: run as root (packet capture on lo)" >&2; exit 1; }
for t in dumpcap smbclient smbtorture rpcclient; do
	command -v $t >/dev/null || { echo "record.sh: $t is missing" >&2; exit 1; }
done

work=$(mktemp -d /tmp/smbvfs-record.XXXXXX)
serve_pid=
cap_pid=
cleanup() {
	[ -n "$cap_pid" ] && kill "$cap_pid" 2>/dev/null || true
	[ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null || true
	SAMBA_REF_DIR=$work/samba "$harness/samba-ref.sh" stop "$SAMBA_PORT" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

# The server under test: smbserve on a memfs share "test" (as Samba's), user alice, guest.
(cd "$repo" && go build -o "$work/smbserve" ./tools/smbserve)
echo "$PASS" | "$work/smbserve" user add --file "$work/users" "$USER_NAME" >/dev/null
: >"$work/keylog"
"$work/smbserve" serve --listen "127.0.0.1:$SERVE_PORT" --share test=memfs --users "$work/users" \
	--guest --keylog "$work/keylog" --log-level warn >"$work/smbserve.log" 2>&1 &
serve_pid=$!
SAMBA_REF_DIR=$work/samba "$harness/samba-ref.sh" start "$SAMBA_PORT" >/dev/null

for i in $(seq 50); do
	(exec 3<>/dev/tcp/127.0.0.1/$SERVE_PORT) 2>/dev/null && break
	sleep 0.1
done

head -c 20000 /dev/urandom >"$work/f20k"

# record NAME PORT COMMAND...: capture one client run into pcaps/NAME.pcapng.
record() {
	local name=$1 port=$2
	shift 2
	case "$name" in *"$only"*) ;; *) return 0 ;; esac
	local out="$here/$name.pcapng" keys_before
	keys_before=$(wc -l <"$work/keylog")
	rm -f "$work/cap.pcapng"
	dumpcap -q -i lo -f "tcp port $port" -w "$work/cap.pcapng" 2>"$work/dumpcap.log" &
	cap_pid=$!
	for i in $(seq 50); do
		grep -q "Capturing on" "$work/dumpcap.log" 2>/dev/null && [ -s "$work/cap.pcapng" ] && break
		sleep 0.1
	done
	sleep 0.3
	if ! "$@" >"$work/client.log" 2>&1; then
		echo "record.sh: $name: client failed:" >&2
		tail -5 "$work/client.log" >&2
	fi
	sleep 0.5
	kill -INT "$cap_pid"
	wait "$cap_pid" || true
	cap_pid=
	# strip the pcapng comments dumpcap adds (host name, OS), keep the packets
	tshark -r "$work/cap.pcapng" -F pcapng -w "$out" 2>/dev/null
	if [ "$port" = "$SERVE_PORT" ]; then
		tail -n +"$((keys_before + 1))" "$work/keylog" >"$work/newkeys"
		if [ -s "$work/newkeys" ]; then
			{ echo "# session keys of $name.pcapng, from smbserve --keylog (tshark -o 'uat:smb2_seskey_list:LINE'; LINE = SessionId,SessionKey,S2C,C2S)"; cat "$work/newkeys"; } >"$here/keys/$name.keys"
		fi
	fi
	printf '%-48s %8d bytes\n' "$name.pcapng" "$(stat -c %s "$out")"
}

smbclient_cmds='mkdir d; cd d; put '"$work"'/f20k f.bin; ls; allinfo f.bin; get f.bin '"$work"'/out.bin; rename f.bin g.bin; del g.bin; cd ..; rmdir d'

# smbclient SERVER PORT PROTO [MODE]: one connection at exactly PROTO (min = max); MODE is
# sign, encrypt[:CIPHER] or guest.
smbc() {
	local port=$1 proto=$2 mode=${3:-sign}
	local args=(//127.0.0.1/test -p "$port" -m "$proto" --option="client min protocol=$proto" --option="client ipc min protocol=$proto")
	case "$mode" in
	sign) args+=(-U "$USER_NAME%$PASS" --option="client signing=required") ;;
	encrypt*) args+=(-U "$USER_NAME%$PASS" --option="client smb encrypt=required")
		[ "$mode" != encrypt ] && args+=(--option="client smb3 encryption algorithms=${mode#encrypt:}") ;;
	guest) args+=(-N) ;;
	esac
	smbclient "${args[@]}" -c "$smbclient_cmds"
}

S=$SAMBA_PORT
V=$SERVE_PORT

# smbclient against Samba: signed at every dialect, encrypted at 3.0 and 3.1.1.
record smbclient_smb202_to_samba_signed $S smbc $S SMB2_02 sign
record smbclient_smb210_to_samba_signed $S smbc $S SMB2_10 sign
record smbclient_smb300_to_samba_signed $S smbc $S SMB3_00 sign
record smbclient_smb302_to_samba_signed $S smbc $S SMB3_02 sign
record smbclient_smb311_to_samba_signed $S smbc $S SMB3_11 sign
record smbclient_smb300_to_samba_encrypted_ccm $S smbc $S SMB3_00 encrypt
record smbclient_smb311_to_samba_encrypted_gcm $S smbc $S SMB3_11 encrypt:AES-128-GCM

# smbclient against smbserve: every dialect, signed and encrypted (keys from --keylog), guest.
record smbclient_smb202_to_smbserve_signed $V smbc $V SMB2_02 sign
record smbclient_smb210_to_smbserve_signed $V smbc $V SMB2_10 sign
record smbclient_smb300_to_smbserve_encrypted_ccm $V smbc $V SMB3_00 encrypt
record smbclient_smb302_to_smbserve_encrypted_ccm $V smbc $V SMB3_02 encrypt
record smbclient_smb311_to_smbserve_signed $V smbc $V SMB3_11 sign
record smbclient_smb311_to_smbserve_encrypted_ccm $V smbc $V SMB3_11 encrypt:AES-128-CCM
record smbclient_smb311_to_smbserve_encrypted_aes256gcm $V smbc $V SMB3_11 encrypt:AES-256-GCM
record smbclient_smb311_to_smbserve_guest $V smbc $V SMB3_11 guest

# impacket against smbserve (2.0.2, 2.1, 3.0) and Samba (2.1).
for d in 2.0.2 2.1 3.0; do
	n=${d//./}
	[ "$n" = 30 ] && n=300
	[ "$n" = 21 ] && n=210
	record impacket_smb${n}_to_smbserve $V /usr/bin/python3 "$here/record_impacket.py" 127.0.0.1 $V test $USER_NAME $PASS $d
done
record impacket_smb210_to_samba $S /usr/bin/python3 "$here/record_impacket.py" 127.0.0.1 $S test $USER_NAME $PASS 2.1

# smbtorture: a few short tests against smbserve.
torture() {
	local port=$1
	shift
	smbtorture //127.0.0.1/test -p "$port" -U "$USER_NAME%$PASS" --option=torture:progress=no "$@"
}
record smbtorture_smb311_connect_to_smbserve $V torture $V smb2.connect
record smbtorture_smb311_compound_related_to_smbserve $V torture $V smb2.compound.related1
record smbtorture_smb311_lock_valid_request_to_smbserve $V torture $V smb2.lock.valid-request

# rpcclient share listing (srvsvc over IPC$), signed, against both servers.
rpc() { rpcclient -p "$1" -U "$USER_NAME%$PASS" --option="client signing=required" -c netshareenumall 127.0.0.1; }
record rpcclient_smb311_netshareenumall_to_samba $S rpc $S
record rpcclient_smb311_netshareenumall_to_smbserve $V rpc $V

echo "record.sh: done; describe new captures in pcaps/manifest.yaml"
