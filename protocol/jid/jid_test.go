package jid_test

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/tern-im/tern/protocol/jid"
)

// parts is the expected decomposition of a parsed address.
type parts struct{ local, domain, resource string }

func partsOf(j jid.JID) parts { return parts{j.Local(), j.Domain(), j.Resource()} }

func TestParseValid(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want parts
		str  string // canonical form; "" means the same as in
	}{
		// RFC 7622 §3.5, examples of valid JIDs.
		{"rfc bare", "juliet@example.com", parts{"juliet", "example.com", ""}, ""},
		{"rfc full", "juliet@example.com/foo", parts{"juliet", "example.com", "foo"}, ""},
		{"rfc resource with space", "juliet@example.com/foo bar", parts{"juliet", "example.com", "foo bar"}, ""},
		{"rfc resource with at", "juliet@example.com/foo@bar", parts{"juliet", "example.com", "foo@bar"}, ""},
		{"rfc escaped local", `foo\20bar@example.com`, parts{`foo\20bar`, "example.com", ""}, ""},
		{"rfc fussball", "fussball@example.com", parts{"fussball", "example.com", ""}, ""},
		{"rfc fußball keeps sharp s", "fußball@example.com", parts{"fußball", "example.com", ""}, ""},
		{"rfc pi", "π@example.com", parts{"π", "example.com", ""}, ""},
		{"rfc capital sigma lowercased", "Σ@example.com/foo", parts{"σ", "example.com", "foo"}, "σ@example.com/foo"},
		{"rfc small sigma", "σ@example.com/foo", parts{"σ", "example.com", "foo"}, ""},
		{"rfc final sigma kept", "ς@example.com/foo", parts{"ς", "example.com", "foo"}, ""},
		{"rfc symbol in resource", "king@example.com/♚", parts{"king", "example.com", "♚"}, ""},
		{"rfc domain only", "example.com", parts{"", "example.com", ""}, ""},
		{"rfc domain with resource", "example.com/foobar", parts{"", "example.com", "foobar"}, ""},
		{"rfc resource looks like jid", "a.example.com/b@example.net", parts{"", "a.example.com", "b@example.net"}, ""},

		// Splitting (RFC 7622 §3.1): the resource is after the first '/'.
		{"slash in resource", "juliet@example.com/a/b", parts{"juliet", "example.com", "a/b"}, ""},
		{"at after slash", "example.com/juliet@example.net", parts{"", "example.com", "juliet@example.net"}, ""},
		{"single label", "localhost", parts{"", "localhost", ""}, ""},

		// Case: local and domain are case-mapped, the resource keeps case.
		{"case folding", "Juliet@Example.COM/Balcony", parts{"juliet", "example.com", "Balcony"}, "juliet@example.com/Balcony"},
		{"non-ascii uppercase local", "ÉLODIE@example.com", parts{"élodie", "example.com", ""}, "élodie@example.com"},
		{"non-ascii uppercase domain", "x@ÉXAMPLE.com", parts{"x", "éxample.com", ""}, "x@éxample.com"},

		// Width and compatibility mapping.
		{"fullwidth local and domain", "ｊｕｌｉｅｔ@ｅｘａｍｐｌｅ．ｃｏｍ/ｂａｌｃｏｎｙ",
			parts{"juliet", "example.com", "ｂａｌｃｏｎｙ"}, "juliet@example.com/ｂａｌｃｏｎｙ"},
		{"fullwidth uppercase local", "ＪＵＬＩＥＴ@example.com", parts{"juliet", "example.com", ""}, "juliet@example.com"},
		{"ideographic space in resource", "juliet@example.com/a\u3000b", parts{"juliet", "example.com", "a b"}, "juliet@example.com/a b"},
		{"no-break space in resource", "juliet@example.com/a\u00a0b", parts{"juliet", "example.com", "a b"}, "juliet@example.com/a b"},
		{"nfc in local", "e\u0301@example.com", parts{"\u00e9", "example.com", ""}, "\u00e9@example.com"},
		{"nfc in resource", "x@example.com/e\u0301", parts{"x", "example.com", "\u00e9"}, "x@example.com/\u00e9"},

		// Internationalised domain names.
		{"idn u-label", "juliet@bücher.example", parts{"juliet", "bücher.example", ""}, ""},
		{"idn a-label to u-label", "juliet@xn--bcher-kva.example", parts{"juliet", "bücher.example", ""}, "juliet@bücher.example"},
		{"idn uppercase a-label", "juliet@XN--BCHER-KVA.example", parts{"juliet", "bücher.example", ""}, "juliet@bücher.example"},
		{"idn uppercase u-label", "BÜCHER.example", parts{"", "bücher.example", ""}, "bücher.example"},
		{"idn japanese", "x@例え.テスト", parts{"x", "例え.テスト", ""}, ""},
		{"idn right-to-left", "x@מערכת.קום", parts{"x", "מערכת.קום", ""}, ""},
		{"idn sharp s kept", "x@fußball.example", parts{"x", "fußball.example", ""}, ""},
		{"ideographic full stop", "x@例え。テスト", parts{"x", "例え.テスト", ""}, "x@例え.テスト"},
		{"u-label longer than 63 bytes, a-label shorter", "x@" + strings.Repeat("例", 22) + ".example",
			parts{"x", strings.Repeat("例", 22) + ".example", ""}, ""},

		// Trailing dot (RFC 7622 §3.2.1).
		{"trailing dot", "juliet@example.com./r", parts{"juliet", "example.com", "r"}, "juliet@example.com/r"},
		{"trailing dot domain only", "example.com.", parts{"", "example.com", ""}, "example.com"},
		{"trailing ideographic full stop", "example.com\u3002", parts{"", "example.com", ""}, "example.com"},

		// IP literals.
		{"ipv4", "juliet@192.0.2.1/r", parts{"juliet", "192.0.2.1", "r"}, ""},
		{"ipv6", "juliet@[2001:db8::1]/r", parts{"juliet", "[2001:db8::1]", "r"}, ""},
		{"ipv6 canonicalised", "juliet@[2001:DB8:0:0:0:0:0:1]", parts{"juliet", "[2001:db8::1]", ""}, "juliet@[2001:db8::1]"},
		{"ipv6 loopback", "[0:0:0:0:0:0:0:1]", parts{"", "[::1]", ""}, "[::1]"},
		{"ipv4-mapped ipv6", "[::ffff:192.0.2.1]", parts{"", "[::ffff:192.0.2.1]", ""}, ""},

		// The Bidi rule applies only to strings with right-to-left
		// characters (RFC 8265 §3.3.2 rule 4); x/text applies it to every
		// string (golang/go#17383), which would reject these.
		{"digit then non-ascii", "1über@example.com", parts{"1über", "example.com", ""}, ""},
		{"non-ascii then symbol", "josé_@example.com", parts{"josé_", "example.com", ""}, ""},
		{"leading combining mark in ltr local", "\u0301a@example.com", parts{"\u0301a", "example.com", ""}, ""},
		{"right-to-left local", "אבג@example.com", parts{"אבג", "example.com", ""}, ""},
		{"right-to-left local ending in a digit", "אבג1@example.com", parts{"אבג1", "example.com", ""}, ""},
		{"middle dot between l", "l·l@example.com", parts{"l·l", "example.com", ""}, ""},
		{"middle dot between l in domain", "l·l.example", parts{"", "l·l.example", ""}, ""},

		// Odd but valid.
		{"numeric labels before a name", "1.2.3.example", parts{"", "1.2.3.example", ""}, ""},
		{"symbols in local", "a!#$%*+-=?^_`{|}~@example.com", parts{"a!#$%*+-=?^_`{|}~", "example.com", ""}, ""},
		{"hyphen inside label", "my-server.example", parts{"", "my-server.example", ""}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, err := jid.Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if got := partsOf(j); got != tt.want {
				t.Errorf("Parse(%q) parts = %+q, want %+q", tt.in, got, tt.want)
			}
			want := tt.str
			if want == "" {
				want = tt.in
			}
			if got := j.String(); got != want {
				t.Errorf("Parse(%q).String() = %q, want %q", tt.in, got, want)
			}
			again, err := jid.Parse(j.String())
			if err != nil || again != j {
				t.Errorf("Parse(%q) = %q, %v; want the same JID (idempotence)", j.String(), again, err)
			}
			built, err := jid.New(j.Local(), j.Domain(), j.Resource())
			if err != nil || built != j {
				t.Errorf("New(%+q) = %q, %v; want %q", tt.want, built, err, j)
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	tests := []struct {
		name string
		in   string
		errs []error // all must match with errors.Is
		msg  string  // the exact error message
	}{
		// RFC 7622 §3.5, examples of invalid JIDs.
		{"rfc quotes in local", `"juliet"@example.com`, []error{jid.ErrInvalidLocal},
			`jid "\"juliet\"@example.com": invalid localpart: character '"' (U+0022) is not allowed`},
		{"rfc space in local", "foo bar@example.com", []error{jid.ErrInvalidLocal},
			`jid "foo bar@example.com": invalid localpart: character ' ' (U+0020) is not allowed`},
		{"rfc empty resource", "juliet@example.com/", []error{jid.ErrEmptyResource, jid.ErrInvalidResource},
			`jid "juliet@example.com/": invalid resourcepart: there is nothing after "/"`},
		{"rfc empty local and resource", "@example.com/", []error{jid.ErrEmptyLocal, jid.ErrInvalidLocal},
			`jid "@example.com/": invalid localpart: there is nothing before "@"`},
		{"rfc compatibility character", "henryⅣ@example.com", []error{jid.ErrInvalidLocal},
			`jid "henryⅣ@example.com": invalid localpart: character 'Ⅳ' (U+2163) is not allowed`},
		{"rfc symbol in local", "♚@example.com", []error{jid.ErrInvalidLocal},
			`jid "♚@example.com": invalid localpart: character '♚' (U+265A) is not allowed`},
		{"rfc empty domain", "juliet@", []error{jid.ErrEmptyDomain, jid.ErrInvalidDomain},
			`jid "juliet@": invalid domainpart: the server name is missing (expected something like example.com)`},
		{"rfc empty domain before resource", "/foobar", []error{jid.ErrEmptyDomain, jid.ErrInvalidDomain},
			`jid "/foobar": invalid domainpart: the server name is missing (expected something like example.com)`},

		{"empty", "", []error{jid.ErrEmpty}, `jid "": address is empty`},
		{"only at", "@", []error{jid.ErrEmptyLocal}, `jid "@": invalid localpart: there is nothing before "@"`},
		{"only slash", "/", []error{jid.ErrEmptyDomain}, ""},
		{"only dot", ".", []error{jid.ErrEmptyDomain}, ""},
		{"empty local", "@example.com", []error{jid.ErrEmptyLocal}, ""},

		// Localpart (RFC 7622 §3.3.1 and PRECIS).
		{"prohibited ampersand", "a&b@example.com", []error{jid.ErrInvalidLocal},
			`jid "a&b@example.com": invalid localpart: character '&' (U+0026) is not allowed`},
		{"prohibited apostrophe", "o'hara@example.com", []error{jid.ErrInvalidLocal}, ""},
		{"prohibited colon", "a:b@example.com", []error{jid.ErrInvalidLocal}, ""},
		{"prohibited less than", "a<b@example.com", []error{jid.ErrInvalidLocal}, ""},
		{"prohibited greater than", "a>b@example.com", []error{jid.ErrInvalidLocal}, ""},
		{"fullwidth at maps to prohibited", "a＠b@example.com", []error{jid.ErrInvalidLocal},
			`jid "a＠b@example.com": invalid localpart: character '＠' (U+FF20) is not allowed`},
		{"fullwidth solidus maps to prohibited", "a／b@example.com", []error{jid.ErrInvalidLocal}, ""},
		{"control in local", "a\x01b@example.com", []error{jid.ErrInvalidLocal},
			`jid "a\x01b@example.com": invalid localpart: character '\x01' (U+0001) is not allowed`},
		{"delete in local", "a\x7fb@example.com", []error{jid.ErrInvalidLocal}, ""},
		{"tab in local", "a\tb@example.com", []error{jid.ErrInvalidLocal}, ""},
		{"no-break space in local", "a\u00a0b@example.com", []error{jid.ErrInvalidLocal}, ""},
		{"zero width joiner in local", "a\u200db@example.com", []error{jid.ErrInvalidLocal}, ""},
		{"mixed direction local", "aא1@example.com", []error{jid.ErrInvalidLocal},
			`jid "aא1@example.com": invalid localpart: it mixes right-to-left and left-to-right text in a way that is not allowed`},
		{"right-to-left local starting with a combining mark", "\u05b0א@example.com", []error{jid.ErrInvalidLocal},
			"jid \"\u05b0א@example.com\": invalid localpart: it cannot start with a combining mark (U+05B0)"},
		{"middle dot outside l·l", "a·b@example.com", []error{jid.ErrInvalidLocal}, ""},
		{"invalid utf-8 in local", "a\xffb@example.com", []error{jid.ErrInvalidLocal},
			`jid "a\xffb@example.com": invalid localpart: it is not valid UTF-8 text`},

		// Domainpart.
		{"space in domain", "a@exa mple.com", []error{jid.ErrInvalidDomain},
			`jid "a@exa mple.com": invalid domainpart: character ' ' (U+0020) is not allowed in a server name`},
		{"underscore in domain", "a@exa_mple.com", []error{jid.ErrInvalidDomain}, ""},
		{"second at goes to domain", "a@b@example.com", []error{jid.ErrInvalidDomain},
			`jid "a@b@example.com": invalid domainpart: character '@' (U+0040) is not allowed in a server name`},
		// x/net/idna (UTS #46) accepts these "NV8" code points, IDNA2008
		// does not.
		{"symbol in domain", "a@♚.example", []error{jid.ErrInvalidDomain},
			`jid "a@♚.example": invalid domainpart: character '♚' (U+265A) is not allowed in a server name`},
		{"emoji in domain", "a@i😀.example", []error{jid.ErrInvalidDomain}, ""},
		{"combining mark for symbols in domain", "a@x\u20d0.example", []error{jid.ErrInvalidDomain}, ""},
		{"middle dot outside l·l in domain", "a@a·b.example", []error{jid.ErrInvalidDomain}, ""},
		{"two trailing dots", "a@example.com..", []error{jid.ErrInvalidDomain},
			`jid "a@example.com..": invalid domainpart: it has an empty label (a dot at the start, or two dots in a row)`},
		{"leading dot", "a@.example.com", []error{jid.ErrInvalidDomain}, ""},
		{"double dot", "a@example..com", []error{jid.ErrInvalidDomain}, ""},
		{"leading hyphen", "a@-example.com", []error{jid.ErrInvalidDomain},
			`jid "a@-example.com": invalid domainpart: label "-example" must not start or end with "-"`},
		{"trailing hyphen", "a@example-.com", []error{jid.ErrInvalidDomain}, ""},
		{"hyphens in third and fourth position", "a@ab--cd.com", []error{jid.ErrInvalidDomain},
			`jid "a@ab--cd.com": invalid domainpart: label "ab--cd" must not have "--" in the third and fourth positions`},
		{"bad punycode", "a@xn--zz.com", []error{jid.ErrInvalidDomain},
			`jid "a@xn--zz.com": invalid domainpart: label "xn--zz" is not a valid internationalised (xn--) label`},
		{"a-label of ascii", "a@xn--abc-.com", []error{jid.ErrInvalidDomain}, ""},
		{"leading combining mark in domain", "a@\u0301x.com", []error{jid.ErrInvalidDomain}, ""},
		{"joiner in domain", "a@a\u200db.com", []error{jid.ErrInvalidDomain}, ""},
		{"mixed direction domain", "a@aא.com", []error{jid.ErrInvalidDomain}, ""},
		{"invalid utf-8 in domain", "a@exa\xffmple.com", []error{jid.ErrInvalidDomain}, ""},
		{"numeric top-level label", "a@256.1.1.1", []error{jid.ErrInvalidDomain},
			`jid "a@256.1.1.1": invalid domainpart: "256.1.1.1" is not a valid IPv4 address, and a server name cannot end in a number`},
		{"ipv4 with leading zero", "a@192.0.2.01", []error{jid.ErrInvalidDomain}, ""},
		{"ipv4 three parts", "a@192.0.2", []error{jid.ErrInvalidDomain}, ""},
		{"ipv6 without brackets", "a@2001:db8::1", []error{jid.ErrInvalidDomain}, ""},
		{"ipv6 missing bracket", "a@[2001:db8::1", []error{jid.ErrInvalidDomain},
			`jid "a@[2001:db8::1": invalid domainpart: an IPv6 address must be enclosed in "[" and "]"`},
		{"ipv6 garbage", "a@[2001:db8::zz]", []error{jid.ErrInvalidDomain},
			`jid "a@[2001:db8::zz]": invalid domainpart: "[2001:db8::zz]" is not a valid IPv6 address`},
		{"ipv4 in brackets", "a@[192.0.2.1]", []error{jid.ErrInvalidDomain}, ""},
		{"ipv6 with zone", "a@[fe80::1%25eth0]", []error{jid.ErrInvalidDomain}, ""},
		{"empty brackets", "a@[]", []error{jid.ErrInvalidDomain}, ""},

		// Resourcepart.
		{"control in resource", "a@example.com/a\x00b", []error{jid.ErrInvalidResource},
			`jid "a@example.com/a\x00b": invalid resourcepart: character '\x00' (U+0000) is not allowed`},
		{"newline in resource", "a@example.com/a\nb", []error{jid.ErrInvalidResource}, ""},
		{"non-ascii control in resource", "a@example.com/ä\u0085", []error{jid.ErrInvalidResource}, ""},
		{"unassigned in resource", "a@example.com/x\U000E0080", []error{jid.ErrInvalidResource}, ""},
		{"invalid utf-8 in resource", "a@example.com/\xff", []error{jid.ErrInvalidResource},
			`jid "a@example.com/\xff": invalid resourcepart: it is not valid UTF-8 text`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, err := jid.Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %q, want an error", tt.in, j)
			}
			if !j.IsZero() {
				t.Errorf("Parse(%q) returned %q with the error, want the zero JID", tt.in, j)
			}
			for _, want := range tt.errs {
				if !errors.Is(err, want) {
					t.Errorf("Parse(%q) error %q does not match %q", tt.in, err, want)
				}
			}
			if tt.msg != "" && err.Error() != tt.msg {
				t.Errorf("Parse(%q) error message\n got %s\nwant %s", tt.in, err, tt.msg)
			}
		})
	}
}

// TestErrorPartSentinels checks that every error names exactly one part:
// the localpart, domainpart and resourcepart sentinels never mix.
func TestErrorPartSentinels(t *testing.T) {
	tests := []struct {
		in   string
		part error
	}{
		{"a b@example.com", jid.ErrInvalidLocal},
		{"@example.com", jid.ErrInvalidLocal},
		{strings.Repeat("a", 1024) + "@example.com", jid.ErrInvalidLocal},
		{"a@exa mple.com", jid.ErrInvalidDomain},
		{"a@", jid.ErrInvalidDomain},
		{"a@" + strings.Repeat("a", 64) + ".com", jid.ErrInvalidDomain},
		{"a@example.com/\x00", jid.ErrInvalidResource},
		{"a@example.com/", jid.ErrInvalidResource},
		{"a@example.com/" + strings.Repeat("a", 1024), jid.ErrInvalidResource},
	}
	all := []error{jid.ErrInvalidLocal, jid.ErrInvalidDomain, jid.ErrInvalidResource, jid.ErrEmpty}
	for _, tt := range tests {
		_, err := jid.Parse(tt.in)
		for _, s := range all {
			if got, want := errors.Is(err, s), s == tt.part; got != want {
				t.Errorf("Parse(%.30q…): errors.Is(%v, %v) = %v, want %v", tt.in, err, s, got, want)
			}
		}
	}
}

func TestLengths(t *testing.T) {
	label63 := strings.Repeat("a", 63)
	// 16 labels of 63 bytes and 15 dots: exactly 1023 bytes.
	domain1023 := strings.Repeat(label63+".", 15) + label63
	// 15 labels of 63, one of 62, one of 1 and 16 dots: 1024 bytes.
	domain1024 := strings.Repeat(label63+".", 15) + strings.Repeat("b", 62) + ".c"
	if len(domain1023) != 1023 || len(domain1024) != 1024 {
		t.Fatalf("bad test data: %d, %d", len(domain1023), len(domain1024))
	}
	tests := []struct {
		name string
		in   string
		ok   bool
		part error // for failures: the part sentinel besides ErrTooLong
	}{
		{"local 1023", strings.Repeat("a", 1023) + "@example.com", true, nil},
		{"local 1024", strings.Repeat("a", 1024) + "@example.com", false, jid.ErrInvalidLocal},
		{"local 1023 two-byte", strings.Repeat("é", 511) + "a@example.com", true, nil},
		{"local 1024 two-byte", strings.Repeat("é", 512) + "@example.com", false, jid.ErrInvalidLocal},
		// Lengths count after normalisation: 1023 fullwidth letters are
		// 3069 bytes of input but 1023 bytes once width-mapped.
		{"local 1023 after width mapping", strings.Repeat("ａ", 1023) + "@example.com", true, nil},
		{"local 1024 after width mapping", strings.Repeat("ａ", 1024) + "@example.com", false, jid.ErrInvalidLocal},
		{"local huge", strings.Repeat("a", 1<<20) + "@example.com", false, jid.ErrInvalidLocal},
		{"resource 1023", "a@example.com/" + strings.Repeat("r", 1023), true, nil},
		{"resource 1024", "a@example.com/" + strings.Repeat("r", 1024), false, jid.ErrInvalidResource},
		{"resource 1023 with spaces", "a@example.com/" + strings.Repeat("\u3000", 1023), true, nil},
		{"resource 1024 with spaces", "a@example.com/" + strings.Repeat("\u3000", 1024), false, jid.ErrInvalidResource},
		{"resource huge", "a@example.com/" + strings.Repeat("ü", 1<<20), false, jid.ErrInvalidResource},
		{"domain 1023", "a@" + domain1023, true, nil},
		{"domain 1023 plus trailing dot", "a@" + domain1023 + ".", true, nil},
		{"domain 1024", "a@" + domain1024, false, jid.ErrInvalidDomain},
		{"domain 1024 uppercase", "a@" + strings.ToUpper(domain1024), false, jid.ErrInvalidDomain},
		{"label 63", "a@" + label63 + ".com", true, nil},
		{"label 64", "a@" + label63 + "a.com", false, jid.ErrInvalidDomain},
		{"label 64 uppercase", "a@" + strings.ToUpper(label63) + "A.com", false, jid.ErrInvalidDomain},
		// The 63-byte limit is on the A-label: this 62-byte U-label has a
		// 96-byte A-label.
		{"idn label too long as a-label", "a@αβγδεζηθικλμνξοπρστυφχψωабвгдежзийклмнопрстуфхцчшщъыьэюя.com", false, jid.ErrInvalidDomain},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, err := jid.Parse(tt.in)
			if tt.ok {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if again, err := jid.Parse(j.String()); err != nil || again != j {
					t.Errorf("Parse(String()) = %v, %v; want the same JID", again, err)
				}
				return
			}
			if !errors.Is(err, jid.ErrTooLong) || !errors.Is(err, tt.part) {
				t.Fatalf("Parse error = %v, want %v and %v", err, jid.ErrTooLong, tt.part)
			}
			if len(err.Error()) > 300 {
				t.Errorf("error message is %d bytes long, want the input truncated", len(err.Error()))
			}
		})
	}
}

func TestEquivalence(t *testing.T) {
	tests := []struct {
		a, b  string
		equal bool
	}{
		{"juliet@example.com", "JULIET@EXAMPLE.COM", true},
		{"juliet@example.com/balcony", "juliet@example.com/Balcony", false},
		{"Σ@example.com", "σ@example.com", true},
		{"σ@example.com", "ς@example.com", false},
		{"fussball@example.com", "fußball@example.com", false},
		{"juliet@bücher.example", "juliet@xn--bcher-kva.example", true},
		{"juliet@example.com", "juliet@example.com.", true},
		{"juliet@example.com", "ｊｕｌｉｅｔ@ｅｘａｍｐｌｅ．ｃｏｍ", true},
		{"é@example.com", "e\u0301@example.com", true},
		{"[::1]", "[0:0:0:0:0:0:0:1]", true},
		{"juliet@example.com", "juliet@example.com/r", false},
	}
	for _, tt := range tests {
		a, b := jid.MustParse(tt.a), jid.MustParse(tt.b)
		if got := a.Equal(b); got != tt.equal {
			t.Errorf("%q.Equal(%q) = %v, want %v", tt.a, tt.b, got, tt.equal)
		}
		if got := a == b; got != tt.equal {
			t.Errorf("%q == %q is %v, want %v", tt.a, tt.b, got, tt.equal)
		}
	}
}

func TestNew(t *testing.T) {
	valid := []struct {
		local, domain, resource string
		want                    string
	}{
		{"juliet", "example.com", "balcony", "juliet@example.com/balcony"},
		{"Juliet", "Example.COM.", "Balcony", "juliet@example.com/Balcony"},
		{"", "example.com", "", "example.com"},
		{"", "example.com", "r", "example.com/r"},
		{"juliet", "example.com", "", "juliet@example.com"},
		{"", "xn--bcher-kva.example", "", "bücher.example"},
		{"x", "[2001:DB8::1]", "a/b@c", "x@[2001:db8::1]/a/b@c"},
	}
	for _, tt := range valid {
		j, err := jid.New(tt.local, tt.domain, tt.resource)
		if err != nil {
			t.Errorf("New(%q, %q, %q): %v", tt.local, tt.domain, tt.resource, err)
			continue
		}
		if j.String() != tt.want {
			t.Errorf("New(%q, %q, %q) = %q, want %q", tt.local, tt.domain, tt.resource, j, tt.want)
		}
		if p := jid.MustParse(tt.want); p != j {
			t.Errorf("New(%q, %q, %q) = %+v, Parse(%q) = %+v; want equal", tt.local, tt.domain, tt.resource, j, tt.want, p)
		}
	}

	invalid := []struct {
		local, domain, resource string
		want                    error
		msg                     string
	}{
		{"a@b", "example.com", "", jid.ErrInvalidLocal,
			`jid "a@b@example.com": invalid localpart: character '@' (U+0040) is not allowed`},
		{"a/b", "example.com", "", jid.ErrInvalidLocal, ""},
		{"juliet", "", "", jid.ErrEmptyDomain,
			`jid "juliet@": invalid domainpart: the server name is missing (expected something like example.com)`},
		{"", "", "", jid.ErrEmptyDomain, ""},
		{"", "example.com/r", "", jid.ErrInvalidDomain, ""},
		{"", "a@example.com", "", jid.ErrInvalidDomain, ""},
		{"", "example.com", "\x00", jid.ErrInvalidResource, ""},
		{"", "example.com", strings.Repeat("r", 1024), jid.ErrTooLong, ""},
	}
	for _, tt := range invalid {
		j, err := jid.New(tt.local, tt.domain, tt.resource)
		if !errors.Is(err, tt.want) {
			t.Errorf("New(%q, %q, %.20q) = %q, %v; want error %v", tt.local, tt.domain, tt.resource, j, err, tt.want)
			continue
		}
		if tt.msg != "" && err.Error() != tt.msg {
			t.Errorf("New(%q, %q, %q) error message\n got %s\nwant %s", tt.local, tt.domain, tt.resource, err, tt.msg)
		}
	}
}

func TestMethods(t *testing.T) {
	full := jid.MustParse("juliet@example.com/balcony")
	bare := jid.MustParse("juliet@example.com")
	domain := jid.MustParse("example.com")

	if got := full.Bare(); got != bare {
		t.Errorf("Bare() = %q, want %q", got, bare)
	}
	if got := full.Domainpart(); got != domain {
		t.Errorf("Domainpart() = %q, want %q", got, domain)
	}
	if got := domain.Bare(); got != domain {
		t.Errorf("domain Bare() = %q, want itself", got)
	}
	if full.IsBare() || !bare.IsBare() || !domain.IsBare() || (jid.JID{}).IsBare() {
		t.Errorf("IsBare: full %v, bare %v, domain %v, zero %v; want false, true, true, false",
			full.IsBare(), bare.IsBare(), domain.IsBare(), (jid.JID{}).IsBare())
	}
	if full.IsZero() || !(jid.JID{}).IsZero() {
		t.Error("IsZero is wrong")
	}
	var zero jid.JID
	if zero.String() != "" || zero.Local() != "" || zero.Domain() != "" || zero.Resource() != "" {
		t.Errorf("zero JID has content: %q", zero)
	}
	if !zero.Bare().IsZero() || !zero.Domainpart().IsZero() {
		t.Error("Bare/Domainpart of the zero JID are not zero")
	}

	// WithResource enforces the resource like Parse does.
	r, err := bare.WithResource("Orchard\u3000Wall")
	if err != nil {
		t.Fatalf("WithResource: %v", err)
	}
	if r.String() != "juliet@example.com/Orchard Wall" || r.Bare() != bare {
		t.Errorf("WithResource = %q, want juliet@example.com/Orchard Wall", r)
	}
	if r, err := full.WithResource("other"); err != nil || r.String() != "juliet@example.com/other" {
		t.Errorf("WithResource replacing = %q, %v", r, err)
	}
	if r, err := full.WithResource(""); err != nil || r != bare {
		t.Errorf(`WithResource("") = %q, %v; want the bare JID`, r, err)
	}
	if r, err := domain.WithResource("x"); err != nil || r.String() != "example.com/x" {
		t.Errorf("domain WithResource = %q, %v", r, err)
	}
	if _, err := bare.WithResource("bad\x00"); !errors.Is(err, jid.ErrInvalidResource) {
		t.Errorf("WithResource(control) error = %v, want %v", err, jid.ErrInvalidResource)
	}
	if _, err := zero.WithResource("x"); !errors.Is(err, jid.ErrEmptyDomain) {
		t.Errorf("zero WithResource error = %v, want %v", err, jid.ErrEmptyDomain)
	}
	// A JID is a value: WithResource does not modify the receiver.
	if full.Resource() != "balcony" {
		t.Errorf("receiver modified: %q", full)
	}
}

func TestMustParse(t *testing.T) {
	if got := jid.MustParse("Juliet@Example.com").String(); got != "juliet@example.com" {
		t.Errorf("MustParse = %q", got)
	}
	defer func() {
		r := recover()
		err, ok := r.(error)
		if !ok || !errors.Is(err, jid.ErrInvalidLocal) {
			t.Errorf("MustParse panicked with %v, want an error wrapping %v", r, jid.ErrInvalidLocal)
		}
	}()
	jid.MustParse("a b@example.com")
	t.Error("MustParse did not panic")
}

func TestText(t *testing.T) {
	type config struct {
		Account jid.JID `json:"account"`
		Peer    jid.JID `json:"peer"`
	}
	in := config{Account: jid.MustParse("juliet@bücher.example/balcony")}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"account":"juliet@bücher.example/balcony","peer":""}` {
		t.Errorf("json = %s", b)
	}
	var out config
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out != in {
		t.Errorf("round trip = %+v, want %+v", out, in)
	}

	var j jid.JID
	if err := j.UnmarshalText([]byte("Romeo@Example.NET")); err != nil || j.String() != "romeo@example.net" {
		t.Errorf("UnmarshalText = %q, %v", j, err)
	}
	if err := j.UnmarshalText([]byte("a b@example.net")); !errors.Is(err, jid.ErrInvalidLocal) {
		t.Errorf("UnmarshalText(invalid) error = %v", err)
	}
	if j.String() != "romeo@example.net" {
		t.Errorf("UnmarshalText error changed the JID to %q", j)
	}
	if err := j.UnmarshalText(nil); err != nil || !j.IsZero() {
		t.Errorf("UnmarshalText(empty) = %q, %v; want the zero JID", j, err)
	}
	if err := json.Unmarshal([]byte(`{"account":"@x"}`), &out); !errors.Is(err, jid.ErrEmptyLocal) {
		t.Errorf("json.Unmarshal(invalid) error = %v, want %v", err, jid.ErrEmptyLocal)
	}
}

func TestXMLAttr(t *testing.T) {
	type message struct {
		XMLName xml.Name `xml:"message"`
		From    jid.JID  `xml:"from,attr"`
		To      jid.JID  `xml:"to,attr"`
	}
	m := message{To: jid.MustParse("romeo@example.net/orchard")}
	b, err := xml.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	// The zero From is omitted rather than written as from="".
	if want := `<message to="romeo@example.net/orchard"></message>`; string(b) != want {
		t.Errorf("xml = %s, want %s", b, want)
	}

	var got message
	if err := xml.Unmarshal([]byte(`<message from="Juliet@Example.COM/Balcony" to="romeo@example.net"/>`), &got); err != nil {
		t.Fatal(err)
	}
	if got.From.String() != "juliet@example.com/Balcony" || got.To.String() != "romeo@example.net" {
		t.Errorf("unmarshalled from=%q to=%q", got.From, got.To)
	}

	for _, bad := range []struct {
		doc  string
		want error
	}{
		{`<message to="a b@example.net"/>`, jid.ErrInvalidLocal},
		{`<message to=""/>`, jid.ErrEmpty},
		{`<message to="romeo@example.net/"/>`, jid.ErrEmptyResource},
	} {
		var m message
		if err := xml.Unmarshal([]byte(bad.doc), &m); !errors.Is(err, bad.want) {
			t.Errorf("xml.Unmarshal(%s) error = %v, want %v", bad.doc, err, bad.want)
		}
	}

	attr, err := jid.MustParse("example.com").MarshalXMLAttr(xml.Name{Local: "to"})
	if err != nil || attr.Name.Local != "to" || attr.Value != "example.com" {
		t.Errorf("MarshalXMLAttr = %+v, %v", attr, err)
	}
}

func TestErrorTruncatesInput(t *testing.T) {
	in := strings.Repeat("ü", 500) + " @example.com"
	_, err := jid.Parse(in)
	if !errors.Is(err, jid.ErrInvalidLocal) {
		t.Fatalf("error = %v, want %v", err, jid.ErrInvalidLocal)
	}
	msg := err.Error()
	if len(msg) > 200 || !strings.Contains(msg, "…") {
		t.Errorf("message not truncated (%d bytes): %s", len(msg), msg)
	}
	if !strings.HasSuffix(msg, "invalid localpart: character ' ' (U+0020) is not allowed") {
		t.Errorf("message = %s", msg)
	}
}

func TestParseCanonicalASCIIDoesNotAllocate(t *testing.T) {
	for _, s := range []string{
		"juliet@example.com/balcony",
		"juliet@example.com",
		"conference.example.com",
		"room@conference.example.com/Nick Name",
		"juliet@192.0.2.1/r",
		"juliet@[2001:db8::1]/r",
	} {
		n := testing.AllocsPerRun(100, func() {
			if _, err := jid.Parse(s); err != nil {
				t.Fatal(err)
			}
		})
		if n != 0 {
			t.Errorf("Parse(%q) allocates %v times, want 0", s, n)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	for _, bm := range []struct{ name, in string }{
		{"canonical-full", "juliet@example.com/balcony"},
		{"canonical-bare", "juliet@example.com"},
		{"canonical-domain", "conference.example.com"},
		{"uppercase", "Juliet@Example.COM/Balcony"},
		{"idn", "Jüliet@bücher.example/Balcony"},
		{"a-label", "juliet@xn--bcher-kva.example/balcony"},
		{"ipv6", "juliet@[2001:db8::1]/balcony"},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := jid.Parse(bm.in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkString(b *testing.B) {
	j := jid.MustParse("juliet@example.com/balcony")
	b.ReportAllocs()
	for b.Loop() {
		_ = j.String()
	}
}

// TestParseConcurrent parses from several goroutines at once; run with
// -race it checks that the shared, read-only profiles are safe to share.
func TestParseConcurrent(t *testing.T) {
	inputs := []string{"Juliet@Example.COM/Balcony", "Σ@bücher.example/♚", "ｊｕｌｉｅｔ@例え。テスト", "a b@example.com", "x@a♚.example"}
	want := make([]string, len(inputs))
	for i, s := range inputs {
		j, err := jid.Parse(s)
		want[i] = j.String() + "|" + errString(err)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8*len(inputs))
	for range 8 {
		wg.Go(func() {
			for i, s := range inputs {
				j, err := jid.Parse(s)
				if got := j.String() + "|" + errString(err); got != want[i] {
					errs <- got
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("concurrent Parse gave %q", e)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
