package dial_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tern-im/tern/protocol/dial"
)

// testCA is a throwaway certificate authority generated for these tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "dial test CA"},
		NotBefore:             time.Now().Add(-48 * time.Hour),
		NotAfter:              time.Now().Add(48 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

// leaf issues a server certificate for names valid from notBefore to
// notAfter.
func (ca *testCA) leaf(t *testing.T, notBefore, notAfter time.Time, names ...string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: names[0]},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     names,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func (ca *testCA) validLeaf(t *testing.T, names ...string) tls.Certificate {
	return ca.leaf(t, time.Now().Add(-time.Hour), time.Now().Add(time.Hour), names...)
}

// serverResult is what a test server saw of one connection.
type serverResult struct {
	hello *tls.ClientHelloInfo
	state tls.ConnectionState
	err   error
	line  string // first line read after the handshake
}

// listen starts a loopback TCP server that handles each connection with fn
// and sends its result on the returned channel. t.Cleanup stops it.
func listen(t *testing.T, fn func(net.Conn) serverResult) (port uint16, results <-chan serverResult) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan serverResult, 4)
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				ch <- fn(c)
			})
		}
	})
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return uint16(ln.Addr().(*net.TCPAddr).Port), ch
}

// tlsServer handshakes as a TLS server with cfg, records the ClientHello
// and the first line the client sends, and answers "pong".
func tlsServer(cfg *tls.Config) func(net.Conn) serverResult {
	return func(c net.Conn) serverResult {
		var res serverResult
		cfg := cfg.Clone()
		cfg.GetConfigForClient = func(h *tls.ClientHelloInfo) (*tls.Config, error) {
			res.hello = h
			return nil, nil
		}
		tc := tls.Server(c, cfg)
		_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
		if res.err = tc.Handshake(); res.err != nil {
			return res
		}
		res.state = tc.ConnectionState()
		res.line, res.err = bufio.NewReader(tc).ReadString('\n')
		if res.err == nil {
			_, res.err = io.WriteString(tc, "pong\n")
		}
		return res
	}
}

func dialer(ca *testCA) *dial.Dialer {
	return &dial.Dialer{TLSConfig: &tls.Config{RootCAs: ca.pool}}
}

func ping(t *testing.T, c net.Conn) {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, "ping\n"); err != nil {
		t.Fatalf("write: %v", err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || line != "pong\n" {
		t.Fatalf("read = %q, %v; want pong", line, err)
	}
}

func TestDialDirectTLS(t *testing.T) {
	ca := newTestCA(t)
	// The certificate is for the XMPP domain; the endpoint (the "SRV
	// target") is an IP address: verification must use the domain.
	port, results := listen(t, tlsServer(&tls.Config{
		Certificates: []tls.Certificate{ca.validLeaf(t, "example.org")},
		NextProtos:   []string{"xmpp-client"},
	}))
	conn, err := dialer(ca).Dial(t.Context(), "example.org", dial.Endpoint{Host: "127.0.0.1", Port: port, DirectTLS: true})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer conn.Close()
	tc, ok := conn.(*tls.Conn)
	if !ok {
		t.Fatalf("Dial returned %T, want *tls.Conn", conn)
	}
	ping(t, conn)
	st := tc.ConnectionState()
	if st.NegotiatedProtocol != "xmpp-client" {
		t.Errorf("client ALPN = %q, want xmpp-client", st.NegotiatedProtocol)
	}
	if st.Version < tls.VersionTLS12 {
		t.Errorf("TLS version %x below 1.2", st.Version)
	}
	res := <-results
	if res.err != nil {
		t.Fatalf("server: %v", res.err)
	}
	if res.hello.ServerName != "example.org" {
		t.Errorf("SNI = %q, want example.org", res.hello.ServerName)
	}
	if !slices.Equal(res.hello.SupportedProtos, []string{"xmpp-client"}) {
		t.Errorf("client offered ALPN %q, want [xmpp-client]", res.hello.SupportedProtos)
	}
	if res.line != "ping\n" {
		t.Errorf("server read %q", res.line)
	}
}

func TestDialPlainThenStartTLS(t *testing.T) {
	ca := newTestCA(t)
	serverCfg := &tls.Config{Certificates: []tls.Certificate{ca.validLeaf(t, "example.org")}}
	port, results := listen(t, func(c net.Conn) serverResult {
		// A minimal STARTTLS exchange stands in for the XMPP negotiation.
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		br := bufio.NewReader(c)
		line, err := br.ReadString('\n')
		if err != nil || line != "starttls\n" {
			return serverResult{err: errors.New("expected starttls, got " + strconv.Quote(line))}
		}
		if _, err := io.WriteString(c, "proceed\n"); err != nil {
			return serverResult{err: err}
		}
		return tlsServer(serverCfg)(c)
	})
	d := dialer(ca)
	conn, err := d.Dial(t.Context(), "example.org", dial.Endpoint{Host: "127.0.0.1", Port: port})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer conn.Close()
	if _, isTLS := conn.(*tls.Conn); isTLS {
		t.Fatal("Dial of a STARTTLS endpoint returned a TLS connection")
	}
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, "starttls\n"); err != nil {
		t.Fatal(err)
	}
	// Read byte by byte so that nothing of the TLS stream is buffered away.
	var got []byte
	for !strings.HasSuffix(string(got), "\n") {
		b := make([]byte, 1)
		if _, err := conn.Read(b); err != nil {
			t.Fatal(err)
		}
		got = append(got, b[0])
	}
	if string(got) != "proceed\n" {
		t.Fatalf("got %q", got)
	}
	tc, err := d.StartTLS(t.Context(), conn, "example.org")
	if err != nil {
		t.Fatalf("StartTLS: %v", err)
	}
	ping(t, tc)
	res := <-results
	if res.err != nil {
		t.Fatalf("server: %v", res.err)
	}
	if res.hello.ServerName != "example.org" {
		t.Errorf("SNI = %q", res.hello.ServerName)
	}
	if len(res.hello.SupportedProtos) != 0 {
		t.Errorf("STARTTLS offered ALPN %q, want none", res.hello.SupportedProtos)
	}
}

func TestDialCertificateErrors(t *testing.T) {
	ca := newTestCA(t)
	other := newTestCA(t)
	now := time.Now()
	tests := []struct {
		name     string
		cert     tls.Certificate
		message  string
		underlie func(error) bool
	}{
		{
			name:    "unknown CA",
			cert:    other.validLeaf(t, "example.org"),
			message: "the certificate of example.org is not trusted (issued by an unknown authority)",
			underlie: func(err error) bool {
				var e x509.UnknownAuthorityError
				return errors.As(err, &e)
			},
		},
		{
			name:    "wrong name",
			cert:    ca.validLeaf(t, "other.example"),
			message: "the certificate of example.org is for other.example, not example.org",
			underlie: func(err error) bool {
				var e x509.HostnameError
				return errors.As(err, &e)
			},
		},
		{
			name:    "expired",
			cert:    ca.leaf(t, now.Add(-48*time.Hour), now.Add(-24*time.Hour), "example.org"),
			message: "the certificate of example.org has expired",
			underlie: func(err error) bool {
				var e x509.CertificateInvalidError
				return errors.As(err, &e) && e.Reason == x509.Expired
			},
		},
		{
			name:    "not yet valid",
			cert:    ca.leaf(t, now.Add(24*time.Hour), now.Add(48*time.Hour), "example.org"),
			message: "the certificate of example.org is not valid yet",
			underlie: func(err error) bool {
				var e x509.CertificateInvalidError
				return errors.As(err, &e) && e.Reason == x509.Expired
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, directTLS := range []bool{true, false} {
				port, results := listen(t, tlsServer(&tls.Config{Certificates: []tls.Certificate{tt.cert}}))
				ep := dial.Endpoint{Host: "127.0.0.1", Port: port, DirectTLS: directTLS}
				d := dialer(ca)
				conn, err := d.Dial(t.Context(), "example.org", ep)
				if !directTLS {
					if err != nil {
						t.Fatalf("plain Dial: %v", err)
					}
					var tc *tls.Conn
					tc, err = d.StartTLS(t.Context(), conn, "example.org")
					if tc != nil {
						t.Error("StartTLS returned a connection with an error")
					}
					// StartTLS closed conn: writing must fail.
					if _, werr := conn.Write([]byte("x")); werr == nil {
						t.Error("StartTLS failed but left the connection open")
					}
				} else if conn != nil {
					t.Error("Dial returned a connection with an error")
				}
				var ce *dial.CertificateError
				if !errors.As(err, &ce) {
					t.Fatalf("DirectTLS=%v: err = %v (%T), want *CertificateError", directTLS, err, err)
				}
				if ce.Error() != tt.message {
					t.Errorf("message = %q, want %q", ce.Error(), tt.message)
				}
				if ce.Domain != "example.org" {
					t.Errorf("Domain = %q", ce.Domain)
				}
				if !tt.underlie(err) {
					t.Errorf("underlying x509 error not reachable through Unwrap: %v", ce.Err)
				}
				if dial.IsNotTLS(err) {
					t.Error("a certificate error must not count as IsNotTLS")
				}
				if res := <-results; res.err == nil {
					t.Error("server completed the exchange despite the bad certificate")
				}
			}
		})
	}
}

func TestDialRefusesOldTLS(t *testing.T) {
	ca := newTestCA(t)
	port, results := listen(t, tlsServer(&tls.Config{
		Certificates: []tls.Certificate{ca.validLeaf(t, "example.org")},
		MinVersion:   tls.VersionTLS10,
		MaxVersion:   tls.VersionTLS11,
	}))
	// Even a template that allows TLS 1.0 is raised to TLS 1.2.
	d := &dial.Dialer{TLSConfig: &tls.Config{RootCAs: ca.pool, MinVersion: tls.VersionTLS10}}
	conn, err := d.Dial(t.Context(), "example.org", dial.Endpoint{Host: "127.0.0.1", Port: port, DirectTLS: true})
	if err == nil {
		conn.Close()
		t.Fatal("Dial succeeded against a TLS 1.1 server")
	}
	var ce *dial.CertificateError
	if errors.As(err, &ce) || dial.IsNotTLS(err) {
		t.Errorf("err = %v: want a plain handshake error", err)
	}
	res := <-results
	if res.err == nil {
		t.Fatal("server handshake succeeded")
	}
	if res.hello == nil {
		t.Fatal("server saw no ClientHello")
	}
	for _, v := range res.hello.SupportedVersions {
		if v < tls.VersionTLS12 {
			t.Errorf("client offered TLS version %x", v)
		}
	}
}

func TestDialPlainServerIsNotTLS(t *testing.T) {
	port, results := listen(t, func(c net.Conn) serverResult {
		// A STARTTLS-only XMPP server answers garbage (the ClientHello)
		// with a stream error in XML.
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		buf := make([]byte, 4096) // the whole ClientHello, so closing sends no RST
		if _, err := c.Read(buf); err != nil {
			return serverResult{err: err}
		}
		_, err := io.WriteString(c, "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'><stream:error><not-well-formed xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>")
		return serverResult{err: err}
	})
	ca := newTestCA(t)
	_, err := dialer(ca).Dial(t.Context(), "example.org", dial.Endpoint{Host: "127.0.0.1", Port: port, DirectTLS: true, Auto: true})
	if err == nil {
		t.Fatal("Dial succeeded against a plain server")
	}
	if !dial.IsNotTLS(err) {
		t.Errorf("IsNotTLS(%v) = false, want true", err)
	}
	<-results
}

func TestIsNotTLSOther(t *testing.T) {
	for _, err := range []error{nil, io.EOF, context.DeadlineExceeded, &dial.CertificateError{Domain: "x", Reason: "y", Err: errors.New("z")}} {
		if dial.IsNotTLS(err) {
			t.Errorf("IsNotTLS(%v) = true", err)
		}
	}
}

func TestDialHandshakeRespectsContext(t *testing.T) {
	accepted := make(chan struct{})
	release := make(chan struct{})
	port, results := listen(t, func(c net.Conn) serverResult {
		close(accepted)
		<-release // never answer the ClientHello until the test is done
		return serverResult{}
	})
	defer close(release)
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-accepted
		cancel()
	}()
	ca := newTestCA(t)
	_, err := dialer(ca).Dial(ctx, "example.org", dial.Endpoint{Host: "127.0.0.1", Port: port, DirectTLS: true})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	_ = results
}

func TestDialConnectError(t *testing.T) {
	// Take a free port and close it again: connecting is refused.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := uint16(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	var d *dial.Dialer // a nil Dialer uses the defaults
	_, err = d.Dial(t.Context(), "example.org", dial.Endpoint{Host: "127.0.0.1", Port: port})
	var opErr *net.OpError
	if !errors.As(err, &opErr) {
		t.Errorf("err = %v, want a *net.OpError inside", err)
	}
}

func TestTLSConfig(t *testing.T) {
	pool := x509.NewCertPool()
	base := &tls.Config{RootCAs: pool, ServerName: "srv.example.net", NextProtos: []string{"h2"}}
	cfg, err := dial.TLSConfig(base, "example.org", true)
	if err != nil {
		t.Fatal(err)
	}
	if cfg == base {
		t.Fatal("TLSConfig returned the template itself")
	}
	if cfg.ServerName != "example.org" || cfg.RootCAs != pool || cfg.MinVersion != tls.VersionTLS12 ||
		!slices.Equal(cfg.NextProtos, []string{"xmpp-client"}) {
		t.Errorf("cfg: ServerName=%q MinVersion=%x NextProtos=%q", cfg.ServerName, cfg.MinVersion, cfg.NextProtos)
	}
	if base.ServerName != "srv.example.net" || base.MinVersion != 0 || !slices.Equal(base.NextProtos, []string{"h2"}) {
		t.Error("TLSConfig modified its template")
	}
	cfg, err = dial.TLSConfig(base, "example.org", false)
	if err != nil || cfg.NextProtos != nil {
		t.Errorf("alpn=false: NextProtos=%q err=%v", cfg.NextProtos, err)
	}
	cfg, err = dial.TLSConfig(&tls.Config{MinVersion: tls.VersionTLS13}, "example.org", false)
	if err != nil || cfg.MinVersion != tls.VersionTLS13 {
		t.Errorf("a higher MinVersion must be kept: %v, %v", cfg, err)
	}

	for domain, want := range map[string]string{
		"example.org":    "example.org",
		"example.org.":   "example.org",
		"Bücher.example": "xn--bcher-kva.example",
		"[::1]":          "::1",
		"192.0.2.1":      "192.0.2.1",
	} {
		cfg, err := dial.TLSConfig(nil, domain, false)
		if err != nil || cfg.ServerName != want {
			t.Errorf("TLSConfig(nil, %q): ServerName=%q err=%v, want %q", domain, cfg.ServerName, err, want)
		}
	}
	for _, domain := range []string{"", "[192.0.2.1]", "[nope]", "exa mple.org"} {
		if _, err := dial.TLSConfig(nil, domain, false); !errors.Is(err, dial.ErrBadDomain) {
			t.Errorf("TLSConfig(nil, %q) err = %v, want ErrBadDomain", domain, err)
		}
	}
	for _, bad := range []*tls.Config{{InsecureSkipVerify: true}, {MaxVersion: tls.VersionTLS11}} {
		if _, err := dial.TLSConfig(bad, "example.org", true); !errors.Is(err, dial.ErrInsecureTLS) {
			t.Errorf("TLSConfig(%+v) err = %v, want ErrInsecureTLS", bad, err)
		}
	}
	// Dial refuses an insecure template before connecting anywhere.
	d := &dial.Dialer{TLSConfig: &tls.Config{InsecureSkipVerify: true}}
	if _, err := d.Dial(t.Context(), "example.org", dial.Endpoint{Host: "192.0.2.1", Port: 1, DirectTLS: true}); !errors.Is(err, dial.ErrInsecureTLS) {
		t.Errorf("Dial with InsecureSkipVerify: %v", err)
	}
}

func TestDialerEndpoints(t *testing.T) {
	r := &fakeResolver{records: map[string][]*net.SRV{"xmpps-client": {rec("tls.example.net.", 443, 0, 0)}}}
	eps, err := (&dial.Dialer{Resolver: r}).Endpoints(t.Context(), "example.org")
	if err != nil || len(eps) != 1 || eps[0] != (dial.Endpoint{Host: "tls.example.net", Port: 443, DirectTLS: true}) {
		t.Errorf("Endpoints = %v, %v", eps, err)
	}
}
