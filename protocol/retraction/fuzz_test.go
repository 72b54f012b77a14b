package retraction_test

import (
	"testing"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/retraction"
)

// FuzzParse feeds arbitrary messages to Parse and ParseTombstone. Neither
// may panic; what parses must survive being built again and parsed back.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		el, err := xmlstream.Parse(data)
		if err != nil {
			return
		}
		if id, err := retraction.Parse(el); err == nil {
			b := xmlstream.Append(nil, retraction.Message(jid.JID{}, "chat", "r", id), "")
			back, err := xmlstream.Parse(b)
			if err != nil {
				t.Fatalf("our retraction %s does not parse: %v", b, err)
			}
			if again, err := retraction.Parse(back); err != nil || again != id {
				t.Fatalf("round trip %q -> %s -> %q, %v", id, b, again, err)
			}
		}
		if ts, err := retraction.ParseTombstone(el); err == nil {
			b := xmlstream.Append(nil, xmlstream.New("jabber:client", "message").Append(ts.Element()), "")
			back, err := xmlstream.Parse(b)
			if err != nil {
				t.Fatalf("our tombstone %s does not parse: %v", b, err)
			}
			again, err := retraction.ParseTombstone(back)
			if err != nil || again.ID != ts.ID || again.By != ts.By || !again.Stamp.Equal(ts.Stamp) {
				t.Fatalf("round trip %+v -> %s -> %+v, %v", ts, b, again, err)
			}
		}
	})
}
