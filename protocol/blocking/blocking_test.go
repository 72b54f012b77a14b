package blocking_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/tern-im/tern/protocol/blocking"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/stanza"
)

func parse(t testing.TB, s string) *xmlstream.Element {
	t.Helper()
	el, err := xmlstream.Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return el
}

var (
	romeo = jid.MustParse("romeo@montague.net")
	iago  = jid.MustParse("iago@shakespeare.lit")
)

func TestParseList(t *testing.T) {
	tests := []struct {
		name, xml string
		want      blocking.List
		err       error
	}{
		// XEP-0191 Example 4: Server returns blocklist with items.
		{"items", `<iq type='result' id='blocklist1'>
  <blocklist xmlns='urn:xmpp:blocking'>
    <item jid='romeo@montague.net'/>
    <item jid='iago@shakespeare.lit'/>
  </blocklist>
</iq>`, blocking.List{romeo, iago}, nil},
		// XEP-0191 Example 5: Server returns empty blocklist.
		{"empty", `<iq type='result' id='blocklist1'>
  <blocklist xmlns='urn:xmpp:blocking'/>
</iq>`, nil, nil},
		{"invalid items skipped", `<blocklist xmlns='urn:xmpp:blocking'><item/><item jid='@x'/><item jid='romeo@montague.net'/></blocklist>`, blocking.List{romeo}, nil},
		{"not a blocklist", `<iq type='result' id='x'/>`, nil, blocking.ErrMalformed},
		{"too many", `<blocklist xmlns='urn:xmpp:blocking'>` + strings.Repeat(`<item jid='a.lit'/>`, blocking.MaxItems+1) + `</blocklist>`, nil, blocking.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := blocking.ParseList(parse(t, tt.xml))
			if !errors.Is(err, tt.err) || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v, %v; want %v, %v", got, err, tt.want, tt.err)
			}
		})
	}
}

func TestParseCommand(t *testing.T) {
	tests := []struct {
		name, xml string
		want      blocking.Command
		err       error
	}{
		// XEP-0191 Example 8: Block "push".
		{"block push", `<iq to='juliet@capulet.com/chamber' type='set' id='push1'>
  <block xmlns='urn:xmpp:blocking'>
    <item jid='romeo@montague.net'/>
  </block>
</iq>`, blocking.Command{Block: true, JIDs: []jid.JID{romeo}}, nil},
		// XEP-0191 Example 12: Unblock "push".
		{"unblock push", `<iq to='juliet@capulet.com/chamber' type='set' id='push3'>
  <unblock xmlns='urn:xmpp:blocking'>
    <item jid='romeo@montague.net'/>
  </unblock>
</iq>`, blocking.Command{JIDs: []jid.JID{romeo}}, nil},
		// XEP-0191 Example 15: Unblock all "push".
		{"unblock all push", `<iq to='juliet@capulet.com/chamber' type='set' id='push5'>
  <unblock xmlns='urn:xmpp:blocking'/>
</iq>`, blocking.Command{}, nil},
		{"block without items", `<block xmlns='urn:xmpp:blocking'/>`, blocking.Command{}, blocking.ErrMalformed},
		{"unblock with only bad items is not unblock-all", `<unblock xmlns='urn:xmpp:blocking'><item jid='@@'/><item/></unblock>`, blocking.Command{}, blocking.ErrMalformed},
		{"other payload", `<iq type='set' id='x'><blocklist xmlns='urn:xmpp:blocking'/></iq>`, blocking.Command{}, blocking.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := blocking.ParseCommand(parse(t, tt.xml))
			if !errors.Is(err, tt.err) || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, %v; want %+v, %v", got, err, tt.want, tt.err)
			}
			if err == nil && got.All() != (tt.name == "unblock all push") {
				t.Errorf("All() = %v", got.All())
			}
		})
	}
}

func TestRequests(t *testing.T) {
	block, err := blocking.Block(romeo)
	if err != nil {
		t.Fatal(err)
	}
	unblock, err := blocking.Unblock(romeo, iago)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		el   *xmlstream.Element
		want string
	}{
		{blocking.ListRequest(), `<iq xmlns='jabber:client' type='get' id=''><blocklist xmlns='urn:xmpp:blocking'/></iq>`},
		{block, `<iq xmlns='jabber:client' type='set' id=''><block xmlns='urn:xmpp:blocking'><item jid='romeo@montague.net'/></block></iq>`},
		{unblock, `<iq xmlns='jabber:client' type='set' id=''><unblock xmlns='urn:xmpp:blocking'><item jid='romeo@montague.net'/><item jid='iago@shakespeare.lit'/></unblock></iq>`},
		{blocking.UnblockAll(), `<iq xmlns='jabber:client' type='set' id=''><unblock xmlns='urn:xmpp:blocking'/></iq>`},
	}
	for _, tt := range tests {
		if got := tt.el.String(); got != tt.want {
			t.Errorf("got  %s\nwant %s", got, tt.want)
		}
	}
	if _, err := blocking.Block(); !errors.Is(err, blocking.ErrNoJIDs) {
		t.Errorf("Block() err = %v", err)
	}
	if _, err := blocking.Unblock(); !errors.Is(err, blocking.ErrNoJIDs) {
		t.Errorf("Unblock() err = %v: an empty unblock would unblock everyone", err)
	}
	if _, err := blocking.Unblock(jid.JID{}); !errors.Is(err, blocking.ErrNoJIDs) {
		t.Errorf("Unblock(zero) err = %v", err)
	}
}

// XEP-0191 §7: JID matching.
func TestMatches(t *testing.T) {
	tests := []struct {
		item, j string
		want    bool
	}{
		{"user@domain.lit/res", "user@domain.lit/res", true},
		{"user@domain.lit/res", "user@domain.lit/other", false},
		{"user@domain.lit/res", "user@domain.lit", false},
		{"user@domain.lit", "user@domain.lit", true},
		{"user@domain.lit", "user@domain.lit/any", true},
		{"user@domain.lit", "other@domain.lit", false},
		{"domain.lit/res", "domain.lit/res", true},
		{"domain.lit/res", "user@domain.lit/res", false},
		{"domain.lit/res", "domain.lit", false},
		{"domain.lit", "domain.lit", true},
		{"domain.lit", "domain.lit/res", true},
		{"domain.lit", "user@domain.lit/res", true},
		{"domain.lit", "user@sub.domain.lit", false},
		{"domain.lit", "user@other.lit", false},
	}
	for _, tt := range tests {
		if got := blocking.Matches(jid.MustParse(tt.item), jid.MustParse(tt.j)); got != tt.want {
			t.Errorf("Matches(%s, %s) = %v, want %v", tt.item, tt.j, got, tt.want)
		}
	}
	if blocking.Matches(jid.JID{}, romeo) {
		t.Error("the zero JID matches")
	}
	l := blocking.List{romeo, jid.MustParse("spam.lit")}
	if !l.Blocked(jid.MustParse("romeo@montague.net/orchard")) || !l.Blocked(jid.MustParse("bot@spam.lit")) || l.Blocked(iago) {
		t.Error("List.Blocked")
	}
}

func TestPushAllowed(t *testing.T) {
	own := jid.MustParse("juliet@capulet.com/chamber")
	for from, want := range map[string]bool{"": true, "juliet@capulet.com": true, "juliet@capulet.com/balcony": false, "capulet.com": false, "romeo@montague.net": false} {
		var j jid.JID
		if from != "" {
			j = jid.MustParse(from)
		}
		if got := blocking.PushAllowed(j, own); got != want {
			t.Errorf("PushAllowed(%q) = %v", from, got)
		}
	}
}

func TestIsBlockedError(t *testing.T) {
	// XEP-0191 Example 9: Error: JID is blocked.
	el := parse(t, `<message xmlns='jabber:client' type='error' from='romeo@montague.net' to='juliet@capulet.com'>
  <body>Can you hear me now?</body>
  <error type='cancel'>
    <not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>
    <blocked xmlns='urn:xmpp:blocking:errors'/>
  </error>
</message>`)
	if !blocking.IsBlockedError(stanza.ParseError(el)) {
		t.Error("blocked error not recognised")
	}
	if blocking.IsBlockedError(&stanza.Error{Condition: stanza.CondNotAcceptable}) || blocking.IsBlockedError(nil) {
		t.Error("plain not-acceptable recognised as blocked")
	}
}

func TestRoundTrip(t *testing.T) {
	l := blocking.List{romeo, iago}
	if got, err := blocking.ParseList(parse(t, l.Element().String())); err != nil || !reflect.DeepEqual(got, l) {
		t.Errorf("list: %v, %v", got, err)
	}
	for _, c := range []blocking.Command{{Block: true, JIDs: []jid.JID{romeo}}, {JIDs: []jid.JID{iago}}, {}} {
		if got, err := blocking.ParseCommand(parse(t, c.Element().String())); err != nil || !reflect.DeepEqual(got, c) {
			t.Errorf("command %+v: %+v, %v", c, got, err)
		}
	}
}
