package sqlite

import (
	"context"
	"fmt"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
)

// Blocklist returns the blocked JIDs, sorted.
func (t *Tx) Blocklist(ctx context.Context, acct client.AccountID) ([]jid.JID, error) {
	rows, err := t.query(ctx, `SELECT jid FROM blocklist WHERE account = ? ORDER BY jid`, acct)
	if err != nil {
		return nil, fmt.Errorf("blocklist: %w", err)
	}
	defer rows.Close()
	var out []jid.JID
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("blocklist: %w", err)
		}
		j, err := parseJID(s)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

// SetBlocklist replaces the list.
func (t *Tx) SetBlocklist(ctx context.Context, acct client.AccountID, jids []jid.JID) error {
	if err := t.writable(ctx, "set blocklist"); err != nil {
		return err
	}
	if _, err := t.exec(ctx, `DELETE FROM blocklist WHERE account = ?`, acct); err != nil {
		return fmt.Errorf("set blocklist: %w", err)
	}
	return t.block(ctx, "set blocklist", acct, jids)
}

// Block adds JIDs to the list.
func (t *Tx) Block(ctx context.Context, acct client.AccountID, jids ...jid.JID) error {
	if err := t.writable(ctx, "block"); err != nil {
		return err
	}
	return t.block(ctx, "block", acct, jids)
}

func (t *Tx) block(ctx context.Context, op string, acct client.AccountID, jids []jid.JID) error {
	for _, j := range jids {
		if j.IsZero() {
			return fmt.Errorf("%s: %w: empty JID", op, ErrInvalid)
		}
		if _, err := t.exec(ctx, `INSERT OR IGNORE INTO blocklist (account, jid) VALUES (?, ?)`, acct, j.String()); err != nil {
			if isConstraint(err) {
				return notFound("account", acct)
			}
			return fmt.Errorf("%s: %w", op, err)
		}
	}
	return nil
}

// Unblock removes JIDs from the list; none means all.
func (t *Tx) Unblock(ctx context.Context, acct client.AccountID, jids ...jid.JID) error {
	if err := t.writable(ctx, "unblock"); err != nil {
		return err
	}
	if len(jids) == 0 {
		if _, err := t.exec(ctx, `DELETE FROM blocklist WHERE account = ?`, acct); err != nil {
			return fmt.Errorf("unblock: %w", err)
		}
		return nil
	}
	for _, j := range jids {
		if _, err := t.exec(ctx, `DELETE FROM blocklist WHERE account = ? AND jid = ?`, acct, j.String()); err != nil {
			return fmt.Errorf("unblock: %w", err)
		}
	}
	return nil
}
