package client_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/session"
	"github.com/tern-im/tern/storage/sqlite"
)

// Helpers of the messaging tests (names start with mt: the contact tests
// share the package).

// mtLocal is a Client with a real store that never connects: stanzas are
// routed into it through its public Mux, as the client loop does, so the
// pipeline can be tested deterministically.
type mtLocal struct {
	t    testing.TB
	c    *client.Client
	db   *sqlite.DB
	acct client.AccountID
}

const mtOwn = "alice@example.org"

func newMTLocal(t testing.TB, langs ...string) *mtLocal {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "tern.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var acct client.AccountID
	err = db.Update(ctx, func(tx client.Tx) error {
		acct, err = tx.PutAccount(ctx, client.Account{JID: jid.MustParse(mtOwn), Enabled: true})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	c := client.New(client.Config{
		Session:   session.Config{JID: jid.MustParse(mtOwn + "/desk")},
		Store:     db,
		Account:   acct,
		Languages: langs,
	})
	return &mtLocal{t: t, c: c, db: db, acct: acct}
}

// route hands one stanza (XML text) to the client as if it arrived, and
// reports whether a handler took it.
func (l *mtLocal) route(raw string) bool {
	l.t.Helper()
	el, err := xmlstream.Parse([]byte(mtClientNS(raw)))
	if err != nil {
		l.t.Fatalf("test stanza: %v\n%s", err, raw)
	}
	_, handled := l.c.Mux().Route(context.Background(), el)
	return handled
}

// mtClientNS puts the stanza's root in jabber:client (the stream's
// default namespace) when it declares none.
func mtClientNS(raw string) string {
	raw = strings.TrimSpace(raw)
	if end := strings.IndexByte(raw, '>'); end > 0 && !strings.Contains(raw[:end], "xmlns=") {
		name := strings.IndexAny(raw, " />")
		raw = raw[:name] + " xmlns='jabber:client'" + raw[name:]
	}
	return raw
}

// conv returns the conversation with peer, failing when there is none.
func (l *mtLocal) conv(peer string) client.Conversation {
	l.t.Helper()
	cv, ok := l.findConv(peer)
	if !ok {
		l.t.Fatalf("no conversation with %s", peer)
	}
	return cv
}

func (l *mtLocal) findConv(peer string) (client.Conversation, bool) {
	l.t.Helper()
	convs, err := l.db.Conversations(context.Background(), l.acct)
	if err != nil {
		l.t.Fatal(err)
	}
	for _, cv := range convs {
		if cv.Peer.String() == peer {
			return cv, true
		}
	}
	return client.Conversation{}, false
}

// timeline returns the messages of the conversation with peer.
func (l *mtLocal) timeline(peer string) []client.Message {
	l.t.Helper()
	page, err := l.db.LatestPage(context.Background(), l.conv(peer).ID, 1000)
	if err != nil {
		l.t.Fatal(err)
	}
	return page
}

func (l *mtLocal) message(id client.MessageID) client.Message {
	l.t.Helper()
	m, err := l.db.Message(context.Background(), id)
	if err != nil {
		l.t.Fatal(err)
	}
	return m
}

// snapshot returns everything the store holds for the account that
// inbound stanzas could change.
func (l *mtLocal) snapshot() string {
	l.t.Helper()
	ctx := context.Background()
	var out []client.OutboxItem
	if err := l.db.View(ctx, func(tx client.Tx) (err error) { out, err = tx.Outbox(ctx, l.acct); return }); err != nil {
		l.t.Fatal(err)
	}
	return mtSnapshot(l.t, l.db, l.acct, "") + fmt.Sprintf("outbox %+v\n", out)
}

// setRoster stores roster items with the given subscription.
func (l *mtLocal) setRoster(sub client.Subscription, peers ...string) {
	l.t.Helper()
	ctx := context.Background()
	err := l.db.Update(ctx, func(tx client.Tx) error {
		for _, p := range peers {
			if err := tx.PutRosterItem(ctx, l.acct, "", client.RosterItem{JID: jid.MustParse(p), Subscription: sub}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		l.t.Fatal(err)
	}
}

// send sends a message through the API (offline: it stays pending).
func (l *mtLocal) send(to, body string, opts client.SendOptions) client.Message {
	l.t.Helper()
	id, err := l.c.SendMessage(context.Background(), jid.MustParse(to), body, opts)
	if err != nil {
		l.t.Fatal(err)
	}
	return l.message(id)
}

func TestInboundChatMessage(t *testing.T) {
	l := newMTLocal(t, "de-CH", "en")
	handled := l.route(`<message from='bob@example.org/phone' to='alice@example.org/desk' type='chat' id='m1' xml:lang='en'>
		<body>Hello</body>
		<body xml:lang='de'>Hallo</body>
		<body xml:lang='fr'>Bonjour</body>
		<thread parent='p0'>t1</thread>
		<origin-id xmlns='urn:xmpp:sid:0' id='o1'/>
		<stanza-id xmlns='urn:xmpp:sid:0' by='alice@example.org' id='s1'/>
	</message>`)
	if !handled {
		t.Fatal("a chat message was not handled")
	}
	msgs := l.timeline("bob@example.org")
	if len(msgs) != 1 {
		t.Fatalf("%d messages stored, want 1", len(msgs))
	}
	m := msgs[0]
	want := client.Message{
		Direction: client.Inbound, Type: client.TypeChat, Sender: "bob@example.org",
		XMLID: "m1", OriginID: "o1", Body: "Hallo", Lang: "de", Thread: "t1", State: client.StateNone,
		Alternatives: []client.Body{{Lang: "en", Text: "Hello"}, {Lang: "fr", Text: "Bonjour"}},
	}
	got := client.Message{
		Direction: m.Direction, Type: m.Type, Sender: m.Sender, XMLID: m.XMLID, OriginID: m.OriginID,
		Body: m.Body, Lang: m.Lang, Thread: m.Thread, State: m.State, Alternatives: m.Alternatives,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stored\n%+v\nwant\n%+v", got, want)
	}
	// Without a service discovery answer from our server (this client
	// never connected), its stanza-ids are not trusted.
	if len(m.StanzaIDs) != 0 {
		t.Errorf("stanza-ids %v recorded without knowing that the server vouches for them", m.StanzaIDs)
	}
	if m.Received.IsZero() || m.Time.IsZero() {
		t.Errorf("times not set: %+v", m)
	}
	if cv := l.conv("bob@example.org"); cv.Unread != 1 {
		t.Errorf("unread = %d, want 1", cv.Unread)
	}

	// The same message again (a resend) is a duplicate.
	l.route(`<message from='bob@example.org/phone' type='chat' id='m1'><body>Hello</body><origin-id xmlns='urn:xmpp:sid:0' id='o1'/></message>`)
	if n := len(l.timeline("bob@example.org")); n != 1 {
		t.Errorf("%d messages after a duplicate, want 1", n)
	}
}

func TestInboundLanguageFallback(t *testing.T) {
	tests := []struct {
		name  string
		langs []string
		want  string
	}{
		{"exact", []string{"fr"}, "Bonjour"},
		{"default when no preference matches", []string{"ja"}, "Hello"},
		{"no preferences", nil, "Hello"},
		{"more specific alternative", []string{"de"}, "Grüezi"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newMTLocal(t, tt.langs...)
			l.route(`<message from='bob@example.org/phone' type='chat' id='m1' xml:lang='en'>
				<body>Hello</body><body xml:lang='fr'>Bonjour</body><body xml:lang='de-CH'>Grüezi</body></message>`)
			if got := l.timeline("bob@example.org")[0]; got.Body != tt.want {
				t.Errorf("body %q (%s), want %q", got.Body, got.Lang, tt.want)
			}
		})
	}
}

func TestInboundMe(t *testing.T) {
	l := newMTLocal(t)
	l.route(`<message from='bob@example.org/phone' type='normal' id='m1'><body>/me waves</body></message>`)
	m := l.timeline("bob@example.org")[0]
	if m.Body != "/me waves" || !m.IsMe() || m.MeText() != "waves" || m.Type != client.TypeNormal {
		t.Errorf("stored %q type %d, IsMe %v, MeText %q", m.Body, m.Type, m.IsMe(), m.MeText())
	}
}

func TestInboundNotStored(t *testing.T) {
	tests := []struct {
		name    string
		stanza  string
		handled bool
	}{
		{"headline", `<message from='news.example.org' type='headline'><subject>News</subject><body>Read all about it</body></message>`, true},
		{"standalone chat state", `<message from='bob@example.org/phone' type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>`, true},
		{"no body", `<message from='bob@example.org/phone' type='chat' id='x'><unknown xmlns='urn:example'/></message>`, false},
		{"groupchat (rooms are not handled yet)", `<message from='room@conference.example.org/bob' type='groupchat' id='g'><body>hi</body></message>`, false},
		{"no from", `<message type='chat' id='x'><body>from the server</body></message>`, false},
		{"invalid from", `<message from='@@' type='chat' id='x'><body>hi</body></message>`, true},
		{"error about nothing of ours", `<message from='bob@example.org' type='error' id='nope'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newMTLocal(t)
			before := l.snapshot()
			if handled := l.route(tt.stanza); handled != tt.handled {
				t.Errorf("handled = %v, want %v", handled, tt.handled)
			}
			if after := l.snapshot(); after != before {
				t.Errorf("the store changed:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}

// TestDeliveryStates: receipts and markers from the peer move our message
// forward; the bounce of a message marks it failed with the reason.
func TestDeliveryStates(t *testing.T) {
	l := newMTLocal(t)
	m1 := l.send("bob@example.org", "one", client.SendOptions{})
	m2 := l.send("bob@example.org/laptop", "two", client.SendOptions{})
	if m1.State != client.StatePending || m1.XMLID == "" || m1.XMLID != m1.OriginID {
		t.Fatalf("queued message %+v: want pending, with origin-id = id", m1)
	}
	if m2.Conversation != m1.Conversation {
		t.Fatal("a full JID made another conversation")
	}
	l.route(fmt.Sprintf(`<message from='bob@example.org/phone' id='r1'><received xmlns='urn:xmpp:receipts' id='%s'/></message>`, m1.XMLID))
	if got := l.message(m1.ID).State; got != client.StateDelivered {
		t.Errorf("after a receipt: %v, want delivered", got)
	}
	// A displayed marker for m2 covers m1 too ("up to here").
	l.route(fmt.Sprintf(`<message from='bob@example.org/phone' type='chat' id='r2'><displayed xmlns='urn:xmpp:chat-markers:0' id='%s'/></message>`, m2.XMLID))
	for _, m := range []client.Message{m1, m2} {
		// m2 was pending: the marker proves it arrived; m1 was delivered.
		if got := l.message(m.ID).State; got != client.StateRead {
			t.Errorf("%q after a displayed marker: %v, want read", m.Body, got)
		}
	}
	// A late receipt does not move a read message back.
	l.route(fmt.Sprintf(`<message from='bob@example.org/phone' id='r3'><received xmlns='urn:xmpp:receipts' id='%s'/></message>`, m2.XMLID))
	if got := l.message(m2.ID).State; got != client.StateRead {
		t.Errorf("after a late receipt: %v, want read", got)
	}

	m3 := l.send("nobody@example.org", "hello?", client.SendOptions{})
	l.route(fmt.Sprintf(`<message from='nobody@example.org' type='error' id='%s'><body>hello?</body>
		<error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>No such user</text></error></message>`, m3.XMLID))
	got := l.message(m3.ID)
	if got.State != client.StateFailed || !strings.Contains(got.Failure, "service-unavailable") || !strings.Contains(got.Failure, "No such user") {
		t.Errorf("after a bounce: %v %q, want failed with the reason", got.State, got.Failure)
	}
	// A failed message leaves the outbox: it waits for the user.
	ctx := context.Background()
	var out []client.OutboxItem
	if err := l.db.View(ctx, func(tx client.Tx) (err error) { out, err = tx.Outbox(ctx, l.acct); return }); err != nil {
		t.Fatal(err)
	}
	for _, it := range out {
		if it.Message == m3.ID {
			t.Error("the failed message is still in the outbox")
		}
	}

	// Retry: pending again (and back in the outbox); Delete: gone.
	if err := l.c.Retry(ctx, m1.ID); !errors.Is(err, client.ErrNotFailed) {
		t.Errorf("Retry of a read message: %v, want ErrNotFailed", err)
	}
	if err := l.c.Retry(ctx, m3.ID); err != nil {
		t.Fatal(err)
	}
	if got := l.message(m3.ID); got.State != client.StatePending || got.Failure != "" {
		t.Errorf("after Retry: %v %q, want pending", got.State, got.Failure)
	}
	if err := l.c.Delete(ctx, m3.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := l.db.Message(ctx, m3.ID); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("after Delete: %v, want ErrNotFound", err)
	}
}

// TestInboundEdits: corrections, reactions and retractions from the
// original sender apply.
func TestInboundEdits(t *testing.T) {
	l := newMTLocal(t)
	ours := l.send("bob@example.org", "ours", client.SendOptions{})
	l.route(`<message from='bob@example.org/phone' type='chat' id='b1'><body>helo</body><origin-id xmlns='urn:xmpp:sid:0' id='ob1'/></message>`)
	bob := l.timeline("bob@example.org")[1]

	// XEP-0308 example 1 form: <replace id='original id'/>.
	l.route(`<message from='bob@example.org/laptop' type='chat' id='b2'><body>hello</body><replace xmlns='urn:xmpp:message-correct:0' id='b1'/></message>`)
	got := l.message(bob.ID)
	if got.LastCorrection == nil || got.LastCorrection.Body != "hello" || got.Text() != "hello" || got.Body != "helo" {
		t.Errorf("after a correction: body %q, correction %+v", got.Body, got.LastCorrection)
	}
	if n := len(l.timeline("bob@example.org")); n != 2 {
		t.Errorf("%d timeline messages after a correction, want 2", n)
	}
	// A correction of the correction refers to the original id (§4).
	l.route(`<message from='bob@example.org/laptop' type='chat' id='b3'><body>hello!</body><replace xmlns='urn:xmpp:message-correct:0' id='b1'/></message>`)
	if got := l.message(bob.ID); got.Text() != "hello!" {
		t.Errorf("after a second correction: %q", got.Text())
	}

	// XEP-0444: reactions to our message; a new set replaces the old one.
	l.route(fmt.Sprintf(`<message from='bob@example.org/phone' type='chat' id='b4'><reactions xmlns='urn:xmpp:reactions:0' id='%s'><reaction>👍</reaction><reaction>🐢</reaction></reactions><store xmlns='urn:xmpp:hints'/></message>`, ours.OriginID))
	if got := l.message(ours.ID).Reactions; len(got) != 1 || got[0].Sender != "bob@example.org" || len(got[0].Emojis) != 2 {
		t.Errorf("reactions %+v, want bob's two", got)
	}
	l.route(fmt.Sprintf(`<message from='bob@example.org/phone' type='chat' id='b5'><reactions xmlns='urn:xmpp:reactions:0' id='%s'><reaction>❤️</reaction></reactions></message>`, ours.OriginID))
	if got := l.message(ours.ID).Reactions; len(got) != 1 || !reflect.DeepEqual(got[0].Emojis, []string{"❤️"}) {
		t.Errorf("reactions %+v, want bob's heart only", got)
	}
	l.route(fmt.Sprintf(`<message from='bob@example.org/phone' type='chat' id='b6'><reactions xmlns='urn:xmpp:reactions:0' id='%s'/></message>`, ours.OriginID))
	if got := l.message(ours.ID).Reactions; len(got) != 0 {
		t.Errorf("reactions %+v after an empty set, want none", got)
	}

	// XEP-0424 §3 example: the retraction carries a fallback body, which
	// must not become a message.
	l.route(`<message from='bob@example.org/phone' type='chat' id='b7'>
		<retract id='b1' xmlns='urn:xmpp:message-retract:1'/>
		<fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:message-retract:1'/>
		<body>/me retracted a previous message, but it's unsupported by your client.</body>
		<store xmlns='urn:xmpp:hints'/></message>`)
	got = l.message(bob.ID)
	if got.Retracted.IsZero() || got.Body != "" || got.Text() != "" {
		t.Errorf("after a retraction: retracted %v, body %q, text %q", got.Retracted, got.Body, got.Text())
	}
	if n := len(l.timeline("bob@example.org")); n != 2 {
		t.Errorf("%d timeline messages after a retraction, want 2", n)
	}
}

// TestInboundReply: the quote fallback (XEP-0461 with XEP-0428) is
// stripped when the referenced message is known, kept otherwise.
func TestInboundReply(t *testing.T) {
	l := newMTLocal(t)
	ours := l.send("bob@example.org", "Hi there", client.SendOptions{})
	quoted := "> Hi there\n"
	l.route(fmt.Sprintf(`<message from='bob@example.org/phone' type='chat' id='b1'>
		<body>%sHello!</body>
		<reply xmlns='urn:xmpp:reply:0' to='alice@example.org' id='%s'/>
		<fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'><body start='0' end='%d'/></fallback>
	</message>`, quoted, ours.OriginID, len([]rune(quoted))))
	l.route(`<message from='bob@example.org/phone' type='chat' id='b2'>
		<body>> something old
Indeed</body>
		<reply xmlns='urn:xmpp:reply:0' to='bob@example.org' id='unknown'/>
		<fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'><body start='0' end='16'/></fallback>
	</message>`)
	msgs := l.timeline("bob@example.org")
	if len(msgs) != 3 {
		t.Fatalf("%d messages, want 3", len(msgs))
	}
	if m := msgs[1]; m.Body != "Hello!" || m.ReplyTo != (client.Reply{To: mtOwn, ID: ours.OriginID}) {
		t.Errorf("reply to a known message: %q %+v", m.Body, m.ReplyTo)
	}
	if m := msgs[2]; m.Body != "> something old\nIndeed" || m.ReplyTo.ID != "unknown" {
		t.Errorf("reply to an unknown message: %q %+v", m.Body, m.ReplyTo)
	}
}

// TestSpoofing: stanzas that try to act on messages they have no right to
// change nothing in the store (DESIGN.md §7).
func TestSpoofing(t *testing.T) {
	l := newMTLocal(t)
	ours := l.send("bob@example.org", "to bob", client.SendOptions{})
	l.route(`<message from='bob@example.org/phone' type='chat' id='b1'><body>from bob</body><origin-id xmlns='urn:xmpp:sid:0' id='ob1'/></message>`)
	l.route(`<message from='carol@example.net/x' type='chat' id='c1'><body>from carol</body></message>`)
	if err := l.db.Update(context.Background(), func(tx client.Tx) error {
		return tx.Block(context.Background(), l.acct, jid.MustParse("mallory@example.net"))
	}); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, stanza string }{
		{"carbon from a stranger", `<message from='carol@example.net/x' to='alice@example.org/desk' type='chat'>
			<received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>
			<message xmlns='jabber:client' from='bob@example.org/phone' to='alice@example.org' type='chat' id='f1'><body>I owe carol $1000</body></message>
			</forwarded></received></message>`},
		{"sent carbon from a stranger", `<message from='carol@example.net' to='alice@example.org/desk' type='chat'>
			<sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>
			<message xmlns='jabber:client' from='alice@example.org/phone' to='bob@example.org' type='chat' id='f2'><body>I quit</body></message>
			</forwarded></sent></message>`},
		{"carbon from our own full JID", `<message from='alice@example.org/phone' to='alice@example.org/desk' type='chat'>
			<received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>
			<message xmlns='jabber:client' from='bob@example.org/phone' to='alice@example.org' type='chat' id='f3'><body>forged</body></message>
			</forwarded></received></message>`},
		{"correction of bob's message by carol", `<message from='carol@example.net/x' type='chat' id='c2'><body>evil</body><replace xmlns='urn:xmpp:message-correct:0' id='b1'/></message>`},
		{"correction of our message by bob", fmt.Sprintf(`<message from='bob@example.org/phone' type='chat' id='b2'><body>evil</body><replace xmlns='urn:xmpp:message-correct:0' id='%s'/></message>`, ours.XMLID)},
		{"correction of a missing message", `<message from='bob@example.org/phone' type='chat' id='b3'><body>evil</body><replace xmlns='urn:xmpp:message-correct:0' id='nope'/></message>`},
		{"retraction of bob's message by carol", `<message from='carol@example.net/x' type='chat' id='c3'><retract xmlns='urn:xmpp:message-retract:1' id='b1'/><body>/me retracted</body></message>`},
		{"retraction of our message by bob", fmt.Sprintf(`<message from='bob@example.org/phone' type='chat' id='b4'><retract xmlns='urn:xmpp:message-retract:1' id='%s'/></message>`, ours.XMLID)},
		{"receipt from carol for our message to bob", fmt.Sprintf(`<message from='carol@example.net/x' id='c4'><received xmlns='urn:xmpp:receipts' id='%s'/></message>`, ours.XMLID)},
		{"receipt for a message we never sent", `<message from='bob@example.org/phone' id='b5'><received xmlns='urn:xmpp:receipts' id='never-sent'/></message>`},
		{"receipt naming bob's own message", `<message from='bob@example.org/phone' id='b6'><received xmlns='urn:xmpp:receipts' id='b1'/></message>`},
		{"marker from carol for our message to bob", fmt.Sprintf(`<message from='carol@example.net/x' type='chat' id='c5'><displayed xmlns='urn:xmpp:chat-markers:0' id='%s'/></message>`, ours.XMLID)},
		{"reaction by carol to a message of another conversation", fmt.Sprintf(`<message from='carol@example.net/x' type='chat' id='c6'><reactions xmlns='urn:xmpp:reactions:0' id='%s'><reaction>💩</reaction></reactions></message>`, ours.OriginID)},
		{"bounce from carol of our message to bob", fmt.Sprintf(`<message from='carol@example.net' type='error' id='%s'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`, ours.XMLID)},
		{"message from a blocked sender", `<message from='mallory@example.net/x' type='chat' id='m1'><body>buy now</body><request xmlns='urn:xmpp:receipts'/></message>`},
		{"chat state from a blocked sender", `<message from='mallory@example.net/x' type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>`},
		{"over-long reference", fmt.Sprintf(`<message from='bob@example.org/phone' type='chat' id='b7'><body>x</body><replace xmlns='urn:xmpp:message-correct:0' id='%s'/></message>`, strings.Repeat("b", 300))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := l.snapshot()
			l.route(tt.stanza)
			if after := l.snapshot(); after != before {
				t.Errorf("the store changed:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}

// FuzzInboundMessage feeds arbitrary message stanzas to the pipeline of a
// client whose store already holds messages to refer to: nothing a peer
// sends may crash it, and nothing from a blocked sender may be stored.
func FuzzInboundMessage(f *testing.F) {
	l := newMTLocal(f, "de")
	l.setRoster(client.SubscriptionBoth, "bob@example.org")
	l.route(`<message from='bob@example.org/phone' type='chat' id='b1'><body>hi</body><origin-id xmlns='urn:xmpp:sid:0' id='ob1'/></message>`)
	l.send("bob@example.org", "ours", client.SendOptions{})
	if err := l.db.Update(context.Background(), func(tx client.Tx) error {
		return tx.Block(context.Background(), l.acct, jid.MustParse("mallory@example.net"))
	}); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		el, err := xmlstream.Parse(raw)
		if err != nil {
			return
		}
		l.c.Mux().Route(context.Background(), el)
		convs, err := l.db.Conversations(context.Background(), l.acct)
		if err != nil {
			t.Fatal(err)
		}
		for _, cv := range convs {
			if cv.Peer.Domain() == "example.net" && cv.Peer.Local() == "mallory" {
				t.Fatal("a message from a blocked sender was stored")
			}
		}
	})
}
