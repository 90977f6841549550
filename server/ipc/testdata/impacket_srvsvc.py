# Lists shares and reads share and server information over srvsvc with impacket.
# usage: impacket_srvsvc.py PORT DIALECT(2.0.2|2.1|3.0) USER PASSWORD SHARE
# Prints one line per result: "share NAME TYPE REMARK", "getinfo ...", "server ...".
import sys

from impacket import smb3structs
from impacket.dcerpc.v5 import srvs, transport, wkst
from impacket.smbconnection import SMBConnection

port, dialect, user, password, share = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
d = {"2.0.2": smb3structs.SMB2_DIALECT_002, "2.1": smb3structs.SMB2_DIALECT_21, "3.0": smb3structs.SMB2_DIALECT_30}[dialect]
conn = SMBConnection("127.0.0.1", "127.0.0.1", sess_port=int(port), preferredDialect=d)
conn.login(user, password)
for s in conn.listShares():
    print("share %s %#x %s" % (s["shi1_netname"][:-1], s["shi1_type"], s["shi1_remark"][:-1]))

rpc = transport.SMBTransport("127.0.0.1", int(port), r"\srvsvc", smb_connection=conn)
dce = rpc.get_dce_rpc()
dce.connect()
dce.bind(srvs.MSRPC_UUID_SRVS)
r = srvs.hNetrShareGetInfo(dce, share + "\x00", 2)
i = r["InfoStruct"]["ShareInfo2"]
print("getinfo2 %s %#x %s" % (i["shi2_netname"][:-1], i["shi2_type"], i["shi2_remark"][:-1]))
r = srvs.hNetrShareGetInfo(dce, share + "\x00", 1)
i = r["InfoStruct"]["ShareInfo1"]
print("getinfo1 %s %#x %s" % (i["shi1_netname"][:-1], i["shi1_type"], i["shi1_remark"][:-1]))
r = srvs.hNetrServerGetInfo(dce, 101)
i = r["InfoStruct"]["ServerInfo101"]
print("server101 %s %d %d.%d %#x %s" % (i["sv101_name"][:-1], i["sv101_platform_id"], i["sv101_version_major"], i["sv101_version_minor"], i["sv101_type"], i["sv101_comment"][:-1]))
r = srvs.hNetrServerGetInfo(dce, 100)
i = r["InfoStruct"]["ServerInfo100"]
print("server100 %s %d" % (i["sv100_name"][:-1], i["sv100_platform_id"]))
r = srvs.hNetrShareEnum(dce, 2)
print("enum2 %d" % r["TotalEntries"])
dce.disconnect()

rpc = transport.SMBTransport("127.0.0.1", int(port), r"\wkssvc", smb_connection=conn)
dce = rpc.get_dce_rpc()
dce.connect()
dce.bind(wkst.MSRPC_UUID_WKST)
r = wkst.hNetrWkstaGetInfo(dce, 100)
i = r["WkstaInfo"]["WkstaInfo100"]
print("wksta100 %s %s %d.%d" % (i["wki100_computername"][:-1], i["wki100_langroup"][:-1], i["wki100_ver_major"], i["wki100_ver_minor"]))
dce.disconnect()
conn.logoff()
