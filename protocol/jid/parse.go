package jid

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/secure/bidirule"
	"golang.org/x/text/secure/precis"
	"golang.org/x/text/unicode/bidi"
	"golang.org/x/text/unicode/norm"
)

const (
	// maxPartLen is the limit on each part, in bytes after normalisation
	// (RFC 7622 §3.2, §3.3, §3.4).
	maxPartLen = 1023

	// maxLabelLen is the DNS limit on one label of a domain name, measured on
	// its ASCII form (A-label for internationalised labels), RFC 5890
	// §2.3.2.1 and RFC 1035 §2.3.4.
	maxLabelLen = 63

	// maxRawLen bounds a part before normalisation, so that the PRECIS and
	// IDNA machinery never runs over huge peer input. None of the mappings
	// used here shrinks text by more than a factor of four (UTS #46 maps a
	// 4-byte mathematical letter such as U+1D41A to one ASCII letter; width
	// mapping turns 3 bytes into 1; NFC composes a 9-byte Hangul L+V+T jamo
	// sequence into one 3-byte syllable), so a longer part cannot become
	// valid. The only exception is a domainpart stuffed with code points
	// that UTS #46 deletes (such as U+00AD), rejected as too long on purpose.
	maxRawLen = 4 * maxPartLen
)

// domainProfile converts domainparts to their canonical Unicode form. It is
// read-only configuration, built once.
//
// RFC 7622 §3.2 requires a domainpart made of NR-LDH labels and U-labels
// (IDNA2008, RFC 5890), with A-labels converted to U-labels, after case,
// width and normalisation mapping as recommended by RFC 5895. The profile is:
//
//   - MapForLookup: the UTS #46 mapping, a superset of the RFC 5895 one
//     (lowercase, width folding, NFC, the ideographic and fullwidth full
//     stops as label separators), followed by the RFC 5891 §5.4 label
//     validation: valid code points (UTS #46 is a little more permissive
//     than IDNA2008 here, see labelProfile), STD3 ASCII rules (letters,
//     digits and hyphen only, so '@', '/', '_', ' ' are rejected), no
//     leading, trailing or third-and-fourth-position hyphens, the ContextJ
//     rules for joiners, and A-labels decoded and checked as U-labels;
//   - Transitional(false): IDNA2008 semantics, so deviation characters keep
//     their identity ("fußball.example" is not "fussball.example");
//   - BidiRule: the RFC 5893 rule for right-to-left labels;
//   - no VerifyDNSLength: RFC 7622 allows domainparts up to 1023 bytes (the
//     253-byte DNS limit would reject valid JIDs of non-DNS services); we
//     check the 63-byte label limit ourselves.
//
// The options are pinned here rather than taken from idna.Lookup, whose
// configuration the idna package reserves the right to change.
var domainProfile = idna.New(
	idna.MapForLookup(),
	idna.Transitional(false),
	idna.BidiRule(),
)

// localProfile is the PRECIS UsernameCaseMapped profile of RFC 8265 §3.3:
// IdentifierClass, width mapping, lowercase, NFC. It is built here instead of
// using precis.UsernameCaseMapped because x/text applies the Bidi rule to
// every string (golang/go#17383), which rejects ordinary left-to-right
// localparts such as "1über" or "josé_"; RFC 8265 §3.3.2 rule 4 applies it
// only to strings that contain right-to-left characters, which normLocal
// does. Read-only, built once.
var localProfile = precis.NewIdentifier(precis.FoldWidth, precis.LowerCase(), precis.Norm(norm.NFC))

// labelProfile checks that each non-ASCII label of a domainpart uses only
// code points that IDNA2008 allows (RFC 5892), contextual rules included.
// The UTS #46 tables used by x/net/idna also accept symbols and punctuation
// that IDNA2008 disallows (the "NV8" code points such as '♚' or emoji); the
// PRECIS IdentifierClass is derived from the same RFC 5892 categories, so it
// closes that gap. Read-only, built once.
var labelProfile = precis.NewIdentifier(precis.Norm(norm.NFC))

// normLocal enforces the localpart rules on s (non-empty) and returns its
// canonical form.
func normLocal(in input, s string) (string, error) {
	if len(s) > maxRawLen {
		return "", in.partError(partLocal, ErrTooLong, tooLong(len(s)))
	}
	// Fast path for ASCII: in the IdentifierClass (RFC 8264 §9.1) the ASCII
	// letters, digits and symbols 0x21–0x7E are valid; UsernameCaseMapped
	// (RFC 8265 §3.3) then only lowercases them: width mapping, NFC and the
	// Bidi rule have no effect on ASCII text.
	upper := false
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			break
		}
		if c <= ' ' || c == 0x7f || isProhibitedLocal(c) {
			return "", in.partError(partLocal, ErrInvalidLocal, notAllowed(rune(c)))
		}
		if 'A' <= c && c <= 'Z' {
			upper = true
		}
	}
	if i == len(s) {
		if len(s) > maxPartLen {
			return "", in.partError(partLocal, ErrTooLong, tooLong(len(s)))
		}
		if upper {
			s = strings.ToLower(s)
		}
		return s, nil
	}

	if !utf8.ValidString(s) {
		return "", in.partError(partLocal, ErrInvalidLocal, invalidUTF8)
	}
	out, err := enforceStable(localProfile, s)
	if err == nil && bidirule.DirectionString(out) == bidi.RightToLeft && !bidirule.ValidString(out) {
		err = bidirule.ErrInvalid
	}
	if err == nil && strings.ContainsAny(out, prohibitedLocal) {
		// RFC 7622 §3.3.1 prohibits these characters in the enforced
		// string, so a fullwidth '＠' that width mapping turns into '@' is
		// caught too.
		err = errProhibited
	}
	if err != nil {
		return "", in.partError(partLocal, ErrInvalidLocal, precisDetail(localProfile, s, err, true))
	}
	if len(out) > maxPartLen {
		return "", in.partError(partLocal, ErrTooLong, tooLong(len(out)))
	}
	return out, nil
}

// prohibitedLocal are the characters RFC 7622 §3.3.1 forbids in a localpart
// in addition to the PRECIS rules.
const prohibitedLocal = "\"&'/:<>@"

func isProhibitedLocal(c byte) bool {
	return strings.IndexByte(prohibitedLocal, c) >= 0
}

// normResource enforces the resourcepart rules on s (non-empty) and returns
// its canonical form.
func normResource(in input, s string) (string, error) {
	if len(s) > maxRawLen {
		return "", in.partError(partResource, ErrTooLong, tooLong(len(s)))
	}
	// Fast path for ASCII: the FreeformClass (RFC 8264 §9.2) allows every
	// printable ASCII character including space, and OpaqueString (RFC 8265
	// §4.2) maps only non-ASCII spaces and applies NFC, so printable ASCII
	// is already canonical. Control characters are disallowed.
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			break
		}
		if c < ' ' || c == 0x7f {
			return "", in.partError(partResource, ErrInvalidResource, notAllowed(rune(c)))
		}
	}
	if i == len(s) {
		if len(s) > maxPartLen {
			return "", in.partError(partResource, ErrTooLong, tooLong(len(s)))
		}
		return s, nil
	}

	if !utf8.ValidString(s) {
		// Checked here because OpaqueString would silently turn invalid
		// bytes into U+FFFD.
		return "", in.partError(partResource, ErrInvalidResource, invalidUTF8)
	}
	out, err := enforceStable(precis.OpaqueString, s)
	if err != nil {
		return "", in.partError(partResource, ErrInvalidResource, precisDetail(precis.OpaqueString, s, err, false))
	}
	if len(out) > maxPartLen {
		return "", in.partError(partResource, ErrTooLong, tooLong(len(out)))
	}
	return out, nil
}

var (
	errUnstable    = errors.New("normalisation is not stable")
	errProhibited  = errors.New("prohibited character")
	errNotIDNA2008 = errors.New("not allowed by IDNA2008")
)

// enforceStable applies p to s and checks that applying it again changes
// nothing, which is what makes Parse idempotent: a string whose enforcement
// is not a fixed point is rejected rather than given a canonical form that
// would parse differently.
func enforceStable(p *precis.Profile, s string) (string, error) {
	out, err := p.String(s)
	if err != nil {
		return "", err
	}
	if out == s {
		return out, nil
	}
	again, err := p.String(out)
	if err != nil || again != out {
		return "", errUnstable
	}
	return out, nil
}

// precisDetail explains why p rejected s (err is what enforcement
// returned). It runs on error paths only.
func precisDetail(p *precis.Profile, s string, err error, local bool) string {
	// Report the first character that is not allowed anywhere: one that
	// fails alone and after a letter (so that a combining mark or a
	// right-to-left letter that is merely badly placed is not blamed).
	bad := func(t string) bool {
		out, err := p.String(t)
		return err != nil || (local && strings.ContainsAny(out, prohibitedLocal))
	}
	for _, r := range s {
		if bad(string(r)) && bad("a"+string(r)) {
			return notAllowed(r)
		}
	}
	switch {
	case errors.Is(err, bidirule.ErrInvalid):
		if r, _ := utf8.DecodeRuneInString(s); unicode.In(r, unicode.M) {
			// The Bidi rule (RFC 5893 §2 rule 1) wants a letter first.
			return fmt.Sprintf("it cannot start with a combining mark (%U)", r)
		}
		return "it mixes right-to-left and left-to-right text in a way that is not allowed"
	case errors.Is(err, errUnstable):
		return "it has no stable normalised form"
	}
	return "it uses a character in a position where it is not allowed (such as a joiner or a combining mark)"
}

const invalidUTF8 = "it is not valid UTF-8 text"

func notAllowed(r rune) string {
	return describeRune(r) + " is not allowed"
}

// normDomain enforces the domainpart rules on s and returns its canonical
// form.
func normDomain(in input, s string) (string, error) {
	// RFC 7622 §3.2.1: strip one final label separator before anything
	// else. Besides '.', the ideographic, fullwidth and halfwidth full stops
	// are separators too once mapped (RFC 5895 §2 step 4, UTS #46).
	for _, dot := range [...]string{".", "\u3002", "\uff0e", "\uff61"} {
		if t, ok := strings.CutSuffix(s, dot); ok {
			s = t
			break
		}
	}
	if s == "" {
		return "", in.partError(partDomain, ErrEmptyDomain, emptyDomainDetail)
	}
	if len(s) > maxRawLen {
		return "", in.partError(partDomain, ErrTooLong, tooLong(len(s)))
	}
	if s[0] == '[' {
		return normIPv6(in, s)
	}

	out, err := domainName(in, s)
	if err != nil {
		return "", err
	}

	// A name whose last label is all digits can only be an IPv4 address in
	// dotted-decimal form (RFC 7622 §3.2; top-level domains are never
	// numeric, RFC 3696 §2). netip accepts only the canonical form (no
	// leading zeros, four parts), so out stays canonical.
	last := out[strings.LastIndexByte(out, '.')+1:]
	if isDigits(last) {
		if a, err := netip.ParseAddr(out); err != nil || !a.Is4() {
			return "", in.partError(partDomain, ErrInvalidDomain,
				fmt.Sprintf("%q is not a valid IPv4 address, and a server name cannot end in a number", truncate(out, 40)))
		}
	}
	return out, nil
}

// domainName returns the canonical form of the domain name s (not an IP
// literal, no final dot).
func domainName(in input, s string) (string, error) {
	if isCanonicalASCIIDomain(s) {
		return s, nil // the fast path: nothing to do
	}
	if lower, ok := lowerASCIIDomain(s); ok {
		// ASCII with capitals: UTS #46 maps A–Z to a–z and nothing else.
		return lower, nil
	}
	if !utf8.ValidString(s) {
		return "", in.partError(partDomain, ErrInvalidDomain, invalidUTF8)
	}
	out, err := mapDomain(s)
	if err != nil {
		return "", in.partError(partDomain, ErrInvalidDomain, domainDetail(s, err))
	}
	if len(out) > maxPartLen {
		return "", in.partError(partDomain, ErrTooLong, tooLong(len(out)))
	}
	if err := checkLabels(in, out); err != nil {
		return "", err
	}
	return out, nil
}

// mapDomain converts a domain name to its canonical Unicode form with
// domainProfile and checks that the result is IDNA2008 and stable.
func mapDomain(s string) (string, error) {
	out, err := domainProfile.ToUnicode(s)
	if err != nil {
		return "", err
	}
	if out != s {
		again, err := domainProfile.ToUnicode(out)
		if err != nil || again != out {
			return "", errUnstable
		}
	}
	for l := range strings.SplitSeq(out, ".") {
		if isASCII(l) {
			continue
		}
		for _, r := range l {
			// RFC 5892 §2.4 IgnorableBlocks, which the PRECIS classes
			// do not exclude.
			if 0x20d0 <= r && r <= 0x20ff || 0x1d100 <= r && r <= 0x1d24f {
				return "", errNotIDNA2008
			}
		}
		if c, err := labelProfile.String(l); err != nil || c != l {
			return "", errNotIDNA2008
		}
	}
	return out, nil
}

// isCanonicalASCIIDomain reports whether s is a domain name that the IDNA
// processing would return unchanged and that passes every length rule: only
// lowercase LDH labels of 1 to 63 bytes, none starting or ending with a
// hyphen or with "--" in the third and fourth positions (which also excludes
// A-labels, "xn--", that must become U-labels).
func isCanonicalASCIIDomain(s string) bool {
	if len(s) > maxPartLen {
		return false
	}
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != '.' {
			c := s[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
			continue
		}
		l := s[start:i]
		if l == "" || len(l) > maxLabelLen || l[0] == '-' || l[len(l)-1] == '-' ||
			len(l) >= 4 && l[2] == '-' && l[3] == '-' {
			return false
		}
		start = i + 1
	}
	return true
}

// lowerASCIIDomain lowercases s if it is ASCII and becomes canonical by
// that alone.
func lowerASCIIDomain(s string) (string, bool) {
	if !isASCII(s) {
		return "", false
	}
	lower := strings.ToLower(s)
	if lower == s || !isCanonicalASCIIDomain(lower) {
		return "", false
	}
	return lower, true
}

// checkLabels checks the labels of a domain name produced by the IDNA
// processing: none may be empty (the profile tolerates empty labels), and
// each must fit in 63 bytes in its ASCII form.
func checkLabels(in input, d string) error {
	for l := range strings.SplitSeq(d, ".") {
		if l == "" {
			return in.partError(partDomain, ErrInvalidDomain, "it has an empty label (a dot at the start, or two dots in a row)")
		}
		n := len(l)
		if !isASCII(l) {
			a, err := idna.Punycode.ToASCII(l)
			if err != nil {
				return in.partError(partDomain, ErrInvalidDomain, fmt.Sprintf("label %q cannot be encoded for DNS", truncate(l, 20)))
			}
			n = len(a)
		}
		if n > maxLabelLen {
			return in.partError(partDomain, ErrTooLong,
				fmt.Sprintf("label %q is too long (%d bytes in DNS form, at most %d allowed)", truncate(l, 20), n, maxLabelLen))
		}
	}
	return nil
}

// normIPv6 handles an IP-literal domainpart (RFC 7622 §3.2, RFC 3986 §3.2.2)
// and returns it in canonical RFC 5952 form, inside brackets.
func normIPv6(in input, s string) (string, error) {
	inner, ok := strings.CutSuffix(s[1:], "]")
	if !ok {
		return "", in.partError(partDomain, ErrInvalidDomain, `an IPv6 address must be enclosed in "[" and "]"`)
	}
	a, err := netip.ParseAddr(inner)
	if err != nil || !a.Is6() || a.Zone() != "" {
		return "", in.partError(partDomain, ErrInvalidDomain, fmt.Sprintf("%q is not a valid IPv6 address", truncate(s, 50)))
	}
	var buf [64]byte
	canon := a.AppendTo(buf[:0])
	if string(canon) == inner {
		return s, nil
	}
	return "[" + string(canon) + "]", nil
}

// domainDetail explains why the IDNA processing rejected s (err is what it
// returned). It runs on error paths only.
func domainDetail(s string, err error) string {
	for l := range strings.SplitSeq(s, ".") {
		if len(l) >= 4 && strings.EqualFold(l[:4], "xn--") {
			if _, err := idna.Punycode.ToUnicode(strings.ToLower(l)); err != nil {
				return fmt.Sprintf("label %q is not a valid internationalised (xn--) label", truncate(l, 20))
			}
		}
	}
	// The first character that is invalid even between two letters (so a
	// hyphen or a combining mark is not blamed for its position).
	bad := func(t string) bool {
		_, err := mapDomain(t)
		return err != nil
	}
	for _, r := range s {
		if bad(string(r)) && bad("a"+string(r)+"a") {
			return notAllowed(r) + " in a server name"
		}
	}
	for l := range strings.SplitSeq(s, ".") {
		switch {
		case l == "":
			return "it has an empty label (a dot at the start, or two dots in a row)"
		case l[0] == '-' || l[len(l)-1] == '-':
			return fmt.Sprintf(`label %q must not start or end with "-"`, truncate(l, 20))
		case len(l) >= 4 && l[2] == '-' && l[3] == '-':
			return fmt.Sprintf(`label %q must not have "--" in the third and fourth positions`, truncate(l, 20))
		}
		if r, _ := utf8.DecodeRuneInString(l); unicode.In(r, unicode.M) {
			// RFC 5891 §5.4: a label must not begin with a combining mark.
			return fmt.Sprintf("label %q cannot start with a combining mark (%U)", truncate(l, 20), r)
		}
	}
	if errors.Is(err, errUnstable) {
		return "it has no stable normalised form"
	}
	return "it is not a valid domain name (check for mixed right-to-left and left-to-right text, or misplaced joiners and combining marks)"
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// truncate shortens s to at most n runes for an error message.
func truncate(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j] + "…"
		}
		i++
	}
	return s
}
