package xmpptest_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/tern-im/tern/protocol/xmpptest"
)

// backend is a TCP server whose accepted connections the test receives.
type backend struct {
	ln    net.Listener
	conns chan net.Conn
}

func newBackend(t *testing.T) *backend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &backend{ln: ln, conns: make(chan net.Conn, 16)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b.conns <- c
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		close(b.conns)
		for c := range b.conns {
			c.Close()
		}
	})
	return b
}

// accept returns the server side of the next proxied connection.
func (b *backend) accept(t *testing.T) net.Conn {
	t.Helper()
	select {
	case c := <-b.conns:
		t.Cleanup(func() { c.Close() })
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("no connection reached the backend")
		return nil
	}
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func write(t *testing.T, c net.Conn, b []byte) {
	t.Helper()
	if _, err := c.Write(b); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// readN reads exactly n bytes within 10 s.
func readN(t *testing.T, c net.Conn, n int) []byte {
	t.Helper()
	if err := c.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatalf("read %d bytes: %v", n, err)
	}
	return buf
}

// expectNothing asserts that nothing arrives on c for the given time.
func expectNothing(t *testing.T, c net.Conn, d time.Duration) {
	t.Helper()
	if err := c.SetReadDeadline(time.Now().Add(d)); err != nil {
		t.Fatal(err)
	}
	var b [1]byte
	n, err := c.Read(b[:])
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read = %d, %v; want nothing (deadline exceeded)", n, err)
	}
}

// expectClosed asserts that c is closed by the peer (EOF or reset) soon,
// draining whatever was still in flight.
func expectClosed(t *testing.T, c net.Conn) {
	t.Helper()
	if err := c.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	_, err := io.Copy(io.Discard, c)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("connection still open")
	}
}

// pair opens a client connection through p and returns it with the
// backend side, after checking that bytes flow both ways.
func pair(t *testing.T, p *xmpptest.Proxy, b *backend) (cli, srv net.Conn) {
	t.Helper()
	cli = dial(t, p.Addr())
	srv = b.accept(t)
	write(t, cli, []byte("ping"))
	if got := readN(t, srv, 4); string(got) != "ping" {
		t.Fatalf("backend got %q", got)
	}
	write(t, srv, []byte("pong"))
	if got := readN(t, cli, 4); string(got) != "pong" {
		t.Fatalf("client got %q", got)
	}
	return cli, srv
}

func TestProxyForwardsAndCounts(t *testing.T) {
	b := newBackend(t)
	p := xmpptest.NewProxy(t, b.ln.Addr().String())
	cli, srv := pair(t, p, b)
	big := bytes.Repeat([]byte("0123456789"), 10000)
	write(t, srv, big)
	if got := readN(t, cli, len(big)); !bytes.Equal(got, big) {
		t.Fatal("large server→client payload corrupted")
	}
	if p.Accepted() != 1 || p.BytesToServer() != 4 || p.BytesToClient() != int64(4+len(big)) {
		t.Errorf("Accepted %d, BytesToServer %d, BytesToClient %d; want 1, 4, %d",
			p.Accepted(), p.BytesToServer(), p.BytesToClient(), 4+len(big))
	}
}

func TestProxyCut(t *testing.T) {
	b := newBackend(t)
	p := xmpptest.NewProxy(t, b.ln.Addr().String())
	cli1, srv1 := pair(t, p, b)
	cli2, srv2 := pair(t, p, b)
	p.Cut()
	for _, c := range []net.Conn{cli1, srv1, cli2, srv2} {
		expectClosed(t, c)
	}
	pair(t, p, b) // new connections are still accepted
	if p.Accepted() != 3 {
		t.Errorf("Accepted = %d, want 3", p.Accepted())
	}
}

func TestProxyRefuse(t *testing.T) {
	b := newBackend(t)
	p := xmpptest.NewProxy(t, b.ln.Addr().String())
	live, _ := pair(t, p, b)
	p.Refuse(true)
	refused := dial(t, p.Addr())
	expectClosed(t, refused)
	if p.Accepted() != 2 {
		t.Errorf("Accepted = %d, want 2 (refused connections are accepted)", p.Accepted())
	}
	select {
	case <-b.conns:
		t.Error("a refused connection reached the backend")
	default:
	}
	// The connection that was already live is unaffected.
	write(t, live, []byte("x"))
	p.Refuse(false)
	pair(t, p, b)
}

func TestProxyStall(t *testing.T) {
	b := newBackend(t)
	p := xmpptest.NewProxy(t, b.ln.Addr().String())
	cli, srv := pair(t, p, b)
	before := [2]int64{p.BytesToServer(), p.BytesToClient()}

	p.Stall(true)
	p.Stall(true) // idempotent
	write(t, cli, []byte("held up"))
	write(t, srv, []byte("held down"))
	expectNothing(t, srv, 300*time.Millisecond)
	expectNothing(t, cli, 300*time.Millisecond)
	if got := [2]int64{p.BytesToServer(), p.BytesToClient()}; got != before {
		t.Errorf("bytes counted while stalled: %v → %v", before, got)
	}
	// A connection opened while stalled is held as well.
	late := dial(t, p.Addr())
	lateSrv := b.accept(t)
	write(t, late, []byte("late"))
	expectNothing(t, lateSrv, 200*time.Millisecond)

	p.Stall(false)
	if got := readN(t, srv, 7); string(got) != "held up" {
		t.Errorf("backend got %q after resume", got)
	}
	if got := readN(t, cli, 9); string(got) != "held down" {
		t.Errorf("client got %q after resume", got)
	}
	if got := readN(t, lateSrv, 4); string(got) != "late" {
		t.Errorf("late backend got %q after resume", got)
	}

	// Cut still works while stalled.
	p.Stall(true)
	write(t, cli, []byte("lost"))
	p.Cut()
	expectClosed(t, cli)
	expectClosed(t, srv)
	p.Stall(false)
}

func TestProxyThrottle(t *testing.T) {
	b := newBackend(t)
	p := xmpptest.NewProxy(t, b.ln.Addr().String())
	cli, srv := pair(t, p, b)

	const rate, n = 4000, 2000 // half a second's worth
	p.Throttle(rate)
	payload := bytes.Repeat([]byte("t"), n)
	began := time.Now()
	write(t, srv, payload)
	if got := readN(t, cli, n); !bytes.Equal(got, payload) {
		t.Fatal("throttled payload corrupted")
	}
	if el := time.Since(began); el < 400*time.Millisecond {
		t.Errorf("%d bytes at %d B/s arrived in %v, want ≥ 400ms", n, rate, el)
	}
	began = time.Now()
	write(t, cli, payload)
	readN(t, srv, n)
	if el := time.Since(began); el < 400*time.Millisecond {
		t.Errorf("client→server: %d bytes at %d B/s arrived in %v, want ≥ 400ms", n, rate, el)
	}

	p.Throttle(0)
	big := bytes.Repeat([]byte("u"), 1<<20)
	began = time.Now()
	write(t, srv, big)
	readN(t, cli, len(big))
	// Unthrottled, a megabyte crosses loopback far faster than the 262 s
	// it would take at the old rate.
	if el := time.Since(began); el > 20*time.Second {
		t.Errorf("unthrottled megabyte took %v", el)
	}
}

func TestProxyCutAfterToClient(t *testing.T) {
	b := newBackend(t)
	p := xmpptest.NewProxy(t, b.ln.Addr().String())
	cli, srv := pair(t, p, b)
	start := p.BytesToClient()

	const n = 12345
	p.CutAfterToClient(n)
	write(t, cli, []byte("client→server is not counted"))
	readN(t, srv, 28)
	go func() {
		// Far more than n; the write fails once the proxy cuts.
		_, _ = srv.Write(bytes.Repeat([]byte("z"), 10*n))
	}()
	if err := cli.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	got, err := io.Copy(io.Discard, cli)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("connection not cut")
	}
	if got != n {
		t.Errorf("client received %d bytes before the cut, want %d", got, n)
	}
	if d := p.BytesToClient() - start; d != n {
		t.Errorf("BytesToClient grew by %d, want %d", d, n)
	}
	expectClosed(t, srv)

	// The cut fired once: a new connection is not cut.
	cli2, srv2 := pair(t, p, b)
	write(t, srv2, bytes.Repeat([]byte("y"), 2*n))
	readN(t, cli2, 2*n)

	// n = 0 cuts before the next server byte is forwarded.
	p.CutAfterToClient(0)
	write(t, srv2, []byte("never"))
	if err := cli2.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if got, _ := io.Copy(io.Discard, cli2); got != 0 {
		t.Errorf("received %d bytes after CutAfterToClient(0)", got)
	}
}

func TestProxyCutAfterToServer(t *testing.T) {
	b := newBackend(t)
	p := xmpptest.NewProxy(t, b.ln.Addr().String())
	cli, srv := pair(t, p, b)
	start := p.BytesToServer()

	const n = 4321
	p.CutAfterToServer(n)
	write(t, srv, []byte("server→client is not counted"))
	readN(t, cli, 28)
	go func() {
		// Far more than n; the write fails once the proxy cuts.
		_, _ = cli.Write(bytes.Repeat([]byte("z"), 10*n))
	}()
	if err := srv.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	got, err := io.Copy(io.Discard, srv)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("connection not cut")
	}
	if got != n {
		t.Errorf("server received %d bytes before the cut, want %d", got, n)
	}
	if d := p.BytesToServer() - start; d != n {
		t.Errorf("BytesToServer grew by %d, want %d", d, n)
	}
	expectClosed(t, cli)
}

func TestProxyCleanup(t *testing.T) {
	b := newBackend(t)
	var addr string
	var cli, srv net.Conn
	t.Run("owner", func(t *testing.T) {
		p := xmpptest.NewProxy(t, b.ln.Addr().String())
		addr = p.Addr()
		cli = dial(t, addr)
		srv = <-b.conns
		p.Stall(true) // cleanup must not hang on stalled pumps
		write(t, cli, []byte("x"))
	})
	// The owner's cleanup closed the listener and every connection.
	defer srv.Close()
	expectClosed(t, srv)
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Error("proxy still listening after cleanup")
	}
}

// TestProxyToServer runs an XMPP stream with STARTTLS through the proxy to
// a real server and cuts it.
func TestProxyToServer(t *testing.T) {
	s := xmpptest.StartProsody(t, xmpptest.Options{})
	s.CreateAccount(t, "erin", "pw")
	p := xmpptest.NewProxy(t, s.Addr())
	c, _, err := dialStartTLS(t, p.Addr(), s.Domain, clientTLS(s))
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := c.authPlain("erin", "pw"); !ok {
		t.Fatal("auth through the proxy failed")
	}
	if p.BytesToServer() == 0 || p.BytesToClient() == 0 {
		t.Errorf("nothing counted: %d / %d", p.BytesToServer(), p.BytesToClient())
	}
	p.Cut()
	if _, err := c.next(); err == nil {
		t.Error("stream survived Cut")
	}
}
