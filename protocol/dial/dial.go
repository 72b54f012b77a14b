package dial

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"golang.org/x/net/idna"
)

// ALPN is the ALPN protocol of XMPP client connections over Direct TLS
// (XEP-0368 §3).
const ALPN = "xmpp-client"

var (
	// ErrInsecureTLS is returned by TLSConfig (and so by Dial and
	// StartTLS) for a template that would turn certificate verification
	// off or forbid TLS 1.2 and later.
	ErrInsecureTLS = errors.New("dial: TLS configuration would be insecure")
	// ErrBadDomain is returned when the XMPP domain cannot be used as a TLS
	// server name.
	ErrBadDomain = errors.New("dial: invalid domain")
)

// Dialer opens connections to XMPP servers. The zero value (and a nil
// *Dialer) uses the system resolver, default timeouts and the system roots.
type Dialer struct {
	// Resolver does SRV lookups for Endpoints; nil uses net.DefaultResolver.
	Resolver Resolver
	// NetDialer opens TCP connections; nil uses a net.Dialer with a 10 s
	// timeout and 30 s keep-alive.
	NetDialer *net.Dialer
	// TLSConfig is the template of every TLS connection (RootCAs, …); it is
	// cloned, never modified. nil means the system roots. ServerName,
	// MinVersion and NextProtos are always set by TLSConfig.
	TLSConfig *tls.Config
}

// Endpoints returns the endpoints of domain in the order to try them, as
// the package function Endpoints does with d's Resolver and a
// crypto-seeded random order.
func (d *Dialer) Endpoints(ctx context.Context, domain string) ([]Endpoint, error) {
	var r Resolver
	if d != nil {
		r = d.Resolver
	}
	return Endpoints(ctx, r, domain, nil)
}

// Dial connects to ep on behalf of the XMPP domain. For a Direct TLS
// endpoint it opens TCP and completes a verified TLS handshake (ALPN
// "xmpp-client") before returning the *tls.Conn; otherwise it returns the
// plain TCP connection, on which the caller negotiates STARTTLS and then
// calls StartTLS. ep.Auto is not interpreted here: the caller that honours
// it dials with DirectTLS set first and, when IsNotTLS(err), again without.
//
// Certificate problems are returned as *CertificateError. ctx bounds the
// TCP connect and the TLS handshake.
func (d *Dialer) Dial(ctx context.Context, domain string, ep Endpoint) (net.Conn, error) {
	var cfg *tls.Config
	if ep.DirectTLS {
		var err error
		if cfg, err = TLSConfig(d.template(), domain, true); err != nil {
			return nil, err
		}
	}
	conn, err := d.netDialer().DialContext(ctx, "tcp", ep.String())
	if err != nil {
		return nil, fmt.Errorf("dial: connect to %s: %w", ep, err)
	}
	conn = QuickAck(conn)
	if !ep.DirectTLS {
		return conn, nil
	}
	tc := tls.Client(conn, cfg)
	if err := handshake(ctx, tc, domain); err != nil {
		_ = conn.Close()
		return nil, err
	}
	return tc, nil
}

// StartTLS performs the client side of the TLS handshake over an
// established connection, after the server's <proceed/> (RFC 6120 §5.4.3.3),
// verifying the certificate against the XMPP domain. On failure conn is
// closed: the stream cannot continue in plain text (RFC 6120 §5.4.3.2).
func (d *Dialer) StartTLS(ctx context.Context, conn net.Conn, domain string) (*tls.Conn, error) {
	cfg, err := TLSConfig(d.template(), domain, false)
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	tc := tls.Client(conn, cfg)
	if err := handshake(ctx, tc, domain); err != nil {
		_ = conn.Close()
		return nil, err
	}
	return tc, nil
}

func (d *Dialer) template() *tls.Config {
	if d == nil {
		return nil
	}
	return d.TLSConfig
}

func (d *Dialer) netDialer() *net.Dialer {
	if d == nil || d.NetDialer == nil {
		return &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	}
	return d.NetDialer
}

// handshake runs the client handshake under ctx and turns certificate
// verification failures into *CertificateError.
func handshake(ctx context.Context, tc *tls.Conn, domain string) error {
	err := tc.HandshakeContext(ctx)
	if err == nil {
		return nil
	}
	if ce := certificateError(domain, err); ce != nil {
		return ce
	}
	return fmt.Errorf("dial: TLS handshake with %s: %w", domain, err)
}

// MaxRecordPayload is the largest write the session sends as one TLS record
// on connections configured by TLSConfig. TLS allows 16 KiB, but servers
// read TLS plaintext in smaller pieces (Prosody: 8 KiB per read, and
// OpenSSL returns at most one record per read), so records no larger than
// that reach the server's XML parser whole even when the connection dies
// between two reads.
const MaxRecordPayload = 8000

// TLSConfig returns the TLS configuration for a connection to the XMPP
// domain: a clone of base (nil: an empty config, i.e. the system roots) with
// ServerName set to the domain — RFC 7590 §3.2 and XEP-0368: the XMPP
// domain, never the SRV target, converted to its A-label form for SNI and
// certificate matching — MinVersion raised to TLS 1.2 (RFC 7590 §3.1) and
// NextProtos set to ["xmpp-client"] when alpn is true (Direct TLS) and
// cleared otherwise. A base with InsecureSkipVerify, or with a MaxVersion
// below TLS 1.2, is refused with ErrInsecureTLS: verification is never off.
func TLSConfig(base *tls.Config, domain string, alpn bool) (*tls.Config, error) {
	if base != nil && base.InsecureSkipVerify {
		return nil, fmt.Errorf("%w: InsecureSkipVerify is set", ErrInsecureTLS)
	}
	if base != nil && base.MaxVersion != 0 && base.MaxVersion < tls.VersionTLS12 {
		return nil, fmt.Errorf("%w: MaxVersion is below TLS 1.2", ErrInsecureTLS)
	}
	name, err := serverName(domain)
	if err != nil {
		return nil, err
	}
	var cfg *tls.Config
	if base != nil {
		cfg = base.Clone()
	} else {
		cfg = &tls.Config{}
	}
	cfg.ServerName = name
	if cfg.MinVersion < tls.VersionTLS12 {
		cfg.MinVersion = tls.VersionTLS12
	}
	// Full-size records from the start: a write of up to MaxRecordPayload
	// bytes then travels as one record, which the session relies on so that
	// a broken connection never leaves a torn stanza at the server.
	cfg.DynamicRecordSizingDisabled = true
	if alpn {
		cfg.NextProtos = []string{ALPN}
	} else {
		cfg.NextProtos = nil
	}
	return cfg, nil
}

// serverName converts an XMPP domainpart (RFC 7622 §3.2) into the name TLS
// verifies: IP literals lose their brackets, DNS names become A-labels.
func serverName(domain string) (string, error) {
	d := strings.TrimSuffix(strings.TrimSpace(domain), ".")
	if d == "" {
		return "", fmt.Errorf("%w: empty", ErrBadDomain)
	}
	if strings.HasPrefix(d, "[") && strings.HasSuffix(d, "]") {
		ip := net.ParseIP(d[1 : len(d)-1])
		if ip == nil || ip.To4() != nil {
			return "", fmt.Errorf("%w %q", ErrBadDomain, domain)
		}
		return d[1 : len(d)-1], nil
	}
	if net.ParseIP(d) != nil {
		return d, nil
	}
	a, err := idna.Lookup.ToASCII(d)
	if err != nil {
		return "", fmt.Errorf("%w %q: %w", ErrBadDomain, domain, err)
	}
	return a, nil
}

// CertificateError reports that the server's certificate could not be
// verified for the XMPP domain. Its message is meant for users.
type CertificateError struct {
	// Domain is the XMPP domain the certificate was checked against.
	Domain string
	// Reason completes "the certificate of <Domain> …", for example "is not
	// trusted (issued by an unknown authority)" or "has expired".
	Reason string
	// Err is the underlying crypto/tls or crypto/x509 error.
	Err error
}

// Error returns for example "the certificate of example.org is not trusted
// (issued by an unknown authority)".
func (e *CertificateError) Error() string {
	return "the certificate of " + e.Domain + " " + e.Reason
}

// Unwrap returns the underlying verification error.
func (e *CertificateError) Unwrap() error { return e.Err }

// certificateError returns a *CertificateError for a handshake error that
// comes from certificate verification, nil otherwise.
func certificateError(domain string, err error) *CertificateError {
	var (
		hostErr    x509.HostnameError
		authErr    x509.UnknownAuthorityError
		invalidErr x509.CertificateInvalidError
		rootsErr   x509.SystemRootsError
		verifyErr  *tls.CertificateVerificationError
	)
	ce := &CertificateError{Domain: domain, Err: err}
	switch {
	case errors.As(err, &hostErr):
		ce.Reason = "is for " + certNames(hostErr.Certificate) + ", not " + domain
	case errors.As(err, &authErr):
		ce.Reason = "is not trusted (issued by an unknown authority)"
	case errors.As(err, &invalidErr):
		switch invalidErr.Reason {
		case x509.Expired:
			if c := invalidErr.Cert; c != nil && time.Now().Before(c.NotBefore) {
				ce.Reason = "is not valid yet"
			} else {
				ce.Reason = "has expired"
			}
		case x509.NotAuthorizedToSign, x509.CANotAuthorizedForThisName, x509.CANotAuthorizedForExtKeyUsage:
			ce.Reason = "is not trusted (its issuer may not sign it)"
		case x509.IncompatibleUsage:
			ce.Reason = "is not valid for a server"
		default:
			ce.Reason = "is not valid (" + invalidErr.Error() + ")"
		}
	case errors.As(err, &rootsErr):
		ce.Reason = "could not be checked (no trusted root certificates are available)"
	case errors.As(err, &verifyErr):
		ce.Reason = "could not be verified (" + verifyErr.Err.Error() + ")"
	default:
		return nil
	}
	return ce
}

// certNames lists the names a certificate is valid for, for messages.
func certNames(c *x509.Certificate) string {
	if c == nil {
		return "another name"
	}
	var names []string
	names = append(names, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 && c.Subject.CommonName != "" {
		names = append(names, c.Subject.CommonName)
	}
	switch {
	case len(names) == 0:
		return "another name"
	case len(names) > 3:
		return strings.Join(names[:3], ", ") + fmt.Sprintf(" (and %d more)", len(names)-3)
	}
	return strings.Join(names, ", ")
}

// IsNotTLS reports whether err says the peer answered a TLS ClientHello
// with something that is not TLS (crypto/tls.RecordHeaderError), as a
// STARTTLS port does. A manual override with Auto set uses it to fall back
// from Direct TLS to STARTTLS; other handshake failures, certificate errors
// above all, must never cause a fallback.
func IsNotTLS(err error) bool {
	var rh tls.RecordHeaderError
	return errors.As(err, &rh)
}
