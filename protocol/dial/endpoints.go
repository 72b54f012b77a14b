// Package dial finds and opens the TCP/TLS connection of an XMPP client:
// SRV resolution of _xmpp-client._tcp (RFC 6120 §3.2) and
// _xmpps-client._tcp (XEP-0368 Direct TLS) with the RFC 2782 ordering,
// manual host:port overrides, and TLS set up as RFC 7590 asks: always
// verified against the XMPP domain, never the SRV target, TLS 1.2 or newer,
// ALPN "xmpp-client" for Direct TLS.
//
// The package does no XMPP: after Dial of a STARTTLS endpoint the caller
// negotiates <starttls/> on the plain connection and then calls StartTLS.
package dial

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"slices"
	"strconv"
	"strings"
)

// DefaultPort is the client port of RFC 6120 §3.2.2, used when there are
// no SRV records and for overrides without a port.
const DefaultPort = 5222

var (
	// ErrNoService is returned by Endpoints when the domain's SRV records
	// say there is decidedly no client service (targets of ".", RFC 2782),
	// in which case falling back to the domain's address is not allowed
	// (RFC 2782, RFC 6120 §3.2.1, XEP-0368 §5).
	ErrNoService = errors.New("dial: the domain offers no XMPP client service")
	// ErrBadOverride is returned by ParseOverride for an unusable host:port.
	ErrBadOverride = errors.New("dial: invalid server address")
)

// Endpoint is one place to connect to.
type Endpoint struct {
	// Host is a host name or IP address (IPv6 without brackets).
	Host string
	// Port is the TCP port.
	Port uint16
	// DirectTLS means TLS starts immediately on connect (XEP-0368); when it
	// is false the stream starts in plain text and is upgraded with
	// STARTTLS (RFC 6120 §5).
	DirectTLS bool
	// Auto marks a manual override whose method is unknown: try Direct TLS
	// first and, when the peer does not answer in TLS (IsNotTLS), STARTTLS
	// on a new connection. Dial itself follows DirectTLS only.
	Auto bool
}

// String returns "host:port" with IPv6 addresses in brackets.
func (ep Endpoint) String() string {
	return net.JoinHostPort(ep.Host, strconv.Itoa(int(ep.Port)))
}

// Resolver looks up SRV records; *net.Resolver implements it.
type Resolver interface {
	LookupSRV(ctx context.Context, service, proto, name string) (string, []*net.SRV, error)
}

// srv is one SRV record of either service.
type srv struct {
	net.SRV
	directTLS bool
}

// Endpoints returns where to connect for domain, in the order to try them.
//
// Both _xmpps-client._tcp (Direct TLS) and _xmpp-client._tcp (STARTTLS)
// are looked up. Following XEP-0368 §3 rule 1, the two sets are merged and
// ordered as one RFC 2782 record set: by priority, and within a priority by
// weighted random selection over records of both kinds together, so that
// the server operator's priorities and weights decide between Direct TLS
// and STARTTLS (XEP-0368 lets clients prefer one kind, and Tern does not).
// rnd drives the weighted selection; nil uses a generator seeded from
// crypto/rand.
//
// A record with target "." means its service is decidedly not available
// (RFC 2782) and contributes nothing. When neither lookup yields any record
// at all (NXDOMAIN, no answer, or a failed lookup, RFC 6120 §3.2.2) the
// result is the fallback [{domain, 5222, STARTTLS}]. When records exist but
// all are ".", the result is ErrNoService: RFC 2782 says to abort, RFC
// 6120 §3.2.1 rules out the address fallback once SRV has answered, and
// XEP-0368 §5 repeats it for a "." Direct TLS record. The only other error
// is ctx's.
func Endpoints(ctx context.Context, r Resolver, domain string, rnd *mrand.Rand) ([]Endpoint, error) {
	if r == nil {
		r = net.DefaultResolver
	}
	if rnd == nil {
		var seed [32]byte
		_, _ = rand.Read(seed[:]) // crypto/rand.Read never fails (Go 1.24+).
		rnd = mrand.New(mrand.NewChaCha8(seed))
	}
	var records []srv
	seen := 0
	for _, kind := range []struct {
		service   string
		directTLS bool
	}{{"xmpps-client", true}, {"xmpp-client", false}} {
		// The lookup error is deliberately ignored: with records it reports
		// a partial answer (net.Resolver drops invalid targets and says
		// so), and without records it means "no records" whatever the
		// cause (RFC 6120 §3.2.2 falls back when the lookup fails).
		_, addrs, _ := r.LookupSRV(ctx, kind.service, "tcp", domain)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		for _, a := range addrs {
			if a == nil {
				continue
			}
			seen++
			target := strings.TrimSuffix(a.Target, ".")
			if target == "" {
				continue // "." — this service is decidedly not available.
			}
			rec := srv{SRV: *a, directTLS: kind.directTLS}
			rec.Target = target
			records = append(records, rec)
		}
	}
	if seen == 0 {
		return []Endpoint{{Host: domain, Port: DefaultPort}}, nil
	}
	if len(records) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNoService, domain)
	}
	ordered := orderSRV(records, rnd)
	eps := make([]Endpoint, len(ordered))
	for i, rec := range ordered {
		eps[i] = Endpoint{Host: rec.Target, Port: rec.Port, DirectTLS: rec.directTLS}
	}
	return eps, nil
}

// orderSRV orders records as RFC 2782 describes: ascending priority, and
// within one priority a weighted random permutation in which a record's
// chance to come next is proportional to its weight (zero-weight records
// are placed first in the running sum, so they are picked only rarely).
func orderSRV(records []srv, rnd *mrand.Rand) []srv {
	// A stable sort keeps the lookup order within a priority, making the
	// result a function of the seed alone.
	slices.SortStableFunc(records, func(a, b srv) int { return cmp.Compare(a.Priority, b.Priority) })
	out := make([]srv, 0, len(records))
	for start := 0; start < len(records); {
		end := start
		for end < len(records) && records[end].Priority == records[start].Priority {
			end++
		}
		group := slices.Clone(records[start:end])
		slices.SortStableFunc(group, func(a, b srv) int {
			// RFC 2782: zero-weight entries first.
			return cmp.Compare(min(a.Weight, 1), min(b.Weight, 1))
		})
		for len(group) > 0 {
			total := 0
			for _, g := range group {
				total += int(g.Weight)
			}
			pick := rnd.IntN(total + 1)
			i, sum := 0, 0
			for ; i < len(group)-1; i++ {
				sum += int(group[i].Weight)
				if sum >= pick {
					break
				}
			}
			out = append(out, group[i])
			group = slices.Delete(group, i, i+1)
		}
		start = end
	}
	return out
}

// ParseOverride parses a manually configured server address: "host",
// "host:port", "[IPv6]:port", "[IPv6]" or a bare IPv6 address. The port
// defaults to 5222. The result has Auto set, because the user did not say
// whether the port speaks Direct TLS or STARTTLS.
func ParseOverride(s string) (Endpoint, error) {
	s = strings.TrimSpace(s)
	bad := func(why string) (Endpoint, error) {
		return Endpoint{}, fmt.Errorf("%w %q: %s", ErrBadOverride, s, why)
	}
	if s == "" {
		return bad("empty")
	}
	host, portStr := s, ""
	hasPort := false
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return bad("missing ]")
		}
		host = s[1:end]
		rest := s[end+1:]
		if rest != "" {
			if rest[0] != ':' {
				return bad("unexpected text after ]")
			}
			portStr, hasPort = rest[1:], true
		}
		if ip := net.ParseIP(host); ip == nil || ip.To4() != nil && !strings.Contains(host, ":") {
			return bad("brackets must enclose an IPv6 address")
		}
	case strings.Count(s, ":") > 1:
		if net.ParseIP(s) == nil {
			return bad("IPv6 addresses with a port need brackets")
		}
	case strings.Contains(s, ":"):
		i := strings.IndexByte(s, ':')
		host, portStr, hasPort = s[:i], s[i+1:], true
	}
	if host == "" {
		return bad("missing host")
	}
	if strings.ContainsAny(host, " \t\r\n/\\@[]?#%") {
		return bad("invalid host")
	}
	port := uint64(DefaultPort)
	if hasPort {
		var err error
		port, err = strconv.ParseUint(portStr, 10, 16)
		if err != nil || port == 0 {
			return bad("invalid port")
		}
	}
	return Endpoint{Host: host, Port: uint16(port), Auto: true}, nil
}
