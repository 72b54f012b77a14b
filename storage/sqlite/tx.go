package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/tern-im/tern/crypto/omemo"
	"github.com/tern-im/tern/protocol/client"
)

// The interfaces this package implements for its consumers.
var (
	_ client.Store = (*DB)(nil)
	_ client.Tx    = (*Tx)(nil)
	_ omemo.Store  = (*Tx)(nil)
)

// Tx is one transaction, valid only inside the function given to
// [DB.Update] or [DB.View]. It implements client.Tx and omemo.Store.
type Tx struct {
	db *DB
	tx *sql.Tx
	p  *pool
	ro bool
	// archives caches archive ids (archiveKey → archives.id) for this
	// transaction.
	archives map[archiveKey]int64
	// missed lists the statements this transaction had to prepare for
	// itself; they are added to the pool's cache when it ends.
	missed []string
	// ftsPending lists the ranges of message IDs that InsertMessages
	// stored but did not index yet: FTS5 writes a segment at every
	// statement that changes it, so a transaction's imports are indexed
	// with one statement per range when it commits (flushFTS), or before
	// any other write that could touch them.
	ftsPending []idRange
}

// idRange is a range of message IDs, both ends included.
type idRange struct{ from, to client.MessageID }

// Update runs fn in a write transaction: committed when fn returns nil,
// rolled back when it returns an error (which Update returns) or panics.
// Write transactions are serialised; fn must not keep tx.
func (db *DB) Update(ctx context.Context, fn func(tx client.Tx) error) error {
	return db.update(ctx, func(t *Tx) error { return fn(t) })
}

// View runs fn in a read-only transaction on a consistent snapshot; it
// runs concurrently with writes and other reads.
func (db *DB) View(ctx context.Context, fn func(tx client.Tx) error) error {
	return db.view(ctx, func(t *Tx) error { return fn(t) })
}

func (db *DB) update(ctx context.Context, fn func(*Tx) error) error {
	return db.run(ctx, db.w, nil, fn)
}

func (db *DB) view(ctx context.Context, fn func(*Tx) error) error {
	return db.run(ctx, db.r, &sql.TxOptions{ReadOnly: true}, fn)
}

func (db *DB) run(ctx context.Context, p *pool, opts *sql.TxOptions, fn func(*Tx) error) error {
	t := &Tx{db: db, p: p, ro: opts != nil && opts.ReadOnly}
	err := t.run(ctx, opts, fn)
	if len(t.missed) > 0 {
		p.prepare(ctx, t.missed)
	}
	if err == nil && !t.ro {
		db.committed()
	}
	return mapErr(err)
}

func (t *Tx) run(ctx context.Context, opts *sql.TxOptions, fn func(*Tx) error) error {
	stx, err := t.p.db.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	defer stx.Rollback() // after Commit: a no-op
	t.tx = stx
	if err := fn(t); err != nil {
		return err
	}
	if err := t.flushFTS(ctx); err != nil {
		return err
	}
	return stx.Commit()
}

// viewValue runs f in a read transaction and returns its value.
func viewValue[T any](ctx context.Context, db *DB, f func(*Tx) (T, error)) (T, error) {
	var v T
	err := db.view(ctx, func(t *Tx) error {
		var err error
		v, err = f(t)
		return err
	})
	return v, err
}

// writable fails in a View transaction. Otherwise it first indexes the
// messages InsertMessages left unindexed (flushFTS), so that the write
// that follows finds the full-text index in step with the table.
func (t *Tx) writable(ctx context.Context, op string) error {
	if t.ro {
		return fmt.Errorf("%s: %w", op, ErrReadOnly)
	}
	if err := t.flushFTS(ctx); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// deferFTS notes messages stored without full-text indexing, with the
// fts_deferred row in place that turns the indexing trigger off (see
// migrations/0001_init.sql).
func (t *Tx) deferFTS(r idRange) {
	if n := len(t.ftsPending); n > 0 && t.ftsPending[n-1].to+1 == r.from {
		t.ftsPending[n-1].to = r.to
		return
	}
	t.ftsPending = append(t.ftsPending, r)
}

// flushFTS indexes the messages deferFTS noted and turns the indexing
// trigger back on.
func (t *Tx) flushFTS(ctx context.Context) error {
	if len(t.ftsPending) == 0 {
		return nil
	}
	for _, r := range t.ftsPending {
		if _, err := t.exec(ctx, `INSERT INTO messages_fts (rowid, body) SELECT id, body FROM messages WHERE id BETWEEN ? AND ?`,
			r.from, r.to); err != nil {
			return fmt.Errorf("full-text index: %w", err)
		}
	}
	if _, err := t.exec(ctx, `DELETE FROM fts_deferred`); err != nil {
		return fmt.Errorf("full-text index: %w", err)
	}
	t.ftsPending = nil
	return nil
}

// stmt returns the transaction's instance of a cached prepared statement,
// or prepares it for this transaction only and caches it after the
// transaction.
func (t *Tx) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if s := t.p.cached(query); s != nil {
		return t.tx.StmtContext(ctx, s), nil
	}
	t.missed = append(t.missed, query)
	return t.tx.PrepareContext(ctx, query)
}

func (t *Tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	s, err := t.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(ctx, args...)
}

func (t *Tx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	s, err := t.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

// row is a *sql.Row that may carry a preparation error.
type row struct {
	r   *sql.Row
	err error
}

func (r row) Scan(dst ...any) error {
	if r.err != nil {
		return r.err
	}
	return r.r.Scan(dst...)
}

func (t *Tx) queryRow(ctx context.Context, query string, args ...any) row {
	s, err := t.stmt(ctx, query)
	if err != nil {
		return row{err: err}
	}
	return row{r: s.QueryRowContext(ctx, args...)}
}

// affected returns the number of rows a statement changed.
func affected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// micros converts a time for storage: microseconds since 1970, or NULL for
// the zero time.
func micros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

// fromMicros converts a stored time back (zero for NULL).
func fromMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMicro(v.Int64).UTC()
}

// boolInt stores a bool as 0 or 1.
func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// placeholders returns "(?,?,…),(?,…)…": rows groups of cols parameters.
func placeholders(rows, cols int) string {
	one := "(" + strings.Repeat("?,", cols-1) + "?)"
	var b strings.Builder
	b.Grow(rows * (len(one) + 1))
	for i := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(one)
	}
	return b.String()
}
