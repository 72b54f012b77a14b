package client

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/tern-im/tern/protocol/chatstates"
	"github.com/tern-im/tern/protocol/correction"
	"github.com/tern-im/tern/protocol/disco"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/markers"
	"github.com/tern-im/tern/protocol/reactions"
	"github.com/tern-im/tern/protocol/receipts"
	"github.com/tern-im/tern/protocol/reply"
	"github.com/tern-im/tern/protocol/retraction"
	"github.com/tern-im/tern/protocol/session"
	"github.com/tern-im/tern/protocol/sid"
)

// Errors of the messaging API.
var (
	// ErrNoStore: the Client was configured without a Store, so it has no
	// history or outbox to work with.
	ErrNoStore = errors.New("client: no store configured")
	// ErrEmptyMessage: a message needs a body with something other than
	// white space.
	ErrEmptyMessage = errors.New("client: empty message")
	// ErrNotOwnMessage: only our own messages can be corrected or
	// retracted (XEP-0308 §4, XEP-0424 §5), and only failed ones retried.
	ErrNotOwnMessage = errors.New("client: not a message of ours")
	// ErrRetracted: the message was retracted; it cannot be corrected,
	// retracted again or reacted to.
	ErrRetracted = errors.New("client: the message was retracted")
	// ErrNotFailed: Retry needs a message whose delivery failed.
	ErrNotFailed = errors.New("client: the message did not fail")
	// ErrInvalidReaction: a reaction is not a single emoji, or there are
	// too many (XEP-0444 §4).
	ErrInvalidReaction = errors.New("client: invalid reaction")
	// ErrNoMessageID: the message has no id another client could refer to.
	ErrNoMessageID = errors.New("client: the message has no id to refer to")
	// ErrOtherConversation: the message referred to belongs to another
	// conversation.
	ErrOtherConversation = errors.New("client: the message belongs to another conversation")
	// ErrInvalidChatState: not one of the five XEP-0085 chat states.
	ErrInvalidChatState = errors.New("client: invalid chat state")
)

// Limits on the in-memory messaging state peers can make grow.
const (
	// maxChatStatePeers bounds the contacts whose chat state support we
	// remember.
	maxChatStatePeers = 4096
	// maxIDLen is the longest id or thread we keep from a peer's message,
	// in bytes (XEP-0359 ids are 36 bytes; longer ones cannot be ours).
	maxIDLen = sid.MaxID
	// maxMarkerWalk bounds how many earlier messages one displayed marker
	// marks as read.
	maxMarkerWalk = 500
	// discoTimeout bounds the service discovery query to our account.
	discoTimeout = 30 * time.Second
)

// messenger is the state of the message features of one Client. Handlers
// run on the client loop, tasks and API calls on other goroutines: mu
// guards every field.
type messenger struct {
	mu sync.Mutex

	// inflight maps the stanza id of every outbox stanza handed to the
	// session — and neither acknowledged, nor reported lost by a failed
	// resumption, nor failed — to its outbox item. The outbox flush after
	// a new session skips them, so that every pending stanza is sent
	// exactly once per stream. Ids are removed exactly when their stanza
	// leaves the session's queue (OnAcked, OnUndelivered), which a new
	// session does for every stanza of the old one.
	inflight map[string]outboxRef
	// held: a new session's outbox flush has not finished, so new
	// stanzas wait in the outbox for it (sent directly, they would
	// overtake older pending ones and arrive out of order); missed: one
	// did wait since the flush read the outbox.
	held, missed bool

	// The user's privacy choices (both on by default).
	sendMarkers    bool
	sendChatStates bool

	// chatPeers holds the bare JIDs known to support chat states (they
	// sent us one: XEP-0085 §5.1) and the last standalone state we sent
	// each ("" for none), never repeated (§5.4).
	chatPeers map[jid.JID]ChatState

	// sidTrusted says whether our server announced XEP-0359 (it then
	// strips stanza-ids that claim to be its own): only then are the
	// stanza-ids by our bare JID recorded (XEP-0359 §5).
	sidTrusted bool

	// sync is the state of carbons, archive catch-up and XEP-0490
	// (sync.go); it has its own lock.
	sync *syncer
}

// outboxRef names what an in-flight stanza stands for in the store.
type outboxRef struct {
	outbox OutboxID
	// msg is the stored message (0 for a payload item such as a reaction);
	// conv its conversation; timeline says whether it is a timeline entry
	// (not a correction), whose state changes are reported.
	msg      MessageID
	conv     ConversationID
	timeline bool
}

func newMessenger() *messenger {
	return &messenger{
		inflight:       make(map[string]outboxRef),
		sendMarkers:    true,
		sendChatStates: true,
		chatPeers:      make(map[jid.JID]ChatState),
		sync:           newSyncer(),
	}
}

// messages returns the messaging state of c.
func (c *Client) messages() *messenger { return c.messagesState }

// registerMessaging wires the message features: the inbound pipeline
// (parse, dedupe, apply, persist in one store transaction), the outbox and
// delivery states (XEP-0198, XEP-0184, XEP-0333), chat states (XEP-0085),
// corrections (XEP-0308), retractions (XEP-0424), reactions (XEP-0444) and
// replies (XEP-0461).
func registerMessaging(c *Client) {
	m := c.mux
	// sync.go: archive results and displayed notifications are taken
	// before the message handler sees them.
	registerSync(c)
	m.HandleMessage(c.handleMessage)
	c.OnAcked(c.outboxAcked)
	c.OnUndelivered(c.outboxUndelivered)
	c.OnOnline(c.onlineMessaging)
	c.OnOnline(c.onlineDisplayed)

	for _, f := range []string{
		receipts.NS, markers.NS, chatstates.NS, correction.NS, retraction.NS,
		reactions.NS, reply.NS, reply.NSFallback,
	} {
		m.AddFeature(f)
	}
}

// onlineMessaging runs after every new session: it learns whether our
// server vouches for its stanza-ids, enables carbons and catches up with
// the archive (sync.go), then sends what the outbox holds — after the
// catch-up, which takes out of the outbox what the archive shows arrived.
func (c *Client) onlineMessaging(ctx context.Context, _ session.Info) {
	// Nothing pending: new messages need not wait for the catch-up.
	c.releaseEmptyOutbox(ctx)
	trusted := c.serverStampsStanzaIDs(ctx)
	m := c.messages()
	m.mu.Lock()
	m.sidTrusted = trusted
	m.mu.Unlock()
	c.onlineSync(ctx)
	if ctx.Err() != nil {
		return
	}
	c.flushOutbox(ctx)
}

// serverStampsStanzaIDs asks our account for its features (XEP-0030) and
// reports whether it announces XEP-0359, which obliges it to strip
// stanza-ids forged in its name (XEP-0359 §3 rule 2, §5).
func (c *Client) serverStampsStanzaIDs(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, discoTimeout)
	defer cancel()
	res, err := c.SendIQ(ctx, disco.InfoRequest(c.accountJID(), ""))
	if err != nil {
		c.cfg.Logger.Debug("service discovery of our account failed; stanza-ids are not recorded", "err", err)
		return false
	}
	info, err := disco.ParseInfo(res)
	if err != nil {
		c.cfg.Logger.Debug("malformed service discovery result from our account", "err", err)
		return false
	}
	return info.HasFeature(sid.NS)
}

// accountJID returns our bare JID, the Sender of our messages in
// one-to-one conversations.
func (c *Client) accountJID() jid.JID { return c.cfg.Session.JID.Bare() }

// SetSendReadMarkers turns sending XEP-0333 displayed markers (MarkRead)
// on or off. They are on by default; a marker tells the contact that the
// user is here and has read their message (XEP-0333 §5).
func (c *Client) SetSendReadMarkers(on bool) {
	m := c.messages()
	m.mu.Lock()
	m.sendMarkers = on
	m.mu.Unlock()
}

// SetSendChatStates turns sending XEP-0085 chat states (SendChatState, and
// the <active/> of content messages) on or off. They are on by default; they
// tell the contact when the user is typing or looking.
func (c *Client) SetSendChatStates(on bool) {
	m := c.messages()
	m.mu.Lock()
	m.sendChatStates = on
	m.mu.Unlock()
}

// requireStore returns the store, or ErrNoStore.
func (c *Client) requireStore() (Store, error) {
	if c.cfg.Store == nil {
		return nil, ErrNoStore
	}
	return c.cfg.Store, nil
}
