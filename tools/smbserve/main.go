// Command smbserve runs the smbvfs SMB2/3 server.
//
//	smbserve                                  demo: 127.0.0.1:10445, shares test (memfs), hello and music, guest and demo/demo
//	smbserve serve --config /etc/smbserve/smbserve.yaml
//	smbserve serve --listen 127.0.0.1:10445 --share test=memfs --share data=passthrough:/srv/data \
//	    [--users FILE] [--guest] [--signing required] [--encryption required] \
//	    [--min-dialect 2.0.2] [--max-dialect 3.1.1] [--metrics 127.0.0.1:9445]
//	smbserve check-config --config FILE       validate and print the effective configuration
//	smbserve user add|passwd|del|list --file FILE [NAME]
//	smbserve version
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/smbvfs/smbvfs/backends/hello"
	"github.com/smbvfs/smbvfs/backends/memfs"
	"github.com/smbvfs/smbvfs/backends/passthrough"
	"github.com/smbvfs/smbvfs/backends/queryfs"
	"github.com/smbvfs/smbvfs/backends/vfs"
	"github.com/smbvfs/smbvfs/protocol/smb2"
	"github.com/smbvfs/smbvfs/server"
	"github.com/smbvfs/smbvfs/server/metrics"
)

func main() {
	if err := app(os.Stdin, os.Stdout, os.Stderr).Run(context.Background(), os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "smbserve:", err)
		os.Exit(1)
	}
}

func app(stdin io.Reader, stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:  "smbserve",
		Usage: "serve virtual filesystems over SMB2/3",
		Description: "Without arguments smbserve starts a demo server on 127.0.0.1 (an unprivileged port) with a\n" +
			"writable in-memory share 'test', the example share 'hello' and the music query share 'music',\n" +
			"guest access and the user demo (password demo), and prints how to connect.\n\n" +
			"For real use: write a configuration file (docs/OPERATIONS.md), add users with\n" +
			"'smbserve user add --file USERS NAME', check it with 'smbserve check-config --config FILE'\n" +
			"and run 'smbserve serve --config FILE'.",
		Writer:    stdout,
		ErrWriter: stderr,
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if cmd.Args().Len() > 0 {
				return fmt.Errorf("unknown command %q (serve, check-config, user, version; --help)", cmd.Args().First())
			}
			return demo(ctx, stdout, stderr)
		},
		Commands: []*cli.Command{
			serveCommand(stdout, stderr),
			checkCommand(stdout),
			userCommand(stdin, stdout),
			versionCommand(stdout),
		},
	}
}

// serveFlags are the flags of serve and check-config; each overrides the configuration
// file's key of the same name (--share adds shares).
func serveFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "config", Aliases: []string{"c"}, Usage: "YAML configuration `FILE` (see docs/OPERATIONS.md)"},
		&cli.StringSliceFlag{Name: "listen", Usage: "`ADDR` to listen on, e.g. :445 or 127.0.0.1:10445 (repeatable; default :445, or the systemd sockets)"},
		&cli.StringSliceFlag{Name: "share", Usage: "add a share, `SPEC` = NAME=BACKEND[,ro][,encrypt][,noguest]; BACKEND is memfs, passthrough:DIR, hello[:DIR], queryfs:SPEC or queryfs-demo[:DIR] (repeatable)"},
		&cli.StringFlag{Name: "users", Usage: "users `FILE` of NT hashes (create it with 'smbserve user add')"},
		&cli.BoolFlag{Name: "guest", Usage: "allow guest (and anonymous) logons"},
		&cli.BoolFlag{Name: "map-to-guest", Usage: "log unknown user names on as guest (with --guest)"},
		&cli.StringFlag{Name: "signing", Usage: "`POLICY`: enabled (sign when the client asks) or required"},
		&cli.StringFlag{Name: "encryption", Usage: "`POLICY`: enabled, required (SMB 3.x only) or disabled"},
		&cli.StringFlag{Name: "min-dialect", Usage: "lowest dialect `VERSION`: 2.0.2, 2.1, 3.0, 3.0.2 or 3.1.1"},
		&cli.StringFlag{Name: "max-dialect", Usage: "highest dialect `VERSION`"},
		&cli.StringFlag{Name: "name", Usage: "server `NAME` (NetBIOS name; default SMBVFS)"},
		&cli.StringFlag{Name: "state-file", Usage: "`FILE` keeping the server GUID across restarts"},
		&cli.StringFlag{Name: "log-level", Usage: "`LEVEL`: debug (one line per request), info (connections and sessions), warn or error"},
		&cli.StringFlag{Name: "log-format", Usage: "`FORMAT`: text or json"},
		&cli.StringFlag{Name: "metrics", Usage: "serve Prometheus metrics on http://`ADDR`/metrics, e.g. 127.0.0.1:9445 (off by default)"},
		&cli.BoolFlag{Name: "pprof", Usage: "also serve /debug/pprof/ on the metrics listener"},
		&cli.StringFlag{Name: "keylog", Usage: "append each session's id and keys to `FILE` (Wireshark smb2_seskey_list format; debugging only: it decrypts the traffic)"},
	}
}

// configFrom reads --config (if given), applies the flags and checks the result.
func configFrom(cmd *cli.Command) (*Config, error) {
	c := &Config{}
	if f := cmd.String("config"); f != "" {
		var err error
		if c, err = LoadConfig(f); err != nil {
			return nil, err
		}
	}
	if err := applyFlags(c, cmd); err != nil {
		return nil, err
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	return c, nil
}

func applyFlags(c *Config, cmd *cli.Command) error {
	str := func(name string, dst *string) {
		if cmd.IsSet(name) {
			*dst = cmd.String(name)
		}
	}
	if cmd.IsSet("listen") {
		c.Listen = cmd.StringSlice("listen")
	}
	str("users", &c.UsersFile)
	str("signing", &c.Signing)
	str("encryption", &c.Encryption)
	str("min-dialect", &c.MinDialect)
	str("max-dialect", &c.MaxDialect)
	str("name", &c.Name)
	str("state-file", &c.StateFile)
	str("log-level", &c.LogLevel)
	str("log-format", &c.LogFormat)
	str("metrics", &c.Metrics)
	str("keylog", &c.KeyLog)
	if cmd.IsSet("guest") {
		c.Guest = cmd.Bool("guest")
	}
	if cmd.IsSet("map-to-guest") {
		c.MapToGuest = cmd.Bool("map-to-guest")
	}
	if cmd.IsSet("pprof") {
		c.Pprof = cmd.Bool("pprof")
	}
	for _, spec := range cmd.StringSlice("share") {
		s, err := parseShareFlag(spec)
		if err != nil {
			return err
		}
		c.Shares = append(c.Shares, s)
	}
	if err := c.validate(); err != nil {
		return err
	}
	return nil
}

// parseShareFlag reads --share NAME=BACKEND[,ro][,encrypt][,noguest].
func parseShareFlag(spec string) (ShareConfig, error) {
	name, def, ok := strings.Cut(spec, "=")
	if !ok || name == "" {
		return ShareConfig{}, fmt.Errorf("--share %q: want NAME=memfs|passthrough:DIR|hello|queryfs:SPEC", spec)
	}
	s := ShareConfig{Name: name}
	parts := strings.Split(def, ",")
	s.Backend = parts[0]
	for _, p := range parts[1:] {
		switch p {
		case "ro", "readonly":
			s.ReadOnly = true
		case "encrypt", "encrypted":
			s.Encrypt = true
		case "noguest":
			f := false
			s.Guest = &f
		default:
			return s, fmt.Errorf("--share %q: unknown option %q (ro, encrypt, noguest)", spec, p)
		}
	}
	if err := checkBackendSpec(s.Backend); err != nil {
		return s, fmt.Errorf("--share %q: %v", spec, err)
	}
	return s, nil
}

// parseShare builds a share from a --share value (its backend opened); the closer, when not
// nil, releases the backend.
func parseShare(spec string) (server.Share, func(), error) {
	sc, err := parseShareFlag(spec)
	if err != nil {
		return server.Share{}, nil, err
	}
	fsys, closer, err := openBackend(context.Background(), sc.Backend, sc.ReadOnly)
	if err != nil {
		return server.Share{}, nil, fmt.Errorf("--share %q: %v", spec, err)
	}
	return shareOf(sc, fsys), closer, nil
}

func shareOf(sc ShareConfig, fsys vfs.FS) server.Share {
	return server.Share{
		Name: sc.Name, FS: fsys, Comment: sc.Comment, ReadOnly: sc.ReadOnly, Encrypt: sc.Encrypt,
		NoGuest: sc.Guest != nil && !*sc.Guest, Allow: sc.Allow, Deny: sc.Deny,
	}
}

// openBackend opens the filesystem of a backend spec.
func openBackend(ctx context.Context, spec string, ro bool) (vfs.FS, func(), error) {
	kind, arg, _ := strings.Cut(spec, ":")
	switch kind {
	case "memfs":
		return memfs.New(memfs.Options{}), nil, nil
	case "passthrough":
		fsys, err := passthrough.New(arg, passthrough.Options{CaseInsensitive: true, ReadOnly: ro})
		if err != nil {
			return nil, nil, err
		}
		return fsys, func() { fsys.Close() }, nil
	case "hello":
		fsys, err := hello.New(hello.Config{Dir: arg})
		if err != nil {
			return nil, nil, err
		}
		return fsys, func() { fsys.Close() }, nil
	case "queryfs":
		fsys, err := queryfs.Open(ctx, arg)
		if err != nil {
			return nil, nil, err
		}
		return fsys, func() { fsys.Close() }, nil
	case "queryfs-demo":
		dir, cleanup := arg, func() {}
		if dir == "" {
			d, err := os.MkdirTemp("", "smbserve-music-")
			if err != nil {
				return nil, nil, err
			}
			dir, cleanup = d, func() { os.RemoveAll(d) }
		}
		fsys, err := queryfs.Demo(ctx, dir, demoTracks)
		if err != nil {
			cleanup()
			return nil, nil, err
		}
		return fsys, func() { fsys.Close(); cleanup() }, nil
	}
	return nil, nil, checkBackendSpec(spec)
}

const demoTracks = 60

// testHookServe, when set by a test, receives the instance serve builds (to drive reloads).
var testHookServe func(*instance)

func parseDialect(s string) (smb2.Dialect, error) {
	switch strings.ToUpper(strings.TrimPrefix(strings.ToUpper(s), "SMB")) {
	case "2.0.2", "2.02", "2.002", "2_02", "202":
		return smb2.Dialect202, nil
	case "2.1", "2.10", "2_10", "210":
		return smb2.Dialect210, nil
	case "3.0", "3", "3.00", "3_00", "300":
		return smb2.Dialect300, nil
	case "3.0.2", "3.02", "3_02", "302":
		return smb2.Dialect302, nil
	case "3.1.1", "3.11", "3_11", "311":
		return smb2.Dialect311, nil
	}
	return 0, fmt.Errorf("unknown dialect %q (2.0.2, 2.1, 3.0, 3.0.2, 3.1.1)", s)
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return l, fmt.Errorf("unknown level %q (debug, info, warn, error)", s)
	}
	return l, nil
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	l, err := parseLevel(level)
	if err != nil {
		return nil, err
	}
	ho := &slog.HandlerOptions{Level: l}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, ho)), nil
	}
	return slog.New(slog.NewTextHandler(w, ho)), nil
}

func checkCommand(stdout io.Writer) *cli.Command {
	return &cli.Command{
		Name:  "check-config",
		Usage: "validate the configuration (file and flags) and print the effective configuration",
		Description: "Reads --config FILE and the serve flags as 'smbserve serve' would, checks every key and value,\n" +
			"that the users file exists and is private (mode 0600) and that the directories of passthrough\n" +
			"shares are readable, then prints the configuration with every default filled in.\n" +
			"Errors name the file and line; the exit status is 1 on any error.",
		Flags: serveFlags(),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			c, err := configFrom(cmd)
			if err != nil {
				return err
			}
			stdout.Write(c.Effective())
			return nil
		},
	}
}

func versionCommand(stdout io.Writer) *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the version of smbserve",
		Action: func(ctx context.Context, cmd *cli.Command) error {
			fmt.Fprintln(stdout, versionString())
			return nil
		},
	}
}

func versionString() string {
	v, rev, dirty := "(devel)", "", ""
	goVersion := ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		goVersion = bi.GoVersion
		if bi.Main.Version != "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = "+dirty"
				}
			}
		}
	}
	out := "smbserve " + v
	if rev != "" {
		out += " " + rev[:min(12, len(rev))] + dirty
	}
	if goVersion != "" {
		out += " " + goVersion
	}
	return out + " (SMB 2.0.2-3.1.1)"
}

// instance is a configured server: the backends it opened and what a reload changes.
type instance struct {
	cmd     *cli.Command
	log     *slog.Logger
	srv     *server.Server
	users   *server.Users
	opened  map[string]backend // share name -> its backend, reused by reloads when unchanged
	closers []func()
	hellos  []*hello.FS
	metrics *metrics.Metrics
}

type backend struct {
	spec string
	ro   bool
	fs   vfs.FS
}

// newInstance builds the server of a checked configuration.
func newInstance(ctx context.Context, cmd *cli.Command, c *Config, stderr io.Writer) (*instance, error) {
	c.fillDefaults()
	lg, err := newLogger(stderr, c.LogLevel, c.LogFormat)
	if err != nil {
		return nil, err
	}
	in := &instance{cmd: cmd, log: lg, users: server.NewUsers(), opened: map[string]backend{}}
	if c.UsersFile != "" {
		u, err := server.LoadUsers(c.UsersFile)
		if err != nil {
			return in, err
		}
		in.users.Replace(u)
	}
	opts := server.Options{
		Users:             in.users,
		Guest:             c.Guest,
		MapUnknownToGuest: c.MapToGuest,
		Anonymous:         *c.Anonymous,
		ServerName:        c.Name,
		Domain:            c.Domain,
		IdleTimeout:       c.IdleTimeout,
		Logger:            lg,
	}
	opts.Signing, _ = server.ParsePolicy(c.Signing)
	opts.Encryption, _ = server.ParsePolicy(c.Encryption)
	opts.MinDialect, _ = parseDialect(c.MinDialect)
	opts.MaxDialect, _ = parseDialect(c.MaxDialect)
	if c.StateFile != "" {
		if opts.GUID, err = serverGUID(c.StateFile); err != nil {
			return in, err
		}
	}
	if c.KeyLog != "" {
		kl, err := os.OpenFile(c.KeyLog, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return in, fmt.Errorf("keylog: %v", err)
		}
		in.closers = append(in.closers, func() { kl.Close() })
		opts.KeyLog = kl
		lg.Warn("session keys are written to the key log: anyone who reads it can decrypt the traffic", "file", c.KeyLog)
	}
	if c.Metrics != "" {
		in.metrics = metrics.New()
		opts.OnRequest = in.metrics.Observe
	}
	if opts.Shares, err = in.shares(ctx, c); err != nil {
		return in, err
	}
	if in.srv, err = server.New(opts); err != nil {
		return in, err
	}
	for _, h := range in.hellos {
		h.SetStats(in.srv.Stats().String)
	}
	if in.metrics != nil {
		in.metrics.Attach(in.srv.Stats())
	}
	return in, nil
}

// shares opens the backends of c's shares, reusing those already open with the same spec.
func (in *instance) shares(ctx context.Context, c *Config) ([]server.Share, error) {
	var out []server.Share
	for _, sc := range c.Shares {
		b, ok := in.opened[strings.ToUpper(sc.Name)]
		if !ok || b.spec != sc.Backend || b.ro != sc.ReadOnly {
			fsys, closer, err := openBackend(ctx, sc.Backend, sc.ReadOnly)
			if err != nil {
				return nil, c.errorf(sc.at("backend"), "share %s: %v", sc.Name, err)
			}
			if closer != nil {
				in.closers = append(in.closers, closer)
			}
			if h, ok := fsys.(*hello.FS); ok {
				in.hellos = append(in.hellos, h)
				if in.srv != nil {
					h.SetStats(in.srv.Stats().String)
				}
			}
			b = backend{spec: sc.Backend, ro: sc.ReadOnly, fs: fsys}
			in.opened[strings.ToUpper(sc.Name)] = b
		}
		out = append(out, shareOf(sc, b.fs))
	}
	return out, nil
}

// reload re-reads the configuration file (and the flags) and applies the shares and the users
// file; connections, sessions and open files are kept. Other settings need a restart.
func (in *instance) reload(ctx context.Context) error {
	c, err := configFrom(in.cmd)
	if err != nil {
		return err
	}
	users := server.NewUsers()
	if c.UsersFile != "" {
		if users, err = server.LoadUsers(c.UsersFile); err != nil {
			return err
		}
	}
	shares, err := in.shares(ctx, c)
	if err != nil {
		return err
	}
	if err := in.srv.SetShares(shares); err != nil {
		return err
	}
	in.users.Replace(users)
	in.log.Info("configuration reloaded", "shares", strings.Join(in.srv.ShareNames(), ","), "users", len(users.Names()))
	return nil
}

func (in *instance) close() {
	for i := len(in.closers) - 1; i >= 0; i-- {
		in.closers[i]()
	}
}

func serveCommand(stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:  "serve",
		Usage: "run the server",
		Description: "Serves the shares of --config FILE and of the flags. Examples:\n\n" +
			"  smbserve serve --config /etc/smbserve/smbserve.yaml\n" +
			"  smbserve serve --listen 127.0.0.1:10445 --share test=memfs --guest\n" +
			"  smbserve serve --listen :445 --share data=passthrough:/srv/data --users /etc/smbserve/users\n\n" +
			"SIGHUP reloads the shares and the users file without dropping connections; SIGINT or\n" +
			"SIGTERM stop the server gracefully. Ports below 1024 need privileges: see the systemd\n" +
			"socket unit in dist/systemd.",
		Flags: serveFlags(),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			c, err := configFrom(cmd)
			if err != nil {
				return err
			}
			in, err := newInstance(ctx, cmd, c, stderr)
			defer in.close()
			if err != nil {
				return err
			}
			if testHookServe != nil {
				testHookServe(in)
			}
			// The sockets of systemd socket activation win over the file's listen: key; an
			// explicit --listen wins over them.
			listeners, err := listen(c.Listen, cmd.IsSet("listen"))
			if err != nil {
				return err
			}
			for _, l := range listeners {
				fmt.Fprintf(stdout, "listening on %s\n", l.Addr())
			}
			if in.metrics != nil {
				ml, err := net.Listen("tcp", c.Metrics)
				if err != nil {
					return fmt.Errorf("metrics: %v", listenError(c.Metrics, err))
				}
				hs := &http.Server{Handler: metrics.Handler(in.metrics, c.Pprof), ReadHeaderTimeout: 10 * time.Second}
				go hs.Serve(ml)
				defer hs.Close()
				fmt.Fprintf(stdout, "metrics on http://%s/metrics\n", ml.Addr())
			}
			in.log.Info("serving", "shares", strings.Join(in.srv.ShareNames(), ","), "version", versionString())
			return run(ctx, in.srv, listeners, in.reload)
		},
	}
}

// listen opens the listeners: the systemd sockets when LISTEN_FDS is set (and no address
// was given explicitly), else each address.
func listen(addrs []string, explicit bool) ([]net.Listener, error) {
	if !explicit {
		if ls, err := systemdListeners(); err != nil || len(ls) > 0 {
			return ls, err
		}
	}
	var out []net.Listener
	for _, a := range addrs {
		l, err := net.Listen("tcp", a)
		if err != nil {
			for _, o := range out {
				o.Close()
			}
			return nil, listenError(a, err)
		}
		out = append(out, l)
	}
	return out, nil
}

func listenError(addr string, err error) error {
	if errors.Is(err, syscall.EACCES) || errors.Is(err, os.ErrPermission) {
		return fmt.Errorf("cannot listen on %s: permission denied.\n"+
			"Ports below 1024 need privileges. Alternatives:\n"+
			"  - an unprivileged port:     smbserve serve --listen 127.0.0.1:10445 ...\n"+
			"  - grant the capability:     sudo setcap cap_net_bind_service=+ep $(command -v smbserve)\n"+
			"  - systemd socket activation: a .socket unit with ListenStream=445 (smbserve takes LISTEN_FDS)", addr)
	}
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("cannot listen on %s: address already in use (another SMB server? try --listen 127.0.0.1:10445)", addr)
	}
	return fmt.Errorf("cannot listen on %s: %v", addr, err)
}

// run serves until SIGINT/SIGTERM, then shuts down gracefully; SIGHUP calls reload (when not
// nil) and logs its result.
func run(ctx context.Context, srv *server.Server, listeners []net.Listener, reload func(context.Context) error) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	if reload != nil {
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
	}
	errc := make(chan error, len(listeners))
	for _, l := range listeners {
		go func() { errc <- srv.Serve(l) }()
	}
	for {
		select {
		case <-hup:
			if err := reload(ctx); err != nil {
				srv.Logger().Error("configuration reload failed; the previous configuration stays", "err", err)
			}
			continue
		case <-ctx.Done():
		case err := <-errc:
			if !errors.Is(err, server.ErrServerClosed) {
				srv.Close()
				return err
			}
		}
		break
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// demo runs the no-argument demo server.
func demo(ctx context.Context, stdout, stderr io.Writer) error {
	users := server.NewUsers()
	users.SetPassword("demo", "demo")
	hfs, err := hello.New(hello.Config{})
	if err != nil {
		return err
	}
	defer hfs.Close()
	shares := []server.Share{
		{Name: "test", FS: memfs.New(memfs.Options{}), Comment: "writable in-memory share"},
		{Name: "hello", FS: vfs.FS(hfs), Comment: "the example share"},
	}
	music, closeMusic, err := openBackend(ctx, "queryfs-demo", true)
	if err != nil {
		fmt.Fprintf(stderr, "smbserve: no music share: %v\n", err)
	} else {
		defer closeMusic()
		shares = append(shares, server.Share{Name: "music", FS: music, Comment: "a generated music library by artist, album, year and genre", ReadOnly: true})
	}
	lg, _ := newLogger(stderr, "warn", "text")
	srv, err := server.New(server.Options{
		Shares:            shares,
		Users:             users,
		Guest:             true,
		MapUnknownToGuest: true,
		Anonymous:         true,
		Logger:            lg,
	})
	if err != nil {
		return err
	}
	hfs.SetStats(srv.Stats().String)
	var l net.Listener
	for port := 10445; port < 10545; port++ {
		if l, err = net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
			break
		}
	}
	if l == nil {
		return fmt.Errorf("no free port from 10445: %v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	names := strings.Join(srv.ShareNames(), ", ")
	fmt.Fprintf(stdout, `smbvfs demo server on 127.0.0.1:%[1]d
shares: %[2]s  (test: writable, in memory; hello: example; music: query folders)
users:  demo / demo, and guest (no password)

connect:
  smbclient //127.0.0.1/test -p %[1]d -U demo%%demo
  smbclient //127.0.0.1/hello -p %[1]d -N
  Linux:   sudo mount -t cifs //127.0.0.1/test /mnt -o port=%[1]d,username=demo,password=demo,vers=3.1.1
  Windows: net use Z: \\HOST\test /user:demo demo
           (Windows only connects to port 445: serve it with 'smbserve serve --listen :445 ...')
  macOS Finder: Go > Connect to Server > smb://demo:demo@127.0.0.1:%[1]d/test

Ctrl-C stops the server. 'smbserve --help' shows the commands for real use.
`, port, names)
	return run(ctx, srv, []net.Listener{l}, nil)
}
