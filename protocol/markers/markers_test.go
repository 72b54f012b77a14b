package markers_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/markers"
)

func mustParse(t testing.TB, s string) *xmlstream.Element {
	t.Helper()
	e, err := xmlstream.Parse([]byte(s))
	if err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	return e
}

func TestXEPExamples(t *testing.T) {
	// XEP-0333 example 3: Romeo sends a markable message.
	markable := mustParse(t, `<message xmlns='jabber:client' to='juliet@capulet.lit' from='romeo@montegue.lit/orchard' id='the-msg-1'>
  <body>Hi. How are you?</body>
  <markable xmlns='urn:xmpp:chat-markers:0'/>
  <request xmlns='urn:xmpp:receipts'/>
</message>`)
	if !markers.IsMarkable(markable) {
		t.Error("example 3 is markable")
	}
	if _, err := markers.Parse(markable); !errors.Is(err, markers.ErrNoMarker) {
		t.Errorf("Parse(markable) = %v, want ErrNoMarker", err)
	}
	// Example 4: Juliet's displayed marker.
	m, err := markers.Parse(mustParse(t, `<message xmlns='jabber:client' to='romeo@montegue.lit' from='juliet@capulet.let/balcony'>
   <displayed xmlns='urn:xmpp:chat-markers:0' id='the-msg-1'/>
</message>`))
	if err != nil || m != (markers.Marker{Kind: markers.Displayed, ID: "the-msg-1"}) {
		t.Errorf("Parse = %+v, %v", m, err)
	}
	// Examples 5 and 6: a group chat marker refers to the room's stanza-id.
	muc := mustParse(t, `<message xmlns='jabber:client'
    from='coven@chat.shakespeare.lit/firstwitch'
    to='coven@chat.shakespeare.lit'
    id='message-1'
    type='groupchat'>
  <thread>Act IV, Scene I</thread>
  <body>Thrice the brinded cat hath mew'd.</body>
  <markable xmlns='urn:xmpp:chat-markers:0' />
  <stanza-id xmlns='urn:xmpp:sid:0' by='coven@chat.shakespeare.lit' id='39K7ZYIp' />
</message>`)
	if !markers.IsMarkable(muc) {
		t.Error("example 5 is markable")
	}
	m, err = markers.Parse(mustParse(t, `<message xmlns='jabber:client'
    from='coven@chat.shakespeare.lit/secondwitch'
    to='coven@chat.shakespeare.lit'
    id='message-2'
    type='groupchat'>
  <thread>Act IV, Scene I</thread>
  <displayed xmlns='urn:xmpp:chat-markers:0'
            id='39K7ZYIp'/>
</message>`))
	if err != nil || m != (markers.Marker{Kind: markers.Displayed, ID: "39K7ZYIp"}) {
		t.Errorf("Parse(example 6) = %+v, %v", m, err)
	}
}

func TestElement(t *testing.T) {
	if got := markers.Markable().String(); got != `<markable xmlns='urn:xmpp:chat-markers:0'/>` {
		t.Errorf("Markable = %s", got)
	}
	m := markers.Marker{Kind: markers.Displayed, ID: "the-msg-1"}
	if got := m.Element().String(); got != `<displayed xmlns='urn:xmpp:chat-markers:0' id='the-msg-1'/>` {
		t.Errorf("Element = %s", got)
	}
	msg := xmlstream.New("jabber:client", "message").Append(m.Element())
	if back, err := markers.Parse(mustParse(t, msg.String())); err != nil || back != m {
		t.Errorf("round trip = %+v, %v", back, err)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		xml  string
		want markers.Marker
		err  error
	}{
		{`<message xmlns='jabber:client'><received xmlns='urn:xmpp:chat-markers:0' id='a'/></message>`, markers.Marker{Kind: markers.Received, ID: "a"}, nil},
		{`<message xmlns='jabber:client'><acknowledged xmlns='urn:xmpp:chat-markers:0' id='b'/></message>`, markers.Marker{Kind: markers.Acknowledged, ID: "b"}, nil},
		{`<message xmlns='jabber:client'><markable xmlns='urn:xmpp:chat-markers:0'/><displayed xmlns='urn:xmpp:chat-markers:0' id='c'/><displayed xmlns='urn:xmpp:chat-markers:0' id='d'/></message>`, markers.Marker{Kind: markers.Displayed, ID: "c"}, nil},
		{`<message xmlns='jabber:client'><displayed xmlns='urn:xmpp:chat-markers:0'/></message>`, markers.Marker{}, markers.ErrMalformed},
		{`<message xmlns='jabber:client'><displayed xmlns='urn:xmpp:chat-markers:0' id='` + strings.Repeat("x", markers.MaxID+1) + `'/></message>`, markers.Marker{}, markers.ErrMalformed},
		{`<message xmlns='jabber:client' type='error'><displayed xmlns='urn:xmpp:chat-markers:0' id='e'/></message>`, markers.Marker{}, markers.ErrNoMarker},
		{`<message xmlns='jabber:client'><displayed xmlns='urn:xmpp:receipts' id='f'/></message>`, markers.Marker{}, markers.ErrNoMarker},
	}
	for _, tt := range tests {
		got, err := markers.Parse(mustParse(t, tt.xml))
		if got != tt.want || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
			t.Errorf("Parse(%.120s) = %+v, %v; want %+v, %v", tt.xml, got, err, tt.want, tt.err)
		}
	}
	if markers.IsMarkable(mustParse(t, `<message xmlns='jabber:client'><markable xmlns='urn:xmpp:chat-markers:0'/></message>`)) {
		t.Error("a markable message without id cannot be marked")
	}
}
