package mam_test

import (
	"slices"
	"testing"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/mam"
)

// FuzzParse feeds arbitrary elements to ParseResult, ParseFin and
// ParsePrefs. None may panic, and what parses must survive Element →
// encode → parse unchanged.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		el, err := xmlstream.Parse(data)
		if err != nil {
			return
		}
		reparse := func(e *xmlstream.Element) *xmlstream.Element {
			b := xmlstream.Append(nil, e, "")
			back, err := xmlstream.Parse(b)
			if err != nil {
				t.Fatalf("our element %s does not parse: %v", b, err)
			}
			return back
		}
		if r, err := mam.ParseResult(el); err == nil {
			msg := xmlstream.New("jabber:client", "message").Append(r.Element())
			if !r.From.IsZero() {
				msg.Set("from", r.From.String())
			}
			again, err := mam.ParseResult(reparse(msg))
			if err != nil || again.From != r.From || again.QueryID != r.QueryID || again.ID != r.ID ||
				again.Forwarded.Stanza.String() != r.Forwarded.Stanza.String() || (again.Forwarded.Delay == nil) != (r.Forwarded.Delay == nil) {
				t.Fatalf("result round trip %s -> %+v, %v", msg, again, err)
			}
		}
		if fin, err := mam.ParseFin(el); err == nil {
			again, err := mam.ParseFin(reparse(xmlstream.New("jabber:client", "iq").Append(fin.Element())))
			if err != nil || again != fin {
				t.Fatalf("fin round trip %+v -> %+v, %v", fin, again, err)
			}
		}
		if p, err := mam.ParsePrefs(el); err == nil {
			if len(p.Always)+len(p.Never) > mam.MaxPrefsJIDs {
				t.Fatalf("%d JIDs", len(p.Always)+len(p.Never))
			}
			again, err := mam.ParsePrefs(reparse(mam.SetPrefsRequest(p)))
			if err != nil || again.Default != p.Default || !slices.Equal(again.Always, p.Always) || !slices.Equal(again.Never, p.Never) {
				t.Fatalf("prefs round trip %+v -> %+v, %v", p, again, err)
			}
		}
	})
}
