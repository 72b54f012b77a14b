package mds_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/mds"
	"github.com/tern-im/tern/protocol/sid"
	"github.com/tern-im/tern/protocol/stanza"
)

// XEP-0490 §4.4, example 3: the items of the node.
const example3 = `<iq xmlns='jabber:client' type='result' to='juliet@capulet.lit/balcony' id='catchup-1'>
  <pubsub xmlns='http://jabber.org/protocol/pubsub'>
    <items node='urn:xmpp:mds:displayed:0'>
      <item id='romeo@montegue.lit'>
        <displayed xmlns='urn:xmpp:mds:displayed:0'>
          <stanza-id xmlns='urn:xmpp:sid:0' id='0f710f2b-52ed-4d52-b928-784dad74a52b' by='juliet@capulet.lit'/>
        </displayed>
      </item>
      <item id='example@conference.shakespeare.lit'>
        <displayed xmlns='urn:xmpp:mds:displayed:0'>
          <stanza-id xmlns='urn:xmpp:sid:0' id='ca21deaf-812c-48f1-8f16-339a674f2864' by='example@conference.shakespeare.lit'/>
        </displayed>
      </item>
    </items>
  </pubsub>
</iq>`

// XEP-0490 §4.5, the last example: a notification.
const notification = `<message xmlns='jabber:client' from='juliet@capulet.lit' to='juliet@capulet.lit/balcony' type='headline' id='new-displayed-pep-event'>
  <event xmlns='http://jabber.org/protocol/pubsub#event'>
    <items node='urn:xmpp:mds:displayed:0'>
      <item id='romeo@montegue.lit'>
        <displayed xmlns='urn:xmpp:mds:displayed:0'>
          <stanza-id xmlns='urn:xmpp:sid:0' by='juliet@capulet.lit' id='0423e3a9-d516-493d-bb06-bee0e51ab9fb'/>
        </displayed>
      </item>
    </items>
  </event>
</message>`

func parse(t testing.TB, raw string) *xmlstream.Element {
	t.Helper()
	el, err := xmlstream.Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return el
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want []mds.Displayed
		err  error
	}{
		{"items result", example3, []mds.Displayed{
			{Chat: jid.MustParse("romeo@montegue.lit"), StanzaID: sid.StanzaID{ID: "0f710f2b-52ed-4d52-b928-784dad74a52b", By: jid.MustParse("juliet@capulet.lit")}},
			{Chat: jid.MustParse("example@conference.shakespeare.lit"), StanzaID: sid.StanzaID{ID: "ca21deaf-812c-48f1-8f16-339a674f2864", By: jid.MustParse("example@conference.shakespeare.lit")}},
		}, nil},
		{"notification", notification, []mds.Displayed{
			{Chat: jid.MustParse("romeo@montegue.lit"), StanzaID: sid.StanzaID{ID: "0423e3a9-d516-493d-bb06-bee0e51ab9fb", By: jid.MustParse("juliet@capulet.lit")}},
		}, nil},
		{"other node", strings.Replace(notification, "urn:xmpp:mds:displayed:0'>\n      <item", "urn:xmpp:avatar:metadata'>\n      <item", 1), nil, mds.ErrMalformed},
		{"no items", `<iq xmlns='jabber:client' type='result'/>`, nil, mds.ErrMalformed},
		{"two stanza-ids skipped", `<message xmlns='jabber:client'><event xmlns='http://jabber.org/protocol/pubsub#event'><items node='urn:xmpp:mds:displayed:0'>` +
			`<item id='a@b'><displayed xmlns='urn:xmpp:mds:displayed:0'><stanza-id xmlns='urn:xmpp:sid:0' id='1' by='c@d'/><stanza-id xmlns='urn:xmpp:sid:0' id='2' by='c@d'/></displayed></item>` +
			`<item id='not a jid@@'><displayed xmlns='urn:xmpp:mds:displayed:0'><stanza-id xmlns='urn:xmpp:sid:0' id='1' by='c@d'/></displayed></item>` +
			`<item id='e@f'><displayed xmlns='urn:xmpp:mds:displayed:0'><stanza-id xmlns='urn:xmpp:sid:0' id='3' by='c@d'/></displayed></item>` +
			`</items></event></message>`,
			[]mds.Displayed{{Chat: jid.MustParse("e@f"), StanzaID: sid.StanzaID{ID: "3", By: jid.MustParse("c@d")}}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mds.Parse(parse(t, tt.raw))
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("item %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

// TestPublishRoundTrip: the publication (XEP-0490 §4.2, example 1) carries
// the item and the publish-options the XEP requires, and its item reads
// back.
func TestPublishRoundTrip(t *testing.T) {
	d := mds.Displayed{Chat: jid.MustParse("romeo@montegue.lit"), StanzaID: sid.StanzaID{ID: "0f710f2b-52ed-4d52-b928-784dad74a52b", By: jid.MustParse("juliet@capulet.lit")}}
	iq := mds.Publish(d)
	s := iq.String()
	for _, want := range []string{"type=\"set\"", "urn:xmpp:mds:displayed:0", "romeo@montegue.lit", "pubsub#access_model", "whitelist",
		"pubsub#max_items", "max", "pubsub#persist_items", "pubsub#send_last_published_item", "never"} {
		if !strings.Contains(strings.ReplaceAll(s, "'", "\""), want) {
			t.Errorf("publish lacks %q: %s", want, s)
		}
	}
	// As the server would echo it in a notification.
	pub := iq.Child("http://jabber.org/protocol/pubsub", "pubsub").Child("http://jabber.org/protocol/pubsub", "publish")
	ev := xmlstream.New("jabber:client", "message").Append(
		xmlstream.New("http://jabber.org/protocol/pubsub#event", "event").Append(
			xmlstream.New("http://jabber.org/protocol/pubsub#event", "items", "node", mds.Node).Append(
				xmlstream.New("http://jabber.org/protocol/pubsub#event", "item", "id", d.Chat.String()).Append(
					pub.Children[0].Children[0]))))
	if !mds.IsNotification(ev) {
		t.Fatal("not recognised as a notification")
	}
	got, err := mds.Parse(ev)
	if err != nil || len(got) != 1 || got[0] != d {
		t.Fatalf("Parse = %+v, %v", got, err)
	}
	if r := mds.ItemsRequest(); r.Child("http://jabber.org/protocol/pubsub", "pubsub").Child("http://jabber.org/protocol/pubsub", "items").Get("node") != mds.Node {
		t.Errorf("items request: %s", r)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(example3))
	f.Add([]byte(notification))
	f.Fuzz(func(t *testing.T, data []byte) {
		el, err := xmlstream.Parse(data)
		if err != nil {
			return
		}
		items, err := mds.Parse(el)
		if err != nil && len(items) > 0 {
			t.Fatal("items with an error")
		}
		for _, d := range items {
			if d.Chat.IsZero() || d.StanzaID.ID == "" || d.StanzaID.By.IsZero() {
				t.Fatalf("invalid item %+v", d)
			}
		}
	})
}

// fields returns the var=value pairs of the data form under parent.
func fields(t testing.TB, parent *xmlstream.Element) map[string]string {
	t.Helper()
	if parent == nil {
		t.Fatal("no form parent")
	}
	x := parent.Child("jabber:x:data", "x")
	if x == nil || x.Get("type") != "submit" {
		t.Fatalf("no submitted form in %s", parent)
	}
	out := map[string]string{}
	for _, f := range x.Children {
		if v := f.Child("jabber:x:data", "value"); v != nil {
			out[f.Get("var")] = v.Text
		}
	}
	return out
}

// TestNodeConfigFallback: the requests of the node-config fallback carry
// the configuration XEP-0490 §4.2 requires (Configure: XEP-0060 §8.2.4;
// CreateConfigured: §8.1.3), and PublishPrivate the XEP-0223 §3
// preconditions only.
func TestNodeConfigFallback(t *testing.T) {
	const (
		nsPS    = "http://jabber.org/protocol/pubsub"
		nsOwner = nsPS + "#owner"
	)
	full := map[string]string{
		"FORM_TYPE":                       nsPS + "#node_config",
		"pubsub#persist_items":            "true",
		"pubsub#max_items":                "max",
		"pubsub#send_last_published_item": "never",
		"pubsub#access_model":             "whitelist",
	}
	check := func(name string, got, want map[string]string) {
		t.Helper()
		if len(got) != len(want) {
			t.Errorf("%s: fields %v, want %v", name, got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: %s = %q, want %q", name, k, got[k], v)
			}
		}
	}

	cfg := mds.Configure()
	if cfg.Get("type") != "set" {
		t.Errorf("configure: %s", cfg)
	}
	c := cfg.Child(nsOwner, "pubsub").Child(nsOwner, "configure")
	if c == nil || c.Get("node") != mds.Node {
		t.Fatalf("configure: %s", cfg)
	}
	check("configure", fields(t, c), full)

	cr := mds.CreateConfigured()
	ps := cr.Child(nsPS, "pubsub")
	if cr.Get("type") != "set" || ps == nil || ps.Child(nsPS, "create") == nil || ps.Child(nsPS, "create").Get("node") != mds.Node {
		t.Fatalf("create: %s", cr)
	}
	check("create", fields(t, ps.Child(nsPS, "configure")), full)

	d := mds.Displayed{Chat: jid.MustParse("romeo@montegue.lit"), StanzaID: sid.StanzaID{ID: "x1", By: jid.MustParse("juliet@capulet.lit")}}
	pp := mds.PublishPrivate(d).Child(nsPS, "pubsub")
	check("publish private", fields(t, pp.Child(nsPS, "publish-options")), map[string]string{
		"FORM_TYPE":            nsPS + "#publish-options",
		"pubsub#persist_items": "true",
		"pubsub#access_model":  "whitelist",
	})
	pub := mds.Publish(d).Child(nsPS, "pubsub")
	opts := fields(t, pub.Child(nsPS, "publish-options"))
	full["FORM_TYPE"] = nsPS + "#publish-options"
	check("publish", opts, full)
	// Both publish the same item.
	for _, p := range []*xmlstream.Element{pp, pub} {
		it := p.Child(nsPS, "publish").Child(nsPS, "item")
		if it == nil || it.Get("id") != "romeo@montegue.lit" || it.Child(mds.NS, "displayed") == nil {
			t.Errorf("item: %s", p)
		}
	}
}

// TestOptionsRefused: which answers to a publication send the client to
// the node-config fallback.
func TestOptionsRefused(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{&stanza.Error{Condition: stanza.CondResourceConstraint, Text: "Unknown field 'pubsub#max_items' of type 'http://jabber.org/protocol/pubsub#publish-options'"}, true},
		{fmt.Errorf("publish: %w", &stanza.Error{Type: "cancel", Condition: stanza.CondConflict}), true},
		{&stanza.Error{Condition: stanza.CondBadRequest}, true},
		{&stanza.Error{Condition: stanza.CondNotAcceptable}, true},
		{&stanza.Error{Condition: stanza.CondPolicyViolation}, true},
		{&stanza.Error{Condition: stanza.CondFeatureNotImplemented}, true},
		{&stanza.Error{Condition: stanza.CondForbidden}, false},
		{&stanza.Error{Condition: stanza.CondServiceUnavailable}, false},
		{&stanza.Error{Condition: stanza.CondItemNotFound}, false},
		{context.DeadlineExceeded, false},
		{nil, false},
	} {
		if got := mds.OptionsRefused(tt.err); got != tt.want {
			t.Errorf("OptionsRefused(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
