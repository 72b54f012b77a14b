package client_test

import (
	"cmp"
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tern-im/tern/crypto/omemo"
	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/xmpptest"
	"github.com/tern-im/tern/storage/keyring"
	"github.com/tern-im/tern/storage/sqlite"
)

// omDevice is one OMEMO device: an engine with E2EE on a store of its
// own (sealed with a real data key), which can be stopped and started
// again on the same store.
type omDevice struct {
	t        testing.TB
	name     string
	srv      *xmpptest.Server
	local    string
	resource string
	db       *sqlite.DB
	acct     client.AccountID
	own      jid.JID
	e2ee     *omemo.E2EE
	wire     *mtWire
	noE2EE   bool
	// ordered: waitTexts checks the order too (not after a catch-up);
	// skipFailed: it ignores messages that could not be decrypted (a new
	// device's first catch-up brings history not encrypted for it).
	ordered, skipFailed bool
	// waitTimeout bounds omWait (0: two minutes).
	waitTimeout time.Duration

	c      *client.Client
	cancel context.CancelFunc
	done   chan struct{}

	mu     sync.Mutex
	events []client.Event
	notify chan struct{}
}

func omOpen(t testing.TB, srv *xmpptest.Server, local, resource string) *omDevice {
	t.Helper()
	ctx := context.Background()
	master := make([]byte, 32)
	rand.Read(master)
	key, err := keyring.NewDataKey(master)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), local+"-"+resource+".db"), sqlite.Options{Sealer: key})
	if err != nil {
		t.Fatal(err)
	}
	d := &omDevice{t: t, name: local + "/" + resource, srv: srv, local: local, resource: resource, db: db,
		own: jid.MustParse(local + "@" + srv.Domain), notify: make(chan struct{}), ordered: true}
	err = db.Update(ctx, func(tx client.Tx) error {
		d.acct, err = tx.PutAccount(ctx, client.Account{JID: d.own, Enabled: true})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	d.e2ee = omemo.NewE2EE(omemo.New(d.acct, d.own, omemo.Options{}))
	t.Cleanup(func() {
		d.stop()
		db.Close()
	})
	return d
}

// start runs a new engine on the device's store and waits until its
// OMEMO device is published (unless it has no E2EE).
func (d *omDevice) start() {
	d.t.Helper()
	if d.c != nil {
		d.t.Fatalf("%s: already running", d.name)
	}
	d.wire = newMTWire()
	sc := sessionConfig(d.srv, d.local, d.resource, d.srv.Addr())
	sc.Console = d.wire
	cfg := client.Config{Session: sc, Store: d.db, Account: d.acct, MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond}
	if !d.noE2EE {
		cfg.E2EE = d.e2ee
	}
	if os.Getenv("TERN_DEBUG_OMEMO") != "" {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("dev", d.name)
	}
	d.c = client.New(cfg)
	d.c.SetSyncOptions(client.SyncOptions{PageSize: 50})
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
	if !d.noE2EE {
		r := omWait(d, "OMEMO ready", func(client.OMEMOReady) bool { return true })
		if !r.Published {
			d.t.Fatalf("%s: OMEMO device %d not published", d.name, r.Device)
		}
	}
	omWait(d, "catch-up done", func(client.CatchupDone) bool { return true })
}

// stop ends the engine (the device goes offline).
func (d *omDevice) stop() {
	if d.c == nil {
		return
	}
	d.cancel()
	<-d.done
	d.c = nil
}

// device returns the device's OMEMO id.
func (d *omDevice) device() uint32 {
	d.t.Helper()
	id, _, err := d.c.OwnFingerprint(context.Background())
	if err != nil {
		d.t.Fatal(err)
	}
	return id
}

// omWait waits for an event of type E that match accepts, reported since
// the last start.
func omWait[E client.Event](d *omDevice, what string, match func(E) bool) E {
	d.t.Helper()
	timeout := time.After(cmp.Or(d.waitTimeout, 2*mtTimeout))
	for {
		d.mu.Lock()
		events, next := d.events, d.notify
		d.mu.Unlock()
		for _, ev := range events {
			if m, ok := ev.(E); ok && match(m) {
				return m
			}
			if f, ok := ev.(client.Failed); ok {
				d.t.Fatalf("%s failed: %v", d.name, f.Err)
			}
		}
		select {
		case <-next:
		case <-timeout:
			d.t.Fatalf("%s: timed out waiting for %s", d.name, what)
		}
	}
}

// send sends body to `to` and waits until the server acknowledged it.
func (d *omDevice) send(to jid.JID, body string) client.MessageID {
	d.t.Helper()
	id, err := d.c.SendMessage(context.Background(), to, body, client.SendOptions{})
	if err != nil {
		d.t.Fatalf("%s: send: %v", d.name, err)
	}
	u := omWait(d, "message "+body+" acknowledged or failed", func(u client.MessageUpdated) bool {
		return u.ID == id && u.State >= client.StateSent
	})
	if u.State == client.StateFailed {
		d.t.Fatalf("%s: %q failed: %s", d.name, body, u.Failure)
	}
	return id
}

// messages returns the timeline with peer, oldest first.
func (d *omDevice) messages(peer jid.JID) []client.Message {
	d.t.Helper()
	ctx := context.Background()
	var out []client.Message
	err := d.db.View(ctx, func(tx client.Tx) error {
		convs, err := tx.Conversations(ctx, d.acct)
		if err != nil {
			return err
		}
		for _, cv := range convs {
			if cv.Peer == peer.Bare() {
				out, err = tx.LatestPage(ctx, cv.ID, 1000)
				return err
			}
		}
		return nil
	})
	if err != nil {
		d.t.Fatal(err)
	}
	return out
}

// waitTexts waits until the timeline with peer holds want (in order, each
// once) and checks that every message of it is encrypted.
func (d *omDevice) waitTexts(peer jid.JID, want []string) []client.Message {
	d.t.Helper()
	timeout := time.After(2 * mtTimeout)
	for {
		// The channel of the next event first, then the store: an event
		// between the two is not missed.
		d.mu.Lock()
		next := d.notify
		d.mu.Unlock()
		msgs := d.messages(peer)
		if d.skipFailed {
			msgs = slices.DeleteFunc(msgs, client.Message.DecryptFailed)
		}
		var got []string
		for _, m := range msgs {
			got = append(got, m.Text())
		}
		if len(got) >= len(want) {
			if !d.ordered {
				// Archived messages take the archive's time, which Prosody
				// gives in whole seconds: order within a second is not kept.
				got, want = slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))
			}
			if !slices.Equal(got, want) {
				for _, m := range msgs {
					if m.DecryptFailed() {
						d.t.Logf("%s: message %d from device %d not decrypted: %s", d.name, m.ID, m.SenderDevice, m.Failure)
					}
				}
			}
			omExact(d.t, d.name, got, want)
			for _, m := range msgs {
				if m.Encryption != client.EncryptionOMEMO || m.SenderDevice == 0 && m.Direction == client.Inbound {
					d.t.Fatalf("%s: message %q stored as encryption %d from device %d", d.name, m.Text(), m.Encryption, m.SenderDevice)
				}
			}
			return msgs
		}
		select {
		case <-next:
		case <-timeout:
			for _, m := range d.messages(peer) {
				d.t.Logf("%s: %d dir %d state %v enc %d dev %d xmlid %q origin %q sids %v failure %q text %q", d.name, m.ID, m.Direction, m.State,
					m.Encryption, m.SenderDevice, m.XMLID, m.OriginID, m.StanzaIDs, m.Failure, m.Text())
			}
			omExact(d.t, d.name, got, want)
			d.t.Fatalf("%s: timed out", d.name)
		}
	}
}

// noPlaintext fails when any stanza the device wrote carries one of the
// texts.
func (d *omDevice) noPlaintext(texts ...string) {
	d.t.Helper()
	for _, txt := range texts {
		if lines, _ := d.wire.matching("SEND", txt); len(lines) > 0 {
			d.t.Fatalf("%s: plaintext %q on the wire: %s", d.name, txt, lines[0])
		}
	}
}

// TestOMEMOTwoByTwo: Tern ↔ Tern with two accounts × two devices each.
// Messages go both ways encrypted; each account's other device decrypts
// the carbons of what its sibling sent and received; a device that was
// offline decrypts what it missed from the archive; no text ever goes on
// the wire in plaintext; the stored messages record OMEMO, the sending
// device and its trust.
func TestOMEMOTwoByTwo(t *testing.T) {
	for _, st := range starters {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			srv := st.start(t, xmpptest.Options{})
			for _, u := range []string{"alice", "bob"} {
				srv.CreateAccount(t, u, password)
			}
			mtSubscribe(t, srv, "alice", "bob")
			alice, bob := jid.MustParse("alice@"+srv.Domain), jid.MustParse("bob@"+srv.Domain)
			a1, a2 := omOpen(t, srv, "alice", "one"), omOpen(t, srv, "alice", "two")
			b1, b2 := omOpen(t, srv, "bob", "one"), omOpen(t, srv, "bob", "two")
			for _, d := range []*omDevice{a1, a2, b1, b2} {
				d.start()
			}
			// Each device learns its sibling from its own device list.
			for _, pair := range [][2]*omDevice{{a1, a2}, {a2, a1}, {b1, b2}, {b2, b1}} {
				sib := pair[1].device()
				omWait(pair[0], "own device list with the sibling", func(e client.DevicesChanged) bool {
					return e.Owner == pair[0].own && slices.Contains(e.Devices, sib)
				})
			}

			// And each knows both devices of the other account (from its
			// device list notifications), so that what it sends is
			// encrypted for both: a message sent before a device list
			// names a new device is, rightly, not readable there.
			for _, d := range []*omDevice{a1, a2, b1, b2} {
				peer, other := bob, []*omDevice{b1, b2}
				if d.local == "bob" {
					peer, other = alice, []*omDevice{a1, a2}
				}
				omWait(d, "the contact's two devices", func(e client.DevicesChanged) bool {
					return e.Owner == peer && slices.Contains(e.Devices, other[0].device()) && slices.Contains(e.Devices, other[1].device())
				})
			}

			round1 := []string{"alice one: hello bob", "bob one: hello alice", "alice two: and from here", "bob two: me too"}
			a1.send(bob, round1[0])
			b1.waitTexts(alice, round1[:1])
			b1.send(alice, round1[1])
			a1.waitTexts(bob, round1[:2])
			a2.send(bob, round1[2])
			b1.waitTexts(alice, round1[:3])
			b2.send(alice, round1[3])
			for _, d := range []*omDevice{a1, a2, b1, b2} {
				msgs := d.waitTexts(map[string]jid.JID{"alice": bob, "bob": alice}[d.local], round1)
				for _, m := range msgs {
					if m.Direction == client.Inbound && m.Trust != client.TrustBlind {
						t.Fatalf("%s: %q recorded with trust %d, want blind", d.name, m.Text(), m.Trust)
					}
				}
			}
			// Our own sent message is recorded as from our device.
			if m := a1.messages(bob)[0]; m.Direction != client.Outbound || m.Trust != client.TrustBlind {
				t.Fatalf("alice/one's own message: %+v", m)
			}
			if m := b2.messages(alice)[0]; m.SenderDevice != a1.device() {
				t.Fatalf("bob/two: the first message from device %d, want alice/one's %d", m.SenderDevice, a1.device())
			}

			// bob/two is offline; it catches up from the archive.
			b2.stop()
			round2 := []string{"alice one: while you were away", "bob one: I am here", "alice two: 3", "alice one: 4"}
			var sofar []string
			for i, txt := range round2 {
				from, to := map[int]*omDevice{0: a1, 1: b1, 2: a2, 3: a1}[i], alice
				if from.local == "alice" {
					to = bob
				}
				from.send(to, txt)
				sofar = append(slices.Clone(round1), round2[:i+1]...)
				// Everyone online has it before the next one is written.
				for _, d := range []*omDevice{a1, a2, b1} {
					d.waitTexts(map[string]jid.JID{"alice": bob, "bob": alice}[d.local], sofar)
				}
			}
			all := sofar
			b2.start()
			b2.ordered = false
			b2.waitTexts(alice, all)
			// What it missed came from the archive (no other copy exists:
			// its sibling was online), decrypted in the catch-up.
			if done := omWait(b2, "catch-up", func(client.CatchupDone) bool { return true }); done.New < len(round2) || done.Err != nil {
				t.Fatalf("bob/two catch-up: %+v", done)
			}
			b2.send(alice, "bob two: back")
			all = append(all, "bob two: back")
			for _, d := range []*omDevice{a1, a2, b1, b2} {
				d.waitTexts(map[string]jid.JID{"alice": bob, "bob": alice}[d.local], all)
			}
			for _, d := range []*omDevice{a1, a2, b1, b2} {
				d.noPlaintext(all...)
				if d.wire.count("SEND", "<encrypted") == 0 {
					t.Fatalf("%s: no encrypted stanza sent", d.name)
				}
			}

			// A new device of bob's, offline once published: alice's devices
			// learn it by PEP and start sessions with it; it consumes their
			// prekey messages in its catch-up, and only then replenishes its
			// prekeys, republishes its bundle and completes the sessions.
			b3 := omOpen(t, srv, "bob", "three")
			b3.start()
			b3id := b3.device()
			b3.stop()
			for _, d := range []*omDevice{a1, a2} {
				omWait(d, "bob's new device", func(e client.DevicesChanged) bool {
					return e.Owner == bob && slices.Contains(e.Devices, b3id)
				})
			}
			late := []string{"alice one: welcome three", "alice two: welcome from here too"}
			a1.send(bob, late[0])
			b1.waitTexts(alice, append(slices.Clone(all), late[0]))
			a2.send(bob, late[1])
			b1.waitTexts(alice, append(slices.Clone(all), late...))
			b3.start()
			// Its first catch-up brought the history from before it
			// existed: visible failures, not encrypted for this device.
			timeout := time.After(2 * mtTimeout)
			for {
				b3.mu.Lock()
				next := b3.notify
				b3.mu.Unlock()
				var got []string
				failed := 0
				for _, m := range b3.messages(alice) {
					switch {
					case m.DecryptFailed():
						if !strings.Contains(m.Failure, "not encrypted for this device") {
							t.Fatalf("bob/three: failure %q", m.Failure)
						}
						failed++
					case m.Encryption != client.EncryptionOMEMO:
						t.Fatalf("bob/three: %q not encrypted", m.Text())
					default:
						got = append(got, m.Text())
					}
				}
				if len(got)+failed >= len(late)+len(all) {
					omExact(t, "bob/three", slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(late)))
					if failed != len(all) {
						t.Fatalf("bob/three: %d failures, want %d", failed, len(all))
					}
					break
				}
				select {
				case <-next:
				case <-timeout:
					for _, m := range b3.messages(alice) {
						t.Logf("bob/three: %d dir %d state %v enc %d dev %d failure %q body %q", m.ID, m.Direction, m.State, m.Encryption, m.SenderDevice, m.Failure, m.Body)
					}
					t.Fatalf("bob/three: decrypted %q, %d failures; want %q and %d", got, failed, late, len(all))
				}
			}
			// The two prekey messages came in the catch-up; the work they
			// caused came after it.
			sentKT := func() int { return b3.wire.count("SEND", "<encrypted", "to='"+alice.String()+"'") }
			b3.wire.waitMore(t, 0, "SEND", "<encrypted", "to='"+alice.String()+"'")
			b3.wire.waitMore(t, 1, "SEND", "<publish", "axolotl.bundles")
			lines, _ := b3.wire.matching("SEND")
			lastQuery, firstKT, lastPublish := -1, -1, -1
			for i, l := range lines {
				switch {
				case strings.Contains(l, "urn:xmpp:mam:2"):
					lastQuery = i
				case strings.Contains(l, "<encrypted") && firstKT < 0:
					firstKT = i
				case strings.Contains(l, "<publish") && strings.Contains(l, "axolotl.bundles"):
					lastPublish = i
				}
			}
			if lastQuery < 0 || firstKT < lastQuery || lastPublish < lastQuery {
				t.Fatalf("bob/three: last archive query at %d, first key transport at %d, last bundle publish at %d", lastQuery, firstKT, lastPublish)
			}
			if n := sentKT(); n == 0 {
				t.Fatal("bob/three sent no key transport")
			}
			ctx := context.Background()
			err := b3.db.View(ctx, func(tx client.Tx) error {
				pks, err := tx.(omemo.Store).PreKeys(ctx, b3.acct)
				if err == nil && len(pks) != omemo.DefaultPreKeys {
					err = fmt.Errorf("%d prekeys after replenishment", len(pks))
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestOMEMONoDeviceFails: with encryption required, a message to a
// contact without OMEMO fails visibly with the reason; nothing with its
// text goes out. Our own other device does not count as a recipient.
func TestOMEMONoDeviceFails(t *testing.T) {
	srv := xmpptest.StartProsody(t, xmpptest.Options{})
	for _, u := range []string{"alice", "carol"} {
		srv.CreateAccount(t, u, password)
	}
	carolJID := jid.MustParse("carol@" + srv.Domain)
	a1, a2 := omOpen(t, srv, "alice", "one"), omOpen(t, srv, "alice", "two")
	carol := omOpen(t, srv, "carol", "plain")
	carol.noE2EE = true
	a1.start()
	a2.start()
	carol.start()
	sib := a2.device()
	omWait(a1, "own device list with the sibling", func(e client.DevicesChanged) bool {
		return e.Owner == a1.own && slices.Contains(e.Devices, sib)
	})

	// The default policy: carol publishes no devices, so plaintext.
	a1.send(carolJID, "plain is fine here")
	carol.waitBody("plain is fine here")

	ctx := context.Background()
	conv := a1.messages(carolJID)[0].Conversation
	if err := a1.c.SetEncryption(ctx, conv, client.EncryptionRequired); err != nil {
		t.Fatal(err)
	}
	const secret = "this must never travel in plaintext"
	id, err := a1.c.SendMessage(ctx, carolJID, secret, client.SendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	u := omWait(a1, "the message failed", func(u client.MessageUpdated) bool { return u.ID == id && u.State == client.StateFailed })
	if !strings.Contains(u.Failure, "no trusted OMEMO device") {
		t.Fatalf("failure %q", u.Failure)
	}
	if m := a1.message(id); m.State != client.StateFailed || m.Failure != u.Failure {
		t.Fatalf("stored: %+v", m)
	}
	// Retrying fails the same way; nothing left in the outbox.
	if err := a1.c.Retry(ctx, id); err == nil {
		t.Fatal("retry succeeded")
	}
	a1.barrier()
	a1.noPlaintext(secret)
	err = a1.db.View(ctx, func(tx client.Tx) error {
		items, err := tx.Outbox(ctx, a1.acct)
		if len(items) != 0 {
			return fmt.Errorf("outbox holds %d items", len(items))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if carol.wire.count("RECV", secret) != 0 || a2.wire.count("RECV", secret) != 0 {
		t.Fatal("the secret arrived somewhere")
	}
}

// message returns a stored message.
func (d *omDevice) message(id client.MessageID) client.Message {
	d.t.Helper()
	m, err := d.db.Message(context.Background(), id)
	if err != nil {
		d.t.Fatal(err)
	}
	return m
}

// barrier returns once everything queued before was written.
func (d *omDevice) barrier() {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), mtTimeout)
	defer cancel()
	if _, err := d.c.SendIQ(ctx, xmlstream.New("jabber:client", "iq", "type", "get").Append(xmlstream.New("urn:xmpp:ping", "ping"))); err != nil {
		d.t.Fatalf("%s: ping: %v", d.name, err)
	}
}

// waitBody waits for a received message with this text.
func (d *omDevice) waitBody(body string) client.Message {
	d.t.Helper()
	return omWait(d, "message "+body, func(r client.MessageReceived) bool { return r.Message.Text() == body }).Message
}

// TestOMEMOSpoofedDeviceList: a device-list notification sent by anyone
// but the list's owner (its PEP service, the bare JID) is ignored.
func TestOMEMOSpoofedDeviceList(t *testing.T) {
	srv := xmpptest.StartProsody(t, xmpptest.Options{})
	for _, u := range []string{"alice", "mallory"} {
		srv.CreateAccount(t, u, password)
	}
	a1 := omOpen(t, srv, "alice", "one")
	mallory := omOpen(t, srv, "mallory", "evil")
	mallory.noE2EE = true
	a1.start()
	mallory.start()
	ctx := context.Background()
	// A notification "from" mallory's client: the server stamps the full
	// JID, which no PEP service has.
	spoof := fmt.Sprintf(`<message xmlns='jabber:client' to='%s' type='headline' id='spoof1'>`+
		`<event xmlns='http://jabber.org/protocol/pubsub#event'><items node='eu.siacs.conversations.axolotl.devicelist'>`+
		`<item id='current'><list xmlns='eu.siacs.conversations.axolotl'><device id='4242'/><device id='%d'/></list></item>`+
		`</items></event></message>`, a1.own, 777)
	el, err := xmlstream.Parse([]byte(spoof))
	if err != nil {
		t.Fatal(err)
	}
	if err := mallory.c.Send(ctx, el); err != nil {
		t.Fatal(err)
	}
	a1.wire.wait(t, "RECV", "spoof1")
	a1.barrier()
	for _, owner := range []jid.JID{mallory.own, a1.own} {
		err := a1.db.View(ctx, func(tx client.Tx) error {
			devs, err := a1.e2ee.Devices(ctx, tx, owner)
			for _, d := range devs {
				if d.Device == 4242 || d.Device == 777 {
					return fmt.Errorf("%s: spoofed device %d recorded", owner, d.Device)
				}
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	a1.mu.Lock()
	defer a1.mu.Unlock()
	for _, ev := range a1.events {
		if dc, ok := ev.(client.DevicesChanged); ok && dc.Owner != a1.own {
			t.Fatalf("a device list of %s was accepted", dc.Owner)
		}
	}
}

// TestOMEMORepair: when alice loses her session with bob's device, bob's
// next message is stored as a visible decryption failure with a repair;
// Repair builds a new session and tells bob's device, and bob's next
// message decrypts.
func TestOMEMORepair(t *testing.T) {
	srv := xmpptest.StartProsody(t, xmpptest.Options{})
	for _, u := range []string{"alice", "bob"} {
		srv.CreateAccount(t, u, password)
	}
	alice, bob := jid.MustParse("alice@"+srv.Domain), jid.MustParse("bob@"+srv.Domain)
	a1, b1 := omOpen(t, srv, "alice", "one"), omOpen(t, srv, "bob", "one")
	a1.start()
	b1.start()
	a1.send(bob, "hi")
	b1.waitBody("hi")
	b1.send(alice, "hello")
	a1.waitBody("hello")

	// alice's session with bob's device is lost.
	ctx := context.Background()
	bobDevice := b1.device()
	err := a1.db.Update(ctx, func(tx client.Tx) error {
		return tx.(omemo.Store).DeleteSession(ctx, a1.acct, omemo.Address{JID: bob, Device: bobDevice})
	})
	if err != nil {
		t.Fatal(err)
	}
	b1.send(alice, "lost in the void")
	f := omWait(a1, "a decryption failure", func(client.DecryptionFailed) bool { return true })
	if f.Device != bobDevice || f.Repair != client.RepairNewSession || !strings.Contains(f.Reason, "no session") {
		t.Fatalf("failure: %+v", f)
	}
	m := a1.message(f.Message)
	if !m.DecryptFailed() || m.Body != "" || m.Direction != client.Inbound || m.SenderDevice != bobDevice {
		t.Fatalf("stored failure: %+v", m)
	}
	if strings.Contains(m.Body, "OMEMO") {
		t.Fatal("the fallback body was stored")
	}
	sentByBob := b1.wire.count("SEND", "<encrypted")
	if err := a1.c.Repair(ctx, f.Message); err != nil {
		t.Fatal(err)
	}
	// bob's device gets the key transport, which starts a new session, and
	// completes it with a key transport of its own; then it writes again.
	b1.wire.waitMore(t, sentByBob, "SEND", "<encrypted")
	b1.send(alice, "healed")
	got := a1.waitBody("healed")
	if got.Encryption != client.EncryptionOMEMO || got.SenderDevice != bobDevice {
		t.Fatalf("healed message: %+v", got)
	}
	if err := a1.c.Repair(ctx, got.ID); err == nil {
		t.Fatal("repairing a message that decrypted succeeded")
	}
}

// omNumbered returns texts prefix 0000, prefix 0001, … for from ≤ i < to.
func omNumbered(prefix string, from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("%s %04d", prefix, i))
	}
	return out
}

// omExact fails unless got is want, in order, each once.
func omExact(t testing.TB, who string, got, want []string) {
	t.Helper()
	if slices.Equal(got, want) {
		return
	}
	n := min(len(got), len(want))
	first := n
	for i := range n {
		if got[i] != want[i] {
			first = i
			break
		}
	}
	lo, hi := max(first-2, 0), min(first+3, n)
	t.Fatalf("%s: %d messages, want %d; first difference at %d: got %q, want %q", who, len(got), len(want), first, got[lo:min(hi, len(got))], want[lo:min(hi, len(want))])
}
