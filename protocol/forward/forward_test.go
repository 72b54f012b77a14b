package forward_test

import (
	"errors"
	"testing"
	"time"

	"github.com/tern-im/tern/protocol/delay"
	"github.com/tern-im/tern/protocol/forward"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
)

func mustParse(t testing.TB, s string) *xmlstream.Element {
	t.Helper()
	e, err := xmlstream.Parse([]byte(s))
	if err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	return e
}

// xep0297Example2 is XEP-0297 example 2: Romeo forwards Juliet's message.
const xep0297Example2 = `<message to='mercutio@verona.lit' from='romeo@montague.lit/orchard' type='chat' id='28gs' xmlns='jabber:client'>
  <body>A most courteous exposition!</body>
  <forwarded xmlns='urn:xmpp:forward:0'>
    <delay xmlns='urn:xmpp:delay' stamp='2010-07-10T23:08:25Z'/>
    <message from='juliet@capulet.lit/orchard'
             id='0202197'
             to='romeo@montague.lit'
             type='chat'
             xmlns='jabber:client'>
      <body>Yet I should kill thee with much cherishing.</body>
      <mood xmlns='http://jabber.org/protocol/mood'>
        <amorous/>
      </mood>
    </message>
  </forwarded>
</message>`

func TestFindXEPExample(t *testing.T) {
	f, err := forward.Find(mustParse(t, xep0297Example2))
	if err != nil {
		t.Fatal(err)
	}
	if f.Delay == nil || !f.Delay.Stamp.Equal(time.Date(2010, 7, 10, 23, 8, 25, 0, time.UTC)) {
		t.Errorf("Delay = %+v", f.Delay)
	}
	if !f.Stanza.Is("jabber:client", "message") || f.Stanza.Get("id") != "0202197" ||
		f.Stanza.ChildText("jabber:client", "body") != "Yet I should kill thee with much cherishing." ||
		f.Stanza.Child("http://jabber.org/protocol/mood", "mood") == nil {
		t.Errorf("Stanza = %s", f.Stanza)
	}

	// Parse → Element → Parse keeps the stanza and the delay.
	back, err := forward.Parse(mustParse(t, f.Element().String()))
	if err != nil {
		t.Fatal(err)
	}
	if back.Stanza.String() != f.Stanza.String() || back.Delay == nil || !back.Delay.Stamp.Equal(f.Delay.Stamp) {
		t.Errorf("round trip = %s / %+v", back.Stanza, back.Delay)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name      string
		xml       string
		err       bool
		wantDelay bool
		wantID    string
	}{
		{
			name:   "no delay is fine",
			xml:    `<forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' id='a'/></forwarded>`,
			wantID: "a",
		},
		{
			name:   "jabber:server stanza",
			xml:    `<forwarded xmlns='urn:xmpp:forward:0'><presence xmlns='jabber:server' id='p'/></forwarded>`,
			wantID: "p",
		},
		{
			name:   "an invalid delay is dropped",
			xml:    `<forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='later'/><message xmlns='jabber:client' id='b'/></forwarded>`,
			wantID: "b",
		},
		{
			name:      "the first stanza and the first valid delay win",
			xml:       `<forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2010-07-10T23:08:25Z'/><delay xmlns='urn:xmpp:delay' stamp='2011-07-10T23:08:25Z'/><message xmlns='jabber:client' id='c1'/><message xmlns='jabber:client' id='c2'/></forwarded>`,
			wantDelay: true,
			wantID:    "c1",
		},
		{
			name: "XEP-0297 §3.2: a message that inherited the forward namespace",
			xml:  `<forwarded xmlns='urn:xmpp:forward:0'><message id='d'/></forwarded>`,
			err:  true,
		},
		{
			name: "no stanza",
			xml:  `<forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2010-07-10T23:08:25Z'/></forwarded>`,
			err:  true,
		},
		{
			name: "not a stanza",
			xml:  `<forwarded xmlns='urn:xmpp:forward:0'><body xmlns='jabber:client'>hi</body></forwarded>`,
			err:  true,
		},
		{
			name: "wrong element",
			xml:  `<forward xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client'/></forward>`,
			err:  true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := forward.Parse(mustParse(t, tt.xml))
			if tt.err {
				if !errors.Is(err, forward.ErrMalformed) {
					t.Fatalf("Parse = %+v, %v; want ErrMalformed", f, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (f.Delay != nil) != tt.wantDelay || f.Stanza.Get("id") != tt.wantID {
				t.Fatalf("Parse = delay %+v, stanza %s", f.Delay, f.Stanza)
			}
			if tt.wantDelay && !f.Delay.Stamp.Equal(time.Date(2010, 7, 10, 23, 8, 25, 0, time.UTC)) {
				t.Fatalf("Delay = %+v, want the first one", f.Delay)
			}
		})
	}
}

func TestElement(t *testing.T) {
	d := delay.Delay{Stamp: time.Date(2010, 7, 10, 23, 8, 25, 0, time.UTC)}
	msg := xmlstream.New("jabber:client", "message", "id", "x").Append(xmlstream.New("jabber:client", "body").SetText("hi"))
	got := forward.Forwarded{Delay: &d, Stanza: msg}.Element().String()
	want := "<forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2010-07-10T23:08:25Z'/><message xmlns='jabber:client' id='x'><body>hi</body></message></forwarded>"
	if got != want {
		t.Errorf("Element =\n%s\nwant\n%s", got, want)
	}
	if _, err := forward.Parse(forward.Forwarded{}.Element()); !errors.Is(err, forward.ErrMalformed) {
		t.Errorf("empty wrapper parses: %v", err)
	}
}

func TestFindMissing(t *testing.T) {
	for _, parent := range []*xmlstream.Element{nil, mustParse(t, `<received xmlns='urn:xmpp:carbons:2'/>`)} {
		if _, err := forward.Find(parent); !errors.Is(err, forward.ErrMalformed) {
			t.Errorf("Find(%s) = %v, want ErrMalformed", parent, err)
		}
	}
}
