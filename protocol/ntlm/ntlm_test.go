package ntlm

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// MS-NLMP 4.2.1 common values: User "User", UserDom "Domain", Passwd "Password", server
// challenge 0123456789abcdef, client challenge aaaaaaaaaaaaaaaa, time 0, random session key
// 55 x 16.
const (
	specServerChallenge = "0123456789abcdef"
	specRandomKey       = "55555555555555555555555555555555"
)

func TestNTHash(t *testing.T) {
	// 4.2.2.1.2 NTOWFv1("Password") and 4.2.4.1.1 NTOWFv2("Password", "User", "Domain").
	h := NTHash("Password")
	if got := hex.EncodeToString(h[:]); got != "a4f49c406510bdcab6824ee7c30fd852" {
		t.Errorf("NTHash = %s", got)
	}
	k := NTOWFv2(h, "User", "Domain")
	if got := hex.EncodeToString(k[:]); got != "0c868a403bfd7a93a3001ef22ef02e3f" {
		t.Errorf("NTOWFv2 = %s", got)
	}
	// The user name is uppercased, the domain is not.
	if NTOWFv2(h, "user", "Domain") != k || NTOWFv2(h, "User", "DOMAIN") == k {
		t.Error("NTOWFv2 case handling")
	}
}

// MS-NLMP 4.2.2 (NTLMv1) and 4.2.3 (NTLMv1 with client challenge): the responses and keys.
func TestNTLMv1Vectors(t *testing.T) {
	h := NTHash("Password")
	sc := unhex(t, specServerChallenge)
	if got := hex.EncodeToString(desl(h[:], sc)); got != "67c43011f30298a2ad35ece64f16331c44bdbed927841f94" {
		t.Errorf("4.2.2.2.1 NTLMv1 response = %s", got)
	}
	base := md4Sum(h[:])
	if got := hex.EncodeToString(base[:]); got != "d87262b0cde4b1cb7499becccdf10784" {
		t.Errorf("4.2.2.1.3 session base key = %s", got)
	}
	cc := unhex(t, "aaaaaaaaaaaaaaaa")
	m := md5Sum(sc, cc)
	if got := hex.EncodeToString(desl(h[:], m[:8])); got != "7537f803ae367128ca458204bde7caf81e97ed2683267232" {
		t.Errorf("4.2.3.2.2 NTLMv1 response = %s", got)
	}
	kx := hmacMD5(base[:], sc, cc)
	if got := hex.EncodeToString(kx[:]); got != "eb93429a8bd952f8b89c55b87f475edc" {
		t.Errorf("4.2.3.1.3 key exchange key = %s", got)
	}
}

// The CHALLENGE_MESSAGE and AUTHENTICATE_MESSAGE of MS-NLMP 4.2.4.3 (NTLMv2). The server
// restores its state from the challenge, checks the response against NTHash("Password") and
// recovers the random session key 55..55 from the EncryptedRandomSessionKey.
const (
	spec424Challenge = "4e544c4d53535000020000000c000c003800000033828ae20123456789abcdef" +
		"00000000000000002400240044000000060070170000000f53006500720076006500720002000c00" +
		"44006f006d00610069006e0001000c0053006500720076006500720000000000"
	spec424Authenticate = "4e544c4d5353500003000000180018006c00000054005400840000000c000c00" +
		"480000000800080054000000100010005c00000010001000d8000000358288e2" +
		"0501280a0000000f44006f006d00610069006e00550073006500720043004f00" +
		"4d0050005500540045005200" +
		"86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa" +
		"68cd0ab851e51c96aabc927bebef6a1c" +
		"01010000000000000000000000000000aaaaaaaaaaaaaaaa00000000" +
		"02000c0044006f006d00610069006e0001000c005300650072007600650072000000000000000000" +
		"c5dad2544fc9799094ce1ce90bc9d03e"
)

func TestSpec424(t *testing.T) {
	srv := &Server{Users: Users{"User": NTHash("Password")}}
	chal := unhex(t, spec424Challenge)
	c, err := ParseChallenge(chal)
	if err != nil {
		t.Fatal(err)
	}
	if c.Flags != 0xe28a8233 || c.TargetName != "Server" || hex.EncodeToString(c.ServerChallenge[:]) != specServerChallenge {
		t.Fatalf("challenge: %+v", c)
	}
	st, err := srv.RestoreState(nil, chal)
	if err != nil {
		t.Fatal(err)
	}
	auth := unhex(t, spec424Authenticate)
	a, err := ParseAuthenticate(auth)
	if err != nil {
		t.Fatal(err)
	}
	if a.MICOffset != 0 || a.Version == nil || a.Version.Build != 2600 {
		t.Errorf("layout: MIC at %d, version %+v", a.MICOffset, a.Version)
	}
	res, err := st.Authenticate(auth)
	if err != nil {
		t.Fatal(err)
	}
	if res.User != "User" || res.Domain != "Domain" || res.Workstation != "COMPUTER" || !res.NTLMv2 || res.Anonymous || res.MIC {
		t.Errorf("result %+v", res)
	}
	if got := hex.EncodeToString(res.SessionKey); got != specRandomKey {
		t.Errorf("exported session key %s, want %s", got, specRandomKey)
	}
	if _, err := st.Authenticate(auth); err != ErrState {
		t.Errorf("second Authenticate: %v", err)
	}
	// The same message against another password fails.
	srv.Users = Users{"User": NTHash("password")}
	st, _ = srv.RestoreState(nil, chal)
	if _, err := st.Authenticate(auth); err != ErrLogonFailure {
		t.Errorf("wrong password: %v", err)
	}
}

// MS-NLMP 4.2.4.4: the client's signing and sealing keys for random session key 55..55 and
// the example's flags, and GSS_WrapEx of "Plaintext" (UTF-16LE) with sequence number 0.
func TestSpec424Wrap(t *testing.T) {
	flags := binary.LittleEndian.Uint32(unhex(t, spec424Authenticate)[60:])
	key := unhex(t, specRandomKey)
	if got := hex.EncodeToString(SignKey(key, flags, true)); got != "4788dc861b4782f35d43fd98fe1a2d39" {
		t.Errorf("client SIGNKEY %s", got)
	}
	if got := hex.EncodeToString(SealKey(key, flags, true)); got != "59f600973cc4960a25480a7c196e4c58" {
		t.Errorf("client SEALKEY %s", got)
	}
	client, err := NewSession(key, flags, false)
	if err != nil {
		t.Fatal(err)
	}
	msg := encodeString("Plaintext", true)
	sig := client.Seal(msg)
	if got := hex.EncodeToString(msg); got != "54e50165bf1936dc996020c1811b0f06fb5f" {
		t.Errorf("sealed %s", got)
	}
	if got := hex.EncodeToString(sig[:]); got != "010000007fb38ec5c55d497600000000" {
		t.Errorf("signature %s", got)
	}
	// The server's side opens it.
	server, _ := NewSession(key, flags, true)
	if err := server.Unseal(msg, sig[:]); err != nil || string(msg) != string(encodeString("Plaintext", true)) {
		t.Errorf("Unseal: %v %q", err, msg)
	}
}

// Windows' NTLM messages from Microsoft's "SMB 3.1.1 Encryption in Windows 10" blog
// (appendix A.1, A.2) and "... the anatomy of signing and cryptographic keys" (3.1.1 master
// session), cut out of the SESSION_SETUP messages printed there, with the session key the
// blogs print (the exported session key: SMB's Session.SessionKey for NTLM). The password is
// not published, so what can be checked is everything downstream of the session key: the
// AUTHENTICATE_MESSAGE MIC, and the SPNEGO mechListMIC the client and the server computed
// over the DER mechTypes (a SEQUENCE with the one NTLMSSP OID) with sequence number 0.
var windowsExchanges = []struct {
	name                         string
	negotiate, challenge, auth   string
	sessionKey                   string
	clientMechListMIC, serverMIC string
}{
	{
		name:      "blog A.1",
		negotiate: "4E544C4D5353500001000000978208E200000000000000000000000000000000060380250000000F",
		challenge: "4E544C4D53535000020000000C000C003800000015828AE25FC0CB7F886E93D6000000000000000050005000440000000A0092270000000F53005500540033003100310002000C0053005500540033003100310001000C0053005500540033003100310004000C0053005500540033003100310003000C0053005500540033003100310007000800248D5C6CCDAED00100000000",
		auth: "4E544C4D53535000030000001800180090000000EE00EE00A80000000C000C00580000001A001A0064000000120012007E0000001000100096010000158288E2060380250000000FA5E34268EF143BE5816251D02C564E9B530055005400330031003100610064006D0069006E006900730074007200610074006F0072004400520049005600450052003300310031000000000000000000000000000000000000000000000000002C263DA5C2D54785E8EDA0552472D3A30101000000000000248D5C6CCDAED001BEA7A53E2DC098EB0000000002000C0053005500540033003100310001000C0053005500540033003100310004000C0053005500540033003100310003000C0053005500540033003100310007000800248D5C6CCDAED00106000400020000000800300030000000000000000000000000300000B61FEFCAA857EA57BF1EDCEBF8974B8E0EBA5A6DFD9D07A31D11B548F8C9D0CC0A00100000000000000000000000000000000000090016006300690066007300" +
			"2F00530055005400330031003100000000000000000000000000133FA6EA154880BB44576C6E2490BDE7",
		sessionKey:        "419FDDF34C1E001909D362AE7FB6AF79",
		clientMechListMIC: "0100000067890BD408F5680D00000000",
		serverMIC:         "010000003932A87523AB660100000000",
	},
	{
		name:      "blog A.2",
		negotiate: "4E544C4D5353500001000000978208E200000000000000000000000000000000060380250000000F",
		challenge: "4E544C4D53535000020000000C000C003800000015828AE29296836B33F712E0000000000000000050005000440000000A0092270000000F53005500540033003100310002000C0053005500540033003100310001000C0053005500540033003100310004000C0053005500540033003100310003000C005300550054003300310031000700080019C69C43CCAED00100000000",
		auth: "4E544C4D53535000030000001800180090000000EE00EE00A80000000C000C00580000001A001A0064000000120012007E0000001000100096010000158288E2060380250000000F3E492B87B2606D263031D0D12B6AD267530055005400330031003100610064006D0069006E006900730074007200610074006F0072004400520049005600450052003300310031000000000000000000000000000000000000000000000000009AEF574DBD2E8A323B017ED361EEA14B010100000000000019C69C43CCAED00176AC9CBD383785310000000002000C0053005500540033003100310001000C0053005500540033003100310004000C0053005500540033003100310003000C005300550054003300310031000700080019C69C43CCAED00106000400020000000800300030000000000000000000000000300000B61FEFCAA857EA57BF1EDCEBF8974B8E0EBA5A6DFD9D07A31D11B548F8C9D0CC0A00100000000000000000000000000000000000090016006300690066007300" +
			"2F005300550054003300310031000000000000000000000000005E621187A75CC18E3982494ECC4793B7",
		sessionKey:        "07B7F69C1E2581662DF6987E88F9E891",
		clientMechListMIC: "010000005C661B9E6BE0F1E500000000",
		serverMIC:         "010000000F57444342A2717E00000000",
	},
	{
		name:      "anatomy 3.1.1",
		negotiate: "4E544C4D5353500001000000978208E200000000000000000000000000000000060380250000000F",
		challenge: "4E544C4D53535000020000000C000C003800000015828AE20D1D8BA31179D008000000000000000050005000440000000A0092270000000F53005500540033003100310002000C0053005500540033003100310001000C0053005500540033003100310004000C0053005500540033003100310003000C0053005500540033003100310007000800A1A1F5ADCBAED00100000000",
		auth: "4E544C4D53535000030000001800180090000000EE00EE00A80000000C000C00580000001A001A0064000000120012007E0000001000100096010000158288E2060380250000000FECAC77A5F385A8BF9C38C706EEEDDCD3530055005400330031003100610064006D0069006E006900730074007200610074006F00720044005200490056004500520033003100310000000000000000000000000000000000000000000000000063078EB639FE03E20A231C3AE3BF23080101000000000000A1A1F5ADCBAED001" +
			"BC4AD05F223CC90F0000000002000C0053005500540033003100310001000C0053005500540033003100310004000C0053005500540033003100310003000C0053005500540033003100310007000800A1A1F5ADCBAED00106000400020000000800300030000000000000000000000000300000B61FEFCAA857EA57BF1EDCEBF8974B8E0EBA5A6DFD9D07A31D11B548F8C9D0CC0A001000000000000000000000000000000000000900160063006900660073002F00530055005400330031003100000000000000" +
			"0000000000003B9BDFF38F5EE8F9663F11A0F4C03A78",
		sessionKey:        "270E1BA896585EEB7AF3472D3B4C75A7",
		clientMechListMIC: "0100000063775A9A5FD97F0600000000",
		serverMIC:         "010000003B453CDC3524164200000000",
	},
}

// The DER MechTypeList of those exchanges: SEQUENCE { OID 1.3.6.1.4.1.311.2.2.10 }.
const ntlmOnlyMechTypes = "300C060A2B06010401823702020A"

func TestWindowsMICs(t *testing.T) {
	for _, ex := range windowsExchanges {
		neg, chal, auth := unhex(t, ex.negotiate), unhex(t, ex.challenge), unhex(t, ex.auth)
		a, err := ParseAuthenticate(auth)
		if err != nil {
			t.Fatalf("%s: %v", ex.name, err)
		}
		if a.MICOffset != 72 || a.User != "administrator" || a.Domain != "SUT311" || a.Workstation != "DRIVER311" {
			t.Errorf("%s: %+v", ex.name, a)
		}
		key := unhex(t, ex.sessionKey)
		mic := computeMIC(key, neg, chal, auth, 72)
		if !bytes.Equal(mic[:], a.MIC(auth)) {
			t.Errorf("%s: MIC %x, message has %x", ex.name, mic, a.MIC(auth))
		}
		// The client's flags with the server's CHALLENGE flags (both include KEY_EXCH, ESS).
		c, _ := ParseChallenge(chal)
		flags := a.Flags & c.Flags
		server, err := NewSession(key, flags, true)
		if err != nil {
			t.Fatal(err)
		}
		mechs := unhex(t, ntlmOnlyMechTypes)
		if err := server.Verify(mechs, unhex(t, ex.clientMechListMIC)); err != nil {
			t.Errorf("%s: client mechListMIC: %v", ex.name, err)
		}
		if sig := server.Sign(mechs); !bytes.Equal(sig[:], unhex(t, ex.serverMIC)) {
			t.Errorf("%s: server mechListMIC %x, want %s", ex.name, sig, ex.serverMIC)
		}
	}
}

func newTestServer() *Server {
	return &Server{
		Users:    Users{"alice": NTHash("Secret#1"), "Bob": NTHash("pässwörd")},
		Domain:   "WORKGROUP",
		Computer: "smbvfs",
		Now:      func() time.Time { return time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC) },
	}
}

func runExchange(t *testing.T, srv *Server, c *Client) (*Result, error) {
	t.Helper()
	chal, st, err := srv.Challenge(c.Negotiate())
	if err != nil {
		t.Fatal(err)
	}
	auth, err := c.Authenticate(chal)
	if err != nil {
		t.Fatal(err)
	}
	return st.Authenticate(auth)
}

// fixedRand returns the same byte forever.
type fixedRand byte

func (r fixedRand) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = byte(r)
	}
	return len(b), nil
}

func TestRoundTrip(t *testing.T) {
	srv := newTestServer()
	c := &Client{User: "ALICE", Domain: "WORKGROUP", Password: "Secret#1", Workstation: "PC1",
		TargetName: "cifs/test", Rand: fixedRand(0x77)}
	res, err := runExchange(t, srv, c)
	if err != nil {
		t.Fatal(err)
	}
	if res.User != "ALICE" || res.Domain != "WORKGROUP" || res.Workstation != "PC1" || !res.NTLMv2 || !res.MIC ||
		res.AvFlags != AvFlagMICPresent || res.TargetName != "cifs/test" {
		t.Errorf("result %+v", res)
	}
	if !bytes.Equal(res.SessionKey, c.SessionKey) || !bytes.Equal(res.SessionKey, bytes.Repeat([]byte{0x77}, 16)) {
		t.Errorf("session key %x, client has %x", res.SessionKey, c.SessionKey)
	}
	if res.Flags != c.NegotiatedFlags {
		t.Errorf("flags %#x, client %#x", res.Flags, c.NegotiatedFlags)
	}
	// Non-ASCII password, OEM client without KEY_EXCH or MIC: the exported key is then the
	// session base key.
	c = &Client{User: "bob", Password: "pässwörd", Flags: NegotiateOEM | NegotiateNTLM | NegotiateExtendedSessionSecurity, NoMIC: true}
	res, err = runExchange(t, srv, c)
	if err != nil {
		t.Fatal(err)
	}
	if res.MIC || res.Flags&NegotiateKeyExch != 0 || !bytes.Equal(res.SessionKey, c.SessionKey) {
		t.Errorf("OEM client: %+v", res)
	}
}

func TestChallengeMessage(t *testing.T) {
	srv := newTestServer()
	c := &Client{}
	chal, st, err := srv.Challenge(c.Negotiate())
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseChallenge(chal)
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultClientFlags&^NegotiateOEM | TargetTypeServer | NegotiateTargetInfo
	if m.Flags != want || st.Flags() != want {
		t.Errorf("flags %#x, want %#x", m.Flags, want)
	}
	if m.TargetName != "SMBVFS" || m.Version != DefaultVersion {
		t.Errorf("target %q version %+v", m.TargetName, m.Version)
	}
	pairs, err := ParseAVPairs(m.TargetInfo)
	if err != nil {
		t.Fatal(err)
	}
	got := map[uint16]string{}
	var ids []uint16
	for _, p := range pairs {
		ids = append(ids, p.ID)
		if p.ID == AvTimestamp {
			got[p.ID] = hex.EncodeToString(p.Value)
		} else {
			got[p.ID], _ = decodeString(p.Value, true)
		}
	}
	if want := []uint16{AvNbDomainName, AvNbComputerName, AvDNSDomainName, AvDNSComputerName, AvTimestamp}; !equalIDs(ids, want) {
		t.Errorf("AV pair ids %v, want %v", ids, want)
	}
	ts := make([]byte, 8)
	binary.LittleEndian.PutUint64(ts, fileTime(srv.Now()))
	if got[AvNbDomainName] != "WORKGROUP" || got[AvNbComputerName] != "SMBVFS" || got[AvDNSDomainName] != "workgroup" ||
		got[AvDNSComputerName] != "smbvfs" || got[AvTimestamp] != hex.EncodeToString(ts) {
		t.Errorf("AV pairs %v", got)
	}
	// Two challenges are different.
	chal2, _, _ := srv.Challenge(c.Negotiate())
	if bytes.Equal(chal[24:32], chal2[24:32]) {
		t.Error("server challenge repeated")
	}
	// A client that asks for little gets 128/56/KEY_EXCH only when it asks.
	chal3, _, _ := srv.Challenge((&Client{Flags: NegotiateUnicode | NegotiateNTLM}).Negotiate())
	m3, _ := ParseChallenge(chal3)
	if m3.Flags&(Negotiate128|Negotiate56|NegotiateKeyExch|NegotiateSign|NegotiateVersion) != 0 {
		t.Errorf("unrequested flags %#x", m3.Flags)
	}
	if !bytes.Equal(chal3[48:56], make([]byte, 8)) {
		t.Error("Version present without NTLMSSP_NEGOTIATE_VERSION")
	}
}

func equalIDs(a, b []uint16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestWrongPassword(t *testing.T) {
	srv := newTestServer()
	c := &Client{User: "alice", Password: "secret#1"}
	if res, err := runExchange(t, srv, c); err != ErrLogonFailure || res.SessionKey != nil {
		t.Errorf("wrong password: %v %+v", err, res)
	}
}

func TestUnknownUser(t *testing.T) {
	srv := newTestServer()
	c := &Client{User: "mallory", Domain: "EVIL", Password: "x"}
	res, err := runExchange(t, srv, c)
	if err != ErrUnknownUser || res.User != "mallory" || res.Domain != "EVIL" || res.SessionKey != nil {
		t.Errorf("unknown user: %v %+v", err, res)
	}
}

func TestAnonymous(t *testing.T) {
	srv := newTestServer()
	c := &Client{Anonymous: true, Flags: DefaultClientFlags | NegotiateAnonymous}
	res, err := runExchange(t, srv, c)
	if err != nil || !res.Anonymous || res.SessionKey != nil {
		t.Errorf("anonymous: %v %+v", err, res)
	}
}

// Changing any byte the MIC covers, or the MIC itself, makes the exchange fail.
func TestTamperedMIC(t *testing.T) {
	srv := newTestServer()
	c := &Client{User: "alice", Password: "Secret#1"}
	chal, st, err := srv.Challenge(c.Negotiate())
	if err != nil {
		t.Fatal(err)
	}
	auth, _ := c.Authenticate(chal)
	for _, tamper := range []struct {
		name string
		f    func(b []byte)
	}{
		{"MIC", func(b []byte) { b[75] ^= 1 }},
		{"flags", func(b []byte) { b[60] &^= byte(NegotiateSign) }}, // a downgrade
		{"version", func(b []byte) { b[66] ^= 1 }},
	} {
		b := bytes.Clone(auth)
		tamper.f(b)
		st2, _ := srv.RestoreState(c.negotiate, chal)
		if _, err := st2.Authenticate(b); err != ErrLogonFailure {
			t.Errorf("%s tampered: %v", tamper.name, err)
		}
	}
	// The negotiate message is covered too.
	neg := bytes.Clone(c.negotiate)
	neg[13] ^= 0x02
	st3, _ := srv.RestoreState(neg, chal)
	if _, err := st3.Authenticate(auth); err != ErrLogonFailure {
		t.Errorf("tampered NEGOTIATE: %v", err)
	}
	// Without the NEGOTIATE message a MIC cannot be checked: refused.
	st4, _ := srv.RestoreState(nil, chal)
	if _, err := st4.Authenticate(auth); err != ErrLogonFailure {
		t.Errorf("MIC without NEGOTIATE: %v", err)
	}
	if res, err := st.Authenticate(auth); err != nil || !res.MIC {
		t.Errorf("untampered: %v", err)
	}
}

func TestNTLMv1(t *testing.T) {
	srv := newTestServer()
	for _, ess := range []bool{true, false} {
		flags := DefaultClientFlags
		if !ess {
			flags &^= NegotiateExtendedSessionSecurity
		}
		c := &Client{User: "alice", Password: "Secret#1", Flags: flags, v1: true}
		if _, err := runExchange(t, srv, c); err != ErrNTLMv1 {
			t.Errorf("ess=%v: NTLMv1 not refused: %v", ess, err)
		}
		srv.AllowNTLMv1 = true
		res, err := runExchange(t, srv, c)
		if err != nil || res.NTLMv2 || !bytes.Equal(res.SessionKey, c.SessionKey) {
			t.Errorf("ess=%v: allowed NTLMv1: %v %+v", ess, err, res)
		}
		c.Password = "wrong"
		if _, err := runExchange(t, srv, c); err != ErrLogonFailure {
			t.Errorf("ess=%v: NTLMv1 wrong password: %v", ess, err)
		}
		srv.AllowNTLMv1 = false
	}
	// An LM-only response is never accepted.
	st, _ := srv.RestoreState(nil, unhex(t, spec424Challenge))
	auth := unhex(t, spec424Authenticate)
	binary.LittleEndian.PutUint16(auth[20:], 0) // NtChallengeResponse.Len = 0
	if _, err := st.Authenticate(auth); !errors.Is(err, ErrNTLMv1) {
		t.Errorf("LM only: %v", err)
	}
}

func TestMalformed(t *testing.T) {
	srv := newTestServer()
	good := (&Client{}).Negotiate()
	for _, b := range [][]byte{
		nil, good[:15], []byte("NTLMSSP\x00\x02\x00\x00\x00\x00\x00\x00\x00"),
		append([]byte("NTLMSSX\x00"), good[8:]...),
	} {
		if _, _, err := srv.Challenge(b); err != ErrMalformed {
			t.Errorf("Challenge(%x): %v", b, err)
		}
	}
	// A field pointing outside the message.
	bad := bytes.Clone(good)
	binary.LittleEndian.PutUint16(bad[16:], 4)
	binary.LittleEndian.PutUint32(bad[20:], 38)
	if _, err := ParseNegotiate(bad); err != ErrMalformed {
		t.Errorf("field overrun: %v", err)
	}
	auth := unhex(t, spec424Authenticate)
	for _, mut := range []func(b []byte){
		func(b []byte) { binary.LittleEndian.PutUint32(b[24:], 0x1000) },   // NT response offset
		func(b []byte) { binary.LittleEndian.PutUint16(b[36:], 7) },        // odd user name
		func(b []byte) { binary.LittleEndian.PutUint32(b[32:], 10) },       // domain in the header
		func(b []byte) { binary.LittleEndian.PutUint16(b[20:], 30) },       // short NTLMv2 response
		func(b []byte) { binary.LittleEndian.PutUint16(b[0xb2:], 0x4000) }, // first AV pair's length
	} {
		b := bytes.Clone(auth)
		mut(b)
		st, _ := (&Server{Users: Users{"User": NTHash("Password")}}).RestoreState(nil, unhex(t, spec424Challenge))
		if _, err := st.Authenticate(b); err != ErrMalformed {
			t.Errorf("malformed AUTHENTICATE: %v", err)
		}
	}
}

func BenchmarkAuthenticate(b *testing.B) {
	srv := newTestServer()
	c := &Client{User: "alice", Password: "Secret#1"}
	chal, _, _ := srv.Challenge(c.Negotiate())
	auth, _ := c.Authenticate(chal)
	b.ReportAllocs()
	for b.Loop() {
		st, _ := srv.RestoreState(c.negotiate, chal)
		if _, err := st.Authenticate(auth); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzParseNegotiate(f *testing.F) {
	f.Add((&Client{}).Negotiate())
	f.Add(unhexF(windowsExchanges[0].negotiate))
	srv := newTestServer()
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := ParseNegotiate(b); err != nil {
			return
		}
		chal, _, err := srv.Challenge(b)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseChallenge(chal); err != nil {
			t.Fatalf("own challenge does not parse: %v", err)
		}
	})
}

func FuzzParseChallenge(f *testing.F) {
	f.Add(unhexF(spec424Challenge))
	f.Add(unhexF(windowsExchanges[0].challenge))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseChallenge(b)
		if err != nil {
			return
		}
		// What parses re-encodes into something that parses to the same values.
		c2, err := ParseChallenge(c.Marshal())
		if err != nil || c2.TargetName != c.TargetName || c2.Flags != c.Flags || !bytes.Equal(c2.TargetInfo, c.TargetInfo) {
			t.Fatalf("re-encode: %v", err)
		}
	})
}

// FuzzAuthenticate: arbitrary AUTHENTICATE_MESSAGEs never panic, and the only way to be
// authenticated as a user is to carry the genuine NTLMv2 response of MS-NLMP 4.2.4 (without
// a MIC the other fields are not integrity protected, so they may vary); garbage can
// otherwise at most ask for an anonymous session.
func FuzzAuthenticate(f *testing.F) {
	f.Add(unhexF(spec424Authenticate))
	f.Add(unhexF(windowsExchanges[0].auth))
	srv := &Server{Users: Users{"User": NTHash("Password"), "administrator": NTHash("x")}}
	chal := unhexF(spec424Challenge)
	neg := unhexF(windowsExchanges[0].negotiate)
	genuine, _ := ParseAuthenticate(unhexF(spec424Authenticate))
	f.Fuzz(func(t *testing.T, b []byte) {
		ParseAuthenticate(b)
		st, err := srv.RestoreState(neg, chal)
		if err != nil {
			t.Fatal(err)
		}
		res, err := st.Authenticate(b)
		if err != nil || res.Anonymous {
			return
		}
		a, _ := ParseAuthenticate(b)
		if !bytes.Equal(a.NtChallengeResponse, genuine.NtChallengeResponse) || !strings.EqualFold(res.User, "User") {
			t.Fatalf("authenticated %q with a forged response", res.User)
		}
	})
}

func unhexF(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// Metasploit's RubySMB sets NTLMSSP_NEGOTIATE_VERSION without sending a Version: its
// payload (the OEM workstation name) starts at offset 32. From the capture
// samrlab_smb311_rubysmb_to_ws2022_encrypted_aes256gcm_decryptable.pcapng, frame 10.
func TestNegotiateWithoutVersion(t *testing.T) {
	m, err := ParseNegotiate(unhex(t, "4e544c4d5353500001000000358288e200000000200000000b000b0020000000574f524b53544154494f4e00"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != nil || m.Flags != 0xe2888235 || m.Workstation != "" {
		t.Errorf("%+v", m) // the OEM_WORKSTATION_SUPPLIED flag is not set, so no name
	}
}
