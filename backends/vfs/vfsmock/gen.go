// Package vfsmock holds gomock mocks of the vfs contract, for testing the
// server against backends that misbehave in precise ways.
package vfsmock

//go:generate go tool mockgen -typed -destination=vfsmock_gen.go -package=vfsmock github.com/smbvfs/smbvfs/backends/vfs FS,Node,Lookuper,FoldLookuper,DirReader,Creator,Mkdirer,Remover,Renamer,Linker,Opener,Handle,HandleWriter,HandleTruncater,HandleSyncer,HandleStater,AttrSetter,Streamer,Xattrer,Securer,VolumeStater,Watcher
