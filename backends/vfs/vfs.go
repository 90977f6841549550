package vfs

import (
	"context"
	"strings"
	"time"
)

// FS is a filesystem handed to the server as one share.
//
// Optional FS-level capabilities: VolumeStater, Watcher.
type FS interface {
	// Root returns the share's top directory.
	Root(ctx context.Context) (Node, error)
}

// Node is a file or a directory. Every node reports its attributes; what
// else it can do is discovered by type assertion on the optional
// interfaces below. Two Node values denote the same file when their
// Attr.ID are equal: the server never compares Node values themselves.
type Node interface {
	Attr(ctx context.Context) (Attr, error)
}

// Attr is what the server needs to know about a node.
type Attr struct {
	// ID identifies the file for the life of the FS (and across restarts
	// where the backend can): the same file always has the same ID and two
	// files never share one. Hard links share their file's ID. Never 0.
	ID uint64

	Size      int64 // bytes of data (0 for directories)
	AllocSize int64 // bytes allocated on disk, >= Size rounded to a block; 0 lets the server compute it

	// Links is the number of names (hard links) of the node; 0 means 1.
	Links uint32

	Created  time.Time // birth time
	Accessed time.Time // last read
	Modified time.Time // last write of the data
	Changed  time.Time // last change of data or metadata

	DOS DOSAttr // Directory is set exactly for directories
}

// IsDir reports whether the node is a directory.
func (a Attr) IsDir() bool { return a.DOS&DOSDirectory != 0 }

// DOSAttr is the small set of attribute bits a Windows client sees. The
// server translates it to and from the SMB encoding.
type DOSAttr uint16

const (
	DOSReadOnly DOSAttr = 1 << iota
	DOSHidden
	DOSSystem
	DOSDirectory // a fact, not a setting: ignored by AttrSetter
	DOSArchive
	DOSTemporary
	DOSSparse
	DOSOffline
	DOSNotIndexed
)

// String returns the set bits as letters, e.g. "RHSDA".
func (a DOSAttr) String() string {
	const letters = "RHSDATPON"
	var b strings.Builder
	for i := range len(letters) {
		if a&(1<<i) != 0 {
			b.WriteByte(letters[i])
		}
	}
	return b.String()
}

// ---- Directories -------------------------------------------------------

// Lookuper is a directory: it finds a child by its exact name. It returns
// ErrNotExist if there is none. name is a single component: never "",
// ".", "..", and never contains '/', '\\' or NUL (the server resolves paths
// and rejects such names; see ValidName).
type Lookuper interface {
	Lookup(ctx context.Context, name string) (Node, error)
}

// FoldLookuper is a directory that can find a child ignoring case (the
// way Windows clients expect). It returns the child and its name as stored.
// Without it the server falls back to Lookup and then to a ReadDir scan.
type FoldLookuper interface {
	LookupFold(ctx context.Context, name string) (Node, string, error)
}

// DirEntry is one entry of a directory listing.
type DirEntry struct {
	Name string
	Attr Attr
	// Cookie resumes the listing just after this entry: pass it to ReadDir.
	Cookie uint64
}

// DirReader is a directory that lists its children.
//
// ReadDir returns at most n (> 0) entries that follow the entry whose
// Cookie is cookie; cookie 0 starts at the beginning. An empty result with
// a nil error is the end of the listing. "." and ".." are never listed (the
// server adds them). Listings are resumable without the backend holding
// them in memory: the server may come back with any cookie it was given,
// at any time, from any goroutine. If the directory changes meanwhile,
// entries added or removed may or may not appear, but an entry present
// throughout appears exactly once.
type DirReader interface {
	ReadDir(ctx context.Context, cookie uint64, n int) ([]DirEntry, error)
}

// Creator is a directory in which files can be created. Create makes a new
// empty file (ErrExist if the name is taken) and opens it for reading and
// writing.
type Creator interface {
	Create(ctx context.Context, name string) (Node, Handle, error)
}

// Mkdirer is a directory in which subdirectories can be made (ErrExist if
// the name is taken).
type Mkdirer interface {
	Mkdir(ctx context.Context, name string) (Node, error)
}

// Remover is a directory whose children can be removed. Remove removes a
// file (ErrIsDir for a directory); RemoveDir removes an empty directory
// (ErrNotDir for a file, ErrNotEmpty if it has children). Handles that are
// open on a removed file stay usable until closed.
type Remover interface {
	Remove(ctx context.Context, name string) error
	RemoveDir(ctx context.Context, name string) error
}

// Renamer is a directory whose children can be moved to another name,
// possibly in another directory newDir of the same FS (ErrInvalid for a
// foreign one). If newName exists: without replace the result is ErrExist;
// with replace a file is replaced, a directory never is (ErrExist).
// Moving a directory below itself is ErrInvalid.
type Renamer interface {
	Rename(ctx context.Context, oldName string, newDir Node, newName string, replace bool) error
}

// Linker is a directory in which a new name can be given to an existing
// file of the same FS (a hard link). Directories cannot be linked (ErrIsDir).
type Linker interface {
	Link(ctx context.Context, target Node, name string) error
}

// ---- Files and all nodes ----------------------------------------------

// OpenFlag says what a handle is opened for.
type OpenFlag uint8

const (
	OpenRead OpenFlag = 1 << iota
	OpenWrite
)

// Opener is a node whose data can be read (and maybe written). Open on a
// directory is ErrIsDir; OpenWrite on a read-only node is ErrReadOnly.
// Access checks, share modes, oplocks and the like are the server's job.
type Opener interface {
	Open(ctx context.Context, flags OpenFlag) (Handle, error)
}

// Handle is an open file. ReadAt has io.ReaderAt semantics: when it returns
// n < len(p) it returns a non-nil error, io.EOF at the end of the data.
// Handles are used from several goroutines at once.
//
// Optional: HandleWriter, HandleTruncater, HandleSyncer, HandleStater.
type Handle interface {
	ReadAt(ctx context.Context, p []byte, off int64) (int, error)
	Close(ctx context.Context) error
}

// HandleWriter writes at an offset, growing the file as needed.
type HandleWriter interface {
	WriteAt(ctx context.Context, p []byte, off int64) (int, error)
}

// HandleTruncater sets the file size, cutting or zero-extending the data.
type HandleTruncater interface {
	Truncate(ctx context.Context, size int64) error
}

// HandleSyncer commits written data to stable storage.
type HandleSyncer interface {
	Sync(ctx context.Context) error
}

// HandleStater reports the attributes of the open file; the server prefers
// it to Node.Attr for an open file (e.g. the size of computed content).
type HandleStater interface {
	Stat(ctx context.Context) (Attr, error)
}

// AttrChange says which attributes to change. Zero values mean "leave as
// is": a zero time is not changed, and only the bits in Set and Clear are.
type AttrChange struct {
	Created, Accessed, Modified, Changed time.Time
	Set, Clear                           DOSAttr
}

// AttrSetter is a node whose times and DOS attributes can be changed.
// A backend that cannot store some requested field applies the others and
// returns ErrNotSupported.
type AttrSetter interface {
	SetAttr(ctx context.Context, change AttrChange) error
}

// StreamInfo describes a named (alternate) data stream.
type StreamInfo struct {
	Name      string // without ':' and without the ":$DATA" type suffix
	Size      int64
	AllocSize int64
}

// Streamer is a node with named data streams ("file.txt:name" in SMB). The
// unnamed main stream is the node's own data and is never listed.
// OpenStream opens an existing stream (ErrNotExist), CreateStream creates a
// new empty one (ErrExist) opened for reading and writing.
type Streamer interface {
	ListStreams(ctx context.Context) ([]StreamInfo, error)
	OpenStream(ctx context.Context, name string, flags OpenFlag) (Handle, error)
	CreateStream(ctx context.Context, name string) (Handle, error)
	RemoveStream(ctx context.Context, name string) error
}

// Xattrer is a node with extended attributes (SMB "EAs"): small named
// values. Getting or removing a missing one is ErrNotExist.
type Xattrer interface {
	ListXattrs(ctx context.Context) ([]string, error)
	GetXattr(ctx context.Context, name string) ([]byte, error)
	SetXattr(ctx context.Context, name string, value []byte) error
	RemoveXattr(ctx context.Context, name string) error
}

// Securer is a node that stores a Windows security descriptor, as opaque
// self-relative bytes: the server owns their encoding and meaning.
// GetSecurity returns nil, nil when none was stored (the server then
// synthesises one).
type Securer interface {
	GetSecurity(ctx context.Context) ([]byte, error)
	SetSecurity(ctx context.Context, sd []byte) error
}

// ---- Volume and changes -------------------------------------------------

// VolumeInfo is what statfs(2) and Windows' volume queries report.
type VolumeInfo struct {
	Label          string
	Serial         uint32
	TotalBytes     uint64
	FreeBytes      uint64 // free for this user
	BlockSize      uint32 // allocation unit; 0 lets the server pick 4096
	MaxNameLength  uint32 // 0 lets the server pick 255
	CaseSensitive  bool   // names differing only in case are different files
	CasePreserving bool   // names are stored with the case they were given
	ReadOnly       bool
}

// VolumeStater is an FS that reports volume information.
type VolumeStater interface {
	StatVolume(ctx context.Context) (VolumeInfo, error)
}

// ChangeOp is the kind of a Change.
type ChangeOp uint8

const (
	ChangeAdded ChangeOp = iota + 1
	ChangeRemoved
	ChangeModified
	ChangeRenamed
)

func (op ChangeOp) String() string {
	switch op {
	case ChangeAdded:
		return "added"
	case ChangeRemoved:
		return "removed"
	case ChangeModified:
		return "modified"
	case ChangeRenamed:
		return "renamed"
	}
	return "unknown"
}

// ChangeWhat says what part of a node a change touched.
type ChangeWhat uint8

const (
	WhatData     ChangeWhat = 1 << iota // contents or size
	WhatAttr                            // DOS attributes
	WhatTimes                           // timestamps
	WhatXattr                           // extended attributes
	WhatSecurity                        // security descriptor
	WhatStream                          // a named stream (see Change.Stream)
)

// Change is one change in a watched FS. Paths are '/'-separated and
// relative to the root ("" is the root itself).
type Change struct {
	Op      ChangeOp
	Path    string     // the node's path (its new path for ChangeRenamed)
	OldPath string     // for ChangeRenamed
	ID      uint64     // the node's Attr.ID
	Dir     bool       // the node is a directory
	What    ChangeWhat // for ChangeModified
	Stream  string     // the named stream concerned, if any
}

// Watcher is an FS that reports changes in its tree, from the server's own
// operations and, where the backend can see them, from elsewhere. The
// server turns them into CHANGE_NOTIFY replies and lease breaks.
//
// Watch calls fn for every change until ctx is done. fn may be called from
// any goroutine, concurrently, and must not block; the backend calls it
// without holding its own locks, so fn may call back into the FS.
type Watcher interface {
	Watch(ctx context.Context, fn func(Change)) error
}
