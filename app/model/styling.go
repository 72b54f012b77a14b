package model

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Message styling (XEP-0393): a body is parsed into lines (blocks first:
// preformatted blocks and quotations, recursively; then spans inside each
// plain line). The styling directives stay in the text, as §6 recommends
// ("*emphasis*" is shown as "*emphasis*", in bold), so joining a line's
// Prefix and its spans' texts gives back the line of the body exactly.
// Links (http, https, xmpp, mailto) are found in the text of the spans.

// Style is a set of XEP-0393 span styles.
type Style uint8

// The span styles.
const (
	StyleStrong   Style = 1 << iota // *strong*: bold
	StyleEmphasis                   // _emphasis_: italic
	StyleStrike                     // ~strike~: struck through
	StyleMono                       // `pre` span or a preformatted block line: monospace
)

// Span is a run of text of one style on one line.
type Span struct {
	Text  string
	Style Style
	// Link is the URL the span stands for ("" when it is not a link); the
	// span's text is the URL as written.
	Link string
}

// Line is one line of a styled body.
type Line struct {
	// Quote is the depth of block quotation (0 for none).
	Quote int
	// Pre reports a line of a preformatted block, its fences included.
	Pre bool
	// Prefix is the quotation markup the line starts with (for example
	// "> "), not shown as text.
	Prefix string
	// Spans are the line's text; an empty line has none.
	Spans []Span
}

// Text returns the line's text without its prefix.
func (l Line) Text() string {
	var b strings.Builder
	for _, s := range l.Spans {
		b.WriteString(s.Text)
	}
	return b.String()
}

// maxQuoteDepth bounds the nesting of quotations the parser follows; deeper
// levels are shown as text (a peer controls the input).
const maxQuoteDepth = 16

// ParseStyling parses a message body with XEP-0393 message styling.
func ParseStyling(body string) []Line {
	return parseBlocks(strings.Split(body, "\n"), 0, nil)
}

// Plain returns the body as unstyled lines (for a message marked
// <unstyled/>, or text that must not be styled), with its links found.
func Plain(body string) []Line {
	var out []Line
	for _, l := range strings.Split(body, "\n") {
		out = append(out, Line{Spans: links(nil, Span{Text: l})})
	}
	return out
}

// parseBlocks parses lines at quotation depth, appending to out.
func parseBlocks(lines []string, depth int, out []Line) []Line {
	for i := 0; i < len(lines); {
		l := lines[i]
		switch {
		case strings.HasPrefix(l, "```"):
			// A preformatted block runs to a line of exactly three grave
			// accents or the end of the parent block (§5.1.2).
			out = append(out, preLine(depth, l))
			i++
			for i < len(lines) {
				out = append(out, preLine(depth, lines[i]))
				i++
				if lines[i-1] == "```" {
					break
				}
			}
		case strings.HasPrefix(l, ">") && depth < maxQuoteDepth:
			// A quotation is the run of lines starting with '>'; each loses
			// the '>' and its first leading white space (§5.1.3).
			j := i
			var inner, prefixes []string
			for j < len(lines) && strings.HasPrefix(lines[j], ">") {
				rest := lines[j][1:]
				p := ">"
				if r, n := utf8.DecodeRuneInString(rest); n > 0 && isSpace(r) {
					rest, p = rest[n:], lines[j][:1+n]
				}
				inner = append(inner, rest)
				prefixes = append(prefixes, p)
				j++
			}
			start := len(out)
			out = parseBlocks(inner, depth+1, out)
			for k := range inner {
				out[start+k].Prefix = prefixes[k] + out[start+k].Prefix
			}
			i = j
		default:
			out = append(out, Line{Quote: depth, Spans: parseSpans(l, 0, nil)})
			i++
		}
	}
	return out
}

// preLine is a line of a preformatted block.
func preLine(depth int, text string) Line {
	l := Line{Quote: depth, Pre: true}
	if text != "" {
		l.Spans = []Span{{Text: text, Style: StyleMono}}
	}
	return l
}

// directive returns the style of a span directive character.
func directive(c byte) (Style, bool) {
	switch c {
	case '*':
		return StyleStrong, true
	case '_':
		return StyleEmphasis, true
	case '~':
		return StyleStrike, true
	case '`':
		return StyleMono, true
	}
	return 0, false
}

// isSpace reports a white space character (Unicode White_Space or category
// Z, §3).
func isSpace(r rune) bool { return unicode.IsSpace(r) || unicode.In(r, unicode.Z) }

// parseSpans parses the spans of s (a line, or the inside of a span) in
// style base, appending them to out (§5.2).
func parseSpans(s string, base Style, out []Span) []Span {
	var next *closers
	plain := 0
	for i := 0; i < len(s); i++ {
		st, ok := directive(s[i])
		if !ok || !canOpen(s, i) {
			continue
		}
		if next == nil {
			next = newClosers(s)
		}
		j := next.closing(s, i)
		if j < 0 {
			continue
		}
		out = links(out, Span{Text: s[plain:i], Style: base})
		if st == StyleMono {
			// A preformatted span holds one plain span (§5.2.5).
			out = append(out, Span{Text: s[i : j+1], Style: base | st})
		} else {
			out = append(out, Span{Text: s[i : i+1], Style: base | st})
			out = parseSpans(s[i+1:j], base|st, out)
			out = append(out, Span{Text: s[j : j+1], Style: base | st})
		}
		i = j
		plain = j + 1
	}
	return links(out, Span{Text: s[plain:], Style: base})
}

// canOpen reports whether the directive at s[i] may open a span: at the
// start, after white space or after another kind of directive, and not
// followed by white space (§5.2).
func canOpen(s string, i int) bool {
	if i > 0 {
		r, _ := utf8.DecodeLastRuneInString(s[:i])
		if _, dir := directive(s[i-1]); !isSpace(r) && (!dir || s[i-1] == s[i]) {
			return false
		}
	}
	r, n := utf8.DecodeRuneInString(s[i+1:])
	return n > 0 && !isSpace(r)
}

// directives are the span directive characters.
const directives = "*_~`"

// closers finds closing directives in linear time: next[k][p] is the
// first index >= p of a directive directives[k] that is not preceded by
// white space (len(s) when none).
type closers struct{ next [len(directives)][]int32 }

func newClosers(s string) *closers {
	c := &closers{}
	for k := range directives {
		c.next[k] = make([]int32, len(s)+1)
		c.next[k][len(s)] = int32(len(s))
	}
	for p := len(s) - 1; p >= 0; p-- {
		for k := range directives {
			c.next[k][p] = c.next[k][p+1]
		}
		if k := strings.IndexByte(directives, s[p]); k >= 0 && p > 0 {
			if r, _ := utf8.DecodeLastRuneInString(s[:p]); !isSpace(r) {
				c.next[k][p] = int32(p)
			}
		}
	}
	return c
}

// closing returns the index of the directive closing the span opened at
// s[i] — the first one not preceded by white space with some text other
// than directives of its kind in between (lazy matching) — or -1.
func (c *closers) closing(s string, i int) int {
	k := strings.IndexByte(directives, s[i])
	// The text between must not be only this directive: skip the run of
	// it that follows the opening one.
	p := i + 1
	for p < len(s) && s[p] == s[i] {
		p++
	}
	if p >= len(s) {
		return -1
	}
	// s[p] is text, so the closer comes after it.
	j := int(c.next[k][p])
	if j >= len(s) {
		return -1
	}
	return j
}

// linkSchemes start the links found in text.
var linkSchemes = []string{"https://", "http://", "xmpp:", "mailto:"}

// links appends sp to out, split into link and non-link spans. A link
// starts with a scheme at the start of a word (or after an opening bracket
// or quote) and runs to the next white space, without trailing
// punctuation.
func links(out []Span, sp Span) []Span {
	s := sp.Text
	if s == "" {
		return out
	}
	if sp.Style&StyleMono != 0 {
		return append(out, sp)
	}
	plain := 0
	boundary := true // s[i] starts a word
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if boundary {
			if end := linkEnd(s, i); end > i {
				if plain < i {
					out = append(out, Span{Text: s[plain:i], Style: sp.Style})
				}
				out = append(out, Span{Text: s[i:end], Style: sp.Style, Link: s[i:end]})
				i, plain = end, end
				boundary = false
				continue
			}
		}
		boundary = isSpace(r) || strings.ContainsRune("([<\"'", r)
		i += n
	}
	if plain < len(s) {
		out = append(out, Span{Text: s[plain:], Style: sp.Style})
	}
	return out
}

// linkEnd returns the end of a link starting at s[i], or i when none does.
func linkEnd(s string, i int) int {
	for _, p := range linkSchemes {
		if len(s)-i < len(p) || !strings.EqualFold(s[i:i+len(p)], p) {
			continue
		}
		end := i + len(p)
		for end < len(s) {
			r, n := utf8.DecodeRuneInString(s[end:])
			if isSpace(r) {
				break
			}
			end += n
		}
		for end > i+len(p) && strings.IndexByte(".,;:!?)]>\"'", s[end-1]) >= 0 {
			end--
		}
		if end > i+len(p) {
			return end
		}
		return i
	}
	return i
}
