package carbons_test

import (
	"testing"

	"github.com/tern-im/tern/protocol/carbons"
	"github.com/tern-im/tern/protocol/forward"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
)

// FuzzParse feeds arbitrary messages to Unwrap, as our own account
// romeo@montague.example. It must not panic, must accept only carbons from
// our bare JID, and what it accepts must unwrap the same way after being
// wrapped again.
func FuzzParse(f *testing.F) {
	own := jid.MustParse("romeo@montague.example/home")
	f.Fuzz(func(t *testing.T, data []byte) {
		el, err := xmlstream.Parse(data)
		if err != nil {
			return
		}
		carbons.IsPrivate(el)
		inner, sent, err := carbons.Unwrap(el, own)
		if err != nil {
			if inner != nil {
				t.Fatalf("Unwrap returned %s with error %v", inner, err)
			}
			return
		}
		if from, err := jid.Parse(el.Get("from")); err != nil || from != own.Bare() {
			t.Fatalf("accepted a carbon from %q", el.Get("from"))
		}
		if inner.Name.Local != "message" {
			t.Fatalf("unwrapped %s", inner)
		}
		wrapper := "received"
		if sent {
			wrapper = "sent"
		}
		again := xmlstream.New("jabber:client", "message", "from", "romeo@montague.example").Append(
			xmlstream.New(carbons.NS, wrapper).Append(forward.Forwarded{Stanza: inner}.Element()))
		b := xmlstream.Append(nil, again, "")
		back, err := xmlstream.Parse(b)
		if err != nil {
			t.Fatalf("our carbon %s does not parse: %v", b, err)
		}
		inner2, sent2, err := carbons.Unwrap(back, own)
		if err != nil || sent2 != sent || inner2.String() != inner.String() {
			t.Fatalf("round trip %s -> %s, %v, %v", b, inner2, sent2, err)
		}
	})
}
