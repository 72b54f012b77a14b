package model_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
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
