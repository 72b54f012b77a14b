package xmlstream

import "errors"

// Stream error conditions (RFC 6120 §4.9.3) reported by the decoder.
const (
	condInvalidNamespace    = "invalid-namespace"
	condNotWellFormed       = "not-well-formed"
	condPolicyViolation     = "policy-violation"
	condRestrictedXML       = "restricted-xml"
	condUnsupportedEncoding = "unsupported-encoding"
)

// Error is an error in the XML a peer sent. Condition is the RFC 6120 §4.9.3
// stream error condition a session should answer with (for example
// "not-well-formed"); Text describes the problem for logs.
//
// errors.Is(err, ErrX) reports whether err is an *Error with the same
// Condition as the sentinel ErrX, whatever its Text.
type Error struct {
	Condition string
	Text      string
}

// Error returns "xml: " followed by the text, or the condition when there is
// no text.
func (e *Error) Error() string {
	if e.Text != "" {
		return "xml: " + e.Text
	}
	return "xml: " + e.Condition
}

// Is reports whether target is an *Error with the same Condition.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t != nil && t.Condition == e.Condition
}

// Sentinels for errors.Is. Each matches every *Error with its Condition.
var (
	// ErrRestrictedXML matches errors for a comment, processing
	// instruction, DTD or entity declaration (RFC 6120 §11.1).
	ErrRestrictedXML error = &Error{Condition: condRestrictedXML, Text: "restricted XML (comment, processing instruction, DTD or entity declaration)"}
	// ErrNotWellFormed matches errors for XML that is not well-formed or
	// not namespace-well-formed (RFC 6120 §4.9.3.13).
	ErrNotWellFormed error = &Error{Condition: condNotWellFormed, Text: "not well-formed"}
	// ErrTooLarge matches errors for an element (or the data between two
	// elements) over the size limit, or elements nested too deeply
	// (condition "policy-violation", RFC 6120 §4.9.3.14).
	ErrTooLarge error = &Error{Condition: condPolicyViolation, Text: "stanza too large"}
	// ErrInvalidNamespace matches the error for a stream header that is
	// not <stream> in [NSStream] (RFC 6120 §4.9.3.10).
	ErrInvalidNamespace error = &Error{Condition: condInvalidNamespace, Text: "invalid stream namespace"}
	// ErrUnsupportedEncoding matches the error for an XML declaration that
	// names an encoding other than UTF-8 (RFC 6120 §11.6).
	ErrUnsupportedEncoding error = &Error{Condition: condUnsupportedEncoding, Text: "unsupported encoding (only UTF-8 is allowed)"}
	// ErrStreamEnd is returned by [Decoder.Next] when the peer closed its
	// stream with </stream:stream>.
	ErrStreamEnd = errors.New("xml: end of stream")
)
