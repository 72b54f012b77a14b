package vcard_test

import (
	"reflect"
	"testing"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/vcard"
)

// FuzzParse: Parse must never panic, the photo limit must hold, and what
// parses must survive Element → encode → Parse unchanged.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		el, err := xmlstream.Parse(data)
		if err != nil {
			return
		}
		v, err := vcard.Parse(el)
		if err != nil {
			return
		}
		if v.Photo != nil && len(v.Photo.Data) > vcard.MaxPhotoSize {
			t.Fatalf("photo of %d bytes", len(v.Photo.Data))
		}
		b := xmlstream.Append(nil, v.Element(), "")
		back, err := xmlstream.Parse(b)
		if err != nil {
			t.Fatalf("our element does not parse: %s: %v", b, err)
		}
		again, err := vcard.Parse(back)
		if err != nil || !reflect.DeepEqual(v, again) {
			t.Fatalf("round trip: %+v -> %s -> %+v, %v", v, b, again, err)
		}
	})
}
