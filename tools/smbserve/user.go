package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/urfave/cli/v3"

	"github.com/smbvfs/smbvfs/server"
)

func userCommand(stdin io.Reader, stdout io.Writer) *cli.Command {
	fileFlag := &cli.StringFlag{Name: "file", Aliases: []string{"f"}, Usage: "users `FILE` (created with mode 0600; refused when others may read it)", Required: true}
	return &cli.Command{
		Name:  "user",
		Usage: "manage the users file (NT hashes, never passwords)",
		Description: "The users file holds one 'name:NT-hash' line per user (the MD4 of the UTF-16LE password,\n" +
			"what NTLM needs); the password itself is never stored. Passwords are read from stdin:\n\n" +
			"  smbserve user add --file /etc/smbserve/users alice      (type the password, Enter)\n" +
			"  printf '%s\\n' \"$PW\" | smbserve user add --file users alice\n" +
			"  smbserve user passwd --file users alice\n" +
			"  smbserve user list --file users\n" +
			"  smbserve user del --file users alice\n\n" +
			"A running server picks the changes up on SIGHUP (systemctl reload smbserve).",
		Commands: []*cli.Command{
			{
				Name:      "add",
				Usage:     "add or change a user; the password is read from stdin",
				ArgsUsage: "NAME",
				Flags:     []cli.Flag{fileFlag},
				Action: func(ctx context.Context, cmd *cli.Command) error {
					if cmd.Args().Len() != 1 {
						return errors.New("usage: smbserve user add --file FILE NAME  (password on stdin)")
					}
					path := cmd.String("file")
					u, err := server.LoadUsers(path)
					if err != nil && !errors.Is(err, fs.ErrNotExist) {
						return err
					}
					pw, err := readPassword(stdin)
					if err != nil {
						return err
					}
					if err := u.SetPassword(cmd.Args().First(), pw); err != nil {
						return err
					}
					if err := u.Save(path); err != nil {
						return err
					}
					fmt.Fprintf(stdout, "user %s saved in %s\n", cmd.Args().First(), path)
					return nil
				},
			},
			{
				Name:      "passwd",
				Usage:     "change the password of an existing user; the password is read from stdin",
				ArgsUsage: "NAME",
				Flags:     []cli.Flag{fileFlag},
				Action: func(ctx context.Context, cmd *cli.Command) error {
					if cmd.Args().Len() != 1 {
						return errors.New("usage: smbserve user passwd --file FILE NAME  (password on stdin)")
					}
					path, name := cmd.String("file"), cmd.Args().First()
					u, err := server.LoadUsers(path)
					if err != nil {
						return err
					}
					if _, ok := u.NTHash(name, ""); !ok {
						return fmt.Errorf("no user %q in %s (add it with 'smbserve user add')", name, path)
					}
					pw, err := readPassword(stdin)
					if err != nil {
						return err
					}
					if err := u.SetPassword(name, pw); err != nil {
						return err
					}
					if err := u.Save(path); err != nil {
						return err
					}
					fmt.Fprintf(stdout, "password of %s changed in %s\n", name, path)
					return nil
				},
			},
			{
				Name:      "del",
				Usage:     "remove a user",
				ArgsUsage: "NAME",
				Flags:     []cli.Flag{fileFlag},
				Action: func(ctx context.Context, cmd *cli.Command) error {
					if cmd.Args().Len() != 1 {
						return errors.New("usage: smbserve user del --file FILE NAME")
					}
					path := cmd.String("file")
					u, err := server.LoadUsers(path)
					if err != nil {
						return err
					}
					if !u.Delete(cmd.Args().First()) {
						return fmt.Errorf("no user %q in %s", cmd.Args().First(), path)
					}
					return u.Save(path)
				},
			},
			{
				Name:  "list",
				Usage: "list the users",
				Flags: []cli.Flag{fileFlag},
				Action: func(ctx context.Context, cmd *cli.Command) error {
					u, err := server.LoadUsers(cmd.String("file"))
					if err != nil {
						return err
					}
					for _, n := range u.Names() {
						fmt.Fprintln(stdout, n)
					}
					return nil
				},
			},
		},
	}
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// readPassword reads one line from stdin (prompting on a terminal).
func readPassword(stdin io.Reader) (string, error) {
	if f, ok := stdin.(*os.File); ok && isTerminal(f) {
		fmt.Fprint(os.Stderr, "password: ")
	}
	pw, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && pw != "") {
		return "", errors.New("no password on stdin")
	}
	pw = strings.TrimRight(pw, "\r\n")
	if pw == "" {
		return "", errors.New("empty password")
	}
	return pw, nil
}
