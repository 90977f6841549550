#!/usr/bin/python3
"""impacket_ops.py HOST PORT SHARE USER PASS DIALECT

Drives an SMB server with impacket (Debian python3-impacket 0.10): createDirectory,
putFile and getFile of 3 MiB + 17 bytes (sha256 compared), listPath, rename, deleteFile,
deleteDirectory. Prints one line per operation, "ok NAME" or "FAIL NAME: why", and exits
1 after the first failure. DIALECT: 2.1 or 3.0.
"""
import hashlib
import io
import os
import sys

from impacket import smb3structs
from impacket.smbconnection import SMBConnection

DIALECTS = {"2.1": smb3structs.SMB2_DIALECT_21, "3.0": smb3structs.SMB2_DIALECT_30}


def main():
    host, port, share, user, password, dialect = sys.argv[1:7]
    want = DIALECTS[dialect]
    conn = SMBConnection(host, host, sess_port=int(port), preferredDialect=want, timeout=30)
    conn.login(user, password)
    if conn.getDialect() != want:
        raise SystemExit("FAIL negotiate: dialect 0x%04x, want 0x%04x" % (conn.getDialect(), want))
    print("ok login", flush=True)
    base = "imp_%s_%d" % (dialect.replace(".", ""), os.getpid())
    payload = hashlib.sha256(b"seed").digest() * ((3 * 1024 * 1024) // 32) + b"x" * 17

    def names():
        return sorted(f.get_longname() for f in conn.listPath(share, base + "\\*"))

    def step(name, fn):
        try:
            fn()
        except Exception as e:  # report every failure the same way
            print("FAIL %s: %s: %s" % (name, type(e).__name__, str(e).replace("\n", " ")), flush=True)
            sys.exit(1)
        print("ok " + name, flush=True)

    def put():
        conn.putFile(share, base + "\\data.bin", io.BytesIO(payload).read)

    def get():
        buf = io.BytesIO()
        conn.getFile(share, base + "\\data.bin", buf.write)
        if hashlib.sha256(buf.getvalue()).digest() != hashlib.sha256(payload).digest():
            raise RuntimeError("content differs (%d bytes back, %d put)" % (len(buf.getvalue()), len(payload)))

    def list_path():
        got = names()
        if got != [".", "..", "data.bin"]:
            raise RuntimeError("listing %r" % got)
        sizes = [f.get_filesize() for f in conn.listPath(share, base + "\\data.bin")]
        if sizes != [len(payload)]:
            raise RuntimeError("size %r, want %d" % (sizes, len(payload)))

    def rename():
        conn.rename(share, base + "\\data.bin", base + "\\renamed.bin")
        got = names()
        if got != [".", "..", "renamed.bin"]:
            raise RuntimeError("after rename: %r" % got)

    def delete():
        conn.deleteFile(share, base + "\\renamed.bin")
        if names() != [".", ".."]:
            raise RuntimeError("after delete: %r" % names())

    def rmdir():
        conn.deleteDirectory(share, base)
        try:
            conn.listPath(share, base + "\\*")
        except Exception:
            return
        raise RuntimeError("directory still listed")

    step("createDirectory", lambda: conn.createDirectory(share, base))
    step("putFile", put)
    step("listPath", list_path)
    step("getFile", get)
    step("rename", rename)
    step("deleteFile", delete)
    step("deleteDirectory", rmdir)
    conn.logoff()
    print("ok logoff", flush=True)


if __name__ == "__main__":
    main()
