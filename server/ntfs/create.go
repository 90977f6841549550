package ntfs

import (
	"context"
	"errors"

	"github.com/smbvfs/smbvfs/backends/vfs"
	"github.com/smbvfs/smbvfs/protocol/dtyp"
	"github.com/smbvfs/smbvfs/protocol/fscc"
	"github.com/smbvfs/smbvfs/protocol/ntstatus"
	"github.com/smbvfs/smbvfs/protocol/smb2"
)

// createContexts are the request contexts the engine acts on.
type createContexts struct {
	mxac    bool
	qfid    bool
	eas     []byte // ExtA: a FILE_FULL_EA_INFORMATION chain
	sd      []byte // SecD: a self-relative security descriptor
	hasEAs  bool
	badList bool
	dur     durableRequest // DHnQ, DHnC, DH2Q, DH2C (durable.go)
}

func parseContexts(l smb2.CreateContextList, dialect smb2.Dialect) (c createContexts, st ntstatus.Status) {
	it := l.Iter()
	seen := make(map[string]bool, 2)
	for it.Next() {
		e := it.Value()
		switch string(e.Name) {
		case "DHnQ", "DHnC", "DH2Q", "DH2C":
			if st := c.dur.parse(string(e.Name), e.Data, dialect, seen); st != ntstatus.StatusSuccess {
				return c, st
			}
		case "MxAc":
			c.mxac = true
		case "QFid":
			c.qfid = true
		case "ExtA":
			var b smb2.CreateEaBuffer
			if err := b.Decode(e.Data); err != nil {
				return c, ntstatus.StatusInvalidParameter
			}
			c.eas, c.hasEAs = b.ExtendedAttributes, true
		case "SecD":
			var b smb2.CreateSdBuffer
			if err := b.Decode(e.Data); err != nil {
				return c, ntstatus.StatusInvalidParameter
			}
			c.sd = b.SecurityDescriptor
		}
		// Leases (RqLs), app instance ids, timewarp tokens and the rest are not granted:
		// they are ignored and not answered.
	}
	if it.Err() != nil {
		return c, ntstatus.StatusInvalidParameter
	}
	return c, c.dur.check(seen)
}

// grant computes the access of a new open: the rights asked for (with MAXIMUM_ALLOWED
// standing for the maximal access), refused if they exceed what may be granted.
func grant(access, maximal dtyp.AccessMask) (dtyp.AccessMask, ntstatus.Status) {
	want := access &^ dtyp.MaximumAllowed
	if want&^maximal != 0 {
		return 0, ntstatus.StatusAccessDenied
	}
	if access&dtyp.MaximumAllowed != 0 {
		want |= maximal
	}
	return want, ntstatus.StatusSuccess
}

// createReq is a CREATE in progress.
type createReq struct {
	t      *Tree
	ctx    context.Context
	req    *smb2.CreateRequest
	pn     parsedName
	access dtyp.AccessMask // GENERIC_* mapped
	cc     createContexts
	disp   smb2.CreateDisposition
	opts   smb2.CreateOptions

	notifier Notifier   // the requester's connection (oplock.go)
	wait     OplockWait // how it waits for oplock break acknowledgments
	dialect  smb2.Dialect
}

// Create implements SMB2 CREATE (MS-SMB2 3.3.5.9) over the vfs contract.
func (t *Tree) Create(r *Req, req *smb2.CreateRequest, resp *smb2.CreateResponse) ntstatus.Status {
	r.reset()
	c := &createReq{t: t, ctx: r.ctx(), req: req, disp: req.CreateDisposition, opts: req.CreateOptions,
		notifier: r.Notifier, wait: r.OplockWait, dialect: r.Dialect}
	if st := c.validate(); st != ntstatus.StatusSuccess {
		return st
	}
	if c.cc.dur.reconnect {
		o, st := t.reconnect(r, &c.cc.dur)
		if st != ntstatus.StatusSuccess {
			return st
		}
		return t.reopened(c.ctx, o, resp)
	}
	if o := t.replayed(r, &c.cc.dur); o != nil {
		return t.reopened(c.ctx, o, resp)
	}
	o, action, maximal, st := c.run()
	if st != ntstatus.StatusSuccess {
		return st
	}
	a, err := t.attrOf(c.ctx, o)
	if err != nil {
		t.closeOpen(c.ctx, o)
		return errStatus(err)
	}
	fillCreateResponse(resp, o, a, action, smb2.OplockLevelNone)
	if o.isDir {
		resp.EndofFile, resp.AllocationSize = 0, 0
	}
	resp.OplockLevel = t.grantOplock(r, o, req.RequestedOplockLevel)
	if cc := t.makeDurable(r, o, &c.cc.dur, resp.OplockLevel); cc != nil {
		resp.CreateContexts.Add(cc)
	}
	if c.cc.mxac {
		m := smb2.QueryMaximalAccessResponse{QueryStatus: ntstatus.StatusSuccess, MaximalAccess: maximal}
		data, _ := m.Append(nil)
		resp.CreateContexts.Add(&smb2.CreateContext{Name: []byte("MxAc"), Data: data})
	}
	if c.cc.qfid {
		q := smb2.QueryOnDiskIdResponse{DiskFileId: o.f.id, VolumeId: t.s.volID}
		data, _ := q.Append(nil)
		resp.CreateContexts.Add(&smb2.CreateContext{Name: []byte("QFid"), Data: data})
	}
	return ntstatus.StatusSuccess
}

// validate checks the request fields (MS-SMB2 3.3.5.9, MS-FSA 2.1.5.1 parameter checks).
// fillCreateResponse sets the fixed fields of a CREATE response for o, whose attributes
// are a.
func fillCreateResponse(resp *smb2.CreateResponse, o *open, a vfs.Attr, action smb2.CreateAction, level smb2.OplockLevel) {
	*resp = smb2.CreateResponse{
		OplockLevel:    level,
		CreateAction:   action,
		CreationTime:   toFiletime(a.Created),
		LastAccessTime: toFiletime(a.Accessed),
		LastWriteTime:  toFiletime(a.Modified),
		ChangeTime:     toFiletime(a.Changed),
		AllocationSize: allocSize(a),
		EndofFile:      uint64(a.Size),
		FileAttributes: toAttributes(a.DOS),
		FileId:         o.fid,
	}
}

func (c *createReq) validate() ntstatus.Status {
	req := c.req
	var st ntstatus.Status
	if c.cc, st = parseContexts(req.CreateContexts, c.dialect); st != ntstatus.StatusSuccess {
		return st
	}
	if c.cc.dur.reconnect {
		// A reconnect looks at nothing but its context: every other field, the name
		// included, is ignored (MS-SMB2 3.3.5.9.7; smbtorture durable-open.reopen2).
		return ntstatus.StatusSuccess
	}
	if len(req.Name)%2 != 0 {
		return ntstatus.StatusInvalidParameter
	}
	if req.ImpersonationLevel > smb2.ImpersonationLevelDelegate {
		return ntstatus.StatusBadImpersonationLevel
	}
	if c.disp > smb2.FileOverwriteIf {
		return ntstatus.StatusInvalidParameter
	}
	if c.opts.Has(smb2.FileDirectoryFile | smb2.FileNonDirectoryFile) {
		return ntstatus.StatusInvalidParameter
	}
	if c.opts.Has(smb2.FileDirectoryFile) && c.disp != smb2.FileCreate && c.disp != smb2.FileOpen && c.disp != smb2.FileOpenIf {
		return ntstatus.StatusInvalidParameter
	}
	if c.opts&(smb2.FileOpenByFileId|smb2.FileReserveOpfilter) != 0 {
		return ntstatus.StatusNotSupported
	}
	if req.FileAttributes&^validAttributes != 0 {
		return ntstatus.StatusInvalidParameter
	}
	c.access = mapGeneric(req.DesiredAccess)
	if c.access&dtyp.AccessSystemSecurity != 0 {
		return ntstatus.StatusPrivilegeNotHeld
	}
	if c.opts.Has(smb2.FileDeleteOnClose) && c.access&(dtyp.Delete|dtyp.MaximumAllowed) == 0 {
		return ntstatus.StatusInvalidParameter
	}
	if c.pn, st = parseName(req.Name.String(), false); st != ntstatus.StatusSuccess {
		return st
	}
	return ntstatus.StatusSuccess
}

func (c *createReq) run() (*open, smb2.CreateAction, dtyp.AccessMask, ntstatus.Status) {
	s := c.t.s
	for range 3 { // a name created or removed meanwhile by someone else: try again
		w, err := s.walk(c.ctx, c.pn.comps, false)
		if err != nil {
			return nil, 0, 0, errStatus(err)
		}
		var o *open
		var action smb2.CreateAction
		var maximal dtyp.AccessMask
		var st ntstatus.Status
		if w.node != nil {
			o, action, maximal, st = c.existing(w)
		} else {
			o, action, maximal, st = c.create(w)
		}
		if st == errRetry {
			continue
		}
		return o, action, maximal, st
	}
	return nil, 0, 0, ntstatus.StatusSharingViolation
}

// errRetry is an internal status: the namespace changed under the CREATE.
const errRetry = ntstatus.Status(0xE0000001)

func isOverwrite(d smb2.CreateDisposition) bool {
	return d == smb2.FileOverwrite || d == smb2.FileOverwriteIf || d == smb2.FileSupersede
}

// existing opens (or overwrites) a node that exists.
func (c *createReq) existing(w walked) (*open, smb2.CreateAction, dtyp.AccessMask, ntstatus.Status) {
	s := c.t.s
	a, err := w.node.Attr(c.ctx)
	if err != nil {
		if errors.Is(err, vfs.ErrNotExist) || errors.Is(err, vfs.ErrStale) {
			return nil, 0, 0, errRetry
		}
		return nil, 0, 0, errStatus(err)
	}
	isDir := a.IsDir()
	named := c.pn.stream != ""
	switch {
	case c.pn.trailing && !isDir:
		return nil, 0, 0, ntstatus.StatusObjectNameInvalid
	case !named && c.disp == smb2.FileCreate:
		// FILE_CREATE of an existing name collides whatever its type.
		return nil, 0, 0, ntstatus.StatusObjectNameCollision
	case (named || c.pn.dataType) && c.opts.Has(smb2.FileDirectoryFile):
		return nil, 0, 0, ntstatus.StatusNotADirectory // a stream is never a directory
	case !named && isDir && c.pn.dataType:
		return nil, 0, 0, ntstatus.StatusFileIsADirectory
	case !named && isDir && c.opts.Has(smb2.FileNonDirectoryFile):
		return nil, 0, 0, ntstatus.StatusFileIsADirectory
	case !named && !isDir && c.opts.Has(smb2.FileDirectoryFile):
		return nil, 0, 0, ntstatus.StatusNotADirectory
	}
	if named {
		return c.stream(w, a, false)
	}
	if c.disp == smb2.FileCreate {
		return nil, 0, 0, ntstatus.StatusObjectNameCollision
	}
	if isDir && isOverwrite(c.disp) {
		return nil, 0, 0, ntstatus.StatusFileIsADirectory
	}
	maximal := s.maximalAccess(a, true) & c.t.aclMaximal(c.ctx, w.node, w.parent)
	granted, st := grant(c.access, maximal)
	if st != ntstatus.StatusSuccess {
		return nil, 0, 0, st
	}
	action := smb2.FileOpened
	if isOverwrite(c.disp) {
		if maximal&dtyp.FileWriteData == 0 {
			return nil, 0, 0, ntstatus.StatusAccessDenied
		}
		// Overwriting a hidden or system file needs the request to keep those attributes.
		keep := a.DOS & (vfs.DOSHidden | vfs.DOSSystem)
		if keep&^fromAttributes(c.req.FileAttributes) != 0 {
			return nil, 0, 0, ntstatus.StatusAccessDenied
		}
		action = smb2.FileOverwritten
		if c.disp == smb2.FileSupersede {
			action = smb2.FileSuperseded
		}
	}
	if c.opts.Has(smb2.FileDeleteOnClose) {
		if a.DOS&vfs.DOSReadOnly != 0 {
			return nil, 0, 0, ntstatus.StatusCannotDelete
		}
		if granted&dtyp.Delete == 0 {
			return nil, 0, 0, ntstatus.StatusAccessDenied
		}
	}
	o, st := c.reserve(a.ID, isDir, w.stored, w.node, "", "", granted, false)
	if st != ntstatus.StatusSuccess {
		return nil, 0, 0, st
	}
	if !isDir {
		if st := c.openData(o, w.node, granted, isOverwrite(c.disp)); st != ntstatus.StatusSuccess {
			c.t.closeOpen(c.ctx, o)
			return nil, 0, 0, st
		}
		if isOverwrite(c.disp) {
			set := fromAttributes(c.req.FileAttributes)&settableAttributes | vfs.DOSArchive
			change := vfs.AttrChange{Set: set}
			if c.disp == smb2.FileSupersede {
				change.Clear = settableAttributes &^ set
			}
			setAttr(c.ctx, w.node, change)
			if c.cc.hasEAs {
				if st := applyEAs(c.ctx, w.node, c.cc.eas); st != ntstatus.StatusSuccess {
					c.t.closeOpen(c.ctx, o)
					return nil, 0, 0, st
				}
			}
		}
	}
	return o, action, maximal, ntstatus.StatusSuccess
}

// create makes a new file or directory (the last component is missing).
func (c *createReq) create(w walked) (*open, smb2.CreateAction, dtyp.AccessMask, ntstatus.Status) {
	s := c.t.s
	if c.disp == smb2.FileOpen || c.disp == smb2.FileOverwrite {
		return nil, 0, 0, ntstatus.StatusObjectNameNotFound
	}
	if c.pn.trailing && !c.opts.Has(smb2.FileDirectoryFile) {
		return nil, 0, 0, ntstatus.StatusObjectNameInvalid
	}
	if (c.pn.stream != "" || c.pn.dataType) && c.opts.Has(smb2.FileDirectoryFile) {
		return nil, 0, 0, ntstatus.StatusNotADirectory // a stream is never a directory
	}
	if s.opt.ReadOnly {
		return nil, 0, 0, ntstatus.StatusAccessDenied
	}
	if st := s.checkParentPending(c.ctx, w.parent); st != ntstatus.StatusSuccess {
		return nil, 0, 0, st
	}
	if c.opts.Has(smb2.FileDeleteOnClose) && c.req.FileAttributes&fscc.FileAttributeReadonly != 0 && c.pn.stream == "" {
		// A new read-only file cannot be deleted on close (NTFS; smbtorture
		// smb2.delete-on-close-perms.READONLY).
		return nil, 0, 0, ntstatus.StatusCannotDelete
	}
	name := w.stored[len(w.stored)-1]
	mkdir := c.opts.Has(smb2.FileDirectoryFile) && c.pn.stream == ""
	maximal := fileAllAccess
	granted, st := grant(c.access, maximal)
	if st != ntstatus.StatusSuccess {
		return nil, 0, 0, st
	}
	var node vfs.Node
	var h vfs.Handle
	var err error
	if mkdir {
		m, ok := w.parent.(vfs.Mkdirer)
		if !ok {
			return nil, 0, 0, ntstatus.StatusAccessDenied
		}
		node, err = m.Mkdir(c.ctx, name)
	} else {
		cr, ok := w.parent.(vfs.Creator)
		if !ok {
			return nil, 0, 0, ntstatus.StatusAccessDenied
		}
		node, h, err = cr.Create(c.ctx, name)
	}
	if err != nil {
		if errors.Is(err, vfs.ErrExist) && c.disp != smb2.FileCreate {
			return nil, 0, 0, errRetry
		}
		return nil, 0, 0, errStatus(err)
	}
	// The new node's attributes and contexts.
	set := fromAttributes(c.req.FileAttributes) & settableAttributes
	if !mkdir {
		set |= vfs.DOSArchive
	}
	if set != 0 {
		setAttr(c.ctx, node, vfs.AttrChange{Set: set})
	}
	if c.cc.hasEAs {
		if st := applyEAs(c.ctx, node, c.cc.eas); st != ntstatus.StatusSuccess {
			if h != nil {
				h.Close(c.ctx)
			}
			c.undoCreate(w.parent, name, mkdir)
			return nil, 0, 0, st
		}
	}
	if sec, ok := node.(vfs.Securer); ok {
		if sd := newSecurity(c.ctx, w.parent, c.cc.sd, mkdir); sd != nil {
			sec.SetSecurity(c.ctx, sd)
		}
	}
	a, err := node.Attr(c.ctx)
	if err != nil {
		if h != nil {
			h.Close(c.ctx)
		}
		return nil, 0, 0, errStatus(err)
	}
	if c.pn.stream != "" {
		if h != nil {
			h.Close(c.ctx)
		}
		w.node = node
		return c.stream(w, a, true)
	}
	o, st := c.reserve(a.ID, mkdir, w.stored, node, "", "", granted, true)
	if st != ntstatus.StatusSuccess {
		if h != nil {
			h.Close(c.ctx)
		}
		return nil, 0, 0, st
	}
	if !mkdir {
		if granted&(dataRead|dataWrite) != 0 && h != nil {
			o.h = h
		} else if h != nil {
			h.Close(c.ctx)
		}
	}
	return o, smb2.FileCreated, maximal, ntstatus.StatusSuccess
}

func (c *createReq) undoCreate(parent vfs.Node, name string, dir bool) {
	if rm, ok := parent.(vfs.Remover); ok {
		if dir {
			rm.RemoveDir(c.ctx, name)
		} else {
			rm.Remove(c.ctx, name)
		}
	}
}

// stream opens or creates the named stream c.pn.stream of the node w.node.
func (c *createReq) stream(w walked, a vfs.Attr, created bool) (*open, smb2.CreateAction, dtyp.AccessMask, ntstatus.Status) {
	s := c.t.s
	st, ok := w.node.(vfs.Streamer)
	if !ok {
		return nil, 0, 0, ntstatus.StatusObjectNameInvalid
	}
	stored, exists, err := findStream(c.ctx, st, c.pn.stream)
	if err != nil {
		return nil, 0, 0, errStatus(err)
	}
	maximal := s.maximalAccess(a, true) & c.t.aclMaximal(c.ctx, w.node, w.parent)
	if created {
		maximal = fileAllAccess
	}
	granted, status := grant(c.access, maximal)
	if status != ntstatus.StatusSuccess {
		return nil, 0, 0, status
	}
	action := smb2.FileOpened
	switch {
	case exists && c.disp == smb2.FileCreate:
		return nil, 0, 0, ntstatus.StatusObjectNameCollision
	case !exists && (c.disp == smb2.FileOpen || c.disp == smb2.FileOverwrite):
		return nil, 0, 0, ntstatus.StatusObjectNameNotFound
	case exists && isOverwrite(c.disp):
		if maximal&dtyp.FileWriteData == 0 {
			return nil, 0, 0, ntstatus.StatusAccessDenied
		}
		action = smb2.FileOverwritten
		if c.disp == smb2.FileSupersede {
			action = smb2.FileSuperseded
		}
	case !exists:
		if s.opt.ReadOnly {
			return nil, 0, 0, ntstatus.StatusAccessDenied
		}
		action = smb2.FileCreated
	}
	if c.opts.Has(smb2.FileDeleteOnClose) && a.DOS&vfs.DOSReadOnly != 0 {
		return nil, 0, 0, ntstatus.StatusCannotDelete
	}
	if !exists {
		stored = c.pn.stream
	}
	o, status := c.reserve(a.ID, a.IsDir(), w.stored, w.node, stored, fold(stored), granted, created)
	if status != ntstatus.StatusSuccess {
		return nil, 0, 0, status
	}
	var h vfs.Handle
	if exists {
		flags := vfs.OpenRead
		if granted&dataWrite != 0 || isOverwrite(c.disp) {
			flags |= vfs.OpenWrite
		}
		h, err = st.OpenStream(c.ctx, stored, flags)
		if err == nil && isOverwrite(c.disp) {
			err = truncate(c.ctx, h, 0)
		}
	} else {
		h, err = st.CreateStream(c.ctx, stored)
	}
	if err != nil {
		if h != nil {
			h.Close(c.ctx)
		}
		c.t.closeOpen(c.ctx, o)
		return nil, 0, 0, errStatus(err)
	}
	o.h = h
	return o, action, maximal, ntstatus.StatusSuccess
}

// reserve checks delete-pending state and share modes and registers the open.
func (c *createReq) reserve(id uint64, isDir bool, path []string, node vfs.Node, stream, skey string, granted dtyp.AccessMask, fresh bool) (*open, ntstatus.Status) {
	s, t := c.t.s, c.t
	if !fresh {
		if st := c.breakOplocks(id, skey, granted); st != ntstatus.StatusSuccess {
			return nil, st
		}
	}
	s.mu.Lock()
	f := s.files[id]
	if f != nil && fresh && len(f.opens) == 0 {
		// The backend just made this file: an entry under its ID is a deleted file's
		// whose ID (an inode number) was reused.
		f = nil
		delete(s.files, id)
	}
	if f != nil {
		if f.deletePending || f.streamDelete[skey] {
			s.mu.Unlock()
			return nil, ntstatus.StatusDeletePending
		}
		if f.sharingViolation(skey, granted, c.req.ShareAccess) {
			s.mu.Unlock()
			return nil, ntstatus.StatusSharingViolation
		}
	} else {
		f = s.fileFor(id, isDir, append([]string(nil), path...), node)
	}
	o := &open{
		t:      t,
		fid:    s.newFid(),
		f:      f,
		stream: stream,
		skey:   skey,
		isDir:  isDir && stream == "",
		access: granted,
		share:  c.req.ShareAccess,
		opts:   c.opts,
	}
	if c.opts.Has(smb2.FileDeleteOnClose) {
		o.deleteOnClose = true
	}
	if c.opts.Has(smb2.FileWriteThrough) {
		o.mode |= fscc.ModeWriteThrough
	}
	if c.opts.Has(smb2.FileSequentialOnly) {
		o.mode |= fscc.ModeSequentialOnly
	}
	if c.opts.Has(smb2.FileNoIntermediateBuffering) {
		o.mode |= fscc.ModeNoIntermediateBuffering
	}
	o.mode |= fscc.FileMode(c.opts & (smb2.FileSynchronousIoAlert | smb2.FileSynchronousIoNonalert))
	s.register(o)
	s.mu.Unlock()

	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		s.mu.Lock()
		s.unregister(o)
		s.mu.Unlock()
		return nil, ntstatus.StatusNetworkNameDeleted
	}
	t.opens[o.fid.Volatile] = o
	t.mu.Unlock()
	return o, ntstatus.StatusSuccess
}

// breakOplocks breaks the oplocks of the other opens of the stream in MS-FSA 2.1.5.1.2
// order: none when the file is delete pending (the open fails without a break), BATCH
// oplocks before the sharing check, the others once it passed. The checks are made again
// when the open registers.
func (c *createReq) breakOplocks(id uint64, skey string, granted dtyp.AccessMask) ntstatus.Status {
	s := c.t.s
	check := func(sharing bool) ntstatus.Status {
		s.mu.Lock()
		defer s.mu.Unlock()
		f := s.files[id]
		switch {
		case f == nil:
		case f.deletePending || f.streamDelete[skey]:
			return ntstatus.StatusDeletePending
		case sharing && f.sharingViolation(skey, granted, c.req.ShareAccess):
			return ntstatus.StatusSharingViolation
		}
		return ntstatus.StatusSuccess
	}
	overwrite := isOverwrite(c.disp)
	if st := check(false); st != ntstatus.StatusSuccess {
		return st
	}
	if st := s.breakOplocks(c.ctx, c.wait, c.notifier, id, skey, granted, overwrite, true); st != ntstatus.StatusSuccess {
		return st
	}
	if st := check(true); st != ntstatus.StatusSuccess {
		return st
	}
	return s.breakOplocks(c.ctx, c.wait, c.notifier, id, skey, granted, overwrite, false)
}

// openData opens the backend handle of a file open that reads or writes data.
func (c *createReq) openData(o *open, node vfs.Node, granted dtyp.AccessMask, overwrite bool) ntstatus.Status {
	var flags vfs.OpenFlag
	if granted&dataRead != 0 {
		flags |= vfs.OpenRead
	}
	if granted&dataWrite != 0 || overwrite {
		flags |= vfs.OpenWrite
	}
	if flags == 0 {
		return ntstatus.StatusSuccess
	}
	op, ok := node.(vfs.Opener)
	if !ok {
		return ntstatus.StatusAccessDenied
	}
	h, err := op.Open(c.ctx, flags|vfs.OpenRead)
	if err != nil {
		if errors.Is(err, vfs.ErrReadOnly) {
			return ntstatus.StatusAccessDenied
		}
		return errStatus(err)
	}
	if overwrite {
		if err := truncate(c.ctx, h, 0); err != nil {
			h.Close(c.ctx)
			return errStatus(err)
		}
	}
	if granted&(dataRead|dataWrite) == 0 {
		h.Close(c.ctx)
		return ntstatus.StatusSuccess
	}
	o.h = h
	return ntstatus.StatusSuccess
}

func truncate(ctx context.Context, h vfs.Handle, size int64) error {
	tr, ok := h.(vfs.HandleTruncater)
	if !ok {
		return vfs.ErrReadOnly
	}
	return tr.Truncate(ctx, size)
}

// setAttr applies a change where the backend can; what it cannot store is dropped.
func setAttr(ctx context.Context, node vfs.Node, change vfs.AttrChange) error {
	as, ok := node.(vfs.AttrSetter)
	if !ok {
		return vfs.ErrNotSupported
	}
	err := as.SetAttr(ctx, change)
	if errors.Is(err, vfs.ErrNotSupported) {
		return nil
	}
	return err
}

// checkParentPending refuses to create in a directory that is being deleted.
func (s *Share) checkParentPending(ctx context.Context, parent vfs.Node) ntstatus.Status {
	s.mu.Lock()
	n := len(s.files)
	s.mu.Unlock()
	if n == 0 || parent == nil {
		return ntstatus.StatusSuccess
	}
	a, err := parent.Attr(ctx)
	if err != nil {
		return errStatus(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.files[a.ID]; f != nil && f.deletePending {
		return ntstatus.StatusDeletePending
	}
	return ntstatus.StatusSuccess
}

// applyEAs stores a FILE_FULL_EA_INFORMATION chain as extended attributes; an empty
// value removes the attribute.
func applyEAs(ctx context.Context, node vfs.Node, chain []byte) ntstatus.Status {
	x, ok := node.(vfs.Xattrer)
	if !ok {
		return ntstatus.StatusEasNotSupported
	}
	var l fscc.FileFullEaInformationList
	if err := l.Decode(chain, -1); err != nil {
		return ntstatus.StatusInvalidParameter
	}
	it := l.Iter()
	for it.Next() {
		e := it.Value()
		name := string(e.EaName)
		if name == "" || len(name) > 255 {
			return ntstatus.StatusInvalidEaName
		}
		var err error
		if len(e.EaValue) == 0 {
			err = x.RemoveXattr(ctx, name)
			if errors.Is(err, vfs.ErrNotExist) {
				err = nil
			}
		} else {
			err = x.SetXattr(ctx, name, append([]byte(nil), e.EaValue...))
		}
		if err != nil {
			return errStatus(err)
		}
	}
	if it.Err() != nil {
		return ntstatus.StatusInvalidParameter
	}
	return ntstatus.StatusSuccess
}
