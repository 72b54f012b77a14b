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
}

// Empty reports whether nothing changed.
func (c Change) Empty() bool {
	return c.Accounts == nil && c.Conversations == nil && c.Timeline == nil && c.Received == nil
}

// Model is the view state of every account. Its methods are safe for
// concurrent use; they may read the store, so call them off the UI thread.
type Model struct {
	store client.History

	mu        sync.Mutex // guards the fields below
	accounts  []Account
	convs     []Conversation
	timelines map[client.ConversationID]*Timeline
}

// New returns an empty model reading history from store.
func New(store client.History) *Model {
	return &Model{store: store, timelines: make(map[client.ConversationID]*Timeline)}
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
	items := make([]Conversation, 0, len(convs))
	for _, c := range convs {
		item, err := m.item(ctx, c)
		if err != nil {
			return Change{}, err
		}
		items = append(items, item)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if i := m.account(id); i < 0 {
		m.accounts = append(m.accounts, Account{ID: id, JID: account.Bare()})
	}
	m.convs = slices.DeleteFunc(m.convs, func(c Conversation) bool { return c.Account == id })
	m.convs = append(m.convs, items...)
	sortConversations(m.convs)
	return Change{Accounts: slices.Clone(m.accounts), Conversations: slices.Clone(m.convs)}, nil
}

// item builds a list row for a stored conversation, with its preview.
func (m *Model) item(ctx context.Context, c client.Conversation) (Conversation, error) {
	item := Conversation{
		ID:           c.ID,
		Account:      c.Account,
		Peer:         c.Peer,
		Name:         c.Peer.String(),
		LastActivity: c.LastActivity,
		Unread:       c.Unread,
	}
	last, err := m.store.LatestPage(ctx, c.ID, 1)
	if err != nil {
		return Conversation{}, fmt.Errorf("model: load preview: %w", err)
	}
	if len(last) > 0 {
		item.Preview = Preview(last[0])
	}
	return item, nil
}

// account returns the index of account id, or -1. m.mu is held.
func (m *Model) account(id client.AccountID) int {
	return slices.IndexFunc(m.accounts, func(a Account) bool { return a.ID == id })
}

// sortConversations orders the list by newest activity first, then by name
// so that the order is stable.
func sortConversations(cs []Conversation) {
	slices.SortStableFunc(cs, func(a, b Conversation) int {
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
		if strings.Contains(strings.ToLower(c.Name), text) || strings.Contains(strings.ToLower(c.Preview), text) {
			out = append(out, c)
		}
	}
	return out
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
	if t, ok := m.timelines[conv]; ok {
		m.mu.Unlock()
		return *t, nil
	}
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
		return *old, nil // opened concurrently: keep the first window
	}
	m.timelines[conv] = t
	return *t, nil
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
		return *t, nil
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
		return *t, nil // another load got there first
	}
	nt := *t
	nt.Messages = append(slices.Clip(older), t.Messages...)
	nt.HasOlder = len(older) == PageSize
	m.timelines[conv] = &nt
	return nt, nil
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
	}
	return Change{}, nil
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
	i := slices.IndexFunc(m.convs, func(c Conversation) bool { return c.ID == msg.Conversation })
	switch {
	case i >= 0:
		// A copy: published snapshots are never changed.
		m.convs = slices.Clone(m.convs)
		c := &m.convs[i]
		if !msg.Time.Before(c.LastActivity) {
			c.LastActivity = msg.Time
			c.Preview = Preview(msg)
		}
		if msg.Direction == client.Inbound && msg.ID > 0 {
			c.Unread++
		}
	case fresh != nil:
		m.convs = append(slices.Clone(m.convs), *fresh)
	}
	sortConversations(m.convs)
	ch.Conversations = slices.Clone(m.convs)

	if t, ok := m.timelines[msg.Conversation]; ok && !slices.ContainsFunc(t.Messages, func(x client.Message) bool { return x.ID == msg.ID }) {
		nt := *t
		// Live messages go after the loaded window. One older than the
		// newest loaded (a late archive message) is placed in order.
		msgs := append(slices.Clip(t.Messages), msg)
		slices.SortStableFunc(msgs, func(a, b client.Message) int {
			if c := a.Time.Compare(b.Time); c != 0 {
				return c
			}
			return cmp.Compare(a.ID, b.ID)
		})
		nt.Messages = msgs
		m.timelines[msg.Conversation] = &nt
		ch.Timeline = &nt
	}
	return ch, nil
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
			ch.Timeline = &nt
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
