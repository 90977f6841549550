package roundtrip

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// Expectation is a known, explained failure or capture problem.
type Expectation struct {
	Kind   string // "failure" or "problem"
	Key    string // capture#frame#index for failures, capture#frame#kind for problems
	Match  string // substring the failure's "What: Err" must contain ("-" for problems)
	Reason string
}

// Key of a failure in an expectations file.
func (f Failure) Key() string { return fmt.Sprintf("%s#%d#%d", f.Capture, f.Frame, f.Index) }

// LoadExpectations reads a tab-separated expectations file (see pcaps/expected.tsv).
func LoadExpectations(path string) (map[string]Expectation, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]Expectation{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) != 4 || (cols[0] != "failure" && cols[0] != "problem") {
			return nil, fmt.Errorf("%s:%d: want 4 tab-separated columns: failure|problem, key, match, reason", path, n)
		}
		out[cols[1]] = Expectation{Kind: cols[0], Key: cols[1], Match: cols[2], Reason: cols[3]}
	}
	return out, sc.Err()
}

// Explained reports whether a failure is listed, with a matching error.
func Explained(exp map[string]Expectation, f Failure) (Expectation, bool) {
	e, ok := exp[f.Key()]
	return e, ok && e.Kind == "failure" && strings.Contains(f.What+": "+f.Err, e.Match)
}
