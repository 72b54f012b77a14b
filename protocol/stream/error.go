package stream

import (
	"encoding/xml"
	"net"
	"strconv"
	"strings"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
)

// Stream error conditions (RFC 6120 §4.9.3).
const (
	CondBadFormat              = "bad-format"
	CondBadNamespacePrefix     = "bad-namespace-prefix"
	CondConflict               = "conflict"
	CondConnectionTimeout      = "connection-timeout"
	CondHostGone               = "host-gone"
	CondHostUnknown            = "host-unknown"
	CondImproperAddressing     = "improper-addressing"
	CondInternalServerError    = "internal-server-error"
	CondInvalidFrom            = "invalid-from"
	CondInvalidNamespace       = "invalid-namespace"
	CondInvalidXML             = "invalid-xml"
	CondNotAuthorized          = "not-authorized"
	CondNotWellFormed          = "not-well-formed"
	CondPolicyViolation        = "policy-violation"
	CondRemoteConnectionFailed = "remote-connection-failed"
	CondReset                  = "reset"
	CondResourceConstraint     = "resource-constraint"
	CondRestrictedXML          = "restricted-xml"
	CondSeeOtherHost           = "see-other-host"
	CondSystemShutdown         = "system-shutdown"
	CondUndefinedCondition     = "undefined-condition"
	CondUnsupportedEncoding    = "unsupported-encoding"
	CondUnsupportedFeature     = "unsupported-feature"
	CondUnsupportedStanzaType  = "unsupported-stanza-type"
	CondUnsupportedVersion     = "unsupported-version"
)

// descriptions explains each condition to a user, in the words of what
// happened to their connection.
var descriptions = map[string]string{
	CondBadFormat:              "the server could not process what we sent",
	CondBadNamespacePrefix:     "the server rejected a namespace prefix we sent",
	CondConflict:               "another client signed in with the same resource",
	CondConnectionTimeout:      "the connection was idle for too long",
	CondHostGone:               "the server no longer serves this domain",
	CondHostUnknown:            "the server does not serve this domain",
	CondImproperAddressing:     "something we sent lacked a required address",
	CondInternalServerError:    "the server had an internal error",
	CondInvalidFrom:            "the server rejected our address",
	CondInvalidNamespace:       "the server rejected the stream namespace",
	CondInvalidXML:             "the server rejected invalid XML we sent",
	CondNotAuthorized:          "the server required us to sign in first",
	CondNotWellFormed:          "the server received malformed XML",
	CondPolicyViolation:        "a server policy was violated, such as a rate or size limit",
	CondRemoteConnectionFailed: "the server could not reach a service it depends on",
	CondReset:                  "the server reset the connection",
	CondResourceConstraint:     "the server is overloaded",
	CondRestrictedXML:          "the server rejected XML features that XMPP forbids",
	CondSeeOtherHost:           "the server redirected us to another host",
	CondSystemShutdown:         "the server is shutting down",
	CondUndefinedCondition:     "an unspecified error occurred",
	CondUnsupportedEncoding:    "the server does not support our character encoding",
	CondUnsupportedFeature:     "the server lacks a feature we require",
	CondUnsupportedStanzaType:  "the server does not support something we sent",
	CondUnsupportedVersion:     "the server does not support our XMPP version",
}

// Sentinels for every stream error condition of RFC 6120 §4.9.3, to be used
// with errors.Is: any *Error with the same Condition matches.
var (
	ErrBadFormat              = &Error{Condition: CondBadFormat}
	ErrBadNamespacePrefix     = &Error{Condition: CondBadNamespacePrefix}
	ErrConflict               = &Error{Condition: CondConflict}
	ErrConnectionTimeout      = &Error{Condition: CondConnectionTimeout}
	ErrHostGone               = &Error{Condition: CondHostGone}
	ErrHostUnknown            = &Error{Condition: CondHostUnknown}
	ErrImproperAddressing     = &Error{Condition: CondImproperAddressing}
	ErrInternalServerError    = &Error{Condition: CondInternalServerError}
	ErrInvalidFrom            = &Error{Condition: CondInvalidFrom}
	ErrInvalidNamespace       = &Error{Condition: CondInvalidNamespace}
	ErrInvalidXML             = &Error{Condition: CondInvalidXML}
	ErrNotAuthorized          = &Error{Condition: CondNotAuthorized}
	ErrNotWellFormed          = &Error{Condition: CondNotWellFormed}
	ErrPolicyViolation        = &Error{Condition: CondPolicyViolation}
	ErrRemoteConnectionFailed = &Error{Condition: CondRemoteConnectionFailed}
	ErrReset                  = &Error{Condition: CondReset}
	ErrResourceConstraint     = &Error{Condition: CondResourceConstraint}
	ErrRestrictedXML          = &Error{Condition: CondRestrictedXML}
	ErrSeeOtherHost           = &Error{Condition: CondSeeOtherHost}
	ErrSystemShutdown         = &Error{Condition: CondSystemShutdown}
	ErrUndefinedCondition     = &Error{Condition: CondUndefinedCondition}
	ErrUnsupportedEncoding    = &Error{Condition: CondUnsupportedEncoding}
	ErrUnsupportedFeature     = &Error{Condition: CondUnsupportedFeature}
	ErrUnsupportedStanzaType  = &Error{Condition: CondUnsupportedStanzaType}
	ErrUnsupportedVersion     = &Error{Condition: CondUnsupportedVersion}
)

// Error is a stream error (RFC 6120 §4.9): the peer's last word before it
// closes the stream, or ours.
type Error struct {
	// Condition is one of the RFC 6120 §4.9.3 conditions (the Cond…
	// constants).
	Condition string
	// Text is the optional human-readable <text/>, in language Lang.
	Text, Lang string
	// SeeOtherHost is the character data of <see-other-host/>, verbatim
	// ("host", "host:port" or "[IPv6]:port"); see Redirect.
	SeeOtherHost string
	// App is the optional application-specific condition element.
	App *xmlstream.Element
}

// Error describes the error for a user, for example "the server closed the
// connection: conflict (another client signed in with the same resource)",
// followed by the server's text when there is one.
func (e *Error) Error() string {
	cond := e.Condition
	desc, ok := descriptions[cond]
	if !ok {
		cond, desc = CondUndefinedCondition, descriptions[CondUndefinedCondition]
	}
	if cond == CondSeeOtherHost && e.SeeOtherHost != "" {
		desc = "the server redirected us to " + e.SeeOtherHost
	}
	s := "the server closed the connection: " + cond + " (" + desc + ")"
	if e.Text != "" {
		s += ": " + strconv.Quote(e.Text)
	}
	return s
}

// Is reports whether target is an *Error with the same condition, so that
// errors.Is(err, stream.ErrConflict) works whatever the text.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && e != nil && t != nil && t.Condition == e.Condition
}

// ParseError reads a <stream:error/> element (RFC 6120 §4.9.2). A missing or
// unknown condition becomes "undefined-condition" (§4.9.3.21), as does an
// element that is not <stream:error/> at all: a stream error is always
// fatal, so the caller gets one in every case.
func ParseError(e *xmlstream.Element) *Error {
	se := &Error{Condition: CondUndefinedCondition}
	if !e.Is(NS, "error") {
		return se
	}
	condFound, textFound := false, false
	for _, c := range e.Children {
		switch {
		case c.Name.Space == NSErrors && c.Name.Local == "text":
			if !textFound {
				textFound = true
				se.Text = strings.TrimSpace(c.Text)
				if se.Text != "" {
					// A language only describes a text; an empty <text/> has none.
					se.Lang = c.Lang()
				}
			}
		case c.Name.Space == NSErrors:
			if condFound {
				continue
			}
			condFound = true
			if _, known := descriptions[c.Name.Local]; known {
				se.Condition = c.Name.Local
			}
			if se.Condition == CondSeeOtherHost {
				se.SeeOtherHost = strings.TrimSpace(c.Text)
			}
		default:
			if se.App == nil {
				se.App = c
			}
		}
	}
	return se
}

// Element returns the <stream:error/> element for e, ready to send. An empty
// or unknown Condition is sent as "undefined-condition".
func (e *Error) Element() *xmlstream.Element {
	cond := e.Condition
	if _, ok := descriptions[cond]; !ok {
		cond = CondUndefinedCondition
	}
	el := xmlstream.New(NS, "error")
	c := xmlstream.New(NSErrors, cond)
	if cond == CondSeeOtherHost {
		c.SetText(e.SeeOtherHost)
	}
	el.Append(c)
	if e.Text != "" {
		t := xmlstream.New(NSErrors, "text").SetText(e.Text)
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

// Redirect interprets a see-other-host error (RFC 6120 §4.9.3.19): the host
// to connect to instead and the port, which is 0 when the server gave none
// (then the host is resolved like a domain, RFC 6120 §3.2). IPv6 addresses
// come in square brackets ("[2001:db8::1]:5222"); host is returned without
// them. ok is false for other conditions and for unusable values.
func (e *Error) Redirect() (host string, port uint16, ok bool) {
	if e == nil || e.Condition != CondSeeOtherHost {
		return "", 0, false
	}
	s := strings.TrimSpace(e.SeeOtherHost)
	if s == "" {
		return "", 0, false
	}
	var portStr string
	hasPort := false
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", 0, false
		}
		host, rest := s[1:end], s[end+1:]
		if net.ParseIP(host) == nil || strings.Contains(host, "%") {
			return "", 0, false
		}
		if rest != "" {
			if !strings.HasPrefix(rest, ":") {
				return "", 0, false
			}
			portStr, hasPort = rest[1:], true
		}
		s = host
	case strings.Count(s, ":") > 1:
		// An unbracketed IPv6 address cannot carry a port; accept it alone.
		if net.ParseIP(s) == nil {
			return "", 0, false
		}
	case strings.Contains(s, ":"):
		i := strings.IndexByte(s, ':')
		s, portStr, hasPort = s[:i], s[i+1:], true
	}
	if s == "" || strings.ContainsAny(s, " \t\r\n/@[]\\") {
		return "", 0, false
	}
	if hasPort {
		p, err := strconv.ParseUint(portStr, 10, 16)
		if err != nil || p == 0 {
			return "", 0, false
		}
		port = uint16(p)
	}
	return s, port, true
}
