package sqlite_test

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/storage/sqlite"
)

// Tests of the account-level state: accounts, roster, subscription
// requests, outbox, archive cursors, caches and the block list.

func TestAccounts(t *testing.T) {
	e := newEnv(t)
	e.update(func(tx client.Tx) error {
		a, err := tx.Account(ctx(t), e.acct)
		if err != nil || a.JID != e.me || !a.Enabled || a.Created.IsZero() {
			t.Errorf("account %+v, %v", a, err)
		}
		a.Resource, a.Server, a.DisplayName, a.Enabled = "orchard", "xmpp.montague.example:5223", "Romeo M.", false
		if _, err := tx.PutAccount(ctx(t), a); err != nil {
			return err
		}
		got, _ := tx.Account(ctx(t), e.acct)
		if got != a {
			t.Errorf("updated account %+v, want %+v", got, a)
		}
		if _, err := tx.PutAccount(ctx(t), client.Account{JID: e.me}); !errors.Is(err, sqlite.ErrInvalid) {
			t.Errorf("a second account for the same JID: %v", err)
		}
		if _, err := tx.PutAccount(ctx(t), client.Account{JID: jid.MustParse(romeo + "/res")}); !errors.Is(err, sqlite.ErrInvalid) {
			t.Errorf("an account for a full JID: %v", err)
		}
		if _, err := tx.PutAccount(ctx(t), client.Account{ID: 99, JID: jid.MustParse("x@y.example")}); !errors.Is(err, client.ErrNotFound) {
			t.Errorf("updating a missing account: %v", err)
		}
		if err := tx.DeleteAccount(ctx(t), 99); !errors.Is(err, client.ErrNotFound) {
			t.Errorf("deleting a missing account: %v", err)
		}
		return nil
	})
	second := e.account(jid.MustParse("benvolio@montague.example"))
	e.db.View(ctx(t), func(tx client.Tx) error {
		as, err := tx.Accounts(ctx(t))
		if err != nil || len(as) != 2 || as[0].ID != e.acct || as[1].ID != second {
			t.Errorf("accounts %+v, %v", as, err)
		}
		return nil
	})
}

func TestRoster(t *testing.T) {
	e := newEnv(t)
	j := func(s string) jid.JID { return jid.MustParse(s) }
	items := []client.RosterItem{
		{JID: j(juliet), Name: "Juliet", Subscription: client.SubscriptionBoth, Groups: []string{"Verona", "Capulets", "Verona"}},
		{JID: j("nurse@capulet.example"), Subscription: client.SubscriptionFrom, Ask: true},
		{JID: j("friar@verona.example"), Name: "Friar Laurence", Approved: true},
	}
	roster := func() (string, []client.RosterItem) {
		var ver string
		var got []client.RosterItem
		e.db.View(ctx(t), func(tx client.Tx) error {
			var err error
			ver, got, err = tx.Roster(ctx(t), e.acct)
			if err != nil {
				t.Fatal(err)
			}
			return nil
		})
		return ver, got
	}
	e.update(func(tx client.Tx) error { return tx.ReplaceRoster(ctx(t), e.acct, "v1", items) })
	ver, got := roster()
	want := []client.RosterItem{items[2], items[0], items[1]} // by JID
	want[1].Groups = []string{"Capulets", "Verona"}
	if ver != "v1" || sprintAll(got) != sprintAll(want) {
		t.Fatalf("roster %q %+v, want %+v", ver, got, want)
	}
	// Pushes.
	e.update(func(tx client.Tx) error {
		if err := tx.PutRosterItem(ctx(t), e.acct, "v2", client.RosterItem{JID: j(juliet), Name: "J", Subscription: client.SubscriptionTo}); err != nil {
			return err
		}
		return tx.DeleteRosterItem(ctx(t), e.acct, "v3", j("nurse@capulet.example"))
	})
	ver, got = roster()
	if ver != "v3" || len(got) != 2 || got[1].Name != "J" || got[1].Groups != nil || got[1].Subscription != client.SubscriptionTo {
		t.Errorf("after pushes: %q %+v", ver, got)
	}
	// A full roster result replaces everything.
	e.update(func(tx client.Tx) error { return tx.ReplaceRoster(ctx(t), e.acct, "", nil) })
	if ver, got = roster(); ver != "" || len(got) != 0 {
		t.Errorf("after replacing with nothing: %q %+v", ver, got)
	}
	err := e.db.Update(ctx(t), func(tx client.Tx) error {
		return tx.PutRosterItem(ctx(t), e.acct, "v4", client.RosterItem{JID: j(juliet + "/balcony")})
	})
	mustErr(t, err, sqlite.ErrInvalid)
	err = e.db.Update(ctx(t), func(tx client.Tx) error { return tx.ReplaceRoster(ctx(t), 77, "v", nil) })
	mustErr(t, err, client.ErrNotFound)
}

func TestSubscriptionRequests(t *testing.T) {
	e := newEnv(t)
	e.update(func(tx client.Tx) error {
		if err := tx.PutSubscriptionRequest(ctx(t), e.acct, client.SubscriptionRequest{JID: jid.MustParse("tybalt@capulet.example"), Nick: "Tybalt", Status: "hi", Received: t0.Add(time.Hour)}); err != nil {
			return err
		}
		return tx.PutSubscriptionRequest(ctx(t), e.acct, client.SubscriptionRequest{JID: jid.MustParse(juliet), Received: t0})
	})
	// They survive a restart.
	e.db.Close()
	e.db = openAt(t, e.path, sqlite.Options{})
	e.update(func(tx client.Tx) error {
		rs, err := tx.SubscriptionRequests(ctx(t), e.acct)
		if err != nil || len(rs) != 2 || rs[0].JID.String() != juliet || rs[1].Nick != "Tybalt" || rs[1].Status != "hi" || !rs[1].Received.Equal(t0.Add(time.Hour)) {
			t.Errorf("requests %+v, %v", rs, err)
		}
		if err := tx.DeleteSubscriptionRequest(ctx(t), e.acct, jid.MustParse(juliet)); err != nil {
			return err
		}
		rs, _ = tx.SubscriptionRequests(ctx(t), e.acct)
		if len(rs) != 1 {
			t.Errorf("after answering one: %+v", rs)
		}
		return nil
	})
}

func TestOutbox(t *testing.T) {
	e := newEnv(t)
	c := e.conv(e.acct, juliet)
	out := msg(c, romeo, 1, "pending")
	out.Direction, out.State = client.Outbound, client.StatePending
	var id1, id2 client.OutboxID
	var m client.MessageID
	e.update(func(tx client.Tx) error {
		res, err := tx.InsertMessages(ctx(t), []client.Message{out})
		if err != nil {
			return err
		}
		m = res[0].ID
		if id1, err = tx.Enqueue(ctx(t), client.OutboxItem{Account: e.acct, Message: m}); err != nil {
			return err
		}
		id2, err = tx.Enqueue(ctx(t), client.OutboxItem{Account: e.acct, Payload: []byte("<message><reactions/></message>")})
		return err
	})
	e.update(func(tx client.Tx) error {
		if err := tx.RecordAttempt(ctx(t), id1, t0, "stream reset"); err != nil {
			return err
		}
		if err := tx.RecordAttempt(ctx(t), id1, t0.Add(time.Minute), ""); err != nil {
			return err
		}
		items, err := tx.Outbox(ctx(t), e.acct)
		if err != nil || len(items) != 2 {
			t.Fatalf("outbox %+v, %v", items, err)
		}
		a, b := items[0], items[1]
		if a.ID != id1 || a.Message != m || a.Payload != nil || a.Attempts != 2 || !a.LastAttempt.Equal(t0.Add(time.Minute)) || a.LastError != "" || a.Created.IsZero() {
			t.Errorf("first item %+v", a)
		}
		if b.ID != id2 || b.Message != 0 || string(b.Payload) != "<message><reactions/></message>" || b.Attempts != 0 {
			t.Errorf("second item %+v", b)
		}
		if err := tx.Dequeue(ctx(t), id2); err != nil {
			return err
		}
		if err := tx.Dequeue(ctx(t), id2); !errors.Is(err, client.ErrNotFound) {
			t.Errorf("dequeue twice: %v", err)
		}
		// Deleting the message (the user discards it) empties the outbox.
		if err := tx.DeleteMessage(ctx(t), m); err != nil {
			return err
		}
		if items, _ := tx.Outbox(ctx(t), e.acct); len(items) != 0 {
			t.Errorf("outbox after deleting the message: %+v", items)
		}
		for _, bad := range []client.OutboxItem{{Account: e.acct}, {Account: e.acct, Message: 1, Payload: []byte("x")}} {
			if _, err := tx.Enqueue(ctx(t), bad); !errors.Is(err, sqlite.ErrInvalid) {
				t.Errorf("Enqueue(%+v): %v", bad, err)
			}
		}
		if _, err := tx.Enqueue(ctx(t), client.OutboxItem{Account: e.acct, Message: 424242}); !errors.Is(err, client.ErrNotFound) {
			t.Errorf("Enqueue of a missing message: %v", err)
		}
		return nil
	})
}

func TestMAMCursors(t *testing.T) {
	e := newEnv(t)
	me, r, j := jid.MustParse(romeo), jid.MustParse(room), jid.MustParse(juliet)
	cursors := []client.MAMCursor{
		{Archive: me, Newest: "n1", NewestTime: t0, Oldest: "o1", OldestTime: t0.Add(-time.Hour),
			RecheckFrom: t0.Add(-time.Minute + 1500*time.Microsecond), Precise: true},
		{Archive: me, With: j, Oldest: "o2", OldestTime: t0.Add(-48 * time.Hour), Complete: true},
		{Archive: r, Newest: "room-n"},
	}
	e.update(func(tx client.Tx) error {
		if _, err := tx.MAMCursor(ctx(t), e.acct, me, jid.JID{}); !errors.Is(err, client.ErrNotFound) {
			t.Errorf("a cursor never stored: %v", err)
		}
		for _, c := range cursors {
			if err := tx.PutMAMCursor(ctx(t), e.acct, c); err != nil {
				return err
			}
		}
		return nil
	})
	e.db.View(ctx(t), func(tx client.Tx) error {
		for _, want := range cursors {
			got, err := tx.MAMCursor(ctx(t), e.acct, want.Archive, want.With)
			if err != nil || sprintAll(got) != sprintAll(want) {
				t.Errorf("cursor %+v, %v; want %+v", got, err, want)
			}
		}
		return nil
	})
	next := cursors[0]
	next.Newest, next.NewestTime, next.RecheckFrom = "n2", t0.Add(time.Minute), time.Time{}
	e.update(func(tx client.Tx) error { return tx.PutMAMCursor(ctx(t), e.acct, next) })
	e.db.View(ctx(t), func(tx client.Tx) error {
		if got, _ := tx.MAMCursor(ctx(t), e.acct, me, jid.JID{}); got.Newest != "n2" || !got.RecheckFrom.IsZero() || !got.Precise {
			t.Errorf("moved cursor %+v", got)
		}
		return nil
	})
}

func TestCaches(t *testing.T) {
	e := newEnv(t)
	png := []byte("\x89PNG not really")
	sum := sha1.Sum(png)
	hash := hex.EncodeToString(sum[:])
	other := []byte("GIF89a")
	osum := sha1.Sum(other)
	ohash := hex.EncodeToString(osum[:])
	j := jid.MustParse(juliet)
	e.update(func(tx client.Tx) error {
		if err := tx.PutDiscoInfo(ctx(t), "sha-1", "QgayPKawpkPSDYmwT/WM94uAlu0=", []byte("<query/>")); err != nil {
			return err
		}
		info, err := tx.DiscoInfo(ctx(t), "sha-1", "QgayPKawpkPSDYmwT/WM94uAlu0=")
		if err != nil || string(info) != "<query/>" {
			t.Errorf("disco info %q, %v", info, err)
		}
		if _, err := tx.DiscoInfo(ctx(t), "sha-256", "QgayPKawpkPSDYmwT/WM94uAlu0="); !errors.Is(err, client.ErrNotFound) {
			t.Errorf("another algorithm: %v", err)
		}
		if err := tx.PutAvatar(ctx(t), client.Avatar{Hash: hash, MediaType: "image/png", Width: 64, Height: 64, Data: png}); err != nil {
			return err
		}
		if err := tx.PutAvatar(ctx(t), client.Avatar{Hash: hash, Data: other}); !errors.Is(err, sqlite.ErrInvalid) {
			t.Errorf("an avatar under a wrong hash: %v", err)
		}
		if err := tx.PutAvatar(ctx(t), client.Avatar{Hash: ohash, MediaType: "image/gif", Data: other}); err != nil {
			return err
		}
		if _, err := tx.ContactAvatar(ctx(t), e.acct, j); !errors.Is(err, client.ErrNotFound) {
			t.Errorf("unknown contact avatar: %v", err)
		}
		if err := tx.SetContactAvatar(ctx(t), e.acct, j, hash); err != nil {
			return err
		}
		a, err := tx.Avatar(ctx(t), hash)
		if err != nil || string(a.Data) != string(png) || a.Width != 64 || a.MediaType != "image/png" {
			t.Errorf("avatar %+v, %v", a, err)
		}
		// A new avatar for the contact: the old one is no longer used and
		// goes.
		if err := tx.SetContactAvatar(ctx(t), e.acct, j, ohash); err != nil {
			return err
		}
		if _, err := tx.Avatar(ctx(t), hash); !errors.Is(err, client.ErrNotFound) {
			t.Errorf("an unused avatar stayed: %v", err)
		}
		if err := tx.SetContactAvatar(ctx(t), e.acct, j, ""); err != nil {
			return err
		}
		if h, err := tx.ContactAvatar(ctx(t), e.acct, j); err != nil || h != "" {
			t.Errorf("contact without avatar: %q, %v", h, err)
		}
		return nil
	})
}

func TestBlocklist(t *testing.T) {
	e := newEnv(t)
	j := func(s string) jid.JID { return jid.MustParse(s) }
	list := func() []string {
		var out []string
		e.db.View(ctx(t), func(tx client.Tx) error {
			js, err := tx.Blocklist(ctx(t), e.acct)
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range js {
				out = append(out, x.String())
			}
			return nil
		})
		return out
	}
	e.update(func(tx client.Tx) error {
		return tx.SetBlocklist(ctx(t), e.acct, []jid.JID{j("tybalt@capulet.example"), j("capulet.example"), j("paris@verona.example/court")})
	})
	if got := list(); !slices.Equal(got, []string{"capulet.example", "paris@verona.example/court", "tybalt@capulet.example"}) {
		t.Errorf("block list %v", got)
	}
	e.update(func(tx client.Tx) error {
		if err := tx.Block(ctx(t), e.acct, j("rosaline@verona.example"), j("capulet.example")); err != nil {
			return err
		}
		return tx.Unblock(ctx(t), e.acct, j("tybalt@capulet.example"))
	})
	if got := list(); !slices.Equal(got, []string{"capulet.example", "paris@verona.example/court", "rosaline@verona.example"}) {
		t.Errorf("block list %v", got)
	}
	e.update(func(tx client.Tx) error { return tx.Unblock(ctx(t), e.acct) })
	if got := list(); len(got) != 0 {
		t.Errorf("after unblocking all: %v", got)
	}
}
