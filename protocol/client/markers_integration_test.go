package client_test

import (
	"context"
	"testing"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/xmpptest"
)

// syMessage returns the stored message with body text in the conversation
// with peer.
func (d *syDevice) message(peer, text string) client.Message {
	d.t.Helper()
	ctx := context.Background()
	var found client.Message
	err := d.db.View(ctx, func(tx client.Tx) error {
		convs, err := tx.Conversations(ctx, d.acct)
		if err != nil {
			return err
		}
		for _, cv := range convs {
			if cv.Peer.String() != peer {
				continue
			}
			page, err := tx.LatestPage(ctx, cv.ID, 1000)
			if err != nil {
				return err
			}
			for _, m := range page {
				if m.Text() == text {
					found = m
				}
			}
		}
		return nil
	})
	if err != nil || found.ID == 0 {
		d.t.Fatalf("%s: no message %q with %s (%v)", d.name, text, peer, err)
	}
	return found
}

// TestMarkersAcrossRestarts: a markable message read after the engine
// restarted, or one that came from the archive, is answered with a
// displayed marker (XEP-0333), and the sender sees it read; a message is
// answered once, and older ones are covered by a newer one.
func TestMarkersAcrossRestarts(t *testing.T) {
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
			bob := syOpen(t, srv, "bob", "b", srv.Addr(), false)
			for _, d := range []*syDevice{a1, bob} {
				d.start(client.SyncOptions{})
				syWait(d, "online", func(client.CatchupDone) bool { return true })
			}
			displayed := func(m client.Message) string {
				return "<displayed xmlns='urn:xmpp:chat-markers:0' id='" + m.XMLID + "'/>"
			}
			read := func(d *syDevice, text string) client.Message {
				t.Helper()
				m := d.message(bobBare, text)
				if !m.Markable {
					t.Fatalf("%s: %q not stored as markable", d.name, text)
				}
				if err := d.c.MarkRead(context.Background(), m.Conversation, m.ID); err != nil {
					t.Fatal(err)
				}
				return m
			}
			bobSees := func(text string) {
				t.Helper()
				sent := bob.message(aliceBare, text)
				syWait(bob, text+" read", func(u client.MessageUpdated) bool {
					return u.ID == sent.ID && u.State == client.StateRead
				})
			}

			// Received live, read after a restart.
			bob.sendAll(aliceBare, []string{"one", "two"})
			a1.waitBodies(bobBare, 2)
			a1.stop()
			a1.start(client.SyncOptions{})
			syWait(a1, "online again", func(client.CatchupDone) bool { return true })
			two := read(a1, "two")
			a1.wire.wait(t, "SEND", displayed(two))
			bobSees("two")
			// Read again: nothing more; "one" was covered by "two".
			read(a1, "two")
			if n := a1.wire.count("SEND", displayed(two)); n != 1 {
				t.Errorf("displayed marker for %q sent %d times, want 1", "two", n)
			}
			if n := a1.wire.count("SEND", displayed(a1.message(bobBare, "one"))); n != 0 {
				t.Errorf("a marker for %q, which %q covers", "one", "two")
			}

			// Received while alice was away; a new device of hers gets
			// it from the archive and answers it.
			a1.stop()
			bob.sendAll(aliceBare, []string{"three"})
			a1.start(client.SyncOptions{})
			a1.waitBodies(bobBare, 3)
			a2 := syOpen(t, srv, "alice", "two", srv.Addr(), false)
			a2.start(client.SyncOptions{})
			syWait(a2, "first catch-up", func(d client.CatchupDone) bool { return d.FirstSync && d.Complete })
			a2.waitBodies(bobBare, 3)
			three := read(a2, "three")
			a2.wire.wait(t, "SEND", displayed(three))
			bobSees("three")
		})
	}
}
