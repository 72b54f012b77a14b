package sasl_test

import (
	"crypto/sha1"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/tern-im/tern/protocol/sasl"
)

var userPencil = sasl.Credentials{Username: "user", Password: "pencil"}

// TestRFCExamples replays RFC 5802 §5 (SCRAM-SHA-1) and RFC 7677 §3
// (SCRAM-SHA-256) byte for byte.
func TestRFCExamples(t *testing.T) {
	tests := []struct {
		name, mech, nonce                                string
		clientFirst, serverFirst, clientFinal, serverFin string
	}{
		{
			name:        "RFC 5802",
			mech:        sasl.SCRAMSHA1,
			nonce:       "fyko+d2lbbFgONRv9qkxdawL",
			clientFirst: "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
			serverFirst: "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
			clientFinal: "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
			serverFin:   "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=",
		},
		{
			name:        "RFC 7677",
			mech:        sasl.SCRAMSHA256,
			nonce:       "rOprNGfwEbeRWgbNEkqO",
			clientFirst: "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
			serverFirst: "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
			clientFinal: "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
			serverFin:   "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := mustSelect(t, sasl.Offer{Mechanisms: []string{tc.mech}}, sasl.Policy{}, userPencil)
			sasl.SetNonce(c, tc.nonce)
			if c.Mechanism() != tc.mech || c.ChannelBinding() != "" {
				t.Fatalf("mechanism %q binding %q", c.Mechanism(), c.ChannelBinding())
			}
			first, err := c.Start()
			if err != nil || string(first) != tc.clientFirst {
				t.Fatalf("Start = %q, %v; want %q", first, err, tc.clientFirst)
			}
			final, err := c.Step([]byte(tc.serverFirst))
			if err != nil || string(final) != tc.clientFinal {
				t.Fatalf("Step = %q, %v; want %q", final, err, tc.clientFinal)
			}
			if got := c.(*sasl.SCRAMClient).Iterations(); got != 4096 {
				t.Errorf("Iterations = %d, want 4096", got)
			}
			if err := c.Finish([]byte(tc.serverFin)); err != nil {
				t.Fatalf("Finish: %v", err)
			}
		})
	}
}

// TestRoundTrip runs every SCRAM variant against the test-side server, with
// usernames and authzids that need escaping, and with the server-final
// message delivered both in <success/> and in a challenge.
func TestRoundTrip(t *testing.T) {
	mechs := []string{sasl.SCRAMSHA512Plus, sasl.SCRAMSHA256Plus, sasl.SCRAMSHA1Plus,
		sasl.SCRAMSHA512, sasl.SCRAMSHA256, sasl.SCRAMSHA1}
	creds := []sasl.Credentials{
		{Username: "juliet", Password: "r0meo!"},
		{Username: "a=b,c", Password: "pässwörd with spaces", Authzid: "x=y,z@example.org"},
	}
	for _, mech := range mechs {
		for _, cr := range creds {
			for _, inChallenge := range []bool{false, true} {
				name := mech + "/" + cr.Username
				if inChallenge {
					name += "/challenge"
				}
				t.Run(name, func(t *testing.T) {
					p := fakeTLS(tls.VersionTLS13, sasl.CBTLSExporter)
					offer := sasl.Offer{Mechanisms: []string{mech}}
					if strings.HasSuffix(mech, "-PLUS") {
						// On TLS 1.3 a binding is used only when advertised (XEP-0440).
						offer.ChannelBindings = []string{sasl.CBTLSExporter}
					}
					c := mustSelect(t, offer, p, cr)
					if c.Mechanism() != mech {
						t.Fatalf("Mechanism = %q", c.Mechanism())
					}
					s := newScramServer(mech, cr.Password)
					s.cbData = []byte("cb:" + sasl.CBTLSExporter)
					if err := exchange(c, s, inChallenge); err != nil {
						t.Fatal(err)
					}
					if s.username != cr.Username || s.authzid != cr.Authzid {
						t.Errorf("server saw user %q authzid %q", s.username, s.authzid)
					}
					wantFlag := "y" // TLS with binding possible, but no -PLUS offered
					if strings.HasSuffix(mech, "-PLUS") {
						wantFlag = "p=tls-exporter"
					}
					if s.cbFlag != wantFlag {
						t.Errorf("cb flag %q, want %q", s.cbFlag, wantFlag)
					}
				})
			}
		}
	}
}

// TestWrongPassword: the test server rejects the proof of a client with the
// wrong password.
func TestWrongPassword(t *testing.T) {
	c := mustSelect(t, sasl.Offer{Mechanisms: []string{sasl.SCRAMSHA512}}, sasl.Policy{}, userPencil)
	s := newScramServer(sasl.SCRAMSHA512, "pencil2")
	if err := exchange(c, s, false); err == nil || !strings.Contains(err.Error(), "invalid-proof") {
		t.Fatalf("exchange with wrong password: %v", err)
	}
}

func TestNonce(t *testing.T) {
	seen := map[string]bool{}
	for range 8 {
		c := mustSelect(t, sasl.Offer{Mechanisms: []string{sasl.SCRAMSHA256}}, sasl.Policy{}, userPencil)
		first, err := c.Start()
		if err != nil {
			t.Fatal(err)
		}
		_, nonce, ok := strings.Cut(string(first), ",r=")
		if !ok {
			t.Fatalf("no nonce in %q", first)
		}
		if len(nonce) < 32 { // 24 random bytes, base64
			t.Errorf("nonce %q too short", nonce)
		}
		for _, r := range nonce {
			if r < 0x21 || r > 0x7e || r == ',' {
				t.Errorf("nonce %q not printable", nonce)
			}
		}
		if seen[nonce] {
			t.Errorf("nonce %q repeated", nonce)
		}
		seen[nonce] = true
	}
}

// startSHA1 returns a SCRAM-SHA-1 client with the RFC 5802 nonce, started.
func startSHA1(t *testing.T) sasl.Client {
	t.Helper()
	c := mustSelect(t, sasl.Offer{Mechanisms: []string{sasl.SCRAMSHA1}}, sasl.Policy{}, userPencil)
	sasl.SetNonce(c, "fyko+d2lbbFgONRv9qkxdawL")
	if _, err := c.Start(); err != nil {
		t.Fatal(err)
	}
	return c
}

const (
	rfcServerFirst = "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096"
	rfcServerFinal = "v=rmF9pqV8S7suAoZWja4dJRkFsKQ="
)

func TestMalformedServerFirst(t *testing.T) {
	const n = "fyko+d2lbbFgONRv9qkxdawL"
	tests := []struct {
		name, msg string
		want      error
	}{
		{"empty", "", sasl.ErrMalformed},
		{"not UTF-8", "r=" + n + "x\xff,s=QSXCR+Q6sek8bf92,i=4096", sasl.ErrMalformed},
		{"no equals", "r" + n + "x,s=QSXCR+Q6sek8bf92,i=4096", sasl.ErrMalformed},
		{"empty attribute", "r=" + n + "x,,s=QSXCR+Q6sek8bf92,i=4096", sasl.ErrMalformed},
		{"digit attribute name", "r=" + n + "x,s=QSXCR+Q6sek8bf92,i=4096,1=x", sasl.ErrMalformed},
		{"wrong order", "s=QSXCR+Q6sek8bf92,r=" + n + "x,i=4096", sasl.ErrMalformed},
		{"missing i", "r=" + n + "x,s=QSXCR+Q6sek8bf92", sasl.ErrMalformed},
		{"foreign nonce", "r=somebodyelse,s=QSXCR+Q6sek8bf92,i=4096", sasl.ErrMalformed},
		{"nonce not extended", "r=" + n + ",s=QSXCR+Q6sek8bf92,i=4096", sasl.ErrMalformed},
		{"nonce truncated", "r=" + n[:10] + ",s=QSXCR+Q6sek8bf92,i=4096", sasl.ErrMalformed},
		{"nonce with space", "r=" + n + "a b,s=QSXCR+Q6sek8bf92,i=4096", sasl.ErrMalformed},
		{"nonce non-ASCII", "r=" + n + "é,s=QSXCR+Q6sek8bf92,i=4096", sasl.ErrMalformed},
		{"empty salt", "r=" + n + "x,s=,i=4096", sasl.ErrMalformed},
		{"bad salt", "r=" + n + "x,s=!!!!,i=4096", sasl.ErrMalformed},
		{"zero iterations", "r=" + n + "x,s=QSXCR+Q6sek8bf92,i=0", sasl.ErrMalformed},
		{"negative iterations", "r=" + n + "x,s=QSXCR+Q6sek8bf92,i=-1", sasl.ErrMalformed},
		{"leading zero", "r=" + n + "x,s=QSXCR+Q6sek8bf92,i=04096", sasl.ErrMalformed},
		{"hex iterations", "r=" + n + "x,s=QSXCR+Q6sek8bf92,i=0x10", sasl.ErrMalformed},
		{"empty iterations", "r=" + n + "x,s=QSXCR+Q6sek8bf92,i=", sasl.ErrMalformed},
		{"too many iterations", "r=" + n + "x,s=QSXCR+Q6sek8bf92,i=10000001", sasl.ErrMalformed},
		{"huge iterations", "r=" + n + "x,s=QSXCR+Q6sek8bf92,i=99999999999999999999", sasl.ErrMalformed},
		{"mandatory extension", "m=foo,r=" + n + "x,s=QSXCR+Q6sek8bf92,i=4096", sasl.ErrUnsupportedExtension},
		{"two hashes", "r=" + n + "x,s=QSXCR+Q6sek8bf92,i=4096,h=a,h=a", sasl.ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := startSHA1(t)
			resp, err := c.Step([]byte(tc.msg))
			if !errors.Is(err, tc.want) || resp != nil {
				t.Fatalf("Step(%q) = %q, %v; want %v", tc.msg, resp, err, tc.want)
			}
			// A failed client stays failed.
			if err := c.Finish([]byte(rfcServerFinal)); err == nil {
				t.Error("Finish succeeded after a failed Step")
			}
		})
	}
}

func TestServerFirstError(t *testing.T) {
	c := startSHA1(t)
	_, err := c.Step([]byte("e=other-error"))
	var se *sasl.ServerError
	if !errors.As(err, &se) || se.Value != "other-error" {
		t.Fatalf("Step(e=other-error) = %v", err)
	}
}

func TestServerFirstTolerated(t *testing.T) {
	// Unknown optional extensions are ignored (RFC 5802 §5.1) and unpadded
	// salt is accepted; the result still matches a correct exchange.
	salt := base64.RawStdEncoding.EncodeToString([]byte("saltsalt+"))
	for _, msg := range []string{
		"r=fyko+d2lbbFgONRv9qkxdawLxyz,s=" + salt + ",i=1",
		"r=fyko+d2lbbFgONRv9qkxdawLxyz,s=QSXCR+Q6sek8bf92,i=1,x=whatever,Z=",
	} {
		c := startSHA1(t)
		if _, err := c.Step([]byte(msg)); err != nil {
			t.Errorf("Step(%q): %v", msg, err)
		}
	}
}

func TestIterationLimit(t *testing.T) {
	for _, tc := range []struct {
		iter string
		ok   bool
	}{{"1", true}, {"5000", true}, {"5001", false}} {
		c := startSHA1(t)
		sasl.SetMaxIterations(c, 5000)
		_, err := c.Step([]byte("r=fyko+d2lbbFgONRv9qkxdawLxyz,s=QSXCR+Q6sek8bf92,i=" + tc.iter))
		if (err == nil) != tc.ok {
			t.Errorf("i=%s: %v", tc.iter, err)
		}
		if tc.ok && c.(*sasl.SCRAMClient).Iterations() == 0 {
			t.Errorf("i=%s: Iterations not exposed", tc.iter)
		}
	}
}

func TestServerFinal(t *testing.T) {
	tests := []struct {
		name  string
		final string
		want  error
	}{
		{"missing", "", sasl.ErrServerSignature},
		{"wrong signature", "v=rmF9pqV8S7suAoZWja4dJRkFsKQ", sasl.ErrServerSignature},
		{"other signature", "v=AAAAAAAAAAAAAAAAAAAAAAAAAAA=", sasl.ErrServerSignature},
		{"truncated signature", "v=rmF9pqV8S7suAoZWja4dJRkF", sasl.ErrServerSignature},
		{"not base64", "v=!!!", sasl.ErrServerSignature},
		{"no v", "x=rmF9pqV8S7suAoZWja4dJRkFsKQ=", sasl.ErrServerSignature},
		{"garbage", "rmF9pqV8S7suAoZWja4dJRkFsKQ=", sasl.ErrServerSignature},
		{"invalid-proof", "e=invalid-proof", sasl.ErrNotAuthorized},
		{"unknown-user", "e=unknown-user", sasl.ErrNotAuthorized},
		{"cb stripped", "e=server-does-support-channel-binding", sasl.ErrDowngrade},
	}
	for _, tc := range tests {
		for _, inChallenge := range []bool{false, true} {
			name := tc.name + "/success"
			if inChallenge {
				name = tc.name + "/challenge"
			}
			t.Run(name, func(t *testing.T) {
				c := startSHA1(t)
				if _, err := c.Step([]byte(rfcServerFirst)); err != nil {
					t.Fatal(err)
				}
				var err error
				if inChallenge {
					_, err = c.Step([]byte(tc.final))
				} else {
					err = c.Finish([]byte(tc.final))
				}
				if !errors.Is(err, tc.want) {
					t.Fatalf("server-final %q: %v, want %v", tc.final, err, tc.want)
				}
				if strings.HasPrefix(tc.final, "e=") {
					var se *sasl.ServerError
					if !errors.As(err, &se) || se.Value != tc.final[2:] || !strings.Contains(err.Error(), tc.final[2:]) {
						t.Errorf("error %v does not carry %q", err, tc.final[2:])
					}
				}
			})
		}
	}
	// The message of ErrServerSignature is the one the brief asks for.
	if got := sasl.ErrServerSignature.Error(); !strings.Contains(got, "could not prove it knows the password") {
		t.Errorf("ErrServerSignature = %q", got)
	}
	// A valid signature in the final challenge, then <success/> repeating
	// it, or a different one.
	c := startSHA1(t)
	c.Step([]byte(rfcServerFirst))
	if _, err := c.Step([]byte(rfcServerFinal)); err != nil {
		t.Fatal(err)
	}
	if err := c.Finish([]byte(rfcServerFinal)); err != nil {
		t.Errorf("Finish repeating the verified signature: %v", err)
	}
	c = startSHA1(t)
	c.Step([]byte(rfcServerFirst))
	c.Step([]byte(rfcServerFinal))
	if err := c.Finish([]byte("v=AAAAAAAAAAAAAAAAAAAAAAAAAAA=")); !errors.Is(err, sasl.ErrServerSignature) {
		t.Errorf("Finish with a different signature after a verified one: %v", err)
	}
}

func TestStateErrors(t *testing.T) {
	newc := func() sasl.Client {
		return mustSelect(t, sasl.Offer{Mechanisms: []string{sasl.SCRAMSHA1}}, sasl.Policy{}, userPencil)
	}
	// Step before Start.
	if _, err := newc().Step([]byte(rfcServerFirst)); !errors.Is(err, sasl.ErrState) {
		t.Errorf("Step before Start: %v", err)
	}
	// Finish before Start.
	if err := newc().Finish(nil); !errors.Is(err, sasl.ErrState) {
		t.Errorf("Finish before Start: %v", err)
	}
	// Start twice.
	c := newc()
	c.Start()
	if _, err := c.Start(); !errors.Is(err, sasl.ErrState) {
		t.Errorf("second Start: %v", err)
	}
	// <success/> right after our first message: the server proved nothing.
	c = startSHA1(t)
	if err := c.Finish(nil); !errors.Is(err, sasl.ErrServerSignature) {
		t.Errorf("early success: %v", err)
	}
	// A third challenge after the verified server-final.
	c = startSHA1(t)
	c.Step([]byte(rfcServerFirst))
	c.Step([]byte(rfcServerFinal))
	if _, err := c.Step(nil); !errors.Is(err, sasl.ErrState) {
		t.Errorf("extra challenge: %v", err)
	}
	// Finish twice.
	c = startSHA1(t)
	c.Step([]byte(rfcServerFirst))
	if err := c.Finish([]byte(rfcServerFinal)); err != nil {
		t.Fatal(err)
	}
	if err := c.Finish([]byte(rfcServerFinal)); !errors.Is(err, sasl.ErrState) {
		t.Errorf("second Finish: %v", err)
	}
}

// xepOffer is the stream features of the XEP-0474 §4.3 example.
var xepOffer = sasl.Offer{
	Mechanisms:      []string{"SCRAM-SHA-1", "SCRAM-SHA-1-PLUS"},
	ChannelBindings: []string{"tls-server-end-point", "tls-exporter"},
}

const (
	xepNonce       = "12C4CD5C-E38E-4A98-8F6D-15C38F51CCC6"
	xepServerFirst = "r=12C4CD5C-E38E-4A98-8F6D-15C38F51CCC6a09117a6-ac50-4f2f-93f1-93799c2bddf6,s=QSXCR+Q6sek8bf92,i=4096,h=G6k/rBLDqgOhRRaCuuatSDFkJ08="
)

// xepPolicy binds to tls-exporter with the example's fake binding data.
func xepPolicy() sasl.Policy {
	p := sasl.Policy{TLS: &tls.ConnectionState{Version: tls.VersionTLS13, HandshakeComplete: true}}
	return sasl.WithBinder(p, func(typ string) ([]byte, error) {
		if typ == sasl.CBTLSExporter {
			return []byte("THIS IS FAKE CB DATA"), nil
		}
		return nil, sasl.ErrChannelBinding
	})
}

// TestXEP0474Example replays the XEP-0474 example up to the client-final
// message (the example's client adds an x= attribute we do not send, so the
// proof itself differs).
func TestXEP0474Example(t *testing.T) {
	c := mustSelect(t, xepOffer, xepPolicy(), userPencil)
	sasl.SetNonce(c, xepNonce)
	if c.Mechanism() != sasl.SCRAMSHA1Plus || c.ChannelBinding() != sasl.CBTLSExporter {
		t.Fatalf("selected %s with %q", c.Mechanism(), c.ChannelBinding())
	}
	first, _ := c.Start()
	if want := "p=tls-exporter,,n=user,r=" + xepNonce; string(first) != want {
		t.Fatalf("Start = %q, want %q", first, want)
	}
	final, err := c.Step([]byte(xepServerFirst))
	if err != nil {
		t.Fatalf("Step: %v", err)
	}
	want := "c=cD10bHMtZXhwb3J0ZXIsLFRISVMgSVMgRkFLRSBDQiBEQVRB,r=12C4CD5C-E38E-4A98-8F6D-15C38F51CCC6a09117a6-ac50-4f2f-93f1-93799c2bddf6,p="
	if !strings.HasPrefix(string(final), want) {
		t.Fatalf("client-final %q, want prefix %q", final, want)
	}
	if !c.(*sasl.SCRAMClient).DowngradeProtected() {
		t.Error("DowngradeProtected = false after a matching hash")
	}
}

// TestXEP0474Mismatch: the example's server-first-message against offers an
// attacker could have produced.
func TestXEP0474Mismatch(t *testing.T) {
	tests := []struct {
		name  string
		offer sasl.Offer
	}{
		{"mechanism stripped", sasl.Offer{Mechanisms: []string{"SCRAM-SHA-1-PLUS"}, ChannelBindings: xepOffer.ChannelBindings}},
		{"mechanism added", sasl.Offer{Mechanisms: []string{"SCRAM-SHA-1", "SCRAM-SHA-1-PLUS", "PLAIN"}, ChannelBindings: xepOffer.ChannelBindings}},
		{"binding stripped", sasl.Offer{Mechanisms: xepOffer.Mechanisms, ChannelBindings: []string{"tls-exporter"}}},
		{"bindings not advertised", sasl.Offer{Mechanisms: xepOffer.Mechanisms}},
		{"bindings advertised empty", sasl.Offer{Mechanisms: xepOffer.Mechanisms, ChannelBindings: []string{}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := mustSelect(t, tc.offer, xepPolicy(), userPencil)
			sasl.SetNonce(c, xepNonce)
			c.Start()
			if _, err := c.Step([]byte(xepServerFirst)); !errors.Is(err, sasl.ErrDowngrade) {
				t.Fatalf("Step: %v, want ErrDowngrade", err)
			}
		})
	}
	// A syntactically bad hash is a mismatch too.
	c := mustSelect(t, xepOffer, xepPolicy(), userPencil)
	sasl.SetNonce(c, xepNonce)
	c.Start()
	bad := strings.Replace(xepServerFirst, "h=G6k/", "h=!!!/", 1)
	if _, err := c.Step([]byte(bad)); !errors.Is(err, sasl.ErrDowngrade) {
		t.Fatalf("bad hash: %v", err)
	}
}

// TestXEP0474RoundTrip: complete exchanges with the hash computed by the
// test server, for each hash, with and without advertised bindings; the
// order in which the server listed things does not matter.
func TestXEP0474RoundTrip(t *testing.T) {
	offers := []sasl.Offer{
		{Mechanisms: []string{"SCRAM-SHA-512", "SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"}},
		{Mechanisms: []string{"SCRAM-SHA-1", "SCRAM-SHA-512", "SCRAM-SHA-256", "SCRAM-SHA-512-PLUS", "SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS"},
			ChannelBindings: []string{"tls-server-end-point", "tls-exporter", "tls-unique"}},
		{Mechanisms: []string{"SCRAM-SHA-256"}, ChannelBindings: []string{}},
	}
	for _, o := range offers {
		for _, allow := range []string{sasl.SCRAMSHA512Plus, sasl.SCRAMSHA256Plus, sasl.SCRAMSHA1Plus, sasl.SCRAMSHA512, sasl.SCRAMSHA256, sasl.SCRAMSHA1} {
			p := fakeTLS(tls.VersionTLS13, sasl.CBTLSExporter)
			p.Allow = []string{allow}
			c, err := sasl.Select(o, p, userPencil)
			if err != nil {
				continue // not offered
			}
			t.Run(allow, func(t *testing.T) {
				s := newScramServer(c.Mechanism(), "pencil")
				s.cbData = []byte("cb:tls-exporter")
				s.extra = ",h=" + ssdp(hashFor(c.Mechanism()), o.Mechanisms, o.ChannelBindings)
				if err := exchange(c, s, false); err != nil {
					t.Fatal(err)
				}
				if !c.(*sasl.SCRAMClient).DowngradeProtected() {
					t.Error("DowngradeProtected = false")
				}
			})
		}
	}
	// Without h= the exchange works but is not marked protected.
	c := mustSelect(t, sasl.Offer{Mechanisms: []string{"SCRAM-SHA-256"}}, sasl.Policy{}, userPencil)
	if err := exchange(c, newScramServer("SCRAM-SHA-256", "pencil"), false); err != nil {
		t.Fatal(err)
	}
	if c.(*sasl.SCRAMClient).DowngradeProtected() {
		t.Error("DowngradeProtected = true without a hash")
	}
}

// TestSSDPVector checks the XEP-0474 example hash with the test's own
// computation, so that ssdp() itself is trustworthy.
func TestSSDPVector(t *testing.T) {
	if got := ssdp(sha1.New, xepOffer.Mechanisms, xepOffer.ChannelBindings); got != "G6k/rBLDqgOhRRaCuuatSDFkJ08=" {
		t.Fatalf("ssdp = %q", got)
	}
}

// TestUnusableBindingTypes: XEP-0440 rule 6 as relaxed by XEP-0474. When
// -PLUS is offered with only channel-binding types we cannot use and
// without tls-server-end-point, the client falls back to a plain SCRAM
// with "n" but insists on a matching downgrade-protection hash.
func TestUnusableBindingTypes(t *testing.T) {
	offer := sasl.Offer{Mechanisms: []string{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"}, ChannelBindings: []string{"tls-unique"}}
	p := fakeTLS(tls.VersionTLS13, sasl.CBTLSExporter, sasl.CBTLSServerEndPoint)
	h := ssdp(hashFor("SCRAM-SHA-256"), offer.Mechanisms, offer.ChannelBindings)

	for _, tc := range []struct {
		name   string
		offer  sasl.Offer
		policy sasl.Policy
		extra  string
		want   error
	}{
		{"no hash", offer, p, "", sasl.ErrDowngrade},
		{"matching hash", offer, p, ",h=" + h, nil},
		{"end-point advertised but unusable", sasl.Offer{Mechanisms: offer.Mechanisms, ChannelBindings: []string{"tls-unique", "tls-server-end-point"}},
			fakeTLS(tls.VersionTLS13, sasl.CBTLSExporter), "", nil},
		{"-PLUS not allowed anyway", offer, func() sasl.Policy { q := p; q.Allow = []string{"SCRAM-SHA-256"}; return q }(), "", nil},
		{"no list advertised", sasl.Offer{Mechanisms: offer.Mechanisms}, fakeTLS(tls.VersionTLS13), "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := mustSelect(t, tc.offer, tc.policy, userPencil)
			if c.Mechanism() != "SCRAM-SHA-256" {
				t.Fatalf("selected %s", c.Mechanism())
			}
			s := newScramServer("SCRAM-SHA-256", "pencil")
			s.extra = tc.extra
			err := exchange(c, s, false)
			if s.cbFlag != "n" {
				t.Errorf("cb flag %q, want n", s.cbFlag)
			}
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("exchange: %v, want %v", err, tc.want)
			}
		})
	}
}
