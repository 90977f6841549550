package ntfs

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"hash/fnv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smbvfs/smbvfs/backends/vfs"
	"github.com/smbvfs/smbvfs/protocol/dtyp"
	"github.com/smbvfs/smbvfs/protocol/fscc"
	"github.com/smbvfs/smbvfs/protocol/smb2"
)

// A Share is one exported vfs.FS with its options and the state shared by every tree
// connect to it: the table of open files (share modes, delete-pending state, byte-range
// locks), which every connection consults. It is safe for concurrent use.
type Share struct {
	name    string
	fs      vfs.FS
	opt     ShareOptions
	volID   uint64 // VolumeId of the QFid create context
	created time.Time
	secret  [8]byte // the last 8 bytes of every resume key

	nextFid atomic.Uint64

	mu    sync.Mutex
	files map[uint64]*file // by Attr.ID: the files that have opens
	opens map[uint64]*open // by FileId.Volatile, every open of every tree
	trees map[*Tree]struct{}

	durables       map[uint64]*open // by FileId.Persistent: the durable opens (durable.go)
	durableTimeout atomic.Int64     // time.Duration; 0: DefaultDurableTimeout

	ext shareExt // oplock and notification state (oplock.go, notify.go)
}

// NewShare makes a share of fs under name.
func NewShare(name string, fs vfs.FS, opt ShareOptions) *Share {
	s := &Share{
		name:    name,
		fs:      fs,
		opt:     opt,
		created: time.Now(),
		files:   make(map[uint64]*file),
		opens:   make(map[uint64]*open),
		trees:   make(map[*Tree]struct{}),

		durables: make(map[uint64]*open),
	}
	h := fnv.New64a()
	h.Write([]byte(name))
	s.volID = h.Sum64()
	rand.Read(s.secret[:])
	// Volatile ids start at a random point so that ids of different shares and runs differ.
	var b [4]byte
	rand.Read(b[:])
	s.nextFid.Store(uint64(binary.LittleEndian.Uint32(b[:])) << 16)
	return s
}

// Name returns the share's name.
func (s *Share) Name() string { return s.name }

// Options returns the share's options.
func (s *Share) Options() ShareOptions { return s.opt }

// FS returns the shared filesystem.
func (s *Share) FS() vfs.FS { return s.fs }

// Connect makes a tree connect for id. It checks that the root of the FS answers.
func (s *Share) Connect(ctx context.Context, id Identity) (*Tree, error) {
	if _, err := s.fs.Root(ctx); err != nil {
		return nil, err
	}
	t := &Tree{s: s, id: id, opens: make(map[uint64]*open)}
	s.mu.Lock()
	s.trees[t] = struct{}{}
	s.mu.Unlock()
	return t, nil
}

// OpenCount reports the number of opens on the share (all trees).
func (s *Share) OpenCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.opens)
}

// A Tree is one tree connect. Its methods implement the file commands. A Tree is used by
// one connection at a time, but its opens live in the Share's tables.
type Tree struct {
	s  *Share
	id Identity

	mu     sync.Mutex
	opens  map[uint64]*open // by FileId.Volatile
	closed bool
}

// Share returns the tree's share.
func (t *Tree) Share() *Share { return t.s }

// Identity returns who the tree acts for.
func (t *Tree) Identity() Identity { return t.id }

// file is the state shared by every open of one file (all its streams), keyed by Attr.ID.
type file struct {
	id    uint64
	isDir bool

	// Guarded by Share.mu.
	path          []string // stored names from the root; empty for the root
	node          vfs.Node // nil: resolve path again
	opens         []*open
	deletePending bool            // the file is deleted when its last open closes
	streamDelete  map[string]bool // by folded stream name: delete pending on a named stream

	locks lockTable

	wt fileWT // LastWriteTime while open (writetime.go)
}

// open is one SMB2 open.
type open struct {
	t      *Tree
	fid    smb2.FileId
	f      *file
	stream string // stored name of the named stream, "" for the file itself
	skey   string // folded stream name: the share-mode and lock scope
	isDir  bool
	h      vfs.Handle // nil for directories and opens without data access
	access dtyp.AccessMask
	share  smb2.ShareAccess
	opts   smb2.CreateOptions

	// Used by the tree's goroutine only.
	deleteOnClose bool
	pos           atomic.Uint64 // FilePositionInformation: set by SET_INFO and by READ
	mode          fscc.FileMode
	enum          *dirEnum
	closed        atomic.Bool
	notifyRenamed atomic.Bool // the file was renamed through this open (notify.go)
	notifyWritten atomic.Bool // data was written through this open (notify.go)

	ol  oplockState  // guarded by Share.mu (oplock.go)
	dur durableState // guarded by Share.mu (durable.go)
	wt  openWT       // guarded by f.wt.mu (writetime.go)
}

func (o *open) data() bool { return o.h != nil }

// newFid returns a fresh FileId.
func (s *Share) newFid() smb2.FileId {
	v := s.nextFid.Add(1)
	return smb2.FileId{Persistent: v ^ 0x5a5a0000, Volatile: v}
}

// get finds the open named by fid in this tree.
func (t *Tree) get(fid smb2.FileId) *open {
	t.mu.Lock()
	o := t.opens[fid.Volatile]
	t.mu.Unlock()
	if o == nil || o.fid.Persistent != fid.Persistent {
		return nil
	}
	return o
}

// pathString is the Windows form of a path: components joined by backslashes.
func pathString(p []string) string {
	n := 0
	for _, c := range p {
		n += len(c) + 1
	}
	b := make([]byte, 0, n)
	for i, c := range p {
		if i > 0 {
			b = append(b, '\\')
		}
		b = append(b, c...)
	}
	return string(b)
}

// fileName is the name of the open as FileNameInformation reports it: a backslash and
// the path from the share root, with the stream.
func (o *open) fileName() string {
	o.t.s.mu.Lock()
	p := pathString(o.f.path)
	o.t.s.mu.Unlock()
	name := "\\" + p
	if o.stream != "" {
		name += ":" + o.stream
	}
	return name
}

// nodeOf returns the current node of f, resolving its path again when needed (after a
// rename of the file or of a directory above it).
func (s *Share) nodeOf(ctx context.Context, f *file) (vfs.Node, error) {
	s.mu.Lock()
	n, p := f.node, append([]string(nil), f.path...)
	s.mu.Unlock()
	if n != nil {
		return n, nil
	}
	w, err := s.walk(ctx, p, false)
	if err != nil {
		return nil, err
	}
	if w.node == nil {
		return nil, vfs.ErrStale
	}
	s.mu.Lock()
	if f.node == nil {
		f.node = w.node
	}
	n = f.node
	s.mu.Unlock()
	return n, nil
}

// parentOf resolves the directory holding f, and f's stored name in it.
func (s *Share) parentOf(ctx context.Context, f *file) (vfs.Node, string, error) {
	s.mu.Lock()
	p := append([]string(nil), f.path...)
	s.mu.Unlock()
	if len(p) == 0 {
		return nil, "", vfs.ErrPermission // the root has no parent
	}
	w, err := s.walk(ctx, p[:len(p)-1], false)
	if err != nil {
		return nil, "", err
	}
	if w.node == nil {
		return nil, "", vfs.ErrNotExist
	}
	return w.node, p[len(p)-1], nil
}

// register adds a new open to the tables; call with s.mu held.
func (s *Share) register(o *open) {
	o.f.opens = append(o.f.opens, o)
	s.opens[o.fid.Volatile] = o
	s.notifyOpened(o)
}

// fileFor returns the file state for id, creating it; call with s.mu held.
func (s *Share) fileFor(id uint64, isDir bool, path []string, node vfs.Node) *file {
	f := s.files[id]
	if f == nil {
		f = &file{id: id, isDir: isDir, path: path, node: node}
		s.files[id] = f
	}
	return f
}

// unregister removes o from the tables and reports whether it was the last open of
// its file and of its stream; call with s.mu held.
func (s *Share) unregister(o *open) (lastFile, lastStream bool) {
	f := o.f
	for i, x := range f.opens {
		if x == o {
			f.opens = append(f.opens[:i], f.opens[i+1:]...)
			break
		}
	}
	delete(s.opens, o.fid.Volatile)
	lastStream = true
	for _, x := range f.opens {
		if x.skey == o.skey {
			lastStream = false
			break
		}
	}
	lastFile = len(f.opens) == 0 // the caller drops the file from s.files
	return
}

// Disconnect closes every open of the tree (TREE_DISCONNECT; durable.go has the
// connection-loss counterpart, DisconnectPreserving).
func (t *Tree) Disconnect(ctx context.Context) { t.end(ctx, false) }

// end ends the tree: its opens are closed, or, with preserve, detached when durable.
func (t *Tree) end(ctx context.Context, preserve bool) {
	t.mu.Lock()
	opens := make([]*open, 0, len(t.opens))
	for _, o := range t.opens {
		opens = append(opens, o)
	}
	t.closed = true
	if preserve {
		clear(t.opens) // a detached open belongs to no tree until it is reconnected
	}
	t.mu.Unlock()
	for _, o := range opens {
		if !preserve || !t.s.detach(o) {
			t.closeOpen(ctx, o)
		}
	}
	t.s.mu.Lock()
	delete(t.s.trees, t)
	t.s.mu.Unlock()
}
