package rsm_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/rsm"
)

func mustParse(t testing.TB, s string) *xmlstream.Element {
	t.Helper()
	e, err := xmlstream.Parse([]byte(s))
	if err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	return e
}

func TestSet(t *testing.T) {
	tests := []struct {
		name string
		xml  string // XEP-0059 example (the <set/> only)
		set  rsm.Set
	}{
		{"§2.1 limit", `<set xmlns='http://jabber.org/protocol/rsm'><max>10</max></set>`, rsm.Set{Max: 10}},
		{"§2.2 next page", `<set xmlns='http://jabber.org/protocol/rsm'><max>10</max><after>peterpan@neverland.lit</after></set>`, rsm.Set{Max: 10, After: "peterpan@neverland.lit"}},
		{"§2.3 previous page", `<set xmlns='http://jabber.org/protocol/rsm'><max>10</max><before>peter@pixyland.org</before></set>`, rsm.Set{Max: 10, Before: "peter@pixyland.org"}},
		{"§2.5 last page", `<set xmlns='http://jabber.org/protocol/rsm'><max>10</max><before/></set>`, rsm.Set{Max: 10, Last: true}},
		{"§2.6 out of order", `<set xmlns='http://jabber.org/protocol/rsm'><max>10</max><index>371</index></set>`, rsm.Set{Max: 10, Index: 371}},
		{"§2.7 count", `<set xmlns='http://jabber.org/protocol/rsm'><max>0</max></set>`, rsm.Set{CountOnly: true}},
		{"no constraints", `<set xmlns='http://jabber.org/protocol/rsm'/>`, rsm.Set{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.set.Element().String(); got != tt.xml {
				t.Errorf("Element =\n%s\nwant\n%s", got, tt.xml)
			}
			got, err := rsm.Parse(mustParse(t, tt.xml))
			if err != nil || got != tt.set {
				t.Errorf("Parse = %+v, %v; want %+v", got, err, tt.set)
			}
		})
	}
}

func TestSetElementPrecedence(t *testing.T) {
	// CountOnly overrides Max; Before overrides Last.
	got := rsm.Set{Max: 5, CountOnly: true, Before: "x", Last: true}.Element().String()
	want := `<set xmlns='http://jabber.org/protocol/rsm'><max>0</max><before>x</before></set>`
	if got != want {
		t.Errorf("Element = %s, want %s", got, want)
	}
}

func TestParseErrors(t *testing.T) {
	for _, x := range []string{
		`<set xmlns='http://jabber.org/protocol/rsm'><max>-1</max></set>`,
		`<set xmlns='http://jabber.org/protocol/rsm'><max>+1</max></set>`,
		`<set xmlns='http://jabber.org/protocol/rsm'><max>ten</max></set>`,
		`<set xmlns='http://jabber.org/protocol/rsm'><max>99999999999999999999999</max></set>`,
		`<set xmlns='http://jabber.org/protocol/rsm'><index></index></set>`,
		`<set xmlns='http://jabber.org/protocol/rsm'><after>` + strings.Repeat("a", rsm.MaxUID+1) + `</after></set>`,
		`<set xmlns='urn:example'/>`,
	} {
		if got, err := rsm.Parse(mustParse(t, x)); !errors.Is(err, rsm.ErrMalformed) {
			t.Errorf("Parse(%.80s) = %+v, %v; want ErrMalformed", x, got, err)
		}
	}
}

func TestResult(t *testing.T) {
	tests := []struct {
		name string
		xml  string
		want rsm.Result
		out  string // Element output when it differs from xml
	}{
		{
			name: "§2.2 first page",
			xml: `<set xmlns='http://jabber.org/protocol/rsm'>
      <first index='0'>stpeter@jabber.org</first>
      <last>peterpan@neverland.lit</last>
      <count>800</count>
    </set>`,
			want: rsm.Result{First: "stpeter@jabber.org", FirstIndex: 0, Last: "peterpan@neverland.lit", Count: 800},
			out:  `<set xmlns='http://jabber.org/protocol/rsm'><first index='0'>stpeter@jabber.org</first><last>peterpan@neverland.lit</last><count>800</count></set>`,
		},
		{
			name: "§2.2 empty page",
			xml:  `<set xmlns='http://jabber.org/protocol/rsm'><count>790</count></set>`,
			want: rsm.Result{FirstIndex: -1, Count: 790},
		},
		{
			name: "XEP-0313 fin without count or index",
			xml:  `<set xmlns='http://jabber.org/protocol/rsm'><first>28482-98726-73623</first><last>09af3-cc343-b409f</last></set>`,
			want: rsm.Result{First: "28482-98726-73623", FirstIndex: -1, Last: "09af3-cc343-b409f", Count: -1},
		},
		{
			name: "nothing at all",
			xml:  `<set xmlns='http://jabber.org/protocol/rsm'/>`,
			want: rsm.Result{FirstIndex: -1, Count: -1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := rsm.ParseResult(mustParse(t, tt.xml))
			if err != nil || got != tt.want {
				t.Fatalf("ParseResult = %+v, %v; want %+v", got, err, tt.want)
			}
			out := tt.out
			if out == "" {
				out = tt.xml
			}
			if s := got.Element().String(); s != out {
				t.Errorf("Element =\n%s\nwant\n%s", s, out)
			}
		})
	}
}

func TestParseResultErrors(t *testing.T) {
	for _, x := range []string{
		`<set xmlns='http://jabber.org/protocol/rsm'><first>a</first></set>`,
		`<set xmlns='http://jabber.org/protocol/rsm'><last>a</last></set>`,
		`<set xmlns='http://jabber.org/protocol/rsm'><first/><last/></set>`,
		`<set xmlns='http://jabber.org/protocol/rsm'><first index='x'>a</first><last>b</last></set>`,
		`<set xmlns='http://jabber.org/protocol/rsm'><first index='-3'>a</first><last>b</last></set>`,
		`<set xmlns='http://jabber.org/protocol/rsm'><count>lots</count></set>`,
		`<set xmlns='http://jabber.org/protocol/rsm'><first>` + strings.Repeat("a", rsm.MaxUID+1) + `</first><last>b</last></set>`,
		`<fin xmlns='urn:xmpp:mam:2'/>`,
	} {
		if got, err := rsm.ParseResult(mustParse(t, x)); !errors.Is(err, rsm.ErrMalformed) {
			t.Errorf("ParseResult(%.80s) = %+v, %v; want ErrMalformed", x, got, err)
		}
	}
}
