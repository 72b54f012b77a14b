package roster_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/roster"
)

func parse(t testing.TB, s string) *xmlstream.Element {
	t.Helper()
	el, err := xmlstream.Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return el
}

// RFC 6121 §2.1.4: the roster result (with the version of §2.6).
const rosterResult = `<iq xmlns='jabber:client' id='bv1bs71f'
       to='juliet@example.com/chamber'
       type='result'>
     <query xmlns='jabber:iq:roster' ver='ver11'>
       <item jid='romeo@example.net'
             name='Romeo'
             subscription='both'>
         <group>Friends</group>
       </item>
       <item jid='mercutio@example.com'
             name='Mercutio'
             subscription='from'/>
       <item jid='benvolio@example.net'
             name='Benvolio'
             subscription='both'/>
     </query>
   </iq>`

func TestParseResult(t *testing.T) {
	q, cached, err := roster.ParseResult(parse(t, rosterResult))
	if err != nil || cached {
		t.Fatalf("ParseResult: cached=%v err=%v", cached, err)
	}
	want := roster.Query{Ver: "ver11", Items: []roster.Item{
		{JID: jid.MustParse("romeo@example.net"), Name: "Romeo", Subscription: roster.SubBoth, Groups: []string{"Friends"}},
		{JID: jid.MustParse("mercutio@example.com"), Name: "Mercutio", Subscription: roster.SubFrom},
		{JID: jid.MustParse("benvolio@example.net"), Name: "Benvolio", Subscription: roster.SubBoth},
	}}
	if !reflect.DeepEqual(q, want) {
		t.Fatalf("got %+v\nwant %+v", q, want)
	}

	// RFC 6121 §2.6.3: an empty result means "use the cached roster".
	q, cached, err = roster.ParseResult(parse(t, `<iq xmlns='jabber:client' from='juliet@example.com' id='r1h3vzp7' to='juliet@example.com/balcony' type='result'/>`))
	if err != nil || !cached || q.Items != nil {
		t.Fatalf("empty result: %+v cached=%v err=%v", q, cached, err)
	}
	if _, _, err := roster.ParseResult(parse(t, `<iq xmlns='jabber:client' type='error' id='x'/>`)); !errors.Is(err, roster.ErrMalformed) {
		t.Errorf("error result: %v", err)
	}
}

func TestParseItems(t *testing.T) {
	q, err := roster.Parse(parse(t, `<query xmlns='jabber:iq:roster'>
		<item ask='subscribe' jid='juliet@example.com' subscription='none'/>
		<item jid='romeo@example.net' subscription='none' approved='true'/>
		<item jid='nurse@example.com' subscription='weird'><group/><group>A</group><group>A</group><group>B</group></item>
		<item jid='@bad'/><item name='no jid'/>
		<item jid='tybalt@example.com' subscription='remove'/>
	</query>`))
	if err != nil {
		t.Fatal(err)
	}
	want := []roster.Item{
		{JID: jid.MustParse("juliet@example.com"), Subscription: roster.SubNone, Ask: true},
		{JID: jid.MustParse("romeo@example.net"), Subscription: roster.SubNone, Approved: true},
		{JID: jid.MustParse("nurse@example.com"), Subscription: roster.SubNone, Groups: []string{"A", "B"}},
		{JID: jid.MustParse("tybalt@example.com"), Subscription: roster.SubRemove},
	}
	if !reflect.DeepEqual(q.Items, want) {
		t.Fatalf("got %+v\nwant %+v", q.Items, want)
	}
}

func TestLimits(t *testing.T) {
	tests := []struct {
		name, xml string
		err       error
	}{
		{"items", `<query xmlns='jabber:iq:roster'>` + strings.Repeat(`<item jid='a@b.lit'/>`, roster.MaxItems+1) + `</query>`, roster.ErrTooLarge},
		{"groups", `<query xmlns='jabber:iq:roster'><item jid='a@b.lit'>` + groups(roster.MaxGroups+1) + `</item></query>`, roster.ErrTooLarge},
		{"group name", `<query xmlns='jabber:iq:roster'><item jid='a@b.lit'><group>` + strings.Repeat("g", roster.MaxTextLen+1) + `</group></item></query>`, roster.ErrTooLarge},
		{"item name", `<query xmlns='jabber:iq:roster'><item jid='a@b.lit' name='` + strings.Repeat("n", roster.MaxTextLen+1) + `'/></query>`, roster.ErrTooLarge},
		{"at the limits", `<query xmlns='jabber:iq:roster'><item jid='a@b.lit' name='` + strings.Repeat("n", roster.MaxTextLen) + `'>` + groups(roster.MaxGroups) + `</item></query>`, nil},
		{"not a roster", `<query xmlns='jabber:iq:private'/>`, roster.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := roster.Parse(parse(t, tt.xml)); !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
		})
	}
}

func groups(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString("<group>g" + strings.Repeat("x", i) + "</group>")
	}
	return b.String()
}

func distinctGroups(n int) []string {
	var gs []string
	for i := range n {
		gs = append(gs, "g"+strings.Repeat("x", i))
	}
	return gs
}

func TestRequests(t *testing.T) {
	nurse := jid.MustParse("nurse@example.com")
	set, err := roster.Set(roster.Item{JID: nurse, Name: "Nurse", Subscription: roster.SubBoth, Ask: true, Approved: true,
		Groups: []string{"Servants", "", "Servants", "Friends"}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		el   *xmlstream.Element
		want string
	}{
		{"get without versioning", roster.Get("", false), `<iq xmlns='jabber:client' type='get' id=''><query xmlns='jabber:iq:roster'/></iq>`},
		// RFC 6121 §2.6.2: ver='' asks for the roster with versioning.
		{"get, nothing cached", roster.Get("", true), `<iq xmlns='jabber:client' type='get' id=''><query xmlns='jabber:iq:roster' ver=''/></iq>`},
		{"get, cached", roster.Get("ver14", true), `<iq xmlns='jabber:client' type='get' id=''><query xmlns='jabber:iq:roster' ver='ver14'/></iq>`},
		// No ask, approved or subscription in a set (§2.1.2).
		{"set", set, `<iq xmlns='jabber:client' type='set' id=''><query xmlns='jabber:iq:roster'><item jid='nurse@example.com' name='Nurse'><group>Servants</group><group>Friends</group></item></query></iq>`},
		{"remove", roster.Remove(nurse), `<iq xmlns='jabber:client' type='set' id=''><query xmlns='jabber:iq:roster'><item jid='nurse@example.com' subscription='remove'/></query></iq>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.el.String(); got != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
	if _, err := roster.Set(roster.Item{JID: nurse, Groups: strings.Split(strings.Repeat("g,", roster.MaxGroups)+"last", ",")}); err != nil {
		t.Errorf("Set with many duplicate groups: %v", err)
	}
	for _, bad := range []roster.Item{
		{},
		{JID: nurse, Name: strings.Repeat("n", roster.MaxTextLen+1)},
		{JID: nurse, Groups: distinctGroups(roster.MaxGroups + 1)},
	} {
		if _, err := roster.Set(bad); !errors.Is(err, roster.ErrInvalidItem) {
			t.Errorf("Set(%.40v) err = %v", bad, err)
		}
	}
}

func TestPush(t *testing.T) {
	juliet := jid.MustParse("juliet@example.com/balcony")
	tests := []struct {
		name, xml string
		want      roster.Item
		ver       string
		err       error
	}{
		// RFC 6121 §2.1.6 (with the version of §2.6.3).
		{"push", `<iq xmlns='jabber:client' id='a78b4q6ha463' to='juliet@example.com/chamber' type='set'>
     <query xmlns='jabber:iq:roster' ver='ver34'>
       <item jid='nurse@example.com'/>
     </query>
   </iq>`, roster.Item{JID: jid.MustParse("nurse@example.com"), Subscription: roster.SubNone}, "ver34", nil},
		{"removal", `<iq xmlns='jabber:client' id='r' type='set'><query xmlns='jabber:iq:roster'><item jid='nurse@example.com' subscription='remove'/></query></iq>`,
			roster.Item{JID: jid.MustParse("nurse@example.com"), Subscription: roster.SubRemove}, "", nil},
		{"two items", `<iq xmlns='jabber:client' id='r' type='set'><query xmlns='jabber:iq:roster'><item jid='a@b.lit'/><item jid='c@b.lit'/></query></iq>`, roster.Item{}, "", roster.ErrMalformed},
		{"no item", `<iq xmlns='jabber:client' id='r' type='set'><query xmlns='jabber:iq:roster'/></iq>`, roster.Item{}, "", roster.ErrMalformed},
		{"bad jid", `<iq xmlns='jabber:client' id='r' type='set'><query xmlns='jabber:iq:roster'><item jid='a@'/></query></iq>`, roster.Item{}, "", roster.ErrMalformed},
		{"not a set", `<iq xmlns='jabber:client' id='r' type='result'><query xmlns='jabber:iq:roster'><item jid='a@b.lit'/></query></iq>`, roster.Item{}, "", roster.ErrMalformed},
		{"no query", `<iq xmlns='jabber:client' id='r' type='set'/>`, roster.Item{}, "", roster.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it, ver, err := roster.ParsePush(parse(t, tt.xml))
			if !errors.Is(err, tt.err) || ver != tt.ver || !reflect.DeepEqual(it, tt.want) {
				t.Fatalf("got %+v %q %v; want %+v %q %v", it, ver, err, tt.want, tt.ver, tt.err)
			}
		})
	}

	for _, tt := range []struct {
		from string
		ok   bool
	}{
		{"", true},
		{"juliet@example.com", true},
		{"Juliet@EXAMPLE.com", true},
		{"juliet@example.com/balcony", false}, // a full JID is not our account
		{"juliet@example.com/chamber", false},
		{"example.com", false},
		{"romeo@example.net", false},
	} {
		var from jid.JID
		if tt.from != "" {
			from = jid.MustParse(tt.from)
		}
		if got := roster.PushAllowed(from, juliet); got != tt.ok {
			t.Errorf("PushAllowed(%q) = %v, want %v", tt.from, got, tt.ok)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	q, _, err := roster.ParseResult(parse(t, rosterResult))
	if err != nil {
		t.Fatal(err)
	}
	q.Items[1].Ask, q.Items[2].Approved = true, true
	again, err := roster.Parse(parse(t, q.Element().String()))
	if err != nil || !reflect.DeepEqual(q, again) {
		t.Fatalf("round trip %+v -> %s -> %+v, %v", q, q.Element(), again, err)
	}
}
