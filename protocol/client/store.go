package client

import (
	"context"
	"errors"
	"time"

	"github.com/tern-im/tern/protocol/jid"
)

// The engine keeps everything it knows about its accounts in a Store
// (DESIGN.md §4): storage/sqlite implements it; only cmd/ wires the concrete
// type. The interfaces are declared here, by their consumer.

// ErrNotFound is returned (wrapped) when a store has no such item.
var ErrNotFound = errors.New("client: not found")

// Store is the engine's persistent state: transactions plus the reads the
// UI needs often, each of which runs in a read transaction of its own.
//
// The inbound pipeline (DESIGN.md §3) runs unwrap → decrypt → dedupe →
// apply → persist in one Update, so that a crash never keeps half of it.
// The Tx an implementation passes to fn may also implement the end-to-end
// encryption layer's store (omemo.Store of crypto/omemo), so that decryption
// commits its ratchet state in the same transaction as the plaintext; that
// layer obtains it with a type assertion on the Tx it is given.
type Store interface {
	History
	// Update runs fn in a write transaction, committed when fn returns nil
	// and rolled back otherwise (fn's error is returned). Write
	// transactions are serialised. fn must not keep tx after it returns.
	Update(ctx context.Context, fn func(tx Tx) error) error
	// View runs fn in a read-only transaction that sees one consistent
	// snapshot; writes through tx fail.
	View(ctx context.Context, fn func(tx Tx) error) error
	// InsertMessages stores a batch in a transaction of its own; see
	// MessageStore.InsertMessages.
	InsertMessages(ctx context.Context, msgs []Message) ([]InsertResult, error)
}

// Tx is one store transaction: everything the engine reads and writes.
type Tx interface {
	AccountStore
	RosterStore
	MessageStore
	OutboxStore
	ArchiveStore
	CacheStore
	BlocklistStore
}

// History is the read side of the timelines.
type History interface {
	// Message returns one message (with its stanza-ids, alternatives,
	// attachments, reactions and latest correction).
	Message(ctx context.Context, id MessageID) (Message, error)
	// LatestPage returns the newest n timeline messages of a conversation,
	// oldest first. Timeline order is (Time, ID); corrections are folded
	// into the message they correct.
	LatestPage(ctx context.Context, conv ConversationID, n int) ([]Message, error)
	// LastMessages returns the newest timeline message of each conversation
	// of acct that has one (what LatestPage(conv, 1) returns for each), in
	// no particular order: the conversation list's previews in one read.
	LastMessages(ctx context.Context, acct AccountID) ([]Message, error)
	// PageBefore returns the n timeline messages just before the message
	// before (which must belong to conv), oldest first.
	PageBefore(ctx context.Context, conv ConversationID, before MessageID, n int) ([]Message, error)
	// PageAfter returns the n timeline messages just after the message after
	// (which must belong to conv), oldest first.
	PageAfter(ctx context.Context, conv ConversationID, after MessageID, n int) ([]Message, error)
	// Search returns up to limit messages of an account whose body matches
	// every word of query (case- and diacritics-insensitive; a word ending
	// in '*' matches as a prefix), most relevant first. The query is plain
	// text: no syntax is interpreted, and no query is an error.
	Search(ctx context.Context, acct AccountID, query string, limit int) ([]SearchHit, error)
	// Conversations returns an account's conversations, the most recently
	// active first, with their unread counts.
	Conversations(ctx context.Context, acct AccountID) ([]Conversation, error)
	// Corrections returns every version of a timeline message (XEP-0308),
	// oldest first: the message as first received (with its
	// LastCorrection), then each correction as stored (its Body is the
	// corrected text, decrypted; its Replaces the original). msg may name
	// the original or any of its corrections. A retracted message's
	// versions have empty bodies. Only the newest 1,000 corrections are
	// returned (the length of a chain is up to the peer).
	Corrections(ctx context.Context, msg MessageID) ([]Message, error)
}

// AccountStore keeps account settings (never secrets).
type AccountStore interface {
	// Accounts returns every account, in the order they were added.
	Accounts(ctx context.Context) ([]Account, error)
	// Account returns one account.
	Account(ctx context.Context, id AccountID) (Account, error)
	// PutAccount adds an account (a.ID == 0) or updates one, and returns its
	// ID. Adding a JID that already has an account fails.
	PutAccount(ctx context.Context, a Account) (AccountID, error)
	// DeleteAccount deletes an account and everything stored for it
	// (roster, history, outbox, OMEMO state).
	DeleteAccount(ctx context.Context, id AccountID) error
}

// RosterStore keeps the roster with its version (RFC 6121 §2.6) and the
// subscription requests waiting for the user.
type RosterStore interface {
	// Roster returns the stored roster and its version ("" when the server
	// gave none).
	Roster(ctx context.Context, acct AccountID) (ver string, items []RosterItem, err error)
	// ReplaceRoster replaces the whole roster (a roster result).
	ReplaceRoster(ctx context.Context, acct AccountID, ver string, items []RosterItem) error
	// PutRosterItem adds or updates one item (a roster push) and sets the
	// version.
	PutRosterItem(ctx context.Context, acct AccountID, ver string, item RosterItem) error
	// DeleteRosterItem removes one item (a push with subscription='remove')
	// and sets the version.
	DeleteRosterItem(ctx context.Context, acct AccountID, ver string, contact jid.JID) error
	// SubscriptionRequests returns the unanswered inbound requests, oldest
	// first.
	SubscriptionRequests(ctx context.Context, acct AccountID) ([]SubscriptionRequest, error)
	// PutSubscriptionRequest records an inbound request (replacing an
	// earlier one from the same JID).
	PutSubscriptionRequest(ctx context.Context, acct AccountID, r SubscriptionRequest) error
	// DeleteSubscriptionRequest forgets a request once the user answered it.
	DeleteSubscriptionRequest(ctx context.Context, acct AccountID, from jid.JID) error
}

// MessageStore keeps conversations and their messages.
type MessageStore interface {
	History
	// EnsureConversation returns the conversation of acct with peer (a bare
	// JID), creating it when needed.
	EnsureConversation(ctx context.Context, acct AccountID, peer jid.JID, kind ConversationKind) (ConversationID, error)
	// Conversation returns one conversation.
	Conversation(ctx context.Context, id ConversationID) (Conversation, error)
	// SetEncryption records the user's encryption choice for a conversation.
	SetEncryption(ctx context.Context, conv ConversationID, p EncryptionPolicy) error
	// SetPinned pins a conversation (Conversation.Pinned becomes now, or
	// stays as it was when already pinned) or unpins it.
	SetPinned(ctx context.Context, conv ConversationID, on bool) error
	// SetArchived archives a conversation or brings it back
	// (Conversation.Archived).
	SetArchived(ctx context.Context, conv ConversationID, on bool) error
	// SetLastRead moves the conversation's read position forward to msg (a
	// position older than the current one is ignored).
	SetLastRead(ctx context.Context, conv ConversationID, msg MessageID) error
	// NewestMarkable returns the newest inbound timeline message of conv
	// that asked for chat markers (Message.Markable), after the message
	// after (0: from the start) and at or before the message upTo, in
	// timeline order; ErrNotFound when there is none.
	NewestMarkable(ctx context.Context, conv ConversationID, after, upTo MessageID) (Message, error)
	// InsertMessages stores messages in order and reports, for each, the
	// new ID or the stored message it duplicates (see Message). A
	// duplicate is not an error: it is merged, gaining the stanza-ids of
	// archives it lacked, its origin-id and its server time if it had none.
	// Duplicates within the batch are detected too.
	InsertMessages(ctx context.Context, msgs []Message) ([]InsertResult, error)
	// FindMessage returns the message of conv that ref references.
	FindMessage(ctx context.Context, conv ConversationID, ref MessageRef) (MessageID, error)
	// SetState moves an outbound message's delivery state and reports
	// whether it changed. States only move forward (pending → sent →
	// delivered → read); pending or sent may become failed (with a
	// reason), and failed may become pending again (a retry). Other
	// transitions are ignored.
	SetState(ctx context.Context, id MessageID, state DeliveryState, failure string) (bool, error)
	// SetReactions replaces sender's reactions to a message with emojis
	// (XEP-0444 sends the full set; an empty set removes them).
	SetReactions(ctx context.Context, id MessageID, sender string, emojis []string, at time.Time) error
	// Retract marks a message retracted (XEP-0424) and forgets its body,
	// alternatives, corrections, attachments and reactions.
	Retract(ctx context.Context, id MessageID, at time.Time) error
	// DeleteMessage deletes a message (with its corrections and outbox
	// item), e.g. a failed one the user discards.
	DeleteMessage(ctx context.Context, id MessageID) error
	// SetAttachmentPath records where a downloaded attachment is kept.
	SetAttachmentPath(ctx context.Context, id AttachmentID, path string) error
}

// OutboxStore is the queue of stanzas to (re)send until acknowledged.
type OutboxStore interface {
	// Enqueue adds an item and returns its ID.
	Enqueue(ctx context.Context, item OutboxItem) (OutboxID, error)
	// Outbox returns an account's items, oldest first.
	Outbox(ctx context.Context, acct AccountID) ([]OutboxItem, error)
	// RecordAttempt counts a send attempt (errText "" when it went out).
	RecordAttempt(ctx context.Context, id OutboxID, at time.Time, errText string) error
	// Dequeue removes an item once the server acknowledged it.
	Dequeue(ctx context.Context, id OutboxID) error
}

// ArchiveStore keeps the XEP-0313 cursors. Update them in the transaction
// that stores the page's messages, so position and content never disagree.
type ArchiveStore interface {
	// MAMCursor returns the cursor for archive with the filter with (zero
	// for the archive-wide cursor); ErrNotFound when it was never read.
	MAMCursor(ctx context.Context, acct AccountID, archive, with jid.JID) (MAMCursor, error)
	// PutMAMCursor stores a cursor.
	PutMAMCursor(ctx context.Context, acct AccountID, c MAMCursor) error
}

// CacheStore keeps what can be fetched again but should not be: service
// discovery results by their verified XEP-0115 hash, and avatars by hash.
type CacheStore interface {
	// DiscoInfo returns the disco#info result (the serialised <query/>)
	// cached for an XEP-0115 verification string computed with algo.
	DiscoInfo(ctx context.Context, algo, ver string) ([]byte, error)
	// PutDiscoInfo caches a disco#info result whose hash was verified.
	PutDiscoInfo(ctx context.Context, algo, ver string, info []byte) error
	// Avatar returns an avatar by hash.
	Avatar(ctx context.Context, hash string) (Avatar, error)
	// PutAvatar stores an avatar; its Hash must be the SHA-1 of its Data.
	PutAvatar(ctx context.Context, a Avatar) error
	// ContactAvatar returns the hash of a contact's avatar ("" for none;
	// ErrNotFound when unknown).
	ContactAvatar(ctx context.Context, acct AccountID, contact jid.JID) (string, error)
	// SetContactAvatar records a contact's avatar hash ("" for "no avatar").
	// Avatars no contact uses any more are deleted.
	SetContactAvatar(ctx context.Context, acct AccountID, contact jid.JID, hash string) error
}

// BlocklistStore mirrors the server's XEP-0191 block list.
type BlocklistStore interface {
	// Blocklist returns the blocked JIDs, sorted.
	Blocklist(ctx context.Context, acct AccountID) ([]jid.JID, error)
	// SetBlocklist replaces the list (the server's blocklist result).
	SetBlocklist(ctx context.Context, acct AccountID, jids []jid.JID) error
	// Block adds JIDs (a block push).
	Block(ctx context.Context, acct AccountID, jids ...jid.JID) error
	// Unblock removes JIDs; no JIDs means all (an unblock push without
	// items).
	Unblock(ctx context.Context, acct AccountID, jids ...jid.JID) error
}
