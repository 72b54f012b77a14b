package stanza

import (
	"encoding/xml"
	"strconv"
	"strings"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
)

// Stanza error types (RFC 6120 §8.3.2).
const (
	ErrorTypeAuth     = "auth"
	ErrorTypeCancel   = "cancel"
	ErrorTypeContinue = "continue"
	ErrorTypeModify   = "modify"
	ErrorTypeWait     = "wait"
)

// Stanza error conditions (RFC 6120 §8.3.3).
const (
	CondBadRequest            = "bad-request"
	CondConflict              = "conflict"
	CondFeatureNotImplemented = "feature-not-implemented"
	CondForbidden             = "forbidden"
	CondGone                  = "gone"
	CondInternalServerError   = "internal-server-error"
	CondItemNotFound          = "item-not-found"
	CondJIDMalformed          = "jid-malformed"
	CondNotAcceptable         = "not-acceptable"
	CondNotAllowed            = "not-allowed"
	CondNotAuthorized         = "not-authorized"
	CondPolicyViolation       = "policy-violation"
	CondRecipientUnavailable  = "recipient-unavailable"
	CondRedirect              = "redirect"
	CondRegistrationRequired  = "registration-required"
	CondRemoteServerNotFound  = "remote-server-not-found"
	CondRemoteServerTimeout   = "remote-server-timeout"
	CondResourceConstraint    = "resource-constraint"
	CondServiceUnavailable    = "service-unavailable"
	CondSubscriptionRequired  = "subscription-required"
	CondUndefinedCondition    = "undefined-condition"
	CondUnexpectedRequest     = "unexpected-request"
)

// condition is what we know about one defined condition: the error type
// RFC 6120 §8.3.3 recommends for it and a user-presentable explanation.
type condition struct {
	typ, desc string
}

var conditions = map[string]condition{
	CondBadRequest:            {ErrorTypeModify, "the request was malformed or not understood"},
	CondConflict:              {ErrorTypeCancel, "the name or resource is already in use"},
	CondFeatureNotImplemented: {ErrorTypeCancel, "the recipient does not support this feature"},
	CondForbidden:             {ErrorTypeAuth, "you are not allowed to do this"},
	CondGone:                  {ErrorTypeCancel, "the recipient is no longer at this address"},
	CondInternalServerError:   {ErrorTypeCancel, "the server had an internal error"},
	CondItemNotFound:          {ErrorTypeCancel, "the item does not exist"},
	CondJIDMalformed:          {ErrorTypeModify, "the address is not valid"},
	CondNotAcceptable:         {ErrorTypeModify, "the request was refused as not acceptable"},
	CondNotAllowed:            {ErrorTypeCancel, "this action is not allowed"},
	CondNotAuthorized:         {ErrorTypeAuth, "you must authenticate first"},
	CondPolicyViolation:       {ErrorTypeModify, "a server policy was violated"},
	CondRecipientUnavailable:  {ErrorTypeWait, "the recipient is not online"},
	CondRedirect:              {ErrorTypeModify, "the recipient has moved to another address"},
	CondRegistrationRequired:  {ErrorTypeAuth, "you must register first"},
	CondRemoteServerNotFound:  {ErrorTypeCancel, "the recipient's server could not be found"},
	CondRemoteServerTimeout:   {ErrorTypeWait, "the recipient's server did not answer in time"},
	CondResourceConstraint:    {ErrorTypeWait, "the recipient is too busy right now"},
	CondServiceUnavailable:    {ErrorTypeCancel, "the service is not available"},
	CondSubscriptionRequired:  {ErrorTypeAuth, "a presence subscription is required"},
	CondUndefinedCondition:    {ErrorTypeCancel, "an unspecified error occurred"},
	CondUnexpectedRequest:     {ErrorTypeWait, "the request was not expected at this time"},
}

// Sentinels for every stanza error condition of RFC 6120 §8.3.3, to be used
// with errors.Is: any *Error with the same Condition matches, whatever its
// type and text.
var (
	ErrBadRequest            = &Error{Condition: CondBadRequest}
	ErrConflict              = &Error{Condition: CondConflict}
	ErrFeatureNotImplemented = &Error{Condition: CondFeatureNotImplemented}
	ErrForbidden             = &Error{Condition: CondForbidden}
	ErrGone                  = &Error{Condition: CondGone}
	ErrInternalServerError   = &Error{Condition: CondInternalServerError}
	ErrItemNotFound          = &Error{Condition: CondItemNotFound}
	ErrJIDMalformed          = &Error{Condition: CondJIDMalformed}
	ErrNotAcceptable         = &Error{Condition: CondNotAcceptable}
	ErrNotAllowed            = &Error{Condition: CondNotAllowed}
	ErrNotAuthorized         = &Error{Condition: CondNotAuthorized}
	ErrPolicyViolation       = &Error{Condition: CondPolicyViolation}
	ErrRecipientUnavailable  = &Error{Condition: CondRecipientUnavailable}
	ErrRedirect              = &Error{Condition: CondRedirect}
	ErrRegistrationRequired  = &Error{Condition: CondRegistrationRequired}
	ErrRemoteServerNotFound  = &Error{Condition: CondRemoteServerNotFound}
	ErrRemoteServerTimeout   = &Error{Condition: CondRemoteServerTimeout}
	ErrResourceConstraint    = &Error{Condition: CondResourceConstraint}
	ErrServiceUnavailable    = &Error{Condition: CondServiceUnavailable}
	ErrSubscriptionRequired  = &Error{Condition: CondSubscriptionRequired}
	ErrUndefinedCondition    = &Error{Condition: CondUndefinedCondition}
	ErrUnexpectedRequest     = &Error{Condition: CondUnexpectedRequest}
)

// Error is a stanza error (RFC 6120 §8.3): the <error/> child of a
// type='error' stanza.
type Error struct {
	// Type is the error type: "auth", "cancel", "continue", "modify" or
	// "wait" (the ErrorType… constants). Element uses the condition's
	// recommended type when it is empty.
	Type string
	// Condition is one of the RFC 6120 §8.3.3 conditions (the Cond…
	// constants).
	Condition string
	// Text is the optional human-readable <text/>, in language Lang.
	Text, Lang string
	// By is the optional 'by' attribute: the entity that produced the error.
	By string
	// URI is the character data of <gone/> or <redirect/>: the new address,
	// usually an xmpp: URI (RFC 6120 §8.3.3.5, §8.3.3.14).
	URI string
	// App is the optional application-specific condition element.
	App *xmlstream.Element
}

// Error describes the error for a user, for example "recipient-unavailable:
// the recipient is not online", followed by the sender's text when there is
// one.
func (e *Error) Error() string {
	cond := e.Condition
	c, ok := conditions[cond]
	if !ok {
		cond, c = CondUndefinedCondition, conditions[CondUndefinedCondition]
	}
	desc := c.desc
	if e.URI != "" && (cond == CondGone || cond == CondRedirect) {
		desc += " (" + e.URI + ")"
	}
	s := cond + ": " + desc
	if e.Text != "" {
		s += ": " + strconv.Quote(e.Text)
	}
	return s
}

// Is reports whether target is an *Error with the same condition, so that
// errors.Is(err, stanza.ErrItemNotFound) works whatever the type and text.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && e != nil && t != nil && t.Condition == e.Condition
}

// ParseError returns the error carried by a stanza: nil when the stanza is
// not of type 'error'. The <error/> child is read as RFC 6120 §8.3.2
// describes; when it is missing, or its condition is missing or unknown,
// the condition is "undefined-condition". A missing or invalid error type is
// replaced by the one RFC 6120 §8.3.3 recommends for the condition.
func ParseError(stanzaEl *xmlstream.Element) *Error {
	if stanzaEl == nil || stanzaEl.Get("type") != TypeError {
		return nil
	}
	se := &Error{Condition: CondUndefinedCondition}
	el := stanzaEl.Child(stanzaEl.Name.Space, "error")
	if el == nil {
		se.Type = conditions[se.Condition].typ
		return se
	}
	se.Type = el.Get("type")
	se.By = el.Get("by")
	condFound, textFound := false, false
	for _, c := range el.Children {
		switch {
		case c.Name.Space == NSStanzas && c.Name.Local == "text":
			if !textFound {
				textFound = true
				se.Text = strings.TrimSpace(c.Text)
				if se.Text != "" {
					// A language only describes a text; an empty <text/> has none.
					se.Lang = c.Lang()
				}
			}
		case c.Name.Space == NSStanzas:
			if condFound {
				continue
			}
			condFound = true
			if _, known := conditions[c.Name.Local]; known {
				se.Condition = c.Name.Local
			}
			if se.Condition == CondGone || se.Condition == CondRedirect {
				se.URI = strings.TrimSpace(c.Text)
			}
		default:
			if se.App == nil {
				se.App = c
			}
		}
	}
	switch se.Type {
	case ErrorTypeAuth, ErrorTypeCancel, ErrorTypeContinue, ErrorTypeModify, ErrorTypeWait:
	default:
		se.Type = conditions[se.Condition].typ
	}
	return se
}

// Element returns the <error/> element for e in jabber:client, ready to be
// the child of a type='error' stanza. An empty Type becomes the condition's
// recommended type, and an empty or unknown Condition "undefined-condition".
func (e *Error) Element() *xmlstream.Element {
	cond := e.Condition
	c, ok := conditions[cond]
	if !ok {
		cond, c = CondUndefinedCondition, conditions[CondUndefinedCondition]
	}
	typ := e.Type
	if typ == "" {
		typ = c.typ
	}
	el := xmlstream.New(NSClient, "error", "type", typ)
	el.Set("by", e.By)
	ce := xmlstream.New(NSStanzas, cond)
	if cond == CondGone || cond == CondRedirect {
		ce.SetText(e.URI)
	}
	el.Append(ce)
	if e.Text != "" {
		t := xmlstream.New(NSStanzas, "text").SetText(e.Text)
		if e.Lang != "" {
			t.Attr = append(t.Attr, xml.Attr{Name: xml.Name{Space: xmlstream.NSXML, Local: "lang"}, Value: e.Lang})
		}
		el.Append(t)
	}
	if e.App != nil {
		el.Append(e.App.Copy())
	}
	return el
}
