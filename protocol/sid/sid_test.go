package sid_test

import (
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/sid"
)

func mustParse(t testing.TB, s string) *xmlstream.Element {
	t.Helper()
	e, err := xmlstream.Parse([]byte(s))
	if err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	return e
}

// xep0359Example3 is XEP-0359 example 3: a MUC message with both ids.
const xep0359Example3 = `<message xmlns='jabber:client'
         to='room@muc.example.com'
         type='groupchat'>
  <body>Typical body text</body>
  <stanza-id xmlns='urn:xmpp:sid:0'
             id='5f3dbc5e-e1d3-4077-a492-693f3769c7ad'
             by='room@muc.example.com'/>
  <origin-id xmlns='urn:xmpp:sid:0' id='de305d54-75b4-431b-adb2-eb6b9e546013'/>
</message>`

func TestXEPExample(t *testing.T) {
	msg := mustParse(t, xep0359Example3)
	room := jid.MustParse("room@muc.example.com")
	got := sid.StanzaIDs(msg, room)
	want := []sid.StanzaID{{ID: "5f3dbc5e-e1d3-4077-a492-693f3769c7ad", By: room}}
	if !slices.Equal(got, want) {
		t.Errorf("StanzaIDs = %+v, want %+v", got, want)
	}
	if got := sid.ParseOriginID(msg); got != "de305d54-75b4-431b-adb2-eb6b9e546013" {
		t.Errorf("ParseOriginID = %q", got)
	}
	// XEP-0359 example 1: the bare stanza-id element.
	s, err := sid.ParseStanzaID(mustParse(t, `<stanza-id xmlns='urn:xmpp:sid:0'
           id='de305d54-75b4-431b-adb2-eb6b9e546013'
           by='room@muc.example.com'/>`))
	if err != nil || s != (sid.StanzaID{ID: "de305d54-75b4-431b-adb2-eb6b9e546013", By: room}) {
		t.Errorf("ParseStanzaID = %+v, %v", s, err)
	}
	back, err := sid.ParseStanzaID(mustParse(t, s.Element().String()))
	if err != nil || back != s {
		t.Errorf("round trip %s = %+v, %v", s.Element(), back, err)
	}
}

func TestStanzaIDsTrust(t *testing.T) {
	own := jid.MustParse("juliet@capulet.lit/balcony")
	room := jid.MustParse("coven@chat.shakespeare.lit")
	tests := []struct {
		name    string
		xml     string
		trusted []jid.JID
		want    []sid.StanzaID
	}{
		{
			name: "XEP-0313 §3.1: our archive's id on a one-to-one message; the full JID we pass is compared bare",
			xml: `<message xmlns='jabber:client' to='juliet@capulet.lit/balcony' from='romeo@montague.lit/orchard' type='chat'>
  <body>Call me but love</body>
  <stanza-id xmlns='urn:xmpp:sid:0' by='juliet@capulet.lit' id='28482-98726-73623'/>
</message>`,
			trusted: []jid.JID{own},
			want:    []sid.StanzaID{{ID: "28482-98726-73623", By: own.Bare()}},
		},
		{
			name: "a room's id is ignored when only our account is trusted",
			xml: `<message xmlns='jabber:client' type='groupchat'>
  <stanza-id xmlns='urn:xmpp:sid:0' by='coven@chat.shakespeare.lit' id='r1'/></message>`,
			trusted: []jid.JID{own},
		},
		{
			name: "a sender-made id claiming our account is ignored on a room message",
			xml: `<message xmlns='jabber:client' type='groupchat'>
  <stanza-id xmlns='urn:xmpp:sid:0' by='juliet@capulet.lit' id='forged'/>
  <stanza-id xmlns='urn:xmpp:sid:0' by='coven@chat.shakespeare.lit' id='r1'/></message>`,
			trusted: []jid.JID{room},
			want:    []sid.StanzaID{{ID: "r1", By: room}},
		},
		{
			name: "a 'by' with a resource is not the archive",
			xml: `<message xmlns='jabber:client'>
  <stanza-id xmlns='urn:xmpp:sid:0' by='juliet@capulet.lit/balcony' id='x'/></message>`,
			trusted: []jid.JID{own},
		},
		{
			name: "the server domain is not the account's archive",
			xml: `<message xmlns='jabber:client'>
  <stanza-id xmlns='urn:xmpp:sid:0' by='capulet.lit' id='x'/></message>`,
			trusted: []jid.JID{own},
		},
		{
			name: "rule 4: two ids with the same 'by' are both ignored",
			xml: `<message xmlns='jabber:client'>
  <stanza-id xmlns='urn:xmpp:sid:0' by='juliet@capulet.lit' id='a'/>
  <stanza-id xmlns='urn:xmpp:sid:0' by='juliet@capulet.lit' id='b'/></message>`,
			trusted: []jid.JID{own},
		},
		{
			name: "invalid elements are skipped",
			xml: `<message xmlns='jabber:client'>
  <stanza-id xmlns='urn:xmpp:sid:0' by='juliet@capulet.lit'/>
  <stanza-id xmlns='urn:xmpp:sid:0' by='juliet@capulet.lit' id='` + strings.Repeat("x", sid.MaxID+1) + `'/>
  <stanza-id xmlns='urn:xmpp:sid:0' by='juliet@capulet.lit' id='ok'/></message>`,
			trusted: []jid.JID{own},
			want:    []sid.StanzaID{{ID: "ok", By: own.Bare()}},
		},
		{
			name: "only direct children count",
			xml: `<message xmlns='jabber:client'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client'>
  <stanza-id xmlns='urn:xmpp:sid:0' by='juliet@capulet.lit' id='inner'/></message></forwarded></message>`,
			trusted: []jid.JID{own},
		},
		{
			name: "two trusted entities",
			xml: `<message xmlns='jabber:client'>
  <stanza-id xmlns='urn:xmpp:sid:0' by='coven@chat.shakespeare.lit' id='r'/>
  <stanza-id xmlns='urn:xmpp:sid:0' by='juliet@capulet.lit' id='j'/></message>`,
			trusted: []jid.JID{own, room},
			want:    []sid.StanzaID{{ID: "j", By: own.Bare()}, {ID: "r", By: room}},
		},
		{
			name: "nothing trusted",
			xml: `<message xmlns='jabber:client'>
  <stanza-id xmlns='urn:xmpp:sid:0' by='juliet@capulet.lit' id='j'/></message>`,
			trusted: []jid.JID{{}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := sid.StanzaIDs(mustParse(t, tt.xml), tt.trusted...)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("StanzaIDs = %+v, want %+v", got, tt.want)
			}
		})
	}
	if got := sid.StanzaIDs(nil, own); got != nil {
		t.Errorf("StanzaIDs(nil) = %v", got)
	}
}

func TestParseStanzaIDErrors(t *testing.T) {
	for _, x := range []string{
		`<stanza-id xmlns='urn:xmpp:sid:0' by='a@b'/>`,
		`<stanza-id xmlns='urn:xmpp:sid:0' id='x'/>`,
		`<stanza-id xmlns='urn:xmpp:sid:0' id='x' by='@b'/>`,
		`<origin-id xmlns='urn:xmpp:sid:0' id='x'/>`,
	} {
		if got, err := sid.ParseStanzaID(mustParse(t, x)); !errors.Is(err, sid.ErrMalformed) {
			t.Errorf("ParseStanzaID(%s) = %+v, %v; want ErrMalformed", x, got, err)
		}
	}
}

func TestStrip(t *testing.T) {
	msg := mustParse(t, `<message xmlns='jabber:client'><body>hi</body>`+
		`<stanza-id xmlns='urn:xmpp:sid:0' by='juliet@capulet.lit' id='forged1'/>`+
		`<stanza-id xmlns='urn:xmpp:sid:0' by='coven@chat.shakespeare.lit' id='r'/>`+
		`<stanza-id xmlns='urn:xmpp:sid:0' by='juliet@capulet.lit/other' id='forged2'/>`+
		`<origin-id xmlns='urn:xmpp:sid:0' id='o'/></message>`)
	if n := sid.Strip(msg, jid.MustParse("juliet@capulet.lit/balcony")); n != 2 {
		t.Errorf("Strip removed %d, want 2", n)
	}
	want := `<message xmlns='jabber:client'><body>hi</body><stanza-id xmlns='urn:xmpp:sid:0' by='coven@chat.shakespeare.lit' id='r'/><origin-id xmlns='urn:xmpp:sid:0' id='o'/></message>`
	if got := msg.String(); got != want {
		t.Errorf("after Strip:\n%s\nwant\n%s", got, want)
	}
	if n := sid.Strip(nil, jid.MustParse("a@b")); n != 0 {
		t.Errorf("Strip(nil) = %d", n)
	}
}

func TestOriginID(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		id := sid.NewOriginID()
		b, err := base64.RawURLEncoding.DecodeString(id)
		if err != nil || len(b) != 16 || len(id) != 22 {
			t.Fatalf("NewOriginID = %q (%v): want 16 bytes in unpadded URL-safe base64", id, err)
		}
		if seen[id] {
			t.Fatalf("NewOriginID repeated %q", id)
		}
		seen[id] = true
	}
	msg := xmlstream.New("jabber:client", "message").Append(sid.OriginID("abc"))
	if got := msg.String(); got != `<message xmlns='jabber:client'><origin-id xmlns='urn:xmpp:sid:0' id='abc'/></message>` {
		t.Errorf("OriginID element = %s", got)
	}
	if got := sid.ParseOriginID(mustParse(t, msg.String())); got != "abc" {
		t.Errorf("ParseOriginID = %q", got)
	}
	for _, x := range []string{
		`<message xmlns='jabber:client'/>`,
		`<message xmlns='jabber:client'><origin-id xmlns='urn:xmpp:sid:0'/></message>`,
		`<message xmlns='jabber:client'><origin-id xmlns='urn:example' id='x'/></message>`,
	} {
		if got := sid.ParseOriginID(mustParse(t, x)); got != "" {
			t.Errorf("ParseOriginID(%s) = %q, want none", x, got)
		}
	}
	if got := sid.ParseOriginID(nil); got != "" {
		t.Errorf("ParseOriginID(nil) = %q", got)
	}
}
