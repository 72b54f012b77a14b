// Package markers implements XEP-0333 Displayed Markers (version 1.0.0,
// namespace urn:xmpp:chat-markers:0): a sender marks a message <markable/>,
// and the recipient answers with <displayed id='…'/> once the message has
// been shown, meaning "displayed everything up to this message".
//
// Version 1.0.0 defines only <markable/> and <displayed/>. Earlier drafts
// also had <received/> and <acknowledged/> with the same "up to here"
// meaning (§11); some clients still send them, so Parse reads them, but we
// never send them: XEP-0184 receipts say "received".
//
// Rules for the engine (XEP-0333 §4, §5):
//   - a <markable/> message must carry an 'id';
//   - never answer a marker with a marker (loops);
//   - send a displayed marker only for the newest displayed message, and
//     never for our own messages (sent by this or another of our clients,
//     arriving as carbons or from the archive);
//   - in a group chat that announces XEP-0359, the id in a marker is the
//     room's <stanza-id/> (by the room), never the sender's message id;
//   - markers only move forward: ignore one for a message older than the
//     current marker, or for an id not in that conversation;
//   - a marker leaks presence: send them only to contacts allowed to see
//     it, and let the user turn them off.
package markers

import (
	"errors"
	"fmt"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
)

// NS is the XEP-0333 namespace and disco#info feature.
const NS = "urn:xmpp:chat-markers:0"

// MaxID is the longest message id a marker may refer to, in bytes.
const MaxID = 256

// Kinds of marker.
const (
	// Displayed is the one marker XEP-0333 1.0.0 defines.
	Displayed = "displayed"
	// Received and Acknowledged come from pre-1.0 drafts: Parse accepts
	// them, for peers that still send them.
	Received     = "received"
	Acknowledged = "acknowledged"
)

var (
	// ErrMalformed is returned for a marker without a usable id.
	ErrMalformed = errors.New("markers: malformed marker")
	// ErrNoMarker is returned by Parse for a message without a marker.
	ErrNoMarker = errors.New("markers: no marker")
)

// Marker is a chat marker: Kind for every message up to the one with ID.
type Marker struct {
	// Kind is Displayed, or Received or Acknowledged from an old peer.
	Kind string
	// ID is the id of the newest message the marker covers.
	ID string
}

// Markable returns the <markable/> element that asks for displayed markers.
func Markable() *xmlstream.Element {
	return xmlstream.New(NS, "markable")
}

// IsMarkable reports whether msg asks for displayed markers: it carries
// <markable/> and the 'id' a marker would refer to (§4.1). A markable
// message of type 'groupchat' is answered with the room's stanza-id
// instead; see the package documentation.
func IsMarkable(msg *xmlstream.Element) bool {
	return msg.Child(NS, "markable") != nil && msg.Get("id") != ""
}

// Element returns m as a marker element.
func (m Marker) Element() *xmlstream.Element {
	return xmlstream.New(NS, m.Kind, "id", m.ID)
}

// Parse returns the marker msg carries: ErrNoMarker when there is none,
// ErrMalformed when it has an empty or over-long id. A message of type
// 'error' carries no marker (its payload echoes what we sent). When a
// message carries several markers, the first is taken.
func Parse(msg *xmlstream.Element) (Marker, error) {
	if msg.Get("type") == "error" {
		return Marker{}, ErrNoMarker
	}
	for _, c := range msg.Children {
		if c.Name.Space != NS {
			continue
		}
		switch c.Name.Local {
		case Displayed, Received, Acknowledged:
		default:
			continue
		}
		id := c.Get("id")
		if id == "" || len(id) > MaxID {
			return Marker{}, fmt.Errorf("%w: <%s/> id", ErrMalformed, c.Name.Local)
		}
		return Marker{Kind: c.Name.Local, ID: id}, nil
	}
	return Marker{}, ErrNoMarker
}
