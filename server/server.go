// Package server is the connection engine of smbvfs: it accepts SMB2/3 connections over
// Direct TCP, negotiates the dialect, authenticates users with NTLMv2 (raw or inside
// SPNEGO), signs and encrypts, keeps the credit window, walks compound chains, and hands
// the file commands of each tree connect to the NT file-system engine (package
// server/ntfs).
//
//	srv, err := server.New(server.Options{
//		Shares: []server.Share{{Name: "test", FS: memfs.New(memfs.Options{})}},
//		Guest:  true,
//	})
//	l, _ := net.Listen("tcp", "127.0.0.1:10445")
//	go srv.Serve(l)
//	...
//	srv.Shutdown(ctx)
package server

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smbvfs/smbvfs/backends/vfs"
	"github.com/smbvfs/smbvfs/protocol/dtyp"
	"github.com/smbvfs/smbvfs/protocol/ntstatus"
	"github.com/smbvfs/smbvfs/protocol/smb2"
)

// Policy is a yes/no/required setting for signing and encryption.
type Policy uint8

const (
	// Enabled: offered and used when the client asks for it (the default).
	Enabled Policy = iota
	// Required: every session (or share) must use it.
	Required
	// Disabled: never offered (encryption only; signing can not be disabled on SMB2).
	Disabled
)

// ParsePolicy reads "enabled", "required", "disabled" (and "auto", "if_required", "off").
func ParsePolicy(s string) (Policy, error) {
	switch strings.ToLower(s) {
	case "", "enabled", "auto", "default", "if_required", "desired", "on":
		return Enabled, nil
	case "required", "mandatory":
		return Required, nil
	case "disabled", "off", "no":
		return Disabled, nil
	}
	return 0, fmt.Errorf("unknown policy %q (enabled, required, disabled)", s)
}

func (p Policy) String() string {
	switch p {
	case Required:
		return "required"
	case Disabled:
		return "disabled"
	}
	return "enabled"
}

// Share is one exported filesystem.
type Share struct {
	Name     string
	FS       vfs.FS
	Comment  string
	ReadOnly bool
	// Encrypt requires encryption of every request on tree connects to this share
	// (SMB2_SHAREFLAG_ENCRYPT_DATA); clients below 3.0 can not connect to it.
	Encrypt bool
	// NoGuest refuses guest and anonymous sessions at TREE_CONNECT (STATUS_ACCESS_DENIED).
	NoGuest bool
	// Allow, when not empty, lists the only user names that may connect to the share; Deny
	// lists user names that may not (Deny wins). Names compare without regard to case; a
	// guest session is the user "guest". Refusals are STATUS_ACCESS_DENIED at TREE_CONNECT.
	Allow, Deny []string
	// OplockBreakTimeout is how long an open waits for the acknowledgment of the oplock
	// break it causes before it takes the oplock away (MS-SMB2 3.3.2.1); 0 means 35 s.
	OplockBreakTimeout time.Duration
}

// Options configure a Server. The zero value serves no share and refuses every logon.
type Options struct {
	Shares []Share
	// Users authenticates users by NT hash; nil means no named user can log on.
	Users UserStore
	// Guest allows guest logons: a client that asks for no particular user (an empty or
	// unknown user name with NTLM, or an anonymous NTLM token) gets a guest session.
	Guest bool
	// MapUnknownToGuest maps an unknown user name to guest (like Samba's "map to guest = bad
	// user") when Guest is allowed; a known user with a wrong password always fails.
	MapUnknownToGuest bool
	// Anonymous allows null sessions (anonymous NTLM).
	Anonymous  bool
	Signing    Policy // Required: every session must sign
	Encryption Policy // Required: every 3.x session must encrypt, older dialects are refused
	// MinDialect and MaxDialect bound the dialects offered (default 2.0.2 .. 3.1.1).
	MinDialect, MaxDialect smb2.Dialect
	// MaxMessageSize bounds one Direct-TCP message (default 8 MiB + 64 KiB); MaxIOSize bounds
	// READ, WRITE and transact sizes (default 8 MiB).
	MaxMessageSize int
	MaxIOSize      int
	// MaxCredits is the credit budget of a connection (default 8192).
	MaxCredits int
	// ServerName is the NetBIOS/DNS name the server gives in NTLM (default "SMBVFS").
	ServerName string
	// Domain is the NTLM domain (default the server name).
	Domain string
	Logger *slog.Logger
	// IdleTimeout closes a connection that has no session after that long without a
	// message (default 2 minutes); connections with sessions are kept.
	IdleTimeout time.Duration
	// Ciphers and SigningAlgorithms override the server's order of preference (3.1.1).
	Ciphers           []smb2.CipherId
	SigningAlgorithms []smb2.SigningAlgorithm
	// KeyLog, when set, receives one line per authenticated session with its id and keys, in
	// the format of Wireshark's smb2_seskey_list (like SSLKEYLOGFILE). A debugging aid for
	// decrypting captures: off by default, never in production.
	KeyLog io.Writer
	// GUID is the ServerGuid given in NEGOTIATE; zero means a random one per process. Keep
	// it across restarts (smbserve's state file) so that clients see the same server.
	GUID dtyp.GUID
	// OnRequest, when set, is called once per answered request with its command, the
	// status of the response and the time the server spent on it (for metrics). It runs on
	// the connection's goroutine: it must be quick and safe for concurrent use.
	OnRequest func(cmd smb2.Command, status ntstatus.Status, elapsed time.Duration)
}

// Server is an SMB2/3 server.
type Server struct {
	opts      Options
	log       *slog.Logger
	guid      dtyp.GUID
	startTime time.Time
	sharesMu  sync.RWMutex
	shares    map[string]*share // by upper-case name; replaced whole by SetShares

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	shutdown  atomic.Bool
	connWG    sync.WaitGroup

	sessionSeq atomic.Uint64
	sessMu     sync.Mutex
	sessions   map[uint64]*session // every authenticated session, for PreviousSessionId
	treeSeq    atomic.Uint32

	stats Stats
	debug bool // per-request debug logs
}

// Stats are counters of the server. Totals only grow; the Active and Open gauges go up
// and down.
type Stats struct {
	Connections atomic.Int64 // accepted connections
	Requests    atomic.Int64 // SMB frames received
	Sessions    atomic.Int64 // sessions established
	Failures    atomic.Int64 // requests answered with an error status

	ActiveConnections atomic.Int64
	ActiveSessions    atomic.Int64
	OpenFiles         atomic.Int64 // opens (files, directories, pipes) of all tree connects

	BytesRead       atomic.Int64 // READ payload sent
	BytesWritten    atomic.Int64 // WRITE payload accepted
	SigningFailures atomic.Int64 // requests refused for a bad signature
	DecryptFailures atomic.Int64 // encrypted messages that did not decrypt (the connection drops)
	BackendErrors   atomic.Int64 // requests answered with a status that reports a backend failure
}

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("server: closed")

const (
	defaultMaxIO      = 8 << 20
	defaultMaxMsg     = defaultMaxIO + 64<<10
	defaultMaxCredits = 8192
)

// New checks the options and builds a server.
func New(opts Options) (*Server, error) {
	if opts.MinDialect == 0 {
		opts.MinDialect = smb2.Dialect202
	}
	if opts.MaxDialect == 0 {
		opts.MaxDialect = smb2.Dialect311
	}
	if !knownDialect(opts.MinDialect) || !knownDialect(opts.MaxDialect) || opts.MinDialect > opts.MaxDialect {
		return nil, fmt.Errorf("server: bad dialect range %v..%v", opts.MinDialect, opts.MaxDialect)
	}
	if opts.Encryption == Required && opts.MaxDialect < smb2.Dialect300 {
		return nil, errors.New("server: encryption required needs dialect 3.0 or later")
	}
	if opts.MaxIOSize <= 0 {
		opts.MaxIOSize = defaultMaxIO
	}
	if opts.MaxIOSize < 64<<10 {
		opts.MaxIOSize = 64 << 10
	}
	if opts.MaxMessageSize <= 0 {
		opts.MaxMessageSize = opts.MaxIOSize + 64<<10
	}
	if opts.MaxMessageSize > 1<<24-1 {
		opts.MaxMessageSize = 1<<24 - 1
	}
	if opts.MaxMessageSize < 64<<10 {
		return nil, errors.New("server: MaxMessageSize below 64 KiB")
	}
	if opts.MaxIOSize > opts.MaxMessageSize-4096 {
		opts.MaxIOSize = (opts.MaxMessageSize - 4096) &^ 0xffff
	}
	if opts.MaxCredits <= 0 {
		opts.MaxCredits = defaultMaxCredits
	}
	if opts.MaxCredits > 1<<15 {
		opts.MaxCredits = 1 << 15
	}
	if opts.ServerName == "" {
		opts.ServerName = "SMBVFS"
	}
	if opts.Domain == "" {
		opts.Domain = strings.ToUpper(opts.ServerName)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 2 * time.Minute
	}
	if len(opts.Ciphers) == 0 {
		opts.Ciphers = []smb2.CipherId{smb2.CipherAES128GCM, smb2.CipherAES128CCM, smb2.CipherAES256GCM, smb2.CipherAES256CCM}
	}
	if len(opts.SigningAlgorithms) == 0 {
		opts.SigningAlgorithms = []smb2.SigningAlgorithm{smb2.SigningAESGMAC, smb2.SigningAESCMAC, smb2.SigningHMACSHA256}
	}
	s := &Server{
		opts:      opts,
		log:       opts.Logger,
		startTime: time.Now(),
		shares:    make(map[string]*share),
		listeners: make(map[net.Listener]struct{}),
		conns:     make(map[*conn]struct{}),
		sessions:  make(map[uint64]*session),
	}
	s.debug = opts.Logger.Enabled(context.Background(), slog.LevelDebug)
	s.guid = opts.GUID
	if s.guid == (dtyp.GUID{}) {
		rand.Read(s.guid[:])
	}
	var seed [8]byte
	rand.Read(seed[:])
	// Session ids start at a random point below 2^31, so that ids of two server instances
	// differ (some clients keep them in 32 bits).
	s.sessionSeq.Store(uint64(seed[0]&0x3f)<<24 | uint64(seed[1])<<16)
	shares, err := s.buildShares(opts.Shares, nil)
	if err != nil {
		return nil, err
	}
	s.shares = shares
	return s, nil
}

func knownDialect(d smb2.Dialect) bool {
	switch d {
	case smb2.Dialect202, smb2.Dialect210, smb2.Dialect300, smb2.Dialect302, smb2.Dialect311:
		return true
	}
	return false
}

// GUID returns the ServerGuid the server gives in NEGOTIATE.
func (s *Server) GUID() dtyp.GUID { return s.guid }

// Logger returns the server's logger.
func (s *Server) Logger() *slog.Logger { return s.log }

// Stats returns the server's counters.
func (s *Server) Stats() *Stats { return &s.stats }

// Serve accepts connections on l until l fails or Shutdown is called.
func (s *Server) Serve(l net.Listener) error {
	if s.shutdown.Load() {
		return ErrServerClosed
	}
	s.mu.Lock()
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
	}()
	var delay time.Duration
	for {
		nc, err := l.Accept()
		if err != nil {
			if s.shutdown.Load() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		c := newConn(s, nc)
		s.mu.Lock()
		if s.shutdown.Load() {
			s.mu.Unlock()
			nc.Close()
			return ErrServerClosed
		}
		s.conns[c] = struct{}{}
		s.connWG.Add(1)
		s.mu.Unlock()
		s.stats.Connections.Add(1)
		s.stats.ActiveConnections.Add(1)
		go func() {
			defer s.connWG.Done()
			defer s.stats.ActiveConnections.Add(-1)
			c.serve()
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
}

// Shutdown stops accepting connections, lets each connection finish the requests it is
// running, then closes the connections (closing their opens). When ctx ends first, the
// remaining connections are closed at once and ctx's error is returned.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shutdown.Store(true)
	s.mu.Lock()
	for l := range s.listeners {
		l.Close()
	}
	for c := range s.conns {
		c.stopReading()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.connWG.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		for c := range s.conns {
			c.abort()
		}
		s.mu.Unlock()
		<-done
		return ctx.Err()
	}
}

// Close closes every listener and connection at once.
func (s *Server) Close() error {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.Shutdown(ctx)
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

func (s *Server) newSessionID() uint64 {
	for {
		id := s.sessionSeq.Add(1)
		if id != 0 && id != ^uint64(0) {
			return id
		}
	}
}

func (s *Server) registerSession(ss *session) {
	s.sessMu.Lock()
	s.sessions[ss.id] = ss
	s.sessMu.Unlock()
	s.stats.ActiveSessions.Add(1)
}

func (s *Server) unregisterSession(ss *session) {
	s.sessMu.Lock()
	was := s.sessions[ss.id] == ss
	if was {
		delete(s.sessions, ss.id)
	}
	s.sessMu.Unlock()
	if was {
		s.stats.ActiveSessions.Add(-1)
		id := ss.getIdentity()
		ss.conn.log.Info("session closed", "id", ss.id, "user", id.User, "duration", time.Since(ss.created).Round(time.Millisecond))
	}
}

func (s *Server) lookupSession(id uint64) *session {
	s.sessMu.Lock()
	defer s.sessMu.Unlock()
	return s.sessions[id]
}

// String formats the counters, one per line.
func (st *Stats) String() string {
	return fmt.Sprintf("connections: %d\nrequests: %d\nsessions: %d\nfailed requests: %d\n",
		st.Connections.Load(), st.Requests.Load(), st.Sessions.Load(), st.Failures.Load())
}
