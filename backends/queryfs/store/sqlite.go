package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver, no cgo
)

// SQLite is the embedded store: one file, WAL mode, readable while the
// indexer writes. Removed tracks stay as rows marked deleted (so that
// Changes can report them); a seq column orders writes for Changes.
type SQLite struct {
	db   *sql.DB
	file string
}

const sqliteSchema = `
CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v INTEGER NOT NULL);
INSERT OR IGNORE INTO meta(k, v) VALUES('seq', 0);
CREATE TABLE IF NOT EXISTS tracks(
	num INTEGER PRIMARY KEY,
	path TEXT NOT NULL,
	size INTEGER NOT NULL, mtime INTEGER NOT NULL,
	title TEXT NOT NULL, artist TEXT NOT NULL, albumartist TEXT NOT NULL, album TEXT NOT NULL, genre TEXT NOT NULL,
	track INTEGER NOT NULL, disc INTEGER NOT NULL, year INTEGER NOT NULL,
	duration_ms INTEGER NOT NULL, bitrate INTEGER NOT NULL, vbr INTEGER NOT NULL, problem TEXT NOT NULL,
	title_f TEXT, title_h INTEGER, artist_f TEXT, artist_h INTEGER, albumartist_f TEXT, albumartist_h INTEGER,
	album_f TEXT, album_h INTEGER, genre_f TEXT, genre_h INTEGER, duration INTEGER, minutes INTEGER,
	deleted INTEGER NOT NULL DEFAULT 0,
	seq INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS tracks_seq ON tracks(seq);
`

// OpenSQLite opens (creating if needed) the SQLite store in file.
func OpenSQLite(ctx context.Context, file string) (*SQLite, error) {
	dsn := "file:" + (&url.URL{Path: file}).EscapedPath() +
		"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(ctx, sqliteSchema); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: %s: %w", file, err)
	}
	return &SQLite{db: db, file: file}, nil
}

func (s *SQLite) String() string { return "sqlite:" + s.file }
func (s *SQLite) Close() error   { return s.db.Close() }

var selectCols = strings.Join(baseCols, ", ")

func scanTrack(sc interface{ Scan(...any) error }, extra ...any) (Track, error) {
	var t Track
	var vbr int
	dest := []any{&t.Num, &t.Path, &t.Size, &t.MTime, &t.Title, &t.Artist, &t.AlbumArtist, &t.Album, &t.Genre,
		&t.Track, &t.Disc, &t.Year, &t.DurationMS, &t.Bitrate, &vbr, &t.Problem}
	err := sc.Scan(append(dest, extra...)...)
	t.VBR = vbr != 0
	return t, err
}

func (s *SQLite) List(ctx context.Context) ([]Track, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT "+selectCols+" FROM tracks WHERE deleted = 0")
	if err != nil {
		return nil, err
	}
	return collect(rows)
}

func collect(rows *sql.Rows) ([]Track, error) {
	defer rows.Close()
	var out []Track
	for rows.Next() {
		t, err := scanTrack(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// write runs fn in a transaction with the next seq.
func (s *SQLite) write(ctx context.Context, fn func(tx *sql.Tx, seq int64) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var seq int64
	if err := tx.QueryRowContext(ctx, "UPDATE meta SET v = v + 1 WHERE k = 'seq' RETURNING v").Scan(&seq); err != nil {
		return err
	}
	if err := fn(tx, seq); err != nil {
		return err
	}
	return tx.Commit()
}

func (s *SQLite) Put(ctx context.Context, tracks []Track) error {
	cols := append(append([]string{}, baseCols...), derivedCols...)
	var set []string
	for _, c := range cols[1:] {
		set = append(set, c+" = excluded."+c)
	}
	q := "INSERT INTO tracks(" + strings.Join(cols, ", ") + ", deleted, seq) VALUES(" +
		strings.Repeat("?, ", len(cols)) + "0, ?) ON CONFLICT(num) DO UPDATE SET " +
		strings.Join(set, ", ") + ", deleted = 0, seq = excluded.seq"
	return s.write(ctx, func(tx *sql.Tx, seq int64) error {
		st, err := tx.PrepareContext(ctx, q)
		if err != nil {
			return err
		}
		defer st.Close()
		args := make([]any, len(cols)+1)
		for i := range tracks {
			for j, c := range cols {
				args[j] = tracks[i].Col(c)
			}
			args[len(cols)] = seq
			if _, err := st.ExecContext(ctx, args...); err != nil {
				return fmt.Errorf("store: put %s: %w", tracks[i].Path, err)
			}
		}
		return nil
	})
}

func (s *SQLite) Delete(ctx context.Context, tracks []Track) error {
	return s.write(ctx, func(tx *sql.Tx, seq int64) error {
		for _, t := range tracks {
			if _, err := tx.ExecContext(ctx, "UPDATE tracks SET deleted = 1, seq = ? WHERE num = ?", seq, t.Num); err != nil {
				return err
			}
		}
		return nil
	})
}

// Prepare creates one SQL index per Index (partial: live rows only).
func (s *SQLite) Prepare(ctx context.Context, idx []*Index) error {
	for _, ix := range idx {
		if err := ix.Validate(); err != nil {
			return err
		}
		q := fmt.Sprintf("CREATE INDEX IF NOT EXISTS %s ON tracks(%s) WHERE deleted = 0", ix.Name(), strings.Join(ix.Cols, ", "))
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("store: %s: %w", q, err)
		}
	}
	_, err := s.db.ExecContext(ctx, "ANALYZE")
	return err
}

func (s *SQLite) Get(ctx context.Context, num int64) (Track, error) {
	t, err := scanTrack(s.db.QueryRowContext(ctx, "SELECT "+selectCols+" FROM tracks WHERE num = ? AND deleted = 0", num))
	if errors.Is(err, sql.ErrNoRows) {
		return t, ErrNotFound
	}
	return t, err
}

// where builds the conditions of a range query: the filter, equalities on
// the prefix both bounds share, and row-value comparisons for the rest.
// It reports false when the range is empty.
func where(ix *Index, r Range) (string, []any, bool) {
	conds := []string{"deleted = 0"}
	var args []any
	for _, c := range ix.Filter {
		conds = append(conds, c.Col+" "+sqlOps[c.Op]+" ?")
		args = append(args, c.Val)
	}
	lo, hi := r.Lo, r.Hi
	m := 0
	if lo != nil && hi != nil {
		for m < len(lo.Key) && m < len(hi.Key) && lo.Key[m] == hi.Key[m] {
			m++
		}
		for i := range m {
			conds = append(conds, ix.Cols[i]+" = ?")
			args = append(args, lo.Key[i])
		}
	}
	cmp := func(b *Bound, op string) bool {
		if b == nil {
			return true
		}
		key := b.Key[m:]
		cols := ix.Cols[m:len(b.Key)]
		if len(key) == 0 {
			return !b.Open
		}
		if b.Open {
			op = op[:1]
		}
		if len(key) == 1 {
			conds = append(conds, cols[0]+" "+op+" ?")
		} else {
			conds = append(conds, "("+strings.Join(cols, ", ")+") "+op+" ("+strings.Repeat("?, ", len(key)-1)+"?)")
		}
		args = append(args, key...)
		return true
	}
	if !cmp(lo, ">=") || !cmp(hi, "<=") {
		return "", nil, false
	}
	return strings.Join(conds, " AND "), args, true
}

func (s *SQLite) Rows(ctx context.Context, ix *Index, r Range, desc bool, limit int) ([]Track, error) {
	w, args, ok := where(ix, r)
	if !ok || limit <= 0 {
		return nil, nil
	}
	dir := ""
	if desc {
		dir = " DESC"
	}
	q := "SELECT " + selectCols + " FROM tracks INDEXED BY " + ix.Name() + " WHERE " + w +
		" ORDER BY " + strings.Join(ix.Cols, dir+", ") + dir + " LIMIT " + strconv.Itoa(limit)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return collect(rows)
}

func (s *SQLite) Count(ctx context.Context, ix *Index, r Range) (int, error) {
	w, args, ok := where(ix, r)
	if !ok {
		return 0, nil
	}
	var n int
	err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM tracks INDEXED BY "+ix.Name()+" WHERE "+w, args...).Scan(&n)
	return n, err
}

func (s *SQLite) Groups(ctx context.Context, ix *Index, prefix []any, after any, limit int) ([]Group, error) {
	k := len(prefix)
	if k >= len(ix.Cols)-1 || k >= len(ix.Displays) {
		return nil, fmt.Errorf("store: no level %d in index %s", k, ix.Name())
	}
	r := Prefix(prefix)
	if after != nil {
		r.Lo = &Bound{Key: append(append([]any{}, prefix...), after), Open: true}
	}
	w, args, ok := where(ix, r)
	if !ok {
		return nil, nil
	}
	col := ix.Cols[k]
	q := "SELECT " + col + ", MIN(" + ix.Displays[k] + ") FROM tracks INDEXED BY " + ix.Name() + " WHERE " + w +
		" GROUP BY " + col + " ORDER BY " + col + " LIMIT " + strconv.Itoa(limit)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Group
	for rows.Next() {
		var g Group
		var disp any
		if err := rows.Scan(&g.Key, &disp); err != nil {
			return nil, err
		}
		g.Display = fmt.Sprint(disp)
		out = append(out, g)
	}
	return out, rows.Err()
}

func (s *SQLite) Group(ctx context.Context, ix *Index, prefix []any, key any) (Group, bool, error) {
	k := len(prefix)
	if k >= len(ix.Cols)-1 || k >= len(ix.Displays) {
		return Group{}, false, fmt.Errorf("store: no level %d in index %s", k, ix.Name())
	}
	w, args, ok := where(ix, Prefix(append(append([]any{}, prefix...), key)))
	if !ok {
		return Group{}, false, nil
	}
	var disp any
	err := s.db.QueryRowContext(ctx, "SELECT MIN("+ix.Displays[k]+") FROM tracks INDEXED BY "+ix.Name()+" WHERE "+w, args...).Scan(&disp)
	if err != nil || disp == nil {
		return Group{}, false, err
	}
	return Group{Key: key, Display: fmt.Sprint(disp)}, true, nil
}

func (s *SQLite) Changes(ctx context.Context, since string) ([]Change, string, error) {
	var cur int64
	if err := s.db.QueryRowContext(ctx, "SELECT v FROM meta WHERE k = 'seq'").Scan(&cur); err != nil {
		return nil, "", err
	}
	from, err := strconv.ParseInt(since, 10, 64)
	if since == "" || since == "now" || err != nil || from > cur {
		return nil, itoa(cur), nil
	}
	if from == cur {
		return nil, since, nil
	}
	rows, err := s.db.QueryContext(ctx, "SELECT "+selectCols+", deleted, seq FROM tracks WHERE seq > ? ORDER BY seq", from)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []Change
	next := from
	for rows.Next() {
		var c Change
		var seq int64
		if c.Track, err = scanTrack(rows, &c.Deleted, &seq); err != nil {
			return nil, "", err
		}
		out = append(out, c)
		next = max(next, seq)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	next = max(next, cur)
	return out, itoa(next), nil
}
