// Package correction implements XEP-0308 Last Message Correction (version
// 1.2.1): a message carrying <replace id='…'/> replaces the payloads of an
// earlier message.
//
// # Who may correct
//
// A correction is accepted only when it comes from the sender of the
// original message (XEP-0308 §4): in a one-to-one chat the bare JIDs must be
// equal; in a group chat (and for private messages through a room) the
// occupant JIDs must be equal and the occupant must still be the same
// person — the XEP-0421 occupant-id where the room provides one, otherwise
// the real JID or the engine's tracking of leave and join presences (a
// nickname freed and taken by someone else is not the same sender, §5).
// [ValidCorrection] and [SameOccupant] encode the address comparisons; the
// engine looks the original up in its store and applies them. The 'id'
// names the original message even after several corrections (§4), and
// metadata such as stanza-ids belong to the correction, not the original.
package correction

import (
	"errors"
	"fmt"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
)

// NS is the XEP-0308 namespace and disco#info feature.
const NS = "urn:xmpp:message-correct:0"

// MaxID is the longest message id a correction may refer to, in bytes.
const MaxID = 256

var (
	// ErrMalformed is returned for a <replace/> without a usable id.
	ErrMalformed = errors.New("correction: malformed replace element")
	// ErrNoCorrection is returned by Parse for a message that is not a
	// correction.
	ErrNoCorrection = errors.New("correction: not a correction")
)

// Replace returns the <replace/> element that makes a message correct the
// one with the given id (the id of the original message, not of an earlier
// correction).
func Replace(id string) *xmlstream.Element {
	return xmlstream.New(NS, "replace", "id", id)
}

// Parse returns the id of the message that msg corrects: ErrNoCorrection
// when msg carries no <replace/> (or is of type 'error'), ErrMalformed when
// its id is empty or longer than MaxID.
func Parse(msg *xmlstream.Element) (id string, err error) {
	r := msg.Child(NS, "replace")
	if r == nil || msg.Get("type") == "error" {
		return "", ErrNoCorrection
	}
	id = r.Get("id")
	if id == "" || len(id) > MaxID {
		return "", fmt.Errorf("%w: id", ErrMalformed)
	}
	return id, nil
}

// ValidCorrection reports whether a correction sent by `correction` may
// replace a message sent by `original` (XEP-0308 §4): outside a room the
// bare JIDs must be equal (any of the sender's clients may correct);
// in a room (isMUC, for groupchat messages and private messages through
// the room) the full occupant JIDs must be equal. In a room, also check
// SameOccupant, or the engine's presence tracking, that the nickname still
// belongs to the same person.
func ValidCorrection(original, correction jid.JID, isMUC bool) bool {
	if original.IsZero() || correction.IsZero() {
		return false
	}
	if isMUC {
		return original.Resource() != "" && original == correction
	}
	return original.Bare() == correction.Bare()
}

// SameOccupant reports whether two XEP-0421 occupant-ids, of the original
// message and of the correction, prove the same occupant: both present and
// equal. Where a room provides occupant-ids, a correction needs both this
// and ValidCorrection.
func SameOccupant(originalID, correctionID string) bool {
	return originalID != "" && originalID == correctionID
}
