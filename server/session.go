package server

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smbvfs/smbvfs/protocol/crypto/smb3"
	"github.com/smbvfs/smbvfs/protocol/smb2"
	"github.com/smbvfs/smbvfs/server/ntfs"
)

// session is one SMB2 session (MS-SMB2 3.3.1.8).
type session struct {
	id   uint64
	conn *conn

	// Loop-only while authenticating; read by async goroutines only once valid.
	state   smb2.SessionState
	auth    authenticator // the authentication in progress
	preauth smb3.PreauthHash
	created time.Time

	identity        ntfs.Identity
	signingRequired bool
	encryptData     bool
	sessionKey      []byte
	signer          *smb3.Signer
	enc             *smb3.Encrypter
	dec             *smb3.Decrypter

	mu      sync.Mutex
	trees   map[uint32]*tree
	closed  bool
	treeSeq uint32
}

// tree is one tree connect (MS-SMB2 3.3.1.10).
type tree struct {
	id      uint32
	share   *share
	ft      fileTree // nil for IPC$
	encrypt bool
	opens   atomic.Int64 // successful CREATEs not yet closed, for Stats.OpenFiles
}

// preservingTree is a fileTree with durable opens (*ntfs.Tree): on connection loss they
// are kept rather than closed.
type preservingTree interface {
	DisconnectPreserving(ctx context.Context)
}

func newSession(c *conn, id uint64) *session {
	return &session{id: id, conn: c, state: smb2.SessionInProgress, created: time.Now(), trees: make(map[uint32]*tree)}
}

func (s *session) lookupTree(id uint32) *tree {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.trees[id]
}

func (s *session) addTree(t *tree) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	for {
		s.treeSeq++
		if s.treeSeq == 0 || s.treeSeq == ^uint32(0) {
			continue
		}
		if _, used := s.trees[s.treeSeq]; !used {
			break
		}
	}
	t.id = s.treeSeq
	s.trees[t.id] = t
	return true
}

func (s *session) removeTree(id uint32) *tree {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.trees[id]
	delete(s.trees, id)
	return t
}

// destroy disconnects every tree and forgets the session. With preserve (the connection
// is lost, or a reconnecting client expires the session, MS-SMB2 3.3.7.1 and 3.3.5.5.3)
// the durable opens survive, detached, for a reconnect; otherwise (LOGOFF) every open is
// closed. It is safe to call more than once.
func (s *session) destroy(preserve bool) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	trees := s.trees
	s.trees = map[uint32]*tree{}
	s.mu.Unlock()
	s.conn.srv.unregisterSession(s)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, t := range trees {
		if t.ft != nil {
			if p, ok := t.ft.(preservingTree); ok && preserve {
				p.DisconnectPreserving(ctx)
			} else {
				t.ft.Disconnect(ctx)
			}
		}
		t.closed(s.conn.srv, -1)
	}
	s.conn.cleanupAsync(func(a *asyncOp) bool { return a.sess == s })
}

func (s *session) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

func (s *session) setIdentity(id ntfs.Identity) {
	s.mu.Lock()
	s.identity = id
	s.mu.Unlock()
}

func (s *session) getIdentity() ntfs.Identity {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.identity
}
