package disco_test

import (
	"reflect"
	"testing"

	"github.com/tern-im/tern/protocol/disco"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
)

// FuzzParse: ParseInfo and ParseItems must never panic, and what parses
// must survive Element → encode → parse unchanged.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		el, err := xmlstream.Parse(data)
		if err != nil {
			return
		}
		if info, err := disco.ParseInfo(el); err == nil {
			b := xmlstream.Append(nil, info.Element(), "")
			back, err := xmlstream.Parse(b)
			if err != nil {
				t.Fatalf("our element does not parse: %s: %v", b, err)
			}
			again, err := disco.ParseInfo(back)
			if err != nil || !reflect.DeepEqual(info, again) {
				t.Fatalf("info round trip: %+v -> %s -> %+v, %v", info, b, again, err)
			}
		}
		if items, err := disco.ParseItems(el); err == nil {
			b := xmlstream.Append(nil, items.Element(), "")
			back, err := xmlstream.Parse(b)
			if err != nil {
				t.Fatalf("our element does not parse: %s: %v", b, err)
			}
			again, err := disco.ParseItems(back)
			if err != nil || !reflect.DeepEqual(items, again) {
				t.Fatalf("items round trip: %+v -> %s -> %+v, %v", items, b, again, err)
			}
		}
	})
}
