package kdf

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Key derivation examples published by Microsoft's Open Specifications team:
//
//   - "SMB 2 and SMB 3 security in Windows 10: the anatomy of signing and cryptographic keys"
//     (2017), appendix "Key derivation example for SMB 3.0 multichannel" and "... for SMB
//     3.1.1 multichannel";
//   - "SMB 3.1.1 Encryption in Windows 10" (2015), appendix A.1 (AES-128-GCM) and A.2
//     (AES-128-CCM).
//
// The keys are printed from the client's point of view: its EncryptionKey is the server's
// DecryptionKey (3.0 context "ServerIn ", 3.1.1 label "SMBC2SCipherKey") and vice versa.
func TestMicrosoftExamples(t *testing.T) {
	const (
		sign30, ccm30, app30 = "SMB2AESCMAC\x00", "SMB2AESCCM\x00", "SMB2APP\x00"
		sign311, c2s, s2c    = "SMBSigningKey\x00", "SMBC2SCipherKey\x00", "SMBS2CCipherKey\x00"
		app311               = "SMBAppKey\x00"
	)
	type derivation struct{ label, context, want string }
	for _, ex := range []struct {
		name, sessionKey, preauth string
		keys                      []derivation
	}{
		{"anatomy 3.0 master channel", "7CD451825D0450D235424E44BA6E78CC", "", []derivation{
			{sign30, "SmbSign\x00", "0B7E9C5CAC36C0F6EA9AB275298CEDCE"},
			{ccm30, "ServerIn \x00", "FAD27796665B313EBB578F388632B4F7"},
			{ccm30, "ServerOut\x00", "B0F0427F7CEB416D1D9DCC0CD4F99447"},
			{app30, "SmbRpc\x00", "BB23A4575AA26C721AF525AF15A87B4F"},
		}},
		{"anatomy 3.0 second channel", "4E01A2B313BCF660CC250BEF021AEDE6", "", []derivation{
			{sign30, "SmbSign\x00", "BA1A17DBBFEC349BCA105563D598952F"},
		}},
		{"anatomy 3.1.1 master channel", "270E1BA896585EEB7AF3472D3B4C75A7",
			"0DD13628CC3ED218EF9DF9772D436D0887AB9814BFAE63A80AA845F36909DB7928622DDDAD522D9751640A459762C5A9D6BB084CBB3CE6BDADEF5D5BCE3C6C01", []derivation{
				{sign311, "", "73FE7A9A77BEF0BDE49C650D8CCB5F76"},
				{c2s, "", "629BCBC54422A0F572B97F45989B6073"},
				{s2c, "", "E2AF0DCEFAC68DA71A0DFBD0D1350D74"},
				{app311, "", "6D7AD7954E9EC61E907B4D473DC178FF"},
			}},
		{"encryption A.1 (GCM)", "419FDDF34C1E001909D362AE7FB6AF79",
			"B23F3CBFD69487D9832B79B1594A367CDD950909B774C3A4C412B4FCEA9EDDDBA7DB256BA2EA30E977F11F9B113247578E0E915C6D2A513B8F2FCA5707DC8770", []derivation{
				{sign311, "", "8765949DFEAEE105CE9118B45BE988F0"},
				{c2s, "", "A2F5E80E5D59103034F32E52F698E5EC"},
				{s2c, "", "748C50868C90F302962A5C35F5F9A8BF"},
				{app311, "", "099D610789FBE82055B313601C3E8CC4"},
			}},
		{"encryption A.2 (CCM)", "07B7F69C1E2581662DF6987E88F9E891",
			"DECF98A420718718F22090D3580FCC5E484BD310FA1268210C6E86335A8891E767F5BCD99FA5A7859D665AD07A73EA94E1BCDB7CFA69A6962A28A244138340B1", []derivation{
				{sign311, "", "3DCC82C5795AE27F383242761078C59B"},
				{c2s, "", "DFAAA31AAE40A2485D47AC4DF09FDA1D"},
				{s2c, "", "95C544AEF6072680DA1CE49A68A97FA6"},
				{app311, "", "7A2F0F73EC2D530879B2913BBFCE242F"},
			}},
	} {
		key := unhex(t, ex.sessionKey)
		for _, d := range ex.keys {
			ctx := []byte(d.context)
			if ex.preauth != "" {
				ctx = unhex(t, ex.preauth)
			}
			got := SMB3KDF(key, []byte(d.label), ctx, 128)
			if want := unhex(t, d.want); !bytes.Equal(got, want) {
				t.Errorf("%s %q: %X, want %s", ex.name, d.label, got, d.want)
			}
		}
	}
}

// No published vector derives 256 bits. This builds the two PRF blocks by hand from the SP
// 800-108 definition, independently of the loop in CounterHMACSHA256, and also checks that
// L is part of every block (so a 256-bit key does not start with the 128-bit key).
func TestTwoBlocks(t *testing.T) {
	key := unhex(t, "419FDDF34C1E001909D362AE7FB6AF79")
	label, ctx := []byte("SMBS2CCipherKey\x00"), bytes.Repeat([]byte{0x5a}, 64)
	block := func(i byte) []byte {
		m := hmac.New(sha256.New, key)
		msg := append([]byte{0, 0, 0, i}, label...)
		msg = append(msg, 0)
		msg = append(msg, ctx...)
		msg = append(msg, 0, 0, 1, 0) // L = 256
		m.Write(msg)
		return m.Sum(nil)
	}
	want := append(block(1), block(2)...)[:32]
	got := SMB3KDF(key, label, ctx, 256)
	if !bytes.Equal(got, want) {
		t.Errorf("256-bit: %x, want %x", got, want)
	}
	if short := SMB3KDF(key, label, ctx, 128); bytes.Equal(short, got[:16]) {
		t.Error("L is not mixed into the PRF input")
	}
	if n := len(CounterHMACSHA256(key, label, ctx, 384)); n != 48 {
		t.Errorf("384 bits gave %d bytes", n)
	}
}

func TestBadLength(t *testing.T) {
	for _, bits := range []int{0, -8, 100} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("bits %d: no panic", bits)
				}
			}()
			CounterHMACSHA256(nil, nil, nil, bits)
		}()
	}
}

func BenchmarkSMB3KDF(b *testing.B) {
	key, ctx := make([]byte, 16), make([]byte, 64)
	for b.Loop() {
		SMB3KDF(key, []byte("SMBSigningKey\x00"), ctx, 128)
	}
}
