package client

import (
	"time"

	"github.com/tern-im/tern/protocol/jid"
)

// RosterChanged: the roster in the store changed. Full reports that the
// whole roster was replaced (a roster result; Items is then the complete
// roster); otherwise Items were added or updated and Removed deleted (a
// roster push).
type RosterChanged struct {
	Full    bool
	Items   []RosterItem
	Removed []jid.JID
}

// SubscriptionRequested: a contact asks to see our presence (RFC 6121
// §3.1.3). The request is stored (Store SubscriptionRequests) until the
// user answers it with ApproveSubscription or DenySubscription; it is never
// approved automatically.
type SubscriptionRequested struct{ Request SubscriptionRequest }

// SubscriptionRequestRemoved: a stored subscription request is gone: the
// user answered it (here or on another client of the account), or the
// requester withdrew it.
type SubscriptionRequestRemoved struct{ JID jid.JID }

// SubscriptionUpdate: a contact answered or changed a subscription (RFC
// 6121 §3): Type is "subscribed" (our request was approved),
// "unsubscribed" (it was denied, or our subscription was cancelled) or
// "unsubscribe" (the contact no longer wants our presence). The roster
// push that follows carries the resulting state.
type SubscriptionUpdate struct {
	JID  jid.JID
	Type string
}

// PresenceChanged: a resource of a contact (or another client of our own
// account) became available, changed its presence, or became unavailable
// (Available false; Presence then only has JID and Since).
type PresenceChanged struct {
	Presence  ResourcePresence
	Available bool
}

// PresenceError: a presence we sent bounced (RFC 6121 §4.7.2, RFC 6120
// §8.3): From is the entity it was for, Err the stanza error (a
// *stanza.Error).
type PresenceError struct {
	From jid.JID
	Err  error
}

// CapsResolved: the features of a resource are known (XEP-0115), so
// ContactSupports answers for it. Verified reports that they were verified
// against the advertised hash and cached for every entity with that hash;
// otherwise they hold for this JID only.
type CapsResolved struct {
	JID      jid.JID
	Verified bool
}

// BlocklistChanged: the block list (XEP-0191) in the store changed; JIDs is
// the whole new list.
type BlocklistChanged struct{ JIDs []jid.JID }

// AvatarChanged: the avatar of a contact (or our own) changed. Hash is the
// new avatar in the store (Store Avatar), "" when the contact has none.
type AvatarChanged struct {
	JID  jid.JID
	Hash string
}

// ResourcePresence is the presence of one resource of a contact.
type ResourcePresence struct {
	// JID is the resource's full JID.
	JID jid.JID
	// Show is "" (online), "away", "chat", "dnd" or "xa".
	Show string
	// Status is the status text, in the user's language when the contact
	// gave several.
	Status string
	// Priority is the resource's priority (RFC 6121 §4.7.2.3).
	Priority int8
	// Node identifies the resource's software (XEP-0115), "" if unknown.
	Node string
	// Since is when this presence arrived.
	Since time.Time
}

func (RosterChanged) isEvent()              {}
func (SubscriptionRequested) isEvent()      {}
func (SubscriptionRequestRemoved) isEvent() {}
func (SubscriptionUpdate) isEvent()         {}
func (PresenceChanged) isEvent()            {}
func (PresenceError) isEvent()              {}
func (CapsResolved) isEvent()               {}
func (BlocklistChanged) isEvent()           {}
func (AvatarChanged) isEvent()              {}
