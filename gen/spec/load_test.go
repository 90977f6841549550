package spec

import (
	"strings"
	"testing"
)

// TestErrors checks that every kind of mistake is reported with file and line.
func TestErrors(t *testing.T) {
	cases := []struct{ yaml, want string }{
		{"structs:\n  - name: A\n    fields:\n      - {name: X, type: u16, bogus: 1}\n", `t.yaml:4: unknown key "bogus"`},
		{"structs:\n  - name: A\n    fields:\n      - {name: X, type: u17}\n", `t.yaml:4: struct A: field X: unknown type "u17"`},
		{"structs:\n  - name: A\n    fields:\n      - {name: B, type: bytes, length: L}\n", `t.yaml:4: struct A: length refers to unknown field "L"`},
		{"enums:\n  - name: E\n    type: u8\n    values:\n      - {name: A, value: 300}\n", `t.yaml:5: enum E: value A = 0x12c does not fit in u8`},
		{"structs:\n  - name: A\n    fields:\n      - {name: X, type: u16, enum: Nope}\n", `t.yaml:4: struct A: field X: unknown enum "Nope"`},
		{"structs:\n  - name: A\n    fields:\n      - {name: D, type: bytes, rest: true}\n      - {name: X, type: u16}\n", `t.yaml:5: struct A: fixed field X after a variable field`},
		{"structs:\n  - name: A\n    fields:\n      - {name: L, type: \"B[]\", rest: true}\n  - name: B\n    fields:\n      - {name: X, type: u8}\n", `struct B is used as a list but declares no chain`},
		{"unknown: 1\n", `t.yaml:1: unknown key "unknown" in file`},
	}
	for _, c := range cases {
		_, err := LoadFiles("p", map[string][]byte{"t.yaml": []byte(c.yaml)})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("spec:\n%s\nwant error containing %q, got %v", c.yaml, c.want, err)
		}
	}
}

func TestCamelCase(t *testing.T) {
	for in, want := range map[string]string{"SERVER_TO_REDIR": "ServerToRedir", "DIALECT_0202": "Dialect0202", "X": "X"} {
		if got := CamelCase(in); got != want {
			t.Errorf("CamelCase(%q) = %q, want %q", in, got, want)
		}
	}
}
