// Package forward implements XEP-0297 Stanza Forwarding (version 1.0): the
// <forwarded xmlns='urn:xmpp:forward:0'/> wrapper that carries a copy of a
// stanza, optionally with a XEP-0203 <delay/> saying when the forwarder
// received it. Carbons (XEP-0280) and archive results (XEP-0313) are built
// on it.
//
// A forwarded stanza is a claim by the forwarder, not a stanza received from
// its sender: it must never be processed as if it were not forwarded, and
// the protocol that wraps it decides whom to believe (XEP-0297 §5). This
// package only parses and builds the wrapper.
package forward

import (
	"errors"
	"fmt"

	"github.com/tern-im/tern/protocol/delay"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/stanza"
)

// NS is the XEP-0297 namespace.
const NS = "urn:xmpp:forward:0"

// ErrMalformed is returned for an element that is not a <forwarded/>
// wrapping a stanza.
var ErrMalformed = errors.New("forward: malformed forwarded element")

// Forwarded is a <forwarded/> element.
type Forwarded struct {
	// Delay is the forwarder's delayed delivery notation: when it
	// received the stanza. Nil when absent or invalid.
	Delay *delay.Delay
	// Stanza is the forwarded <message/>, <presence/> or <iq/>, in the
	// jabber:client or jabber:server namespace.
	Stanza *xmlstream.Element
}

// Parse reads a <forwarded/> element. It must contain a stanza qualified by
// jabber:client or jabber:server: XEP-0297 §3.2 requires the forwarded
// stanza's namespace to be preserved, so a <message/> that inherited
// urn:xmpp:forward:0 is malformed. The first stanza child is taken; a
// <delay/> that does not parse is ignored.
func Parse(el *xmlstream.Element) (Forwarded, error) {
	if !el.Is(NS, "forwarded") {
		return Forwarded{}, ErrMalformed
	}
	var f Forwarded
	for _, c := range el.Children {
		switch {
		case c.Is(delay.NS, "delay"):
			if f.Delay != nil {
				continue
			}
			if d, err := delay.Parse(c); err == nil {
				f.Delay = &d
			}
		case f.Stanza == nil && isStanza(c):
			f.Stanza = c
		}
	}
	if f.Stanza == nil {
		return Forwarded{}, fmt.Errorf("%w: no stanza", ErrMalformed)
	}
	return f, nil
}

// Find returns the <forwarded/> child of parent (the element of the protocol
// that wraps it, such as a carbon's <received/> or an archive <result/>),
// parsed.
func Find(parent *xmlstream.Element) (Forwarded, error) {
	c := parent.Child(NS, "forwarded")
	if c == nil {
		return Forwarded{}, fmt.Errorf("%w: no forwarded element", ErrMalformed)
	}
	return Parse(c)
}

// Element returns f as a <forwarded/> element: the delay (if any) followed
// by the stanza. The stanza is not copied. A nil Stanza yields an empty
// wrapper, which Parse rejects.
func (f Forwarded) Element() *xmlstream.Element {
	e := xmlstream.New(NS, "forwarded")
	if f.Delay != nil {
		e.Append(f.Delay.Element())
	}
	if f.Stanza != nil {
		e.Append(f.Stanza)
	}
	return e
}

// isStanza reports whether e is a stanza in a content namespace.
func isStanza(e *xmlstream.Element) bool {
	if e.Name.Space != stanza.NSClient && e.Name.Space != stanza.NSServer {
		return false
	}
	switch e.Name.Local {
	case stanza.Message, stanza.Presence, stanza.IQ:
		return true
	}
	return false
}
