package jid_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/secure/precis"

	"github.com/tern-im/tern/protocol/jid"
)

// FuzzParse checks that Parse never panics, that every error wraps one of
// the package's sentinels, and that every JID it returns is canonical:
// valid UTF-8, within the length limits, re-parsed and rebuilt identically.
// Where x/text's stock PRECIS profiles accept the raw localpart or
// resourcepart, Parse must produce the same normalised string.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"juliet@example.com/foo bar",
		"Juliet@Example.COM/Balcony",
		"ｊｕｌｉｅｔ@ｅｘａｍｐｌｅ．ｃｏｍ",
		"juliet@[2001:db8::1]/r",
	} {
		f.Add(s)
	}
	sentinels := []error{jid.ErrEmpty, jid.ErrInvalidLocal, jid.ErrInvalidDomain, jid.ErrInvalidResource}
	f.Fuzz(func(t *testing.T, s string) {
		j, err := jid.Parse(s)
		if err != nil {
			if !j.IsZero() {
				t.Fatalf("Parse(%q) returned %+v with error %v", s, j, err)
			}
			n := 0
			for _, e := range sentinels {
				if errors.Is(err, e) {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("Parse(%q) error %q matches %d part sentinels, want 1", s, err, n)
			}
			// Messages are for people: valid text, and short even when a
			// peer sends a huge address.
			if msg := err.Error(); !utf8.ValidString(msg) || !strings.HasPrefix(msg, "jid ") || len(msg) > 600 {
				t.Fatalf("Parse(%q) error message %q", s, msg)
			}
			return
		}

		str := j.String()
		if !utf8.ValidString(str) {
			t.Fatalf("Parse(%q).String() = %q is not valid UTF-8", s, str)
		}
		if j.IsZero() || j.Domain() == "" {
			t.Fatalf("Parse(%q) = %+v has no domainpart", s, j)
		}
		for _, p := range []string{j.Local(), j.Domain(), j.Resource()} {
			if len(p) > 1023 {
				t.Fatalf("Parse(%q) has a part of %d bytes", s, len(p))
			}
		}
		if strings.ContainsAny(j.Local(), "\"&'/:<>@") || strings.ContainsAny(j.Domain(), "@/") {
			t.Fatalf("Parse(%q) = %+v: separator or prohibited character in a part", s, j)
		}
		again, err := jid.Parse(str)
		if err != nil {
			t.Fatalf("Parse(%q) = %q, but Parse(%q) failed: %v", s, str, str, err)
		}
		if again != j {
			t.Fatalf("Parse(%q) = %+v, Parse(%q) = %+v; not idempotent", s, j, str, again)
		}
		built, err := jid.New(j.Local(), j.Domain(), j.Resource())
		if err != nil || built != j {
			t.Fatalf("New(parts of %q) = %+v, %v; want %+v", s, built, err, j)
		}

		rest, rawResource, _ := strings.Cut(s, "/")
		if rawLocal, _, ok := strings.Cut(rest, "@"); ok {
			if want, err := precis.UsernameCaseMapped.String(rawLocal); err == nil && want != j.Local() {
				t.Fatalf("Parse(%q) localpart %q, UsernameCaseMapped gives %q", s, j.Local(), want)
			}
		}
		if j.Resource() != "" {
			want, err := precis.OpaqueString.String(rawResource)
			if err != nil || want != j.Resource() {
				t.Fatalf("Parse(%q) resourcepart %q, OpaqueString gives %q, %v", s, j.Resource(), want, err)
			}
		}
	})
}
