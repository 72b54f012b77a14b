// Package hints implements XEP-0334 Message Processing Hints (version
// 1.0.0): <store/>, <no-store/>, <no-copy/> and <no-permanent-store/>,
// with which a sender tells servers how to treat a message.
//
// Hints are only hints (§6): never rely on another entity honouring them.
// Hints in a message of type 'error' are ignored, since an error often
// echoes the payload of the message that caused it (§6); Parse and Has
// apply that rule.
package hints

import (
	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
)

// NS is the XEP-0334 namespace.
const NS = "urn:xmpp:hints"

// Hint is a message processing hint.
type Hint string

// The hints (XEP-0334 §4).
const (
	// Store asks that a message be archived even if it would not be
	// otherwise (for example one without a body, such as a reaction).
	Store Hint = "store"
	// NoStore asks that a message be stored neither permanently nor for
	// later delivery.
	NoStore Hint = "no-store"
	// NoCopy asks that a message not be copied to other resources (for
	// example as a XEP-0280 carbon). Only for messages to a full JID.
	NoCopy Hint = "no-copy"
	// NoPermanentStore asks that a message not be archived or logged,
	// though it may be held for later delivery.
	NoPermanentStore Hint = "no-permanent-store"
)

// Valid reports whether h is one of the four hints.
func (h Hint) Valid() bool {
	switch h {
	case Store, NoStore, NoCopy, NoPermanentStore:
		return true
	}
	return false
}

// Element returns the element for h.
func (h Hint) Element() *xmlstream.Element {
	return xmlstream.New(NS, string(h))
}

// Parse returns the hints msg carries, in document order and without
// repeats; nil for a message of type 'error'.
func Parse(msg *xmlstream.Element) []Hint {
	if msg == nil || msg.Get("type") == "error" {
		return nil
	}
	var out []Hint
	for _, c := range msg.Children {
		h := Hint(c.Name.Local)
		if c.Name.Space != NS || !h.Valid() {
			continue
		}
		dup := false
		for _, o := range out {
			dup = dup || o == h
		}
		if !dup {
			out = append(out, h)
		}
	}
	return out
}

// Has reports whether msg carries hint h (never for a message of type
// 'error').
func Has(msg *xmlstream.Element, h Hint) bool {
	if msg == nil || msg.Get("type") == "error" {
		return false
	}
	return msg.Child(NS, string(h)) != nil
}

// NoCopyAllowed reports whether a <no-copy/> hint may go on a message
// addressed to `to`: XEP-0334 §4.3 allows it only on messages to a full
// JID (a message to a bare JID is delivered by RFC 6121 rules regardless).
func NoCopyAllowed(to jid.JID) bool {
	return to.Resource() != ""
}
