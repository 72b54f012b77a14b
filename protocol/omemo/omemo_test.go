package omemo_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/omemo"
	"github.com/tern-im/tern/protocol/stanza"
)

func parse(t testing.TB, s string) *xmlstream.Element {
	t.Helper()
	e, err := xmlstream.Parse([]byte(s))
	if err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	return e
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// key returns a well-formed serialised public key whose bytes are all n.
func key(n byte) []byte {
	k := bytes.Repeat([]byte{n}, omemo.KeySize)
	k[0] = omemo.KeyType
	return k
}

func sig(n byte) []byte { return bytes.Repeat([]byte{n}, omemo.SignatureSize) }

// XEP-0384 0.3 §4.5, "Sending a message", in the deployed namespace.
const xepMessage = `<message xmlns='jabber:client' to='juliet@capulet.lit' from='romeo@montague.lit' id='send1'>
  <encrypted xmlns='eu.siacs.conversations.axolotl'>
    <header sid='27183'>
      <key rid='31415'>QkFTRTY0RU5DT0RFRA==</key>
      <key prekey='true' rid='12321'>QkFTRTY0RU5DT0RFRA==</key>
      <iv>AAAAAAAAAAAAAAAA</iv>
    </header>
    <payload>QkFTRTY0RU5DT0RFRFBBWUxPQUQ=</payload>
  </encrypted>
  <store xmlns='urn:xmpp:hints'/>
</message>`

func TestFindXEPExample(t *testing.T) {
	e, err := omemo.Find(parse(t, xepMessage))
	if err != nil {
		t.Fatal(err)
	}
	want := omemo.Encrypted{
		SID: 27183,
		Keys: []omemo.Key{
			{RID: 31415, Data: []byte("BASE64ENCODED")},
			{RID: 12321, PreKey: true, Data: []byte("BASE64ENCODED")},
		},
		IV:      make([]byte, 12),
		Payload: []byte("BASE64ENCODEDPAYLOAD"),
	}
	if !reflect.DeepEqual(e, want) {
		t.Fatalf("got %+v\nwant %+v", e, want)
	}
	if e.KeyTransport() {
		t.Error("a message with payload reported as key transport")
	}
	if ks := e.KeysFor(12321); len(ks) != 1 || !ks[0].PreKey {
		t.Errorf("KeysFor(12321) = %+v", ks)
	}
	if ks := e.KeysFor(1); len(ks) != 0 {
		t.Errorf("KeysFor(1) = %+v", ks)
	}
}

func encrypted(header, rest string) string {
	return `<encrypted xmlns='eu.siacs.conversations.axolotl'>` + header + rest + `</encrypted>`
}

func TestParseEncrypted(t *testing.T) {
	iv12 := b64(make([]byte, 12))
	iv16 := b64(make([]byte, 16))
	data := b64([]byte("signal message"))
	tests := []struct {
		name string
		xml  string
		err  error // nil: valid
		want omemo.Encrypted
	}{
		{
			name: "message",
			xml:  encrypted(`<header sid='1'><key rid='2'>`+data+`</key><iv>`+iv12+`</iv></header>`, `<payload>AAAA</payload>`),
			want: omemo.Encrypted{SID: 1, Keys: []omemo.Key{{RID: 2, Data: []byte("signal message")}}, IV: make([]byte, 12), Payload: []byte{0, 0, 0}},
		},
		{
			name: "legacy 16-byte IV",
			xml:  encrypted(`<header sid='1'><key rid='2'>`+data+`</key><iv>`+iv16+`</iv></header>`, `<payload>AAAA</payload>`),
			want: omemo.Encrypted{SID: 1, Keys: []omemo.Key{{RID: 2, Data: []byte("signal message")}}, IV: make([]byte, 16), Payload: []byte{0, 0, 0}},
		},
		{
			name: "key transport",
			xml:  encrypted(`<header sid='2147483647'><key rid='3' prekey='1'>`+data+`</key><iv>`+iv12+`</iv></header>`, ``),
			want: omemo.Encrypted{SID: 1<<31 - 1, Keys: []omemo.Key{{RID: 3, PreKey: true, Data: []byte("signal message")}}, IV: make([]byte, 12)},
		},
		{
			name: "key transport without IV (python-omemo)",
			xml:  encrypted(`<header sid='2'><key rid='3'>`+data+`</key><iv/></header>`, ``),
			want: omemo.Encrypted{SID: 2, Keys: []omemo.Key{{RID: 3, Data: []byte("signal message")}}, IV: []byte{}},
		},
		{
			name: "prekey values other than true and 1 are false",
			xml: encrypted(`<header sid='1'><key rid='2' prekey='false'>`+data+`</key><key rid='3' prekey='0'>`+data+
				`</key><key rid='4' prekey='yes'>`+data+`</key><iv>`+iv12+`</iv></header>`, ``),
			want: omemo.Encrypted{SID: 1, Keys: []omemo.Key{{RID: 2, Data: []byte("signal message")},
				{RID: 3, Data: []byte("signal message")}, {RID: 4, Data: []byte("signal message")}}, IV: make([]byte, 12)},
		},
		{
			name: "line-wrapped base64 and missing padding",
			xml:  encrypted(`<header sid='1'><key rid='2'>c2ln&#10;bmFs</key><iv>`+iv12+`</iv></header>`, `<payload>AA</payload>`),
			want: omemo.Encrypted{SID: 1, Keys: []omemo.Key{{RID: 2, Data: []byte("signal")}}, IV: make([]byte, 12), Payload: []byte{0}},
		},
		{
			name: "empty payload",
			xml:  encrypted(`<header sid='1'><key rid='2'>`+data+`</key><iv>`+iv12+`</iv></header>`, `<payload/>`),
			want: omemo.Encrypted{SID: 1, Keys: []omemo.Key{{RID: 2, Data: []byte("signal message")}}, IV: make([]byte, 12), Payload: []byte{}},
		},
		{name: "wrong namespace", xml: `<encrypted xmlns='urn:xmpp:omemo:2'/>`, err: omemo.ErrMalformed},
		{name: "no header", xml: encrypted(``, `<payload>AAAA</payload>`), err: omemo.ErrMalformed},
		{name: "no sid", xml: encrypted(`<header><key rid='2'>`+data+`</key><iv>`+iv12+`</iv></header>`, ``), err: omemo.ErrInvalidID},
		{name: "sid 0", xml: encrypted(`<header sid='0'><key rid='2'>`+data+`</key><iv>`+iv12+`</iv></header>`, ``), err: omemo.ErrInvalidID},
		{name: "sid 2^31", xml: encrypted(`<header sid='2147483648'><key rid='2'>`+data+`</key><iv>`+iv12+`</iv></header>`, ``), err: omemo.ErrInvalidID},
		{name: "sid with sign", xml: encrypted(`<header sid='+5'><key rid='2'>`+data+`</key><iv>`+iv12+`</iv></header>`, ``), err: omemo.ErrInvalidID},
		{name: "sid with leading zero", xml: encrypted(`<header sid='05'><key rid='2'>`+data+`</key><iv>`+iv12+`</iv></header>`, ``), err: omemo.ErrInvalidID},
		{name: "negative rid", xml: encrypted(`<header sid='1'><key rid='-2'>`+data+`</key><iv>`+iv12+`</iv></header>`, ``), err: omemo.ErrInvalidID},
		{name: "no keys", xml: encrypted(`<header sid='1'><iv>`+iv12+`</iv></header>`, `<payload>AAAA</payload>`), err: omemo.ErrMalformed},
		{name: "empty key", xml: encrypted(`<header sid='1'><key rid='2'/><iv>`+iv12+`</iv></header>`, ``), err: omemo.ErrMalformed},
		{name: "bad base64", xml: encrypted(`<header sid='1'><key rid='2'>!!!!</key><iv>`+iv12+`</iv></header>`, ``), err: omemo.ErrMalformed},
		{name: "payload without IV", xml: encrypted(`<header sid='1'><key rid='2'>`+data+`</key></header>`, `<payload>AAAA</payload>`), err: omemo.ErrMalformed},
		{name: "8-byte IV", xml: encrypted(`<header sid='1'><key rid='2'>`+data+`</key><iv>AAAAAAAAAAA=</iv></header>`, `<payload>AAAA</payload>`), err: omemo.ErrMalformed},
		{name: "IV too long", xml: encrypted(`<header sid='1'><key rid='2'>`+data+`</key><iv>`+b64(make([]byte, 32))+`</iv></header>`, ``), err: omemo.ErrTooLarge},
		{name: "two IVs", xml: encrypted(`<header sid='1'><key rid='2'>`+data+`</key><iv>`+iv12+`</iv><iv>`+iv12+`</iv></header>`, ``), err: omemo.ErrMalformed},
		{name: "two payloads", xml: encrypted(`<header sid='1'><key rid='2'>`+data+`</key><iv>`+iv12+`</iv></header>`, `<payload>AAAA</payload><payload>AAAA</payload>`), err: omemo.ErrMalformed},
		{name: "key too large", xml: encrypted(`<header sid='1'><key rid='2'>`+b64(make([]byte, omemo.MaxKeyData+1))+`</key><iv>`+iv12+`</iv></header>`, ``), err: omemo.ErrTooLarge},
		{name: "too many keys", xml: encrypted(`<header sid='1'>`+strings.Repeat(`<key rid='2'>AA==</key>`, omemo.MaxKeys+1)+`<iv>`+iv12+`</iv></header>`, ``), err: omemo.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := omemo.ParseEncrypted(parse(t, tt.xml))
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestEncryptedElement(t *testing.T) {
	e := omemo.Encrypted{
		SID: 27183,
		Keys: []omemo.Key{
			{RID: 31415, Data: bytes.Repeat([]byte{1}, 100)},
			{RID: 12321, PreKey: true, Data: bytes.Repeat([]byte{2}, 200)},
		},
		IV:      bytes.Repeat([]byte{3}, 12),
		Payload: []byte("ciphertext"),
	}
	s := e.Element().String()
	want := `<encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='27183'><key rid='31415'>` + b64(e.Keys[0].Data) +
		`</key><key rid='12321' prekey='true'>` + b64(e.Keys[1].Data) + `</key><iv>AwMDAwMDAwMDAwMD</iv></header><payload>` +
		b64(e.Payload) + `</payload></encrypted>`
	if s != want {
		t.Fatalf("got  %s\nwant %s", s, want)
	}
	if strings.Contains(s, "false") || strings.ContainsAny(s, "\n\t") {
		t.Errorf("prekey='false' or whitespace written: %s", s)
	}
	back, err := omemo.ParseEncrypted(parse(t, s))
	if err != nil || !reflect.DeepEqual(back, e) {
		t.Fatalf("round trip: %+v, %v", back, err)
	}

	kt := omemo.Encrypted{SID: 1, Keys: []omemo.Key{{RID: 2, Data: []byte{9}}}, IV: make([]byte, 12)}
	if s := kt.Element().String(); strings.Contains(s, "payload") || strings.Contains(s, "prekey") {
		t.Errorf("key transport element %s", s)
	}
}

func TestFindAndAddTo(t *testing.T) {
	e := omemo.Encrypted{SID: 7, Keys: []omemo.Key{{RID: 8, Data: []byte{1, 2, 3}}}, IV: make([]byte, 12), Payload: []byte("x")}
	msg := parse(t, `<message xmlns='jabber:client' to='juliet@capulet.lit' type='chat'><body>secret</body><body xml:lang='de'>geheim</body><origin-id xmlns='urn:xmpp:sid:0' id='o1'/></message>`)
	omemo.AddTo(msg, e)
	s := msg.String()
	if strings.Contains(s, "secret") || strings.Contains(s, "geheim") {
		t.Fatalf("plaintext left in %s", s)
	}
	for _, want := range []string{
		`<origin-id xmlns='urn:xmpp:sid:0' id='o1'/>`,
		`<encryption xmlns='urn:xmpp:eme:0' namespace='eu.siacs.conversations.axolotl' name='OMEMO'/>`,
		`<store xmlns='urn:xmpp:hints'/>`,
		`<body>` + omemo.FallbackBody + `</body>`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("%s lacks %s", s, want)
		}
	}
	got, err := omemo.Find(parse(t, s))
	if err != nil || !reflect.DeepEqual(got, e) {
		t.Fatalf("Find = %+v, %v", got, err)
	}

	kt := parse(t, `<message xmlns='jabber:client' to='juliet@capulet.lit'/>`)
	omemo.AddTo(kt, omemo.Encrypted{SID: 7, Keys: e.Keys, IV: e.IV})
	if strings.Contains(kt.String(), "<body") {
		t.Errorf("key transport with a body: %s", kt)
	}

	for _, s := range []string{
		`<message xmlns='jabber:client'><body>hi</body></message>`,
		`<message xmlns='jabber:client' type='error'>` + e.Element().String() + `</message>`,
	} {
		if _, err := omemo.Find(parse(t, s)); !errors.Is(err, omemo.ErrNotEncrypted) {
			t.Errorf("Find(%s) = %v, want ErrNotEncrypted", s, err)
		}
	}
	if _, err := omemo.Find(parse(t, `<message xmlns='jabber:client'><encrypted xmlns='eu.siacs.conversations.axolotl'/></message>`)); !errors.Is(err, omemo.ErrMalformed) {
		t.Errorf("Find(empty encrypted) = %v, want ErrMalformed", err)
	}
}

// XEP-0384 0.3 §4.2, "Devicelist update received by subscribed clients",
// in the deployed namespace.
const xepDeviceListEvent = `<message xmlns='jabber:client' from='juliet@capulet.lit' to='romeo@montague.lit' type='headline' id='update_01'>
  <event xmlns='http://jabber.org/protocol/pubsub#event'>
    <items node='eu.siacs.conversations.axolotl.devicelist'>
      <item id='current'>
        <list xmlns='eu.siacs.conversations.axolotl'>
          <device id='12345'/>
          <device id='4223'/>
        </list>
      </item>
    </items>
  </event>
</message>`

func TestParseDeviceListEvent(t *testing.T) {
	romeo := jid.MustParse("romeo@montague.lit/orchard")
	juliet := jid.MustParse("juliet@capulet.lit")
	event := func(from string) string {
		return strings.Replace(xepDeviceListEvent, "from='juliet@capulet.lit'", from, 1)
	}
	tests := []struct {
		name  string
		xml   string
		owner jid.JID
		ids   []uint32
		err   error
	}{
		{name: "XEP example", xml: xepDeviceListEvent, owner: juliet, ids: []uint32{4223, 12345}},
		{name: "our own list (no from)", xml: event(""), owner: romeo.Bare(), ids: []uint32{4223, 12345}},
		{name: "spoofed from a full JID", xml: event("from='juliet@capulet.lit/balcony'"), err: omemo.ErrSpoofed},
		{name: "spoofed from a server", xml: event("from='capulet.lit'"), err: omemo.ErrSpoofed},
		{name: "invalid from", xml: event("from='@@'"), err: omemo.ErrSpoofed},
		{name: "other node", xml: strings.Replace(xepDeviceListEvent, ".devicelist", ".bundles:1", 1), err: omemo.ErrMalformed},
		{name: "error message", xml: strings.Replace(xepDeviceListEvent, "headline", "error", 1), err: omemo.ErrMalformed},
		{name: "retracted list", owner: juliet, ids: []uint32{},
			xml: `<message xmlns='jabber:client' from='juliet@capulet.lit'><event xmlns='http://jabber.org/protocol/pubsub#event'><items node='eu.siacs.conversations.axolotl.devicelist'><retract id='current'/></items></event></message>`},
		{name: "item id other than current, bad entries skipped", owner: juliet, ids: []uint32{1, 7},
			xml: `<message xmlns='jabber:client' from='juliet@capulet.lit'><event xmlns='http://jabber.org/protocol/pubsub#event'><items node='eu.siacs.conversations.axolotl.devicelist'><item id='1'><list xmlns='eu.siacs.conversations.axolotl'><device id='7'/><device id='0'/><device id='x'/><device id='2147483648'/><device/><device id='1'/><device id='7'/></list></item></items></event></message>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			owner, ids, err := omemo.ParseDeviceListEvent(parse(t, tt.xml), romeo)
			if tt.err != nil {
				if !errors.Is(err, tt.err) || ids != nil || !owner.IsZero() {
					t.Fatalf("got %v %v %v, want %v", owner, ids, err, tt.err)
				}
				return
			}
			if err != nil || owner != tt.owner || !reflect.DeepEqual(ids, tt.ids) {
				t.Fatalf("got %v %v %v, want %v %v", owner, ids, err, tt.owner, tt.ids)
			}
		})
	}
}

func TestDeviceListLimitsAndElement(t *testing.T) {
	var b strings.Builder
	b.WriteString(`<list xmlns='eu.siacs.conversations.axolotl'>`)
	for i := 1; i <= omemo.MaxDevices+1; i++ {
		fmt.Fprintf(&b, `<device id='%d'/>`, i)
	}
	b.WriteString(`</list>`)
	if _, err := omemo.ParseDeviceList(parse(t, b.String())); !errors.Is(err, omemo.ErrTooLarge) {
		t.Errorf("err = %v, want ErrTooLarge", err)
	}
	el := omemo.DeviceListElement([]uint32{9, 3, 9, 0, 1 << 31})
	if got := el.String(); got != `<list xmlns='eu.siacs.conversations.axolotl'><device id='3'/><device id='9'/></list>` {
		t.Errorf("DeviceListElement = %s", got)
	}
}

func testBundle() omemo.Bundle {
	return omemo.Bundle{
		SignedPreKeyID:        1,
		SignedPreKey:          key(1),
		SignedPreKeySignature: sig(2),
		IdentityKey:           key(3),
		PreKeys:               []omemo.PreKey{{ID: 1, Public: key(4)}, {ID: 2, Public: key(5)}},
	}
}

func TestBundle(t *testing.T) {
	b := testBundle()
	s := b.Element().String()
	want := `<bundle xmlns='eu.siacs.conversations.axolotl'><signedPreKeyPublic signedPreKeyId='1'>` + b64(b.SignedPreKey) +
		`</signedPreKeyPublic><signedPreKeySignature>` + b64(b.SignedPreKeySignature) + `</signedPreKeySignature><identityKey>` +
		b64(b.IdentityKey) + `</identityKey><prekeys><preKeyPublic preKeyId='1'>` + b64(key(4)) +
		`</preKeyPublic><preKeyPublic preKeyId='2'>` + b64(key(5)) + `</preKeyPublic></prekeys></bundle>`
	if s != want {
		t.Fatalf("got  %s\nwant %s", s, want)
	}
	back, err := omemo.ParseBundle(parse(t, s))
	if err != nil || !reflect.DeepEqual(back, b) {
		t.Fatalf("round trip: %+v %v", back, err)
	}

	// Any order of children, item id "1" (Dino), in an IQ result.
	res := `<iq xmlns='jabber:client' type='result' from='juliet@capulet.lit' id='f1'><pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='eu.siacs.conversations.axolotl.bundles:31415'><item id='1'><bundle xmlns='eu.siacs.conversations.axolotl'><prekeys><preKeyPublic preKeyId='1'>` +
		b64(key(4)) + `</preKeyPublic><preKeyPublic preKeyId='2'>` + b64(key(5)) + `</preKeyPublic></prekeys><identityKey>` + b64(b.IdentityKey) +
		`</identityKey><signedPreKeySignature>` + b64(b.SignedPreKeySignature) + `</signedPreKeySignature><signedPreKeyPublic signedPreKeyId='1'>` +
		b64(b.SignedPreKey) + `</signedPreKeyPublic></bundle></item></items></pubsub></iq>`
	got, err := omemo.ParseBundleResult(parse(t, res), 31415)
	if err != nil || !reflect.DeepEqual(got, b) {
		t.Fatalf("ParseBundleResult = %+v %v", got, err)
	}
	if _, err := omemo.ParseBundleResult(parse(t, res), 31416); !errors.Is(err, omemo.ErrMalformed) {
		t.Errorf("bundle of another node accepted: %v", err)
	}
}

func TestBundleValidation(t *testing.T) {
	short := key(6)[:32]
	wrongType := key(6)
	wrongType[0] = 0x06
	tests := []struct {
		name   string
		modify func(b *omemo.Bundle)
		err    error
	}{
		{"32-byte identity key", func(b *omemo.Bundle) { b.IdentityKey = short }, omemo.ErrInvalidKey},
		{"identity key of type 6", func(b *omemo.Bundle) { b.IdentityKey = wrongType }, omemo.ErrInvalidKey},
		{"empty signed prekey", func(b *omemo.Bundle) { b.SignedPreKey = nil }, omemo.ErrInvalidKey},
		{"63-byte signature", func(b *omemo.Bundle) { b.SignedPreKeySignature = sig(1)[:63] }, omemo.ErrInvalidKey},
		{"no prekeys", func(b *omemo.Bundle) { b.PreKeys = nil }, omemo.ErrMalformed},
		{"prekey id 0", func(b *omemo.Bundle) { b.PreKeys[0].ID = 0 }, omemo.ErrInvalidID},
		{"duplicate prekey id", func(b *omemo.Bundle) { b.PreKeys[1].ID = 1 }, omemo.ErrMalformed},
		{"34-byte prekey", func(b *omemo.Bundle) { b.PreKeys[1].Public = append(key(1), 0) }, omemo.ErrInvalidKey},
		{"signed prekey id 2^31", func(b *omemo.Bundle) { b.SignedPreKeyID = 1 << 31 }, omemo.ErrInvalidID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := testBundle()
			tt.modify(&b)
			if err := b.Validate(); !errors.Is(err, tt.err) {
				t.Fatalf("Validate = %v, want %v", err, tt.err)
			}
			// The parser refuses the same bundle on the wire.
			if _, err := omemo.ParseBundle(parse(t, b.Element().String())); err == nil {
				t.Fatal("ParseBundle accepted it")
			}
		})
	}
	b := testBundle()
	b.SignedPreKeyID = 0 // tolerated: see parseSignedPreKeyID
	if _, err := omemo.ParseBundle(parse(t, b.Element().String())); err != nil {
		t.Errorf("signed prekey id 0: %v", err)
	}
	missing := `<bundle xmlns='eu.siacs.conversations.axolotl'><signedPreKeyPublic signedPreKeyId='1'>` + b64(key(1)) + `</signedPreKeyPublic></bundle>`
	if _, err := omemo.ParseBundle(parse(t, missing)); !errors.Is(err, omemo.ErrMalformed) {
		t.Errorf("incomplete bundle: %v", err)
	}
}

func TestPEPRequests(t *testing.T) {
	pub := omemo.PublishDeviceList([]uint32{5, 2}).String()
	want := `<iq xmlns='jabber:client' type='set' id=''><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='eu.siacs.conversations.axolotl.devicelist'><item id='current'><list xmlns='eu.siacs.conversations.axolotl'><device id='2'/><device id='5'/></list></item></publish><publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field><field var='pubsub#access_model'><value>open</value></field></x></publish-options></pubsub></iq>`
	if pub != want {
		t.Errorf("PublishDeviceList:\ngot  %s\nwant %s", pub, want)
	}
	if s := omemo.PublishBundle(31415, testBundle()).String(); !strings.Contains(s, `<publish node='eu.siacs.conversations.axolotl.bundles:31415'><item id='current'><bundle`) ||
		!strings.Contains(s, "pubsub#access_model") {
		t.Errorf("PublishBundle: %s", s)
	}
	cfg := omemo.ConfigureNode(omemo.NodeDeviceList).String()
	want = `<iq xmlns='jabber:client' type='set' id=''><pubsub xmlns='http://jabber.org/protocol/pubsub#owner'><configure node='eu.siacs.conversations.axolotl.devicelist'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#node_config</value></field><field var='pubsub#access_model'><value>open</value></field></x></configure></pubsub></iq>`
	if cfg != want {
		t.Errorf("ConfigureNode:\ngot  %s\nwant %s", cfg, want)
	}
	fetch := omemo.FetchBundle(jid.MustParse("juliet@capulet.lit/balcony"), 31415).String()
	want = `<iq xmlns='jabber:client' type='get' id='' to='juliet@capulet.lit'><pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='eu.siacs.conversations.axolotl.bundles:31415' max_items='1'/></pubsub></iq>`
	if fetch != want {
		t.Errorf("FetchBundle:\ngot  %s\nwant %s", fetch, want)
	}
	if s := omemo.FetchDeviceList(jid.MustParse("juliet@capulet.lit")).String(); !strings.Contains(s, `node='eu.siacs.conversations.axolotl.devicelist'`) {
		t.Errorf("FetchDeviceList: %s", s)
	}

	// XEP-0060 Example 126: the node's configuration does not match.
	reply := parse(t, `<iq xmlns='jabber:client' type='error' id='pub1'><error type='cancel'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><precondition-not-met xmlns='http://jabber.org/protocol/pubsub#errors'/></error></iq>`)
	err := fmt.Errorf("publish: %w", stanza.ParseError(reply))
	if !omemo.IsPreconditionNotMet(err) {
		t.Error("precondition-not-met not recognised")
	}
	other := parse(t, `<iq xmlns='jabber:client' type='error' id='pub1'><error type='cancel'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`)
	if omemo.IsPreconditionNotMet(stanza.ParseError(other)) || omemo.IsPreconditionNotMet(errors.New("x")) {
		t.Error("other errors taken for precondition-not-met")
	}

	res := parse(t, `<iq xmlns='jabber:client' type='result' id='f'><pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='eu.siacs.conversations.axolotl.devicelist'><item id='current'><list xmlns='eu.siacs.conversations.axolotl'><device id='3'/></list></item></items></pubsub></iq>`)
	if ids, err := omemo.ParseDeviceListResult(res); err != nil || !reflect.DeepEqual(ids, []uint32{3}) {
		t.Errorf("ParseDeviceListResult = %v %v", ids, err)
	}
	if _, err := omemo.ParseDeviceListResult(parse(t, `<iq xmlns='jabber:client' type='result' id='f'/>`)); !errors.Is(err, omemo.ErrMalformed) {
		t.Errorf("empty result: %v", err)
	}
}

func TestDeviceListOwner(t *testing.T) {
	own := jid.MustParse("romeo@montague.lit/orchard")
	for from, want := range map[string]string{
		"":                          "romeo@montague.lit",
		"juliet@capulet.lit":        "juliet@capulet.lit",
		"Juliet@Capulet.lit":        "juliet@capulet.lit",
		"juliet@capulet.lit/phone":  "",
		"capulet.lit":               "",
		"pubsub.capulet.lit":        "",
		"juliet@capulet.lit/":       "",
		"romeo@montague.lit/garden": "",
	} {
		got, err := omemo.DeviceListOwner(from, own)
		if want == "" {
			if !errors.Is(err, omemo.ErrSpoofed) {
				t.Errorf("DeviceListOwner(%q) = %v, %v; want ErrSpoofed", from, got, err)
			}
			continue
		}
		if err != nil || got.String() != want {
			t.Errorf("DeviceListOwner(%q) = %v, %v; want %s", from, got, err, want)
		}
	}
	if _, err := omemo.DeviceListOwner("", jid.JID{}); !errors.Is(err, omemo.ErrSpoofed) {
		t.Errorf("no from and no own JID: %v", err)
	}
}

func TestValid(t *testing.T) {
	if !omemo.ValidKey(key(1)) || omemo.ValidKey(key(1)[1:]) || omemo.ValidKey(nil) || omemo.ValidKey(append([]byte{6}, key(1)[1:]...)) {
		t.Error("ValidKey")
	}
	if !omemo.ValidSignature(sig(1)) || omemo.ValidSignature(sig(1)[1:]) {
		t.Error("ValidSignature")
	}
	if omemo.ValidID(0) || !omemo.ValidID(1) || !omemo.ValidID(1<<31-1) || omemo.ValidID(1<<31) {
		t.Error("ValidID")
	}
}
