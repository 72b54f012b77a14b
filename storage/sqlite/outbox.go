package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/tern-im/tern/protocol/client"
)

// Enqueue adds an outbox item and returns its ID.
func (t *Tx) Enqueue(ctx context.Context, item client.OutboxItem) (client.OutboxID, error) {
	if err := t.writable(ctx, "enqueue"); err != nil {
		return 0, err
	}
	if (item.Message == 0) == (item.Payload == nil) {
		return 0, fmt.Errorf("enqueue: %w: an item has either a message or a payload", ErrInvalid)
	}
	var msg, payload any
	if item.Message != 0 {
		msg = item.Message
	} else {
		payload = item.Payload
	}
	res, err := t.exec(ctx, `INSERT INTO outbox (account, message, payload, created) VALUES (?, ?, ?, ?)`,
		item.Account, msg, payload, time.Now().UnixMicro())
	if err != nil {
		if isConstraint(err) {
			return 0, fmt.Errorf("enqueue: %w: unknown account %d or message %d", client.ErrNotFound, item.Account, item.Message)
		}
		return 0, fmt.Errorf("enqueue: %w", err)
	}
	id, err := res.LastInsertId()
	return client.OutboxID(id), err
}

// Outbox returns an account's items, oldest first.
func (t *Tx) Outbox(ctx context.Context, acct client.AccountID) ([]client.OutboxItem, error) {
	rows, err := t.query(ctx, `SELECT id, account, coalesce(message, 0), payload, created, attempts, last_attempt, last_error
		FROM outbox WHERE account = ? ORDER BY id`, acct)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	defer rows.Close()
	var out []client.OutboxItem
	for rows.Next() {
		var it client.OutboxItem
		var created, last sql.NullInt64
		if err := rows.Scan(&it.ID, &it.Account, &it.Message, &it.Payload, &created, &it.Attempts, &last, &it.LastError); err != nil {
			return nil, fmt.Errorf("outbox: %w", err)
		}
		it.Created, it.LastAttempt = fromMicros(created), fromMicros(last)
		out = append(out, it)
	}
	return out, rows.Err()
}

// RecordAttempt counts a send attempt.
func (t *Tx) RecordAttempt(ctx context.Context, id client.OutboxID, at time.Time, errText string) error {
	if err := t.writable(ctx, "record attempt"); err != nil {
		return err
	}
	n, err := affected(t.exec(ctx, `UPDATE outbox SET attempts = attempts + 1, last_attempt = ?, last_error = ? WHERE id = ?`,
		micros(at), errText, id))
	if err != nil {
		return fmt.Errorf("record attempt: %w", err)
	}
	if n == 0 {
		return notFound("outbox item", id)
	}
	return nil
}

// Dequeue removes an outbox item.
func (t *Tx) Dequeue(ctx context.Context, id client.OutboxID) error {
	if err := t.writable(ctx, "dequeue"); err != nil {
		return err
	}
	n, err := affected(t.exec(ctx, `DELETE FROM outbox WHERE id = ?`, id))
	if err != nil {
		return fmt.Errorf("dequeue: %w", err)
	}
	if n == 0 {
		return notFound("outbox item", id)
	}
	return nil
}
