package chatstates_test

import (
	"errors"
	"testing"

	"github.com/tern-im/tern/protocol/chatstates"
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

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		xml  string
		want chatstates.State
		err  error
	}{
		{
			name: "XEP-0085 example 3: content message with active",
			xml: `<message xmlns='jabber:client' from='bernardo@shakespeare.lit/pda' to='francisco@shakespeare.lit' type='chat'>
  <body>Who's there?</body>
  <active xmlns='http://jabber.org/protocol/chatstates'/>
</message>`,
			want: chatstates.Active,
		},
		{
			name: "XEP-0085 example 5: standalone composing",
			xml: `<message xmlns='jabber:client' from='bernardo@shakespeare.lit/pda' to='francisco@shakespeare.lit/elsinore' type='chat'>
  <composing xmlns='http://jabber.org/protocol/chatstates'/>
</message>`,
			want: chatstates.Composing,
		},
		{
			name: "XEP-0085 example 11: paused with thread",
			xml: `<message xmlns='jabber:client' from='romeo@montague.net/orchard' to='juliet@capulet.com/balcony' type='chat'>
  <thread>act2scene2chat1</thread>
  <paused xmlns='http://jabber.org/protocol/chatstates'/>
</message>`,
			want: chatstates.Paused,
		},
		{
			name: "XEP-0085 example 15: inactive",
			xml:  `<message xmlns='jabber:client' type='chat'><thread>act2scene2chat1</thread><inactive xmlns='http://jabber.org/protocol/chatstates'/></message>`,
			want: chatstates.Inactive,
		},
		{
			name: "XEP-0085 example 18: gone",
			xml:  `<message xmlns='jabber:client' type='chat'><thread>act2scene2chat1</thread><gone xmlns='http://jabber.org/protocol/chatstates'/></message>`,
			want: chatstates.Gone,
		},
		{name: "none", xml: `<message xmlns='jabber:client'><body>hi</body></message>`},
		{name: "unknown element ignored", xml: `<message xmlns='jabber:client'><typing xmlns='http://jabber.org/protocol/chatstates'/></message>`},
		{name: "error message", xml: `<message xmlns='jabber:client' type='error'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>`},
		{
			name: "XEP-0085 §5.5: two states",
			xml:  `<message xmlns='jabber:client'><active xmlns='http://jabber.org/protocol/chatstates'/><composing xmlns='http://jabber.org/protocol/chatstates'/></message>`,
			err:  chatstates.ErrMalformed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := chatstates.Parse(mustParse(t, tt.xml))
			if got != tt.want || !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
				t.Fatalf("Parse = %q, %v; want %q, %v", got, err, tt.want, tt.err)
			}
		})
	}
}

func TestElementRoundTrip(t *testing.T) {
	for _, s := range []chatstates.State{chatstates.Active, chatstates.Composing, chatstates.Paused, chatstates.Inactive, chatstates.Gone} {
		if !s.Valid() {
			t.Errorf("%q not valid", s)
		}
		msg := xmlstream.New("jabber:client", "message", "type", "chat").Append(s.Element())
		if got := s.Element().String(); got != "<"+string(s)+" xmlns='http://jabber.org/protocol/chatstates'/>" {
			t.Errorf("Element = %s", got)
		}
		if got, err := chatstates.Parse(mustParse(t, msg.String())); got != s || err != nil {
			t.Errorf("round trip %q = %q, %v", s, got, err)
		}
	}
	if chatstates.State("typing").Valid() || chatstates.State("").Valid() {
		t.Error("invalid states reported valid")
	}
}

func TestIgnore(t *testing.T) {
	if !chatstates.Ignore(chatstates.Gone, "groupchat") {
		t.Error("gone in a group chat must be ignored")
	}
	if chatstates.Ignore(chatstates.Gone, "chat") || chatstates.Ignore(chatstates.Composing, "groupchat") {
		t.Error("only gone in a group chat is ignored")
	}
}
