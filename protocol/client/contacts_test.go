package client_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/session"
	"github.com/tern-im/tern/protocol/stanza"
	"github.com/tern-im/tern/protocol/xmpptest"
	"github.com/tern-im/tern/storage/sqlite"
)

// Helpers of the contact tests (names start with ct: the messaging tests
// share the package).

const ctTimeout = time.Minute

// ctLine is one element of the XML console.
type ctLine struct {
	dir string // "SEND" or "RECV"
	el  *xmlstream.Element
}

// ctConsole is a session.Config.Console that parses what it is given, so
// that tests can assert the stanzas on the wire and wait for them.
type ctConsole struct {
	mu      sync.Mutex
	partial []byte
	lines   []ctLine
	changed chan struct{} // closed and replaced on every write
}

func newCTConsole() *ctConsole { return &ctConsole{changed: make(chan struct{})} }

func (w *ctConsole) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		line := string(w.partial[:i])
		w.partial = w.partial[i+1:]
		// "15:04:05.000 SEND <xml>"
		parts := strings.SplitN(line, " ", 3)
		if len(parts) != 3 {
			continue
		}
		if el, err := xmlstream.Parse([]byte(parts[2])); err == nil {
			w.lines = append(w.lines, ctLine{dir: parts[1], el: el})
		}
	}
	close(w.changed)
	w.changed = make(chan struct{})
	return len(p), nil
}

// mark returns the position from which later checks look.
func (w *ctConsole) mark() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.lines)
}

// find returns the elements in direction dir from position since that
// match pred.
func (w *ctConsole) find(dir string, since int, pred func(*xmlstream.Element) bool) []*xmlstream.Element {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []*xmlstream.Element
	for _, l := range w.lines[min(since, len(w.lines)):] {
		if l.dir == dir && pred(l.el) {
			out = append(out, l.el)
		}
	}
	return out
}

// wait waits for an element in direction dir from position since that
// matches pred.
func (w *ctConsole) wait(t *testing.T, what, dir string, since int, pred func(*xmlstream.Element) bool) *xmlstream.Element {
	t.Helper()
	timeout := time.After(ctTimeout)
	for {
		w.mu.Lock()
		ch := w.changed
		w.mu.Unlock()
		if found := w.find(dir, since, pred); len(found) > 0 {
			return found[0]
		}
		select {
		case <-ch:
		case <-timeout:
			t.Fatalf("timed out waiting for %s %s on the wire", dir, what)
		}
	}
}

// ctEvents records a client's events.
type ctEvents struct {
	mu      sync.Mutex
	evs     []client.Event
	closed  bool
	changed chan struct{}
}

func (r *ctEvents) run(ch <-chan client.Event) {
	for e := range ch {
		r.mu.Lock()
		r.evs = append(r.evs, e)
		close(r.changed)
		r.changed = make(chan struct{})
		r.mu.Unlock()
	}
	r.mu.Lock()
	r.closed = true
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
}

func (r *ctEvents) mark() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.evs)
}

// all returns the events of type E from position since that match pred.
func ctAll[E client.Event](r *ctEvents, since int, pred func(E) bool) []E {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []E
	for _, e := range r.evs[min(since, len(r.evs)):] {
		if m, ok := e.(E); ok && (pred == nil || pred(m)) {
			out = append(out, m)
		}
	}
	return out
}

// ctWait waits for an event of type E from position since that matches
// pred; it fails on a Failed event.
func ctWait[E client.Event](t *testing.T, p *ctPeer, since int, pred func(E) bool) E {
	t.Helper()
	timeout := time.After(ctTimeout)
	for {
		p.ev.mu.Lock()
		ch, closed := p.ev.changed, p.ev.closed
		p.ev.mu.Unlock()
		if found := ctAll(p.ev, since, pred); len(found) > 0 {
			return found[0]
		}
		if f := ctAll[client.Failed](p.ev, since, nil); len(f) > 0 {
			t.Fatalf("%s: client failed: %v", p.name, f[0].Err)
		}
		if closed {
			t.Fatalf("%s: event channel closed", p.name)
		}
		select {
		case <-ch:
		case <-timeout:
			var zero E
			t.Fatalf("%s: timed out waiting for %T", p.name, zero)
		}
	}
}

// ctLogs is a slog handler that records messages with their attributes.
type ctLogs struct {
	mu      sync.Mutex
	lines   []string
	changed chan struct{}
}

func newCTLogs() *ctLogs { return &ctLogs{changed: make(chan struct{})} }

func (l *ctLogs) Enabled(context.Context, slog.Level) bool { return true }
func (l *ctLogs) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *ctLogs) WithGroup(string) slog.Handler            { return l }
func (l *ctLogs) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	l.mu.Lock()
	l.lines = append(l.lines, b.String())
	close(l.changed)
	l.changed = make(chan struct{})
	l.mu.Unlock()
	return nil
}

func (l *ctLogs) mark() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.lines)
}

// wait waits for a log line from position since containing every part.
func (l *ctLogs) wait(t *testing.T, since int, parts ...string) string {
	t.Helper()
	timeout := time.After(ctTimeout)
	for {
		l.mu.Lock()
		ch := l.changed
		lines := l.lines[min(since, len(l.lines)):]
		for _, line := range lines {
			ok := true
			for _, p := range parts {
				ok = ok && strings.Contains(line, p)
			}
			if ok {
				l.mu.Unlock()
				return line
			}
		}
		l.mu.Unlock()
		select {
		case <-ch:
		case <-timeout:
			t.Fatalf("timed out waiting for a log line with %q", parts)
		}
	}
}

// ctPeer is a Tern client with a real SQLite store, its wire and events
// recorded.
type ctPeer struct {
	t        *testing.T
	srv      *xmpptest.Server
	name     string
	local    string
	resource string
	password string
	dbPath   string

	c    *client.Client
	db   *sqlite.DB
	acct client.AccountID
	con  *ctConsole
	ev   *ctEvents
	logs *ctLogs
	jid  jid.JID // the bound full JID
	bare jid.JID
	stop func()
}

// ctStart starts a client for local/resource with a new database and
// waits until its initial presence is out (the roster is stored then).
func ctStart(t *testing.T, srv *xmpptest.Server, local, resource string) *ctPeer {
	t.Helper()
	p := &ctPeer{
		t: t, srv: srv, name: local + "/" + resource, local: local, resource: resource, password: password,
		dbPath: filepath.Join(t.TempDir(), "tern.db"),
	}
	p.start()
	t.Cleanup(func() {
		if p.stop != nil {
			p.stop()
		}
		if t.Failed() && testing.Verbose() {
			p.dump()
		}
	})
	return p
}

// dump logs the end of the client's log and wire, to debug a failure.
func (p *ctPeer) dump() {
	p.logs.mu.Lock()
	for _, l := range p.logs.lines {
		p.t.Logf("%s log: %s", p.name, l)
	}
	p.logs.mu.Unlock()
	p.con.mu.Lock()
	for _, l := range p.con.lines {
		p.t.Logf("%s %s %s", p.name, l.dir, l.el)
	}
	p.con.mu.Unlock()
}

func (p *ctPeer) start() {
	t := p.t
	t.Helper()
	ctx := t.Context()
	db, err := sqlite.Open(ctx, p.dbPath, sqlite.Options{})
	if err != nil {
		t.Fatalf("%s: open store: %v", p.name, err)
	}
	bare := jid.MustParse(p.local + "@" + p.srv.Domain)
	var acct client.AccountID
	err = db.Update(ctx, func(tx client.Tx) error {
		accts, err := tx.Accounts(ctx)
		if err != nil {
			return err
		}
		for _, a := range accts {
			if a.JID == bare {
				acct = a.ID
				return nil
			}
		}
		acct, err = tx.PutAccount(ctx, client.Account{JID: bare, Resource: p.resource, Enabled: true})
		return err
	})
	if err != nil {
		t.Fatalf("%s: account: %v", p.name, err)
	}
	p.db, p.acct, p.bare = db, acct, bare
	p.con, p.ev, p.logs = newCTConsole(), &ctEvents{changed: make(chan struct{})}, newCTLogs()
	cfg := sessionConfig(p.srv, p.local, p.resource, p.srv.Addr())
	cfg.Password = p.password
	cfg.Console = p.con
	p.c = client.New(client.Config{
		Session:    cfg,
		MinBackoff: 50 * time.Millisecond, MaxBackoff: time.Second,
		Software: client.SoftwareInfo{Name: "Tern", Version: "test"},
		Logger:   slog.New(p.logs),
		Store:    db, Account: acct,
		Languages: []string{"en"},
	})
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go p.ev.run(p.c.Events())
	go func() {
		defer close(done)
		_ = p.c.Run(runCtx)
	}()
	p.stop = func() {
		cancel()
		<-done
		_ = db.Close()
		p.stop = nil
	}
	p.jid = ctWait[client.Online](t, p, 0, nil).Info.JID
	p.con.wait(t, "initial presence", "SEND", 0, isBroadcast)
}

// restart stops the client and starts it again on the same database.
func (p *ctPeer) restart() {
	p.t.Helper()
	p.stop()
	p.start()
}

// isBroadcast matches available presence to our subscribers.
func isBroadcast(el *xmlstream.Element) bool {
	return el.Name.Local == "presence" && el.Get("to") == "" && el.Get("type") == ""
}

// ctx returns a context for one step of a test.
func ctCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), ctTimeout)
	t.Cleanup(cancel)
	return ctx
}

// roster returns the stored roster.
func (p *ctPeer) roster() (string, map[jid.JID]client.RosterItem) {
	p.t.Helper()
	var ver string
	var items []client.RosterItem
	err := p.db.View(p.t.Context(), func(tx client.Tx) error {
		var err error
		ver, items, err = tx.Roster(p.t.Context(), p.acct)
		return err
	})
	if err != nil {
		p.t.Fatalf("%s: roster: %v", p.name, err)
	}
	out := make(map[jid.JID]client.RosterItem)
	for _, it := range items {
		out[it.JID] = it
	}
	return ver, out
}

// requests returns the stored subscription requests by JID.
func (p *ctPeer) requests() map[jid.JID]client.SubscriptionRequest {
	p.t.Helper()
	var reqs []client.SubscriptionRequest
	err := p.db.View(p.t.Context(), func(tx client.Tx) error {
		var err error
		reqs, err = tx.SubscriptionRequests(p.t.Context(), p.acct)
		return err
	})
	if err != nil {
		p.t.Fatalf("%s: requests: %v", p.name, err)
	}
	out := make(map[jid.JID]client.SubscriptionRequest)
	for _, r := range reqs {
		out[r.JID] = r
	}
	return out
}

// blocklist returns the stored block list.
func (p *ctPeer) blocklist() []jid.JID {
	p.t.Helper()
	var list []jid.JID
	err := p.db.View(p.t.Context(), func(tx client.Tx) error {
		var err error
		list, err = tx.Blocklist(p.t.Context(), p.acct)
		return err
	})
	if err != nil {
		p.t.Fatalf("%s: blocklist: %v", p.name, err)
	}
	return list
}

// contactAvatar returns the stored avatar hash of contact and the image
// (zero Avatar when not stored); errors other than not-found fail.
func (p *ctPeer) contactAvatar(contact jid.JID) (string, client.Avatar) {
	p.t.Helper()
	var hash string
	var a client.Avatar
	err := p.db.View(p.t.Context(), func(tx client.Tx) error {
		var err error
		hash, err = tx.ContactAvatar(p.t.Context(), p.acct, contact)
		if err != nil {
			return err
		}
		if hash == "" {
			return nil
		}
		a, err = tx.Avatar(p.t.Context(), hash)
		return err
	})
	if err != nil && !errors.Is(err, client.ErrNotFound) {
		p.t.Fatalf("%s: avatar: %v", p.name, err)
	}
	return hash, a
}

// hasAvatar reports whether the image hash is stored.
func (p *ctPeer) hasAvatar(hash string) bool {
	p.t.Helper()
	err := p.db.View(p.t.Context(), func(tx client.Tx) error {
		_, err := tx.Avatar(p.t.Context(), hash)
		return err
	})
	if err != nil && !errors.Is(err, client.ErrNotFound) {
		p.t.Fatalf("%s: avatar: %v", p.name, err)
	}
	return err == nil
}

// discoInfo returns the cached disco#info for a verification string, or
// nil when none is cached.
func (p *ctPeer) discoInfo(algo, ver string) []byte {
	p.t.Helper()
	var info []byte
	err := p.db.View(p.t.Context(), func(tx client.Tx) error {
		var err error
		info, err = tx.DiscoInfo(p.t.Context(), algo, ver)
		return err
	})
	if err != nil && !errors.Is(err, client.ErrNotFound) {
		p.t.Fatalf("%s: disco cache: %v", p.name, err)
	}
	return info
}

// ctRaw is a bare session (no engine) that plays a peer: it answers IQ
// requests with answer (service-unavailable when nil or when answer
// returns nil) and records what it receives.
type ctRaw struct {
	s   *session.Session
	jid jid.JID
	con *ctConsole

	mu     sync.Mutex
	answer func(iq *xmlstream.Element) *xmlstream.Element
}

func ctDialRaw(t *testing.T, srv *xmpptest.Server, local, resource string) *ctRaw {
	t.Helper()
	r := &ctRaw{con: newCTConsole()}
	cfg := sessionConfig(srv, local, resource, srv.Addr())
	cfg.Console = r.con
	s, err := session.Dial(ctCtx(t), cfg)
	if err != nil {
		t.Fatalf("raw %s: %v", local, err)
	}
	r.s, r.jid = s, s.Info().JID
	done := make(chan struct{})
	go func() {
		defer close(done)
		for it := range s.Items() {
			el := it.Stanza
			if el == nil || el.Name.Local != "iq" || (el.Get("type") != "get" && el.Get("type") != "set") {
				continue
			}
			r.mu.Lock()
			f := r.answer
			r.mu.Unlock()
			var reply *xmlstream.Element
			if f != nil {
				reply = f(el)
			}
			if reply == nil {
				reply = stanza.ErrorReply(el, &stanza.Error{Condition: stanza.CondServiceUnavailable})
			}
			_ = s.Send(context.Background(), reply)
		}
	}()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Close(ctx)
		<-done
	})
	return r
}

func (r *ctRaw) setAnswer(f func(iq *xmlstream.Element) *xmlstream.Element) {
	r.mu.Lock()
	r.answer = f
	r.mu.Unlock()
}

// send sends a stanza and fails the test on error.
func (r *ctRaw) send(t *testing.T, el *xmlstream.Element) {
	t.Helper()
	if err := r.s.Send(ctCtx(t), el); err != nil {
		t.Fatalf("raw send: %v", err)
	}
}

// ctPNG returns a w×h PNG image with a colour that makes it unique.
func ctPNG(t *testing.T, w, h int, shade uint8) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.NRGBA{R: shade, G: uint8(x), B: uint8(y), A: 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Element predicates.

// isIQ matches an IQ of type typ whose payload is local in space.
func isIQ(typ, space, local string) func(*xmlstream.Element) bool {
	return func(el *xmlstream.Element) bool {
		return el.Name.Local == "iq" && el.Get("type") == typ && el.Child(space, local) != nil
	}
}

// isPresence matches a presence of type typ (""=available) to to (""=any).
func isPresence(typ, to string) func(*xmlstream.Element) bool {
	return func(el *xmlstream.Element) bool {
		return el.Name.Local == "presence" && el.Get("type") == typ && (to == "" || el.Get("to") == to)
	}
}
