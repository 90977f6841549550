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
	fileFlag := &cli.StringFlag{Name: "file", Usage: "users file", Required: true}
	return &cli.Command{
		Name:  "user",
		Usage: "manage the users file (NT hashes, never passwords)",
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
					if f, ok := stdin.(*os.File); ok && isTerminal(f) {
						fmt.Fprint(os.Stderr, "password: ")
					}
					pw, err := bufio.NewReader(stdin).ReadString('\n')
					if err != nil && !(errors.Is(err, io.EOF) && pw != "") {
						return errors.New("no password on stdin")
					}
					pw = strings.TrimRight(pw, "\r\n")
					if pw == "" {
						return errors.New("empty password")
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
