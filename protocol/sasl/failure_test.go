package sasl_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/sasl"
)

func failure(cond, text string) *xmlstream.Element {
	f := xmlstream.New(sasl.NS, "failure")
	if cond != "" {
		f.Append(xmlstream.New(sasl.NS, cond))
	}
	if text != "" {
		f.Append(xmlstream.New(sasl.NS, "text").SetText(text))
	}
	return f
}

var sentinels = []error{
	sasl.ErrAborted, sasl.ErrAccountDisabled, sasl.ErrCredentialsExpired, sasl.ErrEncryptionRequired,
	sasl.ErrIncorrectEncoding, sasl.ErrInvalidAuthzid, sasl.ErrInvalidMechanism, sasl.ErrMalformedRequest,
	sasl.ErrMechanismTooWeak, sasl.ErrNotAuthorized, sasl.ErrTemporaryAuthFailure,
}

// TestFailureConditions: every RFC 6120 §6.5 condition gets its own
// sentence and matches exactly its sentinel.
func TestFailureConditions(t *testing.T) {
	tests := []struct {
		cond     string
		sentinel error
		message  string
	}{
		{"aborted", sasl.ErrAborted, "sign-in was aborted"},
		{"account-disabled", sasl.ErrAccountDisabled, "your account has been disabled"},
		{"credentials-expired", sasl.ErrCredentialsExpired, "your password has expired and must be changed"},
		{"encryption-required", sasl.ErrEncryptionRequired, "the server requires an encrypted connection for this sign-in method"},
		{"incorrect-encoding", sasl.ErrIncorrectEncoding, "the server could not decode the sign-in data"},
		{"invalid-authzid", sasl.ErrInvalidAuthzid, "the server refused the requested authorization identity"},
		{"invalid-mechanism", sasl.ErrInvalidMechanism, "the server does not support the chosen sign-in method"},
		{"malformed-request", sasl.ErrMalformedRequest, "the server rejected the sign-in request as malformed"},
		{"mechanism-too-weak", sasl.ErrMechanismTooWeak, "the server requires a stronger sign-in method"},
		{"not-authorized", sasl.ErrNotAuthorized, "wrong address or password"},
		{"temporary-auth-failure", sasl.ErrTemporaryAuthFailure, "the server could not check your password right now; try again later"},
		{"bad-protocol", nil, "sign-in failed (bad-protocol)"},
	}
	for _, tc := range tests {
		t.Run(tc.cond, func(t *testing.T) {
			f := sasl.ParseFailure(failure(tc.cond, ""))
			if f == nil || f.Condition != tc.cond || f.Text != "" {
				t.Fatalf("ParseFailure = %#v", f)
			}
			if f.Error() != tc.message {
				t.Errorf("Error() = %q, want %q", f.Error(), tc.message)
			}
			withText := sasl.ParseFailure(failure(tc.cond, "Call 212-555-1212 for assistance."))
			if want := tc.message + " (the server said: Call 212-555-1212 for assistance.)"; withText.Error() != want {
				t.Errorf("Error() with text = %q, want %q", withText.Error(), want)
			}
			wrapped := fmt.Errorf("authenticate: %w", f)
			for _, s := range sentinels {
				if got := errors.Is(wrapped, s); got != (s == tc.sentinel) {
					t.Errorf("errors.Is(%v, %v) = %v", wrapped, s, got)
				}
			}
			var as *sasl.Failure
			if !errors.As(wrapped, &as) || as.Condition != tc.cond {
				t.Errorf("errors.As: %v", as)
			}
		})
	}
}

func TestParseFailure(t *testing.T) {
	// Not a SASL failure.
	for _, e := range []*xmlstream.Element{
		nil,
		xmlstream.New(sasl.NS, "success"),
		xmlstream.New("urn:xmpp:sasl:2", "failure").Append(xmlstream.New(sasl.NS, "not-authorized")),
	} {
		if f := sasl.ParseFailure(e); f != nil {
			t.Errorf("ParseFailure(%v) = %#v, want nil", e, f)
		}
	}

	// RFC 6120 §6.5 example with xml:lang text; text before the condition,
	// foreign children ignored, only the first condition and text count.
	e := xmlstream.New(sasl.NS, "failure").Append(
		xmlstream.New("urn:example", "extra"),
		xmlstream.New(sasl.NS, "text").SetText("  first\ttext\n"),
		xmlstream.New(sasl.NS, "account-disabled"),
		xmlstream.New(sasl.NS, "not-authorized"),
		xmlstream.New(sasl.NS, "text").SetText("second"),
	)
	f := sasl.ParseFailure(e)
	if f.Condition != "account-disabled" || f.Text != "first text" {
		t.Fatalf("ParseFailure = %#v", f)
	}
	if !errors.Is(f, sasl.ErrAccountDisabled) || errors.Is(f, sasl.ErrNotAuthorized) {
		t.Error("errors.Is mismatch")
	}

	// No condition at all.
	f = sasl.ParseFailure(xmlstream.New(sasl.NS, "failure"))
	if f.Condition != "" || f.Error() != "sign-in failed (the server gave no reason)" {
		t.Errorf("empty failure: %#v %q", f, f.Error())
	}
	for _, s := range sentinels {
		if errors.Is(f, s) {
			t.Errorf("empty failure matches %v", s)
		}
	}

	// Text is made displayable: controls and bidi overrides gone, bounded.
	f = sasl.ParseFailure(failure("not-authorized", "evil\x1b[31m\u202eredtext"+strings.Repeat("x", 1000)))
	if strings.ContainsAny(f.Text, "\x1b\u202e") || len([]rune(f.Text)) > 301 || !strings.HasPrefix(f.Text, "evil [31m redtext") {
		t.Errorf("text not cleaned: %q", f.Text)
	}
}

// FuzzParseFailure checks that any condition name and server text give a
// displayable, bounded, single-line message.
func FuzzParseFailure(f *testing.F) {
	f.Fuzz(func(t *testing.T, cond, text string) {
		e := xmlstream.New(sasl.NS, "failure")
		if cond != "" {
			e.Append(xmlstream.New(sasl.NS, cond))
		}
		e.Append(xmlstream.New(sasl.NS, "text").SetText(text))
		fl := sasl.ParseFailure(e)
		if fl == nil {
			t.Fatal("ParseFailure = nil")
		}
		wantCond := cond
		if cond == "text" {
			wantCond = "" // <text/> is never the condition
		}
		if fl.Condition != wantCond {
			t.Fatalf("Condition = %q, want %q", fl.Condition, wantCond)
		}
		if len([]rune(fl.Text)) > 301 {
			t.Fatalf("text not bounded: %d runes", len([]rune(fl.Text)))
		}
		for _, r := range fl.Text {
			if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == '\u2028' || r == '\u2029' {
				t.Fatalf("text %+q keeps %U", fl.Text, r)
			}
		}
		msg := fl.Error()
		if msg == "" || strings.IndexFunc(msg, unicode.IsControl) >= 0 {
			t.Fatalf("Error() = %q", msg)
		}
	})
}
