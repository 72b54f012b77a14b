package reply_test

import (
	"testing"
	"unicode/utf8"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/reply"
)

// FuzzParse feeds arbitrary messages to Parse, FallbackRanges and
// StripFallback (on the message's own body). Nothing may panic, ranges
// must lie inside the body, stripping must only remove text, and a reply
// that parses must round-trip.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		el, err := xmlstream.Parse(data)
		if err != nil {
			return
		}
		body := el.ChildText("jabber:client", "body")
		n := utf8.RuneCountInString(body)
		ranges := reply.FallbackRanges(el, n)
		if len(ranges) > reply.MaxRanges {
			t.Fatalf("%d ranges", len(ranges))
		}
		for _, r := range ranges {
			if r.Start < 0 || r.Start > r.End || r.End > n {
				t.Fatalf("range %+v outside a body of %d code points", r, n)
			}
		}
		stripped := reply.StripFallback(el, body)
		if len(stripped) > len(body) || (len(ranges) == 0 && stripped != body) {
			t.Fatalf("StripFallback(%q) = %q with ranges %v", body, stripped, ranges)
		}
		r, err := reply.Parse(el)
		if err != nil {
			return
		}
		b := xmlstream.Append(nil, xmlstream.New("jabber:client", "message").Append(r.Element()), "")
		back, err := xmlstream.Parse(b)
		if err != nil {
			t.Fatalf("our reply %s does not parse: %v", b, err)
		}
		if again, err := reply.Parse(back); err != nil || again != r {
			t.Fatalf("round trip %+v -> %s -> %+v, %v", r, b, again, err)
		}
	})
}
