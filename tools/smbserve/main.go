// Command smbserve runs the smbvfs SMB2/3 server.
//
//	smbserve                                  demo: 127.0.0.1:10445, shares test (memfs) and hello, guest and demo/demo
//	smbserve serve --listen 127.0.0.1:10445 --share test=memfs --share data=passthrough:/srv/data \
//	    [--users FILE] [--guest] [--signing required] [--encryption required] \
//	    [--min-dialect 2.0.2] [--max-dialect 3.1.1]
//	smbserve user add --file FILE NAME        (password on stdin; the file keeps the NT hash)
//	smbserve user del --file FILE NAME
//	smbserve user list --file FILE
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/smbvfs/smbvfs/backends/hello"
	"github.com/smbvfs/smbvfs/backends/memfs"
	"github.com/smbvfs/smbvfs/backends/passthrough"
	"github.com/smbvfs/smbvfs/backends/vfs"
	"github.com/smbvfs/smbvfs/protocol/smb2"
	"github.com/smbvfs/smbvfs/server"
)

func main() {
	if err := app(os.Stdin, os.Stdout, os.Stderr).Run(context.Background(), os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "smbserve:", err)
		os.Exit(1)
	}
}

func app(stdin io.Reader, stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:      "smbserve",
		Usage:     "serve virtual filesystems over SMB2/3",
		Writer:    stdout,
		ErrWriter: stderr,
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if cmd.Args().Len() > 0 {
				return fmt.Errorf("unknown command %q (serve, user)", cmd.Args().First())
			}
			return demo(ctx, stdout, stderr)
		},
		Commands: []*cli.Command{serveCommand(stdout, stderr), userCommand(stdin, stdout)},
	}
}

func serveCommand(stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:  "serve",
		Usage: "run the server",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "listen", Usage: "address to listen on (repeatable; IPv4 or [IPv6]:port)", Value: []string{":445"}},
			&cli.StringSliceFlag{Name: "share", Usage: "NAME=memfs | NAME=passthrough:DIR | NAME=hello[:DIR] (repeatable; suffix ,ro or ,encrypt)"},
			&cli.StringFlag{Name: "users", Usage: "users file (see 'smbserve user add')"},
			&cli.BoolFlag{Name: "guest", Usage: "allow guest and anonymous logons"},
			&cli.BoolFlag{Name: "map-to-guest", Usage: "log unknown user names on as guest (with --guest)"},
			&cli.StringFlag{Name: "signing", Usage: "enabled | required", Value: "enabled"},
			&cli.StringFlag{Name: "encryption", Usage: "enabled | required | disabled", Value: "enabled"},
			&cli.StringFlag{Name: "min-dialect", Usage: "lowest dialect: 2.0.2, 2.1, 3.0, 3.0.2, 3.1.1", Value: "2.0.2"},
			&cli.StringFlag{Name: "max-dialect", Usage: "highest dialect", Value: "3.1.1"},
			&cli.StringFlag{Name: "name", Usage: "server name", Value: "SMBVFS"},
			&cli.StringFlag{Name: "log-level", Usage: "debug | info | warn | error", Value: "info"},
			&cli.StringFlag{Name: "keylog", Usage: "append each session's id and keys to FILE (Wireshark smb2_seskey_list format; debugging only: it decrypts the traffic)"},
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			opts, closers, hellos, err := optionsFrom(cmd, stderr)
			defer func() {
				for _, c := range closers {
					c()
				}
			}()
			if err != nil {
				return err
			}
			listeners, err := listen(cmd.StringSlice("listen"), cmd.IsSet("listen"))
			if err != nil {
				return err
			}
			srv, err := server.New(opts)
			if err != nil {
				return err
			}
			for _, h := range hellos {
				h.SetStats(srv.Stats().String)
			}
			for _, l := range listeners {
				fmt.Fprintf(stdout, "listening on %s\n", l.Addr())
			}
			return run(ctx, srv, listeners)
		},
	}
}

// optionsFrom builds server options from the serve flags.
func optionsFrom(cmd *cli.Command, stderr io.Writer) (opts server.Options, closers []func(), hellos []*hello.FS, err error) {
	level := slog.LevelInfo
	if err := level.UnmarshalText([]byte(cmd.String("log-level"))); err != nil {
		return opts, nil, nil, fmt.Errorf("--log-level: %v", err)
	}
	opts.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	opts.ServerName = cmd.String("name")
	shares := cmd.StringSlice("share")
	if len(shares) == 0 {
		return opts, nil, nil, errors.New("no share: give at least one --share NAME=memfs|passthrough:DIR|hello")
	}
	for _, spec := range shares {
		sh, closer, err := parseShare(spec)
		if err != nil {
			return opts, closers, nil, err
		}
		if closer != nil {
			closers = append(closers, closer)
		}
		if h, ok := sh.FS.(*hello.FS); ok {
			hellos = append(hellos, h)
		}
		opts.Shares = append(opts.Shares, sh)
	}
	if f := cmd.String("users"); f != "" {
		u, err := server.LoadUsers(f)
		if err != nil {
			return opts, closers, nil, err
		}
		opts.Users = u
	}
	opts.Guest = cmd.Bool("guest")
	opts.Anonymous = opts.Guest
	opts.MapUnknownToGuest = cmd.Bool("map-to-guest")
	if opts.Signing, err = server.ParsePolicy(cmd.String("signing")); err != nil {
		return opts, closers, nil, fmt.Errorf("--signing: %v", err)
	}
	if opts.Signing == server.Disabled {
		return opts, closers, nil, errors.New("--signing: SMB2 signing can not be disabled (enabled or required)")
	}
	if opts.Encryption, err = server.ParsePolicy(cmd.String("encryption")); err != nil {
		return opts, closers, nil, fmt.Errorf("--encryption: %v", err)
	}
	if opts.MinDialect, err = parseDialect(cmd.String("min-dialect")); err != nil {
		return opts, closers, nil, fmt.Errorf("--min-dialect: %v", err)
	}
	if opts.MaxDialect, err = parseDialect(cmd.String("max-dialect")); err != nil {
		return opts, closers, nil, fmt.Errorf("--max-dialect: %v", err)
	}
	if opts.Users == nil && !opts.Guest {
		return opts, closers, nil, errors.New("nobody can log on: give --users FILE or --guest")
	}
	if f := cmd.String("keylog"); f != "" {
		kl, err := os.OpenFile(f, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return opts, closers, nil, fmt.Errorf("--keylog: %v", err)
		}
		closers = append(closers, func() { kl.Close() })
		opts.KeyLog = kl
	}
	return opts, closers, hellos, nil
}

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

// parseShare reads NAME=memfs, NAME=passthrough:DIR, NAME=hello[:DIR], each optionally
// followed by ,ro and ,encrypt.
func parseShare(spec string) (server.Share, func(), error) {
	name, def, ok := strings.Cut(spec, "=")
	if !ok || name == "" {
		return server.Share{}, nil, fmt.Errorf("--share %q: want NAME=memfs|passthrough:DIR|hello", spec)
	}
	sh := server.Share{Name: name}
	parts := strings.Split(def, ",")
	def = parts[0]
	for _, p := range parts[1:] {
		switch p {
		case "ro", "readonly":
			sh.ReadOnly = true
		case "encrypt", "encrypted":
			sh.Encrypt = true
		default:
			return sh, nil, fmt.Errorf("--share %q: unknown option %q (ro, encrypt)", spec, p)
		}
	}
	kind, arg, _ := strings.Cut(def, ":")
	switch kind {
	case "memfs":
		sh.FS = memfs.New(memfs.Options{})
		return sh, nil, nil
	case "passthrough":
		if arg == "" {
			return sh, nil, fmt.Errorf("--share %q: passthrough needs a directory", spec)
		}
		fs, err := passthrough.New(arg, passthrough.Options{CaseInsensitive: true, ReadOnly: sh.ReadOnly})
		if err != nil {
			return sh, nil, fmt.Errorf("--share %q: %v", spec, err)
		}
		sh.FS = fs
		return sh, func() { fs.Close() }, nil
	case "hello":
		fs, err := hello.New(hello.Config{Dir: arg})
		if err != nil {
			return sh, nil, fmt.Errorf("--share %q: %v", spec, err)
		}
		sh.FS = fs
		return sh, func() { fs.Close() }, nil
	}
	return sh, nil, fmt.Errorf("--share %q: unknown backend %q (memfs, passthrough, hello)", spec, kind)
}

// listen opens the listeners: the systemd sockets when LISTEN_FDS is set (and no --listen
// was given), else each address.
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

// systemdListeners returns the sockets passed by systemd socket activation (sd_listen_fds):
// LISTEN_PID names this process and LISTEN_FDS counts the descriptors from 3.
func systemdListeners() ([]net.Listener, error) {
	pid, err := strconv.Atoi(os.Getenv("LISTEN_PID"))
	if err != nil || pid != os.Getpid() {
		return nil, nil
	}
	n, err := strconv.Atoi(os.Getenv("LISTEN_FDS"))
	if err != nil || n <= 0 {
		return nil, nil
	}
	os.Unsetenv("LISTEN_PID")
	os.Unsetenv("LISTEN_FDS")
	os.Unsetenv("LISTEN_FDNAMES")
	var out []net.Listener
	for i := 0; i < n; i++ {
		fd := 3 + i
		syscall.CloseOnExec(fd)
		f := os.NewFile(uintptr(fd), "LISTEN_FD_"+strconv.Itoa(fd))
		l, err := net.FileListener(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("systemd socket %d: %v", fd, err)
		}
		out = append(out, l)
	}
	return out, nil
}

// run serves until SIGINT/SIGTERM, then shuts down gracefully.
func run(ctx context.Context, srv *server.Server, listeners []net.Listener) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, len(listeners))
	for _, l := range listeners {
		go func() { errc <- srv.Serve(l) }()
	}
	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, server.ErrServerClosed) {
			srv.Close()
			return err
		}
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
	srv, err := server.New(server.Options{
		Shares: []server.Share{
			{Name: "test", FS: memfs.New(memfs.Options{}), Comment: "writable in-memory share"},
			{Name: "hello", FS: vfs.FS(hfs), Comment: "the example share"},
		},
		Users:     users,
		Guest:     true,
		Anonymous: true,
		Logger:    slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
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
	fmt.Fprintf(stdout, `smbvfs demo server on 127.0.0.1:%d
shares: test (writable, in memory), hello (example)
users:  demo / demo, and guest

connect:
  smbclient //127.0.0.1/test -p %d -U demo%%demo
  smbclient //127.0.0.1/hello -p %d -N
  sudo mount -t cifs //127.0.0.1/test /mnt -o port=%d,username=demo,password=demo
  Windows:  net use Z: \\127.0.0.1@%d\test /user:demo demo   (Windows clients need port 445)
  macOS Finder: Go > Connect to Server > smb://demo:demo@127.0.0.1:%d/test

Ctrl-C stops the server.
`, port, port, port, port, port, port)
	return run(ctx, srv, []net.Listener{l})
}
