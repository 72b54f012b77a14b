package correction_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/tern-im/tern/protocol/correction"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
)

func mustParse(t testing.TB, s string) *xmlstream.Element {
	t.Helper()
	e, err := xmlstream.Parse([]byte(s))
	if err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	return e
}

func TestParse(t *testing.T) {
	tests := []struct {
		xml string
		id  string
		err error
	}{
		// XEP-0308 example 4.
		{`<message xmlns='jabber:client' to='juliet@capulet.net/balcony' id='good1'>
  <body>But soft, what light through yonder window breaks?</body>
  <replace id='bad1' xmlns='urn:xmpp:message-correct:0'/>
</message>`, "bad1", nil},
		// XEP-0308 example 3 is the original, not a correction.
		{`<message xmlns='jabber:client' to='juliet@capulet.net/balcony' id='bad1'>
  <body>But soft, what light through yonder airlock breaks?</body>
</message>`, "", correction.ErrNoCorrection},
		{`<message xmlns='jabber:client' type='error'><replace id='x' xmlns='urn:xmpp:message-correct:0'/></message>`, "", correction.ErrNoCorrection},
		{`<message xmlns='jabber:client'><replace xmlns='urn:xmpp:message-correct:0'/></message>`, "", correction.ErrMalformed},
		{`<message xmlns='jabber:client'><replace id='` + strings.Repeat("x", correction.MaxID+1) + `' xmlns='urn:xmpp:message-correct:0'/></message>`, "", correction.ErrMalformed},
	}
	for _, tt := range tests {
		id, err := correction.Parse(mustParse(t, tt.xml))
		if id != tt.id || !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
			t.Errorf("Parse(%.80s) = %q, %v; want %q, %v", tt.xml, id, err, tt.id, tt.err)
		}
	}
}

func TestReplace(t *testing.T) {
	el := correction.Replace("bad1")
	if got := el.String(); got != `<replace xmlns='urn:xmpp:message-correct:0' id='bad1'/>` {
		t.Errorf("Replace = %s", got)
	}
	msg := xmlstream.New("jabber:client", "message", "id", "good1").Append(el)
	if id, err := correction.Parse(mustParse(t, msg.String())); id != "bad1" || err != nil {
		t.Errorf("round trip = %q, %v", id, err)
	}
}

func TestValidCorrection(t *testing.T) {
	tests := []struct {
		name                 string
		original, correction string
		isMUC                bool
		want                 bool
	}{
		{"1:1 same resource", "romeo@montague.net/orchard", "romeo@montague.net/orchard", false, true},
		{"1:1 another client of the sender", "romeo@montague.net/orchard", "romeo@montague.net/garden", false, true},
		{"1:1 our own message corrected from our other client", "juliet@capulet.net", "juliet@capulet.net/balcony", false, true},
		{"1:1 someone else", "romeo@montague.net/orchard", "tybalt@capulet.net/orchard", false, false},
		{"MUC same occupant", "coven@chat.shakespeare.lit/firstwitch", "coven@chat.shakespeare.lit/firstwitch", true, true},
		{"MUC another occupant", "coven@chat.shakespeare.lit/firstwitch", "coven@chat.shakespeare.lit/secondwitch", true, false},
		{"MUC another room", "coven@chat.shakespeare.lit/firstwitch", "other@chat.shakespeare.lit/firstwitch", true, false},
		{"MUC bare room JID is no occupant", "coven@chat.shakespeare.lit", "coven@chat.shakespeare.lit", true, false},
	}
	for _, tt := range tests {
		if got := correction.ValidCorrection(jid.MustParse(tt.original), jid.MustParse(tt.correction), tt.isMUC); got != tt.want {
			t.Errorf("%s: ValidCorrection(%s, %s, %v) = %v", tt.name, tt.original, tt.correction, tt.isMUC, got)
		}
	}
	if correction.ValidCorrection(jid.JID{}, jid.JID{}, false) || correction.ValidCorrection(jid.JID{}, jid.JID{}, true) {
		t.Error("zero JIDs prove nothing")
	}
}

func TestSameOccupant(t *testing.T) {
	if !correction.SameOccupant("dd72603deec90a38ba552f7c68cbcc61bca202cd", "dd72603deec90a38ba552f7c68cbcc61bca202cd") {
		t.Error("equal occupant ids")
	}
	if correction.SameOccupant("a", "b") || correction.SameOccupant("", "") || correction.SameOccupant("a", "") {
		t.Error("different or missing occupant ids")
	}
}
