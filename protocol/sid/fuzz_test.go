package sid_test

import (
	"testing"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/sid"
)

// FuzzParse feeds arbitrary stanzas to the parsers. None may panic; every
// stanza-id that parses must round-trip, StanzaIDs must return only ids by
// the entity it trusts, and Strip must leave none by that entity behind.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		el, err := xmlstream.Parse(data)
		if err != nil {
			return
		}
		sid.ParseOriginID(el)
		for _, c := range append([]*xmlstream.Element{el}, el.Children...) {
			s, err := sid.ParseStanzaID(c)
			if err != nil {
				continue
			}
			b := xmlstream.Append(nil, s.Element(), "")
			back, err := xmlstream.Parse(b)
			if err != nil {
				t.Fatalf("our stanza-id %s does not parse: %v", b, err)
			}
			if again, err := sid.ParseStanzaID(back); err != nil || again != s {
				t.Fatalf("round trip %+v -> %s -> %+v, %v", s, b, again, err)
			}
			for _, got := range sid.StanzaIDs(el, s.By) {
				if got.By != s.By.Bare() {
					t.Fatalf("StanzaIDs(%s) returned %+v", s.By, got)
				}
			}
			sid.Strip(el, s.By)
			if got := sid.StanzaIDs(el, s.By); len(got) != 0 {
				t.Fatalf("after Strip(%s), StanzaIDs = %+v", s.By, got)
			}
		}
		sid.StanzaIDs(el, jid.MustParse("juliet@capulet.lit"))
	})
}
