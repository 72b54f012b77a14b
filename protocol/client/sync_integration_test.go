package client_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/xmpptest"
	"github.com/tern-im/tern/storage/sqlite"
)

// syDevice is one device (a store of its own) of an account, whose engine
// can be stopped and started again on the same store.
type syDevice struct {
	t         testing.TB
	name      string
	srv       *xmpptest.Server
	local     string
	resource  string
	addr      string
	disableSM bool
	db        *sqlite.DB
	acct      client.AccountID
	own       jid.JID
	wire      *mtWire

	c      *client.Client
	cancel context.CancelFunc
	done   chan struct{}

	mu     sync.Mutex
	events []client.Event
	notify chan struct{}
}

func syOpen(t testing.TB, srv *xmpptest.Server, local, resource, addr string, disableSM bool) *syDevice {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), local+"-"+resource+".db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	d := &syDevice{t: t, name: local + "/" + resource, srv: srv, local: local, resource: resource, addr: addr,
		disableSM: disableSM, db: db, own: jid.MustParse(local + "@" + srv.Domain), notify: make(chan struct{})}
	err = db.Update(ctx, func(tx client.Tx) error {
		d.acct, err = tx.PutAccount(ctx, client.Account{JID: d.own, Enabled: true})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.stop()
		db.Close()
	})
	return d
}

// start runs a new engine on the device's store.
func (d *syDevice) start(opts client.SyncOptions) {
	d.t.Helper()
	if d.c != nil {
		d.t.Fatalf("%s: already running", d.name)
	}
	d.wire = newMTWire()
	sc := sessionConfig(d.srv, d.local, d.resource, d.addr)
	sc.Console = d.wire
	sc.DisableSM = d.disableSM
	cfg := client.Config{Session: sc, Store: d.db, Account: d.acct, MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond}
	if f := os.Getenv("TERN_DEBUG_WIRE"); f != "" {
		lf, err := os.OpenFile(f+"."+strings.ReplaceAll(d.t.Name(), "/", "_")+"."+d.resource+".slog", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err == nil {
			d.t.Cleanup(func() { lf.Close() })
			cfg.Logger = slog.New(slog.NewTextHandler(lf, &slog.HandlerOptions{Level: slog.LevelDebug}))
		}
	}
	d.c = client.New(cfg)
	d.c.SetSyncOptions(opts)
	d.mu.Lock()
	d.events = nil
	d.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	d.cancel, d.done = cancel, make(chan struct{})
	c, done := d.c, d.done
	runDone := make(chan struct{})
	go func() {
		defer close(runDone)
		_ = c.Run(ctx)
	}()
	go func() {
		defer close(done)
		for ev := range c.Events() {
			d.mu.Lock()
			d.events = append(d.events, ev)
			close(d.notify)
			d.notify = make(chan struct{})
			d.mu.Unlock()
		}
		<-runDone
	}()
}

// stop ends the engine (the device goes offline).
func (d *syDevice) stop() {
	if d.c == nil {
		return
	}
	d.cancel()
	<-d.done
	d.c = nil
	if f := os.Getenv("TERN_DEBUG_WIRE"); f != "" {
		// The whole session's wire, appended per device (debugging aid).
		d.wire.mu.Lock()
		lines := strings.Join(d.wire.lines, "\n") + "\n"
		d.wire.mu.Unlock()
		name := f + "." + strings.ReplaceAll(d.t.Name(), "/", "_") + "." + d.resource + ".wire"
		if wf, err := os.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600); err == nil {
			_, _ = wf.WriteString(lines)
			_ = wf.Close()
		}
	}
}

// syWait waits for an event of type E that match accepts, reported since
// the last start.
func syWait[E client.Event](d *syDevice, what string, match func(E) bool) E {
	d.t.Helper()
	m, _ := syWaitUntil(d, nil, what, match)
	return m
}

// syWaitUntil is syWait that gives up, reporting false, once stop is
// closed (nil: never).
func syWaitUntil[E client.Event](d *syDevice, stop <-chan struct{}, what string, match func(E) bool) (E, bool) {
	d.t.Helper()
	timeout := time.After(2 * mtTimeout)
	for {
		d.mu.Lock()
		events, next := d.events, d.notify
		d.mu.Unlock()
		for _, ev := range events {
			if m, ok := ev.(E); ok && match(m) {
				return m, true
			}
			if f, ok := ev.(client.Failed); ok {
				d.t.Fatalf("%s failed: %v", d.name, f.Err)
			}
		}
		select {
		case <-next:
		case <-stop:
			var zero E
			return zero, false
		case <-timeout:
			if os.Getenv("TERN_DEBUG_WIRE") != "" {
				for _, ev := range events {
					d.t.Logf("EV %T %+v", ev, ev)
				}
			}
			d.t.Fatalf("%s: timed out waiting for %s", d.name, what)
		}
	}
}

// count returns how many events of type E match accepts.
func syCount[E client.Event](d *syDevice, match func(E) bool) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, ev := range d.events {
		if m, ok := ev.(E); ok && match(m) {
			n++
		}
	}
	return n
}

// sendAll sends bodies to `to` and waits until the server acknowledged
// the last (acknowledgements come in order).
func (d *syDevice) sendAll(to string, bodies []string) {
	d.t.Helper()
	var last client.MessageID
	for _, b := range bodies {
		id, err := d.c.SendMessage(context.Background(), jid.MustParse(to), b, client.SendOptions{})
		if err != nil {
			d.t.Fatalf("%s: send: %v", d.name, err)
		}
		last = id
	}
	syWait(d, "the last message acknowledged", func(u client.MessageUpdated) bool {
		return u.ID == last && u.State >= client.StateSent && u.State != client.StateFailed
	})
}

// bodies returns the texts of the conversation with peer, in timeline
// order.
func (d *syDevice) bodies(peer string) []string {
	d.t.Helper()
	ctx := context.Background()
	var out []string
	err := d.db.View(ctx, func(tx client.Tx) error {
		convs, err := tx.Conversations(ctx, d.acct)
		if err != nil {
			return err
		}
		var conv client.ConversationID
		for _, cv := range convs {
			if cv.Peer.String() == peer {
				conv = cv.ID
			}
		}
		if conv == 0 {
			return nil
		}
		page, err := tx.LatestPage(ctx, conv, 1000)
		for len(page) > 0 && err == nil {
			batch := make([]string, 0, len(page))
			for _, m := range page {
				batch = append(batch, m.Text())
			}
			out = append(batch, out...)
			page, err = tx.PageBefore(ctx, conv, page[0].ID, 1000)
		}
		return err
	})
	if err != nil {
		d.t.Fatal(err)
	}
	return out
}

// waitBodies waits until the device stored n messages with peer.
func (d *syDevice) waitBodies(peer string, n int) []string {
	return d.waitWant(peer, n, nil)
}

// waitWant waits until the device stored n messages with peer; on a
// timeout it names those of want that are missing.
func (d *syDevice) waitWant(peer string, n int, want []string) []string {
	d.t.Helper()
	timeout := time.After(2 * mtTimeout)
	for {
		// The channel first: an event after the store read still wakes us.
		d.mu.Lock()
		next := d.notify
		d.mu.Unlock()
		got := d.bodies(peer)
		if len(got) >= n {
			return got
		}
		select {
		case <-next:
		case <-timeout:
			if f := os.Getenv("TERN_DEBUG_WIRE"); f != "" {
				d.wire.mu.Lock()
				_ = os.WriteFile(f, []byte(strings.Join(d.wire.lines, "\n")), 0o600)
				d.wire.mu.Unlock()
			}
			if want != nil && os.Getenv("TERN_DEBUG_WIRE") != "" {
				chk := syOpen(d.t, d.srv, d.local, "check", d.srv.Addr(), false)
				chk.start(client.SyncOptions{FirstSyncCount: 100000, FirstSyncAge: time.Hour, PageSize: 50})
				syWait(chk, "check catch-up", func(client.CatchupDone) bool { return true })
				chk.wire.mu.Lock()
				_ = os.WriteFile(os.Getenv("TERN_DEBUG_WIRE")+".check", []byte(strings.Join(chk.wire.lines, "\n")), 0o600)
				chk.wire.mu.Unlock()
				d.t.Logf("a fresh device has %d", len(chk.bodies(peer)))
				// The server's log, before the harness removes it.
				for _, l := range []string{d.srv.LogFile(), filepath.Join(filepath.Dir(d.srv.LogFile()), "stdout.log")} {
					if b, err := os.ReadFile(l); err == nil {
						_ = os.WriteFile(os.Getenv("TERN_DEBUG_WIRE")+".server."+filepath.Base(l), b, 0o600)
					}
				}
			}
			if want != nil {
				checkExact(d.t, d.name, got, want)
			}
			d.t.Fatalf("%s: %d messages with %s, want %d", d.name, len(got), peer, n)
		}
	}
}

// waitSettled waits until the current session's catch-up and its recheck
// are done: a successful recheck reported after the last Online event.
func (d *syDevice) waitSettled() {
	d.t.Helper()
	timeout := time.After(2 * mtTimeout)
	for {
		d.mu.Lock()
		events, next := d.events, d.notify
		d.mu.Unlock()
		last := -1
		for i, ev := range events {
			if _, ok := ev.(client.Online); ok {
				last = i
			}
		}
		for _, ev := range events[last+1:] {
			if dn, ok := ev.(client.CatchupDone); ok && dn.Recheck && dn.Err == nil && last >= 0 {
				return
			}
		}
		select {
		case <-next:
		case <-timeout:
			d.t.Fatalf("%s: timed out waiting for the catch-up's recheck", d.name)
		}
	}
}

func numbered(prefix string, from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("%s %04d", prefix, i))
	}
	return out
}

// checkExact fails unless got is want, in order, each once.
func checkExact(t testing.TB, who string, got, want []string) {
	t.Helper()
	if slices.Equal(got, want) {
		return
	}
	seen := map[string]int{}
	for _, b := range got {
		seen[b]++
	}
	var missing, twice []string
	for _, b := range want {
		switch seen[b] {
		case 0:
			missing = append(missing, b)
		case 1:
		default:
			twice = append(twice, b)
		}
	}
	first := -1
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			first = i
			break
		}
	}
	lo, hi := max(first-2, 0), min(first+3, len(got), len(want))
	t.Fatalf("%s: %d messages, want %d; missing %d %v; duplicated %d %v; first difference at %d: got %q, want %q",
		who, len(got), len(want), len(missing), head(missing), len(twice), head(twice), first, got[lo:hi], want[lo:hi])
}

func head(s []string) []string { return s[:min(len(s), 5)] }

// TestSyncCatchup: alice's device is offline while bob sends 500 messages
// and alice's second device sends 100; back online, it has exactly those
// 600, in order, once each — the last 50 of bob's arrive live while the
// catch-up runs, after the server's offline delivery overlapped with it.
func TestSyncCatchup(t *testing.T) {
	for _, st := range starters {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			srv := st.start(t, xmpptest.Options{})
			for _, u := range []string{"alice", "bob"} {
				srv.CreateAccount(t, u, password)
			}
			mtSubscribe(t, srv, "alice", "bob")
			aliceBare, bobBare := "alice@"+srv.Domain, "bob@"+srv.Domain
			opts := client.SyncOptions{PageSize: 50}

			a1 := syOpen(t, srv, "alice", "one", srv.Addr(), false)
			a2 := syOpen(t, srv, "alice", "two", srv.Addr(), false)
			bob := syOpen(t, srv, "bob", "b", srv.Addr(), false)

			// The first login: an empty archive, a cursor all the same.
			a1.start(opts)
			first := syWait(a1, "first catch-up", func(client.CatchupDone) bool { return true })
			if !first.FirstSync || first.Err != nil || first.New != 0 {
				t.Fatalf("first catch-up: %+v", first)
			}
			a1.wire.wait(t, "SEND", "urn:xmpp:carbons:2", "enable")
			a1.stop()

			bob.start(opts)
			a2.start(opts)
			syWait(bob, "bob online", func(client.CatchupDone) bool { return true })
			syWait(a2, "alice/two online", func(client.CatchupDone) bool { return true })
			bob.sendAll(aliceBare, numbered("bob", 0, 450))
			// The order is the server's: alice's second device answers
			// once it has all of bob's.
			a2.waitBodies(bobBare, 450)
			a2.sendAll(bobBare, numbered("alice", 0, 100))

			a1.start(opts)
			syWait(a1, "the catch-up running", func(client.CatchupProgress) bool { return true })
			bob.sendAll(aliceBare, numbered("bob", 450, 500))

			want := slices.Concat(numbered("bob", 0, 450), numbered("alice", 0, 100), numbered("bob", 450, 500))
			a1.waitBodies(bobBare, len(want))
			done := syWait(a1, "catch-up done", func(client.CatchupDone) bool { return true })
			t.Logf("catch-up: %+v", done)
			if done.Err != nil || done.FirstSync || !done.Complete {
				t.Fatalf("catch-up: %+v", done)
			}
			got := a1.bodies(bobBare)
			checkExact(t, "alice/one", got, want)
			// The query pages forward from the cursor.
			if a1.wire.count("SEND", "urn:xmpp:mam:2", "<after>") == 0 {
				t.Error("no forward query with <after/> on the wire")
			}
			// Alice's second device has everything too (live and carbons).
			checkExact(t, "alice/two", a2.waitBodies(bobBare, len(want)), want)
		})
	}
}

// TestSyncCutDuringCatchup: alice's connection is cut at random points
// of her catch-ups, 20 times, while bob keeps sending; the final state is
// exact: every message once, in the server's order.
//
// Two ways: "restart" — stream management on; alice's device is closed,
// bob sends, alice's device starts (a new session: catch-up, with the
// server's offline messages flooding in alongside) and the cut lands in
// that catch-up, so the engine resumes the stream (or, when that fails,
// starts a new session) and finishes the catch-up. "no-sm" — stream
// management off, so every cut ends in a new session and a catch-up,
// while bob's messages arrive live. The no-sm way runs on Prosody only:
// ejabberd 23.01 acknowledges to the sender, then neither delivers nor
// archives, about one message in 200 routed to a connection that is being
// cut without stream management (observed here: bob's message absent from
// the archive as read afterwards by a new device, and never on alice's
// wire) — a server loss no client can repair. It is not the Mnesia
// archive's overflow (see TestSyncChaos): with the archive in SQLite, 1 of
// 3 runs still lost one message ("round 10 0000"), and 1 of 14 more runs
// failed on order instead: "round 02 0005", archived with stamp .129122,
// came again by offline delivery with a delay stamp of .151975 (when
// ejabberd stored it offline), and the store's merge took that later
// stamp as a refinement of the same second, moving the message after
// "round 02 0007". TERN_NOSM_EJABBERD=1 runs this way on ejabberd.
func TestSyncCutDuringCatchup(t *testing.T) {
	for _, st := range starters {
		for _, way := range []string{"restart", "no-sm"} {
			if way == "no-sm" && st.name == "ejabberd" && os.Getenv("TERN_NOSM_EJABBERD") == "" {
				continue // see above
			}
			t.Run(st.name+"/"+way, func(t *testing.T) {
				t.Parallel()
				seed := uint64(time.Now().UnixNano())
				t.Logf("seed %d", seed)
				rnd := rand.New(rand.NewPCG(seed, 0))
				srv := st.start(t, xmpptest.Options{})
				for _, u := range []string{"alice", "bob"} {
					srv.CreateAccount(t, u, password)
				}
				aliceBare, bobBare := "alice@"+srv.Domain, "bob@"+srv.Domain
				proxy := xmpptest.NewProxy(t, srv.Addr())
				opts := client.SyncOptions{PageSize: 20, RecheckAfter: time.Second}
				a := syOpen(t, srv, "alice", "one", proxy.Addr(), way == "no-sm")
				bob := syOpen(t, srv, "bob", "b", srv.Addr(), false)
				a.start(opts)
				syWait(a, "first catch-up", func(client.CatchupDone) bool { return true })
				a.stop()
				bob.start(opts)
				syWait(bob, "bob online", func(client.CatchupDone) bool { return true })
				bob.sendAll(aliceBare, numbered("bob", 0, 200))
				want := numbered("bob", 0, 200)
				cuts := 0
				if way == "restart" {
					for i := range 20 {
						// Past the negotiation (about 6 KB), into the
						// catch-up.
						proxy.CutAfterToClient(int64(6000 + rnd.IntN(20000)))
						a.start(opts)
						syWait(a, "a complete catch-up", func(d client.CatchupDone) bool { return d.Err == nil && d.Complete && !d.Recheck })
						if syCount(a, func(client.Offline) bool { return true }) > 0 {
							cuts++
						}
						proxy.CutAfterToClient(1 << 40) // disarm
						a.stop()
						more := numbered(fmt.Sprintf("round %02d", i), 0, 10)
						bob.sendAll(aliceBare, more)
						want = append(want, more...)
					}
					a.start(opts)
				} else {
					a.start(opts)
					syWait(a, "online", func(client.Online) bool { return true })
					for i := range 20 {
						on := syCount(a, func(client.Online) bool { return true })
						off := syCount(a, func(client.Offline) bool { return true })
						// Cut after a random amount of the catch-up's traffic.
						proxy.CutAfterToClient(int64(500 + rnd.IntN(20000)))
						more := numbered(fmt.Sprintf("round %02d", i), 0, 10)
						bob.sendAll(aliceBare, more)
						want = append(want, more...)
						// The armed cut may not have fired yet (the catch-up
						// was shorter): cut now, at the end of bob's burst.
						if syCount(a, func(client.Offline) bool { return true }) == off {
							proxy.Cut()
						}
						cuts++
						// Disarm: the next negotiation goes through.
						proxy.CutAfterToClient(1 << 40)
						syWait(a, "the next session", func(client.Online) bool {
							return syCount(a, func(client.Online) bool { return true }) > on
						})
					}
				}
				a.waitWant(bobBare, len(want), want)
				// The recheck after the last catch-up settles the order of
				// what arrived live.
				a.waitSettled()
				got := a.bodies(bobBare)
				if os.Getenv("TERN_DEBUG_WIRE") != "" && !slices.Equal(got, want) {
					ctx := context.Background()
					_ = a.db.View(ctx, func(tx client.Tx) error {
						convs, _ := tx.Conversations(ctx, a.acct)
						for _, cv := range convs {
							page, _ := tx.LatestPage(ctx, cv.ID, 1000)
							for _, m := range page {
								t.Logf("DBG %s time=%s server=%s recv=%s sent=%s sids=%v", m.Body, m.Time.Format("05.000000"), m.Server.Format("05.000000"), m.Received.Format("05.000000"), m.Sent.Format("05.000000"), m.StanzaIDs)
							}
						}
						return nil
					})
				}
				checkExact(t, "alice", got, want)
				t.Logf("%d cuts", cuts)
			})
		}
	}
}

// TestSyncDisplayed: reading on one device clears unread on the other
// (XEP-0490).
//
// Prosody takes the publication with the publish-options of §4.2 as it
// is. ejabberd 23.01 refuses it: its publish-options know only
// pubsub#persist_items and pubsub#access_model, and any other field is
// answered with resource-constraint ("Unknown field 'pubsub#max_items' of
// type 'http://jabber.org/protocol/pubsub#publish-options'"; ejabberd
// takes every node_config field there from its xmpp library of August 2023
// on). There the engine configures the node as its owner (creating it
// configured when missing), then publishes with the XEP-0223 privacy
// preconditions only.
func TestSyncDisplayed(t *testing.T) {
	for _, st := range starters {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			srv := st.start(t, xmpptest.Options{})
			for _, u := range []string{"alice", "bob"} {
				srv.CreateAccount(t, u, password)
			}
			mtSubscribe(t, srv, "alice", "bob")
			aliceBare, bobBare := "alice@"+srv.Domain, "bob@"+srv.Domain
			a1 := syOpen(t, srv, "alice", "one", srv.Addr(), false)
			a2 := syOpen(t, srv, "alice", "two", srv.Addr(), false)
			bob := syOpen(t, srv, "bob", "b", srv.Addr(), false)
			for _, d := range []*syDevice{a1, a2, bob} {
				d.start(client.SyncOptions{})
				syWait(d, "online", func(client.CatchupDone) bool { return true })
			}
			// Both of alice's devices announce +notify (XEP-0115).
			a1.wire.wait(t, "SEND", "<presence", "<c ")
			bob.sendAll(aliceBare, []string{"one", "two", "three"})
			var conv2 client.ConversationID
			for _, d := range []*syDevice{a1, a2} {
				m := syWait(d, "three", func(r client.MessageReceived) bool { return r.Message.Body == "three" })
				if d == a2 {
					conv2 = m.Message.Conversation
				}
			}
			a2cv := func() client.Conversation {
				var cv client.Conversation
				_ = a2.db.View(context.Background(), func(tx client.Tx) (err error) {
					cv, err = tx.Conversation(context.Background(), conv2)
					return err
				})
				return cv
			}
			if u := a2cv().Unread; u != 3 {
				t.Fatalf("alice/two unread = %d, want 3", u)
			}
			m := syWait(a1, "two", func(r client.MessageReceived) bool { return r.Message.Body == "two" }).Message
			if err := a1.c.MarkRead(context.Background(), m.Conversation, m.ID); err != nil {
				t.Fatal(err)
			}
			a1.wire.wait(t, "SEND", "urn:xmpp:mds:displayed:0", "whitelist")
			ev := syWait(a2, "read synced", func(r client.ReadSynced) bool { return r.Conversation == conv2 })
			if ev.Unread != 1 || a2cv().Unread != 1 {
				t.Fatalf("alice/two after the other device read: event %+v, unread %d; want 1", ev, a2cv().Unread)
			}
			// A new session fetches the node: a third device learns it too.
			a3 := syOpen(t, srv, "alice", "three", srv.Addr(), false)
			a3.start(client.SyncOptions{})
			r := syWait(a3, "read state fetched", func(client.ReadSynced) bool { return true })
			if r.Unread != 1 {
				t.Fatalf("alice/three: %+v, want 1 unread", r)
			}
			_ = bobBare
		})
	}
}

// TestSyncDisplayedReconfigures: our displayed node exists already with a
// configuration that is not XEP-0490's (created by another client: open to
// contacts with a presence subscription, one item kept). Publishing with
// the §4.2 publish-options is refused (Prosody: conflict,
// precondition-not-met; ejabberd 23.01: resource-constraint); the engine
// configures the node as its owner and publishes then, so the node ends
// up private, keeps an item per conversation, and another device learns
// both read states.
func TestSyncDisplayedReconfigures(t *testing.T) {
	const (
		nsPS    = "http://jabber.org/protocol/pubsub"
		node    = "urn:xmpp:mds:displayed:0"
		cfgForm = "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>" + nsPS + "#node_config</value></field>" +
			"<field var='pubsub#access_model'><value>presence</value></field><field var='pubsub#max_items'><value>1</value></field></x>"
	)
	for _, st := range starters {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			srv := st.start(t, xmpptest.Options{})
			for _, u := range []string{"alice", "bob", "carol"} {
				srv.CreateAccount(t, u, password)
			}
			aliceBare := "alice@" + srv.Domain
			old := mtDial(t, srv, "alice", "old")
			iq := func(raw string) *xmlstream.Element {
				t.Helper()
				el, err := xmlstream.Parse([]byte(mtClientNS(raw)))
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), mtTimeout)
				defer cancel()
				res, err := old.SendIQ(ctx, el)
				if err != nil {
					t.Fatalf("%s: %v", raw, err)
				}
				return res
			}
			iq("<iq type='set'><pubsub xmlns='" + nsPS + "'><create node='" + node + "'/><configure>" + cfgForm + "</configure></pubsub></iq>")

			a1 := syOpen(t, srv, "alice", "one", srv.Addr(), false)
			a2 := syOpen(t, srv, "alice", "two", srv.Addr(), false)
			for _, d := range []*syDevice{a1, a2} {
				d.start(client.SyncOptions{})
				syWait(d, "online", func(client.CatchupDone) bool { return true })
			}
			for _, u := range []string{"bob", "carol"} {
				s := mtDial(t, srv, u, "x")
				for i := range 2 {
					mtSend(t, s, fmt.Sprintf("<message to='%s' type='chat' id='%s%d'><body>%s %d</body></message>", aliceBare, u, i, u, i))
				}
			}
			for _, u := range []string{"bob", "carol"} {
				m := syWait(a1, u+" 0", func(r client.MessageReceived) bool { return r.Message.Body == u+" 0" }).Message
				syWait(a1, u+" 1", func(r client.MessageReceived) bool { return r.Message.Body == u+" 1" })
				if err := a1.c.MarkRead(context.Background(), m.Conversation, m.ID); err != nil {
					t.Fatal(err)
				}
			}
			// The other device is told of both (its conversations have
			// their own ids: wait for two distinct ones).
			synced := map[client.ConversationID]bool{}
			syWait(a2, "both read states", func(r client.ReadSynced) bool {
				if r.Unread == 1 {
					synced[r.Conversation] = true
				}
				return len(synced) == 2
			})
			// The node is private now and keeps both items.
			items := iq("<iq type='get'><pubsub xmlns='" + nsPS + "'><items node='" + node + "'/></pubsub></iq>")
			if n := strings.Count(items.String(), "<displayed "); n != 2 {
				t.Fatalf("%d displayed items on the node, want 2: %s", n, items)
			}
			cfg := iq("<iq type='get'><pubsub xmlns='" + nsPS + "#owner'><configure node='" + node + "'/></pubsub></iq>")
			var access string
			if x := cfg.Child(nsPS+"#owner", "pubsub").Child(nsPS+"#owner", "configure").Child("jabber:x:data", "x"); x != nil {
				for _, f := range x.Children {
					if f.Get("var") == "pubsub#access_model" {
						if v := f.Child("jabber:x:data", "value"); v != nil {
							access = v.Text
						}
					}
				}
			}
			if access != "whitelist" {
				t.Fatalf("access model %q, want whitelist: %s", access, cfg)
			}
		})
	}
}

// ejArchive opens ejabberd's SQLite archive (the harness's), so that a
// test can see the stamps it gave and write what it would have written.
func ejArchive(t *testing.T, srv *xmpptest.Server) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(filepath.Dir(filepath.Dir(srv.LogFile())), "data", "ejabberd.sqlite")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// ejStamp returns the archive stamp (µs) of alice's message with body.
func ejStamp(t *testing.T, db *sql.DB, body string) int64 {
	t.Helper()
	var ts int64
	if err := db.QueryRowContext(t.Context(), "SELECT timestamp FROM archive WHERE username = 'alice' AND txt = ?", body).Scan(&ts); err != nil {
		t.Fatalf("archive stamp of %q: %v", body, err)
	}
	return ts
}

// ejArchiveLate writes a message from bob into alice's archive at stamp
// (µs), as an archive that makes a message visible late would show it.
func ejArchiveLate(t *testing.T, db *sql.DB, srv *xmpptest.Server, id, body string, stamp int64) {
	t.Helper()
	aliceBare, bobBare := "alice@"+srv.Domain, "bob@"+srv.Domain
	xml := fmt.Sprintf("<message xmlns='jabber:client' xml:lang='en' to='%s' from='%s/b' type='chat' id='%s'><body>%s</body></message>", aliceBare, bobBare, id, body)
	if _, err := db.ExecContext(t.Context(), "INSERT INTO archive (username, timestamp, peer, bare_peer, xml, txt, kind, nick) VALUES ('alice', ?, ?, ?, ?, ?, 'chat', '')",
		stamp, bobBare+"/b", bobBare, xml, body); err != nil {
		t.Fatal(err)
	}
}

// ejCursorBack starts ejabberd with alice and bob, bob online, and alice's
// device "one" stopped after its first sync, whose newest result, and so
// her cursor, is bob's "zero", archived 30 s back (its stamp is returned).
func ejCursorBack(t *testing.T, opts client.SyncOptions) (srv *xmpptest.Server, db *sql.DB, a, bob *syDevice, zero int64) {
	t.Helper()
	srv = xmpptest.StartEjabberd(t, xmpptest.Options{})
	for _, u := range []string{"alice", "bob"} {
		srv.CreateAccount(t, u, password)
	}
	db = ejArchive(t, srv)
	bob = syOpen(t, srv, "bob", "b", srv.Addr(), false)
	bob.start(client.SyncOptions{})
	syWait(bob, "bob online", func(client.CatchupDone) bool { return true })
	bob.sendAll("alice@"+srv.Domain, []string{"zero"})
	if _, err := db.ExecContext(t.Context(), "UPDATE archive SET timestamp = timestamp - 30000000 WHERE username = 'alice' AND txt = 'zero'"); err != nil {
		t.Fatal(err)
	}
	zero = ejStamp(t, db, "zero")
	a = syOpen(t, srv, "alice", "one", srv.Addr(), false)
	a.start(opts)
	a.waitBodies("bob@"+srv.Domain, 1)
	a.waitSettled()
	a.stop()
	return srv, db, a, bob, zero
}

// TestSyncRecheckLateArchived: an archive may make a message visible after
// later ones, under an id before the cursor (ejabberd 23.01 with its SQL
// archive did, in TestSyncChaos: a message delivered live with its
// stanza-id was absent from a page read 20 ms later that held messages
// with later ids). The recheck pages by time from before the cursor, so it
// finds such a message and places it by the archive's stamp. The late
// entry is written into ejabberd's SQLite archive by the test, between two
// messages the device has already caught up on; a resumption (a cut)
// triggers the recheck.
func TestSyncRecheckLateArchived(t *testing.T) {
	t.Parallel()
	srv := xmpptest.StartEjabberd(t, xmpptest.Options{})
	for _, u := range []string{"alice", "bob"} {
		srv.CreateAccount(t, u, password)
	}
	aliceBare, bobBare := "alice@"+srv.Domain, "bob@"+srv.Domain
	proxy := xmpptest.NewProxy(t, srv.Addr())
	opts := client.SyncOptions{PageSize: 20, RecheckAfter: 50 * time.Millisecond}
	a := syOpen(t, srv, "alice", "one", proxy.Addr(), false)
	a.start(opts)
	syWait(a, "first catch-up", func(client.CatchupDone) bool { return true })
	a.stop()
	bob := syOpen(t, srv, "bob", "b", srv.Addr(), false)
	bob.start(opts)
	syWait(bob, "bob online", func(client.CatchupDone) bool { return true })
	bob.sendAll(aliceBare, []string{"before", "after"})

	db := ejArchive(t, srv)
	ctx := context.Background()
	a.start(opts)
	a.waitBodies(bobBare, 2)
	a.waitSettled()
	var stamps []int64
	rows, err := db.QueryContext(ctx, "SELECT timestamp FROM archive WHERE username = 'alice' ORDER BY timestamp")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var ts int64
		if err := rows.Scan(&ts); err != nil {
			t.Fatal(err)
		}
		stamps = append(stamps, ts)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	if len(stamps) != 2 || stamps[1]-stamps[0] < 2 {
		t.Fatalf("alice's archive: stamps %v, want two apart", stamps)
	}
	ejArchiveLate(t, db, srv, "late-1", "late", stamps[0]+(stamps[1]-stamps[0])/2)
	rechecks := syCount(a, func(d client.CatchupDone) bool { return d.Recheck })
	proxy.Cut()
	syWait(a, "a recheck after the cut", func(client.CatchupDone) bool {
		return syCount(a, func(d client.CatchupDone) bool { return d.Recheck && d.Err == nil }) > rechecks
	})
	checkExact(t, "alice", a.waitBodies(bobBare, 3), []string{"before", "late", "after"})
}

// TestSyncRecheckCoversCatchup: the recheck after a catch-up reaches back
// to where the catch-up started, not only a little before the cursor. A
// message the archive made visible late, stamped more than recheckSlack
// before the newest result of the catch-up, is found (ejabberd; in
// TestSyncChaos a recheck cut off by a connection loss was followed, on
// the resumed stream, by a plain catch-up that moved the cursor seconds
// beyond "B 0020" and "B 0021", absent from the page that held their
// neighbours: their live copies kept their arrival times and stood after
// "B 0022"–"B 0024"). The late message is written into ejabberd's SQL
// archive after the catch-up, as in TestSyncRecheckLateArchived.
func TestSyncRecheckCoversCatchup(t *testing.T) {
	t.Parallel()
	opts := client.SyncOptions{PageSize: 20, RecheckAfter: 3 * time.Second}
	srv, db, a, bob, zero := ejCursorBack(t, opts)
	aliceBare, bobBare := "alice@"+srv.Domain, "bob@"+srv.Domain

	// The catch-up reads "before" and "after"; "late", 10 s after "zero"
	// and so more than 5 s (recheckSlack) before "after", appears in the
	// archive only then.
	bob.sendAll(aliceBare, []string{"before", "after"})
	a.start(opts)
	syWait(a, "the catch-up", func(d client.CatchupDone) bool { return !d.Recheck && d.Err == nil })
	a.waitBodies(bobBare, 3)
	if gap := ejStamp(t, db, "after") - (zero + 10_000_000); gap < 10_000_000 {
		t.Fatalf("\"after\" is only %d µs after \"late\"", gap)
	}
	ejArchiveLate(t, db, srv, "late-2", "late", zero+10_000_000)
	a.waitSettled()
	checkExact(t, "alice", a.bodies(bobBare), []string{"zero", "late", "before", "after"})
}

// TestSyncRecheckAfterRestart: when Tern stops between a catch-up and its
// recheck, the recheck still runs after the next start, over the range
// that catch-up read: the range and the archive's kind of stamps are kept
// with the cursor (MAMCursor.RecheckFrom, Precise). As in
// TestSyncRecheckCoversCatchup, the late message is written into
// ejabberd's SQL archive after the catch-up; the next start finds nothing
// new, so only the stored state can send the recheck back.
func TestSyncRecheckAfterRestart(t *testing.T) {
	t.Parallel()
	quick := client.SyncOptions{PageSize: 20, RecheckAfter: 50 * time.Millisecond}
	srv, db, a, bob, zero := ejCursorBack(t, quick)
	aliceBare, bobBare := "alice@"+srv.Domain, "bob@"+srv.Domain

	// A catch-up reads "before" and "after", and Tern stops before its
	// recheck is due.
	bob.sendAll(aliceBare, []string{"before", "after"})
	a.start(client.SyncOptions{PageSize: 20, RecheckAfter: time.Hour})
	syWait(a, "the catch-up", func(d client.CatchupDone) bool { return !d.Recheck && d.Err == nil && d.Complete })
	a.waitBodies(bobBare, 3)
	a.stop()
	ejArchiveLate(t, db, srv, "late-3", "late", zero+10_000_000)

	a.start(quick)
	a.waitSettled()
	checkExact(t, "alice", a.bodies(bobBare), []string{"zero", "late", "before", "after"})
}

// TestSyncSpoofing: a carbon from a stranger and an archive result for a
// query we never sent leave the store unchanged.
func TestSyncSpoofing(t *testing.T) {
	for _, st := range starters {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			srv := st.start(t, xmpptest.Options{})
			for _, u := range []string{"alice", "bob", "mallory"} {
				srv.CreateAccount(t, u, password)
			}
			aliceBare, bobBare := "alice@"+srv.Domain, "bob@"+srv.Domain
			a := syOpen(t, srv, "alice", "one", srv.Addr(), false)
			a.start(client.SyncOptions{})
			syWait(a, "online", func(client.CatchupDone) bool { return true })
			full := a.c.Session().Info().JID.String()
			before := mtSnapshot(t, a.db, a.acct, "")
			mallory := mtDial(t, srv, "mallory", "m")
			mtSend(t, mallory, `<presence/>`)
			// A carbon claiming bob wrote to alice.
			mtSend(t, mallory, fmt.Sprintf(`<message to='%s' type='chat'><received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>`+
				`<message xmlns='jabber:client' from='%s/x' to='%s' type='chat' id='spoof1'><body>forged carbon</body></message></forwarded></received></message>`,
				full, bobBare, full))
			// An archive result for a query alice never sent.
			mtSend(t, mallory, fmt.Sprintf(`<message to='%s'><result xmlns='urn:xmpp:mam:2' queryid='q1' id='28482-98726-73623'><forwarded xmlns='urn:xmpp:forward:0'>`+
				`<delay xmlns='urn:xmpp:delay' stamp='2010-07-10T23:08:25Z'/>`+
				`<message xmlns='jabber:client' from='%s/x' to='%s' type='chat' id='spoof2'><body>forged archive</body></message></forwarded></result></message>`,
				full, bobBare, aliceBare))
			// And the same, claiming to come from alice's own archive,
			// sent by alice's other client (a result's 'from' is only
			// believed for a query we have open).
			other := mtDial(t, srv, "alice", "other")
			mtSend(t, other, fmt.Sprintf(`<message to='%s'><result xmlns='urn:xmpp:mam:2' queryid='q2' id='28482-98726-73624'><forwarded xmlns='urn:xmpp:forward:0'>`+
				`<message xmlns='jabber:client' from='%s/x' to='%s' type='chat' id='spoof3'><body>forged archive 2</body></message></forwarded></result></message>`,
				full, bobBare, aliceBare))
			a.wire.wait(t, "RECV", "spoof1")
			a.wire.wait(t, "RECV", "spoof2")
			a.wire.wait(t, "RECV", "spoof3")
			// A genuine message afterwards proves the others were processed.
			b := mtDial(t, srv, "bob", "b")
			mtSend(t, b, fmt.Sprintf(`<message to='%s' type='chat' id='real'><body>genuine</body></message>`, aliceBare))
			syWait(a, "genuine", func(r client.MessageReceived) bool { return r.Message.Body == "genuine" })
			if n := syCount(a, func(r client.MessageReceived) bool { return strings.HasPrefix(r.Message.Body, "forged") }); n != 0 {
				t.Fatalf("%d forged messages stored", n)
			}
			if got := a.bodies(bobBare); !slices.Equal(got, []string{"genuine"}) {
				t.Fatalf("conversation with bob: %q", got)
			}
			after := mtSnapshot(t, a.db, a.acct, bobBare)
			if after != before {
				t.Fatalf("store changed:\nbefore %s\nafter %s", before, after)
			}
		})
	}
}
