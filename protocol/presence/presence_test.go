package presence_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/presence"
	"github.com/tern-im/tern/protocol/stanza"
)

func parse(t testing.TB, s string) presence.Presence {
	t.Helper()
	el, err := xmlstream.Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	p, err := presence.Parse(el)
	if err != nil {
		t.Fatalf("Parse(%s): %v", s, err)
	}
	return p
}

func TestParse(t *testing.T) {
	romeo := jid.MustParse("romeo@example.net/orchard")
	juliet := jid.MustParse("juliet@example.com/balcony")
	tests := []struct {
		name, xml string
		want      presence.Presence
	}{
		// RFC 6121 §4.2.1: initial presence.
		{"initial", `<presence xmlns='jabber:client'/>`, presence.Presence{}},
		// RFC 6121 §4.7.2: show, status alternatives and priority.
		{"full", `<presence xmlns='jabber:client' from='romeo@example.net/orchard' xml:lang='en'>
  <show>dnd</show>
  <status>Wooing Juliet</status>
  <status xml:lang='cs'>Dvo&#x0159;&#x00ED;m se Julii</status>
  <priority>1</priority>
</presence>`, presence.Presence{From: romeo, Lang: "en", Show: presence.ShowDND, Priority: 1,
			Status: map[string]string{"": "Wooing Juliet", "cs": "Dvořím se Julii"}}},
		// RFC 6121 §4.5.2: unavailable presence with a status.
		{"unavailable", `<presence xmlns='jabber:client' from='juliet@example.com/balcony' type='unavailable'><status>gone home</status></presence>`,
			presence.Presence{From: juliet, Type: presence.TypeUnavailable, Status: map[string]string{"": "gone home"}}},
		// RFC 6121 §3.1.1: a subscription request.
		{"subscribe", `<presence xmlns='jabber:client' id='xk3h1v69' to='juliet@example.com' type='subscribe'/>`,
			presence.Presence{ID: "xk3h1v69", To: jid.MustParse("juliet@example.com"), Type: presence.TypeSubscribe}},
		{"lenient", `<presence xmlns='jabber:client'><show>sleeping</show><show>away</show><priority> 300 </priority><priority>2</priority>
			<status xml:lang='en'>a</status><status xml:lang='en'>b</status></presence>`,
			presence.Presence{Priority: 127, Status: map[string]string{"en": "a"}}},
		{"negative clamp", `<presence xmlns='jabber:client'><priority>-99999999999999999999999</priority></presence>`, presence.Presence{Priority: -128}},
		{"garbage priority", `<presence xmlns='jabber:client'><priority>high</priority></presence>`, presence.Presence{}},
		{"range ends", `<presence xmlns='jabber:client'><priority>-128</priority></presence>`, presence.Presence{Priority: -128}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parse(t, tt.xml); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseExtensionsAndError(t *testing.T) {
	p := parse(t, `<presence xmlns='jabber:client' from='romeo@example.net/orchard'>
  <c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='http://code.google.com/p/exodus' ver='QgayPKawpkPSDYmwT/WM94uAlu0='/>
  <x xmlns='vcard-temp:x:update'><photo>01b87fcd030b72895ff8e88db57ec525450f000d</photo></x>
</presence>`)
	if len(p.Extensions) != 2 || p.Extension("vcard-temp:x:update", "x") == nil || p.Extension("urn:x", "x") != nil {
		t.Fatalf("extensions: %v", p.Extensions)
	}
	if c := p.Extension("http://jabber.org/protocol/caps", "c"); c.Get("hash") != "sha-1" {
		t.Errorf("caps: %s", c)
	}
	// RFC 6121 §4.7.1: a presence error.
	e := parse(t, `<presence xmlns='jabber:client' from='juliet@example.com' to='romeo@example.net/orchard' type='error'>
  <error type='cancel'><remote-server-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>
</presence>`)
	if !errors.Is(e.Error, stanza.ErrRemoteServerNotFound) || len(e.Extensions) != 0 {
		t.Fatalf("error presence: %+v", e)
	}
}

func TestParseErrors(t *testing.T) {
	for _, s := range []string{
		`<message xmlns='jabber:client'/>`,
		`<presence xmlns='urn:other'/>`,
		`<presence xmlns='jabber:client' type='available'/>`,
		`<presence xmlns='jabber:client' from='@bad'/>`,
	} {
		el, err := xmlstream.Parse([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := presence.Parse(el); !errors.Is(err, presence.ErrMalformed) {
			t.Errorf("Parse(%s) err = %v", s, err)
		}
	}
	el, _ := xmlstream.Parse([]byte(`<presence xmlns='jabber:client'>` + strings.Repeat(`<x xmlns='urn:x'/>`, presence.MaxExtensions+1) + `</presence>`))
	if _, err := presence.Parse(el); !errors.Is(err, presence.ErrTooLarge) {
		t.Errorf("too many extensions: %v", err)
	}
}

func TestLimits(t *testing.T) {
	var b strings.Builder
	b.WriteString(`<presence xmlns='jabber:client'>`)
	for i := range presence.MaxStatuses + 5 {
		b.WriteString(`<status xml:lang='l` + strings.Repeat("x", i) + `'>s</status>`)
	}
	b.WriteString(`<status>` + strings.Repeat("é", presence.MaxStatusLen) + `</status></presence>`)
	p := parse(t, b.String())
	if len(p.Status) != presence.MaxStatuses {
		t.Errorf("%d statuses kept", len(p.Status))
	}
	long := parse(t, `<presence xmlns='jabber:client'><status>`+strings.Repeat("é", presence.MaxStatusLen)+`</status></presence>`).Status[""]
	if len(long) != presence.MaxStatusLen || !strings.HasSuffix(long, "é") {
		t.Errorf("long status cut to %d bytes", len(long))
	}
	odd := parse(t, `<presence xmlns='jabber:client'><status>a`+strings.Repeat("é", presence.MaxStatusLen)+`</status></presence>`).Status[""]
	if len(odd) != presence.MaxStatusLen-1 || !strings.HasSuffix(odd, "é") {
		t.Errorf("odd status cut to %d bytes: not on a character boundary", len(odd))
	}
}

func TestClampPriority(t *testing.T) {
	for in, want := range map[int]int8{0: 0, 5: 5, -1: -1, 127: 127, 128: 127, 1 << 40: 127, -128: -128, -129: -128, -1 << 40: -128} {
		if got := presence.ClampPriority(in); got != want {
			t.Errorf("ClampPriority(%d) = %d, want %d", in, got, want)
		}
	}
}

func TestElement(t *testing.T) {
	romeo := jid.MustParse("romeo@example.net/orchard")
	tests := []struct {
		name string
		el   *xmlstream.Element
		want string
	}{
		{"initial", presence.Presence{}.Element(), `<presence xmlns='jabber:client'/>`},
		{"available", presence.Presence{Show: presence.ShowAway, Priority: -1, Lang: "en",
			Status: map[string]string{"cs": "Pryč", "": "Away"}}.Element(),
			`<presence xmlns='jabber:client' xml:lang='en'><show>away</show><status>Away</status><status xml:lang='cs'>Pryč</status><priority>-1</priority></presence>`},
		// RFC 6121 §4.6: directed presence.
		{"directed", presence.Presence{To: romeo}.Element(), `<presence xmlns='jabber:client' to='romeo@example.net/orchard'/>`},
		{"unavailable drops show", presence.Presence{Type: presence.TypeUnavailable, Show: presence.ShowDND}.Element(), `<presence xmlns='jabber:client' type='unavailable'/>`},
		{"subscribe to bare", presence.Subscribe(romeo), `<presence xmlns='jabber:client' type='subscribe' to='romeo@example.net'/>`},
		{"subscribed", presence.Subscribed(romeo), `<presence xmlns='jabber:client' type='subscribed' to='romeo@example.net'/>`},
		{"unsubscribe", presence.Unsubscribe(romeo), `<presence xmlns='jabber:client' type='unsubscribe' to='romeo@example.net'/>`},
		{"unsubscribed", presence.Unsubscribed(romeo), `<presence xmlns='jabber:client' type='unsubscribed' to='romeo@example.net'/>`},
		{"extension", presence.Presence{Extensions: []*xmlstream.Element{xmlstream.New("vcard-temp:x:update", "x")}}.Element(),
			`<presence xmlns='jabber:client'><x xmlns='vcard-temp:x:update'/></presence>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.el.String(); got != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestStatusIn(t *testing.T) {
	p := presence.Presence{Lang: "en", Status: map[string]string{"en": "Wooing", "cs": "Dvořím", "de-AT": "Werben"}}
	tests := []struct {
		prefs []string
		want  string
	}{
		{[]string{"cs"}, "Dvořím"},
		{[]string{"CS", "en"}, "Dvořím"},
		{[]string{"fr", "cs"}, "Dvořím"},
		{[]string{"cs-CZ"}, "Dvořím"},
		{[]string{"de"}, "Werben"},
		{[]string{"fr"}, "Wooing"}, // the stanza's language
		{nil, "Wooing"},
	}
	for _, tt := range tests {
		if got := p.StatusIn(tt.prefs); got != tt.want {
			t.Errorf("StatusIn(%q) = %q, want %q", tt.prefs, got, tt.want)
		}
	}
	if got := (presence.Presence{Status: map[string]string{"": "plain", "cs": "x"}}).StatusIn([]string{"fr"}); got != "plain" {
		t.Errorf("no-lang fallback: %q", got)
	}
	if got := (presence.Presence{Status: map[string]string{"it": "b", "es": "a"}}).StatusIn(nil); got != "a" {
		t.Errorf("any fallback: %q", got)
	}
	if got := (presence.Presence{}).StatusIn([]string{"en"}); got != "" {
		t.Errorf("no status: %q", got)
	}
}

func TestIsSubscription(t *testing.T) {
	for typ, want := range map[string]bool{"subscribe": true, "subscribed": true, "unsubscribe": true, "unsubscribed": true, "": false, "unavailable": false, "probe": false, "error": false} {
		if presence.IsSubscription(typ) != want {
			t.Errorf("IsSubscription(%q) != %v", typ, want)
		}
	}
	if !(presence.Presence{}).Available() || (presence.Presence{Type: presence.TypeUnavailable}).Available() {
		t.Error("Available")
	}
}

func TestRoundTrip(t *testing.T) {
	for _, s := range []string{
		`<presence xmlns='jabber:client' from='romeo@example.net/orchard' xml:lang='en'><show>dnd</show><status>Wooing Juliet</status><status xml:lang='cs'>Dvořím</status><priority>1</priority><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='n' ver='v'/></presence>`,
		`<presence xmlns='jabber:server' type='error' from='a@b.lit'><error type='cancel'><gone xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>xmpp:c@d.lit</gone></error></presence>`,
	} {
		p := parse(t, s)
		again := parse(t, p.Element().String())
		if !reflect.DeepEqual(p, again) {
			t.Errorf("round trip\n%+v\n%+v", p, again)
		}
	}
}
