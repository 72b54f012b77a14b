package roster_test

import (
	"reflect"
	"testing"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/roster"
)

// FuzzParse: Parse, ParseResult and ParsePush must never panic, and a
// parsed roster must survive Element → encode → Parse unchanged.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		el, err := xmlstream.Parse(data)
		if err != nil {
			return
		}
		roster.ParseResult(el)
		if it, _, err := roster.ParsePush(el); err == nil && it.JID.IsZero() {
			t.Fatalf("push without JID: %s", el)
		}
		q, err := roster.Parse(el)
		if err != nil {
			return
		}
		b := xmlstream.Append(nil, q.Element(), "")
		back, err := xmlstream.Parse(b)
		if err != nil {
			t.Fatalf("our element does not parse: %s: %v", b, err)
		}
		again, err := roster.Parse(back)
		if err != nil || !reflect.DeepEqual(q, again) {
			t.Fatalf("round trip: %+v -> %s -> %+v, %v", q, b, again, err)
		}
	})
}
