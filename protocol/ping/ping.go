// Package ping implements XEP-0199 XMPP Ping: answering pings and pinging
// an entity to check that it is reachable.
package ping

import (
	"context"
	"errors"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/stanza"
)

// NS is the XEP-0199 namespace.
const NS = "urn:xmpp:ping"

// IQSender sends an IQ request and returns its reply.
type IQSender interface {
	SendIQ(ctx context.Context, iq *xmlstream.Element) (*xmlstream.Element, error)
}

// Request returns a ping request to to (zero: our server).
func Request(to jid.JID) *xmlstream.Element {
	return stanza.NewIQ("get", "", to, xmlstream.New(NS, "ping"))
}

// Ping pings to and waits for the answer. A pong, or an error reply saying
// the entity does not support ping (service-unavailable or
// feature-not-implemented, XEP-0199 §4.1), both prove it reachable.
func Ping(ctx context.Context, s IQSender, to jid.JID) error {
	_, err := s.SendIQ(ctx, Request(to))
	if errors.Is(err, stanza.ErrServiceUnavailable) || errors.Is(err, stanza.ErrFeatureNotImplemented) {
		return nil
	}
	return err
}

// Handle answers a ping: an empty result.
func Handle(context.Context, *xmlstream.Element) (*xmlstream.Element, error) { return nil, nil }
