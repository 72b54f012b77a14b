// Package csi implements XEP-0352 Client State Indication (version 1.0.0):
// the <active/> and <inactive/> nonzas with which a client tells its server
// whether the user is looking, so that the server can hold back
// unimportant traffic (presence updates, chat states) while they are not.
//
// Rules for the engine (XEP-0352 §5):
//   - send the nonzas only when the server offers the feature (Supported);
//   - every stream starts active, including a resumed XEP-0198 stream: a
//     client that is inactive must send <inactive/> again after resuming
//     or reconnecting;
//   - the server answers nothing; the state is unrelated to presence.
package csi

import (
	"errors"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/stream"
)

// NS is the XEP-0352 namespace.
const NS = "urn:xmpp:csi:0"

// State is the client state: Active or Inactive.
type State string

// The two client states.
const (
	Active   State = "active"
	Inactive State = "inactive"
)

// ErrMalformed is returned by Parse for an element that is not a CSI nonza.
var ErrMalformed = errors.New("csi: not a client state indication")

// Element returns the nonza for s, to be sent as a top-level element on the
// stream.
func (s State) Element() *xmlstream.Element {
	return xmlstream.New(NS, string(s))
}

// Parse reads a CSI nonza.
func Parse(el *xmlstream.Element) (State, error) {
	switch {
	case el.Is(NS, string(Active)):
		return Active, nil
	case el.Is(NS, string(Inactive)):
		return Inactive, nil
	}
	return "", ErrMalformed
}

// Supported reports whether the server offers CSI in its stream features
// (XEP-0352 §4.1: <csi xmlns='urn:xmpp:csi:0'/>, after authentication).
func Supported(f stream.Features) bool {
	return f.CSI || f.Raw.Child(NS, "csi") != nil
}
