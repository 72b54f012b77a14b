package sqlite

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	msqlite "modernc.org/sqlite"
)

// Errors. Open's errors wrap one of these when they apply; so do errors of
// any operation that finds the file damaged (ErrCorrupt).
var (
	// ErrLocked: another process (another Tern) has the database open.
	ErrLocked = errors.New("sqlite: the database is in use by another Tern")
	// ErrCorrupt: the file is not a healthy Tern database. Open leaves it
	// untouched.
	ErrCorrupt = errors.New("sqlite: the database file is damaged or not a Tern database")
	// ErrTooNew: a newer version of Tern wrote the file. Open leaves it
	// untouched.
	ErrTooNew = errors.New("sqlite: the database was written by a newer version of Tern")
	// ErrPragma: a connection setting did not take effect.
	ErrPragma = errors.New("sqlite: a connection setting did not take effect")
	// ErrNoSealer: secrets cannot be stored or read without a Sealer.
	ErrNoSealer = errors.New("sqlite: no sealer for secrets")
	// ErrUnseal: a sealed secret did not open — the data key is not the one
	// it was sealed with, or the blob was moved to another row or altered.
	ErrUnseal = errors.New("sqlite: a sealed secret does not open")
	// ErrInvalid: an argument is not acceptable (the error says which).
	ErrInvalid = errors.New("sqlite: invalid argument")
	// ErrReadOnly: a write was attempted in a View transaction.
	ErrReadOnly = errors.New("sqlite: write in a read-only transaction")
)

// Sealer seals secrets before they are written and opens them after they
// are read (AES-256-GCM with the data key held by the OS keyring;
// storage/keyring provides it). additionalData binds a sealed blob to the
// row it belongs to: a blob copied to another row does not open.
type Sealer interface {
	Seal(plaintext, additionalData []byte) ([]byte, error)
	Open(sealed, additionalData []byte) ([]byte, error)
}

// Options configures Open.
type Options struct {
	// Sealer protects private keys and session records at rest; nil
	// disables the OMEMO methods that need secrets (ErrNoSealer).
	Sealer Sealer
	// Logger receives diagnostics (never bodies or secrets); nil discards.
	Logger *slog.Logger
	// BusyTimeout is how long a statement waits for a lock held by another
	// connection (0: 5 s).
	BusyTimeout time.Duration
	// Readers is the number of connections for read transactions (0: 4).
	Readers int
	// CacheKiB is the page cache of the write connection in KiB (0: 32768);
	// read connections get a quarter each.
	CacheKiB int
}

// DB is an open Tern database. It is safe for concurrent use. Close it
// when done: that releases the lock.
type DB struct {
	path string
	opts Options
	log  *slog.Logger
	w, r *pool
	lock io.Closer
	// The background checkpointer (checkpoint.go): its connection, the
	// channel commits poke it through, and its stop and exit signals.
	ckpt     *sql.DB
	kick     chan struct{}
	stopCkpt context.CancelFunc
	ckptDone chan struct{}

	closed sync.Once
	err    error
}

// pool is a connection pool with its prepared statements.
type pool struct {
	db *sql.DB
	mu sync.Mutex // guards stmts
	// stmts caches prepared statements of static SQL text; database/sql
	// prepares each on every connection that runs it, once.
	stmts map[string]*sql.Stmt
}

func newPool(db *sql.DB) *pool { return &pool{db: db, stmts: map[string]*sql.Stmt{}} }

// cached returns the prepared statement for query, or nil.
func (p *pool) cached(query string) *sql.Stmt {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stmts[query]
}

// prepare adds statements to the cache. It must not be called while the
// caller holds a connection of the pool (a transaction): preparing takes a
// free connection, and the write pool has only one.
func (p *pool) prepare(ctx context.Context, queries []string) {
	for _, q := range queries {
		if p.cached(q) != nil {
			continue
		}
		s, err := p.db.PrepareContext(ctx, q)
		if err != nil {
			continue // the transaction that used it reported the error
		}
		p.mu.Lock()
		if p.stmts == nil || p.stmts[q] != nil {
			s.Close()
		} else {
			p.stmts[q] = s
		}
		p.mu.Unlock()
	}
}

func (p *pool) close() error {
	p.mu.Lock()
	for _, s := range p.stmts {
		s.Close()
	}
	p.stmts = nil
	p.mu.Unlock()
	return p.db.Close()
}

// The settings every connection gets, checked at Open.
const (
	wantJournal     = "wal"
	wantSynchronous = 1 // NORMAL: with WAL, a commit survives a crash of the process
	wantForeignKeys = 1
)

// Open opens (creating it and its directory when needed) the database at
// path and brings its schema up to date. It fails with ErrLocked when
// another process has it open, ErrCorrupt when it is damaged or not a Tern
// database, and ErrTooNew when a newer Tern wrote it; in all three cases
// the file is left as it was.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	if path == "" || strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("sqlite: open %q: %w: the path must be non-empty and contain no '?'", path, ErrInvalid)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = 5 * time.Second
	}
	if opts.Readers <= 0 {
		opts.Readers = 4
	}
	if opts.CacheKiB <= 0 {
		opts.CacheKiB = 32 << 10
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}
	lock, err := lockFile(abs + ".lock")
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}
	db := &DB{path: abs, opts: opts, log: log, lock: lock}
	if err := db.open(ctx); err != nil {
		db.release()
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}
	return db, nil
}

// Path returns the database file's absolute path.
func (db *DB) Path() string { return db.path }

// Close closes the database and releases the lock. Close it only after
// every transaction has ended.
func (db *DB) Close() error {
	db.closed.Do(func() { db.err = db.release() })
	return db.err
}

func (db *DB) release() error {
	var errs []error
	if db.stopCkpt != nil {
		db.stopCkpt()
		<-db.ckptDone
	}
	if db.ckpt != nil {
		errs = append(errs, db.ckpt.Close())
	}
	if db.r != nil {
		errs = append(errs, db.r.close())
	}
	if db.w != nil {
		errs = append(errs, db.w.close())
	}
	errs = append(errs, db.lock.Close())
	return errors.Join(errs...)
}

func (db *DB) dsn(readOnly bool) string {
	q := []string{
		fmt.Sprintf("_pragma=busy_timeout(%d)", db.opts.BusyTimeout.Milliseconds()),
		"_pragma=foreign_keys(1)",
		"_pragma=synchronous(NORMAL)",
		// Statement journals and sorters in memory: a multi-row INSERT
		// otherwise writes a temporary file.
		"_pragma=temp_store(MEMORY)",
		// Read pages through a memory map (up to 1 GiB of the file) rather
		// than a pread system call each: index probes in a large history
		// cost a third less. Writes still go through the WAL.
		"_pragma=mmap_size(1073741824)",
	}
	if readOnly {
		q = append(q, "_pragma=query_only(1)", fmt.Sprintf("_pragma=cache_size(%d)", -db.opts.CacheKiB/4), "_txlock=deferred")
	} else {
		q = append(q, "_pragma=journal_mode(WAL)", fmt.Sprintf("_pragma=wal_autocheckpoint(%d)", autocheckpointPages),
			fmt.Sprintf("_pragma=journal_size_limit(%d)", journalSizeLimit), fmt.Sprintf("_pragma=cache_size(%d)", -db.opts.CacheKiB), "_txlock=immediate")
	}
	return db.path + "?" + strings.Join(q, "&")
}

func (db *DB) open(ctx context.Context) error {
	migs, err := loadMigrations()
	if err != nil {
		return err
	}
	if err := checkHeader(db.path); err != nil {
		return err
	}
	if err := db.probe(ctx, len(migs)); err != nil {
		return err
	}
	w, err := sql.Open("sqlite", db.dsn(false))
	if err != nil {
		return err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	db.w = newPool(w)
	r, err := sql.Open("sqlite", db.dsn(true))
	if err != nil {
		return err
	}
	r.SetMaxOpenConns(db.opts.Readers)
	r.SetMaxIdleConns(db.opts.Readers)
	db.r = newPool(r)
	if err := db.checkPragmas(ctx, db.w.db, false); err != nil {
		return err
	}
	if err := migrate(ctx, db.w.db, migs, len(migs), db.log); err != nil {
		return mapErr(err)
	}
	if err := db.checkPragmas(ctx, db.r.db, true); err != nil {
		return err
	}
	return db.startCheckpointer()
}

// checkHeader rejects a file that is not an SQLite database before SQLite
// touches it. An empty or missing file is a new database.
func checkHeader(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	var h [100]byte
	n, err := io.ReadFull(f, h[:])
	switch {
	case n == 0:
		return nil
	case err != nil:
		return fmt.Errorf("%w: the file is %d bytes long, shorter than an SQLite header", ErrCorrupt, n)
	case string(h[:16]) != "SQLite format 3\x00":
		return fmt.Errorf("%w: the file is not an SQLite database", ErrCorrupt)
	}
	ps := int(binary.BigEndian.Uint16(h[16:18]))
	if ps == 1 {
		ps = 65536
	}
	// The rest of what the SQLite file format fixes in the header; SQLite
	// itself reports some of these as a mere "unsupported file format".
	switch schemaFormat := binary.BigEndian.Uint32(h[44:48]); {
	case ps < 512 || ps&(ps-1) != 0:
		return fmt.Errorf("%w: invalid page size %d in the header", ErrCorrupt, ps)
	case h[18] < 1 || h[18] > 2 || h[19] < 1 || h[19] > 2:
		return fmt.Errorf("%w: unsupported file format versions %d/%d in the header", ErrCorrupt, h[18], h[19])
	case h[21] != 64 || h[22] != 32 || h[23] != 32:
		return fmt.Errorf("%w: invalid payload fractions in the header", ErrCorrupt)
	case ps-int(h[20]) < 480:
		return fmt.Errorf("%w: invalid reserved space %d in the header", ErrCorrupt, h[20])
	case schemaFormat > 4:
		return fmt.Errorf("%w: unsupported schema format %d in the header", ErrCorrupt, schemaFormat)
	}
	return nil
}

// probe reads the schema through a read-only connection that changes no
// setting: a damaged file, a foreign database or a newer schema is
// reported before anything is written.
func (db *DB) probe(ctx context.Context, latest int) error {
	p, err := sql.Open("sqlite", db.path+fmt.Sprintf("?_pragma=busy_timeout(%d)&_pragma=query_only(1)", db.opts.BusyTimeout.Milliseconds()))
	if err != nil {
		return err
	}
	defer p.Close()
	p.SetMaxOpenConns(1)
	var tables int
	var hasVersion bool
	err = p.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(name = 'schema_version'), 0) FROM sqlite_schema
		WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'`).Scan(&tables, &hasVersion)
	if err != nil {
		return mapErr(err)
	}
	if tables == 0 {
		return nil
	}
	if !hasVersion {
		return fmt.Errorf("%w: it has %d tables but no schema_version table", ErrCorrupt, tables)
	}
	v, err := schemaVersion(ctx, p)
	if err != nil {
		return mapErr(err)
	}
	if v > latest {
		return fmt.Errorf("%w: its schema version is %d, this Tern knows versions up to %d", ErrTooNew, v, latest)
	}
	return nil
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func schemaVersion(ctx context.Context, q queryer) (int, error) {
	var v int
	err := q.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&v)
	return v, err
}

// checkPragmas reads the settings back from one connection of the pool.
func (db *DB) checkPragmas(ctx context.Context, p *sql.DB, readOnly bool) error {
	conn, err := p.Conn(ctx)
	if err != nil {
		return mapErr(err)
	}
	defer conn.Close()
	var journal string
	var sync, fk, busy, qo int
	for _, c := range []struct {
		pragma string
		dst    any
	}{
		{"journal_mode", &journal},
		{"synchronous", &sync},
		{"foreign_keys", &fk},
		{"busy_timeout", &busy},
		{"query_only", &qo},
	} {
		if err := conn.QueryRowContext(ctx, "PRAGMA "+c.pragma).Scan(c.dst); err != nil {
			return mapErr(fmt.Errorf("read PRAGMA %s: %w", c.pragma, err))
		}
	}
	wantQO := 0
	if readOnly {
		wantQO = 1
	}
	switch {
	case !strings.EqualFold(journal, wantJournal):
		return fmt.Errorf("%w: journal_mode is %q, want %q", ErrPragma, journal, wantJournal)
	case sync != wantSynchronous:
		return fmt.Errorf("%w: synchronous is %d, want %d (NORMAL)", ErrPragma, sync, wantSynchronous)
	case fk != wantForeignKeys:
		return fmt.Errorf("%w: foreign_keys is %d, want %d", ErrPragma, fk, wantForeignKeys)
	case int64(busy) != db.opts.BusyTimeout.Milliseconds():
		return fmt.Errorf("%w: busy_timeout is %d ms, want %d", ErrPragma, busy, db.opts.BusyTimeout.Milliseconds())
	case qo != wantQO:
		return fmt.Errorf("%w: query_only is %d, want %d", ErrPragma, qo, wantQO)
	}
	return nil
}

// SQLite's primary result codes that mean the file is damaged.
const (
	sqliteCorrupt = 11
	sqliteNotADB  = 26
)

// mapErr marks errors that report a damaged file with ErrCorrupt.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	var se *msqlite.Error
	if errors.As(err, &se) && !errors.Is(err, ErrCorrupt) {
		switch se.Code() & 0xff {
		case sqliteCorrupt, sqliteNotADB:
			return fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
	}
	return err
}

// IntegrityCheck runs SQLite's integrity check and FTS5's on the full-text
// index. It reads the whole file: seconds for a large history.
func (db *DB) IntegrityCheck(ctx context.Context) error {
	rows, err := db.r.db.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return mapErr(err)
	}
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return mapErr(err)
		}
		if s != "ok" {
			problems = append(problems, s)
		}
	}
	if err := rows.Close(); err != nil {
		return mapErr(err)
	}
	if err := rows.Err(); err != nil {
		return mapErr(err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: integrity check: %s", ErrCorrupt, strings.Join(problems, "; "))
	}
	// FTS5's check compares the index with the content; it is a "write"
	// statement, so it runs on the write connection (and writes nothing).
	if _, err := db.w.db.ExecContext(ctx, `INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)`); err != nil {
		return fmt.Errorf("%w: full-text index: %w", ErrCorrupt, err)
	}
	return nil
}

// SchemaVersion returns the schema version of the open database.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	return schemaVersion(ctx, db.r.db)
}
