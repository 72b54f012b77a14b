package delay_test

import (
	"testing"

	"github.com/tern-im/tern/protocol/delay"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
)

// FuzzParse feeds arbitrary elements to Parse and Find. Neither may panic,
// and every notation that parses must survive Element → encode → Parse.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		el, err := xmlstream.Parse(data)
		if err != nil {
			return
		}
		delay.Find(el)
		d, err := delay.Parse(el)
		if err != nil {
			return
		}
		if d.Stamp.Location().String() != "UTC" {
			t.Fatalf("stamp %v not in UTC", d.Stamp)
		}
		b := xmlstream.Append(nil, d.Element(), "")
		back, err := xmlstream.Parse(b)
		if err != nil {
			t.Fatalf("our element %s does not parse: %v", b, err)
		}
		again, err := delay.Parse(back)
		if err != nil || !again.Stamp.Equal(d.Stamp) || again.From != d.From || again.Reason != d.Reason {
			t.Fatalf("round trip %+v -> %s -> %+v, %v", d, b, again, err)
		}
	})
}
