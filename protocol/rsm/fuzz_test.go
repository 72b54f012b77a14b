package rsm_test

import (
	"testing"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/rsm"
)

// FuzzParse feeds arbitrary elements to Parse and ParseResult. Neither may
// panic, and what parses must survive Element → encode → parse unchanged.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		el, err := xmlstream.Parse(data)
		if err != nil {
			return
		}
		if s, err := rsm.Parse(el); err == nil {
			b := xmlstream.Append(nil, s.Element(), "")
			back, err := xmlstream.Parse(b)
			if err != nil {
				t.Fatalf("our set %s does not parse: %v", b, err)
			}
			if s.CountOnly && s.Max != 0 || s.Last && s.Before != "" {
				t.Fatalf("Parse = %+v: contradictory fields", s)
			}
			if again, err := rsm.Parse(back); err != nil || again != s {
				t.Fatalf("round trip %+v -> %s -> %+v, %v", s, b, again, err)
			}
		}
		if r, err := rsm.ParseResult(el); err == nil {
			b := xmlstream.Append(nil, r.Element(), "")
			back, err := xmlstream.Parse(b)
			if err != nil {
				t.Fatalf("our result %s does not parse: %v", b, err)
			}
			if again, err := rsm.ParseResult(back); err != nil || again != r {
				t.Fatalf("round trip %+v -> %s -> %+v, %v", r, b, again, err)
			}
		}
	})
}
