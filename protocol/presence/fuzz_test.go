package presence_test

import (
	"reflect"
	"testing"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/presence"
)

// FuzzParse: Parse must never panic, and what parses must survive
// Element → encode → Parse unchanged.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		el, err := xmlstream.Parse(data)
		if err != nil {
			return
		}
		p, err := presence.Parse(el)
		if err != nil {
			return
		}
		if len(p.Status) > presence.MaxStatuses {
			t.Fatalf("limits: %+v", p)
		}
		p.StatusIn([]string{"en", "cs-CZ"})
		b := xmlstream.Append(nil, p.Element(), "")
		back, err := xmlstream.Parse(b)
		if err != nil {
			t.Fatalf("our element does not parse: %s: %v", b, err)
		}
		again, err := presence.Parse(back)
		if err != nil || !reflect.DeepEqual(p, again) {
			t.Fatalf("round trip: %+v -> %s -> %+v, %v", p, b, again, err)
		}
	})
}
