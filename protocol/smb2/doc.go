// Package smb2 is the SMB2/3 wire format (MS-SMB2 section 2.2), generated from spec/smb2 by
// gen/cmd/smbgen, plus a little hand-written glue (Compound, DecodeMessage, Call,
// IsErrorResponse).
//
// Every structure has:
//
//	func (m *T) Decode(pdu []byte, hdr int) error         // command bodies: header at pdu[hdr:]
//	func (m *T) Decode(b []byte) error                    // other structures: b[0] is the first byte
//	func (m *T) Len() int                                 // size of the encoding
//	func (m *T) Append(b []byte, hdr int) ([]byte, error) // append-style encoders
//	func (m *T) FieldAt(off int) string                   // the field holding a byte, for reports
//
// Decode fills a caller-owned value and allocates nothing: byte slices, UTF-16 names and lists
// alias the input, so a decoded value is valid only while its input is unchanged. Offsets and
// lengths are checked once, in int, by the generated code; any input gives a value or a
// *wire.Error naming Struct.Field, never a panic.
//
// Offset fields stay in the structs: 0 lets the encoder lay the buffer out, any other value
// is honoured, so captured messages re-encode byte for byte (padding between fields is
// re-encoded from the decoded input). Chained structures (negotiate and create contexts,
// error contexts, ...) are lists with cursors:
//
//	for it := req.CreateContexts.Iter(); it.Next(); {
//		c := it.Value()
//	}
//
// The command table (spec/smb2/commands.yaml) gives Rules, the Handler interface with an
// embeddable UnimplementedHandler, Messages (one request and response of every command, kept
// per connection) and Dispatch, which enforces the rules before calling the handler.
package smb2
