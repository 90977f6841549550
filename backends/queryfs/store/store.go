package store

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
)

// Store holds track documents. Every method may be called concurrently.
type Store interface {
	// List returns every (not removed) track, for the indexer.
	List(ctx context.Context) ([]Track, error)
	// Put inserts or replaces tracks (by Num).
	Put(ctx context.Context, tracks []Track) error
	// Delete removes tracks (by Num); their last values stay visible to
	// Changes.
	Delete(ctx context.Context, tracks []Track) error

	// Prepare makes the indexes queryable (SQL indexes, a design document).
	Prepare(ctx context.Context, idx []*Index) error
	// Get returns one track, ErrNotFound if missing or removed.
	Get(ctx context.Context, num int64) (Track, error)
	// Rows returns up to limit tracks of an index in r, in index order
	// (reversed if desc).
	Rows(ctx context.Context, ix *Index, r Range, desc bool, limit int) ([]Track, error)
	// Count counts the rows of an index in r.
	Count(ctx context.Context, ix *Index, r Range) (int, error)
	// Groups lists the distinct values of column len(prefix) among the
	// rows starting with prefix, in order, after the value after (nil:
	// from the first), with the display value of that level.
	Groups(ctx context.Context, ix *Index, prefix []any, after any, limit int) ([]Group, error)
	// Group returns the group of value key below prefix, if there is one
	// (what Groups would list for it).
	Group(ctx context.Context, ix *Index, prefix []any, key any) (Group, bool, error)
	// Changes returns the tracks written or removed after position since
	// ("" or "now": the current position, nothing returned) and the new
	// position. It may wait a little for changes (CouchDB long poll).
	Changes(ctx context.Context, since string) ([]Change, string, error)

	Close() error
	String() string
}

// Group is one distinct value of an index level.
type Group struct {
	Key     any    // int64 or string, as in the index column
	Display string // the display value of the level's field (for strings)
}

// Change is a track written or removed.
type Change struct {
	Track   Track
	Deleted bool
}

// Index is a sorted index over the track documents: its rows are the
// tuples of Cols of the tracks that satisfy Filter. Cols end with "num",
// which makes every row unique.
type Index struct {
	Cols     []string // columns, from Field.KeyCol/SortCol, "num" last
	Displays []string // the display column of each level Groups may list
	Filter   []Cond
	name     string
}

// Cond is one condition of a filter: Col Op Val, Val an int64 or string
// (compared with the folded column for strings: use SortCol).
type Cond struct {
	Col string
	Op  string // = != < <= > >=
	Val any
}

// Name identifies the index (a digest of its definition), safe as an SQL
// identifier and a CouchDB view name.
func (ix *Index) Name() string {
	if ix.name != "" {
		return ix.name
	}
	h := fnv.New64a()
	b, _ := json.Marshal(ix)
	h.Write(b)
	return fmt.Sprintf("qfs_%016x", h.Sum64())
}

// Validate checks that the index only names known columns and operators.
func (ix *Index) Validate() error {
	if len(ix.Cols) == 0 || ix.Cols[len(ix.Cols)-1] != "num" {
		return fmt.Errorf("store: index columns %q must end with num", ix.Cols)
	}
	for _, c := range append(append([]string{}, ix.Cols...), ix.Displays...) {
		if !knownCol(c) {
			return fmt.Errorf("store: unknown column %q", c)
		}
	}
	for _, c := range ix.Filter {
		if !knownCol(c.Col) {
			return fmt.Errorf("store: unknown column %q", c.Col)
		}
		if _, ok := sqlOps[c.Op]; !ok {
			return fmt.Errorf("store: unknown operator %q", c.Op)
		}
		switch c.Val.(type) {
		case int64, string:
		default:
			return fmt.Errorf("store: filter value %v is neither int64 nor string", c.Val)
		}
	}
	ix.name = ""
	ix.name = ix.Name()
	return nil
}

var sqlOps = map[string]string{"=": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
var jsOps = map[string]string{"=": "===", "!=": "!==", "<": "<", "<=": "<=", ">": ">", ">=": ">="}

// Tuple returns the row of t in the index.
func (ix *Index) Tuple(t *Track) []any {
	out := make([]any, len(ix.Cols))
	for i, c := range ix.Cols {
		out[i] = t.Col(c)
	}
	return out
}

// Bound is one end of a Range: the rows whose first len(Key) columns are
// >= Key (a lower bound) or <= Key (an upper bound), Open excluding the
// rows equal on those columns.
type Bound struct {
	Key  []any
	Open bool
}

// Range selects rows between two optional bounds.
type Range struct {
	Lo, Hi *Bound
}

// Prefix is the range of the rows starting with key.
func Prefix(key []any) Range { return Range{Lo: &Bound{Key: key}, Hi: &Bound{Key: key}} }

// Open opens a store from a spec: "sqlite:FILE" or "couchdb:URL" (the URL
// of the database, e.g. http://127.0.0.1:5984/music).
func Open(ctx context.Context, spec string) (Store, error) {
	kind, arg, ok := strings.Cut(spec, ":")
	if !ok || arg == "" {
		return nil, fmt.Errorf("store: bad spec %q: want sqlite:FILE or couchdb:URL", spec)
	}
	switch kind {
	case "sqlite":
		return OpenSQLite(ctx, arg)
	case "couchdb":
		return OpenCouch(ctx, arg)
	}
	return nil, fmt.Errorf("store: unknown store %q in %q: want sqlite or couchdb", kind, spec)
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
