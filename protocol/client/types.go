package client

import (
	"time"

	"github.com/tern-im/tern/protocol/jid"
)

// This file holds the values the engine keeps in its Store (store.go): what
// a message, a conversation, a roster item… is, independent of how it is
// stored. JIDs are canonical (jid.JID); times are UTC instants (the store
// keeps microseconds); the zero time means "unknown".

// AccountID identifies an account in the store.
type AccountID int64

// ConversationID identifies a conversation (a contact or a room of one
// account) in the store.
type ConversationID int64

// MessageID identifies a stored message. IDs are assigned by the store,
// increase with every insert and are never reused, even after a deletion.
type MessageID int64

// AttachmentID identifies a stored attachment.
type AttachmentID int64

// OutboxID identifies an outbox item.
type OutboxID int64

// Account is one XMPP account's settings. It never holds a secret: the
// password lives in the OS keyring (Credentials).
type Account struct {
	ID AccountID
	// JID is the account's bare JID; it is unique in the store.
	JID jid.JID
	// Resource is the resource to request at bind time ("": the server's
	// choice).
	Resource string
	// Server is an optional manual "host:port" replacing SRV lookup.
	Server string
	// DisplayName is how the user names the account in the UI.
	DisplayName string
	// Enabled says whether the account connects at start-up.
	Enabled bool
	// Created is when the account was added (set by the store).
	Created time.Time
}

// Subscription is the presence subscription state of a roster item
// (RFC 6121 §2.1.2.5).
type Subscription uint8

// The subscription states. "remove" only occurs in roster pushes and is a
// deletion, not a state.
const (
	SubscriptionNone Subscription = iota // neither side is subscribed
	SubscriptionTo                       // we see the contact's presence
	SubscriptionFrom                     // the contact sees ours
	SubscriptionBoth                     // both
)

// String returns the RFC 6121 attribute value.
func (s Subscription) String() string {
	switch s {
	case SubscriptionNone:
		return "none"
	case SubscriptionTo:
		return "to"
	case SubscriptionFrom:
		return "from"
	case SubscriptionBoth:
		return "both"
	}
	return "invalid"
}

// RosterItem is one contact of the roster (RFC 6121 §2.1.2).
type RosterItem struct {
	// JID is the contact's bare JID.
	JID jid.JID
	// Name is the user's name for the contact ("" for none).
	Name string
	// Subscription is the subscription state.
	Subscription Subscription
	// Ask reports an outbound subscription request the contact has not
	// answered yet (ask='subscribe').
	Ask bool
	// Approved reports a subscription pre-approval (RFC 6121 §3.4).
	Approved bool
	// Groups are the roster groups, each at most once.
	Groups []string
}

// SubscriptionRequest is an inbound subscription request that the user has
// not answered yet (RFC 6121 §3.1.3). It is kept until answered, across
// restarts; it is never approved automatically.
type SubscriptionRequest struct {
	// JID is the requester's bare JID.
	JID jid.JID
	// Nick is the nickname the requester announced (XEP-0172), if any.
	Nick string
	// Status is the text of the request's <status/>, if any.
	Status string
	// Received is when the request arrived.
	Received time.Time
}

// ConversationKind says whether a conversation is with a contact or a room.
type ConversationKind uint8

// The conversation kinds.
const (
	KindChat      ConversationKind = iota + 1 // one-to-one with a contact
	KindGroupchat                             // a XEP-0045 room
)

// EncryptionPolicy is the user's end-to-end encryption choice for a
// conversation.
type EncryptionPolicy uint8

// The encryption policies.
const (
	// EncryptionDefault applies the engine's default (OMEMO when the peer
	// publishes devices).
	EncryptionDefault EncryptionPolicy = iota
	// EncryptionRequired encrypts, or fails visibly; never plaintext.
	EncryptionRequired
	// EncryptionDisabled sends plaintext.
	EncryptionDisabled
)

// Conversation is a timeline with one contact or room of one account.
type Conversation struct {
	ID      ConversationID
	Account AccountID
	// Peer is the bare JID of the contact or the room.
	Peer jid.JID
	Kind ConversationKind
	// Encryption is the user's encryption choice.
	Encryption EncryptionPolicy
	// Created is when the conversation was first stored.
	Created time.Time
	// LastActivity is the Time of its newest timeline message (zero when it
	// has none).
	LastActivity time.Time
	// LastRead is the newest message the user has seen (XEP-0333, XEP-0490);
	// 0 when none.
	LastRead MessageID
	// Unread counts the inbound timeline messages after LastRead (the store
	// keeps it up to date).
	Unread int
	// Pinned is when the user pinned the conversation to the top of the
	// list (zero: not pinned). Pinning an already pinned conversation keeps
	// its time, so pinned conversations keep their order: the most
	// recently pinned first.
	Pinned time.Time
	// Archived reports that the user archived the conversation: the list
	// shows it only on demand. The store clears it when a new message
	// (inbound, or sent by us from any device) becomes the conversation's
	// newest timeline message; older history loaded later does not.
	Archived bool
}

// Direction says who sent a message.
type Direction uint8

// The directions.
const (
	Inbound  Direction = iota + 1 // from the peer (or another occupant)
	Outbound                      // from this account, on any of its devices
)

// MessageType is the stanza's type attribute (RFC 6121 §5.2.2).
type MessageType uint8

// The message types.
const (
	TypeNormal    MessageType = iota + 1 // "normal" (also the default)
	TypeChat                             // "chat"
	TypeGroupchat                        // "groupchat"
	TypeHeadline                         // "headline"
)

// DeliveryState is how far an outbound message has come. Inbound messages
// have StateNone.
type DeliveryState uint8

// The delivery states, in the order an outbound message passes them.
const (
	StateNone      DeliveryState = iota // inbound messages
	StatePending                        // stored, not yet acknowledged by our server (the outbox)
	StateSent                           // acknowledged by our server (XEP-0198)
	StateDelivered                      // the recipient's client received it (XEP-0184)
	StateRead                           // the recipient displayed it (XEP-0333)
	StateFailed                         // bounced or could not be sent; see Message.Failure
)

// String returns a lowercase name of the state.
func (s DeliveryState) String() string {
	switch s {
	case StateNone:
		return "none"
	case StatePending:
		return "pending"
	case StateSent:
		return "sent"
	case StateDelivered:
		return "delivered"
	case StateRead:
		return "read"
	case StateFailed:
		return "failed"
	}
	return "invalid"
}

// Encryption is how a message travelled.
type Encryption uint8

// The encryptions.
const (
	EncryptionNone  Encryption = iota // plaintext
	EncryptionOMEMO                   // OMEMO (XEP-0384); Body is the decrypted text
)

// Trust is how much the sending device was trusted when an encrypted
// message arrived (or, for an outbound message, the least trusted recipient
// device). It is recorded at receipt and never changes afterwards.
type Trust uint8

// The trust levels.
const (
	TrustUnknown   Trust = iota // not encrypted, or not recorded
	TrustUntrusted              // the device was not trusted (undecided or distrusted)
	TrustBlind                  // trusted without verification (BTBV)
	TrustVerified               // the fingerprint was verified by the user
)

// StanzaID is an XEP-0359 <stanza-id/>: the id an archive (our server for
// one-to-one messages, the room for groupchat) gave a message.
type StanzaID struct {
	// Archive is the bare JID of the archive that assigned the id (the
	// stanza-id's 'by').
	Archive jid.JID
	ID      string
}

// Body is a message body in one language (RFC 6120 xml:lang).
type Body struct {
	Lang string
	Text string
}

// Reply references the message a message answers (XEP-0461).
type Reply struct {
	// To is the JID of the author of the referenced message ("" if absent).
	To string
	// ID is the referenced message's id (origin-id or stanza-id, as XEP-0461
	// specifies for the conversation type).
	ID string
}

// Attachment is a file shared in a message (XEP-0066 out-of-band data,
// XEP-0363 uploads, XEP-0446 file metadata).
type Attachment struct {
	// ID is assigned by the store.
	ID AttachmentID
	// URL is where the file is fetched (for OMEMO media sharing an
	// aesgcm:// URL whose fragment holds the file key).
	URL string
	// MediaType is the MIME type ("" if unknown).
	MediaType string
	// Name is the file name, Description the sender's description.
	Name, Description string
	// Size is the size in bytes (0 if unknown).
	Size int64
	// Width and Height are an image's or video's dimensions (0 if unknown).
	Width, Height int
	// SHA256 is the file's hash when the sender gave one (XEP-0300).
	SHA256 []byte
	// LocalPath is where the downloaded file is kept ("" until downloaded).
	LocalPath string
}

// Reaction is one sender's reactions to a message (XEP-0444): the full set
// of emojis that sender currently reacts with.
type Reaction struct {
	// Sender has the same meaning as Message.Sender.
	Sender string
	Emojis []string
	// Time is when the sender last changed the set.
	Time time.Time
}

// Correction is the latest correction of a message (XEP-0308).
type Correction struct {
	// ID is the correcting message (a message whose Replaces is the
	// original).
	ID   MessageID
	Body string
	Time time.Time
}

// Message is one stored message.
//
// Dedupe: a message is the same as a stored one when they share a stanza-id
// of the same archive (XEP-0359), or when they have the same origin-id from
// the same Sender in the same conversation. Storing it again is a no-op that
// reports the stored message and merges the new facts (see
// MessageStore.InsertMessages).
type Message struct {
	// ID is assigned by the store; it is ignored on insert.
	ID           MessageID
	Conversation ConversationID
	Direction    Direction
	Type         MessageType
	// Sender is the author's identity for deduplication and for checking
	// who may correct, retract or react: the bare JID of the sender in
	// one-to-one conversations (the resource changes between sessions, and
	// XEP-0359 origin-ids are unique per sender, not per resource), and the
	// occupant's nickname in groupchat (a room's occupant JID is
	// room@service/nick and the real JID is often hidden). Outbound messages
	// carry our own bare JID, or our nickname in a room.
	Sender string
	// XMLID is the stanza's id attribute; OriginID its XEP-0359 origin-id.
	XMLID    string
	OriginID string
	// StanzaIDs are the XEP-0359 stanza-ids, at most one per archive.
	StanzaIDs []StanzaID
	// Sent is the sender's time (XEP-0203 delay from the sender, or our
	// clock for outbound messages), Server the archive's or server's time
	// (XEP-0313 result delay, offline-storage delay), Received when this
	// device got it. Zero means unknown; at least one must be set.
	Sent, Server, Received time.Time
	// Time is the message's place in the timeline. At insert it is the
	// engine's choice when set (a live message: its arrival), else the
	// first known of Server, Sent and Received. The store changes it only
	// to the server's time, when a copy from the archive brings it (the
	// archive's order is the conversation's).
	Time time.Time
	// Body is the text in Lang (the xml:lang of the chosen body, "" if
	// none); Alternatives are the bodies in other languages.
	Body         string
	Lang         string
	Alternatives []Body
	// Thread is the <thread/> value.
	Thread string
	// ReplyTo references the message this one answers (XEP-0461).
	ReplyTo Reply
	// State is the delivery state of an outbound message; Failure says why
	// it failed (StateFailed).
	State   DeliveryState
	Failure string
	// Replaces, for a correction (XEP-0308), is the corrected message. The
	// engine checks that the correction comes from the original's Sender
	// before storing it. Corrections are not timeline entries of their own:
	// pages return the original with its LastCorrection.
	Replaces MessageID
	// LastCorrection is the newest correction of this message (set by the
	// store on read; nil when it was never corrected).
	LastCorrection *Correction
	// Retracted is when the sender retracted the message (XEP-0424); the
	// store then forgets its body, corrections and attachments.
	Retracted time.Time
	// Encryption says how the message travelled; SenderDevice is the OMEMO
	// device id that sent it and Trust its trust at receipt.
	Encryption   Encryption
	SenderDevice uint32
	Trust        Trust
	// Attachments are the files the message shares.
	Attachments []Attachment
	// Markable reports that the sender of an inbound message asked for
	// chat markers (XEP-0333 <markable/>): reading it may be answered
	// with a displayed marker.
	Markable bool
	// Reactions are the current reactions, one entry per sender (set by the
	// store on read; use MessageStore.SetReactions to change them).
	Reactions []Reaction
}

// InsertResult reports what storing one message did.
type InsertResult struct {
	// ID is the new message, or the stored one it duplicates.
	ID MessageID
	// Duplicate reports that the message was already stored (the new facts
	// were merged into it).
	Duplicate bool
}

// MessageRef finds a stored message of a conversation by the ids other
// stanzas use to reference it (receipts, markers, corrections, retractions,
// reactions, replies). Exactly one of the ways must be given:
//   - Archive and StanzaID: the stanza-id an archive assigned;
//   - Sender and OriginID: the sender's origin-id;
//   - Sender and XMLID: the stanza id attribute from that sender (which
//     also matches an origin-id equal to it, as most clients send both).
type MessageRef struct {
	Archive  jid.JID
	StanzaID string
	Sender   string
	OriginID string
	XMLID    string
}

// SnippetPart is a piece of a search snippet; Match marks the text that
// matched the query.
type SnippetPart struct {
	Text  string
	Match bool
}

// SearchHit is one result of a full-text search.
type SearchHit struct {
	Conversation ConversationID
	// Message is the timeline message that matched (for a match in a
	// correction, the corrected original).
	Message MessageID
	Time    time.Time
	// Snippet is the matching part of the body, with matches marked.
	Snippet []SnippetPart
	// Score is the relevance (BM25); higher is more relevant.
	Score float64
}

// OutboxItem is a stanza the engine must (re)send until the server
// acknowledges it. Chat messages reference their stored Message (the engine
// rebuilds and encrypts the stanza at each attempt); other stanzas (a
// reaction, a retraction, a marker) carry their serialised Payload.
type OutboxItem struct {
	ID      OutboxID
	Account AccountID
	// Message is the stored message to send, or 0.
	Message MessageID
	// Payload is the serialised stanza, when Message is 0.
	Payload []byte
	// Created is when the item was queued (set by the store).
	Created time.Time
	// Attempts counts the send attempts; LastAttempt and LastError describe
	// the most recent one.
	Attempts    int
	LastAttempt time.Time
	LastError   string
}

// MAMCursor is how far the engine has read an archive (XEP-0313 with
// XEP-0059 result set management).
type MAMCursor struct {
	// Archive is the archive's bare JID (our own account's for one-to-one
	// messages, a room's for groupchat).
	Archive jid.JID
	// With is the query's 'with' filter for a conversation's scroll-back
	// cursor; zero for the archive-wide catch-up cursor.
	With jid.JID
	// Newest is the id of the newest result received from this archive
	// (catch-up pages forward after it), NewestTime its time.
	Newest     string
	NewestTime time.Time
	// Oldest is the id of the oldest result received (scroll-back pages
	// backward before it), OldestTime its time.
	Oldest     string
	OldestTime time.Time
	// Complete reports that scroll-back reached the start of the archive.
	Complete bool
	// RecheckFrom is the archive time from which forward catch-ups have
	// read since the last completed recheck (zero: none pending), and
	// Precise reports that the archive stamps its results with sub-second
	// digits (see SyncOptions.RecheckAfter). Kept with the cursor so that
	// a restart before the recheck does not skip it.
	RecheckFrom time.Time
	Precise     bool
}

// Avatar is a hash-addressed avatar image (XEP-0084, XEP-0153).
type Avatar struct {
	// Hash is the lowercase hex SHA-1 of Data, as both XEPs define it.
	Hash string
	// MediaType is the image's MIME type.
	MediaType string
	// Width and Height are the pixel dimensions (0 if unknown).
	Width, Height int
	Data          []byte
}
