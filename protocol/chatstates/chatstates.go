// Package chatstates implements XEP-0085 Chat State Notifications (version
// 2.1): whether a conversation partner is active, composing, paused,
// inactive or gone.
//
// Rules for the engine (XEP-0085 §5):
//   - send notifications only to a contact known to support them (disco,
//     or a notification received from them), and let the user turn them
//     off;
//   - every content message carries <active/>; a standalone notification
//     (no body) is never repeated with the same state;
//   - in a group chat, never send <gone/> and ignore <gone/> from others;
//   - a server may drop standalone notifications; never depend on them.
package chatstates

import (
	"errors"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
)

// NS is the XEP-0085 namespace and disco#info feature.
const NS = "http://jabber.org/protocol/chatstates"

// State is a chat state: one of the five constants.
type State string

// The chat states (XEP-0085 §2).
const (
	Active    State = "active"
	Composing State = "composing"
	Paused    State = "paused"
	Inactive  State = "inactive"
	Gone      State = "gone"
)

// ErrMalformed is returned by Parse for a message with more than one chat
// state (XEP-0085 §5.5 allows one), whose meaning is unknowable.
var ErrMalformed = errors.New("chatstates: more than one chat state")

// Valid reports whether s is one of the five chat states.
func (s State) Valid() bool {
	switch s {
	case Active, Composing, Paused, Inactive, Gone:
		return true
	}
	return false
}

// Element returns the notification element for s.
func (s State) Element() *xmlstream.Element {
	return xmlstream.New(NS, string(s))
}

// Parse returns the chat state a message carries, or "" when it carries
// none. Elements in the namespace that are not one of the five states are
// ignored; a message of type 'error' carries no state.
func Parse(msg *xmlstream.Element) (State, error) {
	if msg.Get("type") == "error" {
		return "", nil
	}
	var found State
	for _, c := range msg.Children {
		if c.Name.Space != NS || !State(c.Name.Local).Valid() {
			continue
		}
		if found != "" {
			return "", ErrMalformed
		}
		found = State(c.Name.Local)
	}
	return found, nil
}

// Ignore reports whether a state received in a message of type msgType
// should be ignored: XEP-0085 §5.6 asks clients to ignore <gone/> from
// group chat occupants.
func Ignore(s State, msgType string) bool {
	return s == Gone && msgType == "groupchat"
}
