package csi_test

import (
	"errors"
	"testing"

	"github.com/tern-im/tern/protocol/csi"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/stream"
)

func mustParse(t testing.TB, s string) *xmlstream.Element {
	t.Helper()
	e, err := xmlstream.Parse([]byte(s))
	if err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	return e
}

func TestNonzas(t *testing.T) {
	// XEP-0352 examples 2 and 3.
	tests := []struct {
		state csi.State
		xml   string
	}{
		{csi.Inactive, `<inactive xmlns='urn:xmpp:csi:0'/>`},
		{csi.Active, `<active xmlns='urn:xmpp:csi:0'/>`},
	}
	for _, tt := range tests {
		if got := tt.state.Element().String(); got != tt.xml {
			t.Errorf("%s.Element = %s, want %s", tt.state, got, tt.xml)
		}
		if got, err := csi.Parse(mustParse(t, tt.xml)); got != tt.state || err != nil {
			t.Errorf("Parse(%s) = %q, %v", tt.xml, got, err)
		}
	}
	for _, x := range []string{`<active xmlns='http://jabber.org/protocol/chatstates'/>`, `<away xmlns='urn:xmpp:csi:0'/>`} {
		if _, err := csi.Parse(mustParse(t, x)); !errors.Is(err, csi.ErrMalformed) {
			t.Errorf("Parse(%s) = %v, want ErrMalformed", x, err)
		}
	}
}

func TestSupported(t *testing.T) {
	tests := []struct {
		xml  string
		want bool
	}{
		// XEP-0352 example 1.
		{`<stream:features xmlns:stream='http://etherx.jabber.org/streams'>
        <bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>
        <csi xmlns='urn:xmpp:csi:0'/>
      </stream:features>`, true},
		{`<stream:features xmlns:stream='http://etherx.jabber.org/streams'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>`, false},
	}
	for _, tt := range tests {
		f, err := stream.ParseFeatures(mustParse(t, tt.xml))
		if err != nil {
			t.Fatal(err)
		}
		if got := csi.Supported(f); got != tt.want {
			t.Errorf("Supported(%s) = %v", tt.xml, got)
		}
	}
	// Features built by hand, without the raw element.
	if !csi.Supported(stream.Features{CSI: true}) || csi.Supported(stream.Features{}) {
		t.Error("Supported ignores the parsed flag")
	}
}
