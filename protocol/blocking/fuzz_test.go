package blocking_test

import (
	"reflect"
	"testing"

	"github.com/tern-im/tern/protocol/blocking"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
)

// FuzzParse: ParseList and ParseCommand must never panic and must
// round-trip; a command with items is never read as "unblock all".
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		el, err := xmlstream.Parse(data)
		if err != nil {
			return
		}
		if l, err := blocking.ParseList(el); err == nil {
			again, err := blocking.ParseList(reparse(t, l.Element()))
			if err != nil || !reflect.DeepEqual(l, again) {
				t.Fatalf("list round trip: %v -> %v, %v", l, again, err)
			}
		}
		c, err := blocking.ParseCommand(el)
		if err != nil {
			return
		}
		if c.All() {
			p := el
			if el.Name.Local == "iq" {
				p = el.Child(blocking.NS, "unblock")
			}
			if p.Child(blocking.NS, "item") != nil {
				t.Fatalf("unblock with items read as unblock-all: %s", el)
			}
		}
		again, err := blocking.ParseCommand(reparse(t, c.Element()))
		if err != nil || !reflect.DeepEqual(c, again) {
			t.Fatalf("command round trip: %+v -> %+v, %v", c, again, err)
		}
	})
}

func reparse(t *testing.T, el *xmlstream.Element) *xmlstream.Element {
	t.Helper()
	b := xmlstream.Append(nil, el, "")
	back, err := xmlstream.Parse(b)
	if err != nil {
		t.Fatalf("our element does not parse: %s: %v", b, err)
	}
	return back
}
