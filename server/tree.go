package server

import (
	"strings"

	"github.com/smbvfs/smbvfs/protocol/dtyp"
	"github.com/smbvfs/smbvfs/protocol/ntstatus"
	"github.com/smbvfs/smbvfs/protocol/smb2"
)

const (
	accessAll  dtyp.AccessMask = 0x001F01FF // FILE_ALL_ACCESS
	accessRead dtyp.AccessMask = 0x001200A9 // FILE_GENERIC_READ | FILE_GENERIC_EXECUTE
)

// shareName extracts the share of a tree connect path: \\server\share.
func shareName(path string) string {
	p := strings.TrimLeft(path, `\/`)
	if i := strings.IndexAny(p, `\/`); i >= 0 {
		p = p[i+1:]
	}
	return strings.TrimRight(p, `\/`)
}

// TreeConnect handles SMB2 TREE_CONNECT (MS-SMB2 3.3.5.7).
func (c *conn) TreeConnect(call *smb2.Call, req *smb2.TreeConnectRequest, resp *smb2.TreeConnectResponse) ntstatus.Status {
	s := c.cur.sess
	path := req.Path.String()
	if c.dialect == smb2.Dialect311 && req.Flags&smb2.TreeConnectFlagExtensionPresent != 0 {
		var ext smb2.TreeConnectRequestExtended
		if err := ext.Decode(call.PDU, call.Hdr); err != nil {
			return ntstatus.StatusInvalidParameter
		}
		path = ext.PathName.String()
	}
	name := shareName(path)
	if name == "" || strings.ContainsAny(name, `\/`) {
		return ntstatus.StatusBadNetworkName
	}
	sh := c.srv.lookupShare(name)
	if sh == nil {
		return ntstatus.StatusBadNetworkName
	}
	if id := s.getIdentity(); !sh.permits(id) {
		c.log.Info("tree connect refused", "share", sh.name, "user", id.User, "guest", id.Guest, "anonymous", id.Anonymous)
		return ntstatus.StatusAccessDenied
	}
	t := &tree{share: sh, encrypt: sh.encrypt}
	if sh.encrypt && (s.enc == nil || c.dialect < smb2.Dialect300) {
		return ntstatus.StatusAccessDenied
	}
	if sh.fs != nil {
		ft, err := sh.fs.Connect(c.ctx, s.identity)
		if err != nil {
			c.log.Debug("tree connect", "share", sh.name, "err", err)
			return ntstatus.StatusAccessDenied
		}
		t.ft = ft
	}
	if !s.addTree(t) {
		if t.ft != nil {
			t.ft.Disconnect(c.ctx)
		}
		return ntstatus.StatusUserSessionDeleted
	}
	c.cur.respTreeID = t.id
	c.cmp.treeID = t.id
	if sh.pipe {
		resp.ShareType = smb2.ShareTypePipe
		resp.ShareFlags = smb2.ShareFlagNoCaching
		resp.MaximalAccess = accessAll
	} else {
		resp.ShareType = smb2.ShareTypeDisk
		resp.ShareFlags = smb2.ShareFlagManualCaching
		resp.MaximalAccess = accessAll
		if sh.ro {
			resp.MaximalAccess = accessRead
		}
	}
	if t.encrypt || s.encryptData {
		resp.ShareFlags |= smb2.ShareFlagEncryptData
	}
	return ntstatus.StatusSuccess
}

// TreeDisconnect handles SMB2 TREE_DISCONNECT (MS-SMB2 3.3.5.8).
func (c *conn) TreeDisconnect(call *smb2.Call, req *smb2.TreeDisconnectRequest, resp *smb2.TreeDisconnectResponse) ntstatus.Status {
	t := c.cur.sess.removeTree(c.cur.tree.id)
	if t == nil {
		return ntstatus.StatusNetworkNameDeleted
	}
	if t.ft != nil {
		t.ft.Disconnect(c.ctx)
	}
	t.closed(c.srv, -1)
	c.cleanupAsync(func(a *asyncOp) bool { return a.tree == t })
	return ntstatus.StatusSuccess
}

// Echo handles SMB2 ECHO (MS-SMB2 3.3.5.17).
func (c *conn) Echo(call *smb2.Call, req *smb2.EchoRequest, resp *smb2.EchoResponse) ntstatus.Status {
	return ntstatus.StatusSuccess
}
