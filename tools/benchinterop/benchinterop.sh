#!/bin/bash
# benchinterop.sh: the same smbclient transfers against smbserve and against a reference
# Samba on this machine, in one run, and the ratios (smbserve / Samba).
#
#   tools/benchinterop/benchinterop.sh            (make bench-interop)
#
# Per server, the harness's bench.sh (../shared/harness, or $HARNESS): put and get of a
# 1 GiB file (seq_write, seq_read), mput of 2,000 files of 4 KiB (small_create), ls of
# them (small_list), del * (small_delete); BENCH_RUNS runs (default 3), medians. Both
# shares live on tmpfs: smbserve serves passthrough:/dev/shm/benchinterop-PID-share,
# samba-ref.sh its /dev/shm share. Not a test: nothing else should run meanwhile.
#
# Env: HARNESS (default <repo>/../shared/harness), BENCH_RUNS, BENCH_SIZE_MIB (1024),
# BENCH_NFILES (2000), BENCH_PROTO (SMB3), BENCH_CLIENT_OPTS, BENCH_TORTURE (0 here),
# BENCHINTEROP_OUT (default /tmp/benchinterop-PID).
# Needs: go, smbclient, samba + samba-vfs-modules (samba-ref.sh), python3, root for
# samba-ref.sh's users. Everything on 127.0.0.1; only the processes it started are ended.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
HARNESS=${HARNESS:-$REPO/../shared/harness}
OUT=${BENCHINTEROP_OUT:-/tmp/benchinterop-$$}
export BENCH_RUNS=${BENCH_RUNS:-3} BENCH_TORTURE=${BENCH_TORTURE:-0}
mkdir -p "$OUT"
for f in bench.sh samba-ref.sh; do
    [ -f "$HARNESS/$f" ] || { echo "benchinterop: $HARNESS/$f missing (set HARNESS)" >&2; exit 2; }
done

free_port() { /usr/bin/python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

# ---- smbserve -------------------------------------------------------------------------
BIN=$OUT/smbserve
(cd "$REPO" && go build -o "$BIN" ./tools/smbserve)
SHARE_DIR=/dev/shm/benchinterop-$$-share
mkdir -p "$SHARE_DIR"
printf 'Secret123\n' | "$BIN" user add --file "$OUT/users" alice >/dev/null
SPORT=$(free_port)
"$BIN" serve --listen "127.0.0.1:$SPORT" --share "test=passthrough:$SHARE_DIR" \
    --users "$OUT/users" --log-level warn >"$OUT/smbserve.log" 2>&1 &
SPID=$!
RPORT=$(free_port)
cleanup() {
    kill "$SPID" 2>/dev/null || true
    wait "$SPID" 2>/dev/null || true
    rm -rf "$SHARE_DIR"
    SAMBA_REF_DIR=$OUT/samba-ref "$HARNESS/samba-ref.sh" stop "$RPORT" >/dev/null 2>&1 || true
}
trap cleanup EXIT
for _ in $(seq 50); do
    grep -q "listening on" "$OUT/smbserve.log" 2>/dev/null && break
    (exec 3<>"/dev/tcp/127.0.0.1/$SPORT") 2>/dev/null && break
    sleep 0.1
done

echo "== smbserve on 127.0.0.1:$SPORT (pid $SPID)"
BENCH_SERVER_PID=$SPID BENCH_OUT=$OUT/smbserve-bench \
    bash "$HARNESS/bench.sh" 127.0.0.1 "$SPORT" test alice Secret123 >"$OUT/smbserve-bench.log" 2>&1
kill "$SPID"; wait "$SPID" 2>/dev/null || true

# ---- reference Samba ------------------------------------------------------------------
echo "== Samba (samba-ref.sh) on 127.0.0.1:$RPORT"
SAMBA_REF_DIR=$OUT/samba-ref "$HARNESS/samba-ref.sh" start "$RPORT" >"$OUT/samba-ref.log" 2>&1
RPID=$(cat "$OUT/samba-ref/run/harness-smbd.pid")
BENCH_SERVER_PID=$RPID BENCH_OUT=$OUT/samba-bench \
    bash "$HARNESS/bench.sh" 127.0.0.1 "$RPORT" test alice Secret123 >"$OUT/samba-bench.log" 2>&1

# ---- ratios ---------------------------------------------------------------------------
/usr/bin/python3 - "$OUT/smbserve-bench/summary.tsv" "$OUT/samba-bench/summary.tsv" <<'PY'
import sys
def load(p):
    rows = [l.rstrip("\n").split("\t") for l in open(p)][1:]
    return {r[0]: r for r in rows if r and r[0]}
ours, ref = load(sys.argv[1]), load(sys.argv[2])
print("| phase | unit | smbserve | Samba | smbserve/Samba | server CPU % smbserve / Samba |")
print("| --- | --- | ---: | ---: | ---: | ---: |")
for ph in ["seq_write", "seq_read", "small_create", "small_list", "small_delete", "torture_echo", "torture_open_close"]:
    if ph not in ours and ph not in ref:
        continue
    o, r = ours.get(ph), ref.get(ph)
    ov = float(o[1]) if o else None
    rv = float(r[1]) if r else None
    ratio = "%.2f" % (ov / rv) if ov and rv else "NA"
    unit = (o or r)[2]
    print("| %s | %s | %s | %s | %s | %s / %s |" % (ph, unit, o[1] if o else "NA", r[1] if r else "NA", ratio,
          o[6] if o else "NA", r[6] if r else "NA"))
PY
echo "(medians of $BENCH_RUNS runs; logs and per-run results in $OUT)"
