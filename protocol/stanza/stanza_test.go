package stanza_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/stanza"
)

func mustParse(t testing.TB, s string) *xmlstream.Element {
	t.Helper()
	e, err := xmlstream.Parse([]byte(s))
	if err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	return e
}

func TestParseHeader(t *testing.T) {
	tests := []struct {
		name string
		xml  string
		want stanza.Header
		err  error
	}{
		{
			name: "RFC 6120 §8.1 message",
			xml:  `<message xmlns='jabber:client' from='juliet@im.example.com/balcony' id='ktx72v49' to='romeo@example.net' type='chat' xml:lang='en'><body>Art thou not Romeo?</body></message>`,
			want: stanza.Header{Name: "message", ID: "ktx72v49", From: jid.MustParse("juliet@im.example.com/balcony"), To: jid.MustParse("romeo@example.net"), Type: "chat", Lang: "en"},
		},
		{
			name: "presence without addresses",
			xml:  `<presence xmlns='jabber:client'/>`,
			want: stanza.Header{Name: "presence"},
		},
		{
			name: "iq in jabber:server, addresses normalised",
			xml:  `<iq xmlns='jabber:server' type='get' id='a1' from='Example.COM' to='ROMEO@example.net/Orchard'/>`,
			want: stanza.Header{Name: "iq", ID: "a1", Type: "get", From: jid.MustParse("example.com"), To: jid.MustParse("romeo@example.net/Orchard")},
		},
		{
			name: "invalid from",
			xml:  `<message xmlns='jabber:client' from='@example.com' to='romeo@example.net'/>`,
			err:  stanza.ErrInvalidAddress,
		},
		{
			name: "invalid to",
			xml:  `<message xmlns='jabber:client' to='romeo@'/>`,
			err:  stanza.ErrInvalidAddress,
		},
		{
			name: "empty from attribute is invalid",
			xml:  `<presence xmlns='jabber:client' from=''/>`,
			err:  stanza.ErrInvalidAddress,
		},
		{
			name: "not a stanza",
			xml:  `<r xmlns='urn:xmpp:sm:3'/>`,
			err:  stanza.ErrNotStanza,
		},
		{
			name: "stanza name in another namespace",
			xml:  `<message xmlns='urn:example'/>`,
			err:  stanza.ErrNotStanza,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := stanza.ParseHeader(mustParse(t, tt.xml))
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
	if _, err := stanza.ParseHeader(nil); !errors.Is(err, stanza.ErrNotStanza) {
		t.Errorf("ParseHeader(nil) = %v", err)
	}
	// The jid error is wrapped too.
	_, err := stanza.ParseHeader(mustParse(t, `<message xmlns='jabber:client' to='a@b@c'/>`))
	if !errors.Is(err, stanza.ErrInvalidAddress) || !errors.Is(err, jid.ErrInvalidDomain) || !strings.Contains(err.Error(), `in 'to': jid "a@b@c"`) {
		t.Errorf("err = %v", err)
	}
}

func TestParseError(t *testing.T) {
	tests := []struct {
		name    string
		xml     string
		want    stanza.Error
		appName string
		message string
		is      error
	}{
		{
			name: "RFC 6120 §8.3.2 example",
			xml: `<iq xmlns='jabber:client' from='im.example.com' id='z71g8q3b' to='juliet@im.example.com/balcony' type='error'>
			  <error type='cancel' by='im.example.com'>
			    <service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>
			    <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas' xml:lang='en'>[ ... application-specific information ... ]</text>
			  </error>
			</iq>`,
			want:    stanza.Error{Type: "cancel", Condition: "service-unavailable", By: "im.example.com", Text: "[ ... application-specific information ... ]", Lang: "en"},
			message: `service-unavailable: the service is not available: "[ ... application-specific information ... ]"`,
			is:      stanza.ErrServiceUnavailable,
		},
		{
			name:    "recipient-unavailable",
			xml:     `<message xmlns='jabber:client' type='error'><error type='wait'><recipient-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`,
			want:    stanza.Error{Type: "wait", Condition: "recipient-unavailable"},
			message: "recipient-unavailable: the recipient is not online",
			is:      stanza.ErrRecipientUnavailable,
		},
		{
			name: "RFC 6120 §8.3.3.5 gone with URI",
			xml: `<message xmlns='jabber:client' type='error'><error by='example.net' type='cancel'>
			  <gone xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>xmpp:romeo@afterlife.example.net</gone></error></message>`,
			want:    stanza.Error{Type: "cancel", Condition: "gone", By: "example.net", URI: "xmpp:romeo@afterlife.example.net"},
			message: "gone: the recipient is no longer at this address (xmpp:romeo@afterlife.example.net)",
			is:      stanza.ErrGone,
		},
		{
			name: "RFC 6120 §8.3.4 application-specific condition",
			xml: `<iq xmlns='jabber:client' type='error' id='some-id'><error type='modify'>
			  <bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>
			  <too-many-parameters xmlns='http://example.org/ns'/></error></iq>`,
			want:    stanza.Error{Type: "modify", Condition: "bad-request"},
			appName: "too-many-parameters",
			message: "bad-request: the request was malformed or not understood",
			is:      stanza.ErrBadRequest,
		},
		{
			name:    "missing type gets the recommended one",
			xml:     `<iq xmlns='jabber:client' type='error'><error><forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`,
			want:    stanza.Error{Type: "auth", Condition: "forbidden"},
			message: "forbidden: you are not allowed to do this",
			is:      stanza.ErrForbidden,
		},
		{
			name:    "invalid type gets the recommended one",
			xml:     `<iq xmlns='jabber:client' type='error'><error type='bogus'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`,
			want:    stanza.Error{Type: "cancel", Condition: "item-not-found"},
			message: "item-not-found: the item does not exist",
			is:      stanza.ErrItemNotFound,
		},
		{
			name:    "unknown condition",
			xml:     `<iq xmlns='jabber:client' type='error'><error type='wait'><made-up xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`,
			want:    stanza.Error{Type: "wait", Condition: "undefined-condition"},
			message: "undefined-condition: an unspecified error occurred",
			is:      stanza.ErrUndefinedCondition,
		},
		{
			name:    "type='error' without <error/>",
			xml:     `<presence xmlns='jabber:client' type='error'/>`,
			want:    stanza.Error{Type: "cancel", Condition: "undefined-condition"},
			message: "undefined-condition: an unspecified error occurred",
			is:      stanza.ErrUndefinedCondition,
		},
		{
			name:    "<error/> in the wrong namespace is not the stanza's error",
			xml:     `<presence xmlns='jabber:client' type='error'><error xmlns='urn:example' type='modify'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>`,
			want:    stanza.Error{Type: "cancel", Condition: "undefined-condition"},
			message: "undefined-condition: an unspecified error occurred",
			is:      stanza.ErrUndefinedCondition,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := stanza.ParseError(mustParse(t, tt.xml))
			if got == nil {
				t.Fatal("ParseError = nil")
			}
			if (got.App != nil) != (tt.appName != "") || got.App != nil && got.App.Name.Local != tt.appName {
				t.Errorf("App = %v, want <%s/>", got.App, tt.appName)
			}
			app := got.App
			got.App = nil
			if *got != tt.want {
				t.Errorf("got  %#v\nwant %#v", *got, tt.want)
			}
			got.App = app
			if msg := got.Error(); msg != tt.message {
				t.Errorf("Error() = %q\nwant      %q", msg, tt.message)
			}
			wrapped := fmt.Errorf("fetch roster: %w", got)
			if !errors.Is(wrapped, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", wrapped, tt.is)
			}
			if tt.is != stanza.ErrConflict && errors.Is(wrapped, stanza.ErrConflict) {
				t.Error("matches an unrelated sentinel")
			}
		})
	}
	for _, s := range []string{
		`<message xmlns='jabber:client' type='chat'><error type='cancel'><gone xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`,
		`<iq xmlns='jabber:client' type='result' id='1'/>`,
	} {
		if got := stanza.ParseError(mustParse(t, s)); got != nil {
			t.Errorf("ParseError(%s) = %v, want nil", s, got)
		}
	}
	if stanza.ParseError(nil) != nil {
		t.Error("ParseError(nil) != nil")
	}
}

func TestSentinels(t *testing.T) {
	// RFC 6120 §8.3.3 lists exactly these 22 conditions, each with the type
	// it recommends.
	sentinels := map[string]struct {
		err *stanza.Error
		typ string
	}{
		"bad-request": {stanza.ErrBadRequest, "modify"}, "conflict": {stanza.ErrConflict, "cancel"},
		"feature-not-implemented": {stanza.ErrFeatureNotImplemented, "cancel"}, "forbidden": {stanza.ErrForbidden, "auth"},
		"gone": {stanza.ErrGone, "cancel"}, "internal-server-error": {stanza.ErrInternalServerError, "cancel"},
		"item-not-found": {stanza.ErrItemNotFound, "cancel"}, "jid-malformed": {stanza.ErrJIDMalformed, "modify"},
		"not-acceptable": {stanza.ErrNotAcceptable, "modify"}, "not-allowed": {stanza.ErrNotAllowed, "cancel"},
		"not-authorized": {stanza.ErrNotAuthorized, "auth"}, "policy-violation": {stanza.ErrPolicyViolation, "modify"},
		"recipient-unavailable": {stanza.ErrRecipientUnavailable, "wait"}, "redirect": {stanza.ErrRedirect, "modify"},
		"registration-required": {stanza.ErrRegistrationRequired, "auth"}, "remote-server-not-found": {stanza.ErrRemoteServerNotFound, "cancel"},
		"remote-server-timeout": {stanza.ErrRemoteServerTimeout, "wait"}, "resource-constraint": {stanza.ErrResourceConstraint, "wait"},
		"service-unavailable": {stanza.ErrServiceUnavailable, "cancel"}, "subscription-required": {stanza.ErrSubscriptionRequired, "auth"},
		"undefined-condition": {stanza.ErrUndefinedCondition, "cancel"}, "unexpected-request": {stanza.ErrUnexpectedRequest, "wait"},
	}
	for cond, s := range sentinels {
		if s.err.Condition != cond {
			t.Errorf("sentinel for %s has condition %s", cond, s.err.Condition)
		}
		el := s.err.Element()
		if got := el.Get("type"); got != s.typ {
			t.Errorf("%s: Element type = %q, want %q", cond, got, s.typ)
		}
		parsed := stanza.ParseError(mustParse(t, `<iq xmlns='jabber:client' type='error'><error><`+cond+` xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`))
		if !errors.Is(parsed, s.err) || parsed.Type != s.typ {
			t.Errorf("parsed %s: %#v", cond, parsed)
		}
		if msg := parsed.Error(); !strings.HasPrefix(msg, cond+": ") || cond != "undefined-condition" && strings.Contains(msg, "unspecified") {
			t.Errorf("Error() = %q", msg)
		}
		for other, o := range sentinels {
			if other != cond && errors.Is(parsed, o.err) {
				t.Errorf("%s matches %s", cond, other)
			}
		}
	}
}

func TestErrorElementRoundTrip(t *testing.T) {
	app := xmlstream.New("http://example.org/ns", "too-many-parameters")
	for _, in := range []*stanza.Error{
		{Type: "wait", Condition: stanza.CondRecipientUnavailable},
		{Type: "modify", Condition: stanza.CondBadRequest, Text: "a < b & 'c'", Lang: "en", By: "example.org", App: app},
		{Type: "modify", Condition: stanza.CondRedirect, URI: "xmpp:characters@conference.example.org"},
		{Type: "continue", Condition: stanza.CondUndefinedCondition},
	} {
		el := in.Element()
		iq := xmlstream.New(stanza.NSClient, "iq", "type", "error", "id", "1").Append(el)
		back := stanza.ParseError(mustParse(t, string(xmlstream.Append(nil, iq, ""))))
		if back == nil {
			t.Fatalf("%#v: no error parsed from %v", in, iq)
		}
		app := back.App
		back.App = nil
		want := *in
		want.App = nil
		if *back != want {
			t.Errorf("round trip: got %#v, want %#v", *back, want)
		}
		if (in.App == nil) != (app == nil) || app != nil && (!app.Is(in.App.Name.Space, in.App.Name.Local) || app == in.App) {
			t.Errorf("App round trip: %v -> %v", in.App, app)
		}
	}
	// No type: the recommended one; unknown condition: undefined-condition.
	el := (&stanza.Error{Condition: "made-up"}).Element()
	if el.Get("type") != "cancel" || el.Child(stanza.NSStanzas, "undefined-condition") == nil {
		t.Errorf("Element() = %v", el)
	}
	if _, ok := el.Lookup("by"); ok {
		t.Error("empty By written")
	}
}

func TestNewIQ(t *testing.T) {
	payload := xmlstream.New("jabber:iq:roster", "query")
	iq := stanza.NewIQ("get", "r1", jid.JID{}, payload)
	if got := xmlstream.Append(nil, iq, ""); string(got) != `<iq xmlns='jabber:client' type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>` {
		t.Errorf("NewIQ = %s", got)
	}
	iq = stanza.NewIQ("set", "b2", jid.MustParse("Juliet@Example.com/Balcony"), nil)
	h, err := stanza.ParseHeader(iq)
	if err != nil {
		t.Fatal(err)
	}
	if h != (stanza.Header{Name: "iq", ID: "b2", Type: "set", To: jid.MustParse("juliet@example.com/Balcony")}) || len(iq.Children) != 0 {
		t.Errorf("NewIQ header = %+v, children %v", h, iq.Children)
	}
}

func TestResult(t *testing.T) {
	req := mustParse(t, `<iq xmlns='jabber:client' type='get' id='v1' from='romeo@example.net/orchard' to='juliet@example.com/balcony'><query xmlns='jabber:iq:version'/></iq>`)
	res := stanza.Result(req, xmlstream.New("jabber:iq:version", "query").Append(xmlstream.New("jabber:iq:version", "name").SetText("Tern")))
	want := `<iq xmlns='jabber:client' type='result' id='v1' to='romeo@example.net/orchard'><query xmlns='jabber:iq:version'><name>Tern</name></query></iq>`
	if got := string(xmlstream.Append(nil, res, "")); got != want {
		t.Errorf("Result =\n%s\nwant\n%s", got, want)
	}
	// A request from the server itself (no 'from') is answered without 'to'.
	res = stanza.Result(mustParse(t, `<iq xmlns='jabber:client' type='set' id='push1'><query xmlns='jabber:iq:roster'/></iq>`), nil)
	if got := string(xmlstream.Append(nil, res, "")); got != `<iq xmlns='jabber:client' type='result' id='push1'/>` {
		t.Errorf("Result = %s", got)
	}
}

func TestErrorReply(t *testing.T) {
	tests := []struct {
		name string
		req  string
		err  *stanza.Error
		want string
	}{
		{
			name: "iq get",
			req:  `<iq xmlns='jabber:client' type='get' id='x1' from='romeo@example.net/orchard' to='juliet@example.com/balcony'><query xmlns='urn:example'/></iq>`,
			err:  stanza.ErrFeatureNotImplemented,
			want: `<iq xmlns='jabber:client' type='error' id='x1' to='romeo@example.net/orchard'><error type='cancel'><feature-not-implemented xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`,
		},
		{
			name: "message with text and explicit type",
			req:  `<message xmlns='jabber:client' type='chat' from='romeo@example.net/orchard'><body>hi</body></message>`,
			err:  &stanza.Error{Type: "modify", Condition: stanza.CondNotAcceptable, Text: "no"},
			want: `<message xmlns='jabber:client' type='error' to='romeo@example.net/orchard'><error type='modify'><not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>no</text></error></message>`,
		},
		{
			name: "presence in jabber:server, nil error",
			req:  `<presence xmlns='jabber:server' id='p1' from='a@example.net' to='b@example.com'/>`,
			want: `<presence xmlns='jabber:server' type='error' id='p1' to='a@example.net'><error type='cancel'><undefined-condition xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reply := stanza.ErrorReply(mustParse(t, tt.req), tt.err)
			if got := string(xmlstream.Append(nil, reply, "")); got != tt.want {
				t.Errorf("ErrorReply =\n%s\nwant\n%s", got, tt.want)
			}
			// What we send parses back to the same condition.
			back := stanza.ParseError(mustParse(t, tt.want))
			want := tt.err
			if want == nil {
				want = stanza.ErrUndefinedCondition
			}
			if !errors.Is(back, want) {
				t.Errorf("reply parses as %v", back)
			}
		})
	}
	// RFC 6120 §8.3.1: never answer an error with an error.
	if r := stanza.ErrorReply(mustParse(t, `<iq xmlns='jabber:client' type='error' id='e'/>`), stanza.ErrBadRequest); r != nil {
		t.Errorf("ErrorReply to an error = %v", r)
	}
	if r := stanza.ErrorReply(mustParse(t, `<r xmlns='urn:xmpp:sm:3'/>`), stanza.ErrBadRequest); r != nil {
		t.Errorf("ErrorReply to a non-stanza = %v", r)
	}
	if r := stanza.ErrorReply(nil, stanza.ErrBadRequest); r != nil {
		t.Errorf("ErrorReply(nil) = %v", r)
	}
}
