package queryfs

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/smbvfs/smbvfs/backends/queryfs/store"
)

// Config is a share's configuration (YAML):
//
//	store: sqlite:/srv/music/index.db      # or couchdb:http://127.0.0.1:5984/music
//	poll: 500ms                            # how often SQLite is polled for changes
//	views:                                 # default: DefaultViews
//	  - folder: Artists
//	    path: "<artist>/<album>/<track:02> - <title>.mp3"
//	  - folder: Longer than 5 min
//	    path: "<artist> - <title>.mp3"
//	    filter: "duration > 300"
//	    key: duration
type Config struct {
	Store string        `yaml:"store"`
	Poll  time.Duration `yaml:"poll"`
	Views []ViewConfig  `yaml:"views"`
}

// ViewConfig defines one top-level folder.
//
// Path is '/'-separated: every segment but the last is a folder level and
// names exactly one field, with optional text around it ("<minutes:02>
// min"); the last segment names the files and may use several fields.
// Fields: title artist albumartist album genre (text), track disc year
// duration (seconds) minutes bitrate (numbers); "<track:02>" pads a number
// to two digits.
//
// Filter is a list of conditions joined by "and": "duration > 300 and
// genre = Rock" (operators = != < <= > >=; text compares case-insensitively).
//
// Key is the field that query folders ("Folder key=...") select on; the
// default is the first level's field (or the first field of the name).
type ViewConfig struct {
	Folder string `yaml:"folder"`
	Path   string `yaml:"path"`
	Filter string `yaml:"filter,omitempty"`
	Key    string `yaml:"key,omitempty"`
}

// DefaultViews are the folders a share has unless configured otherwise.
var DefaultViews = []ViewConfig{
	{Folder: "Artists", Path: "<artist>/<album>/<track:02> - <title>.mp3"},
	{Folder: "Albums", Path: "<album>/<track:02> - <artist> - <title>.mp3"},
	{Folder: "Genres", Path: "<genre>/<artist> - <album> - <track:02> - <title>.mp3"},
	{Folder: "Years", Path: "<year>/<artist> - <album> - <track:02> - <title>.mp3"},
	{Folder: "Duration", Path: "<minutes:02> min/<duration> s - <artist> - <title>.mp3", Key: "duration"},
	{Folder: "Tracknum", Path: "<track:02>/<artist> - <album> - <title>.mp3"},
	{Folder: "Longer than 5 min", Path: "<artist> - <title>.mp3", Filter: "duration > 300", Key: "duration"},
}

// ParseConfig reads a YAML configuration; Views defaults to DefaultViews.
func ParseConfig(b []byte) (Config, error) {
	var c Config
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("queryfs: config: %w", err)
	}
	if _, err := compileViews(c.Views); err != nil {
		return c, err
	}
	return c, nil
}

// part is a literal or a field of a name template.
type part struct {
	lit   string
	field *store.Field
	width int
}

type template []part

func parseTemplate(s string) (template, error) {
	var t template
	for s != "" {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			t = append(t, part{lit: s})
			break
		}
		if i > 0 {
			t = append(t, part{lit: s[:i]})
		}
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			return nil, fmt.Errorf("unclosed < in %q", s)
		}
		name, width, _ := strings.Cut(s[i+1:i+j], ":")
		f := store.Fields[strings.ToLower(strings.TrimSpace(name))]
		if f == nil {
			return nil, fmt.Errorf("unknown field <%s>", name)
		}
		p := part{field: f}
		if width != "" {
			w, err := strconv.Atoi(width)
			if err != nil || w < 0 || w > 12 || f.Str {
				return nil, fmt.Errorf("bad width in <%s>", s[i+1:i+j])
			}
			p.width = w
		}
		if len(t) > 0 && t[len(t)-1].field != nil {
			return nil, fmt.Errorf("fields need text between them in %q", s)
		}
		t = append(t, p)
		s = s[i+j+1:]
	}
	for _, p := range t {
		if strings.ContainsAny(p.lit, `\/:*?"<>|`) {
			return nil, fmt.Errorf("character not allowed in a Windows name in %q", p.lit)
		}
	}
	if len(t) > 0 && t[len(t)-1].field == nil && strings.TrimRight(t[len(t)-1].lit, ". ") != t[len(t)-1].lit {
		return nil, fmt.Errorf("a name cannot end with a dot or a space")
	}
	return t, nil
}

func (t template) fields() []*store.Field {
	var out []*store.Field
	for _, p := range t {
		if p.field != nil && !hasField(out, p.field) {
			out = append(out, p.field)
		}
	}
	return out
}

func hasField(fs []*store.Field, f *store.Field) bool {
	for _, g := range fs {
		if g == f {
			return true
		}
	}
	return false
}

func (p part) show(t *store.Track) string {
	if p.field.Str {
		return p.field.Display(t)
	}
	return p.field.FormatInt(p.field.Int(t), p.width)
}

func (t template) render(tr *store.Track) string {
	var b strings.Builder
	for _, p := range t {
		if p.field == nil {
			b.WriteString(p.lit)
		} else {
			b.WriteString(p.show(tr))
		}
	}
	return b.String()
}

// ext is the extension dedup suffixes go before: the template's final
// literal's extension.
func (t template) ext() string {
	if len(t) == 0 || t[len(t)-1].field != nil {
		return ""
	}
	return filepath.Ext(t[len(t)-1].lit)
}

// dedup names the ord-th of several files with the same name.
func (t template) dedup(name string, ord int) string {
	if ord <= 1 {
		return name
	}
	ext := t.ext()
	return fmt.Sprintf("%s (%d)%s", name[:len(name)-len(ext)], ord, ext)
}

// parse returns the field values (as text) that render to name
// (case-insensitively): all of them when literals make it ambiguous (at
// most 32).
func (t template) parse(name string) []map[*store.Field]string {
	var out []map[*store.Field]string
	vals := map[*store.Field]string{}
	var rec func(i int, s string)
	rec = func(i int, s string) {
		if len(out) >= 32 {
			return
		}
		if i == len(t) {
			if s == "" {
				m := make(map[*store.Field]string, len(vals))
				for k, v := range vals {
					m[k] = v
				}
				out = append(out, m)
			}
			return
		}
		p := t[i]
		if p.field == nil {
			if len(s) >= len(p.lit) && strings.EqualFold(s[:len(p.lit)], p.lit) {
				rec(i+1, s[len(p.lit):])
			}
			return
		}
		for j := 1; j <= len(s); j++ {
			v := s[:j]
			if prev, ok := vals[p.field]; ok && store.Fold(prev) != store.Fold(v) {
				continue
			}
			if !p.field.Str {
				if _, ok := parseInt(p.field, v); !ok {
					continue
				}
			}
			_, had := vals[p.field]
			vals[p.field] = v
			rec(i+1, s[j:])
			if !had {
				delete(vals, p.field)
			}
		}
	}
	rec(0, name)
	return out
}

func parseInt(f *store.Field, s string) (int64, bool) {
	if f.Zero != "" && strings.EqualFold(s, f.Zero) {
		return 0, true
	}
	if s == "" || len(s) > 15 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	v, err := strconv.ParseInt(s, 10, 64)
	return v, err == nil
}

// value converts the text of a field to the value of one of its columns.
func colValue(f *store.Field, col string, text string) (any, bool) {
	if f.Str {
		if col == f.KeyCol() {
			return store.Hash(text), true
		}
		return store.Fold(text), true
	}
	v, ok := parseInt(f, text)
	return v, ok
}

// view is a compiled ViewConfig.
type view struct {
	folder string
	levels []template // one field each
	leaf   template
	qleaf  template // names in query folders: the leaf, with the key field
	key    *store.Field
	filter []store.Cond
	lix    *store.Index // levels..., name fields..., num
	qix    *store.Index // key, name fields..., num
	lcols  []*store.Field
	qcols  []*store.Field // the field of each qix column but num
}

func compileViews(cfgs []ViewConfig) ([]*view, error) {
	if len(cfgs) == 0 {
		cfgs = DefaultViews
	}
	var out []*view
	seen := map[string]bool{}
	for _, c := range cfgs {
		v, err := compileView(c)
		if err != nil {
			return nil, fmt.Errorf("queryfs: view %q: %w", c.Folder, err)
		}
		if seen[store.Fold(v.folder)] {
			return nil, fmt.Errorf("queryfs: two views named %q", v.folder)
		}
		seen[store.Fold(v.folder)] = true
		out = append(out, v)
	}
	return out, nil
}

func compileView(c ViewConfig) (*view, error) {
	v := &view{folder: c.Folder}
	if store.SafeName(c.Folder) != c.Folder || c.Folder == "" || strings.Contains(c.Folder, "=") {
		return nil, fmt.Errorf("folder name must be a valid Windows name without '='")
	}
	segs := strings.Split(c.Path, "/")
	var err error
	for i, s := range segs {
		t, perr := parseTemplate(s)
		if perr != nil {
			return nil, perr
		}
		if i < len(segs)-1 {
			if len(t.fields()) != 1 {
				return nil, fmt.Errorf("folder level %q must name exactly one field", s)
			}
			v.levels = append(v.levels, t)
		} else {
			if len(t.fields()) == 0 {
				return nil, fmt.Errorf("file name %q names no field", s)
			}
			v.leaf = t
		}
	}
	if v.filter, err = parseFilter(c.Filter); err != nil {
		return nil, err
	}
	switch {
	case c.Key != "":
		if v.key = store.Fields[strings.ToLower(c.Key)]; v.key == nil {
			return nil, fmt.Errorf("unknown key field %q", c.Key)
		}
	case len(v.levels) > 0:
		v.key = v.levels[0].fields()[0]
	default:
		v.key = v.leaf.fields()[0]
	}
	v.qleaf = v.leaf
	if !hasField(v.leaf.fields(), v.key) {
		kp := part{field: v.key}
		for _, l := range v.levels {
			for _, p := range l {
				if p.field == v.key {
					kp.width = p.width
				}
			}
		}
		v.qleaf = append(template{kp, {lit: " - "}}, v.leaf...)
	}
	// The index of the folders: level keys, then the name's fields.
	v.lix = &store.Index{Filter: v.filter}
	for _, l := range v.levels {
		f := l.fields()[0]
		v.lix.Cols = append(v.lix.Cols, f.KeyCol())
		v.lix.Displays = append(v.lix.Displays, f.Name)
		v.lcols = append(v.lcols, f)
	}
	for _, f := range v.leaf.fields() {
		if !hasField(v.lcols[:len(v.levels)], f) {
			v.lix.Cols = append(v.lix.Cols, f.KeyCol())
			v.lcols = append(v.lcols, f)
		}
	}
	v.lix.Cols = append(v.lix.Cols, "num")
	// The index of query folders: the key's order, then the name's fields.
	v.qix = &store.Index{Filter: v.filter, Cols: []string{v.key.SortCol()}, Displays: []string{v.key.Name}}
	v.qcols = []*store.Field{v.key}
	for _, f := range v.qleaf.fields() {
		if f != v.key {
			v.qix.Cols = append(v.qix.Cols, f.KeyCol())
			v.qcols = append(v.qcols, f)
		}
	}
	v.qix.Cols = append(v.qix.Cols, "num")
	if err := v.lix.Validate(); err != nil {
		return nil, err
	}
	if err := v.qix.Validate(); err != nil {
		return nil, err
	}
	return v, nil
}

func parseFilter(s string) ([]store.Cond, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []store.Cond
	for _, c := range splitAnd(s) {
		var op string
		i := strings.IndexAny(c, "=!<>")
		if i < 0 {
			return nil, fmt.Errorf("filter %q: no operator", c)
		}
		op = c[i:min(i+2, len(c))]
		if _, ok := map[string]bool{"!=": true, "<=": true, ">=": true}[op]; !ok {
			op = c[i : i+1]
			if op == "!" {
				return nil, fmt.Errorf("filter %q: bad operator", c)
			}
		}
		name := strings.ToLower(strings.TrimSpace(c[:i]))
		val := strings.Trim(strings.TrimSpace(c[i+len(op):]), `"'`)
		f := store.Fields[name]
		if f == nil {
			return nil, fmt.Errorf("filter %q: unknown field %q", c, name)
		}
		if f.Str {
			out = append(out, store.Cond{Col: f.SortCol(), Op: op, Val: store.Fold(val)})
			continue
		}
		n, err := strconv.ParseInt(val, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("filter %q: %q is not a number", c, val)
		}
		out = append(out, store.Cond{Col: f.SortCol(), Op: op, Val: n})
	}
	return out, nil
}

func splitAnd(s string) []string {
	var out []string
	for _, w := range strings.Split(s, ",") {
		low := strings.ToLower(w)
		for {
			i := strings.Index(low, " and ")
			if i < 0 {
				break
			}
			out = append(out, w[:i])
			w, low = w[i+5:], low[i+5:]
		}
		out = append(out, w)
	}
	return out
}

// match evaluates the view's filter on a track (for change notification).
func (v *view) match(t *store.Track) bool {
	for _, c := range v.filter {
		got := t.Col(c.Col)
		var cmp int
		switch x := got.(type) {
		case int64:
			y, _ := c.Val.(int64)
			cmp = compare(x, y)
		case string:
			y, _ := c.Val.(string)
			cmp = strings.Compare(x, y)
		}
		ok := map[string]bool{"=": cmp == 0, "!=": cmp != 0, "<": cmp < 0, "<=": cmp <= 0, ">": cmp > 0, ">=": cmp >= 0}[c.Op]
		if !ok {
			return false
		}
	}
	return true
}

func compare(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
