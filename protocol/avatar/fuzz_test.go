package avatar_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/tern-im/tern/protocol/avatar"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
)

// FuzzParse feeds the same bytes to the XML parsers and, as an image, to
// Check and Decode. Nothing may panic, metadata and updates must
// round-trip, and Decode must honour the limits.
func FuzzParse(f *testing.F) {
	limits := avatar.Limits{MaxBytes: 1 << 16, MaxWidth: 256, MaxHeight: 256, MaxPixels: 128 * 128}
	f.Fuzz(func(t *testing.T, data []byte) {
		if img, info, err := avatar.Decode(data, limits); err == nil {
			b := img.Bounds()
			if b.Dx() > 256 || b.Dy() > 256 || info.Width*info.Height > 128*128 || info.ID != avatar.ID(data) {
				t.Fatalf("Decode beyond limits: %v %+v", b, info)
			}
		} else if !errors.Is(err, avatar.ErrNotImage) && !errors.Is(err, avatar.ErrTooLarge) {
			t.Fatalf("Decode: unexpected error %v", err)
		}

		el, err := xmlstream.Parse(data)
		if err != nil {
			return
		}
		if m, err := avatar.ParseMetadata(el); err == nil {
			again, err := avatar.ParseMetadata(reparse(t, m.Element()))
			if err != nil || !reflect.DeepEqual(m, again) {
				t.Fatalf("metadata round trip: %+v -> %+v, %v", m, again, err)
			}
		}
		if u, err := avatar.ParseUpdate(el); err == nil {
			again, err := avatar.ParseUpdate(reparse(t, u.Element()))
			if err != nil || again != u {
				t.Fatalf("update round trip: %+v -> %+v, %v", u, again, err)
			}
		}
		avatar.ParseMetadataItem(el)
		if d, err := avatar.ParseDataItem(el, limits); err == nil && len(d) > limits.MaxBytes {
			t.Fatalf("data of %d bytes", len(d))
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
