// Package sqlite keeps everything a Tern user owns in one SQLite database
// (pure Go, modernc.org/sqlite): accounts (settings only), rosters (RFC
// 6121 with roster versioning), conversations (with the user's pins and
// archive) and messages with their XEP-0359 stanza-ids and origin-ids for
// deduplication, corrections (XEP-0308), retractions (XEP-0424), reactions
// (XEP-0444), attachments, the outbox, XEP-0313 archive cursors, the
// XEP-0115 disco cache, avatars (XEP-0084, XEP-0153), the XEP-0191 block
// list, and the OMEMO state (XEP-0384) of every account.
//
// [DB] implements client.Store and [Tx] implements client.Tx and
// omemo.Store, so that one transaction can decrypt, deduplicate and store
// an inbound message (DESIGN.md §3–§4).
//
// The file is opened in WAL mode with foreign keys, a busy timeout and
// synchronous=NORMAL, all checked after opening. A lock file next to it
// (flock on Unix, LockFileEx on Windows) keeps a second Tern away
// ([ErrLocked]); a file that is not a healthy Tern database ([ErrCorrupt])
// or that a newer Tern wrote ([ErrTooNew]) is left untouched. The schema
// is created and upgraded by forward-only numbered migrations embedded in
// the binary (migrations/NNNN_name.sql), applied in one transaction and
// recorded in the schema_version table.
//
// Message bodies are indexed with FTS5 (unicode61 tokenizer, diacritics
// removed) by triggers, except for the batches of [Tx.InsertMessages]:
// those are indexed together when their transaction commits (or before any
// other write in it), so that an archive catch-up committing several pages
// per transaction writes one full-text segment per transaction, not one
// per page. Timelines are paged by (time, id) keys, never by OFFSET. Private keys and session records are sealed with the
// [Sealer] given in [Options] before they are written; without one, the
// OMEMO methods that need secrets fail with [ErrNoSealer].
package sqlite
