package sqlite_test

import (
	"testing"
	"time"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/storage/sqlite"
)

// convByID reads one conversation through the one-shot API.
func (e *env) convByID(id client.ConversationID) client.Conversation {
	e.t.Helper()
	var c client.Conversation
	err := e.db.View(e.t.Context(), func(tx client.Tx) error {
		var err error
		c, err = tx.Conversation(e.t.Context(), id)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func TestPinnedAndArchivedRoundTrip(t *testing.T) {
	e := newEnv(t)
	juliet, nurse := e.conv(e.acct, "juliet@capulet.example"), e.conv(e.acct, "nurse@capulet.example")
	if c := e.convByID(juliet); !c.Pinned.IsZero() || c.Archived {
		t.Fatalf("a new conversation: pinned %v, archived %v", c.Pinned, c.Archived)
	}
	before := time.Now().Add(-time.Second)
	e.update(func(tx client.Tx) error { return tx.SetPinned(ctx(t), juliet, true) })
	pinned := e.convByID(juliet).Pinned
	if pinned.Before(before) || pinned.After(time.Now().Add(time.Second)) {
		t.Fatalf("pin time %v, want about now", pinned)
	}
	// Pinning again keeps the time (and so the order of the pins).
	e.update(func(tx client.Tx) error { return tx.SetPinned(ctx(t), juliet, true) })
	if got := e.convByID(juliet).Pinned; !got.Equal(pinned) {
		t.Fatalf("pinned again: %v, want %v", got, pinned)
	}
	e.update(func(tx client.Tx) error { return tx.SetPinned(ctx(t), nurse, true) })
	if got := e.convByID(nurse).Pinned; got.Before(pinned) {
		t.Fatalf("the later pin %v is before the first %v", got, pinned)
	}
	e.update(func(tx client.Tx) error { return tx.SetArchived(ctx(t), nurse, true) })
	if c := e.convByID(nurse); !c.Archived {
		t.Fatal("not archived")
	}
	e.update(func(tx client.Tx) error { return tx.SetPinned(ctx(t), juliet, false) })
	if c := e.convByID(juliet); !c.Pinned.IsZero() || c.Archived {
		t.Fatalf("unpinned: pinned %v, archived %v", c.Pinned, c.Archived)
	}

	// Unknown conversations, read-only transactions.
	err := e.db.Update(ctx(t), func(tx client.Tx) error { return tx.SetPinned(ctx(t), 4242, true) })
	mustErr(t, err, client.ErrNotFound)
	err = e.db.Update(ctx(t), func(tx client.Tx) error { return tx.SetArchived(ctx(t), 4242, true) })
	mustErr(t, err, client.ErrNotFound)
	err = e.db.View(ctx(t), func(tx client.Tx) error { return tx.SetArchived(ctx(t), juliet, true) })
	mustErr(t, err, sqlite.ErrReadOnly)

	// The flags survive closing the database; the list reads them too.
	nursePin := e.convByID(nurse).Pinned
	e.db.Close()
	db := openAt(t, e.path, sqlite.Options{Sealer: newSealer(t)})
	convs, err := db.Conversations(ctx(t), e.acct)
	if err != nil || len(convs) != 2 {
		t.Fatalf("conversations after reopening: %+v, %v", convs, err)
	}
	for _, c := range convs {
		switch c.ID {
		case juliet:
			if !c.Pinned.IsZero() || c.Archived {
				t.Errorf("juliet after reopening: %+v", c)
			}
		case nurse:
			if !c.Pinned.Equal(nursePin) || !c.Archived {
				t.Errorf("nurse after reopening: %+v, want pinned at %v and archived", c, nursePin)
			}
		}
	}
}

func TestArchivedComesBackOnNewMessage(t *testing.T) {
	e := newEnv(t)
	juliet := e.conv(e.acct, "juliet@capulet.example")
	other := e.conv(e.acct, "tybalt@capulet.example")
	first := e.insert(msg(juliet, "juliet@capulet.example", 100, "Ay me!"))[0].ID
	archive := func() {
		t.Helper()
		e.update(func(tx client.Tx) error { return tx.SetArchived(ctx(t), juliet, true) })
	}
	archived := func() bool { t.Helper(); return e.convByID(juliet).Archived }

	archive()
	// Older history (a page loaded on demand, a catch-up of old messages)
	// and a message of another conversation leave it archived.
	e.insert(msg(juliet, "juliet@capulet.example", 10, "older"), msg(juliet, "juliet@capulet.example", 20, "older still"),
		msg(other, "tybalt@capulet.example", 500, "Peace? I hate the word"))
	if !archived() {
		t.Fatal("older messages brought the conversation back from the archive")
	}
	// A correction is no new activity.
	corr := msg(juliet, "juliet@capulet.example", 600, "Ay me!!")
	corr.Replaces = first
	e.insert(corr)
	if !archived() {
		t.Fatal("a correction brought the conversation back")
	}
	// A new inbound message does.
	in := msg(juliet, "juliet@capulet.example", 200, "Romeo, Romeo!")
	in.OriginID = "o-in"
	e.insert(in)
	if archived() {
		t.Fatal("a new inbound message left the conversation archived")
	}
	archive()
	if res := e.insert(in); !res[0].Duplicate || !archived() {
		t.Fatalf("a duplicate of the newest message: %+v, archived %v", res, archived())
	}
	// So does our own message, sent from this or another device, and one
	// as old as the newest (it comes after it).
	out := msg(juliet, e.me.String(), 300, "I take thee at thy word")
	out.Direction, out.State = client.Outbound, client.StateSent
	e.insert(out)
	if archived() {
		t.Fatal("our new message left the conversation archived")
	}
	archive()
	e.insert(msg(juliet, "juliet@capulet.example", 300, "at the same time"))
	if archived() {
		t.Fatal("a message as old as the newest left the conversation archived")
	}
	// A batch with old and new messages brings it back once.
	archive()
	e.insert(msg(juliet, "juliet@capulet.example", 30, "old"), msg(juliet, "juliet@capulet.example", 400, "new"))
	if archived() {
		t.Fatal("a batch with a new message left the conversation archived")
	}
	// A conversation without messages comes back with its first one.
	room := e.conv(e.acct, "verona@rooms.example")
	e.update(func(tx client.Tx) error { return tx.SetArchived(ctx(t), room, true) })
	e.insert(msg(room, "mercutio", 50, "A plague o' both your houses"))
	if e.convByID(room).Archived {
		t.Fatal("the first message of an empty conversation left it archived")
	}
	if c := e.convByID(other); c.Archived {
		t.Fatal("a conversation that was never archived is archived")
	}
}

func TestCorrectionsChain(t *testing.T) {
	e := newEnv(t)
	c := e.conv(e.acct, "juliet@capulet.example")
	orig := e.insert(msg(c, "juliet@capulet.example", 10, "My name, dear saint"))[0].ID
	plain := e.insert(msg(c, "juliet@capulet.example", 11, "never corrected"))[0].ID
	// Three edits, each correcting the previous one (XEP-0308: they all
	// correct the original); the third travelled encrypted.
	var edits []client.MessageID
	prev := orig
	for i, body := range []string{"My name, dear saint, is hateful", "My name, dear saint, is hateful to myself", "My name, dear saint, is hateful to myself!"} {
		m := msg(c, "juliet@capulet.example", 20+10*i, body)
		m.Replaces = prev
		if i == 2 {
			m.Encryption, m.SenderDevice, m.Trust = client.EncryptionOMEMO, 42, client.TrustVerified
		}
		prev = e.insert(m)[0].ID
		edits = append(edits, prev)
	}
	want := []string{"My name, dear saint", "My name, dear saint, is hateful", "My name, dear saint, is hateful to myself", "My name, dear saint, is hateful to myself!"}
	check := func(from client.MessageID) {
		t.Helper()
		chain, err := e.db.Corrections(ctx(t), from)
		if err != nil {
			t.Fatal(err)
		}
		if len(chain) != len(want) {
			t.Fatalf("Corrections(%d): %d versions, want %d", from, len(chain), len(want))
		}
		for i, m := range chain {
			if m.Body != want[i] {
				t.Errorf("Corrections(%d)[%d] = %q, want %q", from, i, m.Body, want[i])
			}
			if i > 0 && (m.ID != edits[i-1] || m.Replaces != orig || !m.Time.After(chain[i-1].Time)) {
				t.Errorf("Corrections(%d)[%d]: id %d replaces %d at %v", from, i, m.ID, m.Replaces, m.Time)
			}
		}
		if chain[0].ID != orig || chain[0].Replaces != 0 || chain[0].LastCorrection == nil || chain[0].LastCorrection.ID != edits[2] {
			t.Errorf("Corrections(%d)[0] = %+v, want the original with its last correction", from, chain[0])
		}
		if last := chain[3]; last.Encryption != client.EncryptionOMEMO || last.SenderDevice != 42 || last.Trust != client.TrustVerified {
			t.Errorf("the encrypted edit: %+v", last)
		}
	}
	check(orig)
	check(edits[1]) // a correction names its chain too

	// Same through a transaction.
	err := e.db.View(ctx(t), func(tx client.Tx) error {
		chain, err := tx.Corrections(ctx(t), plain)
		if err != nil || len(chain) != 1 || chain[0].ID != plain || chain[0].Body != "never corrected" {
			t.Errorf("an uncorrected message: %+v, %v", chain, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.db.Corrections(ctx(t), 4242)
	mustErr(t, err, client.ErrNotFound)

	// A retraction forgets every version's text.
	e.update(func(tx client.Tx) error { return tx.Retract(ctx(t), orig, t0.Add(time.Hour)) })
	chain, err := e.db.Corrections(ctx(t), orig)
	if err != nil || len(chain) != 4 {
		t.Fatalf("after retracting: %d versions, %v", len(chain), err)
	}
	for i, m := range chain {
		if m.Body != "" {
			t.Errorf("after retracting, version %d reads %q", i, m.Body)
		}
	}
}
