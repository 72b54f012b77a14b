package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// WAL checkpoints copy committed pages from the -wal file into the
// database. SQLite runs them inside the commit that crosses
// wal_autocheckpoint, so that commit pays for copying and fsyncing
// megabytes. Here a goroutine does it instead, on a connection of its own,
// concurrently with the writer (a PASSIVE checkpoint never blocks it), and
// commits only run one themselves as a backstop when the WAL grows far
// beyond what the goroutine keeps up with.
const (
	// checkpointEvery is the least time between background checkpoints.
	checkpointEvery = 250 * time.Millisecond
	// autocheckpointPages is the backstop (64 MiB of 4 KiB pages).
	autocheckpointPages = 16384
	// journalSizeLimit truncates a WAL that grew beyond it once it has
	// been checkpointed.
	journalSizeLimit = 32 << 20
)

func (db *DB) startCheckpointer() error {
	c, err := sql.Open("sqlite", db.path+fmt.Sprintf("?_pragma=busy_timeout(%d)&_pragma=synchronous(NORMAL)",
		db.opts.BusyTimeout.Milliseconds()))
	if err != nil {
		return err
	}
	c.SetMaxOpenConns(1)
	db.ckpt = c
	db.kick = make(chan struct{}, 1)
	db.ckptDone = make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	db.stopCkpt = cancel
	go db.checkpointer(ctx)
	return nil
}

// committed tells the checkpointer that the WAL grew.
func (db *DB) committed() {
	select {
	case db.kick <- struct{}{}:
	default:
	}
}

func (db *DB) checkpointer(ctx context.Context) {
	defer close(db.ckptDone)
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-db.kick:
		}
		var busy, frames, done int
		if err := db.ckpt.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &done); err != nil && ctx.Err() == nil {
			db.log.Warn("WAL checkpoint failed", "err", err)
		}
		t.Reset(checkpointEvery)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
