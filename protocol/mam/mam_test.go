package mam_test

import (
	"cmp"
	"context"
	"encoding/xml"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/mam"
	"github.com/tern-im/tern/protocol/rsm"
	"github.com/tern-im/tern/protocol/stanza"
)

func mustParse(t testing.TB, s string) *xmlstream.Element {
	t.Helper()
	e, err := xmlstream.Parse([]byte(s))
	if err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	return e
}

// canon returns e as a string with indentation dropped and attributes
// sorted, so that XEP examples compare with what we build.
func canon(e *xmlstream.Element) string {
	var norm func(e *xmlstream.Element) *xmlstream.Element
	norm = func(e *xmlstream.Element) *xmlstream.Element {
		c := e.Copy()
		slices.SortFunc(c.Attr, func(a, b xml.Attr) int {
			return cmp.Or(cmp.Compare(a.Name.Space, b.Name.Space), cmp.Compare(a.Name.Local, b.Name.Local))
		})
		if len(c.Children) > 0 && strings.TrimSpace(c.Text) == "" {
			c.Text = ""
		}
		for i, ch := range c.Children {
			c.Children[i] = norm(ch)
		}
		return c
	}
	return norm(e).String()
}

func TestQueryElementXEPExamples(t *testing.T) {
	start := time.Date(2010, 6, 7, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		q    mam.Query
		xml  string
	}{
		{
			name: "example 2: query everything",
			q:    mam.Query{QueryID: "f27"},
			xml:  `<query xmlns='urn:xmpp:mam:2' queryid='f27' />`,
		},
		{
			name: "example 6: with",
			q:    mam.Query{With: jid.MustParse("juliet@capulet.lit")},
			xml: `<query xmlns='urn:xmpp:mam:2'>
    <x xmlns='jabber:x:data' type='submit'>
      <field var='FORM_TYPE' type='hidden'>
        <value>urn:xmpp:mam:2</value>
      </field>
      <field var='with'>
        <value>juliet@capulet.lit</value>
      </field>
    </x>
  </query>`,
		},
		{
			name: "example 7: time span",
			q:    mam.Query{Start: start, End: time.Date(2010, 7, 7, 13, 23, 54, 0, time.UTC)},
			xml: `<query xmlns='urn:xmpp:mam:2'>
    <x xmlns='jabber:x:data' type='submit'>
      <field var='FORM_TYPE' type='hidden'>
        <value>urn:xmpp:mam:2</value>
      </field>
      <field var='start'>
        <value>2010-06-07T00:00:00Z</value>
      </field>
      <field var='end'>
        <value>2010-07-07T13:23:54Z</value>
      </field>
    </x>
  </query>`,
		},
		{
			name: "example 10: between two known messages",
			q:    mam.Query{AfterID: "28482-98726-73623", BeforeID: "09af3-cc343-b409f"},
			xml: `<query xmlns='urn:xmpp:mam:2'>
    <x xmlns='jabber:x:data' type='submit'>
      <field var='FORM_TYPE' type='hidden'>
        <value>urn:xmpp:mam:2</value>
      </field>
      <field var='after-id'>
        <value>28482-98726-73623</value>
      </field>
      <field var='before-id'>
        <value>09af3-cc343-b409f</value>
      </field>
    </x>
  </query>`,
		},
		{
			name: "example 11: fetching specific messages",
			q:    mam.Query{IDs: []string{"28482-98726-73623"}},
			xml: `<query xmlns='urn:xmpp:mam:2'>
    <x xmlns='jabber:x:data' type='submit'>
      <field var='FORM_TYPE' type='hidden'>
        <value>urn:xmpp:mam:2</value>
      </field>
      <field var='ids'>
        <value>28482-98726-73623</value>
      </field>
    </x>
  </query>`,
		},
		{
			name: "example 20: a page query",
			q:    mam.Query{Start: time.Date(2010, 8, 7, 0, 0, 0, 0, time.UTC), RSM: rsm.Set{Max: 10, After: "09af3-cc343-b409f"}},
			xml: `<query xmlns='urn:xmpp:mam:2'>
    <x xmlns='jabber:x:data' type='submit'>
      <field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value></field>
      <field var='start'><value>2010-08-07T00:00:00Z</value></field>
    </x>
    <set xmlns='http://jabber.org/protocol/rsm'>
      <max>10</max>
      <after>09af3-cc343-b409f</after>
    </set>
  </query>`,
		},
		{
			name: "example 23: the last page",
			q:    mam.Query{Start: time.Date(2010, 8, 7, 0, 0, 0, 0, time.UTC), RSM: rsm.Set{Max: 10, Last: true}},
			xml: `<query xmlns='urn:xmpp:mam:2'>
    <x xmlns='jabber:x:data' type='submit'>
      <field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value></field>
      <field var='start'><value>2010-08-07T00:00:00Z</value></field>
    </x>
    <set xmlns='http://jabber.org/protocol/rsm'>
      <max>10</max>
      <before/>
    </set>
  </query>`,
		},
		{
			name: "example 24: a flipped page",
			q:    mam.Query{Start: time.Date(2010, 8, 7, 0, 0, 0, 0, time.UTC), RSM: rsm.Set{Max: 10, After: "09af3-cc343-b409f"}, FlipPage: true},
			xml: `<query xmlns='urn:xmpp:mam:2'>
    <x xmlns='jabber:x:data' type='submit'>
      <field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value></field>
      <field var='start'><value>2010-08-07T00:00:00Z</value></field>
    </x>
    <set xmlns='http://jabber.org/protocol/rsm'>
      <max>10</max>
      <after>09af3-cc343-b409f</after>
    </set>
    <flip-page/>
  </query>`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, want := canon(tt.q.Element()), canon(mustParse(t, tt.xml))
			if got != want {
				t.Fatalf("Element =\n%s\nwant\n%s", got, want)
			}
		})
	}
}

func TestQueryRequest(t *testing.T) {
	q := mam.Query{QueryID: "f28"}
	// Example 5: a query to another archive.
	if got, want := canon(q.Request(jid.MustParse("pubsub.shakespeare.lit"))), canon(mustParse(t, `<iq xmlns='jabber:client' to='pubsub.shakespeare.lit' type='set' id=''><query xmlns='urn:xmpp:mam:2' queryid='f28' /></iq>`)); got != want {
		t.Errorf("Request = %s, want %s", got, want)
	}
	// Our own archive: no 'to'.
	if to, ok := q.Request(jid.JID{}).Lookup("to"); ok {
		t.Errorf("Request to our own archive has to=%q", to)
	}
	a, b := mam.NewQueryID(), mam.NewQueryID()
	if a == b || len(a) != 16 {
		t.Errorf("NewQueryID = %q, %q", a, b)
	}
}

func TestParseResult(t *testing.T) {
	// Example 3.
	res, err := mam.ParseResult(mustParse(t, `<message xmlns='jabber:client' id='aeb213' to='juliet@capulet.lit/chamber'>
  <result xmlns='urn:xmpp:mam:2' queryid='f27' id='28482-98726-73623'>
    <forwarded xmlns='urn:xmpp:forward:0'>
      <delay xmlns='urn:xmpp:delay' stamp='2010-07-10T23:08:25Z'/>
      <message xmlns='jabber:client' from="witch@shakespeare.lit" to="macbeth@shakespeare.lit">
        <body>Hail to thee</body>
      </message>
    </forwarded>
  </result>
</message>`))
	if err != nil {
		t.Fatal(err)
	}
	if res.QueryID != "f27" || res.ID != "28482-98726-73623" || !res.From.IsZero() ||
		res.Forwarded.Delay == nil || !res.Forwarded.Delay.Stamp.Equal(time.Date(2010, 7, 10, 23, 8, 25, 0, time.UTC)) ||
		res.Forwarded.Stanza.ChildText("jabber:client", "body") != "Hail to thee" {
		t.Errorf("ParseResult = %+v", res)
	}
	// Round trip through our own element.
	back, err := mam.ParseResult(xmlstream.New("jabber:client", "message").Append(res.Element()))
	if err != nil || back.ID != res.ID || back.QueryID != res.QueryID || back.Forwarded.Stanza.String() != res.Forwarded.Stanza.String() {
		t.Errorf("round trip = %+v, %v", back, err)
	}

	// Example 27: a MUC archive result, from the room.
	muc, err := mam.ParseResult(mustParse(t, `<message xmlns='jabber:client' id='iasd207' from='coven@chat.shakespeare.lit' to='hag66@shakespeare.lit/pda'>
  <result xmlns='urn:xmpp:mam:2' queryid='g27' id='34482-21985-73620'>
    <forwarded xmlns='urn:xmpp:forward:0'>
      <delay xmlns='urn:xmpp:delay' stamp='2002-10-13T23:58:43Z'/>
      <message xmlns="jabber:client"
               from='coven@chat.shakespeare.lit/secondwitch'
               id='90057840-30FD-4141-AA44-103EEDF218FC'
               type='groupchat'>
        <body>Thrice and once the hedge-pig whined.</body>
        <x xmlns='http://jabber.org/protocol/muc#user'>
          <item affiliation='admin'
                jid='wiccarocks@shakespeare.lit'
                role='participant' />
        </x>
      </message>
    </forwarded>
  </result>
</message>`))
	if err != nil || muc.From != jid.MustParse("coven@chat.shakespeare.lit") || muc.ID != "34482-21985-73620" ||
		muc.Forwarded.Stanza.Get("from") != "coven@chat.shakespeare.lit/secondwitch" {
		t.Errorf("ParseResult(MUC) = %+v, %v", muc, err)
	}
}

func TestParseResultErrors(t *testing.T) {
	fw := `<forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client'><body>x</body></message></forwarded>`
	tests := []struct {
		xml string
		err error
	}{
		{`<message xmlns='jabber:client'><body>not a result</body></message>`, mam.ErrNotResult},
		{`<message xmlns='jabber:client' type='error'><result xmlns='urn:xmpp:mam:2' id='a'>` + fw + `</result></message>`, mam.ErrNotResult},
		{`<message xmlns='jabber:client'><result xmlns='urn:xmpp:mam:1' id='a'>` + fw + `</result></message>`, mam.ErrNotResult},
		{`<message xmlns='jabber:client'><result xmlns='urn:xmpp:mam:2'>` + fw + `</result></message>`, mam.ErrMalformed},
		{`<message xmlns='jabber:client'><result xmlns='urn:xmpp:mam:2' id='` + strings.Repeat("a", mam.MaxID+1) + `'>` + fw + `</result></message>`, mam.ErrMalformed},
		{`<message xmlns='jabber:client'><result xmlns='urn:xmpp:mam:2' id='a'/></message>`, mam.ErrMalformed},
		{`<message xmlns='jabber:client'><result xmlns='urn:xmpp:mam:2' id='a'><forwarded xmlns='urn:xmpp:forward:0'><iq xmlns='jabber:client' type='get'/></forwarded></result></message>`, mam.ErrMalformed},
		{`<message xmlns='jabber:client'><result xmlns='urn:xmpp:mam:2' id='a'>` + fw + `</result><result xmlns='urn:xmpp:mam:2' id='b'>` + fw + `</result></message>`, mam.ErrMalformed},
		{`<message xmlns='jabber:client' from='@bad'><result xmlns='urn:xmpp:mam:2' id='a'>` + fw + `</result></message>`, mam.ErrMalformed},
	}
	for _, tt := range tests {
		if _, err := mam.ParseResult(mustParse(t, tt.xml)); !errors.Is(err, tt.err) {
			t.Errorf("ParseResult(%.120s) = %v, want %v", tt.xml, err, tt.err)
		}
	}
	if _, err := mam.ParseResult(nil); !errors.Is(err, mam.ErrNotResult) {
		t.Errorf("ParseResult(nil) = %v", err)
	}
}

func TestAnswers(t *testing.T) {
	own := jid.MustParse("juliet@capulet.lit/balcony")
	room := jid.MustParse("coven@chat.shakespeare.lit")
	tests := []struct {
		name    string
		from    string
		queryID string
		archive jid.JID
		want    bool
	}{
		{"own archive, no from", "", "q1", jid.JID{}, true},
		{"own archive, from our bare JID", "juliet@capulet.lit", "q1", jid.JID{}, true},
		{"own archive named explicitly", "juliet@capulet.lit", "q1", own.Bare(), true},
		{"own archive, from our full JID", "juliet@capulet.lit/balcony", "q1", jid.JID{}, false},
		{"own archive, from a stranger", "tybalt@capulet.lit", "q1", jid.JID{}, false},
		{"own archive, from our server", "capulet.lit", "q1", jid.JID{}, false},
		{"room archive, from the room", "coven@chat.shakespeare.lit", "q1", room, true},
		{"room archive, from an occupant", "coven@chat.shakespeare.lit/firstwitch", "q1", room, false},
		{"room archive, no from", "", "q1", room, false},
		{"wrong query id", "", "q2", jid.JID{}, false},
	}
	for _, tt := range tests {
		r := mam.Result{QueryID: "q1", ID: "x"}
		if tt.from != "" {
			r.From = jid.MustParse(tt.from)
		}
		if got := r.Answers(tt.queryID, tt.archive, own); got != tt.want {
			t.Errorf("%s: Answers = %v", tt.name, got)
		}
	}
	if (mam.Result{ID: "x"}).Answers("", jid.JID{}, own) {
		t.Error("§8.2: an empty query id proves nothing")
	}
}

func TestParseFin(t *testing.T) {
	tests := []struct {
		name string
		xml  string
		want mam.Fin
	}{
		{
			name: "example 4",
			xml: `<iq xmlns='jabber:client' type='result' id='juliet1'>
  <fin xmlns='urn:xmpp:mam:2'>
    <set xmlns='http://jabber.org/protocol/rsm'>
      <first index='0'>28482-98726-73623</first>
      <last>09af3-cc343-b409f</last>
    </set>
  </fin>
</iq>`,
			want: mam.Fin{Stable: true, Set: rsm.Result{First: "28482-98726-73623", FirstIndex: 0, Last: "09af3-cc343-b409f", Count: -1}},
		},
		{
			name: "example 22: complete",
			xml: `<iq xmlns='jabber:client' type='result' id='u29303'>
  <fin xmlns='urn:xmpp:mam:2' complete='true'>
    <set xmlns='http://jabber.org/protocol/rsm'>
      <first index='0'>23452-4534-1</first>
      <last>390-2342-22</last>
      <count>16</count>
    </set>
  </fin>
</iq>`,
			want: mam.Fin{Complete: true, Stable: true, Set: rsm.Result{First: "23452-4534-1", FirstIndex: 0, Last: "390-2342-22", Count: 16}},
		},
		{
			name: "unstable, empty page without set",
			xml:  `<iq xmlns='jabber:client' type='result'><fin xmlns='urn:xmpp:mam:2' complete='1' stable='false'/></iq>`,
			want: mam.Fin{Complete: true, Stable: false, Set: rsm.Result{FirstIndex: -1, Count: -1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mam.ParseFin(mustParse(t, tt.xml))
			if err != nil || got != tt.want {
				t.Fatalf("ParseFin = %+v, %v; want %+v", got, err, tt.want)
			}
			back, err := mam.ParseFin(xmlstream.New("jabber:client", "iq").Append(got.Element()))
			if err != nil || back != got {
				t.Fatalf("round trip %s = %+v, %v", got.Element(), back, err)
			}
		})
	}
	for _, x := range []string{
		`<iq xmlns='jabber:client' type='result'/>`,
		`<iq xmlns='jabber:client' type='result'><fin xmlns='urn:xmpp:mam:2' complete='yes'/></iq>`,
		`<iq xmlns='jabber:client' type='result'><fin xmlns='urn:xmpp:mam:2' stable='maybe'/></iq>`,
		`<iq xmlns='jabber:client' type='result'><fin xmlns='urn:xmpp:mam:2'><set xmlns='http://jabber.org/protocol/rsm'><first>a</first></set></fin></iq>`,
	} {
		if _, err := mam.ParseFin(mustParse(t, x)); !errors.Is(err, mam.ErrMalformed) {
			t.Errorf("ParseFin(%s) = %v, want ErrMalformed", x, err)
		}
	}
}

func TestPrefs(t *testing.T) {
	// XEP-0441 examples 2, 4 and 5.
	got, err := mam.ParsePrefs(mustParse(t, `<iq xmlns='jabber:client' type='result' id='juliet2'>
  <prefs xmlns='urn:xmpp:mam:2' default='roster'>
    <always/>
    <never/>
  </prefs>
</iq>`))
	if err != nil || got.Default != mam.DefaultRoster || got.Always != nil || got.Never != nil {
		t.Errorf("ParsePrefs(example 2) = %+v, %v", got, err)
	}
	p := mam.Prefs{Default: mam.DefaultRoster, Always: []jid.JID{jid.MustParse("romeo@montague.lit")}, Never: []jid.JID{jid.MustParse("montague@montague.lit")}}
	want := canon(mustParse(t, `<iq xmlns='jabber:client' type='set' id=''>
  <prefs xmlns='urn:xmpp:mam:2' default='roster'>
    <always>
      <jid>romeo@montague.lit</jid>
    </always>
    <never>
      <jid>montague@montague.lit</jid>
    </never>
  </prefs>
</iq>`))
	if got := canon(mam.SetPrefsRequest(p)); got != want {
		t.Errorf("SetPrefsRequest =\n%s\nwant\n%s", got, want)
	}
	back, err := mam.ParsePrefs(mam.SetPrefsRequest(p))
	if err != nil || back.Default != p.Default || !slices.Equal(back.Always, p.Always) || !slices.Equal(back.Never, p.Never) {
		t.Errorf("round trip = %+v, %v", back, err)
	}
	if got, want := mam.PrefsRequest().String(), `<iq xmlns='jabber:client' type='get' id=''><prefs xmlns='urn:xmpp:mam:2'/></iq>`; got != want {
		t.Errorf("PrefsRequest = %s, want %s", got, want)
	}

	var many strings.Builder
	for range mam.MaxPrefsJIDs + 1 {
		many.WriteString("<jid>a@b</jid>")
	}
	for _, x := range []string{
		`<iq xmlns='jabber:client'/>`,
		`<iq xmlns='jabber:client'><prefs xmlns='urn:xmpp:mam:2' default='sometimes'/></iq>`,
		`<iq xmlns='jabber:client'><prefs xmlns='urn:xmpp:mam:2'/></iq>`,
		`<iq xmlns='jabber:client'><prefs xmlns='urn:xmpp:mam:2' default='always'><always><jid>@bad</jid></always></prefs></iq>`,
		`<iq xmlns='jabber:client'><prefs xmlns='urn:xmpp:mam:2' default='always'><never>` + many.String() + `</never></prefs></iq>`,
	} {
		if _, err := mam.ParsePrefs(mustParse(t, x)); !errors.Is(err, mam.ErrMalformed) {
			t.Errorf("ParsePrefs(%.100s) = %v, want ErrMalformed", x, err)
		}
	}
	// Missing lists are empty (XEP-0441 §2.1.2).
	if got, err := mam.ParsePrefs(mustParse(t, `<iq xmlns='jabber:client'><prefs xmlns='urn:xmpp:mam:2' default='never'/></iq>`)); err != nil || got.Default != mam.DefaultNever {
		t.Errorf("ParsePrefs without lists = %+v, %v", got, err)
	}
}

// iqFunc is an IQSender made of a function.
type iqFunc func(ctx context.Context, iq *xmlstream.Element) (*xmlstream.Element, error)

func (f iqFunc) SendIQ(ctx context.Context, iq *xmlstream.Element) (*xmlstream.Element, error) {
	return f(ctx, iq)
}

func TestGetSetPrefs(t *testing.T) {
	ctx := context.Background()
	// The server applies its own policy: it answers with what it kept.
	server := iqFunc(func(_ context.Context, iq *xmlstream.Element) (*xmlstream.Element, error) {
		if iq.Child(mam.NS, "prefs") == nil {
			t.Fatalf("unexpected request %s", iq)
		}
		return mustParse(t, `<iq xmlns='jabber:client' type='result'><prefs xmlns='urn:xmpp:mam:2' default='always'><always/><never><jid>spam@example.com</jid></never></prefs></iq>`), nil
	})
	got, err := mam.GetPrefs(ctx, server)
	if err != nil || got.Default != mam.DefaultAlways || len(got.Never) != 1 {
		t.Errorf("GetPrefs = %+v, %v", got, err)
	}
	got, err = mam.SetPrefs(ctx, server, mam.Prefs{Default: mam.DefaultRoster})
	if err != nil || got.Default != mam.DefaultAlways {
		t.Errorf("SetPrefs = %+v, %v; want the server's answer", got, err)
	}
	// An empty result: the preferences we set.
	empty := iqFunc(func(context.Context, *xmlstream.Element) (*xmlstream.Element, error) {
		return mustParse(t, `<iq xmlns='jabber:client' type='result'/>`), nil
	})
	if got, err := mam.SetPrefs(ctx, empty, mam.Prefs{Default: mam.DefaultNever}); err != nil || got.Default != mam.DefaultNever {
		t.Errorf("SetPrefs(empty answer) = %+v, %v", got, err)
	}
	// XEP-0441 example 3: not supported.
	unsupported := iqFunc(func(context.Context, *xmlstream.Element) (*xmlstream.Element, error) {
		return nil, stanza.ParseError(mustParse(t, `<iq xmlns='jabber:client' type='error' id='juliet2'><error type='cancel'><feature-not-implemented xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`))
	})
	if _, err := mam.GetPrefs(ctx, unsupported); !errors.Is(err, stanza.ErrFeatureNotImplemented) {
		t.Errorf("GetPrefs = %v, want feature-not-implemented", err)
	}
}
