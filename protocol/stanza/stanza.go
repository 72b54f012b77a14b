// Package stanza handles what every XMPP stanza shares (RFC 6120 §8): the
// header attributes of <message/>, <presence/> and <iq/>, stanza errors
// (RFC 6120 §8.3) and the construction of IQ requests, results and error
// replies.
package stanza

import (
	"errors"
	"fmt"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
)

// Namespaces.
const (
	// NSClient is the content namespace of client-to-server streams, in
	// which stanzas built here are qualified.
	NSClient = "jabber:client"
	// NSServer is the content namespace of server-to-server streams.
	NSServer = "jabber:server"
	// NSStanzas qualifies stanza error conditions (RFC 6120 §8.3.2).
	NSStanzas = "urn:ietf:params:xml:ns:xmpp-stanzas"
)

// The three stanza kinds (RFC 6120 §8.2).
const (
	Message  = "message"
	Presence = "presence"
	IQ       = "iq"
)

// IQ types (RFC 6120 §8.2.3).
const (
	TypeGet    = "get"
	TypeSet    = "set"
	TypeResult = "result"
	TypeError  = "error"
)

var (
	// ErrNotStanza is returned by ParseHeader for an element that is not a
	// <message/>, <presence/> or <iq/> in jabber:client or jabber:server.
	ErrNotStanza = errors.New("stanza: not a stanza")
	// ErrInvalidAddress is returned by ParseHeader when the 'from' or 'to'
	// attribute is not a valid JID (RFC 6120 §8.1.1, §8.1.2); the
	// underlying jid error is wrapped too.
	ErrInvalidAddress = errors.New("stanza: invalid address")
)

// Header holds the attributes every stanza may carry (RFC 6120 §8.1).
type Header struct {
	// Name is the stanza kind: "message", "presence" or "iq".
	Name string
	// ID is the 'id' attribute ("" when absent).
	ID string
	// From and To are the addresses; zero when the attribute is absent.
	From, To jid.JID
	// Type is the 'type' attribute ("" when absent).
	Type string
	// Lang is the xml:lang attribute ("" when absent).
	Lang string
}

// ParseHeader reads the header of a stanza. It fails for elements that are
// not stanzas and for 'from' or 'to' values that are not valid JIDs: such a
// stanza cannot be attributed or answered, and callers drop it.
func ParseHeader(e *xmlstream.Element) (Header, error) {
	if e == nil || (e.Name.Space != NSClient && e.Name.Space != NSServer) {
		return Header{}, ErrNotStanza
	}
	switch e.Name.Local {
	case Message, Presence, IQ:
	default:
		return Header{}, ErrNotStanza
	}
	h := Header{Name: e.Name.Local, ID: e.Get("id"), Type: e.Get("type"), Lang: e.Lang()}
	var err error
	if s, ok := e.Lookup("from"); ok {
		if h.From, err = jid.Parse(s); err != nil {
			return Header{}, fmt.Errorf("%w in 'from': %w", ErrInvalidAddress, err)
		}
	}
	if s, ok := e.Lookup("to"); ok {
		if h.To, err = jid.Parse(s); err != nil {
			return Header{}, fmt.Errorf("%w in 'to': %w", ErrInvalidAddress, err)
		}
	}
	return h, nil
}

// NewIQ returns an <iq/> in jabber:client with the given type and id,
// addressed to `to` (no 'to' attribute when it is zero, meaning the
// account's server or bare JID, RFC 6120 §10.3), with payload as its only
// child when it is not nil.
func NewIQ(typ, id string, to jid.JID, payload *xmlstream.Element) *xmlstream.Element {
	iq := xmlstream.New(NSClient, IQ, "type", typ, "id", id)
	if !to.IsZero() {
		iq.Set("to", to.String())
	}
	if payload != nil {
		iq.Append(payload)
	}
	return iq
}

// Result returns the type='result' reply to an IQ request (RFC 6120
// §8.2.3): the same id, addressed to the request's 'from' (no 'to' when the
// request had no 'from'), no 'from' of our own (the server stamps it), and
// payload as its only child when it is not nil.
func Result(req *xmlstream.Element, payload *xmlstream.Element) *xmlstream.Element {
	iq := xmlstream.New(replyNS(req), IQ, "type", TypeResult, "id", req.Get("id"))
	iq.Set("to", req.Get("from"))
	if payload != nil {
		iq.Append(payload)
	}
	return iq
}

// ErrorReply returns the error reply to a stanza (RFC 6120 §8.3.1): the
// same kind and id, type='error', addressed to the request's 'from', no
// 'from' of our own, with err as its <error/> child. The original payload
// is not echoed (§8.3.1 makes that optional, and echoing a large payload
// back only costs bandwidth). An error stanza must never be answered with
// another (§8.3.1), so ErrorReply returns nil when req has type='error'; it
// also returns nil for an element that is not a stanza.
func ErrorReply(req *xmlstream.Element, err *Error) *xmlstream.Element {
	if req == nil || req.Get("type") == TypeError {
		return nil
	}
	switch req.Name.Local {
	case Message, Presence, IQ:
	default:
		return nil
	}
	if err == nil {
		err = &Error{Condition: CondUndefinedCondition}
	}
	r := xmlstream.New(replyNS(req), req.Name.Local, "type", TypeError)
	r.Set("id", req.Get("id"))
	r.Set("to", req.Get("from"))
	el := err.Element()
	el.Name.Space = r.Name.Space
	return r.Append(el)
}

// replyNS is the namespace a reply to req is qualified in: the request's
// own content namespace, jabber:client by default.
func replyNS(req *xmlstream.Element) string {
	if req != nil && req.Name.Space == NSServer {
		return NSServer
	}
	return NSClient
}
