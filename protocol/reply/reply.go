// Package reply implements XEP-0461 Message Replies (version 0.2.1): a
// <reply to='…' id='…'/> element saying which earlier message a message
// answers, with the XEP-0428 Fallback Indication (version 0.2.0) that marks
// the quote a sender puts in the body for clients that do not support
// replies.
//
// # Fallback offsets
//
// A <fallback for='urn:xmpp:reply:0'><body start='…' end='…'/></fallback>
// element marks the half-open range [start, end) of the body that is the
// quote. Offsets count Unicode code points (XEP-0426), not bytes and not
// UTF-16 units, so they must never be used to slice a Go string directly.
// [StripFallback] converts them, clamps offsets that are out of range, and
// ignores ranges that make no sense; it never panics. A client shows the
// stripped body next to the referenced message when it has it, and the
// full body (quote included) when it does not (§3.1).
//
// # Which id
//
// For a group chat message the 'id' is the room's XEP-0359 stanza-id; for
// other messages the origin-id when present, else the message 'id' (§4.1).
package reply

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
)

// Namespaces.
const (
	// NS is the XEP-0461 namespace and disco#info feature.
	NS = "urn:xmpp:reply:0"
	// NSFallback is the XEP-0428 Fallback Indication namespace.
	NSFallback = "urn:xmpp:fallback:0"
)

// Limits on what a peer may send.
const (
	// MaxID is the longest message id a reply may refer to, in bytes.
	MaxID = 256
	// MaxRanges is how many fallback ranges StripFallback considers; more
	// are ignored.
	MaxRanges = 16
)

var (
	// ErrMalformed is returned for a <reply/> without a usable id.
	ErrMalformed = errors.New("reply: malformed reply element")
	// ErrNotFound is returned by Parse for a message that is not a reply.
	ErrNotFound = errors.New("reply: not a reply")
)

// Reply is a <reply/> element.
type Reply struct {
	// To is the author of the referenced message: a full JID (an
	// occupant JID in a room), or a bare JID in a one-to-one chat. Zero
	// when absent (it is only RECOMMENDED) or invalid.
	To jid.JID
	// ID is the id of the referenced message.
	ID string
}

// Element returns r as a <reply/> element.
func (r Reply) Element() *xmlstream.Element {
	e := xmlstream.New(NS, "reply")
	if !r.To.IsZero() {
		e.Set("to", r.To.String())
	}
	return e.Set("id", r.ID)
}

// Parse returns the reply msg carries: ErrNotFound when it has none (or is
// of type 'error'), ErrMalformed when its id is empty or longer than MaxID.
func Parse(msg *xmlstream.Element) (Reply, error) {
	el := msg.Child(NS, "reply")
	if el == nil || msg.Get("type") == "error" {
		return Reply{}, ErrNotFound
	}
	r := Reply{ID: el.Get("id")}
	if r.ID == "" || len(r.ID) > MaxID {
		return Reply{}, fmt.Errorf("%w: id", ErrMalformed)
	}
	if s := el.Get("to"); s != "" {
		r.To, _ = jid.Parse(s) // zero when invalid: the id is what matters
	}
	return r, nil
}

// Range is a half-open range [Start, End) of Unicode code points.
type Range struct {
	// Start is the first code point in the range, End the one after the
	// last.
	Start, End int
}

// Fallback builds the body of a reply that quotes the referenced message
// for clients without XEP-0461 support, and the <fallback/> element that
// marks the quote: every line of quote prefixed with "> " (XEP-0393 block
// quote), then text. The range covers the quote and its final line break.
// With an empty quote the body is text and the fallback nil.
func Fallback(quote, text string) (body string, fallback *xmlstream.Element) {
	if quote == "" {
		return text, nil
	}
	var b strings.Builder
	for line := range strings.Lines(quote) {
		b.WriteString("> ")
		b.WriteString(line)
	}
	if !strings.HasSuffix(quote, "\n") {
		b.WriteByte('\n')
	}
	end := utf8.RuneCountInString(b.String())
	b.WriteString(text)
	fb := xmlstream.New(NSFallback, "fallback", "for", NS).Append(
		xmlstream.New(NSFallback, "body", "start", "0", "end", strconv.Itoa(end)))
	return b.String(), fb
}

// FallbackRanges returns the ranges of the body that msg's XEP-0428
// <fallback for='urn:xmpp:reply:0'/> elements mark as reply fallback,
// as code point offsets in a body of bodyLen code points. Offsets are
// clamped to [0, bodyLen]; a <body/> without offsets (or a <fallback/>
// without children, which XEP-0428 applies to every body) covers the whole
// body; a range with only one offset, a non-numeric offset or start > end
// is ignored. At most MaxRanges ranges are returned.
func FallbackRanges(msg *xmlstream.Element, bodyLen int) []Range {
	if msg == nil || bodyLen <= 0 {
		return nil
	}
	var out []Range
	for _, fb := range msg.Children {
		if !fb.Is(NSFallback, "fallback") || fb.Get("for") != NS {
			continue
		}
		hasRegions := false
		for _, c := range fb.Children {
			if c.Name.Space != NSFallback || (c.Name.Local != "body" && c.Name.Local != "subject") {
				continue
			}
			hasRegions = true
			if c.Name.Local != "body" {
				continue
			}
			if r, ok := region(c, bodyLen); ok && len(out) < MaxRanges {
				out = append(out, r)
			}
		}
		if !hasRegions && len(out) < MaxRanges {
			out = append(out, Range{0, bodyLen})
		}
	}
	return out
}

// region reads a <body start='…' end='…'/> region of a body of n code
// points.
func region(c *xmlstream.Element, n int) (Range, bool) {
	s, hasStart := c.Lookup("start")
	e, hasEnd := c.Lookup("end")
	if !hasStart && !hasEnd {
		return Range{0, n}, true
	}
	if !hasStart || !hasEnd {
		return Range{}, false
	}
	start, ok1 := offset(s, n)
	end, ok2 := offset(e, n)
	if !ok1 || !ok2 || start > end {
		return Range{}, false
	}
	return Range{start, end}, true
}

// offset parses a non-negative code point offset and clamps it to n.
// Offsets too large for an int are clamped too.
func offset(s string, n int) (int, bool) {
	s = strings.TrimSpace(s)
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	v, err := strconv.Atoi(s)
	if err != nil || v > n {
		return n, true // all digits: only too large
	}
	return v, true
}

// StripFallback returns body without the code point ranges that msg marks
// as reply fallback (see FallbackRanges). Overlapping ranges are merged. A
// body with no fallback is returned unchanged.
func StripFallback(msg *xmlstream.Element, body string) string {
	n := utf8.RuneCountInString(body)
	ranges := FallbackRanges(msg, n)
	if len(ranges) == 0 {
		return body
	}
	drop := make([]bool, n)
	for _, r := range ranges {
		for i := r.Start; i < r.End; i++ {
			drop[i] = true
		}
	}
	var b strings.Builder
	b.Grow(len(body))
	for i, pos := 0, 0; pos < len(body); i++ {
		_, size := utf8.DecodeRuneInString(body[pos:])
		if !drop[i] {
			b.WriteString(body[pos : pos+size])
		}
		pos += size
	}
	return b.String()
}
