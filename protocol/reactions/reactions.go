// Package reactions implements XEP-0444 Message Reactions (version 0.2.1):
// a <reactions id='…'/> element listing the emoji a user reacts to a
// message with.
//
// # Semantics
//
// A <reactions/> element is the sender's complete, current set of reactions
// to the message (§3.2): it replaces whatever that sender reacted with
// before, and an empty one removes them all. The engine therefore stores
// reactions per (message, sender) and overwrites the set on each update;
// a delayed update (one with a XEP-0203 <delay/>) is applied only if no
// newer one from that sender was applied already (§4.1).
//
// # Who may react, and to which id
//
// In a one-to-one chat only the two parties may react ([Acceptable], §4.1).
// In a room the sender is identified by the real bare JID or XEP-0421
// occupant-id, tracked by the engine. The 'id' is the original's
// origin-id or message id in a one-to-one chat, and the room's XEP-0359
// stanza-id for a group chat message (§4.2: group chat messages without
// one cannot be reacted to); a reaction referring to a correction applies
// to the corrected original.
package reactions

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/stanza"
)

// Namespaces.
const (
	// NS is the XEP-0444 namespace and disco#info feature.
	NS = "urn:xmpp:reactions:0"
	// NSHints is the XEP-0334 Message Processing Hints namespace: a
	// reaction carries a <store/> hint (§4).
	NSHints = "urn:xmpp:hints"
)

// Limits on what a peer may send.
const (
	// MaxReactions is the largest number of distinct reactions one sender
	// may attach to one message.
	MaxReactions = 32
	// MaxID is the longest message id a reaction may refer to, in bytes.
	MaxID = 256
	// maxEmojiBytes and maxEmojiRunes bound one reaction. The longest
	// emoji sequences in Unicode 15 (a kiss with two skin tones, a
	// subdivision flag) have 10 code points and 35 bytes.
	maxEmojiBytes = 64
	maxEmojiRunes = 16
)

var (
	// ErrMalformed is returned for a <reactions/> element that is
	// invalid as a whole: no usable id, more than MaxReactions
	// reactions, or more than one <reactions/> in a message (§4).
	ErrMalformed = errors.New("reactions: malformed reactions")
	// ErrNotFound is returned by Parse for a message without reactions.
	ErrNotFound = errors.New("reactions: no reactions")
)

// Reactions is a sender's set of reactions to the message with ID.
type Reactions struct {
	// ID is the id of the message reacted to (see the package
	// documentation for which id).
	ID string
	// Emoji are the reactions, each one emoji, without duplicates, in the
	// sender's order. Empty means "no reactions any more".
	Emoji []string
}

// Parse returns the reactions msg carries. Reactions that are not a single
// emoji (see Valid) and repeated ones are dropped, as §4 allows; the text
// of each is trimmed of surrounding whitespace first. A message of type
// 'error' carries no reactions (its payload echoes what we sent).
func Parse(msg *xmlstream.Element) (Reactions, error) {
	if msg.Get("type") == "error" {
		return Reactions{}, ErrNotFound
	}
	var el *xmlstream.Element
	for _, c := range msg.Children {
		if !c.Is(NS, "reactions") {
			continue
		}
		if el != nil {
			return Reactions{}, fmt.Errorf("%w: more than one <reactions/>", ErrMalformed)
		}
		el = c
	}
	if el == nil {
		return Reactions{}, ErrNotFound
	}
	r := Reactions{ID: el.Get("id")}
	if r.ID == "" || len(r.ID) > MaxID {
		return Reactions{}, fmt.Errorf("%w: id", ErrMalformed)
	}
	for _, c := range el.Children {
		if !c.Is(NS, "reaction") {
			continue
		}
		e := strings.TrimSpace(c.Text)
		if !Valid(e) || contains(r.Emoji, e) {
			continue
		}
		if len(r.Emoji) == MaxReactions {
			return Reactions{}, fmt.Errorf("%w: more than %d reactions", ErrMalformed, MaxReactions)
		}
		r.Emoji = append(r.Emoji, e)
	}
	return r, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Element returns r as a <reactions/> element.
func (r Reactions) Element() *xmlstream.Element {
	e := xmlstream.New(NS, "reactions", "id", r.ID)
	for _, emoji := range r.Emoji {
		e.Append(xmlstream.New(NS, "reaction").SetText(emoji))
	}
	return e
}

// Message returns a message carrying r, addressed to `to`, with a <store/>
// hint so that archives keep it (§4; leave the hint out, by building the
// message yourself, when the reacted-to message had <no-store/>). msgType
// is "chat" or "groupchat" (§4); id is the new message's own id.
func Message(to jid.JID, msgType, id string, r Reactions) *xmlstream.Element {
	msg := xmlstream.New(stanza.NSClient, stanza.Message)
	if !to.IsZero() {
		msg.Set("to", to.String())
	}
	msg.Set("id", id)
	msg.Set("type", msgType)
	return msg.Append(r.Element(), xmlstream.New(NSHints, "store"))
}

// Acceptable reports whether, in a one-to-one chat between self and peer,
// a reaction from sender may be accepted: its bare JID must be one of the
// two parties (§4.1).
func Acceptable(sender, self, peer jid.JID) bool {
	if sender.IsZero() {
		return false
	}
	b := sender.Bare()
	return (!self.IsZero() && b == self.Bare()) || (!peer.IsZero() && b == peer.Bare())
}

// Valid reports whether s is a single emoji, as §4 asks of a reaction. The
// rule is the "possible emoji" grammar of Unicode Technical Standard #51
// (Annex C), limited to 16 code points and 64 bytes, with the emoji
// property approximated by the Unicode blocks that hold emoji:
//
//	emoji   = element *( U+200D element )       ; ZWJ sequences
//	element = RI RI                             ; a flag
//	        | keycap-base [U+FE0F] U+20E3       ; 0-9 # * keycaps
//	        | pictograph *modifier
//	modifier = U+1F3FB..U+1F3FF                 ; skin tones
//	        | U+FE0F                            ; emoji presentation
//	        | 1*tag U+E007F                     ; subdivision flags
//
// Text, whitespace, control characters and lone combining marks fail.
func Valid(s string) bool {
	if s == "" || len(s) > maxEmojiBytes || !utf8.ValidString(s) || utf8.RuneCountInString(s) > maxEmojiRunes {
		return false
	}
	rs := []rune(s)
	i := 0
	for {
		n := element(rs[i:])
		if n == 0 {
			return false
		}
		i += n
		if i == len(rs) {
			return true
		}
		if rs[i] != 0x200D || i+1 == len(rs) {
			return false
		}
		i++
	}
}

// element returns the length of the emoji element at the start of rs, or
// 0 when there is none.
func element(rs []rune) int {
	switch r := rs[0]; {
	case isRegionalIndicator(r):
		if len(rs) >= 2 && isRegionalIndicator(rs[1]) {
			return 2
		}
		return 0
	case r >= '0' && r <= '9' || r == '#' || r == '*':
		n := 1
		if n < len(rs) && rs[n] == 0xFE0F {
			n++
		}
		if n < len(rs) && rs[n] == 0x20E3 {
			return n + 1
		}
		return 0
	case !isPictograph(r):
		return 0
	}
	n := 1
	for n < len(rs) {
		switch r := rs[n]; {
		case r >= 0x1F3FB && r <= 0x1F3FF, r == 0xFE0F:
			n++
		case r >= 0xE0020 && r <= 0xE007E:
			m := n
			for m < len(rs) && rs[m] >= 0xE0020 && rs[m] <= 0xE007E {
				m++
			}
			if m == len(rs) || rs[m] != 0xE007F {
				return 0
			}
			n = m + 1
		default:
			return n
		}
	}
	return n
}

func isRegionalIndicator(r rune) bool { return r >= 0x1F1E6 && r <= 0x1F1FF }

// isPictograph approximates the Unicode Extended_Pictographic property
// (plus the emoji skin tone modifiers, which are emoji on their own) with
// the ranges that hold them.
func isPictograph(r rune) bool {
	switch {
	case r >= 0x1F000 && r <= 0x1FAFF:
		return !isRegionalIndicator(r)
	case r >= 0x1FC00 && r <= 0x1FFFD,
		r >= 0x2600 && r <= 0x27BF, // Miscellaneous Symbols, Dingbats
		r == 0x00A9, r == 0x00AE, r == 0x203C, r == 0x2049,
		r == 0x2122, r == 0x2139, r >= 0x2194 && r <= 0x2199, r >= 0x21A9 && r <= 0x21AA,
		r >= 0x231A && r <= 0x231B, r == 0x2328, r == 0x2388, r == 0x23CF,
		r >= 0x23E9 && r <= 0x23F3, r >= 0x23F8 && r <= 0x23FA, r == 0x24C2, r >= 0x25AA && r <= 0x25AB,
		r == 0x25B6, r == 0x25C0, r >= 0x25FB && r <= 0x25FE, r >= 0x2934 && r <= 0x2935,
		r >= 0x2B05 && r <= 0x2B07, r >= 0x2B1B && r <= 0x2B1C, r == 0x2B50, r == 0x2B55,
		r == 0x3030, r == 0x303D, r == 0x3297, r == 0x3299:
		return true
	}
	return false
}
