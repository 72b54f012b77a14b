package sasl_test

import (
	"crypto/tls"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/sasl"
)

const nsStream = "http://etherx.jabber.org/streams"

func features(children ...*xmlstream.Element) *xmlstream.Element {
	return xmlstream.New(nsStream, "features").Append(children...)
}

func mechanisms(names ...string) *xmlstream.Element {
	m := xmlstream.New(sasl.NS, "mechanisms")
	for _, n := range names {
		m.Append(xmlstream.New(sasl.NS, "mechanism").SetText(n))
	}
	return m
}

func bindings(types ...string) *xmlstream.Element {
	e := xmlstream.New(sasl.NSChannelBinding, "sasl-channel-binding")
	for _, typ := range types {
		e.Append(xmlstream.New(sasl.NSChannelBinding, "channel-binding", "type", typ))
	}
	return e
}

func TestParseOffer(t *testing.T) {
	tests := []struct {
		name     string
		features *xmlstream.Element
		want     sasl.Offer
	}{
		{"nil", nil, sasl.Offer{}},
		{"no mechanisms", features(xmlstream.New("urn:ietf:params:xml:ns:xmpp-tls", "starttls")), sasl.Offer{}},
		{
			// XEP-0440 §2, SASL1 example.
			"XEP-0440 example",
			features(bindings("tls-server-end-point", "tls-exporter"), mechanisms("EXTERNAL", "SCRAM-SHA-1-PLUS", "PLAIN")),
			sasl.Offer{
				Mechanisms:      []string{"EXTERNAL", "SCRAM-SHA-1-PLUS", "PLAIN"},
				ChannelBindings: []string{"tls-server-end-point", "tls-exporter"},
			},
		},
		{
			"empty binding list",
			features(mechanisms("SCRAM-SHA-1"), bindings()),
			sasl.Offer{Mechanisms: []string{"SCRAM-SHA-1"}, ChannelBindings: []string{}},
		},
		{
			"whitespace and foreign elements",
			features(
				mechanisms(" SCRAM-SHA-256\n", "", "PLAIN").Append(xmlstream.New("urn:other", "mechanism").SetText("EVIL")),
				// A <mechanisms/> in another namespace (SASL2 is different) is not ours.
				xmlstream.New("urn:xmpp:sasl:2", "authentication").Append(xmlstream.New("urn:xmpp:sasl:2", "mechanism").SetText("SCRAM-SHA-1")),
				bindings("tls-exporter", "").Append(xmlstream.New(sasl.NSChannelBinding, "other", "type", "x")),
			),
			sasl.Offer{Mechanisms: []string{"SCRAM-SHA-256", "PLAIN"}, ChannelBindings: []string{"tls-exporter"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := sasl.ParseOffer(tc.features)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("ParseOffer = %#v, want %#v", got, tc.want)
			}
		})
	}
}

var allMechs = []string{"PLAIN", "SCRAM-SHA-1", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-256-PLUS", "SCRAM-SHA-512", "SCRAM-SHA-512-PLUS"}

func TestSelectOrder(t *testing.T) {
	creds := sasl.Credentials{Username: "u", Password: "p"}
	tls13 := fakeTLS(tls.VersionTLS13, sasl.CBTLSExporter, sasl.CBTLSServerEndPoint)
	tests := []struct {
		name   string
		offer  []string
		policy sasl.Policy
		want   string
	}{
		{"all, TLS", allMechs, tls13, "SCRAM-SHA-512-PLUS"},
		{"all, no TLS", allMechs, sasl.Policy{}, "SCRAM-SHA-512"},
		{"256-PLUS beats 512", []string{"SCRAM-SHA-512", "SCRAM-SHA-256-PLUS"}, tls13, "SCRAM-SHA-256-PLUS"},
		{"1-PLUS beats 512", []string{"SCRAM-SHA-1-PLUS", "SCRAM-SHA-512"}, tls13, "SCRAM-SHA-1-PLUS"},
		{"-PLUS needs TLS", []string{"SCRAM-SHA-1-PLUS", "SCRAM-SHA-1"}, sasl.Policy{}, "SCRAM-SHA-1"},
		{"-PLUS needs binding", []string{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-1"}, fakeTLS(tls.VersionTLS13), "SCRAM-SHA-1"},
		{"256 beats 1", []string{"SCRAM-SHA-1", "SCRAM-SHA-256"}, sasl.Policy{}, "SCRAM-SHA-256"},
		{"SCRAM beats PLAIN", []string{"PLAIN", "SCRAM-SHA-1"}, tls13, "SCRAM-SHA-1"},
		{"PLAIN over TLS", []string{"PLAIN", "EXTERNAL", "X-OAUTH2"}, tls13, "PLAIN"},
		{"unknown ignored", []string{"SCRAM-SHA3-512", "SCRAM-SHA-1", "DIGEST-MD5"}, sasl.Policy{}, "SCRAM-SHA-1"},
		{"case matters", []string{"scram-sha-256", "SCRAM-SHA-1"}, sasl.Policy{}, "SCRAM-SHA-1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := mustSelect(t, sasl.Offer{Mechanisms: tc.offer, ChannelBindings: []string{sasl.CBTLSExporter, sasl.CBTLSServerEndPoint}}, tc.policy, creds)
			if c.Mechanism() != tc.want {
				t.Fatalf("selected %s, want %s", c.Mechanism(), tc.want)
			}
		})
	}
}

// TestSelectAllow forces each mechanism in turn.
func TestSelectAllow(t *testing.T) {
	creds := sasl.Credentials{Username: "u", Password: "p"}
	p := fakeTLS(tls.VersionTLS13, sasl.CBTLSExporter)
	for _, mech := range allMechs {
		p.Allow = []string{mech}
		c := mustSelect(t, sasl.Offer{Mechanisms: allMechs, ChannelBindings: []string{sasl.CBTLSExporter}}, p, creds)
		if c.Mechanism() != mech {
			t.Errorf("Allow %s: selected %s", mech, c.Mechanism())
		}
		wantCB := ""
		if strings.HasSuffix(mech, "-PLUS") {
			wantCB = sasl.CBTLSExporter
		}
		if c.ChannelBinding() != wantCB {
			t.Errorf("Allow %s: binding %q, want %q", mech, c.ChannelBinding(), wantCB)
		}
	}
	// Allow picks the strongest of several allowed.
	p.Allow = []string{"PLAIN", "SCRAM-SHA-1", "SCRAM-SHA-256"}
	if c := mustSelect(t, sasl.Offer{Mechanisms: allMechs, ChannelBindings: []string{sasl.CBTLSExporter}}, p, creds); c.Mechanism() != "SCRAM-SHA-256" {
		t.Errorf("selected %s", c.Mechanism())
	}
	// Nothing allowed is offered.
	p.Allow = []string{"SCRAM-SHA-512"}
	_, err := sasl.Select(sasl.Offer{Mechanisms: []string{"SCRAM-SHA-1"}}, p, creds)
	if !errors.Is(err, sasl.ErrNoMechanism) {
		t.Errorf("Select: %v", err)
	}
}

func TestSelectNoMechanism(t *testing.T) {
	creds := sasl.Credentials{Username: "u", Password: "p"}
	tests := []struct {
		name     string
		offer    []string
		policy   sasl.Policy
		contains []string
	}{
		{"nothing offered", nil, sasl.Policy{}, []string{"offered nothing"}},
		{"PLAIN without TLS", []string{"PLAIN", "X-UNKNOWN"}, sasl.Policy{}, []string{"PLAIN, X-UNKNOWN", "without TLS"}},
		{"-PLUS without binding", []string{"SCRAM-SHA-256-PLUS"}, fakeTLS(tls.VersionTLS13), []string{"SCRAM-SHA-256-PLUS", "channel binding"}},
		{"-PLUS without TLS", []string{"SCRAM-SHA-1-PLUS"}, sasl.Policy{}, []string{"SCRAM-SHA-1-PLUS", "channel binding"}},
		{"not allowed", []string{"SCRAM-SHA-1"}, sasl.Policy{Allow: []string{"SCRAM-SHA-256"}}, []string{"SCRAM-SHA-1 is not allowed"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := sasl.Select(sasl.Offer{Mechanisms: tc.offer}, tc.policy, creds)
			if c != nil || !errors.Is(err, sasl.ErrNoMechanism) {
				t.Fatalf("Select = %v, %v", c, err)
			}
			for _, s := range tc.contains {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
		})
	}
}

// TestGS2Header checks the channel-binding flag and authzid of the
// client-first-message (RFC 5802 §6, XEP-0440 §3, XEP-0474 §6).
func TestGS2Header(t *testing.T) {
	creds := sasl.Credentials{Username: "u", Password: "p"}
	tests := []struct {
		name   string
		offer  sasl.Offer
		policy sasl.Policy
		creds  sasl.Credentials
		want   string // prefix of the client-first-message
	}{
		{"p= with binding", sasl.Offer{Mechanisms: []string{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"}, ChannelBindings: []string{sasl.CBTLSExporter}},
			fakeTLS(tls.VersionTLS13, sasl.CBTLSExporter), creds, "p=tls-exporter,,n=u,r="},
		{"n: TLS 1.3, -PLUS offered, binding type not advertised", sasl.Offer{Mechanisms: []string{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"}},
			fakeTLS(tls.VersionTLS13, sasl.CBTLSExporter), creds, "n,,n=u,r="},
		{"y: could bind, server offered no -PLUS", sasl.Offer{Mechanisms: []string{"SCRAM-SHA-256"}},
			fakeTLS(tls.VersionTLS13, sasl.CBTLSExporter), creds, "y,,n=u,r="},
		{"y: advertised types we cannot use, no -PLUS", sasl.Offer{Mechanisms: []string{"SCRAM-SHA-256"}, ChannelBindings: []string{"tls-foo"}},
			fakeTLS(tls.VersionTLS12, sasl.CBTLSUnique), creds, "y,,n=u,r="},
		{"n: no TLS", sasl.Offer{Mechanisms: []string{"SCRAM-SHA-256"}},
			sasl.Policy{}, creds, "n,,n=u,r="},
		{"n: TLS but no binding computable", sasl.Offer{Mechanisms: []string{"SCRAM-SHA-256"}},
			fakeTLS(tls.VersionTLS13), creds, "n,,n=u,r="},
		{"n: -PLUS offered, advertised types unusable", sasl.Offer{Mechanisms: []string{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"}, ChannelBindings: []string{"tls-unique"}},
			fakeTLS(tls.VersionTLS13, sasl.CBTLSExporter), creds, "n,,n=u,r="},
		{"n: -PLUS offered but not allowed", sasl.Offer{Mechanisms: []string{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"}},
			func() sasl.Policy {
				p := fakeTLS(tls.VersionTLS13, sasl.CBTLSExporter)
				p.Allow = []string{"SCRAM-SHA-256"}
				return p
			}(),
			creds, "n,,n=u,r="},
		{"n: unknown -PLUS offered", sasl.Offer{Mechanisms: []string{"SCRAM-SHA3-512-PLUS", "SCRAM-SHA-1"}},
			fakeTLS(tls.VersionTLS13, sasl.CBTLSExporter), creds, "n,,n=u,r="},
		{"authzid escaped", sasl.Offer{Mechanisms: []string{"SCRAM-SHA-1"}}, sasl.Policy{},
			sasl.Credentials{Username: "u=1,2", Password: "p", Authzid: "a,b=c@example.org"}, "n,a=a=2Cb=3Dc@example.org,n=u=3D1=2C2,r="},
		{"authzid with binding", sasl.Offer{Mechanisms: []string{"SCRAM-SHA-1-PLUS"}}, fakeTLS(tls.VersionTLS12, sasl.CBTLSUnique),
			sasl.Credentials{Username: "u", Password: "p", Authzid: "admin@example.org"}, "p=tls-unique,a=admin@example.org,n=u,r="},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := mustSelect(t, tc.offer, tc.policy, tc.creds)
			first, err := c.Start()
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(first), tc.want) {
				t.Fatalf("client-first %q, want prefix %q", first, tc.want)
			}
		})
	}
}

// TestChannelBindingChoice covers the XEP-0440 type preference per TLS
// version, with and without an advertised list.
func TestChannelBindingChoice(t *testing.T) {
	all := []string{sasl.CBTLSExporter, sasl.CBTLSServerEndPoint, sasl.CBTLSUnique}
	tests := []struct {
		name       string
		version    uint16
		advertised []string
		computable []string
		want       string
	}{
		{"1.3 not advertised: no guess", tls.VersionTLS13, nil, all, ""},
		{"1.3 default unavailable", tls.VersionTLS13, nil, []string{sasl.CBTLSServerEndPoint}, ""},
		{"1.3 advertised all", tls.VersionTLS13, all, all, sasl.CBTLSExporter},
		{"1.3 advertised end-point", tls.VersionTLS13, []string{sasl.CBTLSServerEndPoint, sasl.CBTLSUnique}, all, sasl.CBTLSServerEndPoint},
		{"1.3 exporter failing", tls.VersionTLS13, all, []string{sasl.CBTLSServerEndPoint}, sasl.CBTLSServerEndPoint},
		{"1.3 only unique advertised", tls.VersionTLS13, []string{sasl.CBTLSUnique}, all, ""},
		{"1.3 empty list", tls.VersionTLS13, []string{}, all, ""},
		{"1.2 default", tls.VersionTLS12, nil, all, sasl.CBTLSUnique},
		{"1.2 default unavailable", tls.VersionTLS12, nil, []string{sasl.CBTLSExporter}, ""},
		{"1.2 advertised all", tls.VersionTLS12, all, all, sasl.CBTLSServerEndPoint},
		{"1.2 unique over exporter", tls.VersionTLS12, []string{sasl.CBTLSExporter, sasl.CBTLSUnique}, all, sasl.CBTLSUnique},
		{"1.2 exporter with EMS", tls.VersionTLS12, []string{sasl.CBTLSExporter}, all, sasl.CBTLSExporter},
		{"1.2 exporter without EMS", tls.VersionTLS12, []string{sasl.CBTLSExporter}, []string{sasl.CBTLSServerEndPoint, sasl.CBTLSUnique}, ""},
		{"unknown advertised", tls.VersionTLS13, []string{"tls-new"}, all, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			offer := sasl.Offer{Mechanisms: []string{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"}, ChannelBindings: tc.advertised}
			c := mustSelect(t, offer, fakeTLS(tc.version, tc.computable...), sasl.Credentials{Username: "u", Password: "p"})
			if c.ChannelBinding() != tc.want {
				t.Fatalf("binding %q, want %q", c.ChannelBinding(), tc.want)
			}
			wantMech := "SCRAM-SHA-256"
			if tc.want != "" {
				wantMech += "-PLUS"
			}
			if c.Mechanism() != wantMech {
				t.Errorf("mechanism %s, want %s", c.Mechanism(), wantMech)
			}
		})
	}
}

func TestPlain(t *testing.T) {
	offer := sasl.Offer{Mechanisms: []string{"PLAIN"}}
	// Refused without TLS, even when explicitly allowed.
	_, err := sasl.Select(offer, sasl.Policy{Allow: []string{"PLAIN"}}, sasl.Credentials{Username: "u", Password: "p"})
	if !errors.Is(err, sasl.ErrNoMechanism) {
		t.Fatalf("PLAIN without TLS: %v", err)
	}

	p := sasl.Policy{TLS: &tls.ConnectionState{Version: tls.VersionTLS13, HandshakeComplete: true}}
	for _, tc := range []struct {
		creds sasl.Credentials
		want  string
	}{
		{sasl.Credentials{Username: "juliet", Password: "r0m€o"}, "\x00juliet\x00r0m€o"},
		{sasl.Credentials{Username: "juliet", Password: "pw", Authzid: "admin@example.org"}, "admin@example.org\x00juliet\x00pw"},
	} {
		c := mustSelect(t, offer, p, tc.creds)
		if c.Mechanism() != sasl.Plain || c.ChannelBinding() != "" {
			t.Fatalf("got %s/%q", c.Mechanism(), c.ChannelBinding())
		}
		if err := c.Finish(nil); !errors.Is(err, sasl.ErrState) {
			t.Errorf("Finish before Start: %v", err)
		}
		msg, err := c.Start()
		if err != nil || string(msg) != tc.want {
			t.Fatalf("Start = %q, %v; want %q", msg, err, tc.want)
		}
		if _, err := c.Start(); !errors.Is(err, sasl.ErrState) {
			t.Errorf("second Start: %v", err)
		}
		if err := c.Finish(nil); err != nil {
			t.Errorf("Finish: %v", err)
		}
	}

	c := mustSelect(t, offer, p, sasl.Credentials{Username: "u", Password: "p"})
	c.Start()
	if _, err := c.Step([]byte("anything")); !errors.Is(err, sasl.ErrState) {
		t.Errorf("Step: %v", err)
	}
	c = mustSelect(t, offer, p, sasl.Credentials{Username: "u", Password: "p"})
	c.Start()
	if err := c.Finish([]byte("v=xyz")); !errors.Is(err, sasl.ErrMalformed) {
		t.Errorf("Finish with data: %v", err)
	}
}

func TestInvalidCredentials(t *testing.T) {
	tlsPolicy := sasl.Policy{TLS: &tls.ConnectionState{Version: tls.VersionTLS13, HandshakeComplete: true}}
	tests := []struct {
		name  string
		mech  string
		creds sasl.Credentials
	}{
		{"SCRAM empty username", "SCRAM-SHA-256", sasl.Credentials{Password: "p"}},
		{"SCRAM empty password", "SCRAM-SHA-256", sasl.Credentials{Username: "u"}},
		{"SCRAM password maps to nothing", "SCRAM-SHA-256", sasl.Credentials{Username: "u", Password: "\u00ad"}},
		{"SCRAM control character", "SCRAM-SHA-256", sasl.Credentials{Username: "u", Password: "tab\there"}},
		{"SCRAM invalid UTF-8", "SCRAM-SHA-256", sasl.Credentials{Username: "u", Password: "\xff"}},
		{"SCRAM NUL in authzid", "SCRAM-SHA-256", sasl.Credentials{Username: "u", Password: "p", Authzid: "a\x00b"}},
		{"SCRAM NUL in username", "SCRAM-SHA-256", sasl.Credentials{Username: "u\x00", Password: "p"}},
		{"PLAIN NUL in password", "PLAIN", sasl.Credentials{Username: "u", Password: "p\x00"}},
		{"PLAIN NUL in authzid", "PLAIN", sasl.Credentials{Username: "u", Password: "p", Authzid: "\x00"}},
		{"PLAIN empty password", "PLAIN", sasl.Credentials{Username: "u"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := sasl.Select(sasl.Offer{Mechanisms: []string{tc.mech}}, tlsPolicy, tc.creds)
			if c != nil || !errors.Is(err, sasl.ErrInvalidCredentials) {
				t.Fatalf("Select = %v, %v", c, err)
			}
		})
	}
}

// TestPasswordPrepared: SCRAM uses the SASLprep'd password, so a password
// typed with a no-break space authenticates against the one with a space.
func TestPasswordPrepared(t *testing.T) {
	c := mustSelect(t, sasl.Offer{Mechanisms: []string{"SCRAM-SHA-256"}}, sasl.Policy{},
		sasl.Credentials{Username: "u", Password: "correct\u00a0horse\u00adbattery"})
	if err := exchange(c, newScramServer("SCRAM-SHA-256", "correct horsebattery"), false); err != nil {
		t.Fatal(err)
	}
}
