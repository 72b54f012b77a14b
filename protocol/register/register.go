// Package register implements XEP-0077 In-Band Registration (version
// 2.4): creating an account on a server (or registering with a service),
// changing its password and cancelling it, with the legacy
// jabber:iq:register fields or an XEP-0004 data form, and the errors a
// server answers with.
package register

import (
	"errors"
	"fmt"
	"slices"

	"github.com/tern-im/tern/protocol/form"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/stanza"
)

// Namespaces and form types.
const (
	// NS is the jabber:iq:register namespace.
	NS = "jabber:iq:register"
	// NSFeature is the stream feature of servers that offer in-band
	// registration (§8).
	NSFeature = "http://jabber.org/features/iq-register"
	// NSOOB is XEP-0066 Out of Band Data, used to redirect registration
	// to a web page (§5).
	NSOOB = "jabber:x:oob"
	// FormTypeCancel and FormTypeChangePassword are the FORM_TYPEs of the
	// forms a server may require to cancel or to change the password
	// (§3.2, §3.3).
	FormTypeCancel         = NS + ":cancel"
	FormTypeChangePassword = NS + ":changepassword"
)

// isField reports whether name is one of the legacy registration fields
// of the XEP-0077 schema (§14). A host MUST NOT add others (§4).
func isField(name string) bool {
	switch name {
	case "username", "nick", "password", "name", "first", "last", "email",
		"address", "city", "state", "zip", "phone", "url", "date", "misc", "text", "key":
		return true
	}
	return false
}

// MaxTextLen bounds each legacy field and the instructions.
const MaxTextLen = 4096

var (
	// ErrMalformed: the element is not a registration query.
	ErrMalformed = errors.New("register: malformed query")
	// ErrTooLarge: a field or the instructions exceed MaxTextLen.
	ErrTooLarge = errors.New("register: field too long")
	// ErrMissing: a requested field has no value (§3.1: every field the
	// host asks for must be provided; an empty password is refused).
	ErrMissing = errors.New("register: a requested field has no value")
	// ErrUnknownField: the value is for a field that is not a legacy
	// registration field.
	ErrUnknownField = errors.New("register: not a registration field")
	// ErrNoForm: SubmitForm on an answer without a data form.
	ErrNoForm = errors.New("register: the host sent no data form")
)

// Errors a host answers with, as reasons in *Error (§3, §9); each comes
// from one stanza error condition.
var (
	// ErrUsernameTaken: conflict, the username is in use (§3.1).
	ErrUsernameTaken = errors.New("register: the username is already taken")
	// ErrNotAcceptable: not-acceptable, required information is missing
	// or refused (§3.1), or too many attempts.
	ErrNotAcceptable = errors.New("register: the information was not accepted")
	// ErrNotSupported: service-unavailable, the host has no in-band
	// registration (§3.1).
	ErrNotSupported = errors.New("register: in-band registration is not supported")
	// ErrNotAllowed: not-allowed, the host does not allow this in-band
	// (§3.2, §3.3).
	ErrNotAllowed = errors.New("register: not allowed in-band")
	// ErrNotAuthorized: not-authorized, the channel is not considered
	// safe enough, or more information is needed (§3.3).
	ErrNotAuthorized = errors.New("register: not authorized")
	// ErrNotRegistered: registration-required, there is no registration
	// to cancel (§3.2).
	ErrNotRegistered = errors.New("register: not registered")
)

// Field is one legacy registration field.
type Field struct {
	// Name is one of the schema's field names (username, password, …).
	Name string
	// Value is the current value: what the host has on file (or a
	// transaction key) in an answer, what we submit in a request.
	Value string
}

// Query is a jabber:iq:register <query/>: the host's answer to Request
// (the fields it wants), or our submission.
type Query struct {
	// Registered is set when the entity is already registered (§3.1).
	Registered bool
	// Instructions are natural-language instructions.
	Instructions string
	// Fields are the legacy fields, in the host's order.
	Fields []Field
	// Form is the data form, which takes precedence over Fields (§6).
	Form *form.Form
	// URL is the XEP-0066 address of a web page to register at (§5).
	URL string
	// Remove is set in a cancellation request.
	Remove bool
}

// Field returns the legacy field named name and whether it is present.
func (q Query) Field(name string) (Field, bool) {
	i := slices.IndexFunc(q.Fields, func(f Field) bool { return f.Name == name })
	if i < 0 {
		return Field{}, false
	}
	return q.Fields[i], true
}

// Request returns the request for the registration fields of to (zero:
// our server, §3.1).
func Request(to jid.JID) *xmlstream.Element {
	return stanza.NewIQ(stanza.TypeGet, "", to, xmlstream.New(NS, "query"))
}

// Set returns the IQ set submitting q to to (zero: our server).
func Set(to jid.JID, q Query) *xmlstream.Element {
	return stanza.NewIQ(stanza.TypeSet, "", to, q.Element())
}

// Cancel returns the request that cancels our registration with to. For
// our own account pass the zero JID: §3.2 says the request then has no
// 'to', and the server deletes the account and closes our sessions.
func Cancel(to jid.JID) *xmlstream.Element {
	return Set(to, Query{Remove: true})
}

// ChangePassword returns the request that changes the password of the
// account username at server (a zero server: ours) to password (§3.3).
// An empty password is ErrMissing: the host would keep the old one. Send
// it only over an encrypted, authenticated stream.
func ChangePassword(server jid.JID, username, password string) (*xmlstream.Element, error) {
	if username == "" || password == "" {
		return nil, fmt.Errorf("%w: username and password are required", ErrMissing)
	}
	return Set(server, Query{Fields: []Field{{"username", username}, {"password", password}}}), nil
}

// Parse reads a <query/>, or the IQ (result, or error carrying a form)
// that contains it. Unknown children are ignored (§4: hosts may not add
// fields); of repeated fields the first counts.
func Parse(el *xmlstream.Element) (Query, error) {
	if el != nil && el.Name.Local == stanza.IQ {
		el = el.Child(NS, "query")
	}
	if !el.Is(NS, "query") {
		return Query{}, ErrMalformed
	}
	var q Query
	for _, c := range el.Children {
		switch {
		case c.Is(form.NS, "x"):
			if q.Form == nil {
				f, err := form.Parse(c)
				if err != nil {
					return Query{}, fmt.Errorf("%w: %w", ErrMalformed, err)
				}
				q.Form = &f
			}
		case c.Is(NSOOB, "x"):
			if q.URL == "" {
				q.URL = c.ChildText(NSOOB, "url")
			}
		case c.Name.Space != NS:
		case c.Name.Local == "registered":
			q.Registered = true
		case c.Name.Local == "remove":
			q.Remove = true
		case c.Name.Local == "instructions":
			if len(c.Text) > MaxTextLen {
				return Query{}, fmt.Errorf("%w: instructions", ErrTooLarge)
			}
			if q.Instructions == "" {
				q.Instructions = c.Text
			}
		case isField(c.Name.Local):
			if len(c.Text) > MaxTextLen {
				return Query{}, fmt.Errorf("%w: %s", ErrTooLarge, c.Name.Local)
			}
			if _, dup := q.Field(c.Name.Local); !dup {
				q.Fields = append(q.Fields, Field{Name: c.Name.Local, Value: c.Text})
			}
		}
	}
	return q, nil
}

// Element returns the <query/> for q. Fields with names outside the
// schema are left out.
func (q Query) Element() *xmlstream.Element {
	el := xmlstream.New(NS, "query")
	if q.Registered {
		el.Append(xmlstream.New(NS, "registered"))
	}
	if q.Instructions != "" {
		el.Append(xmlstream.New(NS, "instructions").SetText(q.Instructions))
	}
	for _, f := range q.Fields {
		if isField(f.Name) {
			el.Append(xmlstream.New(NS, f.Name).SetText(f.Value))
		}
	}
	if q.Remove {
		el.Append(xmlstream.New(NS, "remove"))
	}
	if q.Form != nil {
		el.Append(q.Form.Element())
	}
	if q.URL != "" {
		el.Append(xmlstream.New(NSOOB, "x").Append(xmlstream.New(NSOOB, "url").SetText(q.URL)))
	}
	return el
}

// SubmitFields fills in the legacy fields the host asked for in q with
// values (by field name) and returns the query to Set. Every requested
// field needs a non-empty value (§3.1), taken from values or, when values
// has none, from the host's answer (as for the obsolete transaction key,
// §7); otherwise ErrMissing. Values for fields outside the schema are
// ErrUnknownField; values for schema fields the host did not ask for are
// sent too, after the requested ones, sorted by name.
func (q Query) SubmitFields(values map[string]string) (Query, error) {
	var out Query
	for _, f := range q.Fields {
		v, ok := values[f.Name]
		if !ok {
			v = f.Value
		}
		if v == "" {
			return Query{}, fmt.Errorf("%w: %s", ErrMissing, f.Name)
		}
		out.Fields = append(out.Fields, Field{Name: f.Name, Value: v})
	}
	var extra []string
	for name := range values {
		if !isField(name) {
			return Query{}, fmt.Errorf("%w: %q", ErrUnknownField, name)
		}
		if _, asked := q.Field(name); !asked {
			extra = append(extra, name)
		}
	}
	slices.Sort(extra)
	for _, name := range extra {
		out.Fields = append(out.Fields, Field{Name: name, Value: values[name]})
	}
	return out, nil
}

// SubmitForm fills in the data form of q (see form.Form.Submit) and
// returns the query to Set: the form alone, since a client MUST NOT
// submit both the form and the legacy fields (§4, §6).
func (q Query) SubmitForm(values map[string][]string) (Query, error) {
	if q.Form == nil {
		return Query{}, ErrNoForm
	}
	f, err := q.Form.Submit(values)
	if err != nil {
		return Query{}, err
	}
	return Query{Form: &f}, nil
}

// Error is the error answer to a registration request: the stanza
// error, the reason it means for registration, and the data form the
// host may send along to ask for more information (§3.2, §3.3).
type Error struct {
	// Reason is one of ErrUsernameTaken, ErrNotAcceptable,
	// ErrNotSupported, ErrNotAllowed, ErrNotAuthorized and
	// ErrNotRegistered, or nil for other conditions.
	Reason error
	// Stanza is the stanza error itself.
	Stanza *stanza.Error
	// Form is the form to fill in and submit to proceed, if any.
	Form *form.Form
}

// Error describes the failure.
func (e *Error) Error() string {
	if e.Reason != nil {
		return e.Reason.Error() + " (" + e.Stanza.Error() + ")"
	}
	return "register: " + e.Stanza.Error()
}

// Unwrap returns the reason and the stanza error, so that both
// errors.Is(err, register.ErrUsernameTaken) and
// errors.Is(err, stanza.ErrConflict) hold.
func (e *Error) Unwrap() []error {
	if e.Reason == nil {
		return []error{e.Stanza}
	}
	return []error{e.Reason, e.Stanza}
}

// ParseError reads the error answer iq to a registration request; nil
// when iq is not of type error. (Session.SendIQ returns the reply next to
// its *stanza.Error, so the form in it can be read here.)
func ParseError(iq *xmlstream.Element) error {
	se := stanza.ParseError(iq)
	if se == nil {
		return nil
	}
	e := &Error{Stanza: se}
	switch se.Condition {
	case stanza.CondConflict:
		e.Reason = ErrUsernameTaken
	case stanza.CondNotAcceptable:
		e.Reason = ErrNotAcceptable
	case stanza.CondServiceUnavailable:
		e.Reason = ErrNotSupported
	case stanza.CondNotAllowed:
		e.Reason = ErrNotAllowed
	case stanza.CondNotAuthorized:
		e.Reason = ErrNotAuthorized
	case stanza.CondRegistrationRequired:
		e.Reason = ErrNotRegistered
	}
	if q, err := Parse(iq); err == nil {
		e.Form = q.Form
	}
	return e
}
