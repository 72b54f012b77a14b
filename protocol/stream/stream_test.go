package stream_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/stream"
)

const streamNS = `xmlns:stream='http://etherx.jabber.org/streams'`

func mustParse(t testing.TB, s string) *xmlstream.Element {
	t.Helper()
	e, err := xmlstream.Parse([]byte(s))
	if err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	return e
}

func TestParseFeatures(t *testing.T) {
	tests := []struct {
		name string
		xml  string
		want stream.Features
	}{
		{
			name: "RFC 6120 §9.1.1: STARTTLS required",
			xml: `<stream:features ` + streamNS + `>
			  <starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>
			</stream:features>`,
			want: stream.Features{StartTLS: true, StartTLSRequired: true},
		},
		{
			name: "STARTTLS optional",
			xml:  `<stream:features ` + streamNS + `><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features>`,
			want: stream.Features{StartTLS: true},
		},
		{
			name: "RFC 6120 §9.1.2: SASL mechanisms in order",
			xml: `<stream:features ` + streamNS + `>
			  <mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>
			    <mechanism>SCRAM-SHA-1-PLUS</mechanism>
			    <mechanism> SCRAM-SHA-1 </mechanism>
			    <mechanism>PLAIN</mechanism>
			    <mechanism></mechanism>
			    <other>X</other>
			  </mechanisms>
			</stream:features>`,
			want: stream.Features{Mechanisms: []string{"SCRAM-SHA-1-PLUS", "SCRAM-SHA-1", "PLAIN"}},
		},
		{
			name: "XEP-0440 example: channel-binding types",
			xml: `<stream:features ` + streamNS + `>
			  <sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'>
			    <channel-binding type='tls-server-end-point'/>
			    <channel-binding type='tls-exporter'/>
			  </sasl-channel-binding>
			  <mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>
			    <mechanism>EXTERNAL</mechanism>
			    <mechanism>SCRAM-SHA-1-PLUS</mechanism>
			    <mechanism>PLAIN</mechanism>
			  </mechanisms>
			</stream:features>`,
			want: stream.Features{
				Mechanisms:      []string{"EXTERNAL", "SCRAM-SHA-1-PLUS", "PLAIN"},
				ChannelBindings: []string{"tls-server-end-point", "tls-exporter"},
			},
		},
		{
			name: "older XEP-0440 drafts: channel binding inside mechanisms",
			xml: `<stream:features ` + streamNS + `>
			  <mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>
			    <mechanism>SCRAM-SHA-256-PLUS</mechanism>
			    <sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'><channel-binding type='tls-unique'/></sasl-channel-binding>
			  </mechanisms>
			</stream:features>`,
			want: stream.Features{Mechanisms: []string{"SCRAM-SHA-256-PLUS"}, ChannelBindings: []string{"tls-unique"}},
		},
		{
			name: "top-level channel binding wins over the nested one",
			xml: `<stream:features ` + streamNS + `>
			  <mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>
			    <mechanism>SCRAM-SHA-256-PLUS</mechanism>
			    <sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'><channel-binding type='tls-unique'/></sasl-channel-binding>
			  </mechanisms>
			  <sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'><channel-binding type='tls-exporter'/></sasl-channel-binding>
			</stream:features>`,
			want: stream.Features{Mechanisms: []string{"SCRAM-SHA-256-PLUS"}, ChannelBindings: []string{"tls-exporter"}},
		},
		{
			name: "empty channel-binding feature is present but lists nothing",
			xml:  `<stream:features ` + streamNS + `><sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'><channel-binding/></sasl-channel-binding></stream:features>`,
			want: stream.Features{ChannelBindings: []string{}},
		},
		{
			name: "empty mechanisms is present but lists nothing",
			xml:  `<stream:features ` + streamNS + `><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/></stream:features>`,
			want: stream.Features{Mechanisms: []string{}},
		},
		{
			name: "after authentication (Prosody-like)",
			xml: `<stream:features ` + streamNS + `>
			  <bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><required/></bind>
			  <session xmlns='urn:ietf:params:xml:ns:xmpp-session'><optional/></session>
			  <sm xmlns='urn:xmpp:sm:3'/>
			  <sm xmlns='urn:xmpp:sm:2'/>
			  <csi xmlns='urn:xmpp:csi:0'/>
			  <ver xmlns='urn:xmpp:features:rosterver'/>
			  <sub xmlns='urn:xmpp:features:pre-approval'/>
			  <c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='http://prosody.im' ver='abc='/>
			  <unknown xmlns='urn:example:unknown'/>
			</stream:features>`,
			want: stream.Features{Bind: true, Session: true, SessionOptional: true, SM: true, CSI: true, RosterVer: true, PreApproval: true},
		},
		{
			name: "mandatory legacy session",
			xml:  `<stream:features ` + streamNS + `><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></stream:features>`,
			want: stream.Features{Session: true},
		},
		{
			name: "features in the wrong namespace are not recognised",
			xml: `<stream:features ` + streamNS + `>
			  <starttls xmlns='jabber:client'/>
			  <sm xmlns='urn:xmpp:sm:2'/>
			  <bind xmlns='urn:xmpp:bind:0'/>
			  <required xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>
			</stream:features>`,
			want: stream.Features{},
		},
		{
			name: "no features at all",
			xml:  `<stream:features ` + streamNS + `/>`,
			want: stream.Features{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mustParse(t, tt.xml)
			got, err := stream.ParseFeatures(e)
			if err != nil {
				t.Fatal(err)
			}
			if got.Raw != e {
				t.Error("Raw is not the parsed element")
			}
			got.Raw = nil
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestParseFeaturesRejects(t *testing.T) {
	for _, e := range []*xmlstream.Element{
		nil,
		xmlstream.New("jabber:client", "features"),
		xmlstream.New(stream.NS, "error"),
	} {
		if _, err := stream.ParseFeatures(e); !errors.Is(err, stream.ErrNotFeatures) {
			t.Errorf("ParseFeatures(%v) err = %v, want ErrNotFeatures", e, err)
		}
	}
}

func TestParseError(t *testing.T) {
	tests := []struct {
		name    string
		xml     string
		want    stream.Error
		appName string
		message string
		is      error
	}{
		{
			name: "RFC 6120 §4.9.3.3 conflict with text",
			xml: `<stream:error ` + streamNS + `>
			  <conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>
			  <text xmlns='urn:ietf:params:xml:ns:xmpp-streams' xml:lang='en'> Replaced by new connection </text>
			</stream:error>`,
			want:    stream.Error{Condition: "conflict", Text: "Replaced by new connection", Lang: "en"},
			message: `the server closed the connection: conflict (another client signed in with the same resource): "Replaced by new connection"`,
			is:      stream.ErrConflict,
		},
		{
			name:    "system-shutdown without text",
			xml:     `<stream:error ` + streamNS + `><system-shutdown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>`,
			want:    stream.Error{Condition: "system-shutdown"},
			message: "the server closed the connection: system-shutdown (the server is shutting down)",
			is:      stream.ErrSystemShutdown,
		},
		{
			name: "RFC 6120 §4.9.3.19 see-other-host with IPv6 and port",
			xml: `<stream:error ` + streamNS + `>
			  <see-other-host xmlns='urn:ietf:params:xml:ns:xmpp-streams'>[2001:db8::a11:5222]:9090</see-other-host>
			</stream:error>`,
			want:    stream.Error{Condition: "see-other-host", SeeOtherHost: "[2001:db8::a11:5222]:9090"},
			message: "the server closed the connection: see-other-host (the server redirected us to [2001:db8::a11:5222]:9090)",
			is:      stream.ErrSeeOtherHost,
		},
		{
			name: "RFC 6120 §4.9.4 application-specific condition",
			xml: `<stream:error ` + streamNS + `>
			  <not-well-formed xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>
			  <text xmlns='urn:ietf:params:xml:ns:xmpp-streams' xml:lang='en'>Some special application diagnostic information!</text>
			  <escape-your-data xmlns='http://example.org/ns'/>
			</stream:error>`,
			want:    stream.Error{Condition: "not-well-formed", Text: "Some special application diagnostic information!", Lang: "en"},
			appName: "escape-your-data",
			message: `the server closed the connection: not-well-formed (the server received malformed XML): "Some special application diagnostic information!"`,
			is:      stream.ErrNotWellFormed,
		},
		{
			name:    "unknown condition",
			xml:     `<stream:error ` + streamNS + `><made-up xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>`,
			want:    stream.Error{Condition: "undefined-condition"},
			message: "the server closed the connection: undefined-condition (an unspecified error occurred)",
			is:      stream.ErrUndefinedCondition,
		},
		{
			name:    "no condition, only text",
			xml:     `<stream:error ` + streamNS + `><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>bye</text></stream:error>`,
			want:    stream.Error{Condition: "undefined-condition", Text: "bye"},
			message: `the server closed the connection: undefined-condition (an unspecified error occurred): "bye"`,
			is:      stream.ErrUndefinedCondition,
		},
		{
			name:    "condition in the wrong namespace is application-specific",
			xml:     `<stream:error ` + streamNS + `><conflict xmlns='jabber:client'/></stream:error>`,
			want:    stream.Error{Condition: "undefined-condition"},
			appName: "conflict",
			message: "the server closed the connection: undefined-condition (an unspecified error occurred)",
			is:      stream.ErrUndefinedCondition,
		},
		{
			name: "first condition and first text win",
			xml: `<stream:error ` + streamNS + `>
			  <text xmlns='urn:ietf:params:xml:ns:xmpp-streams' xml:lang='de'>Tschüss</text>
			  <host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>
			  <conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>
			  <text xmlns='urn:ietf:params:xml:ns:xmpp-streams' xml:lang='en'>Bye</text>
			</stream:error>`,
			want:    stream.Error{Condition: "host-unknown", Text: "Tschüss", Lang: "de"},
			message: `the server closed the connection: host-unknown (the server does not serve this domain): "Tschüss"`,
			is:      stream.ErrHostUnknown,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := stream.ParseError(mustParse(t, tt.xml))
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
			wrapped := fmt.Errorf("session: %w", got)
			if !errors.Is(wrapped, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", wrapped, tt.is)
			}
			if tt.is != stream.ErrReset && errors.Is(wrapped, stream.ErrReset) {
				t.Error("matches an unrelated sentinel")
			}
			var se *stream.Error
			if !errors.As(wrapped, &se) || se != got {
				t.Error("errors.As does not find the *Error")
			}
		})
	}
}

func TestParseErrorNotAnError(t *testing.T) {
	for _, e := range []*xmlstream.Element{nil, xmlstream.New("jabber:client", "error"), xmlstream.New(stream.NS, "features")} {
		got := stream.ParseError(e)
		if got == nil || got.Condition != stream.CondUndefinedCondition {
			t.Errorf("ParseError(%v) = %#v, want undefined-condition", e, got)
		}
	}
}

func TestErrorElementRoundTrip(t *testing.T) {
	app := xmlstream.New("http://example.org/ns", "escape-your-data")
	for _, in := range []*stream.Error{
		{Condition: stream.CondConflict},
		{Condition: stream.CondPolicyViolation, Text: "too fast <slow down> & 'wait'", Lang: "en", App: app},
		{Condition: stream.CondSeeOtherHost, SeeOtherHost: "[2001:db8::1]:5222"},
		{Condition: stream.CondRemoteConnectionFailed, Text: "ohne Sprache"},
	} {
		el := in.Element()
		if !el.Is(stream.NS, "error") {
			t.Fatalf("Element() = %v", el)
		}
		b := xmlstream.Append(nil, el, "jabber:client")
		if !strings.HasPrefix(string(b), "<stream:error") {
			t.Errorf("serialised as %s", b)
		}
		back := stream.ParseError(mustParse(t, string(b)))
		if back.Condition != in.Condition || back.Text != in.Text || back.Lang != in.Lang || back.SeeOtherHost != in.SeeOtherHost {
			t.Errorf("round trip of %#v gave %#v (%s)", in, back, b)
		}
		if (in.App == nil) != (back.App == nil) || in.App != nil && !back.App.Is(in.App.Name.Space, in.App.Name.Local) {
			t.Errorf("App round trip: %v -> %v", in.App, back.App)
		}
		if back.App != nil && back.App == in.App {
			t.Error("Element shares App instead of copying it")
		}
	}
	// An unknown or empty condition is sent as undefined-condition.
	for _, cond := range []string{"", "made-up"} {
		el := (&stream.Error{Condition: cond}).Element()
		if el.Child(stream.NSErrors, stream.CondUndefinedCondition) == nil || len(el.Children) != 1 {
			t.Errorf("Condition %q: %v", cond, el)
		}
	}
}

func TestSentinels(t *testing.T) {
	// RFC 6120 §4.9.3 lists exactly these 25 conditions.
	sentinels := map[string]*stream.Error{
		"bad-format": stream.ErrBadFormat, "bad-namespace-prefix": stream.ErrBadNamespacePrefix,
		"conflict": stream.ErrConflict, "connection-timeout": stream.ErrConnectionTimeout,
		"host-gone": stream.ErrHostGone, "host-unknown": stream.ErrHostUnknown,
		"improper-addressing": stream.ErrImproperAddressing, "internal-server-error": stream.ErrInternalServerError,
		"invalid-from": stream.ErrInvalidFrom, "invalid-namespace": stream.ErrInvalidNamespace,
		"invalid-xml": stream.ErrInvalidXML, "not-authorized": stream.ErrNotAuthorized,
		"not-well-formed": stream.ErrNotWellFormed, "policy-violation": stream.ErrPolicyViolation,
		"remote-connection-failed": stream.ErrRemoteConnectionFailed, "reset": stream.ErrReset,
		"resource-constraint": stream.ErrResourceConstraint, "restricted-xml": stream.ErrRestrictedXML,
		"see-other-host": stream.ErrSeeOtherHost, "system-shutdown": stream.ErrSystemShutdown,
		"undefined-condition": stream.ErrUndefinedCondition, "unsupported-encoding": stream.ErrUnsupportedEncoding,
		"unsupported-feature": stream.ErrUnsupportedFeature, "unsupported-stanza-type": stream.ErrUnsupportedStanzaType,
		"unsupported-version": stream.ErrUnsupportedVersion,
	}
	for cond, s := range sentinels {
		if s.Condition != cond {
			t.Errorf("sentinel for %s has condition %s", cond, s.Condition)
		}
		parsed := stream.ParseError(mustParse(t, `<stream:error `+streamNS+`><`+cond+` xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>`))
		if !errors.Is(parsed, s) {
			t.Errorf("parsed %s does not match its sentinel", cond)
		}
		msg := parsed.Error()
		if !strings.HasPrefix(msg, "the server closed the connection: "+cond+" (") {
			t.Errorf("Error() = %q", msg)
		}
		if cond != "undefined-condition" && strings.Contains(msg, "unspecified") {
			t.Errorf("%s has no description of its own: %q", cond, msg)
		}
		for other, o := range sentinels {
			if other != cond && errors.Is(parsed, o) {
				t.Errorf("%s matches %s", cond, other)
			}
		}
	}
	if errors.Is(errors.New("conflict"), stream.ErrConflict) {
		t.Error("matches a non-stream error")
	}
}

func TestRedirect(t *testing.T) {
	tests := []struct {
		value string
		host  string
		port  uint16
		ok    bool
	}{
		{"xmpp2.example.org", "xmpp2.example.org", 0, true},
		{" xmpp2.example.org:5223 ", "xmpp2.example.org", 5223, true},
		{"192.0.2.1:5222", "192.0.2.1", 5222, true},
		{"[2001:db8::a11:5222]:9090", "2001:db8::a11:5222", 9090, true},
		{"[2001:db8::1]", "2001:db8::1", 0, true},
		{"2001:db8::1", "2001:db8::1", 0, true},
		{"", "", 0, false},
		{"host:", "", 0, false},
		{"host:0", "", 0, false},
		{"host:70000", "", 0, false},
		{"host:x", "", 0, false},
		{":5222", "", 0, false},
		{"[2001:db8::1", "", 0, false},
		{"[2001:db8::1]x", "", 0, false},
		{"[2001:db8::1]:", "", 0, false},
		{"[example.org]:5222", "", 0, false},
		{"a:b:c", "", 0, false},
		{"user@host", "", 0, false},
		{"host/path", "", 0, false},
	}
	for _, tt := range tests {
		e := &stream.Error{Condition: stream.CondSeeOtherHost, SeeOtherHost: tt.value}
		host, port, ok := e.Redirect()
		if host != tt.host || port != tt.port || ok != tt.ok {
			t.Errorf("Redirect(%q) = %q, %d, %v; want %q, %d, %v", tt.value, host, port, ok, tt.host, tt.port, tt.ok)
		}
	}
	if _, _, ok := (&stream.Error{Condition: stream.CondConflict, SeeOtherHost: "x"}).Redirect(); ok {
		t.Error("Redirect ok for a non-redirect condition")
	}
	var nilErr *stream.Error
	if _, _, ok := nilErr.Redirect(); ok {
		t.Error("Redirect ok for nil")
	}
}
