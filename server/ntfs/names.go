package ntfs

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/smbvfs/smbvfs/backends/vfs"
	"github.com/smbvfs/smbvfs/protocol/ntstatus"
)

// maxComponent is the longest name component, in UTF-16 code units (as NTFS).
const maxComponent = 255

// parsedName is a CREATE (or rename target) name taken apart.
type parsedName struct {
	comps    []string // path components; empty for the share root
	stream   string   // named stream, "" for the unnamed one
	dataType bool     // ":$DATA" was given
	trailing bool     // the name ended with a backslash
}

// parseName checks and splits a path relative to the share root, in the form of an SMB2
// CREATE name: components separated by backslashes, the last one optionally followed by
// ":stream" or ":stream:$DATA" (or "::$DATA" for the unnamed stream).
//
// Errors, as Windows reports them: a reserved character or a control character, an
// empty component ("a\\b"), ".", a component longer than 255 UTF-16 units, or a
// malformed stream suffix give STATUS_OBJECT_NAME_INVALID; a leading backslash gives
// STATUS_INVALID_PARAMETER (MS-SMB2 3.3.5.9 forbids it; Windows refuses it). A slash
// is read as a backslash, as Samba does.
func parseName(name string, leadingOK bool) (parsedName, ntstatus.Status) {
	var p parsedName
	if !utf8.ValidString(name) {
		return p, ntstatus.StatusObjectNameInvalid
	}
	// Like Samba, a slash separates components too (smbtorture's own paths use it).
	name = strings.ReplaceAll(name, "/", "\\")
	if strings.HasPrefix(name, "\\") {
		if !leadingOK {
			return p, ntstatus.StatusInvalidParameter
		}
		name = strings.TrimLeft(name, "\\")
	}
	if strings.HasSuffix(name, "\\") {
		p.trailing = true
		name = name[:len(name)-1]
		if name == "" || strings.HasSuffix(name, "\\") {
			return p, ntstatus.StatusObjectNameInvalid
		}
	}
	if name == "" {
		return p, ntstatus.StatusSuccess
	}
	parts := strings.Split(name, "\\")
	last := len(parts) - 1
	// The stream suffix of the last component.
	if i := strings.IndexByte(parts[last], ':'); i >= 0 {
		base, suffix := parts[last][:i], parts[last][i+1:]
		stream, typ, hasType := strings.Cut(suffix, ":")
		if hasType {
			if !strings.EqualFold(typ, "$DATA") {
				return p, ntstatus.StatusObjectNameInvalid
			}
			p.dataType = true
		}
		if stream == "" && !hasType {
			return p, ntstatus.StatusObjectNameInvalid // "file:"
		}
		if !validStreamName(stream) {
			return p, ntstatus.StatusObjectNameInvalid
		}
		p.stream = stream
		parts[last] = base
		if base == "" {
			if last == 0 {
				// "::$DATA" or ":stream" on the share root.
				parts = parts[:0]
			} else {
				return p, ntstatus.StatusObjectNameInvalid
			}
		}
	}
	// Like Samba, ".." takes back the component before it ("a\b\.." names "a"; smbtorture
	// smb2.notify.tree); above the share root is a syntax error (smb2.mkdir).
	comps := parts[:0]
	for i, c := range parts {
		if c == ".." {
			if len(comps) == 0 {
				return p, ntstatus.StatusObjectPathSyntaxBad
			}
			if i == last && (p.stream != "" || p.dataType) {
				return p, ntstatus.StatusObjectNameInvalid
			}
			comps = comps[:len(comps)-1]
			continue
		}
		if st := checkComponent(c); st != ntstatus.StatusSuccess {
			return p, st
		}
		comps = append(comps, c)
	}
	if len(comps) == 0 && len(parts) > 0 && p.trailing {
		p.trailing = false // "a\..\" is the share root
	}
	p.comps = comps
	return p, ntstatus.StatusSuccess
}

// checkComponent validates one path component.
func checkComponent(c string) ntstatus.Status {
	if c == "" || c == "." || c == ".." {
		return ntstatus.StatusObjectNameInvalid
	}
	units := 0
	for _, r := range c {
		switch {
		case r < 0x20:
			return ntstatus.StatusObjectNameInvalid
		case r == '"' || r == '*' || r == '/' || r == ':' || r == '<' || r == '>' || r == '?' || r == '\\' || r == '|':
			return ntstatus.StatusObjectNameInvalid
		}
		units++
		if r >= 0x10000 {
			units++
		}
	}
	if units > maxComponent {
		return ntstatus.StatusObjectNameInvalid
	}
	return ntstatus.StatusSuccess
}

func hasWild(s string) bool { return strings.ContainsAny(s, "*?<>\"") }

// validStreamName: any character but the separators and NUL, at most 255 units.
func validStreamName(s string) bool {
	if strings.ContainsAny(s, "\\/:\x00") {
		return false
	}
	return utf16Len(s) <= maxComponent
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= 0x10000 {
			n++
		}
	}
	return n
}

// fold is the key under which names compare ignoring case.
func fold(s string) string { return vfs.FoldName(s) }

// ---- Walking paths ---------------------------------------------------------

// walked is the result of resolving a path.
type walked struct {
	parent vfs.Node // the directory holding the last component (nil for the root)
	node   vfs.Node // the node itself, nil if the last component does not exist
	stored []string // the stored names of the components found (the last one as given if missing)
}

// walk resolves comps from the root, ignoring case. A missing or non-directory
// intermediate component is STATUS_OBJECT_PATH_NOT_FOUND (returned as errPathNotFound);
// a missing last component leaves node nil.
func (s *Share) walk(ctx context.Context, comps []string, _ bool) (walked, error) {
	var w walked
	root, err := s.fs.Root(ctx)
	if err != nil {
		return w, err
	}
	w.stored = make([]string, 0, len(comps))
	cur := root
	for i, c := range comps {
		child, stored, err := lookupFold(ctx, cur, c)
		last := i == len(comps)-1
		if err != nil {
			if errors.Is(err, vfs.ErrNotExist) {
				if last {
					w.parent = cur
					w.stored = append(w.stored, c)
					return w, nil
				}
				return w, errPathNotFound
			}
			if errors.Is(err, vfs.ErrNotDir) {
				return w, errPathNotFound
			}
			return w, err
		}
		w.stored = append(w.stored, stored)
		if last {
			w.parent, w.node = cur, child
			return w, nil
		}
		cur = child
	}
	w.node = root
	return w, nil
}

// errPathNotFound is a walk error: a component before the last is missing or is a file.
var errPathNotFound = errors.New("ntfs: path not found")

// lookupFold finds name in dir ignoring case: with the backend's FoldLookuper if it has
// one, else by exact Lookup and then a scan of the listing with simple case folding.
func lookupFold(ctx context.Context, dir vfs.Node, name string) (vfs.Node, string, error) {
	if fl, ok := dir.(vfs.FoldLookuper); ok {
		return fl.LookupFold(ctx, name)
	}
	l, ok := dir.(vfs.Lookuper)
	if !ok {
		return nil, "", vfs.ErrNotDir
	}
	n, err := l.Lookup(ctx, name)
	if err == nil {
		return n, name, nil
	}
	if !errors.Is(err, vfs.ErrNotExist) {
		return nil, "", err
	}
	dr, ok := dir.(vfs.DirReader)
	if !ok {
		return nil, "", err
	}
	key := fold(name)
	var cookie uint64
	for {
		ents, err := dr.ReadDir(ctx, cookie, 256)
		if err != nil {
			return nil, "", err
		}
		if len(ents) == 0 {
			return nil, "", vfs.ErrNotExist
		}
		for _, e := range ents {
			if fold(e.Name) == key {
				n, err := l.Lookup(ctx, e.Name)
				return n, e.Name, err
			}
		}
		cookie = ents[len(ents)-1].Cookie
	}
}

// findStream finds a named stream of node ignoring case; it returns the stored name.
func findStream(ctx context.Context, st vfs.Streamer, name string) (string, bool, error) {
	list, err := st.ListStreams(ctx)
	if err != nil {
		return "", false, err
	}
	for _, si := range list {
		if si.Name == name {
			return si.Name, true, nil
		}
	}
	key := fold(name)
	for _, si := range list {
		if fold(si.Name) == key {
			return si.Name, true, nil
		}
	}
	return "", false, nil
}
