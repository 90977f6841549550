// Command smbreplay reads SMB traffic from pcap and pcapng captures and checks or shows it
// with the codecs generated from spec/.
//
//	smbreplay roundtrip [--expect pcaps/expected.tsv] FILE...   decode and re-encode every message
//	smbreplay dump [--tree] FILE...                               print every message decoded
//	smbreplay replay --target HOST:PORT [--keys DIR] FILE...      replay the client side against a live server
//
// roundtrip prints each message that does not re-encode byte for byte, with the field that
// differs, and ends with the line "N messages, M mismatches"; it exits non-zero when M > 0.
// Mismatches listed in an expectations file (malformed captures, explained there) are reported
// as explained and not counted.
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/smbvfs/smbvfs/pcaps/capture"
	"github.com/smbvfs/smbvfs/pcaps/replay"
	"github.com/smbvfs/smbvfs/pcaps/roundtrip"
	"github.com/smbvfs/smbvfs/pcaps/sessions"
	"github.com/smbvfs/smbvfs/protocol/smb2"
	"github.com/smbvfs/smbvfs/protocol/utf16"
)

func main() {
	if err := app(os.Stdout).Run(context.Background(), os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "smbreplay:", err)
		os.Exit(1)
	}
}

func app(out io.Writer) *cli.Command {
	return &cli.Command{
		Name:  "smbreplay",
		Usage: "check and show SMB traffic from captures with the generated codecs",
		Commands: []*cli.Command{
			{
				Name:      "roundtrip",
				Usage:     "decode and re-encode every SMB2 message; report any byte that differs, with its field",
				ArgsUsage: "FILE...",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "expect", Usage: "expectations file of explained mismatches (see pcaps/expected.tsv)"},
					&cli.StringSliceFlag{Name: "keys", Usage: "key file or directory of *.keys (see pcaps/keys): decrypt transform messages and round-trip their content (repeatable)"},
				},
				Action: func(ctx context.Context, cmd *cli.Command) error {
					ring, err := loadRing(cmd.StringSlice("keys"))
					if err != nil {
						return err
					}
					return runRoundtrip(out, cmd.String("expect"), ring, cmd.Args().Slice())
				},
			},
			{
				Name:      "replay",
				Usage:     "send the client side of each captured connection to a live server and compare every response with the captured one",
				ArgsUsage: "FILE...",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "target", Usage: "host:port of the live server", Required: true},
					&cli.StringSliceFlag{Name: "keys", Usage: "key file or directory of *.keys (see pcaps/keys): decrypts the capture; its first password re-authenticates NTLM sessions"},
					&cli.StringFlag{Name: "password", Usage: "password that re-authenticates the captured NTLM sessions (default: the first of --keys)"},
					&cli.StringFlag{Name: "user", Usage: "user name that replaces the captured one when re-authenticating (with --password)"},
					&cli.StringFlag{Name: "share", Usage: "share name that replaces the captured one in TREE_CONNECT (IPC$ excepted)"},
					&cli.DurationFlag{Name: "timeout", Usage: "wait for each response", Value: 10 * time.Second},
				},
				Action: func(ctx context.Context, cmd *cli.Command) error {
					ring, err := loadRing(cmd.StringSlice("keys"))
					if err != nil {
						return err
					}
					target := cmd.String("target")
					opt := replay.Options{Ring: ring, Password: cmd.String("password"), User: cmd.String("user"), Share: cmd.String("share"), Timeout: cmd.Duration("timeout"),
						Dial: func() (net.Conn, error) { return net.DialTimeout("tcp", target, 5*time.Second) }}
					return runReplay(out, opt, cmd.Args().Slice())
				},
			},
			{
				Name:      "dump",
				Usage:     "print every message decoded, one line each, or as a tree with --tree",
				ArgsUsage: "FILE...",
				Flags: []cli.Flag{
					&cli.BoolFlag{Name: "tree", Usage: "print every field"},
				},
				Action: func(ctx context.Context, cmd *cli.Command) error {
					return runDump(out, cmd.Bool("tree"), cmd.Args().Slice())
				},
			},
		},
	}
}

// loadRing reads the key files given with --keys (nil without any).
func loadRing(paths []string) (*sessions.Ring, error) {
	if len(paths) == 0 {
		return nil, nil
	}
	return sessions.Load(paths...)
}

func runRoundtrip(out io.Writer, expectFile string, ring *sessions.Ring, files []string) error {
	if len(files) == 0 {
		return fmt.Errorf("roundtrip: name at least one capture")
	}
	var expected map[string]roundtrip.Expectation
	if expectFile != "" {
		var err error
		if expected, err = roundtrip.LoadExpectations(expectFile); err != nil {
			return err
		}
	}
	c := roundtrip.Checker{Ring: ring}
	messages, mismatches, explained, decrypted := 0, 0, 0, 0
	for _, f := range files {
		r, err := c.File(f)
		if err != nil {
			return err
		}
		n := r.SMB2 + r.Transform + r.Compression + r.SMB1Negotiate + len(r.Failures)
		messages += n
		for _, fl := range r.Failures {
			if e, ok := roundtrip.Explained(expected, fl); ok {
				explained++
				fmt.Fprintf(out, "explained: %v (%s)\n", fl, e.Reason)
				continue
			}
			mismatches++
			fmt.Fprintf(out, "MISMATCH: %v\n", fl)
		}
		for _, p := range r.Problems {
			fmt.Fprintf(out, "capture problem: %v\n", p)
		}
		decrypted += r.Decrypted
		fmt.Fprintf(out, "%s: %d messages (%d SMB2, %d transform, %d SMB1 negotiate), %d payloads, %d failures",
			r.Capture, n, r.SMB2, r.Transform, r.SMB1Negotiate, r.Payloads, len(r.Failures))
		if r.Transform > 0 {
			fmt.Fprintf(out, "; %d transform messages decrypted, %d without a key", r.Decrypted, r.Undecrypted)
		}
		fmt.Fprintln(out)
	}
	if explained > 0 {
		fmt.Fprintf(out, "%d mismatches explained by %s\n", explained, expectFile)
	}
	if ring != nil {
		fmt.Fprintf(out, "%d transform messages decrypted\n", decrypted)
	}
	fmt.Fprintf(out, "%d messages, %d mismatches\n", messages, mismatches)
	if mismatches > 0 {
		return fmt.Errorf("%d mismatches", mismatches)
	}
	return nil
}

func runReplay(out io.Writer, opt replay.Options, files []string) error {
	if len(files) == 0 {
		return fmt.Errorf("replay: name at least one capture")
	}
	match, differ := 0, 0
	for _, f := range files {
		r, err := replay.File(f, opt)
		if err != nil {
			return err
		}
		r.Print(out)
		m, d := r.Totals()
		match, differ = match+m, differ+d
	}
	fmt.Fprintf(out, "%d responses, %d match, %d differ\n", match+differ, match, differ)
	return nil
}

func runDump(out io.Writer, tree bool, files []string) error {
	var (
		h    smb2.Header
		msgs smb2.Messages
		er   smb2.ErrorResponse
	)
	for _, f := range files {
		_, problems, err := capture.ReadFile(f, capture.Options{}, func(u *capture.Unit) error {
			dir := "c>s"
			if !u.FromClient {
				dir = "s>c"
			}
			prefix := fmt.Sprintf("%s #%d s%d %s", u.Capture, u.Frame, u.Stream, dir)
			if len(u.Data) < 4 || string(u.Data[:4]) != smb2.ProtocolSMB2 {
				fmt.Fprintf(out, "%s %x %d bytes\n", prefix, u.Data[:min(4, len(u.Data))], len(u.Data))
				return nil
			}
			c := smb2.Compound{Frame: u.Data}
			for c.Next() {
				m, err := smb2.DecodeMessage(c.PDU(), c.Hdr(), &h, &msgs, &er)
				kind := "request"
				if h.Flags.Has(smb2.FlagsServerToRedir) {
					kind = "response " + h.Status.String()
				}
				fmt.Fprintf(out, "%s %s %s mid=%d sid=%#x tid=%#x credits=%d", prefix, h.Command, kind, h.MessageId, h.SessionId, h.TreeId, h.Credits)
				if err != nil {
					fmt.Fprintf(out, " DECODE ERROR: %v\n", err)
					continue
				}
				fmt.Fprintln(out)
				if tree {
					printTree(out, "    ", reflect.ValueOf(m).Elem())
				}
			}
			if err := c.Err(); err != nil {
				fmt.Fprintf(out, "%s compound: %v\n", prefix, err)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, p := range problems {
			fmt.Fprintf(out, "capture problem: %v\n", p)
		}
	}
	return nil
}

// printTree prints the exported fields of a decoded structure, one per line.
func printTree(out io.Writer, indent string, v reflect.Value) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		fv := v.Field(i)
		switch x := fv.Interface().(type) {
		case utf16.Text:
			fmt.Fprintf(out, "%s%s: %q\n", indent, f.Name, x.String())
		case []byte:
			fmt.Fprintf(out, "%s%s: %d bytes %s\n", indent, f.Name, len(x), short(x))
		case fmt.Stringer:
			if fv.Kind() == reflect.Struct && fv.NumField() > 0 && !strings.HasSuffix(fv.Type().Name(), "List") {
				fmt.Fprintf(out, "%s%s:\n", indent, f.Name)
				printTree(out, indent+"    ", fv)
				continue
			}
			fmt.Fprintf(out, "%s%s: %v\n", indent, f.Name, x)
		default:
			if fv.Kind() == reflect.Struct {
				if b, ok := fv.Addr().Interface().(interface{ Bytes() []byte }); ok {
					fmt.Fprintf(out, "%s%s: list of %d bytes\n", indent, f.Name, len(b.Bytes()))
					continue
				}
				fmt.Fprintf(out, "%s%s:\n", indent, f.Name)
				printTree(out, indent+"    ", fv)
				continue
			}
			fmt.Fprintf(out, "%s%s: %v\n", indent, f.Name, fv.Interface())
		}
	}
}

func short(b []byte) string {
	if len(b) > 16 {
		return fmt.Sprintf("%x…", b[:16])
	}
	return fmt.Sprintf("%x", b)
}
