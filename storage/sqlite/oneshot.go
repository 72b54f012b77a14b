package sqlite

import (
	"context"

	"github.com/tern-im/tern/protocol/client"
)

// The reads of client.History and InsertMessages, each in a transaction of
// its own.

// Message returns one message (see Tx.Message).
func (db *DB) Message(ctx context.Context, id client.MessageID) (client.Message, error) {
	return viewValue(ctx, db, func(t *Tx) (client.Message, error) { return t.Message(ctx, id) })
}

// LatestPage returns the newest n timeline messages of conv, oldest first.
func (db *DB) LatestPage(ctx context.Context, conv client.ConversationID, n int) ([]client.Message, error) {
	return viewValue(ctx, db, func(t *Tx) ([]client.Message, error) { return t.LatestPage(ctx, conv, n) })
}

// LastMessages returns the newest timeline message of each conversation
// of acct that has one (see Tx.LastMessages).
func (db *DB) LastMessages(ctx context.Context, acct client.AccountID) ([]client.Message, error) {
	return viewValue(ctx, db, func(t *Tx) ([]client.Message, error) { return t.LastMessages(ctx, acct) })
}

// PageBefore returns the n timeline messages of conv just before the
// message before, oldest first.
func (db *DB) PageBefore(ctx context.Context, conv client.ConversationID, before client.MessageID, n int) ([]client.Message, error) {
	return viewValue(ctx, db, func(t *Tx) ([]client.Message, error) { return t.PageBefore(ctx, conv, before, n) })
}

// PageAfter returns the n timeline messages of conv just after the message
// after, oldest first.
func (db *DB) PageAfter(ctx context.Context, conv client.ConversationID, after client.MessageID, n int) ([]client.Message, error) {
	return viewValue(ctx, db, func(t *Tx) ([]client.Message, error) { return t.PageAfter(ctx, conv, after, n) })
}

// Corrections returns the versions of a timeline message, oldest first
// (see Tx.Corrections).
func (db *DB) Corrections(ctx context.Context, id client.MessageID) ([]client.Message, error) {
	return viewValue(ctx, db, func(t *Tx) ([]client.Message, error) { return t.Corrections(ctx, id) })
}

// Search returns up to limit messages of acct matching query (see
// Tx.Search).
func (db *DB) Search(ctx context.Context, acct client.AccountID, query string, limit int) ([]client.SearchHit, error) {
	return viewValue(ctx, db, func(t *Tx) ([]client.SearchHit, error) { return t.Search(ctx, acct, query, limit) })
}

// Conversations returns an account's conversations, the most recently
// active first.
func (db *DB) Conversations(ctx context.Context, acct client.AccountID) ([]client.Conversation, error) {
	return viewValue(ctx, db, func(t *Tx) ([]client.Conversation, error) { return t.Conversations(ctx, acct) })
}

// InsertMessages stores a batch in a write transaction of its own (see
// Tx.InsertMessages).
func (db *DB) InsertMessages(ctx context.Context, msgs []client.Message) ([]client.InsertResult, error) {
	var res []client.InsertResult
	err := db.update(ctx, func(t *Tx) error {
		var err error
		res, err = t.InsertMessages(ctx, msgs)
		return err
	})
	return res, err
}
