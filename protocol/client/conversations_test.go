package client_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
)

// otherAccountConv stores a second account with a conversation and a
// message, and returns them: the engine of the first account must not
// touch them.
func (l *mtLocal) otherAccountConv() (client.ConversationID, client.MessageID) {
	l.t.Helper()
	ctx := context.Background()
	var conv client.ConversationID
	err := l.db.Update(ctx, func(tx client.Tx) error {
		acct, err := tx.PutAccount(ctx, client.Account{JID: jid.MustParse("mallory@example.net"), Enabled: true})
		if err != nil {
			return err
		}
		conv, err = tx.EnsureConversation(ctx, acct, jid.MustParse("bob@example.org"), client.KindChat)
		return err
	})
	if err != nil {
		l.t.Fatal(err)
	}
	res, err := l.db.InsertMessages(ctx, []client.Message{{Conversation: conv, Direction: client.Inbound, Type: client.TypeChat,
		Sender: "bob@example.org", Received: l.message(1).Received, Body: "for mallory"}})
	if err != nil {
		l.t.Fatal(err)
	}
	return conv, res[0].ID
}

func TestPinArchiveThroughEngine(t *testing.T) {
	ctx := t.Context()
	l := newMTLocal(t)
	l.route(`<message from='bob@example.org/phone' type='chat' id='b1'><body>hi</body></message>`)
	cv := l.conv("bob@example.org")
	if !cv.Pinned.IsZero() || cv.Archived {
		t.Fatalf("a new conversation: %+v", cv)
	}
	if err := l.c.SetPinned(ctx, cv.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := l.c.SetArchived(ctx, cv.ID, true); err != nil {
		t.Fatal(err)
	}
	if got := l.conv("bob@example.org"); got.Pinned.IsZero() || !got.Archived {
		t.Fatalf("pinned and archived: %+v", got)
	}
	// A new message from bob, through the inbound pipeline, brings the
	// conversation back; it stays pinned.
	l.route(`<message from='bob@example.org/phone' type='chat' id='b2'><body>are you there?</body></message>`)
	if got := l.conv("bob@example.org"); got.Pinned.IsZero() || got.Archived {
		t.Fatalf("after bob's message: %+v", got)
	}
	// So does a message we send (stored pending: this client is offline).
	if err := l.c.SetArchived(ctx, cv.ID, true); err != nil {
		t.Fatal(err)
	}
	l.send("bob@example.org", "yes", client.SendOptions{})
	if got := l.conv("bob@example.org"); got.Archived {
		t.Fatalf("after our message: %+v", got)
	}
	if err := l.c.SetPinned(ctx, cv.ID, false); err != nil {
		t.Fatal(err)
	}
	if got := l.conv("bob@example.org"); !got.Pinned.IsZero() {
		t.Fatalf("unpinned: %+v", got)
	}

	// Unknown conversations and those of other accounts are not found.
	other, _ := l.otherAccountConv()
	for _, conv := range []client.ConversationID{other, 4242} {
		if err := l.c.SetPinned(ctx, conv, true); !errors.Is(err, client.ErrNotFound) {
			t.Errorf("SetPinned(%d): %v, want ErrNotFound", conv, err)
		}
		if err := l.c.SetArchived(ctx, conv, true); !errors.Is(err, client.ErrNotFound) {
			t.Errorf("SetArchived(%d): %v, want ErrNotFound", conv, err)
		}
	}
	err := l.db.View(ctx, func(tx client.Tx) error {
		c, err := tx.Conversation(ctx, other)
		if err == nil && (!c.Pinned.IsZero() || c.Archived) {
			return errors.New("another account's conversation changed")
		}
		return err
	})
	if err != nil {
		t.Error(err)
	}
	// Without a store there is nothing to keep the choice in.
	bare := client.New(client.Config{})
	if err := bare.SetPinned(ctx, cv.ID, true); !errors.Is(err, client.ErrNoStore) {
		t.Errorf("SetPinned without a store: %v", err)
	}
	if _, err := bare.Corrections(ctx, 1); !errors.Is(err, client.ErrNoStore) {
		t.Errorf("Corrections without a store: %v", err)
	}
}

func TestCorrectionsThroughEngine(t *testing.T) {
	ctx := t.Context()
	l := newMTLocal(t)
	// Bob corrects his message three times; the last correction names the
	// previous one (some clients do), the others the original (XEP-0308).
	l.route(`<message from='bob@example.org/phone' type='chat' id='b1'><body>helo</body></message>`)
	l.route(`<message from='bob@example.org/phone' type='chat' id='b2'><body>hello</body><replace xmlns='urn:xmpp:message-correct:0' id='b1'/></message>`)
	l.route(`<message from='bob@example.org/phone' type='chat' id='b3'><body>hello!</body><replace xmlns='urn:xmpp:message-correct:0' id='b1'/></message>`)
	l.route(`<message from='bob@example.org/phone' type='chat' id='b4'><body>hello!!</body><replace xmlns='urn:xmpp:message-correct:0' id='b3'/></message>`)
	tl := l.timeline("bob@example.org")
	if len(tl) != 1 || tl[0].LastCorrection == nil || tl[0].LastCorrection.Body != "hello!!" {
		t.Fatalf("timeline: %+v", tl)
	}
	chain, err := l.c.Corrections(ctx, tl[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	var bodies, xmlIDs []string
	for i, m := range chain {
		bodies = append(bodies, m.Body)
		xmlIDs = append(xmlIDs, m.XMLID)
		if i > 0 && (m.Replaces != tl[0].ID || m.Direction != client.Inbound) {
			t.Errorf("version %d: replaces %d, direction %d", i, m.Replaces, m.Direction)
		}
	}
	if want := []string{"helo", "hello", "hello!", "hello!!"}; !slices.Equal(bodies, want) {
		t.Errorf("versions %q, want %q", bodies, want)
	}
	if want := []string{"b1", "b2", "b3", "b4"}; !slices.Equal(xmlIDs, want) {
		t.Errorf("version ids %q, want %q", xmlIDs, want)
	}
	// A correction names the same chain.
	if again, err := l.c.Corrections(ctx, chain[2].ID); err != nil || len(again) != 4 || again[0].ID != tl[0].ID {
		t.Errorf("Corrections of a correction: %d versions, %v", len(again), err)
	}

	// Our own message, corrected twice while offline.
	own := l.send("bob@example.org", "see you at nine", client.SendOptions{})
	for _, body := range []string{"see you at ten", "see you at half past ten"} {
		if err := l.c.Correct(ctx, own.ID, body); err != nil {
			t.Fatal(err)
		}
	}
	chain, err = l.c.Corrections(ctx, own.ID)
	if err != nil || len(chain) != 3 || chain[2].Body != "see you at half past ten" || chain[1].Direction != client.Outbound {
		t.Fatalf("our corrections: %+v, %v", chain, err)
	}

	// Unknown messages and those of other accounts are not found.
	_, otherMsg := l.otherAccountConv()
	for _, id := range []client.MessageID{otherMsg, 4242} {
		if _, err := l.c.Corrections(ctx, id); !errors.Is(err, client.ErrNotFound) {
			t.Errorf("Corrections(%d): %v, want ErrNotFound", id, err)
		}
	}
}
