package entitytime_test

import (
	"testing"

	"github.com/tern-im/tern/protocol/entitytime"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
)

// FuzzParse: Parse must never panic, what parses must stay within the
// offset limit, and it must survive Element → encode → Parse unchanged.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		el, err := xmlstream.Parse(data)
		if err != nil {
			return
		}
		tm, err := entitytime.Parse(el)
		if err != nil {
			return
		}
		if tm.Offset > entitytime.MaxOffset || tm.Offset < -entitytime.MaxOffset {
			t.Fatalf("offset %v", tm.Offset)
		}
		b := xmlstream.Append(nil, tm.Element(), "")
		back, err := xmlstream.Parse(b)
		if err != nil {
			t.Fatalf("our element does not parse: %s: %v", b, err)
		}
		again, err := entitytime.Parse(back)
		if err != nil || !again.UTC.Equal(tm.UTC) || again.Offset != tm.Offset {
			t.Fatalf("round trip: %+v -> %s -> %+v, %v", tm, b, again, err)
		}
	})
}
