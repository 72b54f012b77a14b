// Package carbons implements XEP-0280 Message Carbons (version 1.0.1): the
// server copies the messages each of our clients sends and receives to our
// other clients, wrapped in <sent/> or <received/>.
//
// # Security
//
// Anyone can send us a message that looks like a carbon. XEP-0280 §11: a
// carbon is genuine only when the wrapping message comes from our own bare
// JID; anything else must be ignored (CVE-2017-5589 and its relatives let a
// stranger put words in a contact's mouth this way). [Unwrap] enforces
// that and returns [ErrSpoofed] otherwise. The inner message is then
// processed as a forwarded copy, never as if received directly: a sent
// carbon is our own message, not to be auto-answered (§9.4), receipted or
// marked.
package carbons

import (
	"context"
	"errors"
	"fmt"

	"github.com/tern-im/tern/protocol/forward"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/stanza"
)

// Namespaces and features.
const (
	// NS is the XEP-0280 namespace and disco#info feature.
	NS = "urn:xmpp:carbons:2"
	// FeatureRules is announced by servers that implement every rule of
	// §6.1 for which messages are copied (§6.2).
	FeatureRules = "urn:xmpp:carbons:rules:0"
	// NSHints is the XEP-0334 namespace of the <no-copy/> hint that goes
	// with <private/> (§7).
	NSHints = "urn:xmpp:hints"
)

var (
	// ErrNotCarbon is returned by Unwrap for a message that is not a
	// carbon.
	ErrNotCarbon = errors.New("carbons: not a carbon")
	// ErrSpoofed is returned by Unwrap for a carbon that does not come
	// from our own bare JID (§11): ignore it.
	ErrSpoofed = errors.New("carbons: carbon not from our own account")
	// ErrMalformed is returned by Unwrap for a carbon without exactly one
	// <sent/> or <received/> wrapping a forwarded message.
	ErrMalformed = errors.New("carbons: malformed carbon")
)

// IQSender sends an IQ request and returns its reply.
type IQSender interface {
	SendIQ(ctx context.Context, iq *xmlstream.Element) (*xmlstream.Element, error)
}

// EnableRequest returns the IQ that enables carbons for this client (§4),
// addressed to our own account.
func EnableRequest() *xmlstream.Element {
	return stanza.NewIQ(stanza.TypeSet, "", jid.JID{}, xmlstream.New(NS, "enable"))
}

// DisableRequest returns the IQ that disables carbons for this client (§5).
func DisableRequest() *xmlstream.Element {
	return stanza.NewIQ(stanza.TypeSet, "", jid.JID{}, xmlstream.New(NS, "disable"))
}

// Enable enables carbons for this client and waits for the server's
// answer. Enabling twice is harmless (§9.1); the engine enables carbons at
// every session start that did not resume a stream.
func Enable(ctx context.Context, s IQSender) error {
	if _, err := s.SendIQ(ctx, EnableRequest()); err != nil {
		return fmt.Errorf("enable carbons: %w", err)
	}
	return nil
}

// Unwrap checks a message for a carbon and returns the copied message:
// sent is true for a copy of a message one of our other clients sent
// (<sent/>), false for a copy of a message one of them received
// (<received/>).
//
// own is our account's JID (full or bare). The carbon is accepted only
// when the wrapping message's 'from' is exactly our bare JID (§11); a
// message without 'from', or from any other address — another user, our
// server's domain, one of our own full JIDs — yields ErrSpoofed. A message
// with neither element yields ErrNotCarbon, one with both, several, or no
// forwarded <message/> inside ErrMalformed. A message of type 'error' is
// not a carbon.
func Unwrap(msg *xmlstream.Element, own jid.JID) (inner *xmlstream.Element, sent bool, err error) {
	if msg == nil || msg.Get("type") == stanza.TypeError {
		return nil, false, ErrNotCarbon
	}
	var wrapper *xmlstream.Element
	n := 0
	for _, c := range msg.Children {
		if c.Name.Space == NS && (c.Name.Local == "sent" || c.Name.Local == "received") {
			wrapper = c
			n++
		}
	}
	switch {
	case n == 0:
		return nil, false, ErrNotCarbon
	case !fromOwnBareJID(msg, own):
		return nil, false, ErrSpoofed
	case n > 1:
		return nil, false, fmt.Errorf("%w: more than one <sent/> or <received/>", ErrMalformed)
	}
	f, err := forward.Find(wrapper)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if f.Stanza.Name.Local != stanza.Message {
		return nil, false, fmt.Errorf("%w: forwarded <%s/> is not a message", ErrMalformed, f.Stanza.Name.Local)
	}
	return f.Stanza, wrapper.Name.Local == "sent", nil
}

// fromOwnBareJID reports whether msg's 'from' is exactly own's bare JID.
func fromOwnBareJID(msg *xmlstream.Element, own jid.JID) bool {
	s, ok := msg.Lookup("from")
	if !ok || own.IsZero() {
		return false
	}
	from, err := jid.Parse(s)
	return err == nil && from == own.Bare()
}

// Private returns the <private/> element that asks the servers not to
// copy a message to other clients (§7). Send it together with a <no-copy/>
// hint; MarkPrivate adds both.
func Private() *xmlstream.Element {
	return xmlstream.New(NS, "private")
}

// MarkPrivate adds <private/> and the XEP-0334 <no-copy/> hint to msg, as
// §7 asks of a client that keeps a message out of carbons, and returns msg.
func MarkPrivate(msg *xmlstream.Element) *xmlstream.Element {
	return msg.Append(Private(), xmlstream.New(NSHints, "no-copy"))
}

// IsPrivate reports whether msg carries <private/>. A message without it
// may still not have been copied to all our clients (§7).
func IsPrivate(msg *xmlstream.Element) bool {
	return msg.Child(NS, "private") != nil
}
