package sasl_test

import (
	"testing"

	"github.com/tern-im/tern/protocol/sasl"
)

func TestSASLprep(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		// RFC 4013 §3 examples.
		{"I\u00adX", "IX", true},
		{"user", "user", true},
		{"USER", "USER", true},
		{"\u00aa", "a", true},
		{"\u2168", "IX", true},
		{"\u0007", "", false},
		{"\u0627\u0031", "", false},
		// Mapping: non-ASCII spaces to SPACE, B.1 removed.
		{"a\u00a0b\u3000c\u200bd", "a b c d", true},
		{"a\ufe0fb\u200dc", "abc", true},
		{"\u00ad", "", true},
		// NFKC.
		{"\uff21\ufb01", "Afi", true},
		{"e\u0301", "é", true},
		// Prohibited output.
		{"a\u0080", "", false},
		{"a\ue000", "", false},
		{"a\U000FFFFD", "", false},
		{"a\ufdd0", "", false},
		{"a\U0001FFFE", "", false},
		{"a\ufffd", "", false},
		{"a\u2ff0", "", false},
		{"a\u200e", "", false},
		{"a\U000E0001", "", false},
		{"a\u2028", "", false},
		{"a\x7f", "", false},
		{"\xff", "", false},
		// Bidi: RandALCat strings must start and end with one and hold no L.
		{"\u0627\u0628", "\u0627\u0628", true},
		{"\u0627 1 \u0628", "\u0627 1 \u0628", true},
		{"\u0627a\u0628", "", false},
		{"1\u0627", "", false},
		// Unassigned code points are allowed in queries.
		{"a\U0001FAFF", "a\U0001FAFF", true},
		{"pässwörd", "pässwörd", true},
	}
	for _, tc := range tests {
		got, ok := sasl.SASLprep(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("SASLprep(%+q) = %+q, %v; want %+q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
