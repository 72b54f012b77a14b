// Package retraction implements XEP-0424 Message Retraction (version 0.4.2,
// namespace urn:xmpp:message-retract:1): a sender asks everyone to remove
// a message it sent, with <retract id='…'/>.
//
// A retraction is an unenforceable request (§1): others may have seen or
// copied the message already, and the user should be told so.
//
// # Who may retract
//
// A retraction is processed only when it comes from the sender of the
// original message (§5): in a one-to-one chat the bare JIDs must be equal;
// in a group chat the occupant full JIDs must be equal, and in a
// semi-anonymous room the XEP-0421 occupant-ids must match, since a
// nickname may pass to someone else. [ValidRetraction] and [SameOccupant]
// encode the comparisons; the engine looks the original up in its store and
// applies them.
//
// # Which id
//
// The 'id' is the original's message id (or origin-id) in a one-to-one
// chat, and the room's XEP-0359 stanza-id for a group chat message (§5.1).
package retraction

import (
	"errors"
	"fmt"
	"time"

	"github.com/tern-im/tern/protocol/delay"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/stanza"
)

// Namespaces and features.
const (
	// NS is the XEP-0424 namespace and disco#info feature.
	NS = "urn:xmpp:message-retract:1"
	// FeatureTombstone is announced by archives that replace retracted
	// messages with a <retracted/> tombstone (§4).
	FeatureTombstone = NS + "#tombstone"
	// NSFallback is the XEP-0428 Fallback Indication namespace.
	NSFallback = "urn:xmpp:fallback:0"
	// NSHints is the XEP-0334 Message Processing Hints namespace.
	NSHints = "urn:xmpp:hints"
)

// FallbackBody is the body a retraction carries for clients that do not
// support retractions (§3), so that they, and archives that store only
// messages with a body, still see it.
const FallbackBody = "/me retracted a previous message, but it's unsupported by your client."

// MaxID is the longest message id a retraction may refer to, in bytes.
const MaxID = 256

var (
	// ErrMalformed is returned for a retraction or tombstone without a
	// usable id.
	ErrMalformed = errors.New("retraction: malformed element")
	// ErrNotFound is returned when a message carries no retraction (or
	// no tombstone).
	ErrNotFound = errors.New("retraction: no retraction")
)

// Retract returns the <retract/> element asking to remove the message
// with the given id.
func Retract(id string) *xmlstream.Element {
	return xmlstream.New(NS, "retract", "id", id)
}

// Message returns a complete retraction message, as XEP-0424 §3
// recommends sending it: <retract/> for the message target, a XEP-0428
// <fallback/> marking the body as a fallback for retractions, FallbackBody,
// and a XEP-0334 <store/> hint so that archives keep it (§5: they must, so
// that clients that were offline learn of it). id is the retraction
// message's own id; msgType its type ("chat" or "groupchat").
func Message(to jid.JID, msgType, id, target string) *xmlstream.Element {
	msg := xmlstream.New(stanza.NSClient, stanza.Message)
	if !to.IsZero() {
		msg.Set("to", to.String())
	}
	msg.Set("id", id)
	msg.Set("type", msgType)
	return msg.Append(
		Retract(target),
		xmlstream.New(NSFallback, "fallback", "for", NS),
		xmlstream.New(stanza.NSClient, "body").SetText(FallbackBody),
		xmlstream.New(NSHints, "store"),
	)
}

// Parse returns the id of the message that msg retracts: ErrNotFound when
// msg carries no <retract/> (or is of type 'error'), ErrMalformed when its
// id is empty or longer than MaxID.
func Parse(msg *xmlstream.Element) (id string, err error) {
	r := msg.Child(NS, "retract")
	if r == nil || msg.Get("type") == "error" {
		return "", ErrNotFound
	}
	return checkID(r)
}

// Tombstone is what an archive that supports tombstones returns in place
// of a retracted message: a <retracted/> element (§4).
type Tombstone struct {
	// ID is the id of the retraction message (not of the retracted one).
	ID string
	// By is the entity that retracted the message when it is not the
	// sender (a moderator, XEP-0425); zero when absent or invalid.
	By jid.JID
	// Stamp is when the retraction happened; zero when absent or
	// invalid.
	Stamp time.Time
}

// ParseTombstone returns the tombstone msg carries: ErrNotFound when it has
// none, ErrMalformed when its id is empty or longer than MaxID.
func ParseTombstone(msg *xmlstream.Element) (Tombstone, error) {
	r := msg.Child(NS, "retracted")
	if r == nil {
		return Tombstone{}, ErrNotFound
	}
	id, err := checkID(r)
	if err != nil {
		return Tombstone{}, err
	}
	t := Tombstone{ID: id}
	if s := r.Get("by"); s != "" {
		t.By, _ = jid.Parse(s) // zero when invalid
	}
	if s := r.Get("stamp"); s != "" {
		t.Stamp, _ = delay.ParseTime(s) // zero when invalid
	}
	return t, nil
}

// Element returns t as a <retracted/> element.
func (t Tombstone) Element() *xmlstream.Element {
	e := xmlstream.New(NS, "retracted", "id", t.ID)
	if !t.By.IsZero() {
		e.Set("by", t.By.String())
	}
	if !t.Stamp.IsZero() {
		e.Set("stamp", delay.FormatTime(t.Stamp))
	}
	return e
}

// ValidRetraction reports whether a retraction sent by `retraction` may
// remove a message sent by `original` (§5): outside a room the bare JIDs
// must be equal; in a room (isMUC) the full occupant JIDs must be equal,
// and where the room provides XEP-0421 occupant-ids SameOccupant must hold
// too.
func ValidRetraction(original, retraction jid.JID, isMUC bool) bool {
	if original.IsZero() || retraction.IsZero() {
		return false
	}
	if isMUC {
		return original.Resource() != "" && original == retraction
	}
	return original.Bare() == retraction.Bare()
}

// SameOccupant reports whether the XEP-0421 occupant-ids of the original
// message and of the retraction prove the same occupant: both present and
// equal (§5: required in semi-anonymous rooms).
func SameOccupant(originalID, retractionID string) bool {
	return originalID != "" && originalID == retractionID
}

// checkID returns the 'id' attribute of el, which must be non-empty and at
// most MaxID bytes.
func checkID(el *xmlstream.Element) (string, error) {
	id := el.Get("id")
	if id == "" || len(id) > MaxID {
		return "", fmt.Errorf("%w: <%s/> id", ErrMalformed, el.Name.Local)
	}
	return id, nil
}
