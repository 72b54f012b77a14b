package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
)

// Roster returns the stored roster and its version.
func (t *Tx) Roster(ctx context.Context, acct client.AccountID) (string, []client.RosterItem, error) {
	var ver string
	if err := t.queryRow(ctx, `SELECT roster_ver FROM accounts WHERE id = ?`, acct).Scan(&ver); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return "", nil, notFound("account", acct)
		}
		return "", nil, fmt.Errorf("roster: %w", err)
	}
	rows, err := t.query(ctx, `SELECT r.jid, r.name, r.subscription, r.ask, r.approved, g.name
		FROM roster_items r LEFT JOIN roster_groups g ON g.account = r.account AND g.jid = r.jid
		WHERE r.account = ? ORDER BY r.jid, g.name`, acct)
	if err != nil {
		return "", nil, fmt.Errorf("roster: %w", err)
	}
	defer rows.Close()
	var items []client.RosterItem
	last := ""
	for rows.Next() {
		var j, name string
		var sub, ask, approved int
		var group sql.NullString
		if err := rows.Scan(&j, &name, &sub, &ask, &approved, &group); err != nil {
			return "", nil, fmt.Errorf("roster: %w", err)
		}
		if j != last || len(items) == 0 {
			pj, err := parseJID(j)
			if err != nil {
				return "", nil, err
			}
			items = append(items, client.RosterItem{JID: pj, Name: name, Subscription: client.Subscription(sub), Ask: ask != 0, Approved: approved != 0})
			last = j
		}
		if group.Valid {
			it := &items[len(items)-1]
			it.Groups = append(it.Groups, group.String)
		}
	}
	return ver, items, rows.Err()
}

// ReplaceRoster replaces the whole roster and its version.
func (t *Tx) ReplaceRoster(ctx context.Context, acct client.AccountID, ver string, items []client.RosterItem) error {
	if err := t.writable(ctx, "replace roster"); err != nil {
		return err
	}
	if err := t.setRosterVer(ctx, acct, ver); err != nil {
		return fmt.Errorf("replace roster: %w", err)
	}
	if _, err := t.exec(ctx, `DELETE FROM roster_items WHERE account = ?`, acct); err != nil {
		return fmt.Errorf("replace roster: %w", err)
	}
	for _, it := range items {
		if err := t.putRosterItem(ctx, acct, it); err != nil {
			return fmt.Errorf("replace roster: %w", err)
		}
	}
	return nil
}

// PutRosterItem adds or updates one item and sets the roster version.
func (t *Tx) PutRosterItem(ctx context.Context, acct client.AccountID, ver string, item client.RosterItem) error {
	if err := t.writable(ctx, "put roster item"); err != nil {
		return err
	}
	if err := t.setRosterVer(ctx, acct, ver); err != nil {
		return fmt.Errorf("put roster item: %w", err)
	}
	if err := t.putRosterItem(ctx, acct, item); err != nil {
		return fmt.Errorf("put roster item: %w", err)
	}
	return nil
}

// DeleteRosterItem removes one item and sets the roster version.
func (t *Tx) DeleteRosterItem(ctx context.Context, acct client.AccountID, ver string, contact jid.JID) error {
	if err := t.writable(ctx, "delete roster item"); err != nil {
		return err
	}
	j, err := bareJID("contact", contact)
	if err != nil {
		return fmt.Errorf("delete roster item: %w", err)
	}
	if err := t.setRosterVer(ctx, acct, ver); err != nil {
		return fmt.Errorf("delete roster item: %w", err)
	}
	if _, err := t.exec(ctx, `DELETE FROM roster_items WHERE account = ? AND jid = ?`, acct, j); err != nil {
		return fmt.Errorf("delete roster item: %w", err)
	}
	return nil
}

func (t *Tx) setRosterVer(ctx context.Context, acct client.AccountID, ver string) error {
	n, err := affected(t.exec(ctx, `UPDATE accounts SET roster_ver = ? WHERE id = ?`, ver, acct))
	if err != nil {
		return err
	}
	if n == 0 {
		return notFound("account", acct)
	}
	return nil
}

func (t *Tx) putRosterItem(ctx context.Context, acct client.AccountID, it client.RosterItem) error {
	j, err := bareJID("roster item", it.JID)
	if err != nil {
		return err
	}
	if it.Subscription > client.SubscriptionBoth {
		return fmt.Errorf("%w: subscription %d", ErrInvalid, it.Subscription)
	}
	if _, err := t.exec(ctx, `INSERT INTO roster_items (account, jid, name, subscription, ask, approved) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (account, jid) DO UPDATE SET name = excluded.name, subscription = excluded.subscription,
			ask = excluded.ask, approved = excluded.approved`,
		acct, j, it.Name, it.Subscription, boolInt(it.Ask), boolInt(it.Approved)); err != nil {
		return err
	}
	if _, err := t.exec(ctx, `DELETE FROM roster_groups WHERE account = ? AND jid = ?`, acct, j); err != nil {
		return err
	}
	groups := slices.Clone(it.Groups)
	slices.Sort(groups)
	for _, g := range slices.Compact(groups) {
		if _, err := t.exec(ctx, `INSERT INTO roster_groups (account, jid, name) VALUES (?, ?, ?)`, acct, j, g); err != nil {
			return err
		}
	}
	return nil
}

// SubscriptionRequests returns the unanswered inbound requests, oldest
// first.
func (t *Tx) SubscriptionRequests(ctx context.Context, acct client.AccountID) ([]client.SubscriptionRequest, error) {
	rows, err := t.query(ctx, `SELECT jid, nick, status, received FROM subscription_requests WHERE account = ? ORDER BY received, jid`, acct)
	if err != nil {
		return nil, fmt.Errorf("subscription requests: %w", err)
	}
	defer rows.Close()
	var out []client.SubscriptionRequest
	for rows.Next() {
		var r client.SubscriptionRequest
		var j string
		var received sql.NullInt64
		if err := rows.Scan(&j, &r.Nick, &r.Status, &received); err != nil {
			return nil, fmt.Errorf("subscription requests: %w", err)
		}
		if r.JID, err = parseJID(j); err != nil {
			return nil, err
		}
		r.Received = fromMicros(received)
		out = append(out, r)
	}
	return out, rows.Err()
}

// PutSubscriptionRequest records an inbound request.
func (t *Tx) PutSubscriptionRequest(ctx context.Context, acct client.AccountID, r client.SubscriptionRequest) error {
	if err := t.writable(ctx, "put subscription request"); err != nil {
		return err
	}
	j, err := bareJID("requester", r.JID)
	if err != nil {
		return fmt.Errorf("put subscription request: %w", err)
	}
	received := r.Received
	if received.IsZero() {
		received = time.Now()
	}
	if _, err := t.exec(ctx, `INSERT OR REPLACE INTO subscription_requests (account, jid, nick, status, received) VALUES (?, ?, ?, ?, ?)`,
		acct, j, r.Nick, r.Status, received.UnixMicro()); err != nil {
		return fmt.Errorf("put subscription request: %w", err)
	}
	return nil
}

// DeleteSubscriptionRequest forgets a request.
func (t *Tx) DeleteSubscriptionRequest(ctx context.Context, acct client.AccountID, from jid.JID) error {
	if err := t.writable(ctx, "delete subscription request"); err != nil {
		return err
	}
	if _, err := t.exec(ctx, `DELETE FROM subscription_requests WHERE account = ? AND jid = ?`, acct, from.String()); err != nil {
		return fmt.Errorf("delete subscription request: %w", err)
	}
	return nil
}
