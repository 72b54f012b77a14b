package hints_test

import (
	"slices"
	"testing"

	"github.com/tern-im/tern/protocol/hints"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
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
		want []hints.Hint
	}{
		{
			name: "XEP-0334 example 1: no-copy and no-store",
			xml: `<message xmlns='jabber:client'
    from='romeo@montague.lit/laptop'
    to='juliet@capulet.lit/laptop'>
  <body>V unir avtug'f pybnx gb uvqr zr sebz gurve fvtug</body>
  <no-copy xmlns="urn:xmpp:hints"/>
  <no-store xmlns="urn:xmpp:hints"/>
</message>`,
			want: []hints.Hint{hints.NoCopy, hints.NoStore},
		},
		{
			name: "all four, repeats and unknown ones dropped",
			xml: `<message xmlns='jabber:client'><store xmlns='urn:xmpp:hints'/><no-permanent-store xmlns='urn:xmpp:hints'/>` +
				`<store xmlns='urn:xmpp:hints'/><no-forward xmlns='urn:xmpp:hints'/><no-store xmlns='urn:example'/></message>`,
			want: []hints.Hint{hints.Store, hints.NoPermanentStore},
		},
		{
			name: "§6: hints in an error are ignored",
			xml:  `<message xmlns='jabber:client' type='error'><no-store xmlns='urn:xmpp:hints'/></message>`,
		},
		{name: "none", xml: `<message xmlns='jabber:client'><body>x</body></message>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := mustParse(t, tt.xml)
			got := hints.Parse(msg)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("Parse = %v, want %v", got, tt.want)
			}
			for _, h := range []hints.Hint{hints.Store, hints.NoStore, hints.NoCopy, hints.NoPermanentStore} {
				if hints.Has(msg, h) != slices.Contains(tt.want, h) {
					t.Errorf("Has(%s) = %v", h, hints.Has(msg, h))
				}
			}
		})
	}
	if hints.Parse(nil) != nil || hints.Has(nil, hints.Store) {
		t.Error("nil message has hints")
	}
}

func TestElement(t *testing.T) {
	for _, h := range []hints.Hint{hints.Store, hints.NoStore, hints.NoCopy, hints.NoPermanentStore} {
		if !h.Valid() {
			t.Errorf("%s not valid", h)
		}
		if got, want := h.Element().String(), "<"+string(h)+" xmlns='urn:xmpp:hints'/>"; got != want {
			t.Errorf("Element = %s, want %s", got, want)
		}
		msg := xmlstream.New("jabber:client", "message").Append(h.Element())
		if got := hints.Parse(mustParse(t, msg.String())); !slices.Equal(got, []hints.Hint{h}) {
			t.Errorf("round trip %s = %v", h, got)
		}
	}
	if hints.Hint("no-forward").Valid() {
		t.Error("unknown hint valid")
	}
}

func TestNoCopyAllowed(t *testing.T) {
	if !hints.NoCopyAllowed(jid.MustParse("juliet@capulet.lit/laptop")) {
		t.Error("a full JID allows no-copy")
	}
	if hints.NoCopyAllowed(jid.MustParse("juliet@capulet.lit")) {
		t.Error("XEP-0334 §4.3: not on a message to a bare JID")
	}
}
