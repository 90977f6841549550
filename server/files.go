package server

import (
	"encoding/binary"

	"github.com/smbvfs/smbvfs/protocol/fscc"
	"github.com/smbvfs/smbvfs/protocol/ntstatus"
	"github.com/smbvfs/smbvfs/protocol/smb2"
	"github.com/smbvfs/smbvfs/server/ntfs"
)

// useFileID resolves the FileId of a request (MS-SMB2 3.3.5.2.7.2): in a related
// operation all 0xFF bytes name the FileId of the previous operation of the chain (a CREATE,
// or a request that named its open), and fail with the CREATE's status when it failed.
func (c *conn) useFileID(fid *smb2.FileId) ntstatus.Status {
	if *fid == anyFileID {
		if !c.cur.related {
			return ntstatus.StatusFileClosed
		}
		if c.cmp.createErr != 0 {
			return c.cmp.createErr
		}
		if !c.cmp.haveFile {
			return ntstatus.StatusFileClosed
		}
		*fid = c.cmp.fileID
		return ntstatus.StatusSuccess
	}
	// A request naming its open passes it on to the related requests that follow.
	c.cmp.fileID, c.cmp.haveFile, c.cmp.createErr = *fid, true, 0
	return ntstatus.StatusSuccess
}

// fileCall runs the checks every file command starts with: the credit charge of a request
// that may be multi-credit (charge 0: a single-credit command, not checked here), the FileId of
// a related compound, and the file engine of the request's tree.
func (c *conn) fileCall(charge int, fid *smb2.FileId) (fileTree, ntstatus.Status) {
	if charge > 0 {
		if st := c.checkCharge(charge); st != 0 {
			return nil, st
		}
	}
	if st := c.useFileID(fid); st != 0 {
		return nil, st
	}
	ft := c.fileTree()
	if ft == nil {
		return nil, ntstatus.StatusFileClosed
	}
	return ft, 0
}

// checkCharge checks the CreditCharge of a multi-credit request (MS-SMB2 3.3.5.2.5).
func (c *conn) checkCharge(need int) ntstatus.Status {
	if c.serverCaps&smb2.CapLargeMtu == 0 {
		return ntstatus.StatusSuccess
	}
	charge := max(1, int(c.hdr.CreditCharge))
	if charge < need {
		return ntstatus.StatusInvalidParameter
	}
	return ntstatus.StatusSuccess
}

// fileTree returns the tree's file engine, nil for IPC$.
func (c *conn) fileTree() fileTree { return c.cur.tree.ft }

// Create handles SMB2 CREATE.
func (c *conn) Create(call *smb2.Call, req *smb2.CreateRequest, resp *smb2.CreateResponse) ntstatus.Status {
	ft := c.fileTree()
	var st ntstatus.Status
	if ft == nil {
		st = ntstatus.StatusObjectNameNotFound // named pipes: not yet
	} else {
		// The last request of a frame may go asynchronous while it waits for the
		// acknowledgment of the oplock breaks it causes (MS-SMB2 3.3.4.6); one followed by
		// others of its chain waits on the loop.
		last := c.hdr.NextCommand == 0
		if last {
			c.cur.r.OplockWait = ntfs.OplockWaitNever
		}
		st = ft.Create(&c.cur.r, req, resp)
		if st == ntstatus.StatusPending && last {
			return c.createAsync(ft)
		}
	}
	if st == ntstatus.StatusSuccess {
		c.cmp.fileID, c.cmp.haveFile, c.cmp.createErr = resp.FileId, true, 0
		c.cur.tree.opened(c.srv)
	} else if !smb2.IsErrorResponse(smb2.CommandCreate, st) {
		c.cmp.fileID, c.cmp.haveFile, c.cmp.createErr = resp.FileId, true, 0
	} else {
		c.cmp.haveFile, c.cmp.createErr = false, st
	}
	return st
}

// createAsync runs again, in a goroutine, a CREATE that must wait for oplock break
// acknowledgments: the breaks go out at once, the interim response when it does not
// complete within lockWait (the holder may be on this very connection).
func (c *conn) createAsync(ft fileTree) ntstatus.Status {
	srv, t := c.srv, c.cur.tree
	return c.goAsync(lockWait, func(a *asyncOp) (ntstatus.Status, smb2.Body) {
		var rq smb2.CreateRequest
		var rs smb2.CreateResponse
		if err := rq.Decode(a.msg, 0); err != nil {
			return ntstatus.StatusInvalidParameter, nil
		}
		a.r.OplockWait = ntfs.OplockWaitAll
		st := ft.Create(&a.r, &rq, &rs)
		if st == ntstatus.StatusSuccess {
			t.opened(srv)
		}
		return st, &rs
	})
}

// Close handles SMB2 CLOSE.
func (c *conn) Close(call *smb2.Call, req *smb2.CloseRequest, resp *smb2.CloseResponse) ntstatus.Status {
	ft, st := c.fileCall(0, &req.FileId)
	if st != 0 {
		return st
	}
	st = ft.Close(&c.cur.r, req, resp)
	if st == ntstatus.StatusSuccess {
		c.cur.tree.closed(c.srv, 1)
	}
	return st
}

// Flush handles SMB2 FLUSH.
func (c *conn) Flush(call *smb2.Call, req *smb2.FlushRequest, resp *smb2.FlushResponse) ntstatus.Status {
	ft, st := c.fileCall(0, &req.FileId)
	if st != 0 {
		return st
	}
	return ft.Flush(&c.cur.r, req, resp)
}

// Read handles SMB2 READ.
func (c *conn) Read(call *smb2.Call, req *smb2.ReadRequest, resp *smb2.ReadResponse) ntstatus.Status {
	if st := c.checkCharge(req.CreditCharge()); st != 0 {
		return st
	}
	if int(req.Length) > c.maxRead {
		return ntstatus.StatusInvalidParameter
	}
	ft, st := c.fileCall(0, &req.FileId)
	if st != 0 {
		return st
	}
	c.readIntoResponse(int(req.Length))
	st = ft.Read(&c.cur.r, req, resp)
	if st == ntstatus.StatusSuccess {
		c.srv.stats.BytesRead.Add(int64(len(resp.Data)))
	}
	return st
}

// Write handles SMB2 WRITE.
func (c *conn) Write(call *smb2.Call, req *smb2.WriteRequest, resp *smb2.WriteResponse) ntstatus.Status {
	if st := c.checkCharge(req.CreditCharge()); st != 0 {
		return st
	}
	if len(req.Data) > c.maxWrite {
		return ntstatus.StatusInvalidParameter
	}
	ft, st := c.fileCall(0, &req.FileId)
	if st != 0 {
		return st
	}
	st = ft.Write(&c.cur.r, req, resp)
	if st == ntstatus.StatusSuccess {
		c.srv.stats.BytesWritten.Add(int64(resp.Count))
	}
	return st
}

// Lock handles SMB2 LOCK; a lock that may wait goes asynchronous.
func (c *conn) Lock(call *smb2.Call, req *smb2.LockRequest, resp *smb2.LockResponse) ntstatus.Status {
	ft, st := c.fileCall(0, &req.FileId)
	if st != 0 {
		return st
	}
	blocking := false
	for it := req.Locks.Iter(); it.Next(); {
		f := it.Value().Flags
		if f&smb2.LockFlagUnlock == 0 && f&smb2.LockFlagFailImmediately == 0 {
			blocking = true
		}
	}
	if !blocking {
		return ft.Lock(&c.cur.r, req, resp)
	}
	fid := req.FileId // req is the connection's, reused by the next request
	return c.goAsync(lockWait, func(a *asyncOp) (ntstatus.Status, smb2.Body) {
		var rq smb2.LockRequest
		var rs smb2.LockResponse
		if err := rq.Decode(a.msg, 0); err != nil {
			return ntstatus.StatusInvalidParameter, nil
		}
		rq.FileId = fid
		st := ft.Lock(&a.r, &rq, &rs)
		return st, &rs
	})
}

// QueryDirectory handles SMB2 QUERY_DIRECTORY.
func (c *conn) QueryDirectory(call *smb2.Call, req *smb2.QueryDirectoryRequest, resp *smb2.QueryDirectoryResponse) ntstatus.Status {
	ft, st := c.fileCall(req.CreditCharge(), &req.FileId)
	if st != 0 {
		return st
	}
	c.scratchFor(int(min(req.OutputBufferLength, uint32(c.maxTransact))))
	return ft.QueryDirectory(&c.cur.r, req, resp)
}

// notifyStarter is a fileTree that queues a CHANGE_NOTIFY in two steps (*ntfs.Tree).
type notifyStarter interface {
	StartChangeNotify(r *ntfs.Req, req *smb2.ChangeNotifyRequest, resp *smb2.ChangeNotifyResponse) (*ntfs.NotifyWait, ntstatus.Status)
}

// ChangeNotify handles SMB2 CHANGE_NOTIFY. The request is queued on its directory's
// watch before the next request of the connection runs, so that a CLOSE behind it
// completes it with STATUS_NOTIFY_CLEANUP and requests on one open complete in the order
// they came (MS-SMB2 3.3.1.4); unless buffered changes complete it at once, it waits
// asynchronously.
func (c *conn) ChangeNotify(call *smb2.Call, req *smb2.ChangeNotifyRequest, resp *smb2.ChangeNotifyResponse) ntstatus.Status {
	ft, st := c.fileCall(req.CreditCharge(), &req.FileId)
	if st != 0 {
		return st
	}
	if ns, ok := ft.(notifyStarter); ok {
		c.scratchFor(int(min(req.OutputBufferLength, uint32(c.maxTransact))))
		w, st := ns.StartChangeNotify(&c.cur.r, req, resp)
		if st != ntstatus.StatusPending {
			return st
		}
		return c.goAsync(0, func(a *asyncOp) (ntstatus.Status, smb2.Body) {
			var rs smb2.ChangeNotifyResponse
			st := w.Wait(&a.r, &rs)
			return st, &rs
		})
	}
	fid := req.FileId
	return c.goAsync(0, func(a *asyncOp) (ntstatus.Status, smb2.Body) {
		var rq smb2.ChangeNotifyRequest
		var rs smb2.ChangeNotifyResponse
		if err := rq.Decode(a.msg, 0); err != nil {
			return ntstatus.StatusInvalidParameter, nil
		}
		rq.FileId = fid
		st := ft.ChangeNotify(&a.r, &rq, &rs)
		return st, &rs
	})
}

// QueryInfo handles SMB2 QUERY_INFO.
func (c *conn) QueryInfo(call *smb2.Call, req *smb2.QueryInfoRequest, resp *smb2.QueryInfoResponse) ntstatus.Status {
	ft, st := c.fileCall(req.CreditCharge(), &req.FileId)
	if st != 0 {
		return st
	}
	c.scratchFor(int(min(req.OutputBufferLength, uint32(c.maxTransact))))
	return ft.QueryInfo(&c.cur.r, req, resp)
}

// SetInfo handles SMB2 SET_INFO.
func (c *conn) SetInfo(call *smb2.Call, req *smb2.SetInfoRequest, resp *smb2.SetInfoResponse) ntstatus.Status {
	ft, st := c.fileCall(req.CreditCharge(), &req.FileId)
	if st != 0 {
		return st
	}
	return ft.SetInfo(&c.cur.r, req, resp)
}

// OplockBreak handles SMB2 OPLOCK_BREAK acknowledgments.
func (c *conn) OplockBreak(call *smb2.Call, req *smb2.OplockBreakRequestForms, resp *smb2.OplockBreakResponseForms) ntstatus.Status {
	if c.cur.tree == nil {
		// The command does not need a tree by the table, but an acknowledgment names an open.
		return ntstatus.StatusNetworkNameDeleted
	}
	if req.Size == 24 {
		if st := c.useFileID(&req.OplockBreakAcknowledgment.FileId); st != 0 {
			return st
		}
	}
	ft := c.fileTree()
	if ft == nil {
		return ntstatus.StatusFileClosed
	}
	return ft.OplockBreak(&c.cur.r, req, resp)
}

// Ioctl handles SMB2 IOCTL: the server's own FSCTLs here, the rest in the file engine.
func (c *conn) Ioctl(call *smb2.Call, req *smb2.IoctlRequest, resp *smb2.IoctlResponse) ntstatus.Status {
	if st := c.checkCharge(req.CreditCharge()); st != 0 {
		return st
	}
	if int(req.MaxOutputResponse) > c.maxTransact || len(req.Input) > c.maxTransact {
		return ntstatus.StatusInvalidParameter
	}
	resp.CtlCode = req.CtlCode
	switch req.CtlCode {
	case fscc.FsctlValidateNegotiateInfo:
		return c.validateNegotiate(req, resp)
	case fscc.FsctlQueryNetworkInterfaceInfo:
		return c.networkInterfaces(req, resp)
	}
	if req.Flags&smb2.IoctlFlags(1) == 0 {
		return ntstatus.StatusNotSupported // only FSCTLs, no device IOCTLs
	}
	if req.CtlCode == fscc.FsctlPipeWait && req.FileId == anyFileID && !c.cur.related {
		// FSCTL_PIPE_WAIT is sent on the tree, not on an open: its FileId is all 0xFF
		// outside any compound (MS-SMB2 3.2.4.20.9) and names no previous operation.
	} else if st := c.useFileID(&req.FileId); st != 0 {
		return st
	}
	ft := c.fileTree()
	if ft == nil {
		if req.CtlCode == fscc.FsctlPipeTransceive || req.CtlCode == fscc.FsctlPipeWait || req.CtlCode == fscc.FsctlPipePeek {
			return ntstatus.StatusNotSupported
		}
		return ntstatus.StatusFileClosed
	}
	resp.FileId = req.FileId
	c.scratchFor(int(req.MaxOutputResponse))
	return ft.Ioctl(&c.cur.r, req, resp)
}

// validateNegotiate answers FSCTL_VALIDATE_NEGOTIATE_INFO (MS-SMB2 3.3.5.15.12).
func (c *conn) validateNegotiate(req *smb2.IoctlRequest, resp *smb2.IoctlResponse) ntstatus.Status {
	if c.dialect == smb2.Dialect311 {
		c.cur.disconnect = true
		return ntstatus.StatusAccessDenied
	}
	if req.FileId != anyFileID {
		return ntstatus.StatusInvalidParameter
	}
	var v fscc.ValidateNegotiateInfoRequest
	if err := v.Decode(req.Input); err != nil {
		c.cur.disconnect = true
		return ntstatus.StatusInvalidParameter
	}
	if req.MaxOutputResponse < 24 {
		c.cur.disconnect = true
		return ntstatus.StatusInvalidParameter
	}
	var best smb2.Dialect
	for i := 0; i < v.Dialects.Len(); i++ {
		d := smb2.Dialect(v.Dialects.At(i))
		if knownDialect(d) && d >= c.srv.opts.MinDialect && d <= c.srv.opts.MaxDialect && d > best {
			best = d
		}
	}
	if best != c.dialect || v.Guid != c.clientGuid || smb2.SecurityMode(v.SecurityMode) != c.clientSecMode ||
		smb2.Capabilities(v.Capabilities) != c.clientCaps {
		c.log.Warn("validate negotiate mismatch: dropping the connection")
		c.cur.disconnect = true
		return ntstatus.StatusAccessDenied
	}
	out := make([]byte, 24)
	binary.LittleEndian.PutUint32(out, uint32(c.serverCaps))
	copy(out[4:], c.srv.guid[:])
	binary.LittleEndian.PutUint16(out[20:], uint16(c.serverSecMode))
	binary.LittleEndian.PutUint16(out[22:], uint16(c.dialect))
	resp.FileId = anyFileID
	resp.Output = out
	return ntstatus.StatusSuccess
}

// networkInterfaces answers FSCTL_QUERY_NETWORK_INTERFACE_INFO with the address the client
// reached (MS-SMB2 3.3.5.15.11).
func (c *conn) networkInterfaces(req *smb2.IoctlRequest, resp *smb2.IoctlResponse) ntstatus.Status {
	if req.FileId != anyFileID {
		return ntstatus.StatusInvalidParameter
	}
	out, st := localInterfaceInfo(c.nc.LocalAddr())
	if st != 0 {
		return st
	}
	if len(out) > int(req.MaxOutputResponse) {
		return ntstatus.StatusBufferTooSmall
	}
	resp.FileId = anyFileID
	resp.Output = out
	return ntstatus.StatusSuccess
}
