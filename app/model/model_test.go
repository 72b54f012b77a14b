package model_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tern-im/tern/app/model"
	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
)

// fakeHistory is an in-memory client.History: conversations and their
// messages in timeline order.
type fakeHistory struct {
	convs []client.Conversation
	msgs  map[client.ConversationID][]client.Message
}

func (f *fakeHistory) Message(_ context.Context, id client.MessageID) (client.Message, error) {
	for _, ms := range f.msgs {
		for _, m := range ms {
			if m.ID == id {
				return m, nil
			}
		}
	}
	return client.Message{}, client.ErrNotFound
}

func (f *fakeHistory) LatestPage(_ context.Context, conv client.ConversationID, n int) ([]client.Message, error) {
	ms := f.msgs[conv]
	return slices.Clone(ms[max(0, len(ms)-n):]), nil
}

func (f *fakeHistory) LastMessages(_ context.Context, acct client.AccountID) ([]client.Message, error) {
	var out []client.Message
	for _, c := range f.convs {
		if ms := f.msgs[c.ID]; c.Account == acct && len(ms) > 0 {
			out = append(out, ms[len(ms)-1])
		}
	}
	return out, nil
}

func (f *fakeHistory) PageBefore(_ context.Context, conv client.ConversationID, before client.MessageID, n int) ([]client.Message, error) {
	ms := f.msgs[conv]
	i := slices.IndexFunc(ms, func(m client.Message) bool { return m.ID == before })
	if i < 0 {
		return nil, client.ErrNotFound
	}
	return slices.Clone(ms[max(0, i-n):i]), nil
}

func (f *fakeHistory) PageAfter(context.Context, client.ConversationID, client.MessageID, int) ([]client.Message, error) {
	return nil, errors.New("not used")
}

func (f *fakeHistory) Search(context.Context, client.AccountID, string, int) ([]client.SearchHit, error) {
	return nil, errors.New("not used")
}

func (f *fakeHistory) Corrections(context.Context, client.MessageID) ([]client.Message, error) {
	return nil, errors.New("not used")
}

func (f *fakeHistory) Conversations(_ context.Context, acct client.AccountID) ([]client.Conversation, error) {
	var out []client.Conversation
	for _, c := range f.convs {
		if c.Account == acct {
			out = append(out, c)
		}
	}
	return out, nil
}

var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

func mustJID(t *testing.T, s string) jid.JID {
	t.Helper()
	j, err := jid.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// newHistory returns a store with two conversations of account 1: juliet
// (older activity, 120 messages) and nurse (newer, 1 unread message).
func newHistory(t *testing.T) *fakeHistory {
	f := &fakeHistory{msgs: map[client.ConversationID][]client.Message{}}
	f.convs = []client.Conversation{
		{ID: 2, Account: 1, Peer: mustJID(t, "nurse@capulet.lit"), LastActivity: t0.Add(time.Hour), Unread: 1},
		{ID: 1, Account: 1, Peer: mustJID(t, "juliet@capulet.lit"), LastActivity: t0.Add(119 * time.Minute)},
	}
	for i := range 120 {
		dir := client.Inbound
		if i%2 == 1 {
			dir = client.Outbound
		}
		f.msgs[1] = append(f.msgs[1], client.Message{
			ID: client.MessageID(i + 1), Conversation: 1, Direction: dir,
			Body: fmt.Sprintf("message %d", i), Time: t0.Add(time.Duration(i) * time.Minute),
		})
	}
	f.msgs[2] = []client.Message{{ID: 1000, Conversation: 2, Direction: client.Inbound, Body: "Anon, good nurse!\n  Anon!", Time: t0.Add(time.Hour)}}
	// juliet's newest is later than nurse's: fix LastActivity accordingly.
	f.convs[1].LastActivity = t0.Add(119 * time.Minute)
	return f
}

func TestAddAccountListsConversationsNewestFirst(t *testing.T) {
	m := model.New(newHistory(t))
	ch, err := m.AddAccount(t.Context(), 1, mustJID(t, "romeo@montague.lit/balcony"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.Accounts) != 1 || ch.Accounts[0].JID.String() != "romeo@montague.lit" || ch.Accounts[0].State != model.StateOffline {
		t.Fatalf("accounts = %+v", ch.Accounts)
	}
	got := ch.Conversations
	if len(got) != 2 || got[0].Name != "juliet@capulet.lit" || got[1].Name != "nurse@capulet.lit" {
		t.Fatalf("conversations = %+v", got)
	}
	if got[0].Preview != "You: message 119" || got[1].Preview != "Anon, good nurse! Anon!" || got[1].Unread != 1 {
		t.Fatalf("previews/unread = %q %q %d", got[0].Preview, got[1].Preview, got[1].Unread)
	}
	if n := model.Unread(got); n != 1 {
		t.Fatalf("Unread = %d", n)
	}
}

func TestFilter(t *testing.T) {
	m := model.New(newHistory(t))
	ch, err := m.AddAccount(t.Context(), 1, mustJID(t, "romeo@montague.lit"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"", []string{"juliet@capulet.lit", "nurse@capulet.lit"}},
		{"  ", []string{"juliet@capulet.lit", "nurse@capulet.lit"}},
		{"JULIET", []string{"juliet@capulet.lit"}},
		{"good nurse", []string{"nurse@capulet.lit"}},
		{"capulet", []string{"juliet@capulet.lit", "nurse@capulet.lit"}},
		{"tybalt", nil},
	} {
		var names []string
		for _, c := range model.Filter(ch.Conversations, tc.text) {
			names = append(names, c.Name)
		}
		if !slices.Equal(names, tc.want) {
			t.Errorf("Filter(%q) = %q, want %q", tc.text, names, tc.want)
		}
	}
}

func TestTimelinePages(t *testing.T) {
	m := model.New(newHistory(t))
	if _, err := m.AddAccount(t.Context(), 1, mustJID(t, "romeo@montague.lit")); err != nil {
		t.Fatal(err)
	}
	tl, err := m.Open(t.Context(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(tl.Messages) != model.PageSize || tl.Messages[0].ID != 71 || !tl.HasOlder || tl.Peer.String() != "juliet@capulet.lit" {
		t.Fatalf("latest page: %d messages from %d, older %v, peer %v", len(tl.Messages), tl.Messages[0].ID, tl.HasOlder, tl.Peer)
	}
	older, err := m.LoadOlder(t.Context(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(older.Messages) != 100 || older.Messages[0].ID != 21 || !older.HasOlder {
		t.Fatalf("second page: %d messages from %d", len(older.Messages), older.Messages[0].ID)
	}
	// The first snapshot is unchanged (snapshots are immutable).
	if len(tl.Messages) != model.PageSize || tl.Messages[0].ID != 71 {
		t.Fatal("an earlier snapshot changed")
	}
	oldest, err := m.LoadOlder(t.Context(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(oldest.Messages) != 120 || oldest.Messages[0].ID != 1 || oldest.HasOlder {
		t.Fatalf("last page: %d messages from %d, older %v", len(oldest.Messages), oldest.Messages[0].ID, oldest.HasOlder)
	}
	if own, ok := oldest.LastOwn(); !ok || own.ID != 120 {
		t.Fatalf("LastOwn = %d, %v", own.ID, ok)
	}
	if _, err := m.LoadOlder(t.Context(), 99); !errors.Is(err, model.ErrNotOpen) {
		t.Fatalf("LoadOlder of a closed conversation: %v", err)
	}
}

func TestApplyEvents(t *testing.T) {
	h := newHistory(t)
	m := model.New(h)
	ctx := t.Context()
	if _, err := m.AddAccount(ctx, 1, mustJID(t, "romeo@montague.lit")); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Open(ctx, 2); err != nil {
		t.Fatal(err)
	}

	// Connection state.
	ch, err := m.Apply(ctx, 1, client.Failed{Err: errors.New("not-authorized")})
	if err != nil || len(ch.Accounts) != 1 || ch.Accounts[0].State != model.StateFailed || ch.Accounts[0].Err != "not-authorized" {
		t.Fatalf("Failed: %+v, %v", ch, err)
	}
	if ch, _ := m.Apply(ctx, 1, client.Online{}); ch.Accounts[0].State != model.StateOnline || ch.Accounts[0].Err != "" {
		t.Fatalf("Online: %+v", ch.Accounts)
	}
	if ch, _ := m.Apply(ctx, 1, client.Online{}); !ch.Empty() {
		t.Fatalf("a repeated state reported a change: %+v", ch)
	}
	if ch, _ := m.Apply(ctx, 2, client.Online{}); !ch.Empty() {
		t.Fatalf("an unknown account reported a change: %+v", ch)
	}

	// An incoming message moves its conversation first, counts as unread,
	// and is appended to the open timeline.
	in := client.Message{ID: 1001, Conversation: 2, Direction: client.Inbound, Body: "Romeo!", Time: t0.Add(3 * time.Hour)}
	h.msgs[2] = append(h.msgs[2], in)
	ch, err = m.Apply(ctx, 1, client.MessageReceived{Message: in})
	if err != nil {
		t.Fatal(err)
	}
	if ch.Received == nil || ch.Received.ID != 1001 {
		t.Fatalf("Received = %v", ch.Received)
	}
	if c := ch.Conversations[0]; c.ID != 2 || c.Unread != 2 || c.Preview != "Romeo!" {
		t.Fatalf("list head = %+v", c)
	}
	if ch.Timeline == nil || len(ch.Timeline.Messages) != 2 || ch.Timeline.Messages[1].ID != 1001 {
		t.Fatalf("timeline = %+v", ch.Timeline)
	}
	if cs := m.MarkRead(2); cs[0].Unread != 0 {
		t.Fatalf("MarkRead: %+v", cs[0])
	}
	if cs := m.MarkRead(2); cs != nil {
		t.Fatal("a second MarkRead reported a change")
	}

	// Our message: queued as pending, then failed with a reason.
	out := client.Message{ID: 1002, Conversation: 2, Direction: client.Outbound, Body: "Here!", Time: t0.Add(4 * time.Hour), State: client.StatePending}
	h.msgs[2] = append(h.msgs[2], out)
	ch, err = m.Apply(ctx, 1, client.MessageQueued{Message: out})
	if err != nil || ch.Received != nil || ch.Conversations[0].Preview != "You: Here!" || ch.Conversations[0].Unread != 0 {
		t.Fatalf("queued: %+v, %v", ch, err)
	}
	before := *ch.Timeline
	h.msgs[2][2].State, h.msgs[2][2].Failure = client.StateFailed, "recipient-unavailable"
	ch, err = m.Apply(ctx, 1, client.MessageUpdated{Conversation: 2, ID: 1002, State: client.StateFailed, Failure: "recipient-unavailable"})
	if err != nil || ch.Timeline == nil {
		t.Fatalf("updated: %+v, %v", ch, err)
	}
	if got := ch.Timeline.Messages[2]; got.State != client.StateFailed || got.Failure != "recipient-unavailable" {
		t.Fatalf("updated message = %+v", got)
	}
	if before.Messages[2].State != client.StatePending {
		t.Fatal("an earlier snapshot changed")
	}

	// A correction of the newest message changes the preview.
	h.msgs[2][2].LastCorrection = &client.Correction{ID: 1003, Body: "Here I am!"}
	ch, err = m.Apply(ctx, 1, client.MessageUpdated{Conversation: 2, ID: 1002, Corrected: h.msgs[2][2].LastCorrection})
	if err != nil || ch.Conversations == nil || ch.Conversations[0].Preview != "You: Here I am!" {
		t.Fatalf("corrected: %+v, %v", ch, err)
	}

	// A message in a conversation the model has not seen yet.
	h.convs = append(h.convs, client.Conversation{ID: 3, Account: 1, Peer: mustJID(t, "tybalt@capulet.lit"), LastActivity: t0.Add(5 * time.Hour), Unread: 1})
	in3 := client.Message{ID: 1004, Conversation: 3, Direction: client.Inbound, Body: "Draw!", Time: t0.Add(5 * time.Hour)}
	h.msgs[3] = []client.Message{in3}
	ch, err = m.Apply(ctx, 1, client.MessageReceived{Message: in3})
	if err != nil || len(ch.Conversations) != 3 || ch.Conversations[0].Name != "tybalt@capulet.lit" || ch.Conversations[0].Unread != 1 || ch.Timeline != nil {
		t.Fatalf("new conversation: %+v, %v", ch, err)
	}
}

func TestPresenceChatStatePinArchive(t *testing.T) {
	h := newHistory(t)
	m := model.New(h)
	ctx := t.Context()
	if _, err := m.AddAccount(ctx, 1, mustJID(t, "romeo@montague.lit")); err != nil {
		t.Fatal(err)
	}
	balcony, garden := mustJID(t, "juliet@capulet.lit/balcony"), mustJID(t, "juliet@capulet.lit/garden")
	row := func(ch model.Change, name string) model.Conversation {
		t.Helper()
		for _, c := range ch.Conversations {
			if c.Name == name {
				return c
			}
		}
		t.Fatalf("%s not in %+v", name, ch.Conversations)
		return model.Conversation{}
	}
	ch, _ := m.Apply(ctx, 1, client.PresenceChanged{Presence: client.ResourcePresence{JID: balcony, Show: "dnd"}, Available: true})
	if c := row(ch, "juliet@capulet.lit"); c.Presence != model.PresenceDND {
		t.Fatalf("presence = %v", c.Presence)
	}
	ch, _ = m.Apply(ctx, 1, client.PresenceChanged{Presence: client.ResourcePresence{JID: garden}, Available: true})
	if c := row(ch, "juliet@capulet.lit"); c.Presence != model.PresenceOnline {
		t.Fatalf("presence with two resources = %v (the most available wins)", c.Presence)
	}
	ch, _ = m.Apply(ctx, 1, client.ChatStateChanged{From: garden, State: client.ChatComposing})
	if c := row(ch, "juliet@capulet.lit"); c.ChatState != client.ChatComposing {
		t.Fatalf("chat state = %q", c.ChatState)
	}
	if ch, _ := m.Apply(ctx, 1, client.ChatStateChanged{From: garden, State: client.ChatComposing}); !ch.Empty() {
		t.Fatal("a repeated chat state reported a change")
	}
	m.Apply(ctx, 1, client.PresenceChanged{Presence: client.ResourcePresence{JID: garden}})
	ch, _ = m.Apply(ctx, 1, client.PresenceChanged{Presence: client.ResourcePresence{JID: balcony}})
	if c := row(ch, "juliet@capulet.lit"); c.Presence != model.PresenceOffline || c.ChatState != "" {
		t.Fatalf("offline: %+v", c)
	}

	// Pinning puts the nurse first; archiving hides juliet until asked.
	cs := m.SetPinned(2, true)
	if cs[0].Name != "nurse@capulet.lit" || !cs[0].Pinned || m.SetPinned(2, true) != nil {
		t.Fatalf("pinned: %+v", cs)
	}
	cs = m.SetArchived(1, true)
	if v := model.Visible(cs, false); len(v) != 1 || v[0].ID != 2 {
		t.Fatalf("visible = %+v", v)
	}
	if v := model.Visible(cs, true); len(v) != 1 || v[0].ID != 1 {
		t.Fatalf("archived = %+v", v)
	}
	// A new message brings juliet back, still after the pinned nurse.
	in := client.Message{ID: 500, Conversation: 1, Direction: client.Inbound, Body: "Ay me!", Time: t0.Add(10 * time.Hour)}
	h.msgs[1] = append(h.msgs[1], in)
	ch, _ = m.Apply(ctx, 1, client.MessageReceived{Message: in})
	if ch.Conversations[0].ID != 2 || ch.Conversations[1].Archived {
		t.Fatalf("after a message: %+v", ch.Conversations)
	}
	if cs := m.SetEncryption(1, client.EncryptionRequired); cs == nil {
		t.Fatal("SetEncryption reported no change")
	}
	if c, _ := m.Conversation(1); c.Encryption != client.EncryptionRequired {
		t.Fatalf("encryption = %v", c.Encryption)
	}
}

// pagedHistory adds PageAfter to fakeHistory.
type pagedHistory struct{ *fakeHistory }

func (p pagedHistory) PageAfter(_ context.Context, conv client.ConversationID, after client.MessageID, n int) ([]client.Message, error) {
	ms := p.msgs[conv]
	i := slices.IndexFunc(ms, func(m client.Message) bool { return m.ID == after })
	if i < 0 {
		return nil, client.ErrNotFound
	}
	return slices.Clone(ms[i+1 : min(len(ms), i+1+n)]), nil
}

func TestOpenAtAndLoadNewer(t *testing.T) {
	h := pagedHistory{newHistory(t)}
	m := model.New(h)
	ctx := t.Context()
	if _, err := m.AddAccount(ctx, 1, mustJID(t, "romeo@montague.lit")); err != nil {
		t.Fatal(err)
	}
	tl, err := m.OpenAt(ctx, 1, 40)
	if err != nil {
		t.Fatal(err)
	}
	if tl.Focus != 40 || len(tl.Messages) != model.PageSize+1 || tl.Messages[0].ID != 15 || !tl.HasOlder || !tl.HasNewer {
		t.Fatalf("OpenAt: %d messages from %d, focus %d, older %v newer %v", len(tl.Messages), tl.Messages[0].ID, tl.Focus, tl.HasOlder, tl.HasNewer)
	}
	// A live message is not appended to a window short of the newest.
	in := client.Message{ID: 121, Conversation: 1, Direction: client.Inbound, Body: "late", Time: t0.Add(200 * time.Minute)}
	h.msgs[1] = append(h.msgs[1], in)
	if ch, _ := m.Apply(ctx, 1, client.MessageReceived{Message: in}); ch.Timeline != nil {
		t.Fatal("a live message was appended to a window opened around an old one")
	}
	tl, err = m.LoadNewer(ctx, 1)
	if err != nil || tl.Messages[len(tl.Messages)-1].ID != 115 || !tl.HasNewer {
		t.Fatalf("LoadNewer: last %d, newer %v, %v", tl.Messages[len(tl.Messages)-1].ID, tl.HasNewer, err)
	}
	tl, _ = m.LoadNewer(ctx, 1)
	if tl.Messages[len(tl.Messages)-1].ID != 121 || tl.HasNewer {
		t.Fatalf("LoadNewer to the end: last %d, newer %v", tl.Messages[len(tl.Messages)-1].ID, tl.HasNewer)
	}
	// Opening the conversation again shows the latest page.
	if tl, _ := m.Open(ctx, 1); tl.Focus != 0 || tl.Messages[len(tl.Messages)-1].ID != 121 || len(tl.Messages) != model.PageSize {
		t.Fatalf("Open after OpenAt: focus %d, %d messages", tl.Focus, len(tl.Messages))
	}
	if _, err := m.OpenAt(ctx, 2, 40); !errors.Is(err, client.ErrOtherConversation) {
		t.Fatalf("OpenAt with a message of another conversation: %v", err)
	}
	// HistoryLoaded: the archive stored older messages.
	m.Close(1)
	h.msgs[1] = h.msgs[1][100:]
	tl, _ = m.Open(ctx, 1)
	if tl.HasOlder {
		t.Fatal("a short conversation has older messages")
	}
	if ch, _ := m.Apply(ctx, 1, client.HistoryLoaded{Conversation: 1, Added: 3}); ch.Timeline == nil || !ch.Timeline.HasOlder {
		t.Fatalf("HistoryLoaded: %+v", ch.Timeline)
	}
}

func TestContainsFoldMatchesStringsToLower(t *testing.T) {
	for _, s := range []string{"Juliet@Capulet.LIT", "ÉLISE", "abc", ""} {
		for _, q := range []string{"juliet", "capulet.lit", "élise", "b", "zz", ""} {
			c := model.Conversation{Name: s}
			got := len(model.Filter([]model.Conversation{c}, q)) == 1
			want := strings.Contains(strings.ToLower(s), q)
			if got != want {
				t.Errorf("Filter(%q, %q) = %v, want %v", s, q, got, want)
			}
		}
	}
}

func TestRemoveAccountDropsItsConversations(t *testing.T) {
	ctx := t.Context()
	h := newHistory(t)
	h.convs = append(h.convs, client.Conversation{ID: 3, Account: 2, Peer: mustJID(t, "benvolio@montague.lit"), LastActivity: t0})
	m := model.New(h)
	for id, addr := range map[client.AccountID]string{1: "romeo@montague.lit", 2: "mercutio@montague.lit"} {
		if _, err := m.AddAccount(ctx, id, mustJID(t, addr)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := m.Open(ctx, 1); err != nil {
		t.Fatal(err)
	}
	m.SetPinned(1, true)
	ch := m.RemoveAccount(1)
	if len(ch.Accounts) != 1 || ch.Accounts[0].ID != 2 {
		t.Errorf("accounts after removing 1: %+v", ch.Accounts)
	}
	if len(ch.Conversations) != 1 || ch.Conversations[0].ID != 3 {
		t.Errorf("conversations after removing 1: %+v", ch.Conversations)
	}
	if _, ok := m.Conversation(1); ok {
		t.Error("a conversation of the removed account is still known")
	}
	if got := m.Accounts(); len(got) != 1 || got[0].ID != 2 {
		t.Errorf("Accounts() = %+v", got)
	}
	if ch := m.RemoveAccount(1); !ch.Empty() {
		t.Errorf("removing it again changed %+v", ch)
	}
	// The last account: the lists are empty, not unchanged.
	ch = m.RemoveAccount(2)
	if ch.Accounts == nil || ch.Conversations == nil || len(ch.Accounts)+len(ch.Conversations) != 0 {
		t.Errorf("after removing every account: %+v", ch)
	}
}
