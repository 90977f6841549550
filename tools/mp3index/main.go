// Command mp3index fills a queryfs store from a music folder, or writes a
// demo library.
//
//	mp3index demo DIR --tracks 300             write a synthetic library in DIR
//	mp3index scan DIR --store sqlite:FILE      index DIR (incrementally)
//	mp3index scan DIR --store couchdb:http://127.0.0.1:5984/music
//
// Progress goes to stderr at most once a second; files that cannot be
// indexed, or only partly, are listed there and never stop the run.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/smbvfs/smbvfs/backends/queryfs/index"
	"github.com/smbvfs/smbvfs/backends/queryfs/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := app(os.Stdout, os.Stderr).Run(ctx, os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "mp3index:", err)
		os.Exit(1)
	}
}

func app(stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:      "mp3index",
		Usage:     "index an mp3 collection for the queryfs share",
		Writer:    stdout,
		ErrWriter: stderr,
		Commands: []*cli.Command{
			{
				Name:      "scan",
				Usage:     "index the mp3 files of DIR (only what changed since the last run)",
				ArgsUsage: "DIR",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "store", Usage: "sqlite:FILE or couchdb:URL", Required: true},
					&cli.BoolFlag{Name: "exact", Usage: "read every frame header (exact durations for VBR files without a Xing/VBRI header; slower)"},
					&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress and no problem list"},
				},
				Action: func(ctx context.Context, cmd *cli.Command) error {
					dir, err := oneArg(cmd)
					if err != nil {
						return err
					}
					st, err := store.Open(ctx, cmd.String("store"))
					if err != nil {
						return err
					}
					defer st.Close()
					opt := index.Options{ExactDuration: cmd.Bool("exact")}
					if !cmd.Bool("quiet") {
						opt.Progress = stderr
						opt.Problem = func(path, problem string, skipped bool) {
							what := "problem"
							if skipped {
								what = "skipped"
							}
							fmt.Fprintf(stderr, "mp3index: %s: %s: %s\n", what, path, problem)
						}
					}
					stats, err := index.Scan(ctx, st, dir, opt)
					if err != nil {
						return err
					}
					fmt.Fprintf(stdout, "%s: %v\n", st, stats)
					return nil
				},
			},
			{
				Name:      "demo",
				Usage:     "write a synthetic demo library (silent MPEG audio, ID3 tags, some damaged files) in DIR",
				ArgsUsage: "DIR",
				Flags: []cli.Flag{
					&cli.IntFlag{Name: "tracks", Value: 200, Usage: "number of tracks"},
					&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "the same seed gives the same library"},
					&cli.IntFlag{Name: "max-seconds", Value: 540, Usage: "longest track"},
				},
				Action: func(ctx context.Context, cmd *cli.Command) error {
					dir, err := oneArg(cmd)
					if err != nil {
						return err
					}
					n := int(cmd.Int("tracks"))
					if n <= 0 || n > 1_000_000 {
						return fmt.Errorf("--tracks must be 1..1000000")
					}
					start := time.Now()
					truth, err := index.DemoWith(dir, n, cmd.Uint64("seed"), int(cmd.Int("max-seconds")))
					if err != nil {
						return err
					}
					kinds := map[string]int{}
					for _, t := range truth {
						kinds[t.Format]++
						if t.Truncated {
							kinds["truncated"]++
						}
						if t.TagVersion == "none" {
							kinds["tagless"]++
						}
					}
					fmt.Fprintf(stdout, "%d tracks in %s (%d CBR, %d Xing VBR, %d VBRI VBR, %d tagless, %d truncated, %d not MP3) in %s\n",
						len(truth), dir, kinds["cbr"], kinds["xing"], kinds["vbri"], kinds["tagless"], kinds["truncated"], kinds["corrupt"],
						time.Since(start).Round(time.Millisecond))
					return nil
				},
			},
		},
	}
}

func oneArg(cmd *cli.Command) (string, error) {
	if cmd.Args().Len() != 1 {
		return "", errors.New(cmd.Name + ": want exactly one DIR argument")
	}
	return cmd.Args().First(), nil
}
