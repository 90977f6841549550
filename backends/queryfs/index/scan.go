// Package index fills a store from a music folder: it walks the folder,
// reads the ID3 tags and measures the duration of each mp3 file, and
// writes one document per track, incrementally (by path, size and
// modification time). It also generates synthetic demo libraries.
package index

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/dhowden/tag"

	"github.com/smbvfs/smbvfs/backends/queryfs/mp3"
	"github.com/smbvfs/smbvfs/backends/queryfs/store"
)

// Options adjust Scan.
type Options struct {
	// ExactDuration reads every frame header (slow; exact for VBR files
	// without a Xing or VBRI header).
	ExactDuration bool
	// Progress receives a progress line at most every ProgressEvery
	// (default 1s) during long runs; nil for none.
	Progress      io.Writer
	ProgressEvery time.Duration
	// Problem is called for each file skipped or indexed with a problem
	// (damaged tags, no tags, truncated audio). Called from one goroutine.
	Problem func(path, problem string, skipped bool)
	// Batch is the number of documents per write (default 500).
	Batch int
}

// Stats counts what a scan did.
type Stats struct {
	Files     int // mp3 files seen
	Added     int
	Updated   int
	Unchanged int
	Removed   int
	Skipped   int // not indexed: no MPEG audio, unreadable
	Problems  int // indexed, with a problem
	Elapsed   time.Duration
}

func (s Stats) String() string {
	return fmt.Sprintf("%d files: %d added, %d updated, %d unchanged, %d removed, %d skipped, %d with problems (%s)",
		s.Files, s.Added, s.Updated, s.Unchanged, s.Removed, s.Skipped, s.Problems, s.Elapsed.Round(time.Millisecond))
}

// IsMP3 reports whether a file name has the .mp3 extension.
func IsMP3(name string) bool { return strings.EqualFold(filepath.Ext(name), ".mp3") }

// MTime is how the store records a modification time.
func MTime(t time.Time) int64 { return t.UnixMicro() }

type job struct {
	path string
	info fs.FileInfo
	old  *store.Track
}

type result struct {
	job
	track   store.Track
	problem string
	skip    bool
}

// Scan indexes the mp3 files under dir into st. Only tracks under dir are
// removed when their file disappeared. A file that cannot be read is
// reported (Options.Problem) and skipped; the run goes on.
func Scan(ctx context.Context, st store.Store, dir string, opt Options) (Stats, error) {
	start := time.Now()
	var stats Stats
	root, err := filepath.Abs(dir)
	if err != nil {
		return stats, err
	}
	if fi, err := os.Stat(root); err != nil {
		return stats, err
	} else if !fi.IsDir() {
		return stats, fmt.Errorf("index: %s is not a directory", root)
	}
	if opt.Batch <= 0 {
		opt.Batch = 500
	}
	if opt.ProgressEvery <= 0 {
		opt.ProgressEvery = time.Second
	}
	problem := opt.Problem
	if problem == nil {
		problem = func(string, string, bool) {}
	}
	existing, err := st.List(ctx)
	if err != nil {
		return stats, fmt.Errorf("index: list %s: %w", st, err)
	}
	byPath := make(map[string]*store.Track, len(existing))
	nums := make(map[int64]string, len(existing))
	for i := range existing {
		byPath[existing[i].Path] = &existing[i]
		nums[existing[i].Num] = existing[i].Path
	}
	seen := make(map[string]bool)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan job)
	results := make(chan result)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for j := range jobs {
				t, prob, skip := readTrack(j.path, j.info, opt.ExactDuration)
				select {
				case results <- result{j, t, prob, skip}:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	var walkErr error
	go func() {
		defer func() { close(jobs); wg.Wait(); close(results) }()
		walkErr = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err != nil {
				if path == root {
					return err
				}
				select {
				case results <- result{job: job{path: path}, problem: "unreadable: " + err.Error(), skip: true}:
				case <-ctx.Done():
				}
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if d.IsDir() || !IsMP3(d.Name()) || !d.Type().IsRegular() {
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return nil // vanished
			}
			var j = job{path: path, info: info, old: byPath[path]}
			if j.old != nil && j.old.Size == info.Size() && j.old.MTime == MTime(info.ModTime()) {
				j.info = nil // unchanged: nothing to read
				select {
				case results <- result{job: j}:
				case <-ctx.Done():
				}
				return nil
			}
			select {
			case jobs <- j:
			case <-ctx.Done():
			}
			return nil
		})
	}()

	var batch []store.Track
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := st.Put(ctx, batch)
		batch = batch[:0]
		return err
	}
	last := time.Now()
	var firstErr error
	for r := range results {
		if firstErr != nil {
			continue // drain
		}
		if r.info == nil && !r.skip && r.old != nil { // unchanged
			stats.Files++
			stats.Unchanged++
			seen[r.path] = true
		} else if r.skip {
			stats.Skipped++
			if IsMP3(r.path) {
				stats.Files++
			}
			problem(r.path, r.problem, true)
		} else {
			stats.Files++
			seen[r.path] = true
			t := r.track
			if r.old != nil {
				t.Num, t.Rev = r.old.Num, r.old.Rev
				stats.Updated++
			} else {
				for salt := 1; nums[t.Num] != "" && nums[t.Num] != t.Path; salt++ {
					t.Num = store.PathNum(t.Path, salt)
				}
				stats.Added++
			}
			nums[t.Num] = t.Path
			if r.problem != "" {
				stats.Problems++
				problem(r.path, r.problem, false)
			}
			batch = append(batch, t)
			if len(batch) >= opt.Batch {
				if err := flush(); err != nil {
					firstErr = err
					cancel()
				}
			}
		}
		if opt.Progress != nil && time.Since(last) >= opt.ProgressEvery {
			last = time.Now()
			fmt.Fprintf(opt.Progress, "mp3index: %d files (%d added, %d updated, %d unchanged, %d skipped) %s\n",
				stats.Files, stats.Added, stats.Updated, stats.Unchanged, stats.Skipped, time.Since(start).Round(time.Second))
		}
	}
	if firstErr != nil {
		return stats, firstErr
	}
	if walkErr != nil {
		return stats, walkErr
	}
	if err := flush(); err != nil {
		return stats, err
	}
	var gone []store.Track
	prefix := root + string(filepath.Separator)
	for _, t := range existing {
		if !seen[t.Path] && strings.HasPrefix(t.Path, prefix) {
			gone = append(gone, t)
		}
	}
	for i := 0; i < len(gone); i += opt.Batch {
		if err := st.Delete(ctx, gone[i:min(i+opt.Batch, len(gone))]); err != nil {
			return stats, err
		}
	}
	stats.Removed = len(gone)
	stats.Elapsed = time.Since(start)
	return stats, nil
}

// ReadTrack reads the tags and measures the audio of one file. It reports
// a problem for what could not be read (the track is still usable) and
// skip when the file holds no MPEG audio or cannot be read at all.
func ReadTrack(path string, exact bool) (store.Track, string, bool) {
	info, err := os.Stat(path)
	if err != nil {
		return store.Track{}, err.Error(), true
	}
	return readTrack(path, info, exact)
}

func readTrack(path string, info fs.FileInfo, exact bool) (t store.Track, problem string, skip bool) {
	t = store.Track{Path: path, Size: info.Size(), MTime: MTime(info.ModTime())}
	f, err := os.Open(path)
	if err != nil {
		return t, "unreadable: " + err.Error(), true
	}
	defer f.Close()
	a, err := mp3.Analyze(f, info.Size(), mp3.Options{Scan: exact})
	if err != nil {
		if errors.Is(err, mp3.ErrNoFrames) {
			return t, "not an MP3 file: no MPEG audio frames", true
		}
		return t, "unreadable: " + err.Error(), true
	}
	var problems []string
	t.DurationMS = a.Duration.Milliseconds()
	t.Bitrate = (a.Bitrate + 500) / 1000
	t.VBR = a.VBR
	if a.Truncated {
		problems = append(problems, "truncated audio")
	}
	if p := readTags(f, &t); p != "" {
		problems = append(problems, p)
	}
	t.Problem = strings.Join(problems, "; ")
	t.Normalize()
	return t, t.Problem, false
}

// readTags fills t from the ID3v2 tag, completed by the ID3v1 tag.
func readTags(f *os.File, t *store.Track) (problem string) {
	defer func() {
		if r := recover(); r != nil {
			problem = fmt.Sprintf("damaged tags: %v", r)
		}
	}()
	var metas []tag.Metadata
	var errs []string
	if _, err := f.Seek(0, io.SeekStart); err == nil {
		m, err := tag.ReadFrom(f)
		switch {
		case err == nil:
			metas = append(metas, m)
		case !errors.Is(err, tag.ErrNoTagsFound):
			errs = append(errs, "damaged tags: "+err.Error())
		}
	}
	if len(metas) == 0 || metas[0].Format() != tag.ID3v1 {
		if m, err := tag.ReadID3v1Tags(f); err == nil {
			metas = append(metas, m)
		}
	}
	if len(metas) == 0 && len(errs) == 0 {
		return "no tags"
	}
	str := func(get func(tag.Metadata) string) string {
		for _, m := range metas {
			if v := strings.TrimSpace(get(m)); v != "" {
				return v
			}
		}
		return ""
	}
	num := func(get func(tag.Metadata) int) int {
		for _, m := range metas {
			if v := get(m); v > 0 {
				return v
			}
		}
		return 0
	}
	t.Title = str(tag.Metadata.Title)
	t.Artist = str(tag.Metadata.Artist)
	t.Album = str(tag.Metadata.Album)
	t.AlbumArtist = str(tag.Metadata.AlbumArtist)
	t.Genre = str(tag.Metadata.Genre)
	t.Year = num(tag.Metadata.Year)
	t.Track = num(func(m tag.Metadata) int { n, _ := m.Track(); return n })
	t.Disc = num(func(m tag.Metadata) int { n, _ := m.Disc(); return n })
	if t.Year < 0 || t.Year > 9999 {
		t.Year = 0
	}
	if t.Track < 0 || t.Track > 9999 {
		t.Track = 0
	}
	return strings.Join(errs, "; ")
}
