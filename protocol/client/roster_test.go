package client_test

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/register"
	"github.com/tern-im/tern/protocol/session"
	"github.com/tern-im/tern/storage/sqlite"
)

// TestContactsAPIWithoutStore: a Client without a Store only connects (as
// tern-cli connect does); the contact API fails with an error, never a
// panic, and keeps what it can for later.
func TestContactsAPIWithoutStore(t *testing.T) {
	c := client.New(client.Config{Session: session.Config{JID: jid.MustParse("alice@example.org/r")}})
	ctx := t.Context()
	bob := jid.MustParse("bob@example.org")
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"AddContact", c.AddContact(ctx, bob, "Bob", nil), client.ErrOffline},
		{"AddContact without a JID", c.AddContact(ctx, jid.JID{}, "", nil), client.ErrInvalidJID},
		{"RenameContact", c.RenameContact(ctx, bob, "B"), client.ErrNoStore},
		{"SetGroups", c.SetGroups(ctx, bob, []string{"g"}), client.ErrNoStore},
		{"RemoveContact", c.RemoveContact(ctx, bob), client.ErrOffline},
		{"RequestSubscription", c.RequestSubscription(ctx, bob), client.ErrOffline},
		{"ApproveSubscription", c.ApproveSubscription(ctx, bob), client.ErrNoStore},
		{"DenySubscription", c.DenySubscription(ctx, bob), client.ErrNoStore},
		{"CancelSubscription", c.CancelSubscription(ctx, bob), client.ErrNoStore},
		{"Unsubscribe", c.Unsubscribe(ctx, bob), client.ErrOffline},
		{"PreApprove", c.PreApprove(ctx, bob), client.ErrOffline},
		{"SendDirectedPresence", c.SendDirectedPresence(ctx, bob, true), client.ErrOffline},
		{"SetPresence with an invalid show", c.SetPresence(ctx, "asleep", "", 0), client.ErrInvalidShow},
		{"SetPresence", c.SetPresence(ctx, "away", "later", 1), nil},
		{"SetUnavailable", c.SetUnavailable(ctx, ""), nil},
		{"SetActive", c.SetActive(false), nil},
		{"Block", c.Block(ctx, bob), client.ErrNoStore},
		{"Unblock", c.Unblock(ctx, bob), client.ErrNoStore},
		{"UnblockAll", c.UnblockAll(ctx), client.ErrNoStore},
		{"SetVCard", c.SetVCard(ctx, client.VCard{FN: "Alice"}), client.ErrOffline},
		{"SetAvatar", c.SetAvatar(ctx, []byte("not a png")), client.ErrNoStore},
		{"ChangePassword", c.ChangePassword(ctx, "new"), client.ErrOffline},
		{"ChangePassword to nothing", c.ChangePassword(ctx, ""), register.ErrMissing},
		{"DeleteAccount", c.DeleteAccount(ctx), client.ErrOffline},
	} {
		if !errors.Is(tc.err, tc.want) || (tc.want == nil && tc.err != nil) {
			t.Errorf("%s: %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	if _, err := c.GetVCard(ctx, bob); !errors.Is(err, client.ErrOffline) {
		t.Errorf("GetVCard: %v", err)
	}
	if c.Blocked(bob) || c.ContactSupports(bob, "urn:xmpp:time") || len(c.Presences(bob)) != 0 {
		t.Error("an offline client without a store reports knowledge it cannot have")
	}
}

// TestContactsOfflineWithStore: offline, the API reads the store (the block
// list is loaded lazily and matched by XEP-0191 §7) and changes nothing it
// could not send: an unanswered request stays stored.
func TestContactsOfflineWithStore(t *testing.T) {
	ctx := t.Context()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "tern.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	me := jid.MustParse("alice@example.org")
	bob, carol := jid.MustParse("bob@example.org"), jid.MustParse("carol@example.org")
	var acct client.AccountID
	err = db.Update(ctx, func(tx client.Tx) error {
		var err error
		if acct, err = tx.PutAccount(ctx, client.Account{JID: me, Enabled: true}); err != nil {
			return err
		}
		if err := tx.SetBlocklist(ctx, acct, []jid.JID{carol, jid.MustParse("spam.example")}); err != nil {
			return err
		}
		if err := tx.PutRosterItem(ctx, acct, "1", client.RosterItem{JID: bob, Name: "Bob"}); err != nil {
			return err
		}
		return tx.PutSubscriptionRequest(ctx, acct, client.SubscriptionRequest{JID: carol, Received: time.Now()})
	})
	if err != nil {
		t.Fatal(err)
	}
	c := client.New(client.Config{Session: session.Config{JID: me}, Store: db, Account: acct})

	for _, tc := range []struct {
		j    string
		want bool
	}{
		{"carol@example.org", true},
		{"carol@example.org/phone", true}, // a bare JID entry covers its resources
		{"bob@example.org", false},
		{"someone@spam.example", true}, // a domain entry covers everyone there
		{"spam.example", true},
		{"example.org", false},
	} {
		if got := c.Blocked(jid.MustParse(tc.j)); got != tc.want {
			t.Errorf("Blocked(%s) = %v, want %v", tc.j, got, tc.want)
		}
	}
	if err := c.RenameContact(ctx, jid.MustParse("dave@example.org"), "D"); !errors.Is(err, client.ErrNotInRoster) {
		t.Errorf("renaming a contact not in the roster: %v", err)
	}
	if err := c.RenameContact(ctx, bob, "Robert"); !errors.Is(err, client.ErrOffline) {
		t.Errorf("renaming offline: %v", err)
	}
	if err := c.ApproveSubscription(ctx, carol); !errors.Is(err, client.ErrOffline) {
		t.Errorf("approving offline: %v", err)
	}
	var reqs []client.SubscriptionRequest
	err = db.View(ctx, func(tx client.Tx) error {
		var err error
		reqs, err = tx.SubscriptionRequests(ctx, acct)
		return err
	})
	if err != nil || len(reqs) != 1 || reqs[0].JID != carol {
		t.Errorf("a request that could not be answered was forgotten: %v, %v", reqs, err)
	}
}
