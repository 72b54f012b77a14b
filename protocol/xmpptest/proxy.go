package xmpptest

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tern-im/tern/protocol/dial"
)

// proxyChunk is the largest piece a pump reads and forwards at once.
const proxyChunk = 32 << 10

// Proxy is a loopback TCP proxy that tests control: it forwards every
// connection accepted on Addr to a target and can cut, refuse, stall and
// throttle them, to exercise reconnection and XEP-0198 resumption.
// All its goroutines stop when the test's cleanup runs.
type Proxy struct {
	target string
	ln     net.Listener
	wg     sync.WaitGroup // accept loop and every connection's goroutines

	accepted atomic.Int64
	toServer atomic.Int64
	toClient atomic.Int64

	mu       sync.Mutex // guards the fields below
	conns    map[*proxyConn]struct{}
	refuse   bool
	gate     chan struct{} // closed while not stalled
	rate     int           // bytes per second per direction and connection; 0 = unlimited
	cutArmed [2]bool       // armed cut, indexed by direction (0: to server, 1: to client)
	cutLeft  [2]int64      // bytes still to forward in that direction before the armed cut
	closed   bool
}

type proxyConn struct {
	client net.Conn
	done   chan struct{} // closed by close

	mu     sync.Mutex // guards server and closed
	server net.Conn
	closed bool
}

func (c *proxyConn) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.closed = true
	close(c.done)
	abort(c.client)
	if c.server != nil {
		abort(c.server)
	}
}

// setServer attaches the dialled server side; it reports false (and
// closes srv) if the connection was cut while dialling.
func (c *proxyConn) setServer(srv net.Conn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		abort(srv)
		return false
	}
	c.server = srv
	return true
}

// abort closes a TCP connection with a reset rather than an orderly FIN,
// like a network failure.
func abort(c net.Conn) {
	if tc, ok := c.(interface{ SetLinger(int) error }); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

// NewProxy listens on 127.0.0.1:0 and forwards each accepted connection to
// target. The test's cleanup closes the listener and every connection and
// waits for all goroutines.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("xmpptest: proxy listen: %v", err)
	}
	gate := make(chan struct{})
	close(gate)
	p := &Proxy{target: target, ln: ln, conns: map[*proxyConn]struct{}{}, gate: gate}
	p.wg.Add(1)
	go p.acceptLoop()
	t.Cleanup(p.close)
	return p
}

// Addr returns the proxy's "127.0.0.1:port" address.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Cut abruptly closes every live connection on both sides (with a TCP
// reset). New connections are still accepted.
func (p *Proxy) Cut() {
	p.mu.Lock()
	conns := make([]*proxyConn, 0, len(p.conns))
	for c := range p.conns {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
}

// Refuse makes new connections, while on, be accepted and closed at once
// (an orderly close: the client connects, then reads end of stream). They
// still count in Accepted and never reach the target.
func (p *Proxy) Refuse(on bool) {
	p.mu.Lock()
	p.refuse = on
	p.mu.Unlock()
}

// Stall, while on, holds all bytes in both directions of every connection,
// new ones included; turning it off forwards what was held and resumes.
func (p *Proxy) Stall(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	stalled := !isClosed(p.gate)
	switch {
	case on && !stalled:
		p.gate = make(chan struct{})
	case !on && stalled:
		close(p.gate)
	}
}

// Throttle limits every direction of every connection to bytesPerSec;
// 0 (or less) removes the limit.
func (p *Proxy) Throttle(bytesPerSec int) {
	p.mu.Lock()
	p.rate = max(bytesPerSec, 0)
	p.mu.Unlock()
}

// Accepted returns the number of connections accepted so far.
func (p *Proxy) Accepted() int { return int(p.accepted.Load()) }

// BytesToServer returns the number of bytes forwarded client→server so far.
func (p *Proxy) BytesToServer() int64 { return p.toServer.Load() }

// BytesToClient returns the number of bytes forwarded server→client so far.
func (p *Proxy) BytesToClient() int64 { return p.toClient.Load() }

// CutAfterToClient arms a cut: once n more bytes have been forwarded
// server→client (counted from now, over all connections), the proxy
// forwards exactly those n bytes and then cuts every connection as Cut
// does. With n = 0 the cut happens when the server next sends anything,
// before it is forwarded. It fires once; calling it again re-arms it.
func (p *Proxy) CutAfterToClient(n int64) { p.armCut(1, n) }

// CutAfterToServer is CutAfterToClient for the client→server direction: it
// cuts in the middle of what the client is sending.
func (p *Proxy) CutAfterToServer(n int64) { p.armCut(0, n) }

func (p *Proxy) armCut(dir int, n int64) {
	p.mu.Lock()
	p.cutArmed[dir] = true
	p.cutLeft[dir] = max(n, 0)
	p.mu.Unlock()
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func (p *Proxy) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.ln.Close()
	p.Cut()
	p.wg.Wait()
}

func (p *Proxy) acceptLoop() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Temporary failure (e.g. out of descriptors): keep serving.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		p.accepted.Add(1)
		p.mu.Lock()
		if p.refuse || p.closed {
			p.mu.Unlock()
			// An orderly close: the client's connect succeeds and it then
			// reads end of stream, as from a server that hangs up at once.
			c.Close()
			continue
		}
		// Both sides acknowledge at once, as Tern does (dial.QuickAck):
		// otherwise the relay's delayed ACKs would slow every request and
		// response through it (Prosody keeps Nagle on).
		pc := &proxyConn{client: dial.QuickAck(c), done: make(chan struct{})}
		p.conns[pc] = struct{}{}
		p.wg.Add(1)
		p.mu.Unlock()
		go p.serve(pc)
	}
}

func (p *Proxy) serve(pc *proxyConn) {
	defer p.wg.Done()
	defer func() {
		p.mu.Lock()
		delete(p.conns, pc)
		p.mu.Unlock()
	}()
	// The dial is abandoned when the connection is closed meanwhile; the
	// watcher ends with the dial.
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		select {
		case <-pc.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	d := net.Dialer{Timeout: 10 * time.Second}
	srv, err := d.DialContext(ctx, "tcp", p.target)
	cancel()
	if err != nil {
		pc.close()
		return
	}
	if !pc.setServer(dial.QuickAck(srv)) {
		return
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); p.pump(pc, pc.client, srv, &p.toServer, false) }()
	go func() { defer wg.Done(); p.pump(pc, srv, pc.client, &p.toClient, true) }()
	wg.Wait()
}

// pump copies src to dst until either side fails or the connection is
// closed, honouring Stall, Throttle and the armed cuts.
// Any end of one direction ends the whole connection: the proxy is a wire
// that breaks, not a half-close relay.
func (p *Proxy) pump(pc *proxyConn, src, dst net.Conn, counter *atomic.Int64, toClient bool) {
	defer pc.close()
	buf := make([]byte, proxyChunk)
	for {
		n, err := src.Read(buf)
		data := buf[:n]
		for len(data) > 0 {
			if !p.waitGate(pc) {
				return
			}
			piece, cut := p.take(data, toClient)
			if len(piece) > 0 {
				// Count before writing, so that whoever sees the bytes
				// arrive also sees them counted; take back what failed.
				counter.Add(int64(len(piece)))
				if w, werr := dst.Write(piece); werr != nil {
					counter.Add(int64(w - len(piece)))
					return
				}
				if rate := p.currentRate(); rate > 0 && !p.pause(pc, len(piece), rate) {
					return
				}
			}
			if cut {
				p.Cut()
				return
			}
			data = data[len(piece):]
		}
		if err != nil {
			return
		}
	}
}

// take decides how much of data to forward next: at most a tenth of a
// second's worth when throttled, and no more than the
// armed cut of that direction allows, in which case cut reports that the cut must now fire.
// The cut budget is reserved here, under the lock, so that concurrent
// connections together forward exactly the armed number of bytes.
func (p *Proxy) take(data []byte, toClient bool) (piece []byte, cut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	piece = data
	if p.rate > 0 {
		piece = piece[:min(len(piece), max(p.rate/10, 1))]
	}
	dir := 0
	if toClient {
		dir = 1
	}
	if p.cutArmed[dir] {
		if int64(len(piece)) >= p.cutLeft[dir] {
			p.cutArmed[dir] = false
			return piece[:p.cutLeft[dir]], true
		}
		p.cutLeft[dir] -= int64(len(piece))
	}
	return piece, false
}

func (p *Proxy) currentRate() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rate
}

// waitGate blocks while the proxy is stalled. It reports false if the
// connection was closed meanwhile.
func (p *Proxy) waitGate(pc *proxyConn) bool {
	for {
		p.mu.Lock()
		gate := p.gate
		p.mu.Unlock()
		select {
		case <-pc.done:
			return false
		case <-gate:
		}
		// Re-check: Stall may have been switched on again in between.
		p.mu.Lock()
		open := isClosed(p.gate)
		p.mu.Unlock()
		if open {
			return true
		}
	}
}

// pause waits for the time n bytes take at rate bytes per second. It
// reports false if the connection was closed meanwhile.
func (p *Proxy) pause(pc *proxyConn, n, rate int) bool {
	tm := time.NewTimer(time.Duration(n) * time.Second / time.Duration(rate))
	defer tm.Stop()
	select {
	case <-pc.done:
		return false
	case <-tm.C:
		return true
	}
}
