package xmpptest_test

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/xmpptest"
)

const (
	nsClient = "jabber:client"
	nsTLS    = "urn:ietf:params:xml:ns:xmpp-tls"
	domain   = "example.org"
)

// client is a minimal XMPP client written for these tests on crypto/tls and
// xmlstream, so that the fake is checked against independent code.
type client struct {
	t    *testing.T
	raw  net.Conn
	conn net.Conn
	dec  *xmlstream.Decoder
}

func dialClient(t *testing.T, addr string) *client {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	c := &client{t: t, raw: conn, conn: conn}
	c.restart()
	return c
}

func (c *client) restart() {
	c.dec = xmlstream.NewDecoder(bufio.NewReader(c.conn), xmlstream.Options{})
}

func (c *client) sendHeader() {
	c.t.Helper()
	h := xmlstream.Header{To: domain, From: "juliet@example.org", Version: "1.0", NS: nsClient}
	if err := xmlstream.WriteHeader(c.conn, h); err != nil {
		c.t.Fatal(err)
	}
}

func (c *client) send(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.conn, s); err != nil {
		c.t.Fatal(err)
	}
}

func (c *client) readHeader() xmlstream.Header {
	c.t.Helper()
	h, err := c.dec.ReadHeader()
	if err != nil {
		c.t.Fatalf("read server header: %v", err)
	}
	return h
}

func (c *client) next() *xmlstream.Element {
	c.t.Helper()
	el, err := c.dec.Next()
	if err != nil {
		c.t.Fatalf("read element: %v", err)
	}
	return el
}

// startTLS upgrades the connection as an RFC 6120 client does after
// <proceed/>, trusting only ca.
func (c *client) startTLS(ca *xmpptest.CA, alpn ...string) *tls.Conn {
	c.t.Helper()
	tc := tls.Client(c.raw, &tls.Config{RootCAs: ca.Pool(), ServerName: domain, NextProtos: alpn})
	if err := tc.Handshake(); err != nil {
		c.t.Fatalf("client TLS handshake: %v", err)
	}
	c.conn = tc
	c.restart()
	return tc
}

// waitClosed reads until the server closes the connection and returns what
// arrived.
func (c *client) waitClosed() string {
	c.t.Helper()
	b, err := io.ReadAll(c.conn)
	if err != nil {
		c.t.Fatalf("read until close: %v", err)
	}
	return string(b)
}

func TestFakeServerSTARTTLS(t *testing.T) {
	ca := xmpptest.NewCA(t)
	type seen struct {
		state tls.ConnectionState
		msg   *xmlstream.Element
	}
	done := make(chan seen, 1)
	s := xmpptest.NewFakeServer(t, ca, domain, func(c *xmpptest.FakeConn) {
		c.NegotiateTLS()
		c.Send("<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>")
		msg := c.Expect(nsClient, "message")
		c.Send("<message xmlns='jabber:client' from='romeo@example.net/orchard' id='m2'><body>Neither, fair saint</body></message>")
		done <- seen{state: c.TLSState(), msg: msg}
		if _, err := c.Next(); err != xmlstream.ErrStreamEnd {
			t.Errorf("after the message: %v, want the end of the stream", err)
		}
	})
	if !strings.HasPrefix(s.Addr(), "127.0.0.1:") {
		t.Errorf("Addr = %q", s.Addr())
	}

	c := dialClient(t, s.Addr())
	c.sendHeader()
	h1 := c.readHeader()
	if h1.From != domain || h1.To != "juliet@example.org" || h1.ID == "" || h1.Version != "1.0" || h1.NS != nsClient {
		t.Errorf("first header = %+v", h1)
	}
	f := c.next()
	if !f.Is(xmlstream.NSStream, "features") || f.Child(nsTLS, "starttls").Child(nsTLS, "required") == nil {
		t.Fatalf("features = %s", f)
	}
	c.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
	if p := c.next(); !p.Is(nsTLS, "proceed") {
		t.Fatalf("got %s, want <proceed/>", p)
	}
	tc := c.startTLS(ca)
	c.sendHeader()
	h2 := c.readHeader()
	if h2.From != domain || h2.ID == "" || h2.ID == h1.ID {
		t.Errorf("header after TLS = %+v (first id %q): want a fresh id", h2, h1.ID)
	}
	if f := c.next(); f.Child("urn:ietf:params:xml:ns:xmpp-bind", "bind") == nil {
		t.Errorf("post-TLS features = %s", f)
	}
	c.send("<message xmlns='jabber:client' to='romeo@example.net' id='m1'><body>Wherefore art thou?</body></message>")
	reply := c.next()
	if reply.Get("id") != "m2" || reply.ChildText(nsClient, "body") != "Neither, fair saint" {
		t.Errorf("reply = %s", reply)
	}
	got := <-done
	if got.msg.Get("id") != "m1" || got.msg.ChildText(nsClient, "body") != "Wherefore art thou?" {
		t.Errorf("server got %s", got.msg)
	}
	if !got.state.HandshakeComplete || got.state.ServerName != domain || got.state.NegotiatedProtocol != "" {
		t.Errorf("server TLS state: complete=%v SNI=%q ALPN=%q", got.state.HandshakeComplete, got.state.ServerName, got.state.NegotiatedProtocol)
	}
	if cs := tc.ConnectionState(); cs.PeerCertificates[0].VerifyHostname(domain) != nil {
		t.Error("server certificate is not for the domain")
	}
	c.send(xmlstream.StreamEnd)
	c.waitClosed()
	if n := s.Conns(); n != 1 {
		t.Errorf("Conns = %d, want 1", n)
	}
}

func TestFakeServerSendsMalformedBytesVerbatim(t *testing.T) {
	const malformed = "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>&bogus;<</stream:feature>\x00\xff"
	s := xmpptest.NewFakeServer(t, nil, domain, func(c *xmpptest.FakeConn) {
		c.ReadHeader()
		c.SendHeader()
		c.Send(malformed)
	})
	c := dialClient(t, s.Addr())
	c.sendHeader()
	all := c.waitClosed()
	if !strings.HasPrefix(all, "<?xml version='1.0'?><stream:stream ") {
		t.Errorf("no stream header: %q", all)
	}
	if _, after, ok := strings.Cut(all, ">"+"<stream:features>"); !ok || "<stream:features>"+after != malformed {
		t.Errorf("received %q, want the header followed by exactly %q", all, malformed)
	}
}

func TestFakeServerDirectTLS(t *testing.T) {
	ca := xmpptest.NewCA(t)
	states := make(chan tls.ConnectionState, 1)
	s := xmpptest.NewFakeServer(t, ca, domain, func(c *xmpptest.FakeConn) {
		if st := c.TLSState(); st.HandshakeComplete {
			t.Error("TLS state before the handshake")
		}
		c.DirectTLS()
		c.ReadHeader()
		c.SendHeader()
		c.Send("<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>")
		states <- c.TLSState()
	})
	c := dialClient(t, s.Addr())
	tc := c.startTLS(ca, "xmpp-client")
	if p := tc.ConnectionState().NegotiatedProtocol; p != "xmpp-client" {
		t.Errorf("ALPN = %q, want xmpp-client", p)
	}
	c.sendHeader()
	c.readHeader()
	const nsSASL = "urn:ietf:params:xml:ns:xmpp-sasl"
	if f := c.next(); f.Child(nsSASL, "mechanisms").ChildText(nsSASL, "mechanism") != "PLAIN" {
		t.Errorf("features = %s", f)
	}
	st := <-states
	if st.NegotiatedProtocol != "xmpp-client" || st.Version < tls.VersionTLS12 {
		t.Errorf("server state: ALPN %q version %x", st.NegotiatedProtocol, st.Version)
	}
}

func TestFakeServerConnectionsEachRunTheScript(t *testing.T) {
	var runs atomic.Int32
	s := xmpptest.NewFakeServer(t, nil, domain, func(c *xmpptest.FakeConn) {
		runs.Add(1)
		c.ReadHeader()
		c.SendHeader()
		c.Send("<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>")
	})
	for i := 1; i <= 3; i++ {
		c := dialClient(t, s.Addr())
		c.sendHeader()
		c.readHeader()
		if e := c.next(); !e.Is(xmlstream.NSStream, "error") {
			t.Errorf("got %s", e)
		}
		c.waitClosed()
		if got := s.Conns(); got != i {
			t.Errorf("Conns = %d after %d connections", got, i)
		}
	}
	if runs.Load() != 3 {
		t.Errorf("script ran %d times, want 3", runs.Load())
	}
}

// recorder is a testing.TB that records errors and cleanups instead of
// acting on them, to test how the fake reports script failures.
type recorder struct {
	testing.TB
	mu       sync.Mutex // guards errs and cleanups
	errs     []string
	cleanups []func()
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, strings.TrimSpace(fmt.Sprintf(format, args...)))
}

func (r *recorder) Error(args ...any) { r.Errorf("%s", fmt.Sprintln(args...)) }

func (r *recorder) Cleanup(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cleanups = append(r.cleanups, f)
}

// finish runs the recorded cleanups, last first, and returns the errors.
func (r *recorder) finish() []string {
	r.mu.Lock()
	cs := r.cleanups
	r.cleanups = nil
	r.mu.Unlock()
	for i := len(cs) - 1; i >= 0; i-- {
		cs[i]()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.errs
}

func TestFakeServerReportsUnexpectedElement(t *testing.T) {
	rec := &recorder{TB: t}
	var after atomic.Bool
	s := xmpptest.NewFakeServer(rec, nil, domain, func(c *xmpptest.FakeConn) {
		c.ReadHeader()
		c.SendHeader()
		c.Expect(nsTLS, "starttls")
		after.Store(true) // not reached: the failure stops the script
	})
	c := dialClient(t, s.Addr())
	c.sendHeader()
	c.readHeader()
	c.send("<message xmlns='jabber:client'><body>early</body></message>")
	if rest := c.waitClosed(); rest != "" {
		t.Errorf("after the failure the server sent %q", rest)
	}
	errs := rec.finish()
	if len(errs) != 1 || !strings.Contains(errs[0], "expected <starttls xmlns='"+nsTLS+"'>, got <message") {
		t.Errorf("reported %q", errs)
	}
	if after.Load() {
		t.Error("the script continued after a failed Expect")
	}
}

func TestFakeServerReportsReadErrors(t *testing.T) {
	rec := &recorder{TB: t}
	s := xmpptest.NewFakeServer(rec, nil, domain, func(c *xmpptest.FakeConn) {
		c.ReadHeader()
	})
	c := dialClient(t, s.Addr())
	c.send("<stream:stream xmlns='jabber:client' xmlns:stream='urn:wrong'>")
	c.waitClosed()
	errs := rec.finish()
	if len(errs) != 1 || !strings.Contains(errs[0], "read client stream header") {
		t.Errorf("reported %q", errs)
	}
}

func TestFakeServerReportsPanics(t *testing.T) {
	rec := &recorder{TB: t}
	s := xmpptest.NewFakeServer(rec, nil, domain, func(c *xmpptest.FakeConn) {
		var el *xmlstream.Element
		_ = el.Children[0] // a script bug: nil dereference
	})
	c := dialClient(t, s.Addr())
	c.waitClosed()
	errs := rec.finish()
	if len(errs) != 1 || !strings.Contains(errs[0], "script panicked") || !strings.Contains(errs[0], "nil pointer") {
		t.Errorf("reported %q", errs)
	}
}

func TestFakeServerRejectsDataBeforeTLSHandshake(t *testing.T) {
	ca := xmpptest.NewCA(t)
	rec := &recorder{TB: t}
	s := xmpptest.NewFakeServer(rec, ca, domain, func(c *xmpptest.FakeConn) {
		c.NegotiateTLS()
	})
	c := dialClient(t, s.Addr())
	c.sendHeader()
	c.readHeader()
	c.next()
	// A STARTTLS command injection: plain-text data after <starttls/>.
	c.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/><message xmlns='jabber:client'/>")
	if p := c.next(); !p.Is(nsTLS, "proceed") {
		t.Fatalf("got %s", p)
	}
	c.waitClosed()
	errs := rec.finish()
	if len(errs) != 1 || !strings.Contains(errs[0], "before the TLS handshake") || !strings.Contains(errs[0], "<message") {
		t.Errorf("reported %q", errs)
	}
}

func TestFakeServerCleanupStopsWaitingScripts(t *testing.T) {
	ca := xmpptest.NewCA(t)
	rec := &recorder{TB: t}
	waiting := make(chan struct{})
	var ended atomic.Bool
	s := xmpptest.NewFakeServer(rec, ca, domain, func(c *xmpptest.FakeConn) {
		defer ended.Store(true)
		c.ReadHeader()
		close(waiting)
		c.Expect(nsTLS, "starttls") // never comes: the test ends first
	})
	c := dialClient(t, s.Addr())
	c.sendHeader()
	<-waiting
	// The connection is still open; cleanup must close it, wait for the
	// script and not report the interrupted Expect.
	if errs := rec.finish(); len(errs) != 0 {
		t.Errorf("reported %q", errs)
	}
	if !ended.Load() {
		t.Error("cleanup returned before the script ended")
	}
	if conn, err := net.Dial("tcp", s.Addr()); err == nil {
		conn.Close()
		t.Error("the listener is still open after cleanup")
	}
}

func TestFakeServerTLSWithoutCA(t *testing.T) {
	rec := &recorder{TB: t}
	s := xmpptest.NewFakeServer(rec, nil, domain, func(c *xmpptest.FakeConn) {
		c.DirectTLS()
	})
	c := dialClient(t, s.Addr())
	c.waitClosed()
	if errs := rec.finish(); len(errs) != 1 || !strings.Contains(errs[0], "needs a CA") {
		t.Errorf("reported %q", errs)
	}
}
