package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-kivik/kivik/v4"
	_ "github.com/go-kivik/kivik/v4/couchdb" // the "couch" driver
)

// Couch is the CouchDB store. Each track is a document "t<num in hex>";
// each Index is a view of one design document generated from the indexes
// (its name is a digest of them, so that two servers with different view
// sets share a database without fighting over it). Removed tracks are
// deleted documents that keep their fields, so that the _changes feed can
// report where they were.
type Couch struct {
	client *kivik.Client
	db     *kivik.DB
	url    string
	ddoc   string // "_design/..." once Prepare ran
	// LongPoll is how long Changes waits for a change.
	LongPoll time.Duration
}

// OpenCouch opens (creating if needed) the database at dbURL, e.g.
// http://user:pass@127.0.0.1:5984/music.
func OpenCouch(ctx context.Context, dbURL string) (*Couch, error) {
	u, err := url.Parse(dbURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("store: bad CouchDB URL %q: want http(s)://host:port/database", dbURL)
	}
	name := strings.Trim(u.Path, "/")
	if name == "" || strings.Contains(name, "/") {
		return nil, fmt.Errorf("store: CouchDB URL %q names no database", dbURL)
	}
	u.Path, u.RawPath = "/", ""
	client, err := kivik.New("couch", u.String())
	if err != nil {
		return nil, err
	}
	ok, err := client.DBExists(ctx, name)
	if err != nil {
		client.Close()
		return nil, fmt.Errorf("store: %s: %w", redact(dbURL), err)
	}
	if !ok {
		if err := client.CreateDB(ctx, name); err != nil && kivik.HTTPStatus(err) != http.StatusPreconditionFailed {
			client.Close()
			return nil, fmt.Errorf("store: create %s: %w", name, err)
		}
	}
	return &Couch{client: client, db: client.DB(name), url: redact(dbURL), LongPoll: 2 * time.Second}, nil
}

func redact(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	return s
}

func (c *Couch) String() string { return "couchdb:" + c.url }
func (c *Couch) Close() error   { return c.client.Close() }

func docID(num int64) string { return fmt.Sprintf("t%014x", num) }

// doc is what is stored: every column, plus the document's identity.
func doc(t *Track, deleted bool) map[string]any {
	m := t.values()
	m["_id"] = docID(t.Num)
	m["type"] = "track"
	m["vbr"] = t.VBR
	if t.Rev != "" {
		m["_rev"] = t.Rev
	}
	if deleted {
		m["_deleted"] = true
	}
	return m
}

func (c *Couch) List(ctx context.Context) ([]Track, error) {
	rs := c.db.AllDocs(ctx, kivik.IncludeDocs(), kivik.Param("startkey", "t"), kivik.Param("endkey", "t\uffff"))
	defer rs.Close()
	var out []Track
	for rs.Next() {
		var d couchDoc
		if err := rs.ScanDoc(&d); err != nil {
			return nil, err
		}
		out = append(out, d.track())
	}
	return out, rs.Err()
}

// couchDoc reads a track document with its revision.
type couchDoc struct {
	Track
	Rev_ string `json:"_rev"`
}

func (d *couchDoc) track() Track {
	t := d.Track
	t.Rev = d.Rev_
	return t
}

func (c *Couch) bulk(ctx context.Context, tracks []Track, deleted bool) error {
	if len(tracks) == 0 {
		return nil
	}
	docs := make([]any, 0, len(tracks))
	for i := range tracks {
		t := tracks[i]
		if deleted && t.Rev == "" {
			// Deleting needs the current revision.
			rev, err := c.rev(ctx, docID(t.Num))
			if kivik.HTTPStatus(err) == http.StatusNotFound {
				continue
			}
			if err != nil {
				return err
			}
			t.Rev = rev
		}
		docs = append(docs, doc(&t, deleted))
	}
	if len(docs) == 0 {
		return nil
	}
	res, err := c.db.BulkDocs(ctx, docs)
	if err != nil {
		return err
	}
	// Conflicts: a revision we did not know (another writer, a document
	// recreated over a deletion). Retry those once with the current one.
	var retry []any
	byID := make(map[string]*Track, len(tracks))
	for i := range tracks {
		byID[docID(tracks[i].Num)] = &tracks[i]
	}
	for _, r := range res {
		if r.Error == nil {
			continue
		}
		t, ok := byID[r.ID]
		if !ok || kivik.HTTPStatus(r.Error) != http.StatusConflict {
			return fmt.Errorf("store: write %s: %w", r.ID, r.Error)
		}
		rev, err := c.rev(ctx, r.ID)
		if err != nil {
			return fmt.Errorf("store: write %s: %w", t.Path, err)
		}
		u := *t
		u.Rev = rev
		retry = append(retry, doc(&u, deleted))
	}
	if len(retry) > 0 {
		res, err := c.db.BulkDocs(ctx, retry)
		if err != nil {
			return err
		}
		for _, r := range res {
			if r.Error != nil {
				return fmt.Errorf("store: write %s: %w", r.ID, r.Error)
			}
		}
	}
	return nil
}

// rev returns a document's current revision, from the document itself
// (a HEAD request's ETag is not the revision on every server).
func (c *Couch) rev(ctx context.Context, id string) (string, error) {
	var d struct {
		Rev string `json:"_rev"`
	}
	err := c.db.Get(ctx, id).ScanDoc(&d)
	return d.Rev, err
}

func (c *Couch) Put(ctx context.Context, tracks []Track) error    { return c.bulk(ctx, tracks, false) }
func (c *Couch) Delete(ctx context.Context, tracks []Track) error { return c.bulk(ctx, tracks, true) }

func (c *Couch) Get(ctx context.Context, num int64) (Track, error) {
	var d couchDoc
	if err := c.db.Get(ctx, docID(num)).ScanDoc(&d); err != nil {
		if kivik.HTTPStatus(err) == http.StatusNotFound {
			return Track{}, ErrNotFound
		}
		return Track{}, err
	}
	return d.track(), nil
}

// mapFunc generates the view's map function. Only validated column names
// and operators reach it; values are JSON literals.
func mapFunc(ix *Index) string {
	var b strings.Builder
	b.WriteString("function (doc) {\n  if (doc.type !== 'track') return;\n")
	for _, c := range ix.Filter {
		lit, _ := json.Marshal(c.Val)
		fmt.Fprintf(&b, "  if (!(doc.%s %s %s)) return;\n", c.Col, jsOps[c.Op], lit)
	}
	key := make([]string, len(ix.Cols))
	for i, col := range ix.Cols {
		key[i] = "doc." + col
	}
	disp := make([]string, len(ix.Displays))
	for i, col := range ix.Displays {
		disp[i] = "doc." + col
	}
	fmt.Fprintf(&b, "  emit([%s], [%s]);\n}", strings.Join(key, ", "), strings.Join(disp, ", "))
	return b.String()
}

// reduceFunc counts rows and keeps the display values of one of them:
// a group's display (rows of a group share their level values).
const reduceFunc = `function (keys, values, rereduce) {
  var n = 0;
  if (rereduce) { for (var i = 0; i < values.length; i++) n += values[i][0]; return [n, values[0][1]]; }
  return [values.length, values[0]];
}`

// Prepare writes the design document holding one view per index.
func (c *Couch) Prepare(ctx context.Context, idx []*Index) error {
	views := map[string]any{}
	var names []string
	for _, ix := range idx {
		if err := ix.Validate(); err != nil {
			return err
		}
		views[ix.Name()] = map[string]string{"map": mapFunc(ix), "reduce": reduceFunc}
		names = append(names, ix.Name())
	}
	sort.Strings(names)
	h := fnv.New64a()
	h.Write([]byte(strings.Join(names, ",")))
	id := fmt.Sprintf("_design/queryfs_%016x", h.Sum64())
	if _, err := c.db.GetRev(ctx, id); kivik.HTTPStatus(err) == http.StatusNotFound {
		_, err = c.db.Put(ctx, id, map[string]any{"language": "javascript", "views": views})
		if err != nil && kivik.HTTPStatus(err) != http.StatusConflict {
			return fmt.Errorf("store: design document: %w", err)
		}
	} else if err != nil {
		return err
	}
	c.ddoc = id
	return nil
}

// keyJSON encodes a view key; hi appends {} (the highest value) so that
// every key extending it is included.
func keyJSON(key []any, hi bool) json.RawMessage {
	k := append([]any{}, key...)
	if hi {
		k = append(k, map[string]any{})
	}
	b, _ := json.Marshal(k)
	return b
}

// rangeParams translates a Range to startkey/endkey/inclusive_end.
func rangeParams(ix *Index, r Range, desc bool) map[string]any {
	p := map[string]any{}
	// In index order: where to start and where to stop.
	lo, hi := r.Lo, r.Hi
	if desc && hi != nil && hi.Open && len(hi.Key) == len(ix.Cols) {
		// A descending startkey is inclusive: start below the row
		// instead, at the previous num (the last column).
		if num, ok := hi.Key[len(hi.Key)-1].(int64); ok {
			k := append(append([]any{}, hi.Key[:len(hi.Key)-1]...), num-1)
			hi = &Bound{Key: k}
		}
	}
	if !desc {
		if lo != nil {
			p["startkey"] = keyJSON(lo.Key, lo.Open)
		}
		if hi != nil {
			p["endkey"] = keyJSON(hi.Key, !hi.Open)
			if hi.Open {
				p["inclusive_end"] = false
			}
		}
	} else {
		p["descending"] = true
		if hi != nil {
			p["startkey"] = keyJSON(hi.Key, !hi.Open)
		}
		if lo != nil {
			p["endkey"] = keyJSON(lo.Key, lo.Open)
			if lo.Open {
				p["inclusive_end"] = false
			}
		}
	}
	return p
}

func (c *Couch) view(ix *Index) (string, error) {
	if c.ddoc == "" {
		return "", errors.New("store: CouchDB views used before Prepare")
	}
	return c.ddoc, nil
}

func (c *Couch) Rows(ctx context.Context, ix *Index, r Range, desc bool, limit int) ([]Track, error) {
	ddoc, err := c.view(ix)
	if err != nil || limit <= 0 {
		return nil, err
	}
	p := rangeParams(ix, r, desc)
	p["reduce"] = false
	p["include_docs"] = true
	p["limit"] = limit
	rs := c.db.Query(ctx, ddoc, ix.Name(), kivik.Params(p))
	defer rs.Close()
	var out []Track
	for rs.Next() {
		var t Track
		if err := rs.ScanDoc(&t); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rs.Err()
}

func (c *Couch) Count(ctx context.Context, ix *Index, r Range) (int, error) {
	ddoc, err := c.view(ix)
	if err != nil {
		return 0, err
	}
	p := rangeParams(ix, r, false)
	p["reduce"] = true
	rs := c.db.Query(ctx, ddoc, ix.Name(), kivik.Params(p))
	defer rs.Close()
	n := 0
	for rs.Next() {
		var v []json.RawMessage
		if err := rs.ScanValue(&v); err != nil {
			return 0, err
		}
		if len(v) > 0 {
			k, err := strconv.Atoi(string(v[0]))
			if err != nil {
				return 0, fmt.Errorf("store: bad count %s", v[0])
			}
			n += k
		}
	}
	return n, rs.Err()
}

func (c *Couch) Groups(ctx context.Context, ix *Index, prefix []any, after any, limit int) ([]Group, error) {
	ddoc, err := c.view(ix)
	if err != nil {
		return nil, err
	}
	k := len(prefix)
	if k >= len(ix.Cols)-1 || k >= len(ix.Displays) {
		return nil, fmt.Errorf("store: no level %d in index %s", k, ix.Name())
	}
	r := Prefix(prefix)
	if after != nil {
		r.Lo = &Bound{Key: append(append([]any{}, prefix...), after), Open: true}
	}
	return c.groups(ctx, ddoc, ix, k, r, limit)
}

// Group reduces only the rows of that group (PouchDB reduces a whole
// range before applying limit).
func (c *Couch) Group(ctx context.Context, ix *Index, prefix []any, key any) (Group, bool, error) {
	ddoc, err := c.view(ix)
	if err != nil {
		return Group{}, false, err
	}
	k := len(prefix)
	if k >= len(ix.Cols)-1 || k >= len(ix.Displays) {
		return Group{}, false, fmt.Errorf("store: no level %d in index %s", k, ix.Name())
	}
	gs, err := c.groups(ctx, ddoc, ix, k, Prefix(append(append([]any{}, prefix...), key)), 1)
	if err != nil || len(gs) == 0 {
		return Group{}, false, err
	}
	return gs[0], true, nil
}

func (c *Couch) groups(ctx context.Context, ddoc string, ix *Index, k int, r Range, limit int) ([]Group, error) {
	p := rangeParams(ix, r, false)
	p["reduce"] = true
	p["group_level"] = k + 1
	p["limit"] = limit
	rs := c.db.Query(ctx, ddoc, ix.Name(), kivik.Params(p))
	defer rs.Close()
	var out []Group
	for rs.Next() {
		var key []any
		var val []json.RawMessage
		if err := rs.ScanKey(&key); err != nil {
			return nil, err
		}
		if err := rs.ScanValue(&val); err != nil {
			return nil, err
		}
		if len(key) != k+1 || len(val) != 2 {
			return nil, fmt.Errorf("store: unexpected group row %v", key)
		}
		var disp []any
		if err := json.Unmarshal(val[1], &disp); err != nil || len(disp) <= k {
			return nil, fmt.Errorf("store: unexpected group value %s", val[1])
		}
		g := Group{Key: jsonValue(key[k]), Display: fmt.Sprint(jsonValue(disp[k]))}
		out = append(out, g)
	}
	return out, rs.Err()
}

// jsonValue turns a decoded JSON number into int64 (rounded: see mask50).
func jsonValue(v any) any {
	if f, ok := v.(float64); ok {
		return int64(math.Round(f))
	}
	return v
}

func (c *Couch) Changes(ctx context.Context, since string) ([]Change, string, error) {
	if since == "" {
		since = "now"
	}
	opts := map[string]any{"since": since, "include_docs": true, "limit": 1000}
	if since != "now" {
		opts["feed"] = "longpoll"
		opts["timeout"] = int(c.LongPoll / time.Millisecond)
	}
	ch := c.db.Changes(ctx, kivik.Params(opts))
	defer ch.Close()
	var out []Change
	for ch.Next() {
		if !strings.HasPrefix(ch.ID(), "t") {
			continue
		}
		var t Track
		if err := ch.ScanDoc(&t); err != nil || t.Num == 0 {
			// A deletion without its fields: only the Num is known.
			n, perr := strconv.ParseInt(strings.TrimPrefix(ch.ID(), "t"), 16, 64)
			if perr != nil {
				continue
			}
			t = Track{Num: n}
		}
		out = append(out, Change{Track: t, Deleted: ch.Deleted()})
	}
	if err := ch.Err(); err != nil {
		return nil, since, err
	}
	meta, err := ch.Metadata()
	if err != nil {
		return nil, since, err
	}
	next := meta.LastSeq
	if next == "" {
		next = since
	}
	return out, next, nil
}
