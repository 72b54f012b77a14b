package form_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/tern-im/tern/protocol/form"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
)

// XEP-0004 Example 2: Service Returns Bot Creation Form (the <x/> only).
const botForm = `<x xmlns='jabber:x:data' type='form'>
      <title>Bot Configuration</title>
      <instructions>Fill out this form to configure your new bot!</instructions>
      <field type='hidden'
             var='FORM_TYPE'>
        <value>jabber:bot</value>
      </field>
      <field type='fixed'><value>Section 1: Bot Info</value></field>
      <field type='text-single'
             label='The name of your bot'
             var='botname'/>
      <field type='text-multi'
             label='Helpful description of your bot'
             var='description'/>
      <field type='boolean'
             label='Public bot?'
             var='public'>
        <required/>
      </field>
      <field type='text-private'
             label='Password for special access'
             var='password'/>
      <field type='fixed'><value>Section 2: Features</value></field>
      <field type='list-multi'
             label='What features will the bot support?'
             var='features'>
        <option label='Contests'><value>contests</value></option>
        <option label='News'><value>news</value></option>
        <option label='Polls'><value>polls</value></option>
        <option label='Reminders'><value>reminders</value></option>
        <option label='Search'><value>search</value></option>
        <value>news</value>
        <value>search</value>
      </field>
      <field type='fixed'><value>Section 3: Subscriber List</value></field>
      <field type='list-single'
             label='Maximum number of subscribers'
             var='maxsubs'>
        <value>20</value>
        <option label='10'><value>10</value></option>
        <option label='20'><value>20</value></option>
        <option label='30'><value>30</value></option>
        <option label='50'><value>50</value></option>
        <option label='100'><value>100</value></option>
        <option label='None'><value>none</value></option>
      </field>
      <field type='fixed'><value>Section 4: Invitations</value></field>
      <field type='jid-multi'
             label='People to invite'
             var='invitelist'>
        <desc>Tell all your friends about your new bot!</desc>
      </field>
    </x>`

// XEP-0004 Example 3: User Submits Bot Creation Form.
const botSubmit = `<iq from='romeo@montague.net/home'
    to='joogle@botster.shakespeare.lit'
    type='set'
    xml:lang='en'
    id='create2'>
  <command xmlns='http://jabber.org/protocol/commands'
           node='create'
           sessionid='create:20040408T0128Z'>
    <x xmlns='jabber:x:data' type='submit'>
      <field type='hidden' var='FORM_TYPE'>
        <value>jabber:bot</value>
      </field>
      <field type='text-single' var='botname'>
        <value>The Jabber Google Bot</value>
      </field>
      <field type='text-multi' var='description'>
        <value>This bot enables you to send requests to</value>
        <value>Google and receive the search results right</value>
        <value>in your Jabber client. It&apos; really cool!</value>
        <value>It even supports Google News!</value>
      </field>
      <field type='boolean' var='public'>
        <value>0</value>
      </field>
      <field type='text-private' var='password'>
        <value>v3r0na</value>
      </field>
      <field type='list-multi' var='features'>
        <value>news</value>
        <value>search</value>
      </field>
      <field type='list-single' var='maxsubs'>
        <value>50</value>
      </field>
      <field type='jid-multi' var='invitelist'>
        <value>juliet@capulet.com</value>
        <value>benvolio@montague.net</value>
      </field>
    </x>
  </command>
</iq>`

// XEP-0004 Example 8: Service Returns Search Results (shortened to three items).
const searchResult = `<x xmlns='jabber:x:data' type='result'>
      <title>Joogle Search: verona</title>
      <reported>
        <field var='name'/>
        <field var='url'/>
      </reported>
      <item>
        <field var='name'>
          <value>Comune di Verona - Benvenuti nel sito ufficiale</value>
        </field>
        <field var='url'>
          <value>http://www.comune.verona.it/</value>
        </field>
      </item>
      <item>
        <field var='name'>
          <value>benvenuto!</value>
        </field>
        <field var='url'>
          <value>http://www.hellasverona.it/</value>
        </field>
      </item>
      <item>
        <field var='name'>
          <value>Universita degli Studi di Verona - Home Page</value>
        </field>
        <field var='url'>
          <value>http://www.univr.it/</value>
        </field>
      </item>
    </x>`

// parseX parses s and returns its first jabber:x:data <x/> element.
func parseX(t testing.TB, s string) *xmlstream.Element {
	t.Helper()
	el, err := xmlstream.Parse([]byte(s))
	if err != nil {
		t.Fatalf("xmlstream.Parse: %v", err)
	}
	if x := findX(el); x != nil {
		return x
	}
	t.Fatalf("no data form in %s", s)
	return nil
}

func findX(el *xmlstream.Element) *xmlstream.Element {
	if el.Is(form.NS, "x") {
		return el
	}
	for _, c := range el.Children {
		if x := findX(c); x != nil {
			return x
		}
	}
	return nil
}

func mustParse(t testing.TB, s string) form.Form {
	t.Helper()
	f, err := form.Parse(parseX(t, s))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return f
}

func TestParseBotForm(t *testing.T) {
	f := mustParse(t, botForm)
	if f.Type != form.TypeForm || f.Title != "Bot Configuration" ||
		!reflect.DeepEqual(f.Instructions, []string{"Fill out this form to configure your new bot!"}) {
		t.Fatalf("header: %+v", f)
	}
	if len(f.Fields) != 12 {
		t.Fatalf("%d fields, want 12", len(f.Fields))
	}
	if got := f.FormType(); got != "jabber:bot" {
		t.Errorf("FormType = %q", got)
	}
	fixed := f.Fields[1]
	if fixed.Var != "" || fixed.EffectiveType() != form.FieldFixed || fixed.Values[0] != "Section 1: Bot Info" {
		t.Errorf("fixed field: %+v", fixed)
	}
	pub := f.Field("public")
	if pub == nil || !pub.Required || pub.Label != "Public bot?" || pub.Type != form.FieldBoolean {
		t.Errorf("public: %+v", pub)
	}
	feat := f.Field("features")
	wantOpts := []form.Option{{"Contests", "contests"}, {"News", "news"}, {"Polls", "polls"}, {"Reminders", "reminders"}, {"Search", "search"}}
	if !reflect.DeepEqual(feat.Options, wantOpts) || !reflect.DeepEqual(feat.Values, []string{"news", "search"}) {
		t.Errorf("features: %+v", feat)
	}
	if inv := f.Field("invitelist"); inv.Desc != "Tell all your friends about your new bot!" || inv.Values != nil {
		t.Errorf("invitelist: %+v", inv)
	}
	if f.Value("maxsubs") != "20" || f.Value("botname") != "" || f.Field("nope") != nil {
		t.Errorf("Value: maxsubs=%q botname=%q", f.Value("maxsubs"), f.Value("botname"))
	}
	if b, err := f.Bool("public"); b || err != nil {
		t.Errorf("Bool(public) without value = %v, %v; want the default false", b, err)
	}
}

func TestSubmitBotForm(t *testing.T) {
	f := mustParse(t, botForm)
	got, err := f.Submit(map[string][]string{
		"botname":     {"The Jabber Google Bot"},
		"description": {"This bot enables you to send requests to\nGoogle and receive the search results right\r\nin your Jabber client. It' really cool!\nIt even supports Google News!"},
		"public":      {"0"},
		"password":    {"v3r0na"},
		"maxsubs":     {"50"},
		"invitelist":  {"juliet@capulet.com", "benvolio@montague.net"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := mustParse(t, botSubmit)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Submit:\n got %s\nwant %s", got.Element(), want.Element())
	}
}

func TestSubmitRules(t *testing.T) {
	f := form.Form{Type: form.TypeForm, Fields: []form.Field{
		form.FormTypeField("urn:example"),
		{Type: form.FieldFixed, Values: []string{"header"}},
		{Var: "token", Type: form.FieldHidden, Values: []string{"abc"}},
		{Var: "flag", Type: form.FieldBoolean, Values: []string{"1"}},
		{Var: "who", Type: form.FieldJIDSingle},
		{Var: "many", Type: form.FieldJIDMulti},
		{Var: "pick", Type: form.FieldListSingle, Options: []form.Option{{"A", "a"}, {"B", "b"}}},
		{Var: "picks", Type: form.FieldListMulti, Options: []form.Option{{"A", "a"}, {"B", "b"}, {"C", "c"}}},
		{Var: "lines", Type: form.FieldTextMulti},
		{Var: "name", Type: form.FieldTextSingle, Required: true, Values: []string{"default"}},
		{Var: "odd", Type: "x-unknown"},
	}}
	tests := []struct {
		name   string
		values map[string][]string
		want   []form.Field // nil: compare only err
		err    error
	}{
		{
			name: "defaults",
			want: []form.Field{
				form.FormTypeField("urn:example"),
				{Var: "token", Type: form.FieldHidden, Values: []string{"abc"}},
				{Var: "flag", Type: form.FieldBoolean, Values: []string{"1"}},
				{Var: "name", Type: form.FieldTextSingle, Values: []string{"default"}},
			},
		},
		{
			name: "typed values",
			values: map[string][]string{
				"token": {"changed"},
				"flag":  {"false"},
				"who":   {"Juliet@Example.COM/Balcony"},
				"many":  {"a@example.com", "A@EXAMPLE.com", "", "b@example.com"},
				"pick":  {"b"},
				"picks": {"c", "a", "c"},
				"lines": {"one\r\ntwo", "three"},
				"name":  {"mine"},
				"odd":   {"x"},
				"extra": {"e"},
				"aaa":   nil,
			},
			want: []form.Field{
				form.FormTypeField("urn:example"),
				{Var: "token", Type: form.FieldHidden, Values: []string{"changed"}},
				{Var: "flag", Type: form.FieldBoolean, Values: []string{"false"}},
				{Var: "who", Type: form.FieldJIDSingle, Values: []string{"juliet@example.com/Balcony"}},
				{Var: "many", Type: form.FieldJIDMulti, Values: []string{"a@example.com", "b@example.com"}},
				{Var: "pick", Type: form.FieldListSingle, Values: []string{"b"}},
				{Var: "picks", Type: form.FieldListMulti, Values: []string{"a", "c"}},
				{Var: "lines", Type: form.FieldTextMulti, Values: []string{"one", "two", "three"}},
				{Var: "name", Type: form.FieldTextSingle, Values: []string{"mine"}},
				{Var: "odd", Type: "x-unknown", Values: []string{"x"}},
				{Var: "aaa"},
				{Var: "extra", Values: []string{"e"}},
			},
		},
		{name: "unset optional", values: map[string][]string{"flag": {}}, want: []form.Field{
			form.FormTypeField("urn:example"),
			{Var: "token", Type: form.FieldHidden, Values: []string{"abc"}},
			{Var: "flag", Type: form.FieldBoolean},
			{Var: "name", Type: form.FieldTextSingle, Values: []string{"default"}},
		}},
		{name: "same FORM_TYPE is fine", values: map[string][]string{"FORM_TYPE": {"urn:example"}}},
		{name: "FORM_TYPE changed", values: map[string][]string{"FORM_TYPE": {"urn:other"}}, err: form.ErrInvalidValue},
		{name: "required emptied", values: map[string][]string{"name": nil}, err: form.ErrRequired},
		{name: "required blank", values: map[string][]string{"name": {""}}, err: form.ErrRequired},
		{name: "bad boolean", values: map[string][]string{"flag": {"yes"}}, err: form.ErrInvalidValue},
		{name: "two booleans", values: map[string][]string{"flag": {"1", "0"}}, err: form.ErrInvalidValue},
		{name: "bad jid", values: map[string][]string{"who": {"@example.com"}}, err: form.ErrInvalidValue},
		{name: "bad jid in multi", values: map[string][]string{"many": {"a@example.com", "b@"}}, err: form.ErrInvalidValue},
		{name: "not an option", values: map[string][]string{"pick": {"z"}}, err: form.ErrInvalidValue},
		{name: "not an option (multi)", values: map[string][]string{"picks": {"a", "z"}}, err: form.ErrInvalidValue},
		{name: "two texts", values: map[string][]string{"name": {"a", "b"}}, err: form.ErrInvalidValue},
		{name: "unknown type is single", values: map[string][]string{"odd": {"a", "b"}}, err: form.ErrInvalidValue},
		{name: "empty var", values: map[string][]string{"": {"a"}}, err: form.ErrInvalidValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := f.Submit(tt.values)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err != nil {
				return
			}
			if got.Type != form.TypeSubmit {
				t.Errorf("type %q", got.Type)
			}
			if tt.want != nil && !reflect.DeepEqual(got.Fields, tt.want) {
				t.Errorf("fields:\n got %+v\nwant %+v", got.Fields, tt.want)
			}
		})
	}
}

func TestGetters(t *testing.T) {
	f := form.Form{Type: form.TypeResult, Fields: []form.Field{
		{Var: "t", Type: form.FieldBoolean, Values: []string{"true"}},
		{Var: "f", Type: form.FieldBoolean, Values: []string{"0"}},
		{Var: "bad", Type: form.FieldBoolean, Values: []string{"TRUE"}},
		{Var: "j", Type: form.FieldJIDSingle, Values: []string{"Romeo@Montague.LIT/Orchard"}},
		{Var: "jbad", Type: form.FieldJIDSingle, Values: []string{"a@b@"}},
		{Var: "js", Type: form.FieldJIDMulti, Values: []string{"a@x.lit", "b@x.lit", "A@X.LIT"}},
		{Var: "txt", Type: form.FieldTextMulti, Values: []string{"line 1", "line 2"}},
	}}
	for _, tt := range []struct {
		name string
		want bool
		err  error
	}{{"t", true, nil}, {"f", false, nil}, {"bad", false, form.ErrInvalidValue}, {"missing", false, form.ErrNoField}} {
		if got, err := f.Bool(tt.name); got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("Bool(%q) = %v, %v; want %v, %v", tt.name, got, err, tt.want, tt.err)
		}
	}
	if j, err := f.JID("j"); err != nil || j != jid.MustParse("romeo@montague.lit/Orchard") {
		t.Errorf("JID = %v, %v", j, err)
	}
	if _, err := f.JID("jbad"); !errors.Is(err, form.ErrInvalidValue) || !errors.Is(err, jid.ErrInvalidDomain) {
		t.Errorf("JID(jbad) err = %v", err)
	}
	if _, err := f.JID("missing"); !errors.Is(err, form.ErrNoField) {
		t.Errorf("JID(missing) err = %v", err)
	}
	js, err := f.JIDs("js")
	if err != nil || !reflect.DeepEqual(js, []jid.JID{jid.MustParse("a@x.lit"), jid.MustParse("b@x.lit")}) {
		t.Errorf("JIDs = %v, %v", js, err)
	}
	if got := f.Text("txt"); got != "line 1\nline 2" {
		t.Errorf("Text = %q", got)
	}
	if got := f.FormType(); got != "" {
		t.Errorf("FormType without FORM_TYPE = %q", got)
	}
	notHidden := form.Form{Fields: []form.Field{{Var: form.FormTypeVar, Type: form.FieldTextSingle, Values: []string{"urn:x"}}}}
	if got := notHidden.FormType(); got != "" {
		t.Errorf("FormType of a text-single FORM_TYPE = %q", got)
	}
}

func TestSearchResult(t *testing.T) {
	f := mustParse(t, searchResult)
	if len(f.Fields) != 0 || len(f.Reported) != 2 || len(f.Items) != 3 {
		t.Fatalf("fields %d reported %d items %d", len(f.Fields), len(f.Reported), len(f.Items))
	}
	if f.Reported[1].Var != "url" || f.Items[1][0].Values[0] != "benvenuto!" {
		t.Errorf("reported %+v, item %+v", f.Reported, f.Items[1])
	}
}

func TestRoundTrip(t *testing.T) {
	for _, s := range []string{botForm, botSubmit, searchResult,
		`<x xmlns='jabber:x:data' type='cancel'/>`,
		`<x xmlns='jabber:x:data' type='form'><instructions>a</instructions><instructions/><field var='v'><value/><option><value/></option></field></x>`,
	} {
		f := mustParse(t, s)
		b := xmlstream.Append(nil, f.Element(), "")
		back, err := xmlstream.Parse(b)
		if err != nil {
			t.Fatalf("our element does not parse: %s: %v", b, err)
		}
		again, err := form.Parse(back)
		if err != nil {
			t.Fatalf("Parse(%s): %v", b, err)
		}
		if !reflect.DeepEqual(f, again) {
			t.Errorf("round trip:\n%+v\n%+v", f, again)
		}
	}
}

func TestParseErrors(t *testing.T) {
	many := func(n int, tmpl string) string { return strings.Repeat(tmpl, n) }
	tests := []struct {
		name, xml string
		err       error
	}{
		{"wrong namespace", `<x xmlns='jabber:x:oob' type='form'/>`, form.ErrMalformed},
		{"wrong name", `<form xmlns='jabber:x:data' type='form'/>`, form.ErrMalformed},
		{"no type", `<x xmlns='jabber:x:data'/>`, form.ErrMalformed},
		{"unknown type", `<x xmlns='jabber:x:data' type='error'/>`, form.ErrMalformed},
		{"too many fields", `<x xmlns='jabber:x:data' type='result'>` + many(form.MaxFields+1, `<field var='a'/>`) + `</x>`, form.ErrTooLarge},
		{"too many item fields", `<x xmlns='jabber:x:data' type='result'>` + many(form.MaxFields/2+1, `<item><field var='a'/><field var='b'/></item>`) + `</x>`, form.ErrTooLarge},
		{"too many items", `<x xmlns='jabber:x:data' type='result'>` + many(form.MaxItems+1, `<item/>`) + `</x>`, form.ErrTooLarge},
		{"too many values", `<x xmlns='jabber:x:data' type='result'><field var='a'>` + many(form.MaxValues+1, `<value/>`) + `</field></x>`, form.ErrTooLarge},
		{"too many options", `<x xmlns='jabber:x:data' type='form'><field var='a'>` + many(form.MaxOptions+1, `<option/>`) + `</field></x>`, form.ErrTooLarge},
		{"too many instructions", `<x xmlns='jabber:x:data' type='form'>` + many(form.MaxInstructions+1, `<instructions/>`) + `</x>`, form.ErrTooLarge},
		{"at the limits", `<x xmlns='jabber:x:data' type='result'>` + many(form.MaxFields, `<field var='a'/>`) + `</x>`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			el, err := xmlstream.Parse([]byte(tt.xml))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := form.Parse(el); !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
		})
	}
}
