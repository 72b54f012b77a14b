package message_test

import (
	"testing"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/message"
)

// FuzzParse feeds arbitrary elements to Parse (with and without a stream
// language) and the results to Body. Nothing may panic, and every message
// that parses must survive Element → encode → Parse unchanged.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		el, err := xmlstream.Parse(data)
		if err != nil {
			return
		}
		for _, streamLang := range []string{"", "en"} {
			m, err := message.Parse(el, streamLang)
			if err != nil {
				continue
			}
			if len(m.Bodies) > message.MaxAlternatives || len(m.Subjects) > message.MaxAlternatives {
				t.Fatalf("%d bodies, %d subjects", len(m.Bodies), len(m.Subjects))
			}
			body := m.Body([]string{"de-CH", "en_US.UTF-8", ""})
			if len(m.Bodies) > 0 {
				found := false
				for _, v := range m.Bodies {
					found = found || v == body
				}
				if !found {
					t.Fatalf("Body = %q is none of %q", body, m.Bodies)
				}
			}
			b := xmlstream.Append(nil, m.Element(), "")
			back, err := xmlstream.Parse(b)
			if err != nil {
				t.Fatalf("our message %s does not parse: %v", b, err)
			}
			again, err := message.Parse(back, streamLang)
			if err != nil || !equal(again, m) {
				t.Fatalf("round trip %+v -> %s -> %+v, %v", m, b, again, err)
			}
		}
	})
}
