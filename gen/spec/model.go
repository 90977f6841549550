// Package spec loads and validates the YAML wire specification under spec/ (see
// spec/README.md for the language). Loading is strict: an unknown key, an unknown type or a
// relation that does not fit is an error carrying file:line. The result is a resolved model
// (positions of fixed fields, roles of offset/length/count fields, resolved type references)
// that the code emitter walks without further checks.
package spec

import "fmt"

// Pos is a source position in a spec file.
type Pos struct {
	File string
	Line int
}

func (p Pos) String() string { return fmt.Sprintf("%s:%d", p.File, p.Line) }

// Spec is the whole specification: every package folder under spec/.
type Spec struct {
	Packages []*Package
	byName   map[string]*Package
}

// Package is one folder of spec/, generated into protocol/<Name>.
type Package struct {
	Name  string
	Files []*File
}

// File is one YAML file.
type File struct {
	Pos      Pos
	Base     string // file name without .yaml
	Pkg      *Package
	Ref      string
	Enums    []*Enum
	Types    []*Type
	Structs  []*Struct
	Commands []*Command
}

// Enum is an enumeration or a flag set.
type Enum struct {
	Pos    Pos
	File   *File
	Name   string
	Type   string // u8 u16 u32 u64
	Ref    string
	Doc    string
	Flags  bool
	Error  bool
	Strip  string
	Prefix string
	Values []*EnumValue
}

// Bits is the width of the enum in bits.
func (e *Enum) Bits() int { return scalarBits[e.Type] }

// EnumValue is one named value of an Enum.
type EnumValue struct {
	Pos    Pos
	Name   string // the documents' name; String() returns it
	GoName string // the Go constant
	Value  uint64
	Doc    string
	Ref    string
}

// Type is a named scalar or fixed-size byte type.
type Type struct {
	Pos   Pos
	File  *File
	Name  string
	Type  string // u8..u64, or "" when Bytes > 0
	Bytes int
	Ref   string
	Doc   string
}

// Struct is a structure: fixed fields then variable fields.
type Struct struct {
	Pos    Pos
	File   *File
	Name   string
	Ref    string
	Doc    string
	Header bool // base: header (offsets count from the SMB2 header, 64 bytes before the body)
	Chain  *Chain

	Fields []*Field // in declaration order, unions included as FieldUnion entries

	// Resolved by the checker.
	Fixed    []*Field // every fixed field in wire order, union branch fields included
	FixedLen int
	Var      []*Field // variable fields in declaration order
	// TotalSize is the field holding the structure's total size, if any.
	TotalSize *Field
	// UsedAsList is set when some field is a list of this struct.
	UsedAsList bool
}

// IsFixed reports whether the structure has a fixed size (no variable parts).
func (s *Struct) IsFixed() bool { return len(s.Var) == 0 && s.TotalSize == nil }

// Chain says how one element of a list leads to the next.
type Chain struct {
	Pos   Pos
	Next  string // field holding the offset of the next element, 0 on the last
	Size  string // field holding the element's size (total_size field)
	Align int

	NextField *Field
}

// Kind classifies a field.
type Kind int

const (
	KindScalar      Kind = iota // u8..u64, maybe an enum or a named scalar type
	KindFixedBytes              // bytes[N] or a named byte type
	KindStruct                  // a fixed-size struct, inline
	KindUnion                   // a union of two branches (only in Struct.Fields)
	KindBytes                   // variable bytes
	KindUTF16                   // variable UTF-16LE
	KindCString                 // variable NUL-terminated 8-bit string
	KindArray                   // u16[] u32[] u64[]
	KindList                    // T[] for a chained struct T
	KindStructBytes             // a variable-size struct at an offset, kept as its bytes
)

// Role is what a fixed integer field is used for.
type Role int

const (
	RoleValue Role = iota
	RoleConst
	RoleOffset    // offset of a variable field (kept in the Go struct)
	RoleLength    // byte length of a variable field (computed)
	RoleCount     // element count of a variable field (computed)
	RoleTotalSize // total size of the structure (computed)
	RoleNext      // chain next-offset (computed by the list)
)

// Field is one field of a structure.
type Field struct {
	Pos       Pos
	Struct    *Struct
	Name      string
	TypeName  string // as written
	EnumName  string // as written
	Doc       string
	Ref       string
	Reserved  bool
	ConstRaw  any // uint64 or []byte
	TotalSize bool

	OffsetName string
	LengthName string
	CountName  string
	Rest       bool
	Align      int
	When       *Cond
	EmptyPos   bool
	Union      *Union

	// Resolved.
	Kind     Kind
	Bits     int     // scalar width
	Size     int     // fixed size in bytes (fixed fields)
	At       int     // position of a fixed field from the start of the structure
	Enum     *Enum   // scalar enum type
	Named    *Type   // named type
	Elem     *Struct // struct for KindStruct, KindList, KindStructBytes
	Role     Role
	RoleOf   *Field // the variable field this offset/length/count field describes
	OffsetF  *Field
	LengthF  *Field
	CountF   *Field
	InUnion  *Union // set on branch fields
	InBranch bool   // true: the "then" branch
}

// Union is two alternative layouts of the same bytes.
type Union struct {
	Pos  Pos
	When *Cond
	Then []*Field
	Else []*Field
	At   int
	Size int
}

// Cond is a `when:` condition.
type Cond struct {
	Pos   Pos
	Field string
	Op    string // has lacks eq ne contains
	Raw   any    // uint64 or constant name (string)

	F     *Field
	Value uint64
	Const *EnumValue // when written as a constant name
}

// Command is one row of the SMB2 command table.
type Command struct {
	Pos          Pos
	File         *File
	Name         string
	Code         uint64
	Ref          string
	Doc          string
	Request      *Form
	Response     *Form
	Requests     []*Form
	Responses    []*Form
	NeedsSession bool
	NeedsTree    bool
	PreAuth      bool
	Compound     bool
	Async        bool
	NoResponse   bool
	MinDialect   uint64
	Send         []string
	Receive      []string

	SendF    []*Field
	ReceiveF []*Field
}

// Form is one request or response structure of a command, chosen by StructureSize when a
// command has several.
type Form struct {
	Pos    Pos
	Name   string
	Size   uint64
	Struct *Struct
}

var scalarBits = map[string]int{"u8": 8, "u16": 16, "u32": 32, "u64": 64}
