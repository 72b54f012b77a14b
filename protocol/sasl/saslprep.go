package sasl

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/bidi"
	"golang.org/x/text/unicode/norm"
)

// saslprep prepares s with the SASLprep profile of stringprep (RFC 4013,
// RFC 3454) as a query: unassigned code points are allowed. ok is false when
// s is not valid UTF-8, contains a prohibited character or breaks the
// bidirectional rule; the result may be empty.
func saslprep(s string) (string, bool) {
	if !utf8.ValidString(s) {
		return "", false
	}
	// RFC 4013 §2.1 mapping: non-ASCII spaces to SPACE, "commonly mapped to
	// nothing" characters removed.
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case isNonASCIISpace(r):
			b.WriteByte(' ')
		case isMappedToNothing(r):
		default:
			b.WriteRune(r)
		}
	}
	// RFC 4013 §2.2: Unicode normalization form KC.
	out := norm.NFKC.String(b.String())

	// RFC 4013 §2.3 prohibited output and §2.4 bidirectional characters
	// (RFC 3454 §6).
	var hasRandAL, hasL bool
	for _, r := range out {
		if isProhibited(r) {
			return "", false
		}
		p, _ := bidi.LookupRune(r)
		switch p.Class() {
		case bidi.R, bidi.AL:
			hasRandAL = true
		case bidi.L:
			hasL = true
		}
	}
	if hasRandAL {
		first, _ := utf8.DecodeRuneInString(out)
		last, _ := utf8.DecodeLastRuneInString(out)
		if hasL || !isRandAL(first) || !isRandAL(last) {
			return "", false
		}
	}
	return out, true
}

func isRandAL(r rune) bool {
	p, _ := bidi.LookupRune(r)
	return p.Class() == bidi.R || p.Class() == bidi.AL
}

// isNonASCIISpace reports membership of RFC 3454 table C.1.2.
func isNonASCIISpace(r rune) bool {
	switch r {
	case 0x00A0, 0x1680, 0x202F, 0x205F, 0x3000:
		return true
	}
	return r >= 0x2000 && r <= 0x200B
}

// isMappedToNothing reports membership of RFC 3454 table B.1.
func isMappedToNothing(r rune) bool {
	switch r {
	case 0x00AD, 0x034F, 0x1806, 0x180B, 0x180C, 0x180D, 0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF:
		return true
	}
	return r >= 0xFE00 && r <= 0xFE0F
}

// isProhibited reports membership of the tables RFC 4013 §2.3 prohibits:
// C.1.2, C.2.1, C.2.2, C.3, C.4, C.5, C.6, C.7, C.8 and C.9.
func isProhibited(r rune) bool {
	switch {
	case isNonASCIISpace(r): // C.1.2
		return true
	case r <= 0x1F || r == 0x7F: // C.2.1
		return true
	case r >= 0x80 && r <= 0x9F: // C.2.2
		return true
	case r == 0x06DD, r == 0x070F, r == 0x180E, r == 0x200C, r == 0x200D, r == 0x2028, r == 0x2029,
		r >= 0x2060 && r <= 0x2063, r == 0xFEFF, r >= 0xFFF9 && r <= 0xFFFC, r >= 0x1D173 && r <= 0x1D17A: // C.2.2
		return true
	case r >= 0xE000 && r <= 0xF8FF, r >= 0xF0000 && r <= 0xFFFFD, r >= 0x100000 && r <= 0x10FFFD: // C.3
		return true
	case r >= 0xFDD0 && r <= 0xFDEF, r&0xFFFE == 0xFFFE: // C.4 (U+xxFFFE and U+xxFFFF in every plane)
		return true
	case r >= 0xD800 && r <= 0xDFFF: // C.5
		return true
	case r >= 0xFFF9 && r <= 0xFFFD: // C.6
		return true
	case r >= 0x2FF0 && r <= 0x2FFB: // C.7
		return true
	case r == 0x0340, r == 0x0341, r == 0x200E, r == 0x200F, r >= 0x202A && r <= 0x202E, r >= 0x206A && r <= 0x206F: // C.8
		return true
	case r == 0xE0001, r >= 0xE0020 && r <= 0xE007F: // C.9
		return true
	}
	return false
}
