package xmpptest

import (
	"bufio"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
)

// Namespaces the fake server speaks (RFC 6120).
const (
	nsClient = "jabber:client"
	nsTLS    = "urn:ietf:params:xml:ns:xmpp-tls"
)

// FakeServer is an in-memory scripted XMPP server on loopback, for
// negotiation edge cases a real server will not produce: every accepted
// connection runs the same script, which reads and writes exactly what the
// test wants (including malformed XML).
type FakeServer struct {
	t      testing.TB
	ca     *CA
	domain string
	script func(c *FakeConn)
	ln     net.Listener
	cert   *tls.Certificate // leaf for domain, nil without a CA

	accepted atomic.Int64
	wg       sync.WaitGroup // the accept loop and one goroutine per connection

	mu      sync.Mutex // guards open and closing
	open    map[*FakeConn]struct{}
	closing bool
}

// NewFakeServer listens on 127.0.0.1:0 and runs script once per accepted
// connection, in a goroutine the server owns. t.Cleanup closes the listener
// and all connections and waits for the goroutines.
//
// A failing FakeConn method (an unexpected element, a read error where the
// script expected data, a failed TLS handshake) reports with t.Errorf —
// never Fatal: the script does not run on the test goroutine — then closes
// the connection and stops the script, much as t.FailNow stops a test.
// Failures are no longer reported once cleanup has begun: by then the test
// has made its own checks, and the script was merely waiting. A panic in
// the script is reported too.
//
// ca signs the certificate for domain used by StartTLS and DirectTLS; it
// may be nil for scripts that never start TLS.
func NewFakeServer(t testing.TB, ca *CA, domain string, script func(c *FakeConn)) *FakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("xmpptest: fake server: listen: %v", err)
	}
	s := &FakeServer{t: t, ca: ca, domain: domain, script: script, ln: ln, open: map[*FakeConn]struct{}{}}
	if ca != nil {
		cert := ca.TLSCert(domain)
		s.cert = &cert
	}
	t.Cleanup(s.close)
	s.wg.Add(1)
	go s.accept()
	return s
}

// Addr returns the listening address, "127.0.0.1:port".
func (s *FakeServer) Addr() string { return s.ln.Addr().String() }

// Conns returns how many connections the server has accepted so far.
func (s *FakeServer) Conns() int { return int(s.accepted.Load()) }

func (s *FakeServer) accept() {
	defer s.wg.Done()
	for {
		raw, err := s.ln.Accept()
		if err != nil {
			if !s.isClosing() {
				s.t.Errorf("xmpptest: fake server: accept: %v", err)
			}
			return
		}
		s.accepted.Add(1)
		c := newFakeConn(s, raw)
		s.mu.Lock()
		if s.closing {
			s.mu.Unlock()
			_ = raw.Close()
			return
		}
		s.open[c] = struct{}{}
		// Add while the accept loop itself is counted, so the counter is
		// never zero here while close waits.
		s.wg.Add(1)
		s.mu.Unlock()
		go s.run(c)
	}
}

func (s *FakeServer) run(c *FakeConn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.open, c)
		s.mu.Unlock()
	}()
	defer c.Close()
	defer func() {
		// runtime.Goexit (after a reported failure) is not a panic:
		// recover returns nil for it.
		if r := recover(); r != nil {
			s.t.Errorf("xmpptest: fake server script panicked: %v\n%s", r, debug.Stack())
		}
	}()
	s.script(c)
}

func (s *FakeServer) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

func (s *FakeServer) close() {
	s.mu.Lock()
	s.closing = true
	conns := make([]*FakeConn, 0, len(s.open))
	for c := range s.open {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	_ = s.ln.Close()
	for _, c := range conns {
		c.Close()
	}
	s.wg.Wait()
}

// FakeConn is one accepted connection as its script sees it: raw TCP at
// first, TLS after StartTLS or DirectTLS. Its methods must be called from
// the script's goroutine.
type FakeConn struct {
	s      *FakeServer
	raw    net.Conn
	conn   net.Conn // raw, or tlsConn once TLS is up
	br     *bufio.Reader
	dec    *xmlstream.Decoder
	header xmlstream.Header // the last header the client sent

	// mu guards tlsConn and closed: Close may run on the cleanup goroutine
	// while the script sets up TLS. The script goroutine, the only writer,
	// reads tlsConn without it.
	mu      sync.Mutex
	tlsConn *tls.Conn
	closed  bool
}

func newFakeConn(s *FakeServer, raw net.Conn) *FakeConn {
	c := &FakeConn{s: s, raw: raw, conn: raw}
	c.reset()
	return c
}

// reset starts a new decoder on the current connection (a stream restart,
// RFC 6120 §4.3.3). The bufio.Reader lets the decoder read byte by byte, so
// it never consumes data that follows the element it returns.
func (c *FakeConn) reset() {
	c.br = bufio.NewReader(c.conn)
	c.dec = xmlstream.NewDecoder(c.br, xmlstream.Options{})
}

// fail reports a script failure (unless the server is shutting down),
// closes the connection and stops the script.
func (c *FakeConn) fail(format string, args ...any) {
	if !c.s.isClosing() {
		c.s.t.Errorf("xmpptest: fake server: "+format, args...)
	}
	c.Close()
	runtime.Goexit()
}

// ReadHeader reads the client's stream header (a new one after each stream
// restart) and returns it.
func (c *FakeConn) ReadHeader() xmlstream.Header {
	if c.header != (xmlstream.Header{}) {
		// A stream restart after SASL (RFC 6120 §6.4.6): a new decoder on
		// the same byte-exact reader, so nothing is lost.
		c.dec = xmlstream.NewDecoder(c.br, xmlstream.Options{})
	}
	h, err := c.dec.ReadHeader()
	if err != nil {
		c.fail("read client stream header: %v", err)
	}
	c.header = h
	return h
}

// SendHeader answers the client's header with a server stream header
// (RFC 6120 §4.7): a fresh stream id, from the server's domain, to the
// client's 'from' when it sent one, version 1.0, in jabber:client.
func (c *FakeConn) SendHeader() {
	var id [8]byte
	_, _ = rand.Read(id[:]) // crypto/rand.Read never fails (Go 1.24+).
	h := xmlstream.Header{
		To:      c.header.From,
		From:    c.s.domain,
		ID:      hex.EncodeToString(id[:]),
		Version: "1.0",
		Lang:    "en",
		NS:      nsClient,
	}
	if err := xmlstream.WriteHeader(c.conn, h); err != nil {
		c.fail("send stream header: %v", err)
	}
}

// Send writes rawXML as it is: it may be deliberately malformed.
func (c *FakeConn) Send(rawXML string) {
	if _, err := io.WriteString(c.conn, rawXML); err != nil {
		c.fail("send: %v", err)
	}
}

// Next reads the next top-level element from the client. Errors are
// returned, not reported: io.EOF, xmlstream.ErrStreamEnd and malformed
// input may be what the script is testing for.
func (c *FakeConn) Next() (*xmlstream.Element, error) {
	return c.dec.Next()
}

// Expect reads the next element and checks that it is named local in
// namespace space; anything else, or a read error, is a script failure.
func (c *FakeConn) Expect(space, local string) *xmlstream.Element {
	el, err := c.dec.Next()
	if err != nil {
		c.fail("expected <%s xmlns='%s'>, got error: %v", local, space, err)
	}
	if !el.Is(space, local) {
		c.fail("expected <%s xmlns='%s'>, got %s", local, space, el)
	}
	return el
}

// StartTLS performs the server side of the TLS handshake after the script
// sent <proceed/> (RFC 6120 §5.4.3.3), with a certificate for the server's
// domain signed by its CA, and restarts the decoder on the TLS connection.
// Data the client sent after <starttls/> and before the handshake is a
// failure (RFC 6120 §5.4.3.3: such data must be discarded, and a test that
// sees it has found a bug).
func (c *FakeConn) StartTLS() {
	if n := c.br.Buffered(); n > 0 {
		b, _ := c.br.Peek(n)
		c.fail("client sent %d bytes before the TLS handshake: %q", n, b)
	}
	c.handshake(false)
}

// DirectTLS performs the server side of the TLS handshake at once, as on a
// XEP-0368 Direct TLS port (offering ALPN "xmpp-client"), and restarts the
// decoder on the TLS connection.
func (c *FakeConn) DirectTLS() {
	c.handshake(true)
}

func (c *FakeConn) handshake(alpn bool) {
	if c.s.cert == nil {
		c.fail("TLS needs a CA: NewFakeServer was given none")
	}
	if c.tlsConn != nil {
		c.fail("TLS is already established")
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{*c.s.cert}, MinVersion: tls.VersionTLS12}
	if alpn {
		cfg.NextProtos = []string{"xmpp-client"}
	}
	tc := tls.Server(c.raw, cfg)
	if err := tc.Handshake(); err != nil {
		c.fail("TLS handshake: %v", err)
	}
	c.mu.Lock()
	c.tlsConn = tc
	c.mu.Unlock()
	c.conn = tc
	c.reset()
}

// TLSState returns the state of the TLS connection (the zero value before
// StartTLS or DirectTLS).
func (c *FakeConn) TLSState() tls.ConnectionState {
	if c.tlsConn == nil {
		return tls.ConnectionState{}
	}
	return c.tlsConn.ConnectionState()
}

// NegotiateTLS runs the usual beginning of a c2s stream (RFC 6120 §5.4):
// read the client's header, answer with a header and features that require
// STARTTLS, expect <starttls/>, send <proceed/>, do the TLS handshake, then
// read the client's new header and answer it. The script continues with
// the post-TLS features.
func (c *FakeConn) NegotiateTLS() {
	c.ReadHeader()
	c.SendHeader()
	c.Send(fmt.Sprintf("<stream:features><starttls xmlns='%s'><required/></starttls></stream:features>", nsTLS))
	c.Expect(nsTLS, "starttls")
	c.Send(fmt.Sprintf("<proceed xmlns='%s'/>", nsTLS))
	c.StartTLS()
	c.ReadHeader()
	c.SendHeader()
}

// Close closes the connection (with a TLS close_notify when TLS is up).
// It may be called more than once.
func (c *FakeConn) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.closed = true
	if c.tlsConn != nil {
		_ = c.tlsConn.Close()
	}
	_ = c.raw.Close()
}
