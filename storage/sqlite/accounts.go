package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
)

// parseJID reads a JID the store wrote; a value that does not parse means
// the file was damaged.
func parseJID(s string) (jid.JID, error) {
	j, err := jid.Parse(s)
	if err != nil {
		return jid.JID{}, fmt.Errorf("%w: stored JID: %w", ErrCorrupt, err)
	}
	return j, nil
}

// bareJID checks that j is a bare JID and returns its text.
func bareJID(what string, j jid.JID) (string, error) {
	if !j.IsBare() {
		return "", fmt.Errorf("%w: %s %q is not a bare JID", ErrInvalid, what, j)
	}
	return j.String(), nil
}

func notFound(what string, id any) error {
	return fmt.Errorf("%s %v: %w", what, id, client.ErrNotFound)
}

const accountColumns = `id, jid, resource, server, display_name, enabled, created`

func scanAccount(sc interface{ Scan(...any) error }) (client.Account, error) {
	var a client.Account
	var j string
	var enabled int
	var created sql.NullInt64
	if err := sc.Scan(&a.ID, &j, &a.Resource, &a.Server, &a.DisplayName, &enabled, &created); err != nil {
		return a, err
	}
	var err error
	a.JID, err = parseJID(j)
	a.Enabled = enabled != 0
	a.Created = fromMicros(created)
	return a, err
}

// Accounts returns every account, in the order they were added.
func (t *Tx) Accounts(ctx context.Context) ([]client.Account, error) {
	rows, err := t.query(ctx, `SELECT `+accountColumns+` FROM accounts ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("accounts: %w", err)
	}
	defer rows.Close()
	var out []client.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("accounts: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Account returns one account.
func (t *Tx) Account(ctx context.Context, id client.AccountID) (client.Account, error) {
	a, err := scanAccount(t.queryRow(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return a, notFound("account", id)
	}
	return a, err
}

// PutAccount adds (a.ID == 0) or updates an account and returns its ID.
func (t *Tx) PutAccount(ctx context.Context, a client.Account) (client.AccountID, error) {
	if err := t.writable(ctx, "put account"); err != nil {
		return 0, err
	}
	j, err := bareJID("account", a.JID)
	if err != nil {
		return 0, fmt.Errorf("put account: %w", err)
	}
	if a.ID == 0 {
		res, err := t.exec(ctx, `INSERT INTO accounts (jid, resource, server, display_name, enabled, created) VALUES (?, ?, ?, ?, ?, ?)`,
			j, a.Resource, a.Server, a.DisplayName, boolInt(a.Enabled), time.Now().UnixMicro())
		if err != nil {
			if isConstraint(err) {
				return 0, fmt.Errorf("put account: %w: %s already has an account", ErrInvalid, j)
			}
			return 0, fmt.Errorf("put account: %w", err)
		}
		id, err := res.LastInsertId()
		return client.AccountID(id), err
	}
	n, err := affected(t.exec(ctx, `UPDATE accounts SET jid = ?, resource = ?, server = ?, display_name = ?, enabled = ? WHERE id = ?`,
		j, a.Resource, a.Server, a.DisplayName, boolInt(a.Enabled), a.ID))
	if err != nil {
		if isConstraint(err) {
			return 0, fmt.Errorf("put account: %w: %s already has an account", ErrInvalid, j)
		}
		return 0, fmt.Errorf("put account: %w", err)
	}
	if n == 0 {
		return 0, notFound("account", a.ID)
	}
	return a.ID, nil
}

// DeleteAccount deletes an account and everything stored for it.
func (t *Tx) DeleteAccount(ctx context.Context, id client.AccountID) error {
	if err := t.writable(ctx, "delete account"); err != nil {
		return err
	}
	n, err := affected(t.exec(ctx, `DELETE FROM accounts WHERE id = ?`, id))
	if err != nil {
		return fmt.Errorf("delete account: %w", err)
	}
	if n == 0 {
		return notFound("account", id)
	}
	return nil
}

// isConstraint reports a UNIQUE, CHECK or FOREIGN KEY violation.
func isConstraint(err error) bool {
	// SQLITE_CONSTRAINT is 19; the extended codes keep it in the low byte.
	var se interface{ Code() int }
	if errors.As(err, &se) {
		return se.Code()&0xff == 19
	}
	return strings.Contains(err.Error(), "constraint failed")
}
