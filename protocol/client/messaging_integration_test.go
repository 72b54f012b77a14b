package client_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/ping"
	"github.com/tern-im/tern/protocol/session"
	"github.com/tern-im/tern/protocol/stanza"
	"github.com/tern-im/tern/protocol/xmpptest"
	"github.com/tern-im/tern/storage/sqlite"
)

// mtTimeout bounds every wait of the messaging integration tests.
const mtTimeout = time.Minute

// mtWire is an XML console (session.Config.Console) that tests can wait on.
type mtWire struct {
	mu     sync.Mutex
	lines  []string
	notify chan struct{} // closed and replaced at every line
}

func newMTWire() *mtWire { return &mtWire{notify: make(chan struct{})} }

func (w *mtWire) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.lines = append(w.lines, strings.TrimRight(string(p), "\n"))
	close(w.notify)
	w.notify = make(chan struct{})
	return len(p), nil
}

// matching returns the lines that contain every one of parts, and a
// channel closed at the next line.
func (w *mtWire) matching(parts ...string) ([]string, <-chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, l := range w.lines {
		ok := true
		for _, p := range parts {
			if !strings.Contains(l, p) {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, l)
		}
	}
	return out, w.notify
}

// count returns how many lines contain every one of parts.
func (w *mtWire) count(parts ...string) int {
	l, _ := w.matching(parts...)
	return len(l)
}

// wait waits for a line that contains every one of parts and returns it.
// waitMore waits until more than n lines match all parts.
func (w *mtWire) waitMore(t testing.TB, n int, parts ...string) {
	t.Helper()
	timeout := time.After(mtTimeout)
	for {
		lines, next := w.matching(parts...)
		if len(lines) > n {
			return
		}
		select {
		case <-next:
		case <-timeout:
			t.Fatalf("timed out waiting for more than %d lines with %q", n, parts)
		}
	}
}

func (w *mtWire) wait(t testing.TB, parts ...string) string {
	t.Helper()
	timeout := time.After(mtTimeout)
	for {
		l, next := w.matching(parts...)
		if len(l) > 0 {
			return l[0]
		}
		select {
		case <-next:
		case <-timeout:
			t.Fatalf("timed out waiting for a console line with %q", parts)
		}
	}
}

// mtEngine is one running engine (a Client with its own store: one device).
type mtEngine struct {
	t    testing.TB
	name string
	c    *client.Client
	db   *sqlite.DB
	acct client.AccountID
	wire *mtWire
	jid  jid.JID

	mu     sync.Mutex
	events []client.Event
	notify chan struct{}
}

// mtConfig describes an engine to start.
type mtConfig struct {
	local, resource, addr string
	langs                 []string
	disableSM             bool
	// roster lists the local parts of contacts with a mutual subscription
	// (stored before the engine starts; the server must agree).
	roster []string
	// before runs with the engine created but not yet connected.
	before func(e *mtEngine)
}

func startMT(t testing.TB, srv *xmpptest.Server, cfg mtConfig) *mtEngine {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), cfg.local+"-"+cfg.resource+".db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	own := jid.MustParse(cfg.local + "@" + srv.Domain)
	var acct client.AccountID
	err = db.Update(ctx, func(tx client.Tx) error {
		if acct, err = tx.PutAccount(ctx, client.Account{JID: own, Enabled: true}); err != nil {
			return err
		}
		for _, r := range cfg.roster {
			item := client.RosterItem{JID: jid.MustParse(r + "@" + srv.Domain), Subscription: client.SubscriptionBoth}
			if err := tx.PutRosterItem(ctx, acct, "", item); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	e := &mtEngine{t: t, name: cfg.local + "/" + cfg.resource, db: db, acct: acct, wire: newMTWire(), notify: make(chan struct{})}
	sc := sessionConfig(srv, cfg.local, cfg.resource, cfg.addr)
	sc.Console = e.wire
	sc.DisableSM = cfg.disableSM
	e.jid = sc.JID
	e.c = client.New(client.Config{
		Session: sc, Store: db, Account: acct, Languages: cfg.langs,
		MinBackoff: 50 * time.Millisecond, MaxBackoff: time.Second,
	})
	if cfg.before != nil {
		cfg.before(e)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.c.Run(runCtx) }()
	recorded := make(chan struct{})
	go func() {
		defer close(recorded)
		for ev := range e.c.Events() {
			if on, ok := ev.(client.Online); ok && !on.Info.Resumed {
				// Available presence, so that messages to the bare JID
				// reach this resource (RFC 6121 §8.5.2).
				_ = e.c.Send(context.Background(), xmlstream.New("jabber:client", "presence"))
			}
			e.mu.Lock()
			e.events = append(e.events, ev)
			close(e.notify)
			e.notify = make(chan struct{})
			e.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-recorded
		<-done
		db.Close()
	})
	return e
}

// mtWait waits until e has reported an event of type E for which match
// is true, and returns it.
func mtWait[E client.Event](t testing.TB, e *mtEngine, what string, match func(E) bool) E {
	t.Helper()
	timeout := time.After(mtTimeout)
	for {
		e.mu.Lock()
		events, next := e.events, e.notify
		e.mu.Unlock()
		for _, ev := range events {
			if m, ok := ev.(E); ok && match(m) {
				return m
			}
			if f, ok := ev.(client.Failed); ok {
				t.Fatalf("%s failed: %v", e.name, f.Err)
			}
		}
		select {
		case <-next:
		case <-timeout:
			t.Fatalf("%s: timed out waiting for %s", e.name, what)
		}
	}
}

// onlines counts the sessions e has started (not resumed).
func (e *mtEngine) onlines() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, ev := range e.events {
		if on, ok := ev.(client.Online); ok && !on.Info.Resumed {
			n++
		}
	}
	return n
}

func (e *mtEngine) waitState(id client.MessageID, state client.DeliveryState) client.MessageUpdated {
	e.t.Helper()
	return mtWait(e.t, e, fmt.Sprintf("message %d %v", id, state), func(u client.MessageUpdated) bool {
		return u.ID == id && u.State == state
	})
}

// waitReached waits until message id has reached state or a later one
// (a receipt may overtake the server's acknowledgement: sent is then
// skipped).
func (e *mtEngine) waitReached(id client.MessageID, state client.DeliveryState) {
	e.t.Helper()
	mtWait(e.t, e, fmt.Sprintf("message %d %v or later", id, state), func(u client.MessageUpdated) bool {
		return u.ID == id && u.State >= state && u.State != client.StateFailed
	})
}

// states returns the delivery states reported for message id, in order.
func (e *mtEngine) states(id client.MessageID) []client.DeliveryState {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []client.DeliveryState
	for _, ev := range e.events {
		switch ev := ev.(type) {
		case client.MessageQueued:
			if ev.Message.ID == id {
				out = append(out, ev.Message.State)
			}
		case client.MessageUpdated:
			if ev.ID == id && ev.State != client.StateNone {
				out = append(out, ev.State)
			}
		}
	}
	return out
}

// waitAcked waits until the server has acknowledged the stanza with this
// id (XEP-0198); the outbox hooks have seen it by then.
func (e *mtEngine) waitAcked(id string) {
	e.t.Helper()
	mtWait(e.t, e, "acknowledgement of "+id, func(a client.Acked) bool {
		for _, el := range a.Stanzas {
			if el.Get("id") == id {
				return true
			}
		}
		return false
	})
}

func (e *mtEngine) waitBody(body string) client.Message {
	e.t.Helper()
	return mtWait(e.t, e, fmt.Sprintf("message %q", body), func(r client.MessageReceived) bool {
		return r.Message.Text() == body
	}).Message
}

// barrier returns once everything e queued before it was written: a ping
// (XEP-0199) goes through the same queue, and its answer follows.
func (e *mtEngine) barrier() {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), mtTimeout)
	defer cancel()
	if err := ping.Ping(ctx, e.c, jid.JID{}); err != nil {
		e.t.Fatalf("%s: ping: %v", e.name, err)
	}
}

func (e *mtEngine) send(to, body string, opts client.SendOptions) client.MessageID {
	e.t.Helper()
	id, err := e.c.SendMessage(context.Background(), jid.MustParse(to), body, opts)
	if err != nil {
		e.t.Fatalf("%s: send: %v", e.name, err)
	}
	return id
}

func (e *mtEngine) message(id client.MessageID) client.Message {
	e.t.Helper()
	m, err := e.db.Message(context.Background(), id)
	if err != nil {
		e.t.Fatalf("%s: %v", e.name, err)
	}
	return m
}

func (e *mtEngine) timeline(conv client.ConversationID) []client.Message {
	e.t.Helper()
	page, err := e.db.LatestPage(context.Background(), conv, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	return page
}

func (e *mtEngine) conversation(id client.ConversationID) client.Conversation {
	e.t.Helper()
	var cv client.Conversation
	err := e.db.View(context.Background(), func(tx client.Tx) (err error) {
		cv, err = tx.Conversation(context.Background(), id)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return cv
}

// mtAwait reads a raw session's inbound queue until match accepts an
// element.
func mtAwait(t testing.TB, s *session.Session, what string, match func(*xmlstream.Element) bool) {
	t.Helper()
	timeout := time.After(mtTimeout)
	for {
		select {
		case it, ok := <-s.Items():
			if !ok {
				t.Fatalf("session closed waiting for %s", what)
			}
			if it.Err != nil {
				t.Fatalf("connection lost waiting for %s: %v", what, it.Err)
			}
			if it.Stanza != nil && match(it.Stanza) {
				return
			}
		case <-timeout:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// mtDial opens a raw session (no engine) for an account.
func mtDial(t testing.TB, srv *xmpptest.Server, local, resource string) *session.Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), mtTimeout)
	defer cancel()
	s, err := session.Dial(ctx, sessionConfig(srv, local, resource, srv.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s
}

func mtSend(t testing.TB, s *session.Session, raw string) {
	t.Helper()
	el, err := xmlstream.Parse([]byte(mtClientNS(raw)))
	if err != nil {
		t.Fatalf("test stanza: %v\n%s", err, raw)
	}
	if err := s.Send(context.Background(), el); err != nil {
		t.Fatal(err)
	}
}

// mtSubscribe makes a and b subscribe to each other's presence on the
// server (RFC 6121 §3), with raw sessions: receipts and markers go only to
// contacts allowed to see our presence.
func mtSubscribe(t testing.TB, srv *xmpptest.Server, a, b string) {
	t.Helper()
	sa, sb := mtDial(t, srv, a, "subscribe"), mtDial(t, srv, b, "subscribe")
	for _, s := range []*session.Session{sa, sb} {
		// Interested resources (RFC 6121 §2.1.6) get roster pushes.
		ctx, cancel := context.WithTimeout(context.Background(), mtTimeout)
		_, err := s.SendIQ(ctx, stanza.NewIQ("get", "", jid.JID{}, xmlstream.New("jabber:iq:roster", "query")))
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		mtSend(t, s, `<presence/>`)
	}
	one := func(from, to *session.Session, fromName, toName string) {
		fromJID, toJID := fromName+"@"+srv.Domain, toName+"@"+srv.Domain
		mtSend(t, from, fmt.Sprintf(`<presence to='%s' type='subscribe'/>`, toJID))
		mtAwait(t, to, "subscription request", func(el *xmlstream.Element) bool {
			return el.Name.Local == "presence" && el.Get("type") == "subscribe" && strings.HasPrefix(el.Get("from"), fromJID)
		})
		mtSend(t, to, fmt.Sprintf(`<presence to='%s' type='subscribed'/>`, fromJID))
		// The roster push that records the approval (RFC 6121 §3.1.6).
		mtAwait(t, from, "subscription approval", func(el *xmlstream.Element) bool {
			item := el.Child("jabber:iq:roster", "query").Child("jabber:iq:roster", "item")
			sub := item.Get("subscription")
			return el.Name.Local == "iq" && item.Get("jid") == toJID && (sub == "to" || sub == "both")
		})
	}
	one(sa, sb, a, b)
	one(sb, sa, b, a)
	ctx := context.Background()
	sa.Close(ctx)
	sb.Close(ctx)
}

// TestMessagingEndToEnd exercises one-to-one messaging through the
// engine's API between three accounts (alice with two clients, bob, and
// carol, a stranger), against real servers: the outbox and its states,
// failures, languages, threads, /me, corrections, retractions, reactions,
// replies, chat states, spoofing, and resending after a cut exactly once.
func TestMessagingEndToEnd(t *testing.T) {
	for _, st := range starters {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			srv := st.start(t, xmpptest.Options{})
			for _, u := range []string{"alice", "bob", "carol"} {
				srv.CreateAccount(t, u, password)
			}
			mtSubscribe(t, srv, "alice", "bob")
			testMessaging(t, srv)
		})
	}
}

func testMessaging(t *testing.T, srv *xmpptest.Server) {
	ctx := context.Background()
	aliceBare, bobBare := "alice@"+srv.Domain, "bob@"+srv.Domain

	// A message composed while offline waits in the outbox and goes out
	// once connected (the flush after the new session).
	var early client.MessageID
	bob := startMT(t, srv, mtConfig{local: "bob", resource: "b", addr: srv.Addr(), roster: []string{"alice"},
		before: func(e *mtEngine) {
			early = e.send(aliceBare, "written offline", client.SendOptions{})
			if got := e.message(early).State; got != client.StatePending {
				t.Fatalf("offline message: %v, want pending", got)
			}
		}})
	bob.waitState(early, client.StateSent)
	bob.wire.wait(t, "SEND", "<body>written offline</body>")

	alice1 := startMT(t, srv, mtConfig{local: "alice", resource: "a1", addr: srv.Addr(), roster: []string{"bob"}, langs: []string{"de"}})
	// Stored offline by the server: delivered to the first resource
	// online, with the server's delay.
	got := alice1.waitBody("written offline")
	if got.Server.IsZero() || got.Direction != client.Inbound || got.Sender != bobBare {
		t.Errorf("offline message stored as %+v", got)
	}
	bob.waitState(early, client.StateDelivered) // alice1's receipt
	proxy := xmpptest.NewProxy(t, srv.Addr())
	alice2 := startMT(t, srv, mtConfig{local: "alice", resource: "a2", addr: proxy.Addr(), roster: []string{"bob"}})
	mtWait(t, alice2, "online", func(client.Online) bool { return true })

	mtStep(t, "states", func() {
		id := alice1.send(bobBare+"/ignored", "Hello Bob", client.SendOptions{Thread: "th-1"})
		q := mtWait(t, alice1, "queued", func(q client.MessageQueued) bool { return q.Message.ID == id })
		if q.Message.State != client.StatePending {
			t.Errorf("queued as %v, want pending", q.Message.State)
		}
		oid := q.Message.OriginID
		line := alice1.wire.wait(t, "SEND", "id='"+oid+"'")
		for _, part := range []string{
			"to='" + bobBare + "'", "type='chat'", "<body>Hello Bob</body>", "<thread>th-1</thread>",
			"<origin-id xmlns='urn:xmpp:sid:0' id='" + oid + "'/>", "<request xmlns='urn:xmpp:receipts'/>",
			"<markable xmlns='urn:xmpp:chat-markers:0'/>", "<active xmlns='http://jabber.org/protocol/chatstates'/>",
		} {
			if !strings.Contains(line, part) {
				t.Errorf("sent stanza lacks %s:\n%s", part, line)
			}
		}
		alice1.waitReached(id, client.StateSent)
		in := bob.waitBody("Hello Bob")
		if in.OriginID != oid || in.XMLID != oid || in.Thread != "th-1" || in.Direction != client.Inbound || in.Sender != aliceBare {
			t.Errorf("bob stored %+v", in)
		}
		// Both servers stamp and vouch for XEP-0359 stanza-ids.
		if len(in.StanzaIDs) != 1 || in.StanzaIDs[0].Archive.String() != bobBare || in.StanzaIDs[0].ID == "" {
			t.Errorf("bob's stanza-ids: %+v, want one by %s", in.StanzaIDs, bobBare)
		}
		bob.wire.wait(t, "SEND", "<received xmlns='urn:xmpp:receipts' id='"+oid+"'/>")
		alice1.waitReached(id, client.StateDelivered)
		if err := bob.c.MarkRead(ctx, in.Conversation, in.ID); err != nil {
			t.Fatal(err)
		}
		bob.wire.wait(t, "SEND", "<displayed xmlns='urn:xmpp:chat-markers:0' id='"+oid+"'/>")
		alice1.waitState(id, client.StateRead)
		if got := alice1.message(id).State; got != client.StateRead {
			t.Errorf("alice's store: %v, want read", got)
		}
		// The states only went forward: pending, sent (unless bob's
		// receipt overtook the server's acknowledgement), delivered, read.
		seq := alice1.states(id)
		t.Logf("states reported: %v", seq)
		for i := 1; i < len(seq); i++ {
			if seq[i] <= seq[i-1] {
				t.Errorf("states went back: %v", seq)
			}
		}
		if len(seq) < 3 || seq[0] != client.StatePending || seq[len(seq)-2] != client.StateDelivered {
			t.Errorf("states reported: %v, want pending, [sent,] delivered, read", seq)
		}
		if cv := bob.conversation(in.Conversation); cv.LastRead != in.ID || cv.Unread != 0 {
			t.Errorf("bob's conversation after MarkRead: last read %d, unread %d", cv.LastRead, cv.Unread)
		}
		// Markers only go forward: marking the same message again sends nothing.
		if err := bob.c.MarkRead(ctx, in.Conversation, in.ID); err != nil {
			t.Fatal(err)
		}
		bob.barrier()
		if n := bob.wire.count("SEND", "<displayed xmlns='urn:xmpp:chat-markers:0' id='"+oid+"'/>"); n != 1 {
			t.Errorf("displayed marker sent %d times, want 1", n)
		}
	})

	mtStep(t, "failure", func() {
		id := alice1.send("nobody@"+srv.Domain, "anyone there?", client.SendOptions{})
		f := alice1.waitState(id, client.StateFailed)
		if f.Failure == "" {
			t.Error("failed without a reason")
		}
		t.Logf("failure reason: %s", f.Failure)
		if m := alice1.message(id); m.State != client.StateFailed || m.Failure != f.Failure {
			t.Errorf("stored %v %q", m.State, m.Failure)
		}
		if err := alice1.c.Retry(ctx, id); err != nil {
			t.Fatal(err)
		}
		alice1.waitState(id, client.StatePending)
		// The retry goes out with the same ids, and bounces again.
		mtWait(t, alice1, "second failure", func(u client.MessageUpdated) bool {
			return u.ID == id && u.State == client.StateFailed && alice1.message(id).State == client.StateFailed
		})
		if n := alice1.wire.count("SEND", "<body>anyone there?</body>"); n != 2 {
			t.Errorf("sent %d times, want 2 (the message and its retry)", n)
		}
		if err := alice1.c.Delete(ctx, id); err != nil {
			t.Fatal(err)
		}
	})

	mtStep(t, "languages, /me", func() {
		// Sent raw through bob's client: the API sends one body.
		if err := bob.c.Send(ctx, mustElement(t, fmt.Sprintf(`<message xmlns='jabber:client' to='%s' type='chat' id='lang-1' xml:lang='en'>
			<body>Good morning</body><body xml:lang='de'>Guten Morgen</body><body xml:lang='fr'>Bonjour</body>
			<origin-id xmlns='urn:xmpp:sid:0' id='lang-1'/></message>`, aliceBare))); err != nil {
			t.Fatal(err)
		}
		if m := alice1.waitBody("Guten Morgen"); m.Lang != "de" || len(m.Alternatives) != 2 {
			t.Errorf("alice1 (German) stored %q in %q with %v", m.Body, m.Lang, m.Alternatives)
		}
		// Both of alice's clients get messages to her bare JID.
		alice2.waitBody("Good morning")

		bob.send(aliceBare, "/me waves", client.SendOptions{})
		me := alice1.waitBody("/me waves")
		if !me.IsMe() || me.MeText() != "waves" {
			t.Errorf("/me: %q IsMe %v", me.Body, me.IsMe())
		}

		// With read markers turned off, MarkRead only moves the read
		// position.
		alice1.c.SetSendReadMarkers(false)
		if err := alice1.c.MarkRead(ctx, me.Conversation, me.ID); err != nil {
			t.Fatal(err)
		}
		alice1.c.SetSendReadMarkers(true)
		alice1.barrier()
		if n := alice1.wire.count("SEND", "<displayed xmlns='urn:xmpp:chat-markers:0'"); n != 0 {
			t.Errorf("%d displayed markers sent while turned off", n)
		}
		if cv := alice1.conversation(me.Conversation); cv.LastRead != me.ID || cv.Unread != 0 {
			t.Errorf("after MarkRead: last read %d, unread %d", cv.LastRead, cv.Unread)
		}
	})

	// Alice's message to bob, in both stores, for the edits.
	id := alice1.send(bobBare, "See you at 5", client.SendOptions{})
	bobCopy := bob.waitBody("See you at 5")
	alice1.waitReached(id, client.StateDelivered)
	oid := alice1.message(id).OriginID

	mtStep(t, "correction", func() {
		if err := alice1.c.Correct(ctx, id, "See you at 6"); err != nil {
			t.Fatal(err)
		}
		alice1.wire.wait(t, "SEND", "<replace xmlns='urn:xmpp:message-correct:0' id='"+oid+"'/>", "<body>See you at 6</body>")
		u := mtWait(t, bob, "correction", func(u client.MessageUpdated) bool { return u.ID == bobCopy.ID && u.Corrected != nil })
		if u.Corrected.Body != "See you at 6" {
			t.Errorf("correction event %+v", u.Corrected)
		}
		if m := bob.message(bobCopy.ID); m.Text() != "See you at 6" || m.Body != "See you at 5" {
			t.Errorf("bob's store: body %q, text %q", m.Body, m.Text())
		}
		if m := alice1.message(id); m.Text() != "See you at 6" {
			t.Errorf("alice's store: text %q", m.Text())
		}
	})

	mtStep(t, "reactions", func() {
		if err := bob.c.React(ctx, bobCopy.ID, []string{"👍"}); err != nil {
			t.Fatal(err)
		}
		bob.wire.wait(t, "SEND", "<reactions xmlns='urn:xmpp:reactions:0' id='"+oid+"'><reaction>👍</reaction></reactions>")
		mtWait(t, alice1, "reaction", func(u client.MessageUpdated) bool { return u.ID == id && u.Reactions })
		if r := alice1.message(id).Reactions; len(r) != 1 || r[0].Sender != bobBare || len(r[0].Emojis) != 1 || r[0].Emojis[0] != "👍" {
			t.Errorf("alice's store: %+v", r)
		}
		// A new set replaces the old one.
		if err := bob.c.React(ctx, bobCopy.ID, []string{"🎉", "❤️"}); err != nil {
			t.Fatal(err)
		}
		mtWait(t, alice1, "new reactions", func(client.MessageUpdated) bool {
			r := alice1.message(id).Reactions
			return len(r) == 1 && len(r[0].Emojis) == 2
		})
		if err := bob.c.React(ctx, bobCopy.ID, []string{"not an emoji"}); err == nil {
			t.Error("a text reaction was accepted")
		}
	})

	mtStep(t, "reply", func() {
		rid := bob.send(aliceBare, "Perfect", client.SendOptions{ReplyTo: bobCopy.ID})
		boid := bob.message(rid).OriginID
		line := bob.wire.wait(t, "SEND", "id='"+boid+"'")
		for _, part := range []string{
			"<body>&gt; See you at 6\nPerfect</body>", "<reply xmlns='urn:xmpp:reply:0' to='" + aliceBare + "' id='" + oid + "'/>",
			"<fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'><body start='0' end='15'/></fallback>",
		} {
			if !strings.Contains(line, part) {
				t.Errorf("reply stanza lacks %s:\n%s", part, line)
			}
		}
		m := alice1.waitBody("Perfect")
		if m.ReplyTo.ID != oid || m.ReplyTo.To != aliceBare {
			t.Errorf("alice stored reply %+v", m.ReplyTo)
		}
		if b := bob.message(rid); b.Body != "Perfect" || b.ReplyTo.ID != oid {
			t.Errorf("bob stored %q %+v", b.Body, b.ReplyTo)
		}
	})

	mtStep(t, "chat states", func() {
		// Alice's content messages carried <active/>: bob knows she supports them.
		if err := bob.c.SendChatState(ctx, jid.MustParse(aliceBare), client.ChatComposing); err != nil {
			t.Fatal(err)
		}
		cs := mtWait(t, alice1, "composing", func(c client.ChatStateChanged) bool { return c.State == client.ChatComposing })
		if cs.From != bob.jid {
			t.Errorf("chat state from %s, want %s", cs.From, bob.jid)
		}
		bob.wire.wait(t, "SEND", "<composing xmlns='http://jabber.org/protocol/chatstates'/>", "<no-store xmlns='urn:xmpp:hints'/>")
		// Never repeated (XEP-0085 §5.4).
		if err := bob.c.SendChatState(ctx, jid.MustParse(aliceBare), client.ChatComposing); err != nil {
			t.Fatal(err)
		}
		if err := bob.c.SendChatState(ctx, jid.MustParse(aliceBare), client.ChatPaused); err != nil {
			t.Fatal(err)
		}
		mtWait(t, alice1, "paused", func(c client.ChatStateChanged) bool { return c.State == client.ChatPaused })
		if n := bob.wire.count("SEND", "<composing xmlns='http://jabber.org/protocol/chatstates'/>"); n != 1 {
			t.Errorf("composing sent %d times, want 1", n)
		}
		// Turned off: nothing is sent.
		bob.c.SetSendChatStates(false)
		if err := bob.c.SendChatState(ctx, jid.MustParse(aliceBare), client.ChatGone); err != nil {
			t.Fatal(err)
		}
		bob.c.SetSendChatStates(true)
		bob.barrier()
		if n := bob.wire.count("SEND", "<gone xmlns='http://jabber.org/protocol/chatstates'/>"); n != 0 {
			t.Error("a chat state was sent while turned off")
		}
		// Not stored.
		for _, m := range alice1.timeline(alice1.message(id).Conversation) {
			if m.Body == "" && m.Retracted.IsZero() {
				t.Errorf("an empty message was stored: %+v", m)
			}
		}
	})

	mtStep(t, "retraction", func() {
		if err := alice1.c.Retract(ctx, id); err != nil {
			t.Fatal(err)
		}
		alice1.wire.wait(t, "SEND", "<retract xmlns='urn:xmpp:message-retract:1' id='"+oid+"'/>")
		mtWait(t, bob, "retraction", func(u client.MessageUpdated) bool { return u.ID == bobCopy.ID && u.Retracted })
		if m := bob.message(bobCopy.ID); m.Retracted.IsZero() || m.Text() != "" {
			t.Errorf("bob's store after the retraction: %+v", m)
		}
		if m := alice1.message(id); m.Retracted.IsZero() || m.Text() != "" {
			t.Errorf("alice's store after the retraction: %+v", m)
		}
	})

	mtStep(t, "spoofing", func() {
		// A message of alice's that bob has received but not displayed.
		sid := alice1.send(bobBare, "Are you there?", client.SendOptions{})
		alice1.waitReached(sid, client.StateDelivered)
		soid := alice1.message(sid).OriginID
		bobMsg := bob.send(aliceBare, "Bob's words", client.SendOptions{})
		bobMsgIn := alice1.waitBody("Bob's words")
		bob.waitReached(bobMsg, client.StateDelivered)

		before := mtSnapshot(t, alice1.db, alice1.acct, "carol@"+srv.Domain)
		carol := mtDial(t, srv, "carol", "x")
		for _, raw := range []string{
			// XEP-0280 §11: a carbon from a stranger.
			fmt.Sprintf(`<message to='%s' type='chat'><received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>
				<message xmlns='jabber:client' from='%s/b' to='%s' type='chat' id='forged-1'><body>I owe carol 1000</body></message>
				</forwarded></received></message>`, aliceBare, bobBare, aliceBare),
			// A correction and a retraction of bob's message, by carol.
			fmt.Sprintf(`<message to='%s' type='chat' id='c1'><body>evil</body><replace xmlns='urn:xmpp:message-correct:0' id='%s'/></message>`, aliceBare, bobMsgIn.XMLID),
			fmt.Sprintf(`<message to='%s' type='chat' id='c2'><retract xmlns='urn:xmpp:message-retract:1' id='%s'/><body>/me retracted</body></message>`, aliceBare, bobMsgIn.XMLID),
			// A receipt and a marker for alice's message to bob, from carol.
			fmt.Sprintf(`<message to='%s' id='c3'><received xmlns='urn:xmpp:receipts' id='%s'/></message>`, aliceBare, soid),
			fmt.Sprintf(`<message to='%s' type='chat' id='c4'><displayed xmlns='urn:xmpp:chat-markers:0' id='%s'/></message>`, aliceBare, soid),
			// A reaction to bob's message, from carol.
			fmt.Sprintf(`<message to='%s' type='chat' id='c5'><reactions xmlns='urn:xmpp:reactions:0' id='%s'><reaction>💩</reaction></reactions></message>`, aliceBare, bobMsgIn.XMLID),
			// Messages from one sender arrive in order: once this one is
			// stored, the ones above were processed.
			fmt.Sprintf(`<message to='%s' type='chat' id='c6'><body>sentinel</body></message>`, aliceBare),
		} {
			mtSend(t, carol, raw)
		}
		sentinel := alice1.waitBody("sentinel")
		if after := mtSnapshot(t, alice1.db, alice1.acct, "carol@"+srv.Domain); after != before {
			t.Errorf("spoofed stanzas changed the store:\n%s\nafter:\n%s", before, after)
		}
		if msgs := alice1.timeline(sentinel.Conversation); len(msgs) != 1 {
			t.Errorf("carol's conversation holds %d messages, want only the sentinel", len(msgs))
		}
		// Carol may not see alice's presence: no receipt for her.
		alice1.barrier()
		if n := alice1.wire.count("SEND", "to='carol@"+srv.Domain); n != 0 {
			t.Errorf("alice sent %d stanzas to carol (a stranger)", n)
		}
	})

	mtStep(t, "without stream management", func() {
		// No XEP-0198: a message is sent once the session took it; there
		// will be no acknowledgement.
		carol := startMT(t, srv, mtConfig{local: "carol", resource: "nosm", addr: srv.Addr(), disableSM: true})
		on := mtWait(t, carol, "online", func(client.Online) bool { return true })
		if on.Info.SM {
			t.Fatal("stream management enabled")
		}
		id := carol.send(bobBare, "no acks here", client.SendOptions{})
		carol.waitState(id, client.StateSent)
		bob.waitBody("no acks here")
		if n := carol.wire.count("SEND", "<enable xmlns='urn:xmpp:sm:3'"); n != 0 {
			t.Error("carol enabled stream management")
		}
	})

	mtStep(t, "resend after a resumed cut", func() {
		proxy.Stall(true)
		rid := alice2.send(bobBare, "through the cut", client.SendOptions{})
		roid := alice2.message(rid).OriginID
		alice2.wire.wait(t, "SEND", "id='"+roid+"'")
		proxy.Cut()
		proxy.Stall(false)
		bob.waitBody("through the cut")
		alice2.waitReached(rid, client.StateSent)
		// Sent on the cut connection, then again once: by the session when
		// it resumed the stream, or by the outbox when it could not.
		if n := alice2.wire.count("SEND", "<origin-id xmlns='urn:xmpp:sid:0' id='"+roid+"'/>"); n != 2 {
			t.Errorf("sent %d times, want 2", n)
		}
		if n := bob.wire.count("RECV", "<origin-id xmlns='urn:xmpp:sid:0' id='"+roid+"'/>"); n != 1 {
			t.Errorf("bob received it %d times, want 1", n)
		}
	})

	mtStep(t, "resend after a failed resumption", func() {
		sessions := alice2.onlines()
		proxy.Stall(true)
		rid := alice2.send(bobBare, "across the restart", client.SendOptions{})
		roid := alice2.message(rid).OriginID
		alice2.wire.wait(t, "SEND", "id='"+roid+"'")
		proxy.Refuse(true)
		proxy.Cut()
		proxy.Stall(false)
		bobPresences := bob.wire.count("SEND", "<presence")
		restart := time.Now()
		srv.Restart(t) // the server forgets the stream: it cannot be resumed
		t.Logf("server restart took %v", time.Since(restart).Round(time.Millisecond))
		// Let bob come back (his initial presence sent) before alice does, so
		// the resend reaches him live; what is tested is alice's resend.
		bob.wire.waitMore(t, bobPresences, "SEND", "<presence")
		proxy.Refuse(false)
		alice2.c.NetworkChanged()
		bob.waitBody("across the restart")
		alice2.waitReached(rid, client.StateSent)
		if alice2.onlines() <= sessions {
			t.Error("alice2 did not start a new session")
		}
		if n := alice2.wire.count("SEND", "<origin-id xmlns='urn:xmpp:sid:0' id='"+roid+"'/>"); n != 2 {
			t.Errorf("sent %d times, want 2 (lost, then resent once)", n)
		}
		if n := bob.wire.count("RECV", "<origin-id xmlns='urn:xmpp:sid:0' id='"+roid+"'/>"); n != 1 {
			t.Errorf("bob received it %d times, want 1", n)
		}
		alice2.waitAcked(roid)
		var out []client.OutboxItem
		if err := alice2.db.View(ctx, func(tx client.Tx) (err error) { out, err = tx.Outbox(ctx, alice2.acct); return }); err != nil {
			t.Fatal(err)
		}
		if len(out) != 0 {
			t.Errorf("outbox not empty: %+v", out)
		}
	})
}

// mtStep runs one step of a scenario (not a subtest: the engines' helpers
// report on the test that started them).
func mtStep(t *testing.T, name string, f func()) {
	t.Helper()
	start := time.Now()
	f()
	t.Logf("step %q took %v", name, time.Since(start).Round(time.Millisecond))
}

func mustElement(t testing.TB, raw string) *xmlstream.Element {
	t.Helper()
	el, err := xmlstream.Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return el
}

// mtSnapshot returns the conversations and messages of an account, except
// those with skip.
func mtSnapshot(t testing.TB, db *sqlite.DB, acct client.AccountID, skip string) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	err := db.View(ctx, func(tx client.Tx) error {
		convs, err := tx.Conversations(ctx, acct)
		if err != nil {
			return err
		}
		for _, cv := range convs {
			if cv.Peer.String() == skip {
				continue
			}
			fmt.Fprintf(&b, "conv %+v\n", cv)
			page, err := tx.LatestPage(ctx, cv.ID, 1000)
			if err != nil {
				return err
			}
			for _, m := range page {
				full, err := tx.Message(ctx, m.ID)
				if err != nil {
					return err
				}
				corr := full.LastCorrection
				full.LastCorrection = nil // print the correction, not its address
				fmt.Fprintf(&b, "  msg %+v\n", full)
				if corr != nil {
					fmt.Fprintf(&b, "    corrected %+v\n", *corr)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}
