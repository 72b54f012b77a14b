package receipts_test

import (
	"strings"
	"testing"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/receipts"
)

func mustParse(t testing.TB, s string) *xmlstream.Element {
	t.Helper()
	e, err := xmlstream.Parse([]byte(s))
	if err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	return e
}

// XEP-0184 §5 examples.
const (
	contentMessage = `<message xmlns='jabber:client'
    from='northumberland@shakespeare.lit/westminster'
    id='richard2-4.1.247'
    to='kingrichard@royalty.england.lit/throne'>
  <body>My lord, dispatch; read o'er these articles.</body>
  <request xmlns='urn:xmpp:receipts'/>
</message>`
	ackMessage = `<message xmlns='jabber:client'
    from='kingrichard@royalty.england.lit/throne'
    id='bi29sg183b4v'
    to='northumberland@shakespeare.lit/westminster'>
  <received xmlns='urn:xmpp:receipts' id='richard2-4.1.247'/>
</message>`
)

func TestXEPExamples(t *testing.T) {
	content := mustParse(t, contentMessage)
	if !receipts.Requested(content) {
		t.Error("the content message requests a receipt")
	}
	if _, ok := receipts.ParseReceived(content); ok {
		t.Error("the content message is not a receipt")
	}
	ack := receipts.Answer(content, "bi29sg183b4v")
	want := `<message xmlns='jabber:client' to='northumberland@shakespeare.lit/westminster' id='bi29sg183b4v'><received xmlns='urn:xmpp:receipts' id='richard2-4.1.247'/></message>`
	if got := ack.String(); got != want {
		t.Errorf("Answer =\n%s\nwant\n%s", got, want)
	}
	id, ok := receipts.ParseReceived(mustParse(t, ackMessage))
	if !ok || id != "richard2-4.1.247" {
		t.Errorf("ParseReceived = %q, %v", id, ok)
	}
	if receipts.Requested(mustParse(t, ackMessage)) || receipts.CanRequest(mustParse(t, ackMessage)) {
		t.Error("XEP-0184 §4.4: an ack message must not carry a request")
	}
	// The answer to our own request parses back.
	if id, ok := receipts.ParseReceived(mustParse(t, ack.String())); !ok || id != "richard2-4.1.247" {
		t.Errorf("round trip = %q, %v", id, ok)
	}
}

func TestCanRequestAndRequested(t *testing.T) {
	tests := []struct {
		xml                   string
		canRequest, requested bool
	}{
		{`<message xmlns='jabber:client' id='a' type='chat'><body>x</body><request xmlns='urn:xmpp:receipts'/></message>`, true, true},
		{`<message xmlns='jabber:client' id='a' type='headline'><request xmlns='urn:xmpp:receipts'/></message>`, true, true},
		{`<message xmlns='jabber:client' id='a'><body>normal</body></message>`, true, false},
		{`<message xmlns='jabber:client' type='chat'><request xmlns='urn:xmpp:receipts'/></message>`, false, false},             // no id
		{`<message xmlns='jabber:client' id='a' type='groupchat'><request xmlns='urn:xmpp:receipts'/></message>`, false, false}, // §4.3
		{`<message xmlns='jabber:client' id='a' type='error'><request xmlns='urn:xmpp:receipts'/></message>`, false, false},
		{`<message xmlns='jabber:client' id='a'><received xmlns='urn:xmpp:receipts' id='b'/><request xmlns='urn:xmpp:receipts'/></message>`, false, false},
	}
	for _, tt := range tests {
		el := mustParse(t, tt.xml)
		if got := receipts.CanRequest(el); got != tt.canRequest {
			t.Errorf("CanRequest(%s) = %v", tt.xml, got)
		}
		if got := receipts.Requested(el); got != tt.requested {
			t.Errorf("Requested(%s) = %v", tt.xml, got)
		}
	}
	if receipts.CanRequest(nil) {
		t.Error("CanRequest(nil)")
	}
	if got := receipts.Request().String(); got != `<request xmlns='urn:xmpp:receipts'/>` {
		t.Errorf("Request = %s", got)
	}
}

func TestParseReceived(t *testing.T) {
	tests := []struct {
		xml string
		id  string
		ok  bool
	}{
		{`<message xmlns='jabber:client' type='chat'><received xmlns='urn:xmpp:receipts' id='m1'/></message>`, "m1", true},
		{`<message xmlns='jabber:client' type='groupchat'><received xmlns='urn:xmpp:receipts' id='m1'/></message>`, "m1", true},
		{`<message xmlns='jabber:client'><received xmlns='urn:xmpp:receipts' id=''/></message>`, "", false},
		{`<message xmlns='jabber:client'><received xmlns='urn:xmpp:receipts'/></message>`, "", false},
		{`<message xmlns='jabber:client'><received xmlns='urn:xmpp:receipts' id='` + strings.Repeat("x", receipts.MaxID+1) + `'/></message>`, "", false},
		{`<message xmlns='jabber:client' type='error'><received xmlns='urn:xmpp:receipts' id='m1'/></message>`, "", false},
		{`<message xmlns='jabber:client'><received xmlns='urn:xmpp:chat-markers:0' id='m1'/></message>`, "", false},
	}
	for _, tt := range tests {
		id, ok := receipts.ParseReceived(mustParse(t, tt.xml))
		if id != tt.id || ok != tt.ok {
			t.Errorf("ParseReceived(%.100s) = %q, %v; want %q, %v", tt.xml, id, ok, tt.id, tt.ok)
		}
	}
}

func TestAnswer(t *testing.T) {
	chat := mustParse(t, `<message xmlns='jabber:client' from='a@b/c' id='m' type='chat'><request xmlns='urn:xmpp:receipts'/></message>`)
	if got, want := receipts.Answer(chat, "r").String(), `<message xmlns='jabber:client' to='a@b/c' id='r' type='chat'><received xmlns='urn:xmpp:receipts' id='m'/></message>`; got != want {
		t.Errorf("Answer = %s, want %s", got, want)
	}
	if got := receipts.Answer(mustParse(t, `<message xmlns='jabber:client' id='m'/>`), "r"); got != nil {
		t.Errorf("Answer without from = %s", got)
	}
}

func TestMatches(t *testing.T) {
	tests := []struct {
		to, from string
		want     bool
	}{
		{"romeo@montague.lit", "romeo@montague.lit/orchard", true},
		{"romeo@montague.lit/orchard", "romeo@montague.lit/garden", true},
		{"romeo@montague.lit", "tybalt@capulet.lit/home", false},
	}
	for _, tt := range tests {
		if got := receipts.Matches(jid.MustParse(tt.to), jid.MustParse(tt.from)); got != tt.want {
			t.Errorf("Matches(%s, %s) = %v", tt.to, tt.from, got)
		}
	}
	if receipts.Matches(jid.JID{}, jid.JID{}) {
		t.Error("Matches(zero, zero)")
	}
}
