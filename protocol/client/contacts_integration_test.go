package client_test

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/tern-im/tern/protocol/avatar"
	"github.com/tern-im/tern/protocol/blocking"
	"github.com/tern-im/tern/protocol/caps"
	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/csi"
	"github.com/tern-im/tern/protocol/disco"
	"github.com/tern-im/tern/protocol/entitytime"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/ping"
	"github.com/tern-im/tern/protocol/presence"
	"github.com/tern-im/tern/protocol/register"
	"github.com/tern-im/tern/protocol/roster"
	"github.com/tern-im/tern/protocol/sasl"
	"github.com/tern-im/tern/protocol/stanza"
	"github.com/tern-im/tern/protocol/vcard"
	"github.com/tern-im/tern/protocol/version"
	"github.com/tern-im/tern/protocol/xmpptest"
)

const (
	nsRosterVer   = "urn:xmpp:features:rosterver"
	nsPreApproval = "urn:xmpp:features:pre-approval"
	ternNode      = "https://tern.im"
	nsPubSub      = "http://jabber.org/protocol/pubsub"
)

// TestContactsEndToEnd drives the contact features through the engine's
// API with alice on two clients (a1, a2), bob and carol, asserting the
// stanzas on the wire, the events and the stores: roster (with
// versioning), subscriptions (never approved by themselves), presence,
// entity capabilities, vCard and avatars, blocking, entity time, client
// state indication and what a new session restores.
func TestContactsEndToEnd(t *testing.T) {
	for _, st := range starters {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			srv := st.start(t, xmpptest.Options{})
			for _, u := range []string{"alice", "bob", "carol"} {
				srv.CreateAccount(t, u, password)
			}
			a1 := ctStart(t, srv, "alice", "a1")
			a2 := ctStart(t, srv, "alice", "a2")
			bob := ctStart(t, srv, "bob", "b")
			carol := ctStart(t, srv, "carol", "c")
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
			defer cancel()
			alice := a1.bare
			must := func(what string, err error) {
				t.Helper()
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
			}
			// noSelfApproval checks that p never approved a subscription
			// of from: after a round trip to the server, anything p's
			// handlers sent is on the wire.
			noSelfApproval := func(p *ctPeer, from jid.JID) {
				t.Helper()
				must("ping", ping.Ping(ctx, p.c, jid.JID{}))
				if sent := p.con.find("SEND", 0, isPresence(presence.TypeSubscribed, from.String())); len(sent) > 0 {
					t.Errorf("%s approved %s's subscription by itself: %s", p.name, from, sent[0])
				}
			}
			itemWith := func(j jid.JID, f func(client.RosterItem) bool) func(client.RosterChanged) bool {
				return func(e client.RosterChanged) bool {
					return slices.ContainsFunc(e.Items, func(it client.RosterItem) bool { return it.JID == j && f(it) })
				}
			}

			// Adding a contact: a roster set, then a subscription request
			// (RFC 6121 §2.3, §3.1.1); both of alice's clients get the
			// pushes.
			m1, m2, mb, w1 := a1.ev.mark(), a2.ev.mark(), bob.ev.mark(), a1.con.mark()
			must("add contact", a1.c.AddContact(ctx, bob.bare, "Bob", []string{"Friends"}))
			set := a1.con.wait(t, "roster set", "SEND", w1, isIQ(stanza.TypeSet, roster.NS, "query"))
			if it := set.Child(roster.NS, "query").Child(roster.NS, "item"); it == nil || it.Get("jid") != bob.bare.String() ||
				it.Get("name") != "Bob" || it.ChildText(roster.NS, "group") != "Friends" || it.Get("subscription") != "" {
				t.Errorf("roster set on the wire: %s", set)
			}
			a1.con.wait(t, "subscription request", "SEND", w1, isPresence(presence.TypeSubscribe, bob.bare.String()))
			asked := itemWith(bob.bare, func(it client.RosterItem) bool { return it.Ask })
			ctWait(t, a1, m1, asked)
			ctWait(t, a2, m2, asked)
			for _, p := range []*ctPeer{a1, a2} {
				_, items := p.roster()
				if it := items[bob.bare]; it.Name != "Bob" || !slices.Equal(it.Groups, []string{"Friends"}) ||
					it.Subscription != client.SubscriptionNone || !it.Ask {
					t.Errorf("%s: stored item %+v", p.name, it)
				}
			}
			ctWait(t, bob, mb, func(e client.SubscriptionRequested) bool { return e.Request.JID == alice })
			if _, ok := bob.requests()[alice]; !ok {
				t.Errorf("bob did not store alice's request: %v", bob.requests())
			}

			// A request from a contact we asked ourselves (a roster item
			// with ask='subscribe') is not approved either.
			m1, mc := a1.ev.mark(), carol.ev.mark()
			must("add carol", a1.c.AddContact(ctx, carol.bare, "Carol", nil))
			ctWait(t, a1, m1, itemWith(carol.bare, func(it client.RosterItem) bool { return it.Ask }))
			ctWait(t, carol, mc, func(e client.SubscriptionRequested) bool { return e.Request.JID == alice })
			m1, m2 = a1.ev.mark(), a2.ev.mark()
			must("carol adds alice", carol.c.AddContact(ctx, alice, "", nil))
			fromCarol := func(e client.SubscriptionRequested) bool { return e.Request.JID == carol.bare }
			ctWait(t, a1, m1, fromCarol)
			ctWait(t, a2, m2, fromCarol)
			noSelfApproval(a1, carol.bare)
			noSelfApproval(a2, carol.bare)
			noSelfApproval(carol, alice)
			noSelfApproval(bob, alice)

			// Unanswered requests survive a restart.
			bob.restart()
			if _, ok := bob.requests()[alice]; !ok {
				t.Fatalf("alice's request is gone after bob's restart: %v", bob.requests())
			}

			// Approving: bob sends subscribed; alice's clients get the
			// roster push and bob's presence.
			m1, m2, mb = a1.ev.mark(), a2.ev.mark(), bob.ev.mark()
			wb := bob.con.mark()
			must("approve", bob.c.ApproveSubscription(ctx, alice))
			bob.con.wait(t, "approval", "SEND", wb, isPresence(presence.TypeSubscribed, alice.String()))
			ctWait(t, bob, mb, func(e client.SubscriptionRequestRemoved) bool { return e.JID == alice })
			ctWait(t, bob, mb, itemWith(alice, func(it client.RosterItem) bool { return it.Subscription == client.SubscriptionFrom }))
			if _, ok := bob.requests()[alice]; ok {
				t.Error("bob still stores alice's request after approving it")
			}
			ctWait(t, a1, m1, func(e client.SubscriptionUpdate) bool {
				return e.JID == bob.bare && e.Type == presence.TypeSubscribed
			})
			ctWait(t, a1, m1, itemWith(bob.bare, func(it client.RosterItem) bool {
				return it.Subscription == client.SubscriptionTo && !it.Ask
			}))
			bobOnline := func(e client.PresenceChanged) bool { return e.Available && e.Presence.JID == bob.jid }
			ctWait(t, a1, m1, bobOnline)
			ctWait(t, a2, m2, bobOnline)
			if _, items := a1.roster(); items[bob.bare].Subscription != client.SubscriptionTo {
				t.Errorf("alice's stored item for bob: %+v", items[bob.bare])
			}

			// Entity capabilities: bob advertises Tern's caps. Alice knows
			// them already (her other client has the same) or asks bob:
			// either way she asked for node#ver once, verified the hash
			// and cached the answer by it.
			bobPres := bob.con.find("SEND", 0, isBroadcast)
			bobCaps, err := caps.Parse(bobPres[len(bobPres)-1])
			if err != nil || bobCaps.Node != ternNode || bobCaps.Hash != caps.HashSHA1 {
				t.Fatalf("bob's caps: %+v, %v", bobCaps, err)
			}
			if !a1.c.ContactSupports(bob.jid, entitytime.NS) {
				ctWait(t, a1, m1, func(e client.CapsResolved) bool { return e.JID == bob.jid && e.Verified })
			}
			if q := a1.con.find("SEND", 0, func(el *xmlstream.Element) bool {
				q := el.Child(disco.NSInfo, "query")
				return el.Name.Local == "iq" && el.Get("type") == stanza.TypeGet && q != nil && q.Get("node") == bobCaps.InfoNode()
			}); len(q) != 1 {
				t.Errorf("alice asked for Tern's node#ver %d times, want once", len(q))
			}
			if a1.discoInfo(caps.HashSHA1, bobCaps.Ver) == nil {
				t.Error("bob's verified disco#info is not cached by its hash")
			}
			for _, f := range []string{entitytime.NS, ping.NS, avatar.NSMetadataNotify, disco.NSInfo, caps.NS} {
				if !a1.c.ContactSupports(bob.jid, f) || !a1.c.ContactSupports(bob.bare, f) {
					t.Errorf("ContactSupports(bob, %s) = false", f)
				}
			}
			if a1.c.ContactSupports(bob.jid, "urn:example:unsupported") {
				t.Error("ContactSupports reports a feature bob does not have")
			}

			// Presence with show, status and priority (RFC 6121 §4.7).
			m1, m2, wb = a1.ev.mark(), a2.ev.mark(), bob.con.mark()
			must("set presence", bob.c.SetPresence(ctx, presence.ShowAway, "at lunch", 5))
			sent := bob.con.wait(t, "presence", "SEND", wb, func(el *xmlstream.Element) bool {
				return isBroadcast(el) && el.ChildText(stanza.NSClient, "show") != ""
			})
			if sent.ChildText(stanza.NSClient, "show") != "away" || sent.ChildText(stanza.NSClient, "status") != "at lunch" ||
				sent.ChildText(stanza.NSClient, "priority") != "5" || sent.Child(caps.NS, "c") == nil || sent.Child(avatar.NSUpdate, "x") == nil {
				t.Errorf("bob's presence on the wire: %s", sent)
			}
			away := func(e client.PresenceChanged) bool {
				return e.Available && e.Presence.JID == bob.jid && e.Presence.Show == presence.ShowAway
			}
			got := ctWait(t, a1, m1, away)
			if got.Presence.Status != "at lunch" || got.Presence.Priority != 5 || got.Presence.Node != ternNode {
				t.Errorf("alice saw %+v", got.Presence)
			}
			ctWait(t, a2, m2, away)
			if ps := a1.c.Presences(bob.bare); len(ps) != 1 || ps[0].JID != bob.jid || ps[0].Show != presence.ShowAway {
				t.Errorf("Presences(bob) = %+v", ps)
			}
			if err := bob.c.SetPresence(ctx, "sleeping", "", 0); !errors.Is(err, client.ErrInvalidShow) {
				t.Errorf("SetPresence with an invalid show: %v", err)
			}

			// Our other client's presence is tracked too.
			m1 = a1.ev.mark()
			must("a2 presence", a2.c.SetPresence(ctx, presence.ShowDND, "busy", -1))
			ctWait(t, a1, m1, func(e client.PresenceChanged) bool {
				return e.Available && e.Presence.JID == a2.jid && e.Presence.Show == presence.ShowDND && e.Presence.Priority == -1
			})
			if ps := a1.c.Presences(alice); !slices.ContainsFunc(ps, func(p client.ResourcePresence) bool { return p.JID == a2.jid }) {
				t.Errorf("Presences(alice) = %+v, want a2", ps)
			}

			// Renaming and regrouping keep the other attribute.
			m1, m2 = a1.ev.mark(), a2.ev.mark()
			must("rename", a1.c.RenameContact(ctx, bob.bare, "Robert"))
			renamed := itemWith(bob.bare, func(it client.RosterItem) bool { return it.Name == "Robert" })
			ctWait(t, a1, m1, renamed)
			ctWait(t, a2, m2, renamed)
			m2 = a2.ev.mark()
			must("set groups", a1.c.SetGroups(ctx, bob.bare, []string{"Work", "Friends"}))
			ctWait(t, a2, m2, itemWith(bob.bare, func(it client.RosterItem) bool { return len(it.Groups) == 2 }))
			if _, items := a2.roster(); items[bob.bare].Name != "Robert" || !slices.Equal(items[bob.bare].Groups, []string{"Friends", "Work"}) {
				t.Errorf("a2's stored item for bob: %+v", items[bob.bare])
			}
			if err := a1.c.RenameContact(ctx, jid.MustParse("nobody@"+srv.Domain), "x"); !errors.Is(err, client.ErrNotInRoster) {
				t.Errorf("renaming a stranger: %v", err)
			}

			// vCard (XEP-0054).
			wb = bob.con.mark()
			must("set vcard", bob.c.SetVCard(ctx, client.VCard{FN: "Bob Builder", Nickname: "bob"}))
			bob.con.wait(t, "vCard set", "SEND", wb, isIQ(stanza.TypeSet, vcard.NS, "vCard"))
			v, err := a1.c.GetVCard(ctx, bob.bare)
			if err != nil || v.FN != "Bob Builder" || v.Nickname != "bob" {
				t.Errorf("bob's vCard: %+v, %v", v, err)
			}
			if v, err := a1.c.GetVCard(ctx, carol.bare); err != nil || v.FN != "" {
				t.Errorf("carol's (absent) vCard: %+v, %v", v, err)
			}

			// Avatars: bob publishes one (XEP-0084 in PEP, XEP-0153 in his
			// vCard and presence); alice, who asked for metadata
			// notifications (+notify), stores it. Bob subscribes to alice
			// first: his PEP service learns her interest from her presence.
			m1 = a1.ev.mark()
			must("bob subscribes", bob.c.RequestSubscription(ctx, alice))
			ctWait(t, a1, m1, func(e client.SubscriptionRequested) bool { return e.Request.JID == bob.bare })
			must("alice approves", a1.c.ApproveSubscription(ctx, bob.bare))
			ctWait(t, a1, m1, itemWith(bob.bare, func(it client.RosterItem) bool { return it.Subscription == client.SubscriptionBoth }))
			img := ctPNG(t, 64, 64, 1)
			hash := avatar.ID(img)
			m1, w1, wb = a1.ev.mark(), a1.con.mark(), bob.con.mark()
			must("set avatar", bob.c.SetAvatar(ctx, img))
			for _, node := range []string{avatar.NSData, avatar.NSMetadata} {
				bob.con.wait(t, "publish "+node, "SEND", wb, func(el *xmlstream.Element) bool {
					ps := el.Child("http://jabber.org/protocol/pubsub", "pubsub")
					return ps != nil && ps.Child("http://jabber.org/protocol/pubsub", "publish") != nil &&
						ps.Child("http://jabber.org/protocol/pubsub", "publish").Get("node") == node
				})
			}
			bob.con.wait(t, "presence with the photo hash", "SEND", wb, func(el *xmlstream.Element) bool {
				u, err := avatar.ParseUpdate(el)
				return isBroadcast(el) && err == nil && u.Hash == hash
			})
			ctWait(t, a1, m1, func(e client.AvatarChanged) bool { return e.JID == bob.bare && e.Hash == hash })
			if h, a := a1.contactAvatar(bob.bare); h != hash || !bytes.Equal(a.Data, img) || a.Width != 64 || a.Height != 64 || a.MediaType != "image/png" {
				t.Errorf("alice's stored avatar of bob: %q %dx%d %s", h, a.Width, a.Height, a.MediaType)
			}
			if h, _ := bob.contactAvatar(bob.bare); h != hash {
				t.Errorf("bob's own stored avatar: %q", h)
			}
			a1.con.wait(t, "PEP notification", "RECV", w1, func(el *xmlstream.Element) bool {
				ev := el.Child("http://jabber.org/protocol/pubsub#event", "event")
				return el.Name.Local == "message" && el.Get("from") == bob.bare.String() && ev != nil &&
					ev.Child("http://jabber.org/protocol/pubsub#event", "items") != nil &&
					ev.Child("http://jabber.org/protocol/pubsub#event", "items").Get("node") == avatar.NSMetadata
			})

			// Cancelling and unsubscribing: alice revokes bob's
			// subscription, then drops her own.
			m1, mb, w1 = a1.ev.mark(), bob.ev.mark(), a1.con.mark()
			must("cancel", a1.c.CancelSubscription(ctx, bob.bare))
			a1.con.wait(t, "cancellation", "SEND", w1, isPresence(presence.TypeUnsubscribed, bob.bare.String()))
			ctWait(t, bob, mb, func(e client.SubscriptionUpdate) bool {
				return e.JID == alice && e.Type == presence.TypeUnsubscribed
			})
			ctWait(t, a1, m1, itemWith(bob.bare, func(it client.RosterItem) bool { return it.Subscription == client.SubscriptionTo }))
			m1, mb, w1 = a1.ev.mark(), bob.ev.mark(), a1.con.mark()
			must("unsubscribe", a1.c.Unsubscribe(ctx, bob.bare))
			a1.con.wait(t, "unsubscription", "SEND", w1, isPresence(presence.TypeUnsubscribe, bob.bare.String()))
			ctWait(t, bob, mb, func(e client.SubscriptionUpdate) bool {
				return e.JID == alice && e.Type == presence.TypeUnsubscribe
			})
			ctWait(t, a1, m1, itemWith(bob.bare, func(it client.RosterItem) bool { return it.Subscription == client.SubscriptionNone }))
			ctWait(t, a1, m1, func(e client.PresenceChanged) bool { return !e.Available && e.Presence.JID.Bare() == bob.bare })
			if ps := a1.c.Presences(bob.bare); len(ps) != 0 {
				t.Errorf("bob's presence is still tracked after unsubscribing: %+v", ps)
			}

			// Denying carol's request.
			m1, mc, w1 = a1.ev.mark(), carol.ev.mark(), a1.con.mark()
			must("deny", a1.c.DenySubscription(ctx, carol.bare))
			a1.con.wait(t, "denial", "SEND", w1, isPresence(presence.TypeUnsubscribed, carol.bare.String()))
			ctWait(t, a1, m1, func(e client.SubscriptionRequestRemoved) bool { return e.JID == carol.bare })
			if _, ok := a1.requests()[carol.bare]; ok {
				t.Error("a1 still stores carol's request after denying it")
			}
			ctWait(t, carol, mc, func(e client.SubscriptionUpdate) bool {
				return e.JID == alice && e.Type == presence.TypeUnsubscribed
			})
			ctWait(t, carol, mc, itemWith(alice, func(it client.RosterItem) bool { return !it.Ask }))

			// Pre-approval (RFC 6121 §3.4), where the server offers it.
			if slices.Contains(a1.c.Session().Info().ServerFeatures, nsPreApproval) {
				m1, mc, w1 = a1.ev.mark(), carol.ev.mark(), a1.con.mark()
				must("pre-approve", a1.c.PreApprove(ctx, carol.bare))
				a1.con.wait(t, "pre-approval", "SEND", w1, isPresence(presence.TypeSubscribed, carol.bare.String()))
				must("carol asks again", carol.c.RequestSubscription(ctx, alice))
				ctWait(t, carol, mc, func(e client.SubscriptionUpdate) bool {
					return e.JID == alice && e.Type == presence.TypeSubscribed
				})
				ctWait(t, a1, m1, itemWith(carol.bare, func(it client.RosterItem) bool {
					return it.Subscription == client.SubscriptionFrom || it.Subscription == client.SubscriptionBoth
				}))
				// Prosody 0.12 delivers the request as well; the push that
				// shows it approved takes it off the user's list.
				if _, ok := a1.requests()[carol.bare]; ok {
					t.Error("a pre-approved request is left for the user to answer")
				}
				if n := len(a1.con.find("SEND", w1, isPresence(presence.TypeSubscribed, carol.bare.String()))); n != 1 {
					t.Errorf("alice sent %d approvals to carol, want the one pre-approval", n)
				}
			} else if err := a1.c.PreApprove(ctx, carol.bare); !errors.Is(err, client.ErrNotSupported) {
				t.Errorf("PreApprove without server support: %v", err)
			} else {
				t.Logf("%s does not offer pre-approval", st.name)
			}

			// Blocking (XEP-0191): both of alice's clients follow.
			m2, w1 = a2.ev.mark(), a1.con.mark()
			must("block", a1.c.Block(ctx, carol.bare))
			blk := a1.con.wait(t, "block", "SEND", w1, isIQ(stanza.TypeSet, blocking.NS, "block"))
			if it := blk.Child(blocking.NS, "block").Child(blocking.NS, "item"); it == nil || it.Get("jid") != carol.bare.String() {
				t.Errorf("block on the wire: %s", blk)
			}
			if l := a1.blocklist(); !slices.Equal(l, []jid.JID{carol.bare}) {
				t.Errorf("a1's stored block list: %v", l)
			}
			ctWait(t, a2, m2, func(e client.BlocklistChanged) bool { return slices.Equal(e.JIDs, []jid.JID{carol.bare}) })
			if l := a2.blocklist(); !slices.Equal(l, []jid.JID{carol.bare}) {
				t.Errorf("a2's stored block list: %v", l)
			}
			if !a2.c.Blocked(carol.jid) || a2.c.Blocked(bob.jid) {
				t.Errorf("Blocked: carol %v, bob %v", a2.c.Blocked(carol.jid), a2.c.Blocked(bob.jid))
			}
			// Changes made while a client is away are fetched on its next
			// session.
			a2.stop()
			must("unblock", a1.c.Unblock(ctx, carol.bare))
			must("block bob", a1.c.Block(ctx, bob.bare))
			if l := a1.blocklist(); !slices.Equal(l, []jid.JID{bob.bare}) {
				t.Errorf("a1's stored block list: %v", l)
			}
			a2.start()
			ctWait(t, a2, 0, func(e client.BlocklistChanged) bool { return slices.Equal(e.JIDs, []jid.JID{bob.bare}) })
			if l := a2.blocklist(); !slices.Equal(l, []jid.JID{bob.bare}) {
				t.Errorf("a2's block list after its new session: %v", l)
			}
			m2 = a2.ev.mark()
			must("unblock all", a1.c.UnblockAll(ctx))
			ctWait(t, a2, m2, func(e client.BlocklistChanged) bool { return len(e.JIDs) == 0 })
			if l := a1.blocklist(); len(l) != 0 {
				t.Errorf("a1's block list after unblocking all: %v", l)
			}

			// Our side of entity time (XEP-0202) and service discovery
			// (XEP-0030, XEP-0115), asked by bob.
			res, err := bob.c.SendIQ(ctx, entitytime.Request(a1.jid))
			must("entity time", err)
			if tm, err := entitytime.Parse(res); err != nil || time.Since(tm.UTC).Abs() > time.Minute {
				t.Errorf("alice's time: %+v, %v", tm, err)
			}
			a1Pres := a1.con.find("SEND", 0, isBroadcast)
			a1Caps, err := caps.Parse(a1Pres[len(a1Pres)-1])
			must("a1 caps", err)
			for _, node := range []string{"", a1Caps.InfoNode()} {
				res, err := bob.c.SendIQ(ctx, disco.InfoRequest(a1.jid, node))
				must("disco#info", err)
				info, err := disco.ParseInfo(res)
				must("disco#info", err)
				if info.Node != node || !info.HasIdentity("client", "pc") {
					t.Errorf("disco#info at %q: %+v", node, info)
				}
				for _, f := range []string{entitytime.NS, ping.NS, version.NS, caps.NS, avatar.NSMetadataNotify, disco.NSInfo} {
					if !info.HasFeature(f) {
						t.Errorf("disco#info at %q lacks %s", node, f)
					}
				}
				if !caps.Verify(ctCapsInfo(info), caps.HashSHA1, a1Caps.Ver) {
					t.Errorf("alice's disco#info does not match the ver she advertises")
				}
			}
			if _, err := bob.c.SendIQ(ctx, disco.InfoRequest(a1.jid, "urn:example:node")); !errors.Is(err, stanza.ErrItemNotFound) {
				t.Errorf("disco#info of an unknown node: %v", err)
			}

			// Unavailable presence from our other client.
			m1, w2 := a1.ev.mark(), a2.con.mark()
			must("unavailable", a2.c.SetUnavailable(ctx, "gone"))
			if el := a2.con.wait(t, "unavailable", "SEND", w2, isPresence(presence.TypeUnavailable, "")); el.ChildText(stanza.NSClient, "status") != "gone" {
				t.Errorf("unavailable presence on the wire: %s", el)
			}
			ctWait(t, a1, m1, func(e client.PresenceChanged) bool { return !e.Available && e.Presence.JID == a2.jid })
			if slices.ContainsFunc(a1.c.Presences(alice), func(p client.ResourcePresence) bool { return p.JID == a2.jid }) {
				t.Error("a2 is still tracked after going unavailable")
			}

			// Directed presence, and a presence error: a directed presence
			// to a domain the server cannot reach bounces.
			m1, w1 = a1.ev.mark(), a1.con.mark()
			nowhere := jid.MustParse("someone@nowhere.invalid")
			must("directed presence", a1.c.SendDirectedPresence(ctx, nowhere, true))
			if el := a1.con.wait(t, "directed presence", "SEND", w1, isPresence("", nowhere.String())); el.Child(caps.NS, "c") == nil {
				t.Errorf("directed presence without caps: %s", el)
			}
			perr := ctWait(t, a1, m1, func(e client.PresenceError) bool { return e.From.Bare() == nowhere })
			var se *stanza.Error
			if !errors.As(perr.Err, &se) {
				t.Errorf("presence error: %v", perr.Err)
			}

			// Removing a contact.
			m1, m2, w1 = a1.ev.mark(), a2.ev.mark(), a1.con.mark()
			must("remove", a1.c.RemoveContact(ctx, carol.bare))
			a1.con.wait(t, "roster remove", "SEND", w1, func(el *xmlstream.Element) bool {
				q := el.Child(roster.NS, "query")
				return el.Get("type") == stanza.TypeSet && q != nil && q.Child(roster.NS, "item") != nil &&
					q.Child(roster.NS, "item").Get("subscription") == roster.SubRemove
			})
			removed := func(e client.RosterChanged) bool { return slices.Contains(e.Removed, carol.bare) }
			ctWait(t, a1, m1, removed)
			ctWait(t, a2, m2, removed)
			for _, p := range []*ctPeer{a1, a2} {
				if _, items := p.roster(); len(items) != 1 || items[bob.bare].JID != bob.bare {
					t.Errorf("%s: roster after removal: %v", p.name, items)
				}
			}

			// Roster versioning (RFC 6121 §2.6): a new session asks with
			// the stored version and keeps the stored roster.
			ver, before := a2.roster()
			a2.restart()
			get := a2.con.find("SEND", 0, isIQ(stanza.TypeGet, roster.NS, "query"))
			if len(get) == 0 {
				t.Fatal("a2 did not fetch the roster")
			}
			if slices.Contains(a2.c.Session().Info().ServerFeatures, nsRosterVer) {
				if v, ok := get[0].Child(roster.NS, "query").Lookup("ver"); !ok || v != ver || ver == "" {
					t.Errorf("roster get %s, stored version %q", get[0], ver)
				}
			} else {
				t.Logf("%s does not offer roster versioning", st.name)
			}
			if _, after := a2.roster(); !maps.EqualFunc(before, after, func(a, b client.RosterItem) bool {
				return a.Name == b.Name && a.Subscription == b.Subscription && slices.Equal(a.Groups, b.Groups)
			}) {
				t.Errorf("roster changed across a restart: %v → %v", before, after)
			}

			// Client state and presence are restored on a new session.
			must("set presence", a1.c.SetPresence(ctx, presence.ShowChat, "around", 3))
			w1 = a1.con.mark()
			must("set inactive", a1.c.SetActive(false))
			isInactive := func(el *xmlstream.Element) bool { return el.Is(csi.NS, "inactive") }
			a1.con.wait(t, "inactive", "SEND", w1, isInactive)
			m1, w1 = a1.ev.mark(), a1.con.mark()
			srv.Restart(t)
			if on := ctWait(t, a1, m1, func(client.Online) bool { return true }); on.Info.Resumed {
				t.Fatal("resumed across a server restart")
			}
			a1.con.wait(t, "inactive again", "SEND", w1, isInactive)
			again := a1.con.wait(t, "presence again", "SEND", w1, isBroadcast)
			if again.ChildText(stanza.NSClient, "show") != "chat" || again.ChildText(stanza.NSClient, "status") != "around" ||
				again.ChildText(stanza.NSClient, "priority") != "3" {
				t.Errorf("presence after the new session: %s", again)
			}
		})
	}
}

// TestContactsPeers plays hostile and unusual peers with bare sessions
// against alice's engine: roster and block list pushes that do not come
// from her account, a forged PEP notification, entity capabilities whose
// hash does not verify (never cached), legacy caps, and avatars that break
// the limits or do not match their hash; and the two avatar paths
// (XEP-0153 presence hash, XEP-0084 PEP) from a peer.
func TestContactsPeers(t *testing.T) {
	for _, st := range starters {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			srv := st.start(t, xmpptest.Options{})
			for _, u := range []string{"alice", "carol"} {
				srv.CreateAccount(t, u, password)
			}
			a1 := ctStart(t, srv, "alice", "a1")
			carol := ctDialRaw(t, srv, "carol", "c")
			self := ctDialRaw(t, srv, "alice", "x") // another client of alice's: a full JID of her account
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
			defer cancel()
			mallory := jid.MustParse("mallory@" + srv.Domain)

			// Roster pushes from a stranger and from our own full JID are
			// ignored (RFC 6121 §2.1.6) and leave the store unchanged.
			verBefore, rosterBefore := a1.roster()
			for _, r := range []*ctRaw{carol, self} {
				l := a1.logs.mark()
				push := stanza.NewIQ(stanza.TypeSet, "", a1.jid, roster.Query{
					Ver: "forged", Items: []roster.Item{{JID: mallory, Name: "Mallory", Subscription: roster.SubBoth}},
				}.Element())
				if _, err := r.s.SendIQ(ctx, push); !errors.Is(err, stanza.ErrServiceUnavailable) {
					t.Errorf("roster push from %s: %v, want service-unavailable", r.jid, err)
				}
				a1.logs.wait(t, l, "ignoring a roster push", r.jid.String())
			}
			if ver, items := a1.roster(); ver != verBefore || !maps.Equal(ctKeys(items), ctKeys(rosterBefore)) {
				t.Errorf("a forged push changed the roster: %q %v", ver, items)
			}

			// Block list pushes likewise (XEP-0191: only from our account).
			for _, r := range []*ctRaw{carol, self} {
				push := stanza.NewIQ(stanza.TypeSet, "", a1.jid, blocking.Command{Block: true, JIDs: []jid.JID{mallory}}.Element())
				if _, err := r.s.SendIQ(ctx, push); !errors.Is(err, stanza.ErrServiceUnavailable) {
					t.Errorf("block push from %s: %v, want service-unavailable", r.jid, err)
				}
			}
			if l := a1.blocklist(); len(l) != 0 || a1.c.Blocked(mallory) {
				t.Errorf("a forged block push changed the block list: %v", l)
			}

			// A PEP notification that does not come from a bare JID (a
			// PEP service) is not an avatar.
			l := a1.logs.mark()
			forged := ctPNG(t, 8, 8, 200)
			md := avatar.Metadata{Infos: []avatar.Info{{ID: avatar.ID(forged), Bytes: len(forged), Type: "image/png"}}}
			carol.send(t, xmlstream.New(stanza.NSClient, "message", "to", a1.jid.String()).Append(
				xmlstream.New("http://jabber.org/protocol/pubsub#event", "event").Append(
					xmlstream.New("http://jabber.org/protocol/pubsub#event", "items", "node", avatar.NSMetadata).Append(
						xmlstream.New("http://jabber.org/protocol/pubsub#event", "item", "id", avatar.ID(forged)).Append(md.Element())))))
			a1.logs.wait(t, l, "ignoring metadata not sent by its owner", carol.jid.String())
			if h, _ := a1.contactAvatar(carol.jid.Bare()); h != "" {
				t.Errorf("a forged notification set carol's avatar: %q", h)
			}

			// Entity capabilities: carol's answers differ per node.
			evil := disco.Info{Identities: []disco.Identity{{Category: "client", Type: "bot"}}, Features: []string{disco.NSInfo, "urn:example:evil"}}
			good := disco.Info{Identities: []disco.Identity{{Category: "client", Type: "pc", Name: "Good"}}, Features: []string{disco.NSInfo, "urn:example:good"}}
			goodVer, err := caps.Ver(ctCapsInfo(good), caps.HashSHA1)
			if err != nil {
				t.Fatal(err)
			}
			otherVer, err := caps.Ver(ctCapsInfo(disco.Info{Features: []string{"urn:example:other"}}), caps.HashSHA1)
			if err != nil {
				t.Fatal(err)
			}
			poisoned := caps.Caps{Hash: caps.HashSHA1, Node: "https://evil.example", Ver: otherVer}
			honest := caps.Caps{Hash: caps.HashSHA1, Node: "https://good.example", Ver: goodVer}
			legacy := caps.Caps{Node: "https://legacy.example", Ver: "1.0"}
			carol.setAnswer(func(iq *xmlstream.Element) *xmlstream.Element {
				q := iq.Child(disco.NSInfo, "query")
				if q == nil {
					return nil
				}
				info := evil
				if q.Get("node") == honest.InfoNode() {
					info = good
				}
				info.Node = q.Get("node")
				return stanza.Result(iq, info.Element())
			})
			withCaps := func(c caps.Caps) *xmlstream.Element {
				return presence.Presence{To: a1.jid, Extensions: []*xmlstream.Element{c.Element()}}.Element()
			}

			// A hash that does not match the answer: not cached, the
			// answer holds for carol's JID alone.
			m1, w1 := a1.ev.mark(), a1.con.mark()
			carol.send(t, withCaps(poisoned))
			ctWait(t, a1, m1, func(e client.CapsResolved) bool { return e.JID == carol.jid && !e.Verified })
			a1.con.wait(t, "disco#info query", "SEND", w1, func(el *xmlstream.Element) bool {
				q := el.Child(disco.NSInfo, "query")
				return el.Get("to") == carol.jid.String() && q != nil && q.Get("node") == poisoned.InfoNode()
			})
			if a1.discoInfo(caps.HashSHA1, otherVer) != nil {
				t.Error("a disco#info whose hash does not verify was cached")
			}
			if !a1.c.ContactSupports(carol.jid, "urn:example:evil") {
				t.Error("the unverified answer does not hold for carol's JID")
			}

			// A matching hash: cached for everyone with it.
			m1 = a1.ev.mark()
			carol.send(t, withCaps(honest))
			ctWait(t, a1, m1, func(e client.CapsResolved) bool { return e.JID == carol.jid && e.Verified })
			if raw := a1.discoInfo(caps.HashSHA1, goodVer); raw == nil || !bytes.Contains(raw, []byte("urn:example:good")) {
				t.Errorf("the verified disco#info is not cached: %s", raw)
			}
			if !a1.c.ContactSupports(carol.jid, "urn:example:good") || a1.c.ContactSupports(carol.jid, "urn:example:evil") {
				t.Error("ContactSupports does not follow carol's new caps")
			}

			// Legacy caps (no hash): never cached by ver.
			m1 = a1.ev.mark()
			carol.send(t, withCaps(legacy))
			ctWait(t, a1, m1, func(e client.CapsResolved) bool { return e.JID == carol.jid && !e.Verified })
			if a1.discoInfo(caps.HashSHA1, legacy.Ver) != nil {
				t.Error("legacy caps were cached")
			}
			m1 = a1.ev.mark()
			carol.send(t, presence.Presence{To: a1.jid, Type: presence.TypeUnavailable}.Element())
			ctWait(t, a1, m1, func(e client.PresenceChanged) bool { return !e.Available && e.Presence.JID == carol.jid })
			if a1.c.ContactSupports(carol.jid, "urn:example:evil") {
				t.Error("features of an unavailable resource are still reported")
			}

			// Avatars are kept for roster contacts only: alice adds carol.
			m1 = a1.ev.mark()
			must := func(what string, err error) {
				t.Helper()
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
			}
			must("add carol", a1.c.AddContact(ctx, carol.jid.Bare(), "Carol", nil))
			ctWait(t, a1, m1, func(e client.RosterChanged) bool {
				return slices.ContainsFunc(e.Items, func(it client.RosterItem) bool { return it.JID == carol.jid.Bare() && it.Ask })
			})

			// XEP-0153: the hash of carol's vCard photo in her presence.
			withHash := func(h string) *xmlstream.Element {
				return presence.Presence{To: a1.jid, Extensions: []*xmlstream.Element{avatar.Update{Ready: true, Hash: h}.Element()}}.Element()
			}
			setPhoto := func(data []byte) {
				t.Helper()
				if _, err := carol.s.SendIQ(ctx, vcard.Set(vcard.VCard{FN: "Carol", Photo: &vcard.Photo{Type: "image/png", Data: data}})); err != nil {
					t.Fatalf("carol's vCard: %v", err)
				}
			}
			img := ctPNG(t, 32, 32, 7)
			setPhoto(img)
			m1, w1 = a1.ev.mark(), a1.con.mark()
			carol.send(t, withHash(avatar.ID(img)))
			ctWait(t, a1, m1, func(e client.AvatarChanged) bool { return e.JID == carol.jid.Bare() && e.Hash == avatar.ID(img) })
			a1.con.wait(t, "vCard request", "SEND", w1, func(el *xmlstream.Element) bool {
				return isIQ(stanza.TypeGet, vcard.NS, "vCard")(el) && el.Get("to") == carol.jid.Bare().String()
			})
			if h, a := a1.contactAvatar(carol.jid.Bare()); h != avatar.ID(img) || !bytes.Equal(a.Data, img) || a.Width != 32 {
				t.Errorf("carol's stored avatar: %q %dx%d", h, a.Width, a.Height)
			}

			// Too many pixels: rejected before decoding, nothing stored.
			big := ctPNG(t, 4096, 1, 9)
			setPhoto(big)
			l = a1.logs.mark()
			carol.send(t, withHash(avatar.ID(big)))
			a1.logs.wait(t, l, "rejecting a vCard avatar", avatar.ErrTooLarge.Error())
			if a1.hasAvatar(avatar.ID(big)) {
				t.Error("an avatar beyond the pixel limits was stored")
			}
			// XEP-0084: carol and alice subscribe to each other (carol's
			// PEP service learns alice's +notify from her presence), carol
			// publishes an avatar in PEP, the server notifies alice and she
			// fetches the data from carol's data node.
			m1 = a1.ev.mark()
			carol.send(t, presence.Subscribed(a1.bare))
			ctWait(t, a1, m1, func(e client.RosterChanged) bool {
				return slices.ContainsFunc(e.Items, func(it client.RosterItem) bool {
					return it.JID == carol.jid.Bare() && it.Subscription == client.SubscriptionTo
				})
			})
			carol.send(t, presence.Subscribe(a1.bare))
			ctWait(t, a1, m1, func(e client.SubscriptionRequested) bool { return e.Request.JID == carol.jid.Bare() })
			must("approve carol", a1.c.ApproveSubscription(ctx, carol.jid.Bare()))
			ctWait(t, a1, m1, func(e client.RosterChanged) bool {
				return slices.ContainsFunc(e.Items, func(it client.RosterItem) bool {
					return it.JID == carol.jid.Bare() && it.Subscription == client.SubscriptionBoth
				})
			})
			wc := carol.con.mark()
			carol.send(t, presence.Presence{}.Element()) // available: alice's presence now reaches carol
			carol.con.wait(t, "alice's presence", "RECV", wc, func(el *xmlstream.Element) bool {
				return el.Name.Local == "presence" && el.Get("type") == "" && el.Get("from") == a1.jid.String()
			})
			img2 := ctPNG(t, 48, 48, 3)
			info2, err := avatar.Check(img2, avatar.Limits{})
			must("check", err)
			m1, w1 = a1.ev.mark(), a1.con.mark()
			_, err = carol.s.SendIQ(ctx, avatar.PublishData(img2))
			must("publish data", err)
			_, err = carol.s.SendIQ(ctx, avatar.PublishMetadata(info2))
			must("publish metadata", err)
			ctWait(t, a1, m1, func(e client.AvatarChanged) bool { return e.JID == carol.jid.Bare() && e.Hash == info2.ID })
			a1.con.wait(t, "avatar data request", "SEND", w1, func(el *xmlstream.Element) bool {
				ps := el.Child("http://jabber.org/protocol/pubsub", "pubsub")
				return el.Get("to") == carol.jid.Bare().String() && ps != nil &&
					ps.Child("http://jabber.org/protocol/pubsub", "items") != nil &&
					ps.Child("http://jabber.org/protocol/pubsub", "items").Get("node") == avatar.NSData
			})
			if h, a := a1.contactAvatar(carol.jid.Bare()); h != info2.ID || !bytes.Equal(a.Data, img2) || a.Width != 48 {
				t.Errorf("carol's stored PEP avatar: %q %dx%d", h, a.Width, a.Height)
			}

			// Data that is not the announced image: rejected, nothing
			// changes.
			announced, other := ctPNG(t, 16, 16, 5), ctPNG(t, 16, 16, 6)
			pub := avatar.PublishData(other)
			pub.Child(nsPubSub, "pubsub").Child(nsPubSub, "publish").Child(nsPubSub, "item").Set("id", avatar.ID(announced))
			_, err = carol.s.SendIQ(ctx, pub)
			must("publish mismatching data", err)
			info3, err := avatar.Check(announced, avatar.Limits{})
			must("check", err)
			l = a1.logs.mark()
			_, err = carol.s.SendIQ(ctx, avatar.PublishMetadata(info3))
			must("publish metadata", err)
			a1.logs.wait(t, l, "rejecting a PEP avatar", avatar.ErrHashMismatch.Error())
			if h, _ := a1.contactAvatar(carol.jid.Bare()); h != info2.ID || a1.hasAvatar(info3.ID) {
				t.Errorf("a mismatching avatar was stored (carol's avatar %q)", h)
			}
		})
	}
}

// TestContactsRegistration creates an account in-band (XEP-0077), changes
// its password and deletes it.
func TestContactsRegistration(t *testing.T) {
	for _, st := range starters {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			srv := st.start(t, xmpptest.Options{})
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
			defer cancel()
			con := newCTConsole()
			cfg := sessionConfig(srv, "dave", "r", srv.Addr())
			cfg.Console = con
			var asked client.RegistrationForm
			err := client.Register(ctx, cfg, func(f client.RegistrationForm) (map[string][]string, error) {
				asked = f
				return nil, nil
			})
			if err != nil {
				t.Fatalf("register: %v", err)
			}
			if asked.Form == nil && !slices.Contains(asked.Fields, "username") {
				t.Errorf("the server asked for %+v", asked)
			}
			con.wait(t, "registration fields request", "SEND", 0, isIQ(stanza.TypeGet, register.NS, "query"))
			sub := con.wait(t, "registration", "SEND", 0, isIQ(stanza.TypeSet, register.NS, "query"))
			if q, err := register.Parse(sub); err != nil || (q.Form == nil && q.Fields == nil) {
				t.Errorf("registration on the wire: %s", sub)
			}
			if err := client.Register(ctx, cfg, nil); !errors.Is(err, register.ErrUsernameTaken) {
				t.Errorf("registering a taken name: %v", err)
			}

			dave := ctStart(t, srv, "dave", "r")
			if err := dave.c.ChangePassword(ctx, "n3w passphrase"); err != nil {
				t.Fatalf("change password: %v", err)
			}
			dave.stop()
			ctLoginFails(t, srv, "dave", password)
			dave.password = "n3w passphrase"
			dave.start()
			if err := dave.c.DeleteAccount(ctx); err != nil {
				t.Fatalf("delete account: %v", err)
			}
			dave.stop()
			ctLoginFails(t, srv, "dave", "n3w passphrase")
		})
	}
}

// ctLoginFails checks that local cannot sign in with pw.
func ctLoginFails(t *testing.T, srv *xmpptest.Server, local, pw string) {
	t.Helper()
	cfg := sessionConfig(srv, local, "f", srv.Addr())
	cfg.Password = pw
	c := client.New(client.Config{Session: cfg, MinBackoff: 10 * time.Millisecond})
	ctx, cancel := context.WithTimeout(t.Context(), ctTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	for range c.Events() {
	}
	if err := <-done; !errors.Is(err, sasl.ErrNotAuthorized) {
		t.Errorf("signing in as %s: %v, want not-authorized", local, err)
	}
}

// ctCapsInfo converts a disco#info result to what a caps hash covers.
func ctCapsInfo(info disco.Info) caps.Info {
	ci := caps.Info{Features: info.Features, Forms: info.Forms}
	for _, id := range info.Identities {
		ci.Identities = append(ci.Identities, caps.Identity(id))
	}
	return ci
}

// ctKeys returns the key set of m.
func ctKeys[K comparable, V any](m map[K]V) map[K]bool {
	out := make(map[K]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}
