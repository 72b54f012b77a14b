// Package mux routes inbound stanzas to the feature handlers registered for
// them. An IQ request that no handler takes is answered with
// service-unavailable (RFC 6120 §8.4), so a peer never waits in vain.
package mux

import (
	"context"
	"encoding/xml"
	"errors"
	"sort"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/stanza"
)

// IQHandler answers an IQ request. It returns the payload of the result (nil
// for an empty result) or an error; a *stanza.Error is sent back as is, any
// other error as internal-server-error (without its text, which may be
// private).
type IQHandler func(ctx context.Context, iq *xmlstream.Element) (*xmlstream.Element, error)

// StanzaHandler receives a message or presence. It reports whether it
// handled the stanza; unhandled stanzas go to the next handler.
type StanzaHandler func(ctx context.Context, el *xmlstream.Element) bool

type iqKey struct {
	typ  string
	name xml.Name
}

// Mux is a routing table. Register handlers before routing; Route is safe
// for concurrent use once registration is done.
type Mux struct {
	iqs      map[iqKey]IQHandler
	messages []StanzaHandler
	presence []StanzaHandler
	features map[string]bool
}

// New returns an empty Mux.
func New() *Mux {
	return &Mux{iqs: make(map[iqKey]IQHandler), features: make(map[string]bool)}
}

// HandleIQ registers h for IQ requests of type typ ("get" or "set") whose
// payload is the element local in namespace space.
func (m *Mux) HandleIQ(typ, space, local string, h IQHandler) {
	m.iqs[iqKey{typ, xml.Name{Space: space, Local: local}}] = h
}

// HandleMessage adds a message handler (tried in registration order).
func (m *Mux) HandleMessage(h StanzaHandler) { m.messages = append(m.messages, h) }

// HandlePresence adds a presence handler (tried in registration order).
func (m *Mux) HandlePresence(h StanzaHandler) { m.presence = append(m.presence, h) }

// AddFeature records a service discovery feature (XEP-0030) that a
// registered handler implements.
func (m *Mux) AddFeature(ns string) { m.features[ns] = true }

// Features returns the registered features, sorted.
func (m *Mux) Features() []string {
	out := make([]string, 0, len(m.features))
	for f := range m.features {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// Route dispatches one inbound stanza. For an IQ request it returns the
// reply to send (result or error); otherwise it returns nil. handled
// reports whether a message or presence handler took the stanza.
func (m *Mux) Route(ctx context.Context, el *xmlstream.Element) (reply *xmlstream.Element, handled bool) {
	switch el.Name.Local {
	case "iq":
		return m.routeIQ(ctx, el), true
	case "message":
		return nil, try(ctx, m.messages, el)
	case "presence":
		return nil, try(ctx, m.presence, el)
	}
	return nil, false
}

func try(ctx context.Context, hs []StanzaHandler, el *xmlstream.Element) bool {
	for _, h := range hs {
		if h(ctx, el) {
			return true
		}
	}
	return false
}

func (m *Mux) routeIQ(ctx context.Context, iq *xmlstream.Element) *xmlstream.Element {
	typ := iq.Get("type")
	if typ != "get" && typ != "set" {
		return nil // replies are matched by the session; never answer them (RFC 6120 §8.2.3)
	}
	// RFC 6120 §8.2.3: a get or set carries exactly one payload element.
	if len(iq.Children) != 1 {
		return stanza.ErrorReply(iq, &stanza.Error{Type: "modify", Condition: "bad-request"})
	}
	p := iq.Children[0]
	h := m.iqs[iqKey{typ, p.Name}]
	if h == nil {
		return stanza.ErrorReply(iq, &stanza.Error{Type: "cancel", Condition: "service-unavailable"})
	}
	payload, err := h(ctx, iq)
	if err != nil {
		var se *stanza.Error
		if !errors.As(err, &se) {
			se = &stanza.Error{Type: "wait", Condition: "internal-server-error"}
		}
		return stanza.ErrorReply(iq, se)
	}
	return stanza.Result(iq, payload)
}
