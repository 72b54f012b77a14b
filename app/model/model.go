// Package model is Tern's toolkit-free view state (DESIGN.md §1, §3): the
// accounts with their connection state, the conversation list and the open
// timelines, fed by the engine's events (protocol/client) and reads of its
// store. It never imports a GUI toolkit. Its methods run off the UI thread
// (they may read the store) and return immutable snapshots that the UI
// applies on its own thread.
//
// Delivery states follow the engine: pending, sent (XEP-0198), delivered
// (XEP-0184), read (XEP-0333) and failed; corrections are XEP-0308 and
// retractions XEP-0424.
package model

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
)

// PageSize is how many messages a timeline loads at a time.
const PageSize = 50

// PreviewLength bounds the last-message preview of a conversation, in runes.
const PreviewLength = 80

// ErrNotOpen is returned when a timeline operation names a conversation
// that was not opened with Open.
var ErrNotOpen = errors.New("model: conversation not open")

// Engine is what the UI asks of an account's engine. *client.Client
// implements it; tests fake it.
type Engine interface {
	// SendMessage sends a chat message (stored as pending first).
	SendMessage(ctx context.Context, to jid.JID, body string, opts client.SendOptions) (client.MessageID, error)
	// Retry sends a failed message again.
	Retry(ctx context.Context, id client.MessageID) error
	// Correct replaces the text of one of our messages (XEP-0308).
	Correct(ctx context.Context, id client.MessageID, newBody string) error
	// MarkRead moves the read position of a conversation forward.
	MarkRead(ctx context.Context, conv client.ConversationID, upTo client.MessageID) error
	// Retract retracts one of our messages (XEP-0424).
	Retract(ctx context.Context, id client.MessageID) error
	// React sets our reactions to a message (XEP-0444): the full set.
	React(ctx context.Context, id client.MessageID, emojis []string) error
	// SendChatState tells a contact our chat state (XEP-0085); the engine
	// sends nothing when the contact does not support them.
	SendChatState(ctx context.Context, to jid.JID, state client.ChatState) error
	// LoadOlder fetches up to n older messages of a conversation from the
	// archive (XEP-0313) into the store, and reports how many were new and
	// whether the archive has nothing older.
	LoadOlder(ctx context.Context, conv client.ConversationID, n int) (int, bool, error)
	// Repair heals the OMEMO session behind a message that could not be
	// decrypted (client.ErrTrustDecision: the user must decide about the
	// device's new key first).
	Repair(ctx context.Context, id client.MessageID) error
	// SetPinned stores that a conversation is pinned to the top of the
	// list, or not.
	SetPinned(ctx context.Context, conv client.ConversationID, on bool) error
	// SetArchived stores that a conversation is archived, or not.
	SetArchived(ctx context.Context, conv client.ConversationID, on bool) error
	// Corrections returns the edit history of a message (XEP-0308): the
	// original, then each correction, oldest first.
	Corrections(ctx context.Context, msg client.MessageID) ([]client.Message, error)
}

var _ Engine = (*client.Client)(nil)

// ConnState is an account's connection state.
type ConnState uint8

// The connection states.
const (
	StateOffline    ConnState = iota // not connected (waiting to retry, or stopped)
	StateConnecting                  // an attempt is under way
	StateOnline                      // connected
	StateFailed                      // a permanent error stopped the account; it needs the user
)

// String returns a short English name of the state, as shown to the user.
func (s ConnState) String() string {
	switch s {
	case StateOffline:
		return "offline"
	case StateConnecting:
		return "connecting"
	case StateOnline:
		return "online"
	case StateFailed:
		return "failed"
	}
	return "invalid"
}

// Account is an account's status.
type Account struct {
	ID    client.AccountID
	JID   jid.JID
	State ConnState
	// Err is why the account is offline or failed ("" when there is no
	// error to show).
	Err string
}

// Presence is a contact's availability as the conversation list shows it:
// the most available of its resources (RFC 6121 §4.7.2.1 show values).
type Presence uint8

// The presences, least available first.
const (
	PresenceOffline Presence = iota // no available resource
	PresenceDND                     // "dnd"
	PresenceAway                    // "away" or "xa"
	PresenceOnline                  // available ("" or "chat")
)

// String returns a short English name of the presence, as shown to the
// user.
func (p Presence) String() string {
	switch p {
	case PresenceOffline:
		return "offline"
	case PresenceDND:
		return "busy"
	case PresenceAway:
		return "away"
	case PresenceOnline:
		return "online"
	}
	return "invalid"
}

// presenceOf maps a show value to a Presence.
func presenceOf(show string) Presence {
	switch show {
	case "dnd":
		return PresenceDND
	case "away", "xa":
		return PresenceAway
	}
	return PresenceOnline
}

// Conversation is one row of the conversation list.
type Conversation struct {
	ID      client.ConversationID
	Account client.AccountID
	Peer    jid.JID
	// Name is what the list shows: the peer's bare JID.
	Name string
	// LastActivity is the time of the newest message (zero when none).
	LastActivity time.Time
	// Unread counts the unread inbound messages.
	Unread int
	// Preview is the start of the newest message's text, on one line.
	Preview string
	// Presence is the peer's availability.
	Presence Presence
	// ChatState is the peer's last chat state (XEP-0085), "" when none
	// was received; ChatComposing shows "typing…".
	ChatState client.ChatState
	// Pinned conversations come first in the list, the most recently
	// pinned first (PinnedAt; zero when not pinned); Archived ones are only
	// shown on demand. The store keeps both (client.Conversation), and
	// brings an archived conversation back when a new message arrives or is
	// sent.
	Pinned   bool
	PinnedAt time.Time
	Archived bool
	// Encryption is the user's encryption choice for the conversation.
	Encryption client.EncryptionPolicy
}

// Timeline is a snapshot of the window of one conversation's timeline that
// is loaded: consecutive messages, oldest first. It must not be modified.
type Timeline struct {
	Conversation client.ConversationID
	Account      client.AccountID
	Peer         jid.JID
	Messages     []client.Message
	// HasOlder reports that the store may hold older messages (the last
	// page read was full).
	HasOlder bool
	// HasNewer reports that the window does not reach the newest message
	// (it was opened around a search result): live messages are not
	// appended, and LoadNewer reads the next page.
	HasNewer bool
	// Focus is the message the window was opened around (OpenAt), or 0.
	Focus client.MessageID
}

// snapshot returns a copy of the window t to hand out. Its messages are
// clipped: appending to them never writes into the array the model goes
// on appending live messages to.
func (t *Timeline) snapshot() Timeline {
	s := *t
	s.Messages = slices.Clip(s.Messages)
	return s
}

// timelineOrder orders the messages of a timeline: by time, then by id.
func timelineOrder(a, b client.Message) int {
	if c := a.Time.Compare(b.Time); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

// LastOwn returns the newest outbound message that is not retracted, and
// whether there is one: the message Up edits in the composer.
func (t Timeline) LastOwn() (client.Message, bool) {
	for i := len(t.Messages) - 1; i >= 0; i-- {
		m := t.Messages[i]
		if m.Direction == client.Outbound && m.Retracted.IsZero() {
			return m, true
		}
	}
	return client.Message{}, false
}

// Change says which snapshots an event changed. Nil fields did not change.
type Change struct {
	// Accounts is the new account list, when it changed.
	Accounts []Account
	// Conversations is the new conversation list, when it changed.
	Conversations []Conversation
	// Timeline is the new snapshot of an open timeline, when it changed.
	Timeline *Timeline
	// Received is set when a message from a peer arrived (for
	// notifications).
	Received *client.Message
	// TrustNeeded is set when devices of a contact wait for the user's
	// trust decision (OMEMO: a new device of a contact with verified
	// devices, or a changed identity key).
	TrustNeeded *client.TrustNeeded
	// Contacts reports that the roster, the subscription requests or the
	// block list changed (read them again).
	Contacts bool
}

// Empty reports whether nothing changed.
func (c Change) Empty() bool {
	return c.Accounts == nil && c.Conversations == nil && c.Timeline == nil && c.Received == nil &&
		c.TrustNeeded == nil && !c.Contacts
}

// Model is the view state of every account. Its methods are safe for
// concurrent use; they may read the store, so call them off the UI thread.
type Model struct {
	store client.History

	mu        sync.Mutex // guards the fields below
	accounts  []Account
	convs     []Conversation
	timelines map[client.ConversationID]*Timeline
	// presence holds the available resources of each contact with their
	// show values, per account.
	presence map[contactKey]map[string]string
	// states holds the last chat state of each contact, per account.
	states map[contactKey]client.ChatState
}

// contactKey names a contact of an account.
type contactKey struct {
	acct client.AccountID
	jid  jid.JID
}

// New returns an empty model reading history from store.
func New(store client.History) *Model {
	return &Model{
		store:     store,
		timelines: make(map[client.ConversationID]*Timeline),
		presence:  make(map[contactKey]map[string]string),
		states:    make(map[contactKey]client.ChatState),
	}
}

// Accounts returns the accounts' statuses, in the order they were added.
func (m *Model) Accounts() []Account {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.accounts)
}

// Conversations returns the conversation list, newest activity first.
func (m *Model) Conversations() []Conversation {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.convs)
}

// AddAccount adds an account (offline) and loads its conversations from the
// store. It returns the new account and conversation lists.
func (m *Model) AddAccount(ctx context.Context, id client.AccountID, account jid.JID) (Change, error) {
	convs, err := m.store.Conversations(ctx, id)
	if err != nil {
		return Change{}, fmt.Errorf("model: load conversations: %w", err)
	}
	lasts, err := m.store.LastMessages(ctx, id)
	if err != nil {
		return Change{}, fmt.Errorf("model: load previews: %w", err)
	}
	last := make(map[client.ConversationID]*client.Message, len(lasts))
	for i := range lasts {
		last[lasts[i].Conversation] = &lasts[i]
	}
	items := make([]Conversation, 0, len(convs))
	for _, c := range convs {
		items = append(items, newItem(c, last[c.ID]))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if i := m.account(id); i < 0 {
		m.accounts = append(m.accounts, Account{ID: id, JID: account.Bare()})
	}
	for i := range items {
		m.decorate(&items[i])
	}
	m.convs = slices.DeleteFunc(slices.Clone(m.convs), func(c Conversation) bool { return c.Account == id })
	m.convs = append(m.convs, items...)
	sortConversations(m.convs)
	return Change{Accounts: slices.Clone(m.accounts), Conversations: slices.Clone(m.convs)}, nil
}

// RemoveAccount drops an account (removed by the user) with its
// conversations, their loaded timelines and what the model kept about its
// contacts. It returns the new account and conversation lists; an unknown
// account changes nothing (an empty Change).
func (m *Model) RemoveAccount(id client.AccountID) Change {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := m.account(id)
	if i < 0 {
		return Change{}
	}
	m.accounts = slices.Delete(slices.Clone(m.accounts), i, i+1)
	var kept []Conversation
	for _, c := range m.convs {
		if c.Account != id {
			kept = append(kept, c)
			continue
		}
		delete(m.timelines, c.ID)
	}
	m.convs = kept
	for k := range m.presence {
		if k.acct == id {
			delete(m.presence, k)
		}
	}
	for k := range m.states {
		if k.acct == id {
			delete(m.states, k)
		}
	}
	// Non-nil lists: an empty list is a change too.
	return Change{Accounts: append([]Account{}, m.accounts...), Conversations: append([]Conversation{}, m.convs...)}
}

// item builds a list row for a stored conversation, with its preview.
func (m *Model) item(ctx context.Context, c client.Conversation) (Conversation, error) {
	last, err := m.store.LatestPage(ctx, c.ID, 1)
	if err != nil {
		return Conversation{}, fmt.Errorf("model: load preview: %w", err)
	}
	if len(last) == 0 {
		return newItem(c, nil), nil
	}
	return newItem(c, &last[0]), nil
}

// newItem returns the list row of c with the preview of its newest
// message last (nil when it has none).
func newItem(c client.Conversation, last *client.Message) Conversation {
	item := Conversation{
		ID:           c.ID,
		Account:      c.Account,
		Peer:         c.Peer,
		Name:         c.Peer.String(),
		LastActivity: c.LastActivity,
		Unread:       c.Unread,
		Encryption:   c.Encryption,
		Pinned:       !c.Pinned.IsZero(),
		PinnedAt:     c.Pinned,
		Archived:     c.Archived,
	}
	if last != nil {
		item.Preview = Preview(*last)
	}
	return item
}

// account returns the index of account id, or -1. m.mu is held.
func (m *Model) account(id client.AccountID) int {
	return slices.IndexFunc(m.accounts, func(a Account) bool { return a.ID == id })
}

// decorate sets the state the model keeps itself on a list row: presence
// and chat state. m.mu is held.
func (m *Model) decorate(c *Conversation) {
	k := contactKey{c.Account, c.Peer.Bare()}
	c.Presence = PresenceOffline
	for _, show := range m.presence[k] {
		c.Presence = max(c.Presence, presenceOf(show))
	}
	c.ChatState = m.states[k]
}

// sortConversations orders the list with the pinned conversations first,
// the most recently pinned first (pins stay put when messages arrive),
// then by newest activity, then by name so that the order is stable.
func sortConversations(cs []Conversation) {
	slices.SortStableFunc(cs, func(a, b Conversation) int {
		if a.Pinned != b.Pinned {
			if a.Pinned {
				return -1
			}
			return 1
		}
		if c := b.PinnedAt.Compare(a.PinnedAt); c != 0 {
			return c
		}
		if c := b.LastActivity.Compare(a.LastActivity); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})
}

// Filter returns the conversations whose name or preview contains text,
// ignoring case; all of them when text is blank.
func Filter(cs []Conversation, text string) []Conversation {
	text = strings.ToLower(strings.TrimSpace(text))
	if text == "" {
		return cs
	}
	var out []Conversation
	for _, c := range cs {
		if containsFold(c.Name, text) || containsFold(c.Preview, text) {
			out = append(out, c)
		}
	}
	return out
}

// Visible returns the conversations the list shows: the archived ones
// only when archived is set, the others otherwise.
func Visible(cs []Conversation, archived bool) []Conversation {
	out := make([]Conversation, 0, len(cs))
	for _, c := range cs {
		if c.Archived == archived {
			out = append(out, c)
		}
	}
	return out
}

// containsFold reports whether s contains lower (a lower-case string),
// ignoring case, without allocating for ASCII text.
func containsFold(s, lower string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return strings.Contains(strings.ToLower(s), lower)
		}
	}
	n := len(lower)
	for i := 0; i+n <= len(s); i++ {
		j := 0
		for j < n {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != lower[j] {
				break
			}
			j++
		}
		if j == n {
			return true
		}
	}
	return false
}

// Preview is the one-line preview of a message in the conversation list.
func Preview(msg client.Message) string {
	var s string
	switch {
	case !msg.Retracted.IsZero():
		s = "Message retracted"
	case msg.LastCorrection != nil:
		s = msg.LastCorrection.Body
	case msg.Body != "":
		s = msg.Body
	case len(msg.Attachments) > 0:
		s = "Attachment"
	}
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > PreviewLength {
		s = string(r[:PreviewLength-1]) + "…"
	}
	if msg.Direction == client.Outbound && s != "" {
		s = "You: " + s
	}
	return s
}

// Open loads the latest page of a conversation's timeline (or returns the
// window already loaded) and keeps it up to date with later events until
// Close.
func (m *Model) Open(ctx context.Context, conv client.ConversationID) (Timeline, error) {
	m.mu.Lock()
	if t, ok := m.timelines[conv]; ok && !t.HasNewer && t.Focus == 0 {
		m.mu.Unlock()
		return t.snapshot(), nil
	}
	// A window opened around a message (OpenAt) is replaced by the latest
	// page.
	delete(m.timelines, conv)
	i := slices.IndexFunc(m.convs, func(c Conversation) bool { return c.ID == conv })
	var item Conversation
	if i >= 0 {
		item = m.convs[i]
	}
	m.mu.Unlock()

	msgs, err := m.store.LatestPage(ctx, conv, PageSize)
	if err != nil {
		return Timeline{}, fmt.Errorf("model: open conversation: %w", err)
	}
	t := &Timeline{
		Conversation: conv,
		Account:      item.Account,
		Peer:         item.Peer,
		Messages:     msgs,
		HasOlder:     len(msgs) == PageSize,
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.timelines[conv]; ok {
		return old.snapshot(), nil // opened concurrently: keep the first window
	}
	m.timelines[conv] = t
	return t.snapshot(), nil
}

// Search runs a full-text search over an account's history (the store's
// Search).
func (m *Model) Search(ctx context.Context, acct client.AccountID, query string, limit int) ([]client.SearchHit, error) {
	hits, err := m.store.Search(ctx, acct, query, limit)
	if err != nil {
		return nil, fmt.Errorf("model: search: %w", err)
	}
	return hits, nil
}

// Close forgets a conversation's loaded window.
func (m *Model) Close(conv client.ConversationID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.timelines, conv)
}

// LoadOlder prepends the page of messages before the oldest loaded one.
func (m *Model) LoadOlder(ctx context.Context, conv client.ConversationID) (Timeline, error) {
	m.mu.Lock()
	t, ok := m.timelines[conv]
	if !ok {
		m.mu.Unlock()
		return Timeline{}, ErrNotOpen
	}
	if !t.HasOlder || len(t.Messages) == 0 {
		defer m.mu.Unlock()
		return t.snapshot(), nil
	}
	first := t.Messages[0].ID
	m.mu.Unlock()

	older, err := m.store.PageBefore(ctx, conv, first, PageSize)
	if err != nil {
		return Timeline{}, fmt.Errorf("model: load older messages: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok = m.timelines[conv]
	if !ok {
		return Timeline{}, ErrNotOpen
	}
	if len(t.Messages) == 0 || t.Messages[0].ID != first {
		return t.snapshot(), nil // another load got there first
	}
	nt := *t
	nt.Messages = append(slices.Clip(older), t.Messages...)
	nt.HasOlder = len(older) == PageSize
	m.timelines[conv] = &nt
	return nt.snapshot(), nil
}

// Apply updates the model with an event of account acct and reports what
// changed. It may read the store (a changed message is read whole).
func (m *Model) Apply(ctx context.Context, acct client.AccountID, ev client.Event) (Change, error) {
	switch e := ev.(type) {
	case client.Connecting:
		return m.setState(acct, StateConnecting, ""), nil
	case client.Online:
		return m.setState(acct, StateOnline, ""), nil
	case client.Offline:
		msg := ""
		if e.Err != nil {
			msg = e.Err.Error()
		}
		return m.setState(acct, StateOffline, msg), nil
	case client.Failed:
		msg := ""
		if e.Err != nil {
			msg = e.Err.Error()
		}
		return m.setState(acct, StateFailed, msg), nil
	case client.MessageReceived:
		ch, err := m.added(ctx, acct, e.Message)
		if err == nil && e.Message.Direction == client.Inbound {
			msg := e.Message
			ch.Received = &msg
		}
		return ch, err
	case client.MessageQueued:
		return m.added(ctx, acct, e.Message)
	case client.MessageUpdated:
		return m.updated(ctx, e)
	case client.PresenceChanged:
		return m.presenceChanged(acct, e), nil
	case client.ChatStateChanged:
		return m.chatState(acct, e.From.Bare(), e.State), nil
	case client.HistoryLoaded:
		return m.historyLoaded(e), nil
	case client.ReadSynced:
		return m.readSynced(e), nil
	case client.TrustNeeded:
		return Change{TrustNeeded: &e}, nil
	case client.RosterChanged, client.SubscriptionRequested, client.SubscriptionRequestRemoved, client.BlocklistChanged:
		return Change{Contacts: true}, nil
	}
	return Change{}, nil
}

// presenceChanged records a resource's presence and updates the rows of
// the contact's conversations.
func (m *Model) presenceChanged(acct client.AccountID, e client.PresenceChanged) Change {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := contactKey{acct, e.Presence.JID.Bare()}
	res := e.Presence.JID.Resource()
	if e.Available {
		if m.presence[k] == nil {
			m.presence[k] = make(map[string]string)
		}
		m.presence[k][res] = e.Presence.Show
	} else {
		delete(m.presence[k], res)
		if len(m.presence[k]) == 0 {
			delete(m.presence, k)
			// A contact that went away stops typing (XEP-0085 §5.6).
			delete(m.states, k)
		}
	}
	return m.redecorate(k)
}

// chatState records a contact's chat state.
func (m *Model) chatState(acct client.AccountID, from jid.JID, st client.ChatState) Change {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := contactKey{acct, from}
	if m.states[k] == st {
		return Change{}
	}
	m.states[k] = st
	return m.redecorate(k)
}

// redecorate refreshes the rows of contact k and returns the new list when
// one changed. m.mu is held.
func (m *Model) redecorate(k contactKey) Change {
	changed := false
	for i, c := range m.convs {
		if c.Account != k.acct || c.Peer.Bare() != k.jid {
			continue
		}
		d := c
		m.decorate(&d)
		if d.Presence != c.Presence || d.ChatState != c.ChatState {
			if !changed {
				m.convs = slices.Clone(m.convs)
				changed = true
			}
			m.convs[i] = d
		}
	}
	if !changed {
		return Change{}
	}
	return Change{Conversations: slices.Clone(m.convs)}
}

// historyLoaded notes that the archive stored older messages: the open
// timeline may read them from the store.
func (m *Model) historyLoaded(e client.HistoryLoaded) Change {
	if e.Added == 0 {
		return Change{}
	}
	if t, ok := m.MoreStored(e.Conversation); ok {
		return Change{Timeline: &t}
	}
	return Change{}
}

// readSynced applies a read position set by another device of ours.
func (m *Model) readSynced(e client.ReadSynced) Change {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := slices.IndexFunc(m.convs, func(c Conversation) bool { return c.ID == e.Conversation })
	if i < 0 || m.convs[i].Unread == e.Unread {
		return Change{}
	}
	m.convs = slices.Clone(m.convs)
	m.convs[i].Unread = e.Unread
	return Change{Conversations: slices.Clone(m.convs)}
}

// MoreStored marks that the store may hold messages older than the open
// window of conv (the archive stored some), and returns the window and
// whether conv is open.
func (m *Model) MoreStored(conv client.ConversationID) (Timeline, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.timelines[conv]
	if !ok {
		return Timeline{}, false
	}
	if !t.HasOlder {
		nt := *t
		nt.HasOlder = true
		m.timelines[conv] = &nt
		t = &nt
	}
	return t.snapshot(), true
}

// setRow changes the row of conv with set, which reports whether it changed
// anything, and returns the new list sorted, or nil when nothing changed.
func (m *Model) setRow(conv client.ConversationID, set func(c *Conversation) bool) []Conversation {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := slices.IndexFunc(m.convs, func(c Conversation) bool { return c.ID == conv })
	if i < 0 {
		return nil
	}
	row := m.convs[i]
	if !set(&row) {
		return nil
	}
	m.convs = slices.Clone(m.convs)
	m.convs[i] = row
	sortConversations(m.convs)
	return slices.Clone(m.convs)
}

// SetPinned pins conv to the top of the list (as pinned now), or unpins
// it, and returns the new list (nil when nothing changed). It changes the
// model only, at once: the caller stores the choice through the engine
// (Engine.SetPinned) and puts the row back with SetPinnedAt if that fails.
func (m *Model) SetPinned(conv client.ConversationID, on bool) []Conversation {
	return m.setRow(conv, func(c *Conversation) bool {
		if c.Pinned == on {
			return false
		}
		c.Pinned, c.PinnedAt = on, time.Time{}
		if on {
			c.PinnedAt = time.Now()
		}
		return true
	})
}

// SetPinnedAt sets when conv was pinned (zero: not pinned), e.g. back to
// what a row showed before a change the store refused, and returns the new
// list (nil when nothing changed).
func (m *Model) SetPinnedAt(conv client.ConversationID, at time.Time) []Conversation {
	return m.setRow(conv, func(c *Conversation) bool {
		if c.PinnedAt.Equal(at) && c.Pinned == !at.IsZero() {
			return false
		}
		c.Pinned, c.PinnedAt = !at.IsZero(), at
		return true
	})
}

// SetArchived archives conv (the list hides it until asked) or brings it
// back, and returns the new list (nil when nothing changed). It changes
// the model only, at once: the caller stores the choice through the engine
// (Engine.SetArchived) and calls SetArchived again to undo it if that
// fails. A new message brings an archived conversation back, here as in
// the store.
func (m *Model) SetArchived(conv client.ConversationID, on bool) []Conversation {
	return m.setRow(conv, func(c *Conversation) bool {
		if c.Archived == on {
			return false
		}
		c.Archived = on
		return true
	})
}

// SetEncryption records the encryption choice of conv (after the engine
// stored it) and returns the new list, or nil when nothing changed.
func (m *Model) SetEncryption(conv client.ConversationID, p client.EncryptionPolicy) []Conversation {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := slices.IndexFunc(m.convs, func(c Conversation) bool { return c.ID == conv })
	if i < 0 || m.convs[i].Encryption == p {
		return nil
	}
	m.convs = slices.Clone(m.convs)
	m.convs[i].Encryption = p
	return slices.Clone(m.convs)
}

// Conversation returns the list row of conv, and whether there is one.
func (m *Model) Conversation(conv client.ConversationID) (Conversation, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := slices.IndexFunc(m.convs, func(c Conversation) bool { return c.ID == conv })
	if i < 0 {
		return Conversation{}, false
	}
	return m.convs[i], true
}

// OpenAt loads the window of conv around the message at (a search result):
// up to PageSize/2 messages before it and after it, replacing the window
// loaded before. Focus names the message.
func (m *Model) OpenAt(ctx context.Context, conv client.ConversationID, at client.MessageID) (Timeline, error) {
	half := PageSize / 2
	msg, err := m.store.Message(ctx, at)
	if err != nil {
		return Timeline{}, fmt.Errorf("model: open at a message: %w", err)
	}
	if msg.Conversation != conv {
		return Timeline{}, fmt.Errorf("model: open at a message: %w", client.ErrOtherConversation)
	}
	before, err := m.store.PageBefore(ctx, conv, at, half)
	if err != nil {
		return Timeline{}, fmt.Errorf("model: open at a message: %w", err)
	}
	after, err := m.store.PageAfter(ctx, conv, at, half)
	if err != nil {
		return Timeline{}, fmt.Errorf("model: open at a message: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var item Conversation
	if i := slices.IndexFunc(m.convs, func(c Conversation) bool { return c.ID == conv }); i >= 0 {
		item = m.convs[i]
	}
	t := &Timeline{
		Conversation: conv,
		Account:      item.Account,
		Peer:         item.Peer,
		Messages:     slices.Concat(before, []client.Message{msg}, after),
		HasOlder:     len(before) == half,
		HasNewer:     len(after) == half,
		Focus:        at,
	}
	m.timelines[conv] = t
	return t.snapshot(), nil
}

// LoadNewer appends the page of messages after the newest loaded one, for
// a window opened with OpenAt.
func (m *Model) LoadNewer(ctx context.Context, conv client.ConversationID) (Timeline, error) {
	m.mu.Lock()
	t, ok := m.timelines[conv]
	if !ok {
		m.mu.Unlock()
		return Timeline{}, ErrNotOpen
	}
	if !t.HasNewer || len(t.Messages) == 0 {
		defer m.mu.Unlock()
		return t.snapshot(), nil
	}
	last := t.Messages[len(t.Messages)-1].ID
	m.mu.Unlock()

	newer, err := m.store.PageAfter(ctx, conv, last, PageSize)
	if err != nil {
		return Timeline{}, fmt.Errorf("model: load newer messages: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok = m.timelines[conv]
	if !ok {
		return Timeline{}, ErrNotOpen
	}
	if len(t.Messages) == 0 || t.Messages[len(t.Messages)-1].ID != last {
		return t.snapshot(), nil
	}
	nt := *t
	nt.Messages = append(slices.Clip(t.Messages), newer...)
	nt.HasNewer = len(newer) == PageSize
	m.timelines[conv] = &nt
	return nt.snapshot(), nil
}

// setState records an account's connection state.
func (m *Model) setState(acct client.AccountID, s ConnState, errText string) Change {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := m.account(acct)
	if i < 0 {
		return Change{}
	}
	if m.accounts[i].State == s && m.accounts[i].Err == errText {
		return Change{}
	}
	m.accounts = slices.Clone(m.accounts)
	m.accounts[i].State, m.accounts[i].Err = s, errText
	return Change{Accounts: slices.Clone(m.accounts)}
}

// added handles a new timeline message (received or queued).
func (m *Model) added(ctx context.Context, acct client.AccountID, msg client.Message) (Change, error) {
	m.mu.Lock()
	known := slices.ContainsFunc(m.convs, func(c Conversation) bool { return c.ID == msg.Conversation })
	m.mu.Unlock()
	var fresh *Conversation
	if !known {
		// A new conversation: read it from the store.
		convs, err := m.store.Conversations(ctx, acct)
		if err != nil {
			return Change{}, fmt.Errorf("model: load conversations: %w", err)
		}
		for _, c := range convs {
			if c.ID == msg.Conversation {
				item, err := m.item(ctx, c)
				if err != nil {
					return Change{}, err
				}
				fresh = &item
			}
		}
		if fresh == nil {
			return Change{}, fmt.Errorf("model: conversation %d: %w", msg.Conversation, client.ErrNotFound)
		}
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	var ch Change
	// A message from the peer ends its typing notification (XEP-0085 §5.2:
	// content messages imply "active").
	if msg.Direction == client.Inbound {
		for k, st := range m.states {
			if k.acct == acct && st != client.ChatActive && m.isPeer(msg.Conversation, k) {
				m.states[k] = client.ChatActive
			}
		}
	}
	if fresh != nil {
		m.decorate(fresh)
	}
	i := slices.IndexFunc(m.convs, func(c Conversation) bool { return c.ID == msg.Conversation })
	switch {
	case i >= 0:
		// A copy: published snapshots are never changed.
		m.convs = slices.Clone(m.convs)
		c := &m.convs[i]
		if !msg.Time.Before(c.LastActivity) {
			// The newest message: it brings an archived conversation
			// back, as the store did when it stored it; an older one (a
			// late archive message) does not.
			c.LastActivity = msg.Time
			c.Preview = Preview(msg)
			c.Archived = false
		}
		if msg.Direction == client.Inbound && msg.ID > 0 {
			c.Unread++
		}
		m.decorate(c)
	case fresh != nil:
		m.convs = append(slices.Clone(m.convs), *fresh)
	}
	sortConversations(m.convs)
	ch.Conversations = slices.Clone(m.convs)

	if t, ok := m.timelines[msg.Conversation]; ok && !t.HasNewer && !slices.ContainsFunc(t.Messages, func(x client.Message) bool { return x.ID == msg.ID }) {
		nt := *t
		// Live messages go after the loaded window, appended to its array
		// (snapshots are clipped: none sees past its own messages). One
		// older than the newest loaded (a late archive message) is placed
		// in order, in a new array.
		n := len(t.Messages)
		i := n
		for i > 0 && timelineOrder(t.Messages[i-1], msg) > 0 {
			i--
		}
		if i == n {
			nt.Messages = append(t.Messages, msg)
		} else {
			nt.Messages = slices.Insert(slices.Clip(t.Messages), i, msg)
		}
		m.timelines[msg.Conversation] = &nt
		snap := nt.snapshot()
		ch.Timeline = &snap
	}
	return ch, nil
}

// isPeer reports whether k is the peer of conversation conv. m.mu is held.
func (m *Model) isPeer(conv client.ConversationID, k contactKey) bool {
	i := slices.IndexFunc(m.convs, func(c Conversation) bool { return c.ID == conv })
	return i >= 0 && m.convs[i].Account == k.acct && m.convs[i].Peer.Bare() == k.jid
}

// updated handles a change to a stored message: the message is read again
// from the store and replaced in its open timeline.
func (m *Model) updated(ctx context.Context, e client.MessageUpdated) (Change, error) {
	m.mu.Lock()
	t, open := m.timelines[e.Conversation]
	inWindow := open && slices.ContainsFunc(t.Messages, func(x client.Message) bool { return x.ID == e.ID })
	m.mu.Unlock()
	if !inWindow && e.Corrected == nil && !e.Retracted {
		return Change{}, nil
	}
	msg, err := m.store.Message(ctx, e.ID)
	if err != nil {
		return Change{}, fmt.Errorf("model: read updated message: %w", err)
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	var ch Change
	if t, ok := m.timelines[e.Conversation]; ok {
		if i := slices.IndexFunc(t.Messages, func(x client.Message) bool { return x.ID == e.ID }); i >= 0 {
			nt := *t
			nt.Messages = slices.Clone(t.Messages)
			nt.Messages[i] = msg
			m.timelines[e.Conversation] = &nt
			snap := nt.snapshot()
			ch.Timeline = &snap
		}
	}
	// A correction or retraction of the newest message changes the preview.
	if i := slices.IndexFunc(m.convs, func(c Conversation) bool { return c.ID == e.Conversation }); i >= 0 &&
		(e.Corrected != nil || e.Retracted) && msg.Time.Equal(m.convs[i].LastActivity) {
		m.convs = slices.Clone(m.convs)
		m.convs[i].Preview = Preview(msg)
		ch.Conversations = slices.Clone(m.convs)
	}
	return ch, nil
}

// MarkRead records that the user saw every message of conv: its unread
// count drops to zero. It returns the new list, or nil when nothing changed.
func (m *Model) MarkRead(conv client.ConversationID) []Conversation {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := slices.IndexFunc(m.convs, func(c Conversation) bool { return c.ID == conv })
	if i < 0 || m.convs[i].Unread == 0 {
		return nil
	}
	m.convs = slices.Clone(m.convs)
	m.convs[i].Unread = 0
	return slices.Clone(m.convs)
}

// Unread returns the total number of unread messages.
func Unread(cs []Conversation) int {
	n := 0
	for _, c := range cs {
		n += c.Unread
	}
	return n
}
