package reactions_test

import (
	"slices"
	"testing"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/reactions"
)

// FuzzParse feeds arbitrary messages to Parse. It must not panic; what it
// returns must respect the limits, hold only valid distinct emoji, and
// survive Message → encode → Parse unchanged.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		el, err := xmlstream.Parse(data)
		if err != nil {
			return
		}
		r, err := reactions.Parse(el)
		if err != nil {
			return
		}
		if len(r.Emoji) > reactions.MaxReactions || r.ID == "" || len(r.ID) > reactions.MaxID {
			t.Fatalf("Parse = %+v beyond the limits", r)
		}
		for i, e := range r.Emoji {
			if !reactions.Valid(e) || slices.Contains(r.Emoji[:i], e) {
				t.Fatalf("Parse returned invalid or repeated reaction %q", e)
			}
		}
		b := xmlstream.Append(nil, reactions.Message(jid.JID{}, "chat", "x", r), "")
		back, err := xmlstream.Parse(b)
		if err != nil {
			t.Fatalf("our message %s does not parse: %v", b, err)
		}
		again, err := reactions.Parse(back)
		if err != nil || again.ID != r.ID || !slices.Equal(again.Emoji, r.Emoji) {
			t.Fatalf("round trip %+v -> %s -> %+v, %v", r, b, again, err)
		}
	})
}
