package caps_test

import (
	"testing"

	"github.com/tern-im/tern/protocol/caps"
	"github.com/tern-im/tern/protocol/form"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
)

// FuzzParse: Parse must never panic and must round-trip; Ver over any
// disco#info-shaped input must never panic and must be order-independent
// enough that Verify accepts what Ver produced.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		el, err := xmlstream.Parse(data)
		if err != nil {
			return
		}
		if c, err := caps.Parse(el); err == nil {
			back, err := caps.Parse(mustReparse(t, c.Element()))
			if err != nil || back != c {
				t.Fatalf("round trip %+v -> %+v, %v", c, back, err)
			}
		}
		var in caps.Info
		for _, c := range el.Children {
			switch c.Name.Local {
			case "identity":
				in.Identities = append(in.Identities, caps.Identity{Category: c.Get("category"), Type: c.Get("type"), Lang: c.Lang(), Name: c.Get("name")})
			case "feature":
				in.Features = append(in.Features, c.Get("var"))
			case "x":
				if fm, err := form.Parse(c); err == nil {
					in.Forms = append(in.Forms, fm)
				}
			}
		}
		ver, err := caps.Ver(in, caps.HashSHA256)
		if err == nil && !caps.Verify(in, caps.HashSHA256, ver) {
			t.Fatalf("Verify rejects its own ver for %+v", in)
		}
	})
}

func mustReparse(t *testing.T, el *xmlstream.Element) *xmlstream.Element {
	t.Helper()
	b := xmlstream.Append(nil, el, "")
	back, err := xmlstream.Parse(b)
	if err != nil {
		t.Fatalf("our element does not parse: %s: %v", b, err)
	}
	return back
}
