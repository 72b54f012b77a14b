package retraction_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/retraction"
)

func mustParse(t testing.TB, s string) *xmlstream.Element {
	t.Helper()
	e, err := xmlstream.Parse([]byte(s))
	if err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	return e
}

// xep0424Example4 is XEP-0424 example 4: the client sends out a retraction.
const xep0424Example4 = `<message xmlns='jabber:client' type='chat' to='lord@capulet.example' id='retract-message-1'>
  <retract id="wrong-recipient-1" xmlns='urn:xmpp:message-retract:1'/>
  <fallback xmlns="urn:xmpp:fallback:0" for='urn:xmpp:message-retract:1'/>
  <body>/me retracted a previous message, but it's unsupported by your client.</body>
  <store xmlns="urn:xmpp:hints"/>
</message>`

func TestXEPExample(t *testing.T) {
	id, err := retraction.Parse(mustParse(t, xep0424Example4))
	if err != nil || id != "wrong-recipient-1" {
		t.Fatalf("Parse = %q, %v", id, err)
	}
	// Our builder produces the same stanza, up to attribute order and
	// whitespace.
	got := retraction.Message(jid.MustParse("lord@capulet.example"), "chat", "retract-message-1", "wrong-recipient-1")
	want := `<message xmlns='jabber:client' to='lord@capulet.example' id='retract-message-1' type='chat'>` +
		`<retract xmlns='urn:xmpp:message-retract:1' id='wrong-recipient-1'/>` +
		`<fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:message-retract:1'/>` +
		`<body>/me retracted a previous message, but it's unsupported by your client.</body>` +
		`<store xmlns='urn:xmpp:hints'/></message>`
	if got.String() != want {
		t.Errorf("Message =\n%s\nwant\n%s", got, want)
	}
	if id, err := retraction.Parse(mustParse(t, got.String())); err != nil || id != "wrong-recipient-1" {
		t.Errorf("round trip = %q, %v", id, err)
	}
	if got := mustParse(t, got.String()).ChildText("jabber:client", "body"); got != retraction.FallbackBody {
		t.Errorf("fallback body = %q", got)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		xml string
		err error
	}{
		{`<message xmlns='jabber:client'><body>hi</body></message>`, retraction.ErrNotFound},
		{`<message xmlns='jabber:client' type='error'><retract xmlns='urn:xmpp:message-retract:1' id='a'/></message>`, retraction.ErrNotFound},
		{`<message xmlns='jabber:client'><retract xmlns='urn:xmpp:message-retract:0' id='a'/></message>`, retraction.ErrNotFound},
		{`<message xmlns='jabber:client'><retract xmlns='urn:xmpp:message-retract:1'/></message>`, retraction.ErrMalformed},
		{`<message xmlns='jabber:client'><retract xmlns='urn:xmpp:message-retract:1' id='` + strings.Repeat("x", retraction.MaxID+1) + `'/></message>`, retraction.ErrMalformed},
	}
	for _, tt := range tests {
		if id, err := retraction.Parse(mustParse(t, tt.xml)); !errors.Is(err, tt.err) || id != "" {
			t.Errorf("Parse(%.100s) = %q, %v; want %v", tt.xml, id, err, tt.err)
		}
	}
}

func TestTombstone(t *testing.T) {
	// XEP-0424 example 7: a tombstone in an archive result (the forwarded
	// message).
	msg := mustParse(t, `<message xmlns='jabber:client' type='groupchat' from='romeo@montague.example' to='lord@capulet.example' id='wrong-recipient-1'>
        <retracted stamp='2019-09-20T23:09:32Z' xmlns='urn:xmpp:message-retract:1' id='retract-message-1'/>
      </message>`)
	ts, err := retraction.ParseTombstone(msg)
	want := retraction.Tombstone{ID: "retract-message-1", Stamp: time.Date(2019, 9, 20, 23, 9, 32, 0, time.UTC)}
	if err != nil || ts.ID != want.ID || !ts.Stamp.Equal(want.Stamp) || !ts.By.IsZero() {
		t.Fatalf("ParseTombstone = %+v, %v", ts, err)
	}
	if _, err := retraction.Parse(msg); !errors.Is(err, retraction.ErrNotFound) {
		t.Errorf("a tombstone is not a retraction: %v", err)
	}

	full := retraction.Tombstone{ID: "r", By: jid.MustParse("room@muc.example/mod"), Stamp: time.Date(2019, 9, 20, 23, 9, 32, 5e8, time.UTC)}
	if got := full.Element().String(); got != `<retracted xmlns='urn:xmpp:message-retract:1' id='r' by='room@muc.example/mod' stamp='2019-09-20T23:09:32.5Z'/>` {
		t.Errorf("Element = %s", got)
	}
	back, err := retraction.ParseTombstone(xmlstream.New("jabber:client", "message").Append(full.Element()))
	if err != nil || back.ID != full.ID || back.By != full.By || !back.Stamp.Equal(full.Stamp) {
		t.Errorf("round trip = %+v, %v", back, err)
	}

	for _, x := range []string{
		`<message xmlns='jabber:client'><retracted xmlns='urn:xmpp:message-retract:1' id='a' stamp='soon' by='@x'/></message>`,
	} {
		ts, err := retraction.ParseTombstone(mustParse(t, x))
		if err != nil || ts.ID != "a" || !ts.Stamp.IsZero() || !ts.By.IsZero() {
			t.Errorf("ParseTombstone(%s) = %+v, %v; want invalid stamp and by dropped", x, ts, err)
		}
	}
	if _, err := retraction.ParseTombstone(mustParse(t, `<message xmlns='jabber:client'><retracted xmlns='urn:xmpp:message-retract:1'/></message>`)); !errors.Is(err, retraction.ErrMalformed) {
		t.Errorf("tombstone without id: %v", err)
	}
	if _, err := retraction.ParseTombstone(mustParse(t, `<message xmlns='jabber:client'/>`)); !errors.Is(err, retraction.ErrNotFound) {
		t.Errorf("no tombstone: %v", err)
	}
}

func TestValidRetraction(t *testing.T) {
	tests := []struct {
		name                 string
		original, retraction string
		isMUC                bool
		want                 bool
	}{
		{"1:1 sender", "romeo@montague.example/orchard", "romeo@montague.example/garden", false, true},
		{"1:1 spoofed by someone else", "romeo@montague.example/orchard", "tybalt@capulet.example/home", false, false},
		{"MUC same occupant", "room@muc.example/romeo", "room@muc.example/romeo", true, true},
		{"MUC another occupant", "room@muc.example/romeo", "room@muc.example/tybalt", true, false},
		{"MUC room itself", "room@muc.example", "room@muc.example", true, false},
	}
	for _, tt := range tests {
		if got := retraction.ValidRetraction(jid.MustParse(tt.original), jid.MustParse(tt.retraction), tt.isMUC); got != tt.want {
			t.Errorf("%s: ValidRetraction = %v", tt.name, got)
		}
	}
	if retraction.ValidRetraction(jid.JID{}, jid.JID{}, false) {
		t.Error("zero JIDs")
	}
	if !retraction.SameOccupant("x", "x") || retraction.SameOccupant("", "") || retraction.SameOccupant("x", "y") {
		t.Error("SameOccupant")
	}
}
