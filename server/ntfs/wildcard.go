package ntfs

import "unicode"

// The DOS wildcards of NT search patterns (MS-FSA 2.1.4.4): clients translate the
// DOS forms "*.", "?" and "." into these before sending them.
const (
	dosStar = '<' // DOS_STAR: zero or more characters up to the last '.' of the name
	dosQM   = '>' // DOS_QM: one character, or nothing at a '.' or at the end of the name
	dosDot  = '"' // DOS_DOT: a '.', or nothing at the end of the name
)

// matcher decides whether names are in an expression, ignoring case, following the
// algorithm of MS-FSA 2.1.4.4. It keeps scratch space between calls: not for concurrent
// use.
type matcher struct {
	pat     []rune // upper-cased expression
	all     bool   // "*" or "*.*": everything matches
	literal bool   // no wildcard at all
	name    []rune
	cur     []bool
	next    []bool
}

func newMatcher(expr string) *matcher {
	m := &matcher{}
	m.set(expr)
	return m
}

func (m *matcher) set(expr string) {
	m.pat = m.pat[:0]
	m.literal = true
	for _, r := range expr {
		m.pat = append(m.pat, unicode.ToUpper(r))
		if isWildRune(r) {
			m.literal = false
		}
	}
	m.all = expr == "*" || expr == "*.*" || expr == ""
	m.cur = make([]bool, len(m.pat)+1)
	m.next = make([]bool, len(m.pat)+1)
}

func isWildRune(r rune) bool {
	return r == '*' || r == '?' || r == dosStar || r == dosQM || r == dosDot
}

// match reports whether name is in the expression.
func (m *matcher) match(name string) bool {
	if m.all {
		return true
	}
	if name == "" {
		return len(m.pat) == 0
	}
	m.name = m.name[:0]
	lastDot := -1
	for _, r := range name {
		if r == '.' {
			lastDot = len(m.name)
		}
		m.name = append(m.name, unicode.ToUpper(r))
	}
	if m.literal {
		if len(m.pat) != len(m.name) {
			return false
		}
		for i := range m.pat {
			if m.pat[i] != m.name[i] {
				return false
			}
		}
		return true
	}
	p, n := m.pat, m.name
	cur, next := m.cur, m.next
	clear(cur)
	cur[0] = true
	for i := 0; ; i++ {
		// Zero-width steps at name position i, in pattern order (they only move forward).
		for j := 0; j < len(p); j++ {
			if !cur[j] {
				continue
			}
			switch p[j] {
			case '*', dosStar:
				cur[j+1] = true
			case dosQM:
				if i == len(n) || n[i] == '.' {
					cur[j+1] = true
				}
			case dosDot:
				if i == len(n) {
					cur[j+1] = true
				}
			}
		}
		if i == len(n) {
			return cur[len(p)]
		}
		clear(next)
		any := false
		c := n[i]
		for j := 0; j < len(p); j++ {
			if !cur[j] {
				continue
			}
			switch p[j] {
			case '*':
				next[j] = true
			case dosStar:
				if i != lastDot {
					next[j] = true
				}
			case '?':
				next[j+1] = true
			case dosQM:
				if c != '.' {
					next[j+1] = true
				}
			case dosDot:
				if c == '.' {
					next[j+1] = true
				}
			default:
				if p[j] == c {
					next[j+1] = true
				}
			}
			any = true
		}
		if !any {
			return false
		}
		cur, next = next, cur
	}
}

// isInExpression is the one-shot form of matcher.match.
func isInExpression(name, expr string) bool { return newMatcher(expr).match(name) }
