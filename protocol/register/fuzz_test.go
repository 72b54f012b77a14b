package register_test

import (
	"reflect"
	"testing"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/register"
)

// FuzzParse: Parse and ParseError must never panic, and a parsed query
// must survive Element → encode → Parse unchanged.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		el, err := xmlstream.Parse(data)
		if err != nil {
			return
		}
		if err := register.ParseError(el); err != nil && err.Error() == "" {
			t.Fatal("empty error message")
		}
		q, err := register.Parse(el)
		if err != nil {
			return
		}
		q.SubmitFields(map[string]string{"username": "u", "password": "p"})
		b := xmlstream.Append(nil, q.Element(), "")
		back, err := xmlstream.Parse(b)
		if err != nil {
			t.Fatalf("our element does not parse: %s: %v", b, err)
		}
		again, err := register.Parse(back)
		if err != nil || !reflect.DeepEqual(q, again) {
			t.Fatalf("round trip: %+v -> %s -> %+v, %v", q, b, again, err)
		}
	})
}
