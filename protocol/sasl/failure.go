package sasl

import (
	"errors"
	"strings"
	"unicode"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
)

// Sentinels for the RFC 6120 §6.5 failure conditions. errors.Is(err, X) is
// true when err is (or wraps) a [*Failure] with that condition.
var (
	// ErrAborted is <aborted/> (§6.5.1).
	ErrAborted = errors.New("sasl: aborted")
	// ErrAccountDisabled is <account-disabled/> (§6.5.2).
	ErrAccountDisabled = errors.New("sasl: account disabled")
	// ErrCredentialsExpired is <credentials-expired/> (§6.5.3).
	ErrCredentialsExpired = errors.New("sasl: credentials expired")
	// ErrEncryptionRequired is <encryption-required/> (§6.5.4).
	ErrEncryptionRequired = errors.New("sasl: encryption required")
	// ErrIncorrectEncoding is <incorrect-encoding/> (§6.5.5).
	ErrIncorrectEncoding = errors.New("sasl: incorrect encoding")
	// ErrInvalidAuthzid is <invalid-authzid/> (§6.5.6).
	ErrInvalidAuthzid = errors.New("sasl: invalid authzid")
	// ErrInvalidMechanism is <invalid-mechanism/> (§6.5.7).
	ErrInvalidMechanism = errors.New("sasl: invalid mechanism")
	// ErrMalformedRequest is <malformed-request/> (§6.5.8).
	ErrMalformedRequest = errors.New("sasl: malformed request")
	// ErrMechanismTooWeak is <mechanism-too-weak/> (§6.5.9).
	ErrMechanismTooWeak = errors.New("sasl: mechanism too weak")
	// ErrNotAuthorized is <not-authorized/> (§6.5.10): wrong credentials.
	ErrNotAuthorized = errors.New("sasl: not authorized")
	// ErrTemporaryAuthFailure is <temporary-auth-failure/> (§6.5.11).
	ErrTemporaryAuthFailure = errors.New("sasl: temporary auth failure")
)

// conditionInfo returns the user-facing sentence and the sentinel of an
// RFC 6120 §6.5 condition; sentinel is nil for unknown conditions.
func conditionInfo(cond string) (msg string, sentinel error) {
	switch cond {
	case "aborted":
		return "sign-in was aborted", ErrAborted
	case "account-disabled":
		return "your account has been disabled", ErrAccountDisabled
	case "credentials-expired":
		return "your password has expired and must be changed", ErrCredentialsExpired
	case "encryption-required":
		return "the server requires an encrypted connection for this sign-in method", ErrEncryptionRequired
	case "incorrect-encoding":
		return "the server could not decode the sign-in data", ErrIncorrectEncoding
	case "invalid-authzid":
		return "the server refused the requested authorization identity", ErrInvalidAuthzid
	case "invalid-mechanism":
		return "the server does not support the chosen sign-in method", ErrInvalidMechanism
	case "malformed-request":
		return "the server rejected the sign-in request as malformed", ErrMalformedRequest
	case "mechanism-too-weak":
		return "the server requires a stronger sign-in method", ErrMechanismTooWeak
	case "not-authorized":
		return "wrong address or password", ErrNotAuthorized
	case "temporary-auth-failure":
		return "the server could not check your password right now; try again later", ErrTemporaryAuthFailure
	case "":
		return "sign-in failed (the server gave no reason)", nil
	}
	return "sign-in failed (" + cleanText(truncate(cond)) + ")", nil
}

// Failure is a SASL <failure/> from the server (RFC 6120 §6.5).
type Failure struct {
	// Condition is the local name of the defined condition element, such
	// as "not-authorized"; "" if the server sent none.
	Condition string
	// Text is the server's optional human-readable <text/>.
	Text string
}

// Error returns a sentence that can be shown to the user, followed by the
// server's text when there is one.
func (f *Failure) Error() string {
	msg, _ := conditionInfo(f.Condition)
	if f.Text != "" {
		msg += " (the server said: " + f.Text + ")"
	}
	return msg
}

// Is reports whether target is the sentinel of f's condition, so that
// errors.Is(err, ErrNotAuthorized) matches a not-authorized failure.
func (f *Failure) Is(target error) bool {
	_, s := conditionInfo(f.Condition)
	return s != nil && s == target
}

// maxFailureText bounds the server text kept for display, in runes.
const maxFailureText = 300

// ParseFailure reads a <failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>
// element. It returns nil when e is not such an element. The condition is
// the first child in the SASL namespace other than <text/>; the text is
// that of the first <text/>, with control characters replaced and its
// length bounded, since it is shown to the user.
func ParseFailure(e *xmlstream.Element) *Failure {
	if !e.Is(NS, "failure") {
		return nil
	}
	f := &Failure{}
	for _, c := range e.Children {
		if c.Name.Space != NS {
			continue
		}
		if c.Name.Local == "text" {
			if f.Text == "" {
				f.Text = cleanText(c.Text)
			}
			continue
		}
		if f.Condition == "" {
			f.Condition = c.Name.Local
		}
	}
	return f
}

// cleanText makes server text safe to display on one line.
func cleanText(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Bidi_Control, r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > maxFailureText {
		s = string(r[:maxFailureText]) + "…"
	}
	return s
}
