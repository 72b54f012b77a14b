package forward_test

import (
	"testing"

	"github.com/tern-im/tern/protocol/forward"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
)

// FuzzParse feeds arbitrary elements to Parse and Find. Neither may panic;
// what parses must survive Element → encode → Parse with the same stanza
// and delay.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		el, err := xmlstream.Parse(data)
		if err != nil {
			return
		}
		_, _ = forward.Find(el)
		fw, err := forward.Parse(el)
		if err != nil {
			return
		}
		b := xmlstream.Append(nil, fw.Element(), "")
		back, err := xmlstream.Parse(b)
		if err != nil {
			t.Fatalf("our element %s does not parse: %v", b, err)
		}
		again, err := forward.Parse(back)
		if err != nil {
			t.Fatalf("round trip %s: %v", b, err)
		}
		if again.Stanza.String() != fw.Stanza.String() || (again.Delay == nil) != (fw.Delay == nil) ||
			fw.Delay != nil && (!again.Delay.Stamp.Equal(fw.Delay.Stamp) || again.Delay.From != fw.Delay.From || again.Delay.Reason != fw.Delay.Reason) {
			t.Fatalf("round trip changed %s into %s", fw.Element(), again.Element())
		}
	})
}
