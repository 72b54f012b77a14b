// Package receipts implements XEP-0184 Message Delivery Receipts (version
// 1.4.0): asking that a message be acknowledged when it reaches one of the
// recipient's clients, and giving that acknowledgement.
//
// A receipt says "delivered to a client", not "read" (that is XEP-0333), and
// its absence means nothing (XEP-0184 §4): never resend because one did not
// come. A receipt must match a message we sent to that peer; the engine
// ignores any other.
package receipts

import (
	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/stanza"
)

// NS is the XEP-0184 namespace and disco#info feature.
const NS = "urn:xmpp:receipts"

// MaxID is the longest message id a receipt may acknowledge, in bytes;
// a longer one cannot be an id we generated and is ignored.
const MaxID = 256

// Request returns the <request/> element asking for a receipt.
func Request() *xmlstream.Element {
	return xmlstream.New(NS, "request")
}

// Received returns the <received/> element acknowledging the message with
// the given id.
func Received(id string) *xmlstream.Element {
	return xmlstream.New(NS, "received", "id", id)
}

// CanRequest reports whether a receipt may be requested on msg: it needs
// an 'id' to be matched against (XEP-0184 §5), must not be of type 'error'
// (§4: only content messages), should not be of type 'groupchat' (§4.3:
// every occupant would answer), and must not itself be a receipt (§4.4:
// that could loop).
func CanRequest(msg *xmlstream.Element) bool {
	if msg == nil || msg.Get("id") == "" || msg.Child(NS, "received") != nil {
		return false
	}
	switch msg.Get("type") {
	case "error", "groupchat":
		return false
	}
	return true
}

// Requested reports whether msg asks for a receipt that we should send:
// it carries <request/> and an 'id', is not of type 'error' or
// 'groupchat', and is not a receipt itself (XEP-0184 §4, §5).
//
// The caller must also check what this function cannot see: answer only a
// message received live and addressed to us — not one fetched from an
// archive (§4.5), not a carbon copy of a message sent or received by
// another of our clients — and only a sender allowed to see our presence
// (§7).
func Requested(msg *xmlstream.Element) bool {
	return msg.Child(NS, "request") != nil && CanRequest(msg)
}

// Answer returns the ack message for msg, which asked for a receipt (see
// Requested): addressed to its sender, of the same type, with id as its own
// id and a <received/> echoing msg's id as its only payload (§5). It returns
// nil when msg has no 'from' to answer.
func Answer(msg *xmlstream.Element, id string) *xmlstream.Element {
	from := msg.Get("from")
	if from == "" {
		return nil
	}
	ack := xmlstream.New(stanza.NSClient, stanza.Message, "to", from)
	ack.Set("id", id)
	ack.Set("type", msg.Get("type"))
	return ack.Append(Received(msg.Get("id")))
}

// ParseReceived returns the id that msg acknowledges. ok is false when msg
// carries no <received/>, when that element has an empty or over-long id
// (such a receipt matches nothing and is ignored), or when msg is of type
// 'error'. Receipts of any other type are accepted (§5: "a client SHOULD
// also accept receipts with a different message type").
func ParseReceived(msg *xmlstream.Element) (id string, ok bool) {
	r := msg.Child(NS, "received")
	if r == nil || msg.Get("type") == "error" {
		return "", false
	}
	id = r.Get("id")
	if id == "" || len(id) > MaxID {
		return "", false
	}
	return id, true
}

// Matches reports whether a receipt from `from` may acknowledge a message
// we sent to `to`: the acknowledging client must belong to the recipient,
// so the bare JIDs must be equal. (A receipt for a message we never sent
// is caught by the engine's lookup of the id.)
func Matches(to, from jid.JID) bool {
	return !to.IsZero() && to.Bare() == from.Bare()
}
