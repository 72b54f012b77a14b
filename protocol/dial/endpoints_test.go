package dial_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"slices"
	"testing"

	"github.com/tern-im/tern/protocol/dial"
)

// fakeResolver answers SRV lookups from a table keyed by service.
type fakeResolver struct {
	records map[string][]*net.SRV
	errs    map[string]error
	asked   []string
}

func (r *fakeResolver) LookupSRV(ctx context.Context, service, proto, name string) (string, []*net.SRV, error) {
	r.asked = append(r.asked, "_"+service+"._"+proto+"."+name)
	if err := r.errs[service]; err != nil {
		return "", r.records[service], err
	}
	if recs, ok := r.records[service]; ok {
		return "_" + service + "._" + proto + "." + name + ".", recs, nil
	}
	return "", nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func rec(target string, port, prio, weight uint16) *net.SRV {
	return &net.SRV{Target: target, Port: port, Priority: prio, Weight: weight}
}

func seeded(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }

func TestEndpoints(t *testing.T) {
	notFound := &net.DNSError{Err: "no such host", Name: "example.org", IsNotFound: true}
	tests := []struct {
		name    string
		records map[string][]*net.SRV
		errs    map[string]error
		want    []dial.Endpoint
		wantErr error
	}{
		{
			name: "no records at all: fall back to the domain on 5222",
			want: []dial.Endpoint{{Host: "example.org", Port: 5222}},
		},
		{
			name: "NXDOMAIN for both",
			errs: map[string]error{"xmpps-client": notFound, "xmpp-client": notFound},
			want: []dial.Endpoint{{Host: "example.org", Port: 5222}},
		},
		{
			name: "lookup failure (timeout) for both also falls back",
			errs: map[string]error{
				"xmpps-client": &net.DNSError{Err: "i/o timeout", IsTimeout: true},
				"xmpp-client":  &net.DNSError{Err: "server misbehaving", IsTemporary: true},
			},
			want: []dial.Endpoint{{Host: "example.org", Port: 5222}},
		},
		{
			name: "empty answers for both",
			records: map[string][]*net.SRV{
				"xmpps-client": {},
				"xmpp-client":  {},
			},
			want: []dial.Endpoint{{Host: "example.org", Port: 5222}},
		},
		{
			name: "only STARTTLS records, ordered by priority, trailing dot removed",
			records: map[string][]*net.SRV{"xmpp-client": {
				rec("c.example.net.", 5222, 30, 0),
				rec("a.example.net.", 5222, 10, 0),
				rec("b.example.net.", 5223, 20, 0),
			}},
			want: []dial.Endpoint{
				{Host: "a.example.net", Port: 5222},
				{Host: "b.example.net", Port: 5223},
				{Host: "c.example.net", Port: 5222},
			},
		},
		{
			name: "only Direct TLS records",
			records: map[string][]*net.SRV{"xmpps-client": {
				rec("tls2.example.net.", 443, 5, 0),
				rec("tls1.example.net.", 5223, 1, 0),
			}},
			want: []dial.Endpoint{
				{Host: "tls1.example.net", Port: 5223, DirectTLS: true},
				{Host: "tls2.example.net", Port: 443, DirectTLS: true},
			},
		},
		{
			name: "both sets interleaved by priority",
			records: map[string][]*net.SRV{
				"xmpps-client": {rec("tls.example.net.", 443, 20, 0), rec("tls0.example.net.", 5223, 5, 0)},
				"xmpp-client":  {rec("plain.example.net.", 5222, 10, 0), rec("plain2.example.net.", 5222, 30, 0)},
			},
			want: []dial.Endpoint{
				{Host: "tls0.example.net", Port: 5223, DirectTLS: true},
				{Host: "plain.example.net", Port: 5222},
				{Host: "tls.example.net", Port: 443, DirectTLS: true},
				{Host: "plain2.example.net", Port: 5222},
			},
		},
		{
			name: "Direct TLS decidedly unavailable: STARTTLS records only",
			records: map[string][]*net.SRV{
				"xmpps-client": {rec(".", 0, 0, 0)},
				"xmpp-client":  {rec("xmpp.example.net.", 5222, 0, 0)},
			},
			want: []dial.Endpoint{{Host: "xmpp.example.net", Port: 5222}},
		},
		{
			name: "STARTTLS decidedly unavailable: Direct TLS only",
			records: map[string][]*net.SRV{
				"xmpps-client": {rec("xmpp.example.net.", 5223, 0, 0)},
				"xmpp-client":  {rec(".", 0, 0, 0)},
			},
			want: []dial.Endpoint{{Host: "xmpp.example.net", Port: 5223, DirectTLS: true}},
		},
		{
			name: "both decidedly unavailable: no fallback",
			records: map[string][]*net.SRV{
				"xmpps-client": {rec(".", 0, 0, 0)},
				"xmpp-client":  {rec(".", 0, 0, 0)},
			},
			wantErr: dial.ErrNoService,
		},
		{
			name:    "Direct TLS decidedly unavailable and no STARTTLS records: no A/AAAA fallback (XEP-0368 §5)",
			records: map[string][]*net.SRV{"xmpps-client": {rec(".", 0, 0, 0)}},
			errs:    map[string]error{"xmpp-client": notFound},
			wantErr: dial.ErrNoService,
		},
		{
			name:    "STARTTLS decidedly unavailable, nothing else (RFC 2782)",
			records: map[string][]*net.SRV{"xmpp-client": {rec(".", 0, 0, 0)}},
			wantErr: dial.ErrNoService,
		},
		{
			name: "partial answer: records returned with an error are used",
			records: map[string][]*net.SRV{
				"xmpp-client": {rec("ok.example.net.", 5222, 0, 0)},
			},
			errs: map[string]error{"xmpp-client": &net.DNSError{Err: "DNS response contained records which contain invalid names"}},
			want: []dial.Endpoint{{Host: "ok.example.net", Port: 5222}},
		},
		{
			name: "one lookup fails, the other answers",
			records: map[string][]*net.SRV{
				"xmpps-client": {rec("tls.example.net.", 5223, 0, 0)},
			},
			errs: map[string]error{"xmpp-client": &net.DNSError{Err: "i/o timeout", IsTimeout: true}},
			want: []dial.Endpoint{{Host: "tls.example.net", Port: 5223, DirectTLS: true}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &fakeResolver{records: tt.records, errs: tt.errs}
			got, err := dial.Endpoints(t.Context(), r, "example.org", seeded(1))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Endpoints error = %v, want %v", err, tt.wantErr)
				}
				if got != nil {
					t.Errorf("Endpoints = %v with error, want nil", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Endpoints: %v", err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Endpoints =\n %v\nwant\n %v", got, tt.want)
			}
			wantAsked := []string{"_xmpps-client._tcp.example.org", "_xmpp-client._tcp.example.org"}
			if !slices.Equal(r.asked, wantAsked) {
				t.Errorf("lookups = %v, want %v", r.asked, wantAsked)
			}
		})
	}
}

// TestEndpointsWeights checks the RFC 2782 weighted selection: over many
// runs, each record of a priority comes first in proportion to its weight,
// Direct TLS and STARTTLS records compete in the same draw (XEP-0368 §3
// rule 1), and a lower priority always comes first regardless of weight.
func TestEndpointsWeights(t *testing.T) {
	r := &fakeResolver{records: map[string][]*net.SRV{
		"xmpps-client": {rec("tls.example.net.", 5223, 10, 60), rec("backup.example.net.", 5223, 20, 1000)},
		"xmpp-client":  {rec("a.example.net.", 5222, 10, 30), rec("b.example.net.", 5222, 10, 10), rec("zero.example.net.", 5222, 10, 0)},
	}}
	rnd := seeded(42)
	const runs = 10000
	first := map[string]int{}
	for range runs {
		eps, err := dial.Endpoints(t.Context(), r, "example.org", rnd)
		if err != nil {
			t.Fatal(err)
		}
		if len(eps) != 5 {
			t.Fatalf("got %d endpoints, want 5: %v", len(eps), eps)
		}
		if last := eps[4]; last.Host != "backup.example.net" {
			t.Fatalf("priority 20 record is not last: %v", eps)
		}
		seen := map[string]bool{}
		for _, ep := range eps {
			if seen[ep.Host] {
				t.Fatalf("duplicate endpoint %s in %v", ep.Host, eps)
			}
			seen[ep.Host] = true
			if want := ep.Host == "tls.example.net" || ep.Host == "backup.example.net"; ep.DirectTLS != want {
				t.Fatalf("endpoint %v has DirectTLS=%v", ep, ep.DirectTLS)
			}
		}
		first[eps[0].Host]++
	}
	// Total weight 100 (+1 for the zero-weight slot of the running sum).
	for host, want := range map[string]float64{
		"tls.example.net":  60.0 / 101,
		"a.example.net":    30.0 / 101,
		"b.example.net":    10.0 / 101,
		"zero.example.net": 1.0 / 101,
	} {
		got := float64(first[host]) / runs
		if got < want-0.02 || got > want+0.02 {
			t.Errorf("%s first in %.3f of runs, want about %.3f", host, got, want)
		}
	}
}

func TestEndpointsDeterministicWithSeed(t *testing.T) {
	r := &fakeResolver{records: map[string][]*net.SRV{
		"xmpps-client": {rec("t1.", 1, 0, 5), rec("t2.", 2, 0, 5)},
		"xmpp-client":  {rec("p1.", 3, 0, 5), rec("p2.", 4, 0, 5)},
	}}
	a, err := dial.Endpoints(t.Context(), r, "example.org", seeded(7))
	if err != nil {
		t.Fatal(err)
	}
	b, err := dial.Endpoints(t.Context(), r, "example.org", seeded(7))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a, b) {
		t.Errorf("same seed, different orders: %v and %v", a, b)
	}
	// With a nil rand the order is random but complete.
	c, err := dial.Endpoints(t.Context(), r, "example.org", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(c) != 4 {
		t.Errorf("nil rand: got %v", c)
	}
}

// TestEndpointsEqualPriorityMixes shows that at equal priority the weights,
// not the kind, decide: XEP-0368 §3 treats both services as one record set
// and does not put Direct TLS first.
func TestEndpointsEqualPriorityMixes(t *testing.T) {
	r := &fakeResolver{records: map[string][]*net.SRV{
		"xmpps-client": {rec("tls.example.net.", 5223, 0, 1)},
		"xmpp-client":  {rec("plain.example.net.", 5222, 0, 1)},
	}}
	rnd := seeded(3)
	firstTLS, firstPlain := 0, 0
	for range 200 {
		eps, err := dial.Endpoints(t.Context(), r, "example.org", rnd)
		if err != nil {
			t.Fatal(err)
		}
		if eps[0].DirectTLS {
			firstTLS++
		} else {
			firstPlain++
		}
	}
	if firstTLS == 0 || firstPlain == 0 {
		t.Errorf("equal priority and weight: Direct TLS first %d times, STARTTLS first %d times; want both", firstTLS, firstPlain)
	}
}

func TestEndpointsContextCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	r := &fakeResolver{records: map[string][]*net.SRV{"xmpp-client": {rec("x.", 5222, 0, 0)}}}
	if _, err := dial.Endpoints(ctx, r, "example.org", nil); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestParseOverride(t *testing.T) {
	tests := []struct {
		in   string
		want dial.Endpoint
		err  bool
	}{
		{in: "xmpp.example.org", want: dial.Endpoint{Host: "xmpp.example.org", Port: 5222, Auto: true}},
		{in: " xmpp.example.org:5223 ", want: dial.Endpoint{Host: "xmpp.example.org", Port: 5223, Auto: true}},
		{in: "192.0.2.1:443", want: dial.Endpoint{Host: "192.0.2.1", Port: 443, Auto: true}},
		{in: "192.0.2.1", want: dial.Endpoint{Host: "192.0.2.1", Port: 5222, Auto: true}},
		{in: "[2001:db8::1]:5223", want: dial.Endpoint{Host: "2001:db8::1", Port: 5223, Auto: true}},
		{in: "[2001:db8::1]", want: dial.Endpoint{Host: "2001:db8::1", Port: 5222, Auto: true}},
		{in: "2001:db8::1", want: dial.Endpoint{Host: "2001:db8::1", Port: 5222, Auto: true}},
		{in: "::1", want: dial.Endpoint{Host: "::1", Port: 5222, Auto: true}},
		{in: "localhost:65535", want: dial.Endpoint{Host: "localhost", Port: 65535, Auto: true}},
		{in: "", err: true},
		{in: "   ", err: true},
		{in: ":5222", err: true},
		{in: "host:", err: true},
		{in: "host:0", err: true},
		{in: "host:65536", err: true},
		{in: "host:-1", err: true},
		{in: "host:abc", err: true},
		{in: "host:52:22", err: true},
		{in: "[2001:db8::1", err: true},
		{in: "[2001:db8::1]5222", err: true},
		{in: "[192.0.2.1]:5222", err: true},
		{in: "[not-an-ip]:5222", err: true},
		{in: "2001:db8::1:5222:x", err: true},
		{in: "user@host", err: true},
		{in: "xmpp://host", err: true},
		{in: "two words", err: true},
	}
	for _, tt := range tests {
		got, err := dial.ParseOverride(tt.in)
		if tt.err {
			if !errors.Is(err, dial.ErrBadOverride) {
				t.Errorf("ParseOverride(%q) = %v, %v; want ErrBadOverride", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseOverride(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestEndpointString(t *testing.T) {
	for ep, want := range map[dial.Endpoint]string{
		{Host: "example.org", Port: 5222}:          "example.org:5222",
		{Host: "2001:db8::1", Port: 5223}:          "[2001:db8::1]:5223",
		{Host: "192.0.2.1", Port: 443, Auto: true}: "192.0.2.1:443",
	} {
		if got := ep.String(); got != want {
			t.Errorf("%#v.String() = %q, want %q", ep, got, want)
		}
	}
}

// FuzzParseOverride checks that ParseOverride never panics and that what it
// accepts is a usable endpoint that survives a String/ParseOverride round
// trip.
func FuzzParseOverride(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		ep, err := dial.ParseOverride(s)
		if err != nil {
			if !errors.Is(err, dial.ErrBadOverride) {
				t.Fatalf("error %v does not wrap ErrBadOverride", err)
			}
			return
		}
		if ep.Host == "" || ep.Port == 0 || !ep.Auto || ep.DirectTLS {
			t.Fatalf("ParseOverride(%q) = %+v", s, ep)
		}
		again, err := dial.ParseOverride(ep.String())
		if err != nil || again != ep {
			t.Fatalf("round trip of %q: %+v -> %q -> %+v, %v", s, ep, ep.String(), again, err)
		}
	})
}
