package disco_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/tern-im/tern/protocol/disco"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/stanza"
)

// XEP-0030 Example 2: Result-set for information request.
const infoResult = `<iq type='result'
    from='plays.shakespeare.lit'
    to='romeo@montague.net/orchard'
    id='info1'>
  <query xmlns='http://jabber.org/protocol/disco#info'>
    <identity
        category='conference'
        type='text'
        name='Play-Specific Chatrooms'/>
    <identity
        category='directory'
        type='chatroom'
        name='Play-Specific Chatrooms'/>
    <feature var='http://jabber.org/protocol/disco#info'/>
    <feature var='http://jabber.org/protocol/disco#items'/>
    <feature var='http://jabber.org/protocol/muc'/>
    <feature var='jabber:iq:register'/>
    <feature var='jabber:iq:search'/>
    <feature var='jabber:iq:time'/>
    <feature var='jabber:iq:version'/>
  </query>
</iq>`

// XEP-0128 Example 1 (result): a server with extended information.
const serverInfo = `<iq type='result'
    from='shakespeare.lit'
    to='capulet.com'
    id='disco1'>
  <query xmlns='http://jabber.org/protocol/disco#info'>
    <identity
        category='server'
        type='im'
        name='shakespeare.lit jabber server'/>
    <feature var='jabber:iq:register'/>
    <x xmlns='jabber:x:data' type='result'>
      <field var='FORM_TYPE' type='hidden'>
        <value>http://jabber.org/network/serverinfo</value>
      </field>
      <field var='c2s_port'>
        <value>5222</value>
      </field>
      <field var='c2s_port_ssl'>
        <value>5223</value>
      </field>
      <field var='http_access'>
        <value>http://shakespeare.lit/jabber</value>
      </field>
      <field var='ip_version'>
        <value>ipv4</value>
        <value>ipv6</value>
      </field>
      <field var='info_url'>
        <value>http://shakespeare.lit/support.php</value>
      </field>
    </x>
  </query>
</iq>`

// XEP-0030 Example 17: Service returns nodes.
const nodesResult = `<iq type='result'
    from='catalog.shakespeare.lit'
    to='romeo@montague.net/orchard'
    id='items2'>
  <query xmlns='http://jabber.org/protocol/disco#items'>
    <item jid='catalog.shakespeare.lit'
          node='books'
          name='Books by and about Shakespeare'/>
    <item jid='catalog.shakespeare.lit'
          node='clothing'
          name='Wear your literary taste with pride'/>
    <item jid='catalog.shakespeare.lit'
          node='music'
          name='Music from the time of Shakespeare'/>
  </query>
</iq>`

func parse(t testing.TB, s string) *xmlstream.Element {
	t.Helper()
	el, err := xmlstream.Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return el
}

func TestParseInfo(t *testing.T) {
	info, err := disco.ParseInfo(parse(t, infoResult))
	if err != nil {
		t.Fatal(err)
	}
	want := disco.Info{
		Identities: []disco.Identity{
			{Category: "conference", Type: "text", Name: "Play-Specific Chatrooms"},
			{Category: "directory", Type: "chatroom", Name: "Play-Specific Chatrooms"},
		},
		Features: []string{disco.NSInfo, disco.NSItems, "http://jabber.org/protocol/muc",
			"jabber:iq:register", "jabber:iq:search", "jabber:iq:time", "jabber:iq:version"},
	}
	if !reflect.DeepEqual(info, want) {
		t.Fatalf("got %+v\nwant %+v", info, want)
	}
	if !info.HasFeature("http://jabber.org/protocol/muc") || info.HasFeature("urn:xmpp:mam:2") {
		t.Error("HasFeature")
	}
	if !info.HasIdentity("conference", "text") || info.HasIdentity("conference", "irc") {
		t.Error("HasIdentity")
	}
}

func TestParseInfoExtended(t *testing.T) {
	info, err := disco.ParseInfo(parse(t, serverInfo))
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Forms) != 1 {
		t.Fatalf("%d forms", len(info.Forms))
	}
	f := info.Form("http://jabber.org/network/serverinfo")
	if f == nil || f.Value("c2s_port") != "5222" || !reflect.DeepEqual(f.Values("ip_version"), []string{"ipv4", "ipv6"}) {
		t.Fatalf("serverinfo form: %+v", f)
	}
	if info.Form("urn:xmpp:dataforms:softwareinfo") != nil {
		t.Error("Form found a form that is not there")
	}
}

func TestParseInfoLenient(t *testing.T) {
	info, err := disco.ParseInfo(parse(t, `<query xmlns='http://jabber.org/protocol/disco#info' node='n'>
		<identity category='client'/><identity type='pc'/>
		<identity category='client' type='pc' xml:lang='en' name='Tern'/>
		<feature/><feature var='a'/><feature var='a'/>
		<x xmlns='jabber:x:data'/><x xmlns='jabber:x:data' type='result'/>
		<feature xmlns='urn:other' var='b'/></query>`))
	if err != nil {
		t.Fatal(err)
	}
	want := disco.Info{Node: "n",
		Identities: []disco.Identity{{Category: "client", Type: "pc", Lang: "en", Name: "Tern"}},
		Features:   []string{"a", "a"},
		Forms:      info.Forms}
	if !reflect.DeepEqual(info, want) || len(info.Forms) != 1 {
		t.Fatalf("got %+v", info)
	}
}

func TestParseItems(t *testing.T) {
	items, err := disco.ParseItems(parse(t, nodesResult))
	if err != nil {
		t.Fatal(err)
	}
	cat := jid.MustParse("catalog.shakespeare.lit")
	want := disco.Items{Items: []disco.Item{
		{JID: cat, Node: "books", Name: "Books by and about Shakespeare"},
		{JID: cat, Node: "clothing", Name: "Wear your literary taste with pride"},
		{JID: cat, Node: "music", Name: "Music from the time of Shakespeare"},
	}}
	if !reflect.DeepEqual(items, want) {
		t.Fatalf("got %+v", items)
	}
	items, err = disco.ParseItems(parse(t, `<query xmlns='http://jabber.org/protocol/disco#items' node='music'><item/><item jid='a@@b'/><item jid='x.lit'/></query>`))
	if err != nil || items.Node != "music" || len(items.Items) != 1 {
		t.Fatalf("lenient items: %+v, %v", items, err)
	}
}

func TestErrors(t *testing.T) {
	many := func(n int, s string) string { return strings.Repeat(s, n) }
	info := func(body string) string {
		return `<query xmlns='http://jabber.org/protocol/disco#info'>` + body + `</query>`
	}
	tests := []struct {
		name, xml string
		items     bool
		err       error
	}{
		{"info: wrong element", `<query xmlns='http://jabber.org/protocol/disco#items'/>`, false, disco.ErrMalformed},
		{"info: iq without query", `<iq xmlns='jabber:client' type='result'/>`, false, disco.ErrMalformed},
		{"items: wrong element", `<query xmlns='http://jabber.org/protocol/disco#info'/>`, true, disco.ErrMalformed},
		{"identities", info(many(disco.MaxIdentities+1, `<identity category='c' type='t'/>`)), false, disco.ErrTooLarge},
		{"features", info(many(disco.MaxFeatures+1, `<feature var='f'/>`)), false, disco.ErrTooLarge},
		{"forms", info(many(disco.MaxForms+1, `<x xmlns='jabber:x:data' type='result'/>`)), false, disco.ErrTooLarge},
		{"items", `<query xmlns='http://jabber.org/protocol/disco#items'>` + many(disco.MaxItems+1, `<item jid='a.lit'/>`) + `</query>`, true, disco.ErrTooLarge},
		{"features at the limit", info(many(disco.MaxFeatures, `<feature var='f'/>`)), false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.items {
				_, err = disco.ParseItems(parse(t, tt.xml))
			} else {
				_, err = disco.ParseInfo(parse(t, tt.xml))
			}
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
		})
	}
}

func TestRequests(t *testing.T) {
	to := jid.MustParse("catalog.shakespeare.lit")
	tests := []struct {
		el   *xmlstream.Element
		want string
	}{
		{disco.InfoRequest(to, ""), `<iq xmlns='jabber:client' type='get' id='' to='catalog.shakespeare.lit'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`},
		{disco.ItemsRequest(to, "music"), `<iq xmlns='jabber:client' type='get' id='' to='catalog.shakespeare.lit'><query xmlns='http://jabber.org/protocol/disco#items' node='music'/></iq>`},
		{disco.InfoRequest(jid.JID{}, "http://tern.im#abc="), `<iq xmlns='jabber:client' type='get' id=''><query xmlns='http://jabber.org/protocol/disco#info' node='http://tern.im#abc='/></iq>`},
	}
	for _, tt := range tests {
		if got := tt.el.String(); got != tt.want {
			t.Errorf("got  %s\nwant %s", got, tt.want)
		}
	}
}

func TestOwnInfoAndAnswer(t *testing.T) {
	info := disco.OwnInfo(disco.Identity{Category: "client", Type: "pc", Name: "Tern"},
		"urn:xmpp:ping", "jabber:iq:version", "", "urn:xmpp:ping", disco.NSInfo)
	want := []string{disco.NSInfo, "jabber:iq:version", "urn:xmpp:ping"}
	if !reflect.DeepEqual(info.Features, want) {
		t.Fatalf("features %q, want %q", info.Features, want)
	}
	capsNode := "https://tern.im#Abc="
	tests := []struct {
		name, req, want string
		err             error
	}{
		{"no node", `<iq xmlns='jabber:client' type='get' id='1' from='a@b.lit/c'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`,
			`<query xmlns='http://jabber.org/protocol/disco#info'><identity category='client' type='pc' name='Tern'/><feature var='http://jabber.org/protocol/disco#info'/><feature var='jabber:iq:version'/><feature var='urn:xmpp:ping'/></query>`, nil},
		{"caps node mirrored", `<iq xmlns='jabber:client' type='get' id='2'><query xmlns='http://jabber.org/protocol/disco#info' node='https://tern.im#Abc='/></iq>`,
			`<query xmlns='http://jabber.org/protocol/disco#info' node='https://tern.im#Abc='><identity category='client' type='pc' name='Tern'/><feature var='http://jabber.org/protocol/disco#info'/><feature var='jabber:iq:version'/><feature var='urn:xmpp:ping'/></query>`, nil},
		{"unknown node", `<iq xmlns='jabber:client' type='get' id='3'><query xmlns='http://jabber.org/protocol/disco#info' node='other'/></iq>`, "", stanza.ErrItemNotFound},
		{"not disco#info", `<iq xmlns='jabber:client' type='get' id='4'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>`, "", stanza.ErrBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := disco.Answer(parse(t, tt.req), info, capsNode)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err == nil && got.String() != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	for _, s := range []string{infoResult, serverInfo,
		`<query xmlns='http://jabber.org/protocol/disco#info' node='x'><identity category='client' type='pc' xml:lang='el' name='Ψ 0.11'/></query>`} {
		info, err := disco.ParseInfo(parse(t, s))
		if err != nil {
			t.Fatal(err)
		}
		again, err := disco.ParseInfo(parse(t, info.Element().String()))
		if err != nil || !reflect.DeepEqual(info, again) {
			t.Errorf("round trip %+v -> %s -> %+v, %v", info, info.Element(), again, err)
		}
	}
	items, err := disco.ParseItems(parse(t, nodesResult))
	if err != nil {
		t.Fatal(err)
	}
	again, err := disco.ParseItems(parse(t, items.Element().String()))
	if err != nil || !reflect.DeepEqual(items, again) {
		t.Errorf("items round trip %+v -> %+v, %v", items, again, err)
	}
}
