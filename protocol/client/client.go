// Package client is Tern's XMPP engine: one Client per account. It keeps the
// account connected (reconnecting with exponential backoff and jitter,
// resuming the stream with XEP-0198 when it can, retrying at once when the
// network comes back), routes inbound stanzas to the features registered in
// features.go, and reports what happens as typed Events.
package client

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/tern-im/tern/protocol/dial"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/mux"
	"github.com/tern-im/tern/protocol/sasl"
	"github.com/tern-im/tern/protocol/session"
	"github.com/tern-im/tern/protocol/stream"
)

// Config configures a Client.
type Config struct {
	// Session is the account and connection configuration.
	Session session.Config
	// MinBackoff and MaxBackoff bound the wait between reconnection attempts
	// (0: 1 s and 5 min). The wait doubles per failed attempt, with ±50%
	// jitter so that many clients do not reconnect in lock step.
	MinBackoff, MaxBackoff time.Duration
	// NetworkPoll is how often the local network addresses are checked while
	// offline, to retry as soon as the network comes back (0: 2 s; negative:
	// never).
	NetworkPoll time.Duration
	// Software answers XEP-0092 queries about us (empty Name: not answered).
	Software SoftwareInfo
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
	// Rand is the jitter source (nil: a random one).
	Rand *rand.Rand
	// Addrs lists the local network addresses; nil uses the system's. Tests
	// replace it to simulate the network going away and coming back.
	Addrs func() ([]string, error)

	// Store keeps the account's roster, history and outbox. Without a store
	// the client only connects (as tern-cli connect does): the IM features
	// register only when there is one.
	Store Store
	// Account is the account's id in Store.
	Account AccountID
	// Languages are the user's preferred languages, best first (RFC 4647
	// tags), used to pick among a message's xml:lang alternatives.
	Languages []string
	// Now returns the current time (nil: time.Now); tests fix it.
	Now func() time.Time
	// E2EE is the end-to-end encryption layer (OMEMO, crypto/omemo); nil
	// disables end-to-end encryption. It needs Store.
	E2EE E2EE
}

// SoftwareInfo is what we answer to XEP-0092 Software Version queries.
type SoftwareInfo struct{ Name, Version, OS string }

// Client keeps one account online.
type Client struct {
	cfg    Config
	mux    *mux.Mux
	events chan Event
	kick   chan struct{}

	hooks hooks // registered once by registerFeatures, read-only afterwards

	// The features' own state; each guards its fields with its own mutex.
	contactsState *contacts   // contacts.go
	messagesState *messenger  // messaging.go
	e2eeState     *omemoState // omemo.go; nil without Config.E2EE

	mu     sync.Mutex // guards sess, runCtx, tasks and setUp
	sess   *session.Session
	runCtx context.Context // Run's context, for events from tasks
	tasks  *taskGroup      // the current connection's tasks, nil when offline
	// setUp says that the online hooks of the current session ran to the
	// end on a live connection. When a connection is lost before, and the
	// next one resumes the stream, they run again instead of the resumed
	// hooks: the session would otherwise stay half set up (no roster,
	// no carbons, no catch-up, an outbox never flushed). The hooks are
	// idempotent.
	setUp bool
}

// hooks are the features' entry points into the client's life cycle.
type hooks struct {
	// online runs, in order and in one task, after every connection that
	// did not resume a stream (roster before presence: RFC 6121 §2.2).
	online []func(ctx context.Context, info session.Info)
	// acked sees our stanzas the server acknowledged (XEP-0198).
	acked []func(ctx context.Context, stanzas []*xmlstream.Element)
	// undelivered sees the stanzas a failed resumption may have lost.
	undelivered []func(ctx context.Context, stanzas []*xmlstream.Element)
	// resumed runs, in one task, after a connection that resumed the
	// stream (state the server resets even then, such as XEP-0352's).
	resumed []func(ctx context.Context, info session.Info)
}

// OnResumed registers f to run after each connection that resumed the
// stream, in a task of that connection.
func (c *Client) OnResumed(f func(ctx context.Context, info session.Info)) {
	c.hooks.resumed = append(c.hooks.resumed, f)
}

// OnOnline registers f to run after each new (not resumed) session, in
// registration order, in a task of that connection: f may do round trips;
// its ctx ends with the connection.
func (c *Client) OnOnline(f func(ctx context.Context, info session.Info)) {
	c.hooks.online = append(c.hooks.online, f)
}

// OnAcked registers f to see our stanzas when the server acknowledges them
// (XEP-0198). It runs on the client loop: it must not wait on the network.
func (c *Client) OnAcked(f func(ctx context.Context, stanzas []*xmlstream.Element)) {
	c.hooks.acked = append(c.hooks.acked, f)
}

// OnUndelivered registers f to see the stanzas a failed stream resumption
// may have lost (the outbox resends what it owns). It runs on the client
// loop before the online hooks.
func (c *Client) OnUndelivered(f func(ctx context.Context, stanzas []*xmlstream.Element)) {
	c.hooks.undelivered = append(c.hooks.undelivered, f)
}

// Mux returns the routing table features register their handlers in.
func (c *Client) Mux() *mux.Mux { return c.mux }

// Go runs f as a task of the current connection: its ctx ends when the
// connection does, and the client waits for it before reconnecting. It
// reports false (and does not run f) when there is no connection. Handlers
// use it for round trips, so they never wait on the network themselves.
func (c *Client) Go(f func(ctx context.Context)) bool {
	c.mu.Lock()
	t := c.tasks
	c.mu.Unlock()
	return t != nil && t.goTask(f)
}

// Emit reports an event to the application. It waits for the reader (the
// channel has room for bursts) and gives up only when Run ends.
func (c *Client) Emit(e Event) {
	c.mu.Lock()
	ctx := c.runCtx
	c.mu.Unlock()
	if ctx == nil {
		return
	}
	c.emit(ctx, e)
}

// needsSetup reports whether a connection needs the online hooks — a new
// session, or a resumed stream whose session was never fully set up —
// rather than the resumed hooks.
func (c *Client) needsSetup(info session.Info) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if info.Resumed && c.setUp {
		return false
	}
	c.setUp = false
	return true
}

// online runs the online hooks of a session, and records whether they
// all ran on a live connection (see Client.setUp).
func (c *Client) online(ctx context.Context, info session.Info) {
	for _, h := range c.hooks.online {
		if ctx.Err() != nil {
			return
		}
		h(ctx, info)
	}
	c.mu.Lock()
	if ctx.Err() == nil && c.sess != nil && c.sess.Connected() {
		c.setUp = true
	}
	c.mu.Unlock()
}

// now returns the current time.
func (c *Client) now() time.Time {
	if c.cfg.Now != nil {
		return c.cfg.Now()
	}
	return time.Now()
}

// taskGroup owns the tasks of one connection.
type taskGroup struct {
	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex // guards closed and the WaitGroup's Add
	closed bool
	wg     sync.WaitGroup
}

func newTaskGroup(parent context.Context) *taskGroup {
	ctx, cancel := context.WithCancel(parent)
	return &taskGroup{ctx: ctx, cancel: cancel}
}

func (g *taskGroup) goTask(f func(ctx context.Context)) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.wg.Go(func() { f(g.ctx) })
	return true
}

// stop cancels the tasks and waits for them.
func (g *taskGroup) stop() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	g.cancel()
	g.wg.Wait()
}

// ErrOffline: the account is not connected and nothing could be queued.
var ErrOffline = errors.New("client: offline")

// New returns a Client. Call Run to connect.
func New(cfg Config) *Client {
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 5 * time.Minute
	}
	if cfg.NetworkPoll == 0 {
		cfg.NetworkPoll = 2 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	if cfg.Addrs == nil {
		cfg.Addrs = localAddrs
	}
	c := &Client{
		cfg: cfg, mux: mux.New(), events: make(chan Event, 256), kick: make(chan struct{}, 1),
		contactsState: newContacts(), messagesState: newMessenger(),
	}
	registerFeatures(c)
	return c
}

// Events returns the event channel. Read it continuously: the engine waits
// for a reader rather than dropping events.
func (c *Client) Events() <-chan Event { return c.events }

// NetworkChanged tells the client the network may be back (for example from
// an OS notification): a waiting reconnection is tried at once.
func (c *Client) NetworkChanged() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// Session returns the current session, or nil before the first connection.
func (c *Client) Session() *session.Session {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess
}

// Send queues a stanza (see session.Session.Send).
func (c *Client) Send(ctx context.Context, el *xmlstream.Element) error {
	s := c.Session()
	if s == nil {
		return ErrOffline
	}
	return s.Send(ctx, el)
}

// SendIQ sends an IQ request and waits for the reply.
func (c *Client) SendIQ(ctx context.Context, iq *xmlstream.Element) (*xmlstream.Element, error) {
	s := c.Session()
	if s == nil {
		return nil, ErrOffline
	}
	return s.SendIQ(ctx, iq)
}

func (c *Client) emit(ctx context.Context, e Event) {
	select {
	case c.events <- e:
	case <-ctx.Done():
	}
}

// Permanent reports whether a connection error needs the user (a wrong
// password, a certificate problem, a server without TLS…) rather than
// another attempt.
func Permanent(err error) bool {
	var f *sasl.Failure
	if errors.As(err, &f) {
		return !errors.Is(err, sasl.ErrTemporaryAuthFailure)
	}
	var ce *dial.CertificateError
	return errors.As(err, &ce) ||
		errors.Is(err, session.ErrNoTLS) || errors.Is(err, sasl.ErrNoMechanism) ||
		errors.Is(err, sasl.ErrServerSignature) || errors.Is(err, sasl.ErrDowngrade) ||
		errors.Is(err, stream.ErrConflict) || errors.Is(err, stream.ErrHostUnknown) ||
		errors.Is(err, stream.ErrNotAuthorized) || errors.Is(err, session.ErrBind)
}

// Run connects and keeps the account online until ctx ends (it then closes
// the stream gracefully and returns nil) or a permanent error occurs (it
// returns that error, after an Event with the same error).
func (c *Client) Run(ctx context.Context) error {
	defer close(c.events)
	c.mu.Lock()
	c.runCtx = ctx
	c.mu.Unlock()
	attempt := 0
	for {
		c.emit(ctx, Connecting{Attempt: attempt + 1})
		info, undelivered, err := c.connect(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			if Permanent(err) {
				c.emit(ctx, Failed{Err: err})
				return err
			}
			delay := c.backoff(attempt)
			attempt++
			c.emit(ctx, Offline{Err: err, Retry: delay})
			c.cfg.Logger.Info("connection attempt failed", "attempt", attempt, "retry", delay, "err", err)
			if !c.wait(ctx, delay) {
				return nil
			}
			continue
		}
		attempt = 0
		setup := c.needsSetup(info)
		if setup {
			// Until the online hooks flushed the outbox, new messages
			// wait in it behind the older ones.
			c.holdOutbox()
		}
		tasks := newTaskGroup(ctx)
		c.mu.Lock()
		c.tasks = tasks
		c.mu.Unlock()
		c.emit(ctx, Online{Info: info})
		if len(undelivered) > 0 {
			for _, h := range c.hooks.undelivered {
				h(ctx, undelivered)
			}
			c.emit(ctx, Undelivered{Stanzas: undelivered})
		}
		if setup {
			tasks.goTask(func(ctx context.Context) { c.online(ctx, info) })
		} else if hs := c.hooks.resumed; len(hs) > 0 {
			tasks.goTask(func(ctx context.Context) {
				for _, h := range hs {
					if ctx.Err() != nil {
						return
					}
					h(ctx, info)
				}
			})
		}
		err = c.pump(ctx)
		c.mu.Lock()
		c.tasks = nil
		c.mu.Unlock()
		tasks.stop()
		if ctx.Err() != nil {
			c.closeSession()
			return nil
		}
		c.emit(ctx, Offline{Err: err})
		c.cfg.Logger.Info("connection lost", "err", err)
		if Permanent(err) {
			c.emit(ctx, Failed{Err: err})
			c.closeSession()
			return err
		}
	}
}

func (c *Client) connect(ctx context.Context) (session.Info, []*xmlstream.Element, error) {
	s := c.Session()
	if s == nil {
		s, err := session.Dial(ctx, c.cfg.Session)
		if err != nil {
			return session.Info{}, nil, err
		}
		c.mu.Lock()
		c.sess = s
		c.mu.Unlock()
		return s.Info(), nil, nil
	}
	return s.Reconnect(ctx)
}

// pump routes inbound items until the connection ends.
func (c *Client) pump(ctx context.Context) error {
	s := c.Session()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case it, ok := <-s.Items():
			if !ok {
				return session.ErrClosed
			}
			switch {
			case it.Err != nil:
				return it.Err
			case it.Acked != nil:
				for _, h := range c.hooks.acked {
					h(ctx, it.Acked)
				}
				c.emit(ctx, Acked{Stanzas: it.Acked})
			case it.Stanza != nil:
				reply, handled := c.mux.Route(ctx, it.Stanza)
				if reply != nil {
					if err := s.Send(ctx, reply); err != nil {
						c.cfg.Logger.Debug("could not answer an iq", "err", err)
					}
				}
				if !handled {
					c.emit(ctx, Stanza{Element: it.Stanza})
				}
			}
		}
	}
}

func (c *Client) closeSession() {
	if s := c.Session(); s != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Close(ctx)
	}
}

// backoff returns the wait before attempt n+1: min·2ⁿ capped at max, times a
// random factor in [0.5, 1.5).
func (c *Client) backoff(n int) time.Duration {
	d := c.cfg.MinBackoff
	for i := 0; i < n && d < c.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, c.cfg.MaxBackoff)
	return time.Duration(float64(d) * (0.5 + c.cfg.Rand.Float64()))
}

// wait sleeps for d, returning early (true) when the network changes or
// NetworkChanged is called, and false when ctx ends.
func (c *Client) wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	var poll <-chan time.Time
	var before string
	if c.cfg.NetworkPoll > 0 {
		tk := time.NewTicker(c.cfg.NetworkPoll)
		defer tk.Stop()
		poll = tk.C
		before = addrKey(c.cfg.Addrs)
	}
	for {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return true
		case <-c.kick:
			return true
		case <-poll:
			if now := addrKey(c.cfg.Addrs); now != before {
				c.cfg.Logger.Info("network changed; reconnecting now")
				if now != "" {
					return true
				}
				before = now
			}
		}
	}
}
