#!/usr/bin/python3
"""record_impacket.py HOST PORT SHARE USER PASS DIALECT

The impacket session of pcaps/record.sh: one connection at one dialect (2.0.2, 2.1, 3.0):
login, list shares, mkdir, put, list, get, rename, delete, rmdir, logoff. Small files, so
the capture stays small. Written for pcaps/record.sh; run with /usr/bin/python3.
"""
import io
import sys

from impacket.smbconnection import SMBConnection
from impacket import smb3structs as s3

host, port, share, user, password, dialect = sys.argv[1:7]
d = {"2.0.2": s3.SMB2_DIALECT_002, "2.1": s3.SMB2_DIALECT_21, "3.0": s3.SMB2_DIALECT_30}[dialect]
c = SMBConnection(host, host, sess_port=int(port), preferredDialect=d)
c.login(user, password)
names = [s["shi1_netname"][:-1] for s in c.listShares()]
assert share in names, names
c.createDirectory(share, "imp")
data = bytes(range(256)) * 48  # 12 KiB
c.putFile(share, "imp\\f.bin", io.BytesIO(data).read)
listed = [f.get_longname() for f in c.listPath(share, "imp\\*")]
got = io.BytesIO()
c.getFile(share, "imp\\f.bin", got.write)
assert got.getvalue() == data
c.rename(share, "imp\\f.bin", "imp\\g.bin")
c.deleteFile(share, "imp\\g.bin")
c.deleteDirectory(share, "imp")
c.logoff()
print("impacket %s: ok, listed %s" % (dialect, listed))
