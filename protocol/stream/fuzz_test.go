package stream_test

import (
	"errors"
	"testing"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/stream"
)

// FuzzParse feeds arbitrary elements to ParseFeatures and ParseError. Neither
// may panic; a parsed stream error must survive Element → encode → parse
// unchanged, and a redirect it accepts must name a host.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		el, err := xmlstream.Parse(data)
		if err != nil {
			return
		}
		feat, err := stream.ParseFeatures(el)
		if el.Is(stream.NS, "features") {
			if err != nil || feat.Raw != el {
				t.Fatalf("ParseFeatures(%s) = %v", el, err)
			}
			for _, m := range feat.Mechanisms {
				if m == "" {
					t.Fatal("empty mechanism name")
				}
			}
		} else if !errors.Is(err, stream.ErrNotFeatures) {
			t.Fatalf("ParseFeatures(%s) err = %v", el, err)
		}

		se := stream.ParseError(el)
		if se == nil || se.Condition == "" {
			t.Fatalf("ParseError(%s) = %#v", el, se)
		}
		if se.Error() == "" {
			t.Fatal("empty message")
		}
		if host, port, ok := se.Redirect(); ok && host == "" || !ok && (host != "" || port != 0) {
			t.Fatalf("Redirect(%q) = %q, %d, %v", se.SeeOtherHost, host, port, ok)
		}
		b := xmlstream.Append(nil, se.Element(), "jabber:client")
		back, err := xmlstream.Parse(b)
		if err != nil {
			t.Fatalf("our own stream error does not parse: %s: %v", b, err)
		}
		again := stream.ParseError(back)
		if again.Condition != se.Condition || again.Text != se.Text || again.Lang != se.Lang ||
			again.SeeOtherHost != se.SeeOtherHost || (again.App == nil) != (se.App == nil) {
			t.Fatalf("round trip: %#v -> %s -> %#v", se, b, again)
		}
		if !errors.Is(again, se) {
			t.Fatal("round trip changed the condition")
		}
	})
}
