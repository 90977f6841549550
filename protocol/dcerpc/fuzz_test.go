package dcerpc

import "testing"

// FuzzStubs feeds the NDR decoders of every srvsvc/wkssvc request and response: any input
// gives a value or an error, never a panic, and a decoded response re-encodes to a stub
// that decodes to the same number of entries.
func FuzzStubs(f *testing.F) {
	for _, s := range [][]byte{macShareEnumReq, sambaShareEnumRsp, winShareGetInfoReq, winShareGetInfoRsp} {
		f.Add(s)
	}
	var e Encoder
	srv := `\\X`
	(&NetrServerGetInfoRequest{ServerName: &srv, Level: 101}).Encode(&e)
	f.Add(append([]byte{}, e.Bytes()...))
	e.Reset()
	(&NetrShareGetInfoResponse{Level: 502, Share: &ShareInfo{Name: "a", SecurityDescriptor: []byte{1, 2, 3}}}).Encode(&e)
	f.Add(append([]byte{}, e.Bytes()...))
	f.Fuzz(func(t *testing.T, b []byte) {
		new(NetrShareEnumRequest).Decode(b)
		new(NetrShareGetInfoRequest).Decode(b)
		new(NetrServerGetInfoRequest).Decode(b)
		new(NetrWkstaGetInfoRequest).Decode(b)
		new(NetrServerGetInfoResponse).Decode(b)
		new(NetrWkstaGetInfoResponse).Decode(b)
		new(NetrShareGetInfoResponse).Decode(b)
		var r NetrShareEnumResponse
		if r.Decode(b) == nil {
			var e Encoder
			r.Encode(&e)
			var again NetrShareEnumResponse
			if err := again.Decode(e.Bytes()); err != nil || len(again.Shares) != len(r.Shares) {
				t.Fatalf("re-encoded response: %v, %d entries for %d", err, len(again.Shares), len(r.Shares))
			}
		}
	})
}

// FuzzPDU checks the hand-written PDU helpers on any input: DecodePDU, the auth split of
// requests and responses, and reassembly.
func FuzzPDU(f *testing.F) {
	r := Request{PfcFlags: PfcFirstFrag | PfcLastFrag, Drep: DrepLE, CallId: 1, Opnum: 15, Body: macShareEnumReq}
	b, _ := r.Append(nil)
	f.Add(b)
	r.PfcFlags, r.AuthLength = PfcFirstFrag|PfcObjectUuid, 16
	r.Body = append(make([]byte, 16), macShareEnumReq...)
	r.Body = append(r.Body, 10, 2, 0, 0, 0, 0, 0, 0)
	r.Body = append(r.Body, make([]byte, 16)...)
	b, _ = r.Append(nil)
	f.Add(b)
	var re Reassembler
	re.Max = 1 << 16
	f.Fuzz(func(t *testing.T, b []byte) {
		SplitPDUs(b, func(pdu []byte) error {
			p, err := DecodePDU(pdu)
			if err != nil {
				return nil
			}
			switch x := p.(type) {
			case *Request:
				x.RequestStub()
				re.Add(x)
			case *Response:
				x.ResponseStub()
			case *BindAck:
				new(PResultList).Decode(x.ResultList)
			}
			// Re-encoding is stable: what is encoded decodes and encodes to the same bytes.
			// (It equals the input for every PDU a sender pads as C706 says; an empty
			// aligned tail is written without its padding.)
			enc, err := p.Append(nil)
			if err != nil {
				return nil
			}
			if len(enc) != p.Len() {
				t.Fatalf("Len %d, encoding %d bytes", p.Len(), len(enc))
			}
			if _, err := PeekHeader(enc); err != nil {
				return nil // the input's auth_length no longer fits the recomputed frag_length
			}
			p2, err := DecodePDU(enc)
			if err != nil {
				t.Fatalf("re-encoded PDU does not decode: %v", err)
			}
			enc2, _ := p2.Append(nil)
			if string(enc2) != string(enc) {
				t.Fatalf("re-encoding not stable:\n%x\n%x", enc, enc2)
			}
			return nil
		})
	})
}
