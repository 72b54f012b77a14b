package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
)

// withKey is the stored form of a cursor's 'with' filter.
func withKey(with jid.JID) string { return with.String() }

// MAMCursor returns the cursor for (archive, with).
func (t *Tx) MAMCursor(ctx context.Context, acct client.AccountID, archive, with jid.JID) (client.MAMCursor, error) {
	c := client.MAMCursor{Archive: archive, With: with}
	a, err := bareJID("archive", archive)
	if err != nil {
		return c, fmt.Errorf("mam cursor: %w", err)
	}
	id, err := t.archiveID(ctx, acct, a, false)
	if err != nil {
		return c, fmt.Errorf("mam cursor: %w", err)
	}
	var newestTS, oldestTS, recheckTS sql.NullInt64
	var complete int
	err = t.queryRow(ctx, `SELECT newest, newest_ts, oldest, oldest_ts, complete, recheck_from, precise
		FROM mam_cursors WHERE archive = ? AND with_jid = ?`,
		id, withKey(with)).Scan(&c.Newest, &newestTS, &c.Oldest, &oldestTS, &complete, &recheckTS, &c.Precise)
	if errors.Is(err, sql.ErrNoRows) {
		return c, notFound("mam cursor", archive)
	}
	if err != nil {
		return c, fmt.Errorf("mam cursor: %w", err)
	}
	c.NewestTime, c.OldestTime, c.Complete = fromMicros(newestTS), fromMicros(oldestTS), complete != 0
	c.RecheckFrom = fromMicros(recheckTS)
	return c, nil
}

// PutMAMCursor stores a cursor.
func (t *Tx) PutMAMCursor(ctx context.Context, acct client.AccountID, c client.MAMCursor) error {
	if err := t.writable(ctx, "put mam cursor"); err != nil {
		return err
	}
	a, err := bareJID("archive", c.Archive)
	if err != nil {
		return fmt.Errorf("put mam cursor: %w", err)
	}
	id, err := t.archiveID(ctx, acct, a, true)
	if err != nil {
		if isConstraint(err) {
			return notFound("account", acct)
		}
		return fmt.Errorf("put mam cursor: %w", err)
	}
	_, err = t.exec(ctx, `INSERT OR REPLACE INTO mam_cursors (archive, with_jid, newest, newest_ts, oldest, oldest_ts, complete,
			recheck_from, precise)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, withKey(c.With), c.Newest, micros(c.NewestTime), c.Oldest, micros(c.OldestTime),
		boolInt(c.Complete), micros(c.RecheckFrom), boolInt(c.Precise))
	if err != nil {
		return fmt.Errorf("put mam cursor: %w", err)
	}
	return nil
}
