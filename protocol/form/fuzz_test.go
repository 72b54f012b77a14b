package form_test

import (
	"reflect"
	"testing"

	"github.com/tern-im/tern/protocol/form"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
)

// FuzzParse: Parse must never panic, what parses must survive
// Element → encode → Parse unchanged, and Submit must never panic.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		el, err := xmlstream.Parse(data)
		if err != nil {
			return
		}
		fm, err := form.Parse(el)
		if err != nil {
			return
		}
		b := xmlstream.Append(nil, fm.Element(), "")
		back, err := xmlstream.Parse(b)
		if err != nil {
			t.Fatalf("our element does not parse: %s: %v", b, err)
		}
		again, err := form.Parse(back)
		if err != nil || !reflect.DeepEqual(fm, again) {
			t.Fatalf("round trip: %+v -> %s -> %+v, %v", fm, b, again, err)
		}
		values := make(map[string][]string)
		for _, fd := range fm.Fields {
			if len(fd.Options) > 0 {
				values[fd.Var] = []string{fd.Options[0].Value}
			}
		}
		if sub, err := fm.Submit(values); err == nil && sub.Type != form.TypeSubmit {
			t.Fatalf("Submit type %q", sub.Type)
		}
	})
}
