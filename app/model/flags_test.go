package model_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/tern-im/tern/app/model"
	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/storage/sqlite"
)

// storeSetup is a real SQLite store with one account and two
// conversations, and an engine on it that never connects.
type storeSetup struct {
	db                    *sqlite.DB
	engine                *client.Client
	acct                  client.AccountID
	juliet, nurse         client.ConversationID
	julietLast, nurseLast time.Time
}

func newStoreSetup(t *testing.T) *storeSetup {
	t.Helper()
	ctx := t.Context()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "tern.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s := &storeSetup{db: db}
	err = db.Update(ctx, func(tx client.Tx) error {
		var err error
		if s.acct, err = tx.PutAccount(ctx, client.Account{JID: jid.MustParse("romeo@montague.lit"), Enabled: true}); err != nil {
			return err
		}
		if s.juliet, err = tx.EnsureConversation(ctx, s.acct, jid.MustParse("juliet@capulet.lit"), client.KindChat); err != nil {
			return err
		}
		s.nurse, err = tx.EnsureConversation(ctx, s.acct, jid.MustParse("nurse@capulet.lit"), client.KindChat)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	s.julietLast, s.nurseLast = t0.Add(2*time.Hour), t0.Add(time.Hour)
	s.insert(t, s.juliet, "juliet@capulet.lit", s.julietLast, "Ay me!")
	s.insert(t, s.nurse, "nurse@capulet.lit", s.nurseLast, "Anon, good nurse!")
	s.engine = client.New(client.Config{Store: db, Account: s.acct})
	return s
}

// insert stores an inbound message, as the engine's pipeline does, and
// returns it as the MessageReceived event carries it.
func (s *storeSetup) insert(t *testing.T, conv client.ConversationID, from string, at time.Time, body string) client.Message {
	t.Helper()
	m := client.Message{Conversation: conv, Direction: client.Inbound, Type: client.TypeChat, Sender: from, Received: at, Body: body}
	res, err := s.db.InsertMessages(t.Context(), []client.Message{m})
	if err != nil {
		t.Fatal(err)
	}
	m, err = s.db.Message(t.Context(), res[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// load returns a new model's list, read from the store.
func (s *storeSetup) load(t *testing.T) []model.Conversation {
	t.Helper()
	m := model.New(s.db)
	ch, err := m.AddAccount(t.Context(), s.acct, jid.MustParse("romeo@montague.lit"))
	if err != nil {
		t.Fatal(err)
	}
	return ch.Conversations
}

func names(cs []model.Conversation) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

func TestPinAndArchiveSurviveReloadFromStore(t *testing.T) {
	ctx := t.Context()
	s := newStoreSetup(t)
	m := model.New(s.db)
	if _, err := m.AddAccount(ctx, s.acct, jid.MustParse("romeo@montague.lit")); err != nil {
		t.Fatal(err)
	}
	if got := names(m.Conversations()); len(got) != 2 || got[0] != "juliet@capulet.lit" {
		t.Fatalf("list = %v, want juliet (newer) first", got)
	}
	// The UI's way: the model at once, then the engine.
	cs := m.SetPinned(s.nurse, true)
	if got := names(cs); got[0] != "nurse@capulet.lit" || !cs[0].Pinned || cs[0].PinnedAt.IsZero() {
		t.Fatalf("pinned in the model: %+v", cs)
	}
	if err := s.engine.SetPinned(ctx, s.nurse, true); err != nil {
		t.Fatal(err)
	}
	// A new model (a restart) reads the pin from the store.
	cs = s.load(t)
	if got := names(cs); got[0] != "nurse@capulet.lit" || !cs[0].Pinned || cs[0].PinnedAt.IsZero() || cs[1].Pinned {
		t.Fatalf("after a reload: %+v", cs)
	}
	// The most recently pinned comes first, whatever the activity.
	m.SetPinned(s.juliet, true)
	if err := s.engine.SetPinned(ctx, s.juliet, true); err != nil {
		t.Fatal(err)
	}
	if got := names(s.load(t)); got[0] != "juliet@capulet.lit" || got[1] != "nurse@capulet.lit" {
		t.Fatalf("two pins after a reload: %v", got)
	}
	newer := s.insert(t, s.nurse, "nurse@capulet.lit", t0.Add(3*time.Hour), "Your lady mother is coming")
	ch, err := m.Apply(ctx, s.acct, client.MessageReceived{Message: newer})
	if err != nil || names(ch.Conversations)[0] != "juliet@capulet.lit" {
		t.Fatalf("a message reordered the pins: %v, %v", names(ch.Conversations), err)
	}
	if got := names(s.load(t)); got[0] != "juliet@capulet.lit" {
		t.Fatalf("a message reordered the pins in the store: %v", got)
	}
	m.SetPinned(s.juliet, false)
	if err := s.engine.SetPinned(ctx, s.juliet, false); err != nil {
		t.Fatal(err)
	}

	// Archiving hides juliet, after a reload too.
	cs = m.SetArchived(s.juliet, true)
	if v := model.Visible(cs, false); len(v) != 1 || v[0].ID != s.nurse {
		t.Fatalf("visible after archiving: %v", names(v))
	}
	if err := s.engine.SetArchived(ctx, s.juliet, true); err != nil {
		t.Fatal(err)
	}
	cs = s.load(t)
	if v := model.Visible(cs, false); len(v) != 1 || v[0].ID != s.nurse {
		t.Fatalf("visible after a reload: %v", names(v))
	}
	if v := model.Visible(cs, true); len(v) != 1 || v[0].ID != s.juliet {
		t.Fatalf("archived after a reload: %v", names(v))
	}

	// A late message older than her newest (an archive page) leaves her
	// archived, in the model and in the store.
	old := s.insert(t, s.juliet, "juliet@capulet.lit", t0, "an old one")
	if _, err := m.Apply(ctx, s.acct, client.MessageReceived{Message: old}); err != nil {
		t.Fatal(err)
	}
	if c, _ := m.Conversation(s.juliet); !c.Archived {
		t.Fatal("an old message brought juliet back in the model")
	}
	if v := model.Visible(s.load(t), true); len(v) != 1 {
		t.Fatal("an old message brought juliet back in the store")
	}
	// Her new message brings her back: the model and the store agree.
	in := s.insert(t, s.juliet, "juliet@capulet.lit", t0.Add(4*time.Hour), "Romeo?")
	ch, err = m.Apply(ctx, s.acct, client.MessageReceived{Message: in})
	if err != nil {
		t.Fatal(err)
	}
	if v := model.Visible(ch.Conversations, true); len(v) != 0 {
		t.Fatalf("archived after her message, in the model: %v", names(v))
	}
	if v := model.Visible(s.load(t), true); len(v) != 0 {
		t.Fatalf("archived after her message, in the store: %v", names(v))
	}
}

func TestSetPinnedAtRestoresARow(t *testing.T) {
	ctx := t.Context()
	s := newStoreSetup(t)
	m := model.New(s.db)
	if _, err := m.AddAccount(ctx, s.acct, jid.MustParse("romeo@montague.lit")); err != nil {
		t.Fatal(err)
	}
	before, _ := m.Conversation(s.nurse)
	m.SetPinned(s.nurse, true)
	// The store refused: the row goes back to what it was.
	cs := m.SetPinnedAt(s.nurse, before.PinnedAt)
	if cs == nil || names(cs)[0] != "juliet@capulet.lit" {
		t.Fatalf("restored: %v", names(cs))
	}
	if c, _ := m.Conversation(s.nurse); c.Pinned || !c.PinnedAt.IsZero() {
		t.Fatalf("restored row: %+v", c)
	}
	if m.SetPinnedAt(s.nurse, time.Time{}) != nil || m.SetPinned(s.nurse, false) != nil || m.SetArchived(s.nurse, false) != nil {
		t.Fatal("a change to the same state reported a new list")
	}
	at := t0.Add(time.Minute)
	if cs := m.SetPinnedAt(s.nurse, at); cs == nil || !cs[0].Pinned || !cs[0].PinnedAt.Equal(at) {
		t.Fatalf("pinned at %v: %+v", at, cs)
	}
	if m.SetPinned(4242, true) != nil {
		t.Fatal("an unknown conversation changed the list")
	}
}
