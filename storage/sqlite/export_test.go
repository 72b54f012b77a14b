package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"log/slog"
)

// Internals for the black-box tests in package sqlite_test.

// DefaultPathFor is DefaultPath for a given GOOS and environment.
var DefaultPathFor = defaultPath

// FTSQuery is the FTS5 query Search builds from user text.
var FTSQuery = ftsQuery

// SearchWindow is how many of the newest matches Search ranks.
const SearchWindow = searchWindow

// LatestSchemaVersion returns the number of embedded migrations.
func LatestSchemaVersion() (int, error) {
	m, err := loadMigrations()
	return len(m), err
}

// MigrateTo creates or upgrades the database at path to exactly version,
// without opening it as a DB (no lock, no later migrations), so that tests
// can fill in data of an older schema.
func MigrateTo(ctx context.Context, path string, version int) error {
	migs, err := loadMigrations()
	if err != nil {
		return err
	}
	db, err := sql.Open("sqlite", path+"?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		return err
	}
	defer db.Close()
	return migrate(ctx, db, migs, version, slog.New(slog.DiscardHandler))
}

// SchemaFingerprint identifies the embedded migrations' contents (for
// caching generated benchmark databases).
func SchemaFingerprint() (string, error) {
	migs, err := loadMigrations()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, m := range migs {
		h.Write([]byte(m.name))
		h.Write([]byte(m.sql))
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

// Queries are the hot queries, for checking their plans.
var Queries = map[string]string{
	"latest page":       latestPageSQL,
	"page before":       pageBeforeSQL,
	"page after":        pageAfterSQL,
	"stanza-id lookup":  lookupStanzaIDsSQL,
	"origin-id lookup":  lookupOriginIDsSQL,
	"search candidates": searchCandidatesSQL,
	"search rank":       searchRankSQL,
	"corrections":       correctionsSQL,
	"last messages":     lastMessagesSQL,
	"newest markable":   newestMarkableSQL,
}
