package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
)

const conversationColumns = `id, account, peer, kind, encryption, created, last_ts, last_read_id, unread, pinned, archived`

func scanConversation(sc interface{ Scan(...any) error }) (client.Conversation, error) {
	var c client.Conversation
	var peer string
	var created, lastTS, lastRead, pinned sql.NullInt64
	if err := sc.Scan(&c.ID, &c.Account, &peer, &c.Kind, &c.Encryption, &created, &lastTS, &lastRead, &c.Unread, &pinned, &c.Archived); err != nil {
		return c, err
	}
	var err error
	c.Peer, err = parseJID(peer)
	c.Created = fromMicros(created)
	c.LastActivity = fromMicros(lastTS)
	c.LastRead = client.MessageID(lastRead.Int64)
	c.Pinned = fromMicros(pinned)
	return c, err
}

// EnsureConversation returns the conversation of acct with peer, creating
// it when needed.
func (t *Tx) EnsureConversation(ctx context.Context, acct client.AccountID, peer jid.JID, kind client.ConversationKind) (client.ConversationID, error) {
	if err := t.writable(ctx, "ensure conversation"); err != nil {
		return 0, err
	}
	p, err := bareJID("peer", peer)
	if err != nil {
		return 0, fmt.Errorf("ensure conversation: %w", err)
	}
	if kind != client.KindChat && kind != client.KindGroupchat {
		return 0, fmt.Errorf("ensure conversation: %w: kind %d", ErrInvalid, kind)
	}
	var id client.ConversationID
	err = t.queryRow(ctx, `SELECT id FROM conversations WHERE account = ? AND peer = ?`, acct, p).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("ensure conversation: %w", err)
	}
	res, err := t.exec(ctx, `INSERT INTO conversations (account, peer, kind, created) VALUES (?, ?, ?, ?)`, acct, p, kind, time.Now().UnixMicro())
	if err != nil {
		if isConstraint(err) {
			return 0, notFound("account", acct)
		}
		return 0, fmt.Errorf("ensure conversation: %w", err)
	}
	n, err := res.LastInsertId()
	return client.ConversationID(n), err
}

// Conversation returns one conversation.
func (t *Tx) Conversation(ctx context.Context, id client.ConversationID) (client.Conversation, error) {
	c, err := scanConversation(t.queryRow(ctx, `SELECT `+conversationColumns+` FROM conversations WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, notFound("conversation", id)
	}
	return c, err
}

// Conversations returns an account's conversations, the most recently
// active first.
func (t *Tx) Conversations(ctx context.Context, acct client.AccountID) ([]client.Conversation, error) {
	rows, err := t.query(ctx, `SELECT `+conversationColumns+` FROM conversations WHERE account = ?
		ORDER BY last_ts IS NULL, last_ts DESC, id DESC`, acct)
	if err != nil {
		return nil, fmt.Errorf("conversations: %w", err)
	}
	defer rows.Close()
	var out []client.Conversation
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			return nil, fmt.Errorf("conversations: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// SetEncryption records the user's encryption choice.
func (t *Tx) SetEncryption(ctx context.Context, conv client.ConversationID, p client.EncryptionPolicy) error {
	if err := t.writable(ctx, "set encryption"); err != nil {
		return err
	}
	if p > client.EncryptionDisabled {
		return fmt.Errorf("set encryption: %w: policy %d", ErrInvalid, p)
	}
	n, err := affected(t.exec(ctx, `UPDATE conversations SET encryption = ? WHERE id = ?`, p, conv))
	if err != nil {
		return fmt.Errorf("set encryption: %w", err)
	}
	if n == 0 {
		return notFound("conversation", conv)
	}
	return nil
}

// SetPinned pins conv (its pin time becomes now, or stays as it was when
// it is pinned already: pinned conversations keep their order) or unpins
// it.
func (t *Tx) SetPinned(ctx context.Context, conv client.ConversationID, on bool) error {
	if err := t.writable(ctx, "set pinned"); err != nil {
		return err
	}
	var pinned any
	if on {
		pinned = time.Now().UnixMicro()
	}
	n, err := affected(t.exec(ctx, `UPDATE conversations SET pinned = CASE WHEN ?1 IS NULL THEN NULL ELSE coalesce(pinned, ?1) END
		WHERE id = ?2`, pinned, conv))
	if err != nil {
		return fmt.Errorf("set pinned: %w", err)
	}
	if n == 0 {
		return notFound("conversation", conv)
	}
	return nil
}

// SetArchived archives conv or brings it back. A new message brings it
// back too (InsertMessages).
func (t *Tx) SetArchived(ctx context.Context, conv client.ConversationID, on bool) error {
	if err := t.writable(ctx, "set archived"); err != nil {
		return err
	}
	n, err := affected(t.exec(ctx, `UPDATE conversations SET archived = ? WHERE id = ?`, boolInt(on), conv))
	if err != nil {
		return fmt.Errorf("set archived: %w", err)
	}
	if n == 0 {
		return notFound("conversation", conv)
	}
	return nil
}

// SetLastRead moves the read position forward to msg and recounts the
// unread messages after it.
func (t *Tx) SetLastRead(ctx context.Context, conv client.ConversationID, msg client.MessageID) error {
	if err := t.writable(ctx, "set last read"); err != nil {
		return err
	}
	var ts int64
	var mconv client.ConversationID
	if err := t.queryRow(ctx, `SELECT ts, conversation FROM messages WHERE id = ? AND replaces IS NULL`, msg).Scan(&ts, &mconv); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("message", msg)
		}
		return fmt.Errorf("set last read: %w", err)
	}
	if mconv != conv {
		return fmt.Errorf("set last read: %w: message %d is not in conversation %d", ErrInvalid, msg, conv)
	}
	n, err := affected(t.exec(ctx, `UPDATE conversations SET last_read_ts = ?1, last_read_id = ?2
		WHERE id = ?3 AND (last_read_ts IS NULL OR last_read_ts < ?1 OR (last_read_ts = ?1 AND last_read_id < ?2))`, ts, msg, conv))
	if err != nil {
		return fmt.Errorf("set last read: %w", err)
	}
	if n > 0 {
		return t.recountUnread(ctx, conv)
	}
	return nil
}

// recountUnread recomputes a conversation's unread count: O(unread).
func (t *Tx) recountUnread(ctx context.Context, conv client.ConversationID) error {
	_, err := t.exec(ctx, `UPDATE conversations SET unread = (
		SELECT count(*) FROM messages m WHERE m.conversation = conversations.id AND m.replaces IS NULL AND m.direction = 1
			AND (conversations.last_read_ts IS NULL OR m.ts > conversations.last_read_ts
				OR (m.ts = conversations.last_read_ts AND m.id > conversations.last_read_id)))
		WHERE id = ?`, conv)
	if err != nil {
		return fmt.Errorf("count unread: %w", err)
	}
	return nil
}
