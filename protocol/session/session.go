package session

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tern-im/tern/protocol/dial"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/sasl"
	"github.com/tern-im/tern/protocol/stanza"
	"github.com/tern-im/tern/protocol/stream"
)

// Errors of a running session.
var (
	// ErrNotConnected: the session has no connection and cannot queue.
	ErrNotConnected = errors.New("session: not connected")
	// ErrClosed: the session was closed.
	ErrClosed = errors.New("session: closed")
	// ErrConnectionClosed: the server ended the stream or the connection.
	ErrConnectionClosed = errors.New("the server closed the connection")
	// ErrTimeout: the server stopped answering keepalives (dead connection).
	ErrTimeout = errors.New("the connection timed out: the server stopped answering")
	// ErrDisconnected: the connection was lost before an answer arrived and
	// the stream could not be resumed.
	ErrDisconnected = errors.New("the connection was lost before the answer arrived")
	// ErrQueueFull: too many stanzas are waiting to be sent.
	ErrQueueFull = errors.New("session: too many stanzas waiting to be sent")
	// ErrConnected: Reconnect was called while connected.
	ErrConnected = errors.New("session: already connected")
	// ErrNotStanza: Send was given something that is not a stanza.
	ErrNotStanza = errors.New("session: not a stanza")
)

// maxQueue bounds the outbound queue (sent but unacknowledged, or waiting).
const maxQueue = 10000

// writeTimeout bounds one write to the socket.
const writeTimeout = 30 * time.Second

// Item is one entry of the inbound queue. Exactly one field is set.
type Item struct {
	// Stanza is an inbound message, presence, or IQ request. IQ replies
	// to SendIQ never appear here.
	Stanza *xmlstream.Element
	// Acked lists our stanzas the server acknowledged (XEP-0198), in order.
	Acked []*xmlstream.Element
	// Err says the connection ended, and why. The session may still be
	// resumed with Reconnect.
	Err error
}

// Session is one XMPP session. Its methods are safe for concurrent use.
type Session struct {
	cfg      Config
	items    chan Item
	closedCh chan struct{}
	wg       sync.WaitGroup // connection supervisors
	ids      atomic.Uint64

	consoleMu sync.Mutex // serialises Console writes

	mu       sync.Mutex // guards the fields below
	cur      *conn
	info     Info
	sm       smState
	redirect *dial.Endpoint
	closed   bool
	waiters  map[string]*waiter
}

type waiter struct {
	ch chan *xmlstream.Element // nil sent when the connection is lost
	to jid.JID
}

// Dial connects and negotiates a new session.
func Dial(ctx context.Context, cfg Config) (*Session, error) {
	if cfg.JID.IsZero() || cfg.JID.Local() == "" {
		return nil, errors.New("session: the account address needs a name and a domain (name@example.org)")
	}
	s := &Session{
		cfg:      cfg.withDefaults(),
		closedCh: make(chan struct{}),
		waiters:  make(map[string]*waiter),
	}
	s.items = make(chan Item, s.cfg.QueueSize)
	n, info, _, err := s.open(ctx, false)
	if err != nil {
		return nil, err
	}
	s.start(n, info, nil)
	return s, nil
}

// Items returns the inbound queue. It is closed after Close.
func (s *Session) Items() <-chan Item { return s.items }

// Info describes the current (or last) connection.
func (s *Session) Info() Info {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.info
}

// Connected reports whether the session has a live connection.
func (s *Session) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur != nil
}

// Resumable reports whether a lost connection can still be resumed.
func (s *Session) Resumable() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sm.enabled && s.sm.resumable && (s.sm.max == 0 || s.sm.lostAt.IsZero() || time.Since(s.sm.lostAt) < s.sm.max)
}

// Reconnect opens a new connection after the previous one ended. It resumes
// the stream when the server allows it, resending every stanza not yet
// acknowledged; otherwise it binds anew and returns the stanzas that may not
// have been delivered (sent but never acknowledged, or never sent).
func (s *Session) Reconnect(ctx context.Context) (Info, []*xmlstream.Element, error) {
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		return Info{}, nil, ErrClosed
	case s.cur != nil:
		s.mu.Unlock()
		return Info{}, nil, ErrConnected
	}
	s.mu.Unlock()
	n, info, undelivered, err := s.open(ctx, true)
	if err != nil {
		return info, nil, err
	}
	if !info.Resumed {
		s.failWaiters()
	}
	s.start(n, info, undelivered)
	return info, undelivered, nil
}

// start runs a negotiated connection.
func (s *Session) start(n *negotiation, info Info, _ []*xmlstream.Element) {
	c := &conn{
		s:       s,
		nc:      n.nc,
		dec:     n.dec,
		early:   n.early,
		acked:   n.acked,
		resumed: info.Resumed,
		wake:    make(chan struct{}, 1),
		closing: make(chan struct{}),
		done:    make(chan struct{}),
	}
	c.lastRead.Store(time.Now().UnixNano())
	s.mu.Lock()
	s.cur = c
	s.info = info
	s.mu.Unlock()
	// Write at once what is queued: a resumed stream resends what the
	// server never acknowledged, and stanzas sent while the connection was
	// down are waiting; nothing else may wake the writer for a long time.
	c.poke()
	s.wg.Add(1)
	go c.supervise()
}

// Send queues a stanza. With Stream Management the stanza is kept until the
// server acknowledges it, and resent on resumption; it is queued even while
// the connection is down as long as the stream can be resumed.
func (s *Session) Send(ctx context.Context, el *xmlstream.Element) error {
	if el == nil || !isStanza(el.Name.Local) || (el.Name.Space != stream.NSClient && el.Name.Space != "") {
		return ErrNotStanza
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if el.Name.Space == "" {
		el.Name.Space = stream.NSClient
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return ErrClosed
	case s.cur == nil && !(s.sm.enabled && s.sm.resumable):
		return ErrNotConnected
	case len(s.sm.queue) >= maxQueue:
		return ErrQueueFull
	}
	s.sm.queue = append(s.sm.queue, el)
	if s.cur != nil {
		s.cur.poke()
	}
	return nil
}

// SendNonza writes a top-level element that is not a stanza (for example a
// XEP-0352 <active/>). It is not counted or kept by Stream Management.
func (s *Session) SendNonza(el *xmlstream.Element) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if s.cur == nil {
		return ErrNotConnected
	}
	s.cur.ctrl = append(s.cur.ctrl, el)
	s.cur.poke()
	return nil
}

// SetPassword replaces the password used by later reconnections, after the
// account's password was changed (XEP-0077 §3.3).
func (s *Session) SetPassword(password string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.Password = password
}

// password returns the current password.
func (s *Session) password() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg.Password
}

// NewID returns a fresh stanza id, unique within this session.
func (s *Session) NewID() string {
	return "t" + strconv.FormatUint(s.ids.Add(1), 36)
}

// SendIQ sends an IQ get or set and waits for its result. An error reply is
// returned as a *stanza.Error (with the reply element). The reply must come
// from the address the request was sent to (RFC 6120 §8.1.2.1); a reply
// from anyone else is not accepted as the answer.
func (s *Session) SendIQ(ctx context.Context, iq *xmlstream.Element) (*xmlstream.Element, error) {
	if !iq.Is(stream.NSClient, "iq") && !(iq.Name.Space == "" && iq.Name.Local == "iq") {
		return nil, ErrNotStanza
	}
	if t := iq.Get("type"); t != "get" && t != "set" {
		return nil, fmt.Errorf("session: SendIQ needs type get or set, not %q", t)
	}
	id := iq.Get("id")
	if id == "" {
		id = s.NewID()
		iq.Set("id", id)
	}
	var to jid.JID
	if v := iq.Get("to"); v != "" {
		var err error
		if to, err = jid.Parse(v); err != nil {
			return nil, fmt.Errorf("session: iq to: %w", err)
		}
	}
	w := &waiter{ch: make(chan *xmlstream.Element, 1), to: to}
	s.mu.Lock()
	if _, dup := s.waiters[id]; dup {
		s.mu.Unlock()
		return nil, fmt.Errorf("session: an iq with id %q is already waiting", id)
	}
	s.waiters[id] = w
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.waiters, id)
		s.mu.Unlock()
	}()
	if err := s.Send(ctx, iq); err != nil {
		return nil, err
	}
	select {
	case res := <-w.ch:
		if res == nil {
			return nil, ErrDisconnected
		}
		if res.Get("type") == "error" {
			if se := stanza.ParseError(res); se != nil {
				return res, se
			}
			return res, fmt.Errorf("%w: error reply without a condition", ErrProtocol)
		}
		return res, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-s.closedCh:
		return nil, ErrClosed
	}
}

// isReplyFrom checks the sender of an IQ reply against the request's
// recipient (RFC 6120 §8.1.2.1, §10.3.3: a reply to a request without 'to'
// or to our bare JID comes from the server or our account). Caller holds mu.
func (s *Session) isReplyFrom(w *waiter, from jid.JID) bool {
	own := s.info.JID
	server := from.Local() == "" && from.Resource() == "" && from.Domain() == own.Domain()
	switch {
	case w.to.IsZero():
		return from.IsZero() || from == own.Bare() || from == own || server
	case w.to == own.Bare():
		return from.IsZero() || from == own.Bare() || from == own
	default:
		return from == w.to
	}
}

// failWaiters ends every pending IQ with ErrDisconnected.
func (s *Session) failWaiters() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, w := range s.waiters {
		w.ch <- nil
		delete(s.waiters, id)
	}
}

// Close ends the stream gracefully (the server gets </stream:stream>, which
// also ends a resumable session) and waits for the connection to finish, at
// most until ctx is done. The inbound queue is closed afterwards.
func (s *Session) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	c := s.cur
	if c != nil {
		c.endStream = true
		c.poke()
	}
	s.mu.Unlock()
	if c != nil {
		select {
		case <-c.done:
		case <-ctx.Done():
			c.fail(ErrClosed)
		}
	}
	close(s.closedCh)
	s.wg.Wait()
	close(s.items)
	return nil
}

// deliver queues an inbound item, waiting while the queue is full; it
// gives up only when the session is closed.
func (s *Session) deliver(it Item) bool {
	select {
	case s.items <- it:
		return true
	case <-s.closedCh:
		return false
	}
}

func (s *Session) tee(dir string, el *xmlstream.Element) {
	if s.cfg.Console == nil {
		return
	}
	s.teeText(dir, redact(el).String())
}

// nsRegister is XEP-0077's namespace: registration and password changes
// carry the password in clear.
const nsRegister = "jabber:iq:register"

// redact returns el, or a copy with every secret replaced: SASL payloads
// (proofs of the password) and XEP-0077 passwords, as a legacy field or as
// a data-form field.
func redact(el *xmlstream.Element) *xmlstream.Element {
	if el.Name.Space == sasl.NS && el.Text != "" {
		el = el.Copy()
		el.Text = "[redacted]"
		return el
	}
	if el.Name.Local != "iq" || el.Child(nsRegister, "query") == nil {
		return el
	}
	el = el.Copy()
	for _, c := range el.Child(nsRegister, "query").Children {
		switch {
		case c.Is(nsRegister, "password"):
			c.Text = "[redacted]"
		case c.Is("jabber:x:data", "x"):
			for _, f := range c.Children {
				if f.Name.Local == "field" && strings.Contains(strings.ToLower(f.Get("var")), "password") {
					for _, v := range f.Children {
						v.Text = "[redacted]"
					}
				}
			}
		}
	}
	return el
}

func (s *Session) teeText(dir, text string) {
	if s.cfg.Console == nil {
		return
	}
	s.consoleMu.Lock()
	defer s.consoleMu.Unlock()
	_, _ = fmt.Fprintf(s.cfg.Console, "%s %s %s\n", time.Now().Format("15:04:05.000"), dir, text)
}

// conn is one live connection of a session.
type conn struct {
	s        *Session
	nc       net.Conn
	dec      *xmlstream.Decoder
	early    []*xmlstream.Element
	acked    []*xmlstream.Element
	resumed  bool // the stream was resumed: ask for an ack of what is resent
	wake     chan struct{}
	closing  chan struct{}
	once     sync.Once
	err      error // set once, before closing is closed
	done     chan struct{}
	lastRead atomic.Int64 // unix nanoseconds of the last element read

	// guarded by s.mu:
	ctrl      []*xmlstream.Element // nonzas to write before stanzas
	endStream bool                 // write </stream:stream> and stop writing
	abortErr  error                // after writing the end, fail with this
}

func (c *conn) poke() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *conn) fail(err error) {
	c.once.Do(func() {
		c.err = err
		close(c.closing)
		_ = c.nc.Close()
	})
}

// supervise runs the reader and writer and reports the end of the
// connection on the inbound queue.
func (c *conn) supervise() {
	defer c.s.wg.Done()
	var wg sync.WaitGroup
	wg.Go(c.readLoop)
	wg.Go(c.writeLoop)
	wg.Wait()

	s := c.s
	s.mu.Lock()
	s.cur = nil
	s.sm.lostAt = time.Now()
	resumable := s.sm.enabled && s.sm.resumable && !s.closed
	if !s.sm.enabled {
		s.sm.written = 0
	}
	s.mu.Unlock()
	if !resumable {
		s.failWaiters()
	}
	close(c.done)
	s.deliver(Item{Err: c.err})
}

func (c *conn) readLoop() {
	s := c.s
	if len(c.acked) > 0 {
		s.deliver(Item{Acked: c.acked})
	}
	for _, el := range c.early {
		if !s.deliver(Item{Stanza: el}) {
			c.fail(ErrClosed)
			return
		}
	}
	for {
		el, err := c.dec.Next()
		if err != nil {
			s.mu.Lock()
			ending := c.endStream
			s.mu.Unlock()
			if ending && errors.Is(err, xmlstream.ErrStreamEnd) {
				err = ErrClosed
			}
			c.fail(readErr(err))
			return
		}
		c.lastRead.Store(time.Now().UnixNano())
		s.tee("RECV", el)
		switch {
		case el.Is(stream.NSSM, "r"):
			s.mu.Lock()
			if s.sm.enabled {
				c.ctrl = append(c.ctrl, xmlstream.New(stream.NSSM, "a", "h", strconv.FormatUint(uint64(s.sm.inH), 10)))
				c.poke()
			}
			s.mu.Unlock()
		case el.Is(stream.NSSM, "a"):
			h, err := parseH(el)
			if err != nil {
				c.fail(err)
				return
			}
			s.mu.Lock()
			acked, err := s.sm.ack(h)
			s.mu.Unlock()
			if err != nil {
				// XEP-0198 §4: acknowledging more than was sent ends the stream.
				c.abort(&stream.Error{Condition: "undefined-condition", Text: "h is higher than the number of stanzas sent"}, err)
				return
			}
			if len(acked) > 0 {
				s.deliver(Item{Acked: acked})
			}
		case el.Is(stream.NS, "error"):
			c.fail(stream.ParseError(el))
			return
		case el.Name.Space == stream.NSClient && isStanza(el.Name.Local):
			if !c.handleStanza(el) {
				c.fail(ErrClosed)
				return
			}
		default:
			s.cfg.Logger.Debug("ignoring unknown top-level element", "ns", el.Name.Space, "name", el.Name.Local)
		}
	}
}

// abort sends a stream error and ends the connection once it is written
// (RFC 6120 §4.9.1.1); the reader stops reading.
func (c *conn) abort(se *stream.Error, err error) {
	c.s.mu.Lock()
	c.ctrl = append(c.ctrl, se.Element())
	c.endStream = true
	c.abortErr = err
	c.s.mu.Unlock()
	c.poke()
	select {
	case <-c.closing:
	case <-time.After(writeTimeout):
		c.fail(err)
	}
}

// handleStanza counts an inbound stanza and routes it: IQ replies to their
// waiter, everything else to the inbound queue.
func (c *conn) handleStanza(el *xmlstream.Element) bool {
	s := c.s
	if el.Name.Local == "iq" {
		if t := el.Get("type"); t == "result" || t == "error" {
			from, err := jid.Parse(el.Get("from"))
			if el.Get("from") == "" {
				from, err = jid.JID{}, nil
			}
			s.mu.Lock()
			s.countIn()
			w := s.waiters[el.Get("id")]
			ok := w != nil && err == nil && s.isReplyFrom(w, from)
			if ok {
				delete(s.waiters, el.Get("id"))
				w.ch <- el
			}
			s.mu.Unlock()
			if !ok {
				s.cfg.Logger.Debug("dropping an iq reply nobody waits for", "id", el.Get("id"), "from", el.Get("from"))
			}
			return true
		}
	}
	if !s.deliver(Item{Stanza: el}) {
		return false
	}
	s.mu.Lock()
	s.countIn()
	s.mu.Unlock()
	return true
}

// countIn counts one handled inbound stanza. Caller holds mu.
func (s *Session) countIn() {
	if s.sm.enabled {
		s.sm.inH++
	}
}

func (c *conn) writeLoop() {
	s := c.s
	var batch, enc []byte // reused between writes
	ackTimer := time.NewTimer(time.Hour)
	ackTimer.Stop()
	ackArmed, ackDue := false, c.resumed
	idle := time.NewTimer(s.cfg.PingInterval)
	defer idle.Stop()
	defer ackTimer.Stop()
	probing := false
	var probeAt time.Time

	for {
		select {
		case <-c.closing:
			return
		case <-c.wake:
		case <-ackTimer.C:
			ackArmed, ackDue = false, true
		case <-idle.C:
			last := time.Unix(0, c.lastRead.Load())
			since := time.Since(last)
			switch {
			case probing && !last.After(probeAt):
				c.fail(ErrTimeout)
				return
			case probing:
				probing = false
				idle.Reset(max(s.cfg.PingInterval-since, time.Millisecond))
			case since >= s.cfg.PingInterval:
				probing, probeAt = true, time.Now()
				s.mu.Lock()
				if s.sm.enabled {
					c.ctrl = append(c.ctrl, xmlstream.New(stream.NSSM, "r"))
				} else {
					// XEP-0199 §4.2: a client-to-server ping.
					ping := stanza.NewIQ("get", s.NewID(), jid.JID{}, xmlstream.New("urn:xmpp:ping", "ping"))
					ping.Set("to", s.cfg.JID.Domain())
					c.ctrl = append(c.ctrl, ping)
				}
				s.mu.Unlock()
				idle.Reset(s.cfg.PingTimeout)
			default:
				idle.Reset(s.cfg.PingInterval - since)
			}
		}

		s.mu.Lock()
		ctrl := c.ctrl
		c.ctrl = nil
		var out []*xmlstream.Element
		if s.sm.enabled {
			out = s.sm.queue[s.sm.written:]
			s.sm.written = len(s.sm.queue)
		} else {
			out = s.sm.queue
			s.sm.queue = nil
		}
		sendR := false
		if s.sm.enabled {
			unrequested := len(s.sm.queue) - s.sm.requested
			if unrequested > 0 && (unrequested >= s.cfg.AckBurst || ackDue) {
				sendR, ackDue = true, false
				s.sm.requested = len(s.sm.queue)
			}
			if len(s.sm.queue) > s.sm.requested && !ackArmed {
				ackTimer.Reset(s.cfg.AckDelay)
				ackArmed = true
			}
		}
		end, abortErr := c.endStream, c.abortErr
		s.mu.Unlock()

		w := recordWriter{conn: c.nc, buf: batch[:0], enc: enc}
		for _, el := range ctrl {
			s.tee("SEND", el)
			w.element(el)
		}
		for _, el := range out {
			s.tee("SEND", el)
			w.element(el)
		}
		if sendR {
			s.tee("SEND", xmlstream.New(stream.NSSM, "r"))
			w.raw("<r xmlns='urn:xmpp:sm:3'/>")
		}
		if end {
			s.teeText("SEND", xmlstream.StreamEnd)
			w.raw(xmlstream.StreamEnd)
		}
		w.flush()
		batch, enc = w.buf, w.enc
		if w.err != nil {
			c.fail(fmt.Errorf("write: %w", w.err))
			return
		}
		if abortErr != nil {
			c.fail(abortErr)
			return
		}
		if end {
			// Wait for the server's </stream:stream> (the reader ends the
			// connection) or Close's deadline.
			<-c.closing
			return
		}
	}
}

// recordWriter writes whole elements in batches of at most one TLS record
// (dial.MaxRecordPayload), so that every record ends at an element boundary:
// when a connection breaks, the server has received whole stanzas only.
// Some servers (Prosody 0.12) keep the broken connection's XML parser for the
// resumed stream, and a torn stanza there poisons the resumption. Only an
// element larger than a record spans several.
type recordWriter struct {
	conn net.Conn
	buf  []byte // the batch being built
	enc  []byte // scratch for one element
	err  error
}

func (w *recordWriter) element(el *xmlstream.Element) {
	w.enc = xmlstream.Append(w.enc[:0], el, stream.NSClient)
	w.add(w.enc)
}

func (w *recordWriter) raw(s string) {
	w.enc = append(w.enc[:0], s...)
	w.add(w.enc)
}

func (w *recordWriter) add(b []byte) {
	if len(w.buf)+len(b) > dial.MaxRecordPayload {
		w.flush()
	}
	w.buf = append(w.buf, b...)
}

func (w *recordWriter) flush() {
	if len(w.buf) == 0 || w.err != nil {
		w.buf = w.buf[:0]
		return
	}
	_ = w.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	_, w.err = w.conn.Write(w.buf)
	w.buf = w.buf[:0]
}
