// Package vfs is the contract between the SMB server and the filesystems
// it shares: hand the server a vfs.FS as you would hand a filesystem to
// FUSE.
//
// # The minimum
//
// A read-only virtual tree needs four things:
//
//   - an FS, whose Root returns the top directory;
//   - Nodes, which report their Attr (ID, size, times, DOS attributes);
//   - directories that are Lookupers (find a child by name) and DirReaders
//     (list children a page at a time, resuming from a cookie);
//   - files that are Openers, returning a Handle with ReadAt and Close.
//
// The package example below is such a backend, in under 60 lines.
//
// # Everything else is optional
//
// The server discovers capabilities by type assertion; what a node does not
// implement, the server refuses on its behalf (a missing change operation
// is reported as read-only, a missing feature as not supported).
//
//	Directories  Creator, Mkdirer, Remover, Renamer, Linker, FoldLookuper
//	Nodes        AttrSetter, Streamer, Xattrer, Securer
//	Handles      HandleWriter, HandleTruncater, HandleSyncer, HandleStater
//	FS           VolumeStater, Watcher
//
// A node that implements an interface but cannot honour it in a given case
// returns ErrReadOnly or ErrNotSupported: embed ReadOnlyDir or ReadOnlyFile
// to say "read-only" for every change at once.
//
// # What belongs to the server
//
// NT semantics live in the server, not in backends: create dispositions,
// share modes, delete-on-close, oplocks and leases, byte-range locks,
// wildcard matching, "." and "..", access checks, and the SMB encodings of
// attributes and security descriptors. Backends report facts and perform
// plain operations. Names passed to backends are single path components
// already checked with ValidName.
//
// # Facts a backend must get right
//
//   - Attr.ID is stable and unique: the same file always has the same ID,
//     hard links share it, no two files do. NewID gives virtual nodes IDs
//     that cannot collide with inode numbers.
//   - Directory listings resume from cookies without the backend keeping
//     the listing in memory, so directories of 100,000 entries cost
//     nothing between calls (see DirReader).
//   - Errors are the sentinels of this package (ErrNotExist, ErrExist,
//     ErrNotDir, ErrIsDir, ErrNotEmpty, ErrPermission, ErrReadOnly,
//     ErrNotSupported, ErrInvalidName, ErrInvalid, ErrNoSpace, ErrStale,
//     ErrClosed), possibly wrapped; the server maps them to NTSTATUS codes
//     in one table, and logs anything else as an I/O error.
//   - Every method is safe for concurrent use and takes the request's
//     context first.
//
// # Helpers
//
// NewFS, NewDir, BytesFile and FuncFile build static trees; FromFS serves
// any io/fs.FS read-only; ReadAt serves a handle from a byte slice;
// Notifier implements Watcher; ValidName and FoldName check and compare
// names.
//
// # Testing a backend
//
// Package vfstest is a conformance suite every backend runs against
// itself; package vfsmock has gomock mocks of every interface.
package vfs
