package sqlite_test

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/storage/sqlite"
)

// aesSealer is a real AES-256-GCM sealer with a random key, like the one
// storage/keyring provides: nonce ‖ ciphertext ‖ tag.
type aesSealer struct{ aead cipher.AEAD }

func newSealer(t testing.TB) *aesSealer {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	return &aesSealer{aead}
}

func (s *aesSealer) Seal(plaintext, ad []byte) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	rand.Read(nonce)
	return s.aead.Seal(nonce, nonce, plaintext, ad), nil
}

func (s *aesSealer) Open(sealed, ad []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("sealed blob too short")
	}
	return s.aead.Open(nil, sealed[:n], sealed[n:], ad)
}

// env is an open test database with one account and its own JID.
type env struct {
	t    testing.TB
	db   *sqlite.DB
	path string
	acct client.AccountID
	me   jid.JID
}

func openAt(t testing.TB, path string, opts sqlite.Options) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func newEnv(t testing.TB) *env {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tern.db")
	db := openAt(t, path, sqlite.Options{Sealer: newSealer(t)})
	e := &env{t: t, db: db, path: path, me: jid.MustParse("romeo@montague.example")}
	e.acct = e.account(e.me)
	return e
}

func (e *env) account(j jid.JID) client.AccountID {
	e.t.Helper()
	var id client.AccountID
	e.update(func(tx client.Tx) error {
		var err error
		id, err = tx.PutAccount(e.t.Context(), client.Account{JID: j, Enabled: true})
		return err
	})
	return id
}

func (e *env) update(fn func(tx client.Tx) error) {
	e.t.Helper()
	if err := e.db.Update(e.t.Context(), fn); err != nil {
		e.t.Fatalf("Update: %v", err)
	}
}

func (e *env) conv(acct client.AccountID, peer string) client.ConversationID {
	e.t.Helper()
	var id client.ConversationID
	e.update(func(tx client.Tx) error {
		var err error
		id, err = tx.EnsureConversation(e.t.Context(), acct, jid.MustParse(peer), client.KindChat)
		return err
	})
	return id
}

func (e *env) insert(msgs ...client.Message) []client.InsertResult {
	e.t.Helper()
	res, err := e.db.InsertMessages(e.t.Context(), msgs)
	if err != nil {
		e.t.Fatalf("InsertMessages: %v", err)
	}
	if len(res) != len(msgs) {
		e.t.Fatalf("InsertMessages returned %d results for %d messages", len(res), len(msgs))
	}
	return res
}

// raw opens the file with plain database/sql for inspection.
func raw(t testing.TB, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// msg returns an inbound chat message from peer at t0+sec seconds.
func msg(conv client.ConversationID, peer string, sec int, body string) client.Message {
	return client.Message{
		Conversation: conv,
		Direction:    client.Inbound,
		Type:         client.TypeChat,
		Sender:       peer,
		Received:     t0.Add(time.Duration(sec) * time.Second),
		Body:         body,
	}
}

func sid(archive, id string) client.StanzaID {
	return client.StanzaID{Archive: jid.MustParse(archive), ID: id}
}

func ids(ms []client.Message) []client.MessageID {
	out := make([]client.MessageID, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

func mustErr(t testing.TB, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error %v, want %v", err, target)
	}
}

func ctx(t testing.TB) context.Context { return t.Context() }

// sprintAll formats a value with its fields, for comparisons.
func sprintAll(v any) string { return fmt.Sprintf("%+v", v) }

// latest returns the newest page (up to 100 messages) of conv, oldest
// first.
func (e *env) latest(conv client.ConversationID) []client.Message {
	e.t.Helper()
	var page []client.Message
	err := e.db.View(e.t.Context(), func(tx client.Tx) error {
		var err error
		page, err = tx.LatestPage(e.t.Context(), conv, 100)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return page
}
