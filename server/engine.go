package server

import (
	"context"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/smbvfs/smbvfs/backends/vfs"
	"github.com/smbvfs/smbvfs/protocol/ntstatus"
	"github.com/smbvfs/smbvfs/protocol/smb2"
	"github.com/smbvfs/smbvfs/server/ntfs"
)

// fileTree is what the connection engine needs of one tree connect of a disk share: the
// methods of *ntfs.Tree. Tests substitute fakes.
type fileTree interface {
	Create(r *ntfs.Req, req *smb2.CreateRequest, resp *smb2.CreateResponse) ntstatus.Status
	Close(r *ntfs.Req, req *smb2.CloseRequest, resp *smb2.CloseResponse) ntstatus.Status
	Flush(r *ntfs.Req, req *smb2.FlushRequest, resp *smb2.FlushResponse) ntstatus.Status
	Read(r *ntfs.Req, req *smb2.ReadRequest, resp *smb2.ReadResponse) ntstatus.Status
	Write(r *ntfs.Req, req *smb2.WriteRequest, resp *smb2.WriteResponse) ntstatus.Status
	Lock(r *ntfs.Req, req *smb2.LockRequest, resp *smb2.LockResponse) ntstatus.Status
	Ioctl(r *ntfs.Req, req *smb2.IoctlRequest, resp *smb2.IoctlResponse) ntstatus.Status
	QueryDirectory(r *ntfs.Req, req *smb2.QueryDirectoryRequest, resp *smb2.QueryDirectoryResponse) ntstatus.Status
	ChangeNotify(r *ntfs.Req, req *smb2.ChangeNotifyRequest, resp *smb2.ChangeNotifyResponse) ntstatus.Status
	QueryInfo(r *ntfs.Req, req *smb2.QueryInfoRequest, resp *smb2.QueryInfoResponse) ntstatus.Status
	SetInfo(r *ntfs.Req, req *smb2.SetInfoRequest, resp *smb2.SetInfoResponse) ntstatus.Status
	OplockBreak(r *ntfs.Req, req *smb2.OplockBreakRequestForms, resp *smb2.OplockBreakResponseForms) ntstatus.Status
	Disconnect(ctx context.Context)
}

// fileShare makes tree connects: *ntfs.Share behind an adapter.
type fileShare interface {
	Connect(ctx context.Context, id ntfs.Identity) (fileTree, error)
}

// share is one share of the server.
type share struct {
	name    string
	comment string
	pipe    bool // IPC$
	encrypt bool
	ro      bool
	noGuest bool
	allow   map[string]bool // lower-case user names; empty: everyone
	deny    map[string]bool
	fs      fileShare
	vfs     vfs.FS // the backend, to keep the engine of an unchanged share across SetShares
}

// newFileShare builds the engine of a disk share; engine_ntfs.go sets it to the ntfs
// engine. Tests may replace it.
var newFileShare func(sh Share) fileShare

// buildShares checks a share list and builds the server's share table, IPC$ included.
// A share of old with the same backend and read-only setting keeps its file engine (its
// opens, share modes, locks and oplocks), whatever else changed.
func (s *Server) buildShares(list []Share, old map[string]*share) (map[string]*share, error) {
	m := make(map[string]*share, len(list)+1)
	for _, sh := range list {
		if err := addShare(m, sh, old); err != nil {
			return nil, err
		}
	}
	m["IPC$"] = &share{name: "IPC$", pipe: true, fs: newIPCShare(&s.opts, list)}
	return m, nil
}

func addShare(m map[string]*share, sh Share, old map[string]*share) error {
	if sh.Name == "" || strings.ContainsAny(sh.Name, `\/:*?"<>|`) {
		return errorf("bad share name %q", sh.Name)
	}
	key := strings.ToUpper(sh.Name)
	if key == "IPC$" {
		return errorf("share name IPC$ is reserved")
	}
	if _, dup := m[key]; dup {
		return errorf("duplicate share %q", sh.Name)
	}
	if sh.FS == nil {
		return errorf("share %q has no filesystem", sh.Name)
	}
	if newFileShare == nil {
		return errorf("no file engine linked in")
	}
	ns := &share{
		name:    sh.Name,
		comment: sh.Comment,
		encrypt: sh.Encrypt,
		ro:      sh.ReadOnly,
		noGuest: sh.NoGuest,
		allow:   nameSet(sh.Allow),
		deny:    nameSet(sh.Deny),
		vfs:     sh.FS,
	}
	if o := old[key]; o != nil && sameFS(o.vfs, sh.FS) && o.ro == sh.ReadOnly && o.name == sh.Name && o.comment == sh.Comment {
		ns.fs = o.fs
	} else {
		ns.fs = newFileShare(sh)
	}
	m[key] = ns
	return nil
}

// sameFS reports whether a and b are the same backend (false for values that can not be
// compared).
func sameFS(a, b vfs.FS) bool {
	ta, tb := reflect.TypeOf(a), reflect.TypeOf(b)
	return ta == tb && ta != nil && ta.Comparable() && a == b
}

func nameSet(names []string) map[string]bool {
	if len(names) == 0 {
		return nil
	}
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[strings.ToLower(n)] = true
	}
	return m
}

// permits reports whether a session of id may connect to the share.
func (sh *share) permits(id ntfs.Identity) bool {
	if sh.pipe {
		return true
	}
	if (id.Guest || id.Anonymous) && sh.noGuest {
		return false
	}
	name := strings.ToLower(id.User)
	if id.Anonymous {
		name = ""
	}
	if name != "" && sh.deny[name] {
		return false
	}
	if len(sh.allow) > 0 && (name == "" || !sh.allow[name]) {
		return false
	}
	return true
}

func (s *Server) lookupShare(name string) *share {
	s.sharesMu.RLock()
	defer s.sharesMu.RUnlock()
	return s.shares[strings.ToUpper(name)]
}

// SetShares replaces the share list (a configuration reload). New tree connects see the new
// list at once; existing tree connects, and the files open through them, keep working on
// the share they connected to until they disconnect, even when it was removed or replaced.
// On error the current list stays.
func (s *Server) SetShares(list []Share) error {
	s.sharesMu.Lock()
	defer s.sharesMu.Unlock()
	m, err := s.buildShares(list, s.shares)
	if err != nil {
		return err
	}
	s.shares = m
	return nil
}

// ShareNames returns the names of the served disk shares, sorted.
func (s *Server) ShareNames() []string {
	s.sharesMu.RLock()
	defer s.sharesMu.RUnlock()
	var names []string
	for _, sh := range s.shares {
		if !sh.pipe {
			names = append(names, sh.name)
		}
	}
	sort.Strings(names)
	return names
}

// opened counts a successful CREATE on the tree.
func (t *tree) opened(s *Server) {
	t.opens.Add(1)
	s.stats.OpenFiles.Add(1)
}

// closed counts n closed opens of the tree; n < 0 closes them all (the tree went away).
func (t *tree) closed(s *Server, n int64) {
	if n < 0 {
		n = t.opens.Swap(0)
	} else {
		t.opens.Add(-n)
	}
	s.stats.OpenFiles.Add(-n)
}

// observe accounts one answered request.
func (s *Server) observe(cmd smb2.Command, status ntstatus.Status, started time.Time) {
	if backendFailure(status) {
		s.stats.BackendErrors.Add(1)
	}
	if s.opts.OnRequest != nil {
		s.opts.OnRequest(cmd, status, time.Since(started))
	}
}

// backendFailure reports statuses that say the filesystem behind a share failed, rather than
// that the request was wrong or refused.
func backendFailure(st ntstatus.Status) bool {
	switch st {
	case ntstatus.StatusInternalError, ntstatus.StatusUnexpectedIoError, ntstatus.StatusIoDeviceError,
		ntstatus.StatusDataError, ntstatus.StatusDiskFull, ntstatus.StatusInsufficientResources:
		return true
	}
	return false
}
