// Package presence implements the presence stanza of RFC 6121 §3–§4 (XMPP
// Instant Messaging and Presence): availability with show, status and
// priority, unavailable and directed presence, the subscription types
// (subscribe, subscribed, unsubscribe, unsubscribed), probes and errors.
package presence

import (
	"encoding/xml"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/stanza"
)

// Presence types (RFC 6121 §4.7.1). Available presence has no type.
const (
	TypeAvailable    = ""
	TypeUnavailable  = "unavailable"
	TypeSubscribe    = "subscribe"
	TypeSubscribed   = "subscribed"
	TypeUnsubscribe  = "unsubscribe"
	TypeUnsubscribed = "unsubscribed"
	// TypeProbe is sent by servers; RFC 6121 §4.3 leaves probing to them,
	// so there is no builder for it here.
	TypeProbe = "probe"
	TypeError = "error"
)

// Show values (RFC 6121 §4.7.2.1). Available presence without <show/> is
// plain "online".
const (
	ShowAway = "away"
	ShowChat = "chat"
	ShowDND  = "dnd"
	ShowXA   = "xa"
)

// Limits on what Parse accepts from a peer.
const (
	// MaxStatuses is the largest number of <status/> alternatives kept;
	// more are dropped.
	MaxStatuses = 16
	// MaxStatusLen bounds each status text in bytes; longer texts are
	// cut at a character boundary.
	MaxStatusLen = 4096
	// MaxExtensions is the largest number of extension elements (caps,
	// avatar hash, MUC, …) in one presence.
	MaxExtensions = 64
)

var (
	// ErrMalformed: the element is not a presence stanza, or has an
	// unknown type.
	ErrMalformed = errors.New("presence: malformed presence")
	// ErrTooLarge: the presence carries more than MaxExtensions extensions.
	ErrTooLarge = errors.New("presence: too many extensions")
)

// Presence is one presence stanza.
type Presence struct {
	// From and To are the stanza addresses. A presence we send with a To
	// is directed presence (RFC 6121 §4.6): it goes to that entity only,
	// not to our subscribers.
	From, To jid.JID
	// ID is the stanza id ("" when absent).
	ID string
	// Type is one of the Type… constants; "" is available.
	Type string
	// Lang is the stanza's xml:lang: the language of a <status/> without
	// its own.
	Lang string
	// Show is one of the Show… values, or "" (online). It is only
	// meaningful for available presence; an unknown value reads as "".
	Show string
	// Status maps a language (the xml:lang of each <status/>, "" for the
	// one without) to the natural-language status text (§4.7.2.2).
	Status map[string]string
	// Priority is the resource's priority, -128…127 (§4.7.2.3); 0 when
	// absent. A negative priority means the resource never receives
	// messages sent to the bare JID.
	Priority int8
	// Error is the stanza error of a type="error" presence.
	Error *stanza.Error
	// Extensions are the children in namespaces other than jabber:client
	// and jabber:server (XEP-0115 caps, XEP-0153 avatar hash, MUC, …), in
	// order.
	Extensions []*xmlstream.Element
}

// ClampPriority maps any integer to the range RFC 6121 §4.7.2.3 allows
// for a priority: -128 to +127.
func ClampPriority(n int) int8 {
	return int8(max(-128, min(127, n)))
}

// IsSubscription reports whether typ is one of the four subscription
// types, which are about bare JIDs (RFC 6121 §3) and never change
// availability.
func IsSubscription(typ string) bool {
	switch typ {
	case TypeSubscribe, TypeSubscribed, TypeUnsubscribe, TypeUnsubscribed:
		return true
	}
	return false
}

// Available reports whether p announces availability (no type).
func (p Presence) Available() bool { return p.Type == TypeAvailable }

// Parse reads a presence stanza. Its 'from' and 'to' must be valid JIDs
// and its type a known one (ErrMalformed otherwise; RFC 6120 §8.3.3.1
// would have the server bounce it). Within it, RFC 6121 §4.7.2 is applied
// leniently: an unknown <show/> reads as online, a non-numeric priority
// as 0 and an out-of-range one is clamped, and of several <status/> with
// the same language the first wins.
func Parse(el *xmlstream.Element) (Presence, error) {
	h, err := stanza.ParseHeader(el)
	if err != nil {
		return Presence{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if h.Name != stanza.Presence {
		return Presence{}, ErrMalformed
	}
	p := Presence{From: h.From, To: h.To, ID: h.ID, Type: h.Type, Lang: h.Lang}
	switch p.Type {
	case TypeAvailable, TypeUnavailable, TypeProbe, TypeError:
	default:
		if !IsSubscription(p.Type) {
			return Presence{}, fmt.Errorf("%w: type %q", ErrMalformed, clip(p.Type))
		}
	}
	shown, prioritised := false, false
	for _, c := range el.Children {
		if c.Name.Space != stanza.NSClient && c.Name.Space != stanza.NSServer {
			if len(p.Extensions) == MaxExtensions {
				return Presence{}, fmt.Errorf("%w: more than %d", ErrTooLarge, MaxExtensions)
			}
			p.Extensions = append(p.Extensions, c)
			continue
		}
		switch c.Name.Local {
		case "show":
			if !shown {
				shown = true
				switch s := strings.TrimSpace(c.Text); s {
				case ShowAway, ShowChat, ShowDND, ShowXA:
					p.Show = s
				}
			}
		case "status":
			lang := c.Lang()
			if _, dup := p.Status[lang]; dup || len(p.Status) == MaxStatuses {
				continue
			}
			if p.Status == nil {
				p.Status = make(map[string]string)
			}
			p.Status[lang] = truncate(c.Text, MaxStatusLen)
		case "priority":
			if !prioritised {
				prioritised = true
				p.Priority = parsePriority(c.Text)
			}
		}
	}
	if p.Type == TypeError {
		p.Error = stanza.ParseError(el)
	}
	return p, nil
}

// parsePriority reads a priority leniently: surrounding space is allowed,
// non-integers are 0, and out-of-range values are clamped.
func parsePriority(s string) int8 {
	s = strings.TrimSpace(s)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		var ne *strconv.NumError
		if !errors.As(err, &ne) || ne.Err != strconv.ErrRange {
			return 0
		}
		if strings.HasPrefix(s, "-") {
			return -128
		}
		return 127
	}
	return ClampPriority(int(max(-1000, min(1000, n))))
}

// Element returns the <presence/> in jabber:client for p. Show is only
// written for available presence; a zero priority and empty fields are
// omitted; statuses are written in order of language.
func (p Presence) Element() *xmlstream.Element {
	el := xmlstream.New(stanza.NSClient, stanza.Presence)
	el.Set("id", p.ID).Set("type", p.Type)
	if !p.To.IsZero() {
		el.Set("to", p.To.String())
	}
	if !p.From.IsZero() {
		el.Set("from", p.From.String())
	}
	if p.Lang != "" {
		el.Attr = append(el.Attr, langAttr(p.Lang))
	}
	if p.Show != "" && p.Type == TypeAvailable {
		el.Append(xmlstream.New(stanza.NSClient, "show").SetText(p.Show))
	}
	langs := make([]string, 0, len(p.Status))
	for l := range p.Status {
		langs = append(langs, l)
	}
	slices.Sort(langs)
	for _, l := range langs {
		st := xmlstream.New(stanza.NSClient, "status").SetText(p.Status[l])
		if l != "" {
			st.Attr = append(st.Attr, langAttr(l))
		}
		el.Append(st)
	}
	if p.Priority != 0 {
		el.Append(xmlstream.New(stanza.NSClient, "priority").SetText(strconv.Itoa(int(p.Priority))))
	}
	if p.Type == TypeError && p.Error != nil {
		el.Append(p.Error.Element())
	}
	for _, x := range p.Extensions {
		el.Append(x.Copy())
	}
	return el
}

func langAttr(lang string) xml.Attr {
	return xml.Attr{Name: xml.Name{Space: xmlstream.NSXML, Local: "lang"}, Value: lang}
}

// StatusIn returns the status text in the language the user prefers:
// the first of prefs (language tags, most preferred first) that a status
// has, matching "en-GB" against "en" as a fallback; else the status in
// the stanza's language or without a language; else any (the one with
// the smallest tag, for stability). "" when there is no status.
func (p Presence) StatusIn(prefs []string) string {
	for _, want := range prefs {
		for l, s := range p.Status {
			if strings.EqualFold(l, want) {
				return s
			}
		}
	}
	for _, want := range prefs {
		primary, _, _ := strings.Cut(want, "-")
		for l, s := range p.Status {
			lp, _, _ := strings.Cut(l, "-")
			if l != "" && strings.EqualFold(lp, primary) {
				return s
			}
		}
	}
	if s, ok := p.Status[""]; ok {
		return s
	}
	if s, ok := p.Status[p.Lang]; ok {
		return s
	}
	langs := make([]string, 0, len(p.Status))
	for l := range p.Status {
		langs = append(langs, l)
	}
	if len(langs) == 0 {
		return ""
	}
	return p.Status[slices.Min(langs)]
}

// Extension returns the first extension element named local in namespace
// space, or nil.
func (p Presence) Extension(space, local string) *xmlstream.Element {
	for _, x := range p.Extensions {
		if x.Is(space, local) {
			return x
		}
	}
	return nil
}

// Subscribe returns a subscription request to the contact's bare JID
// (RFC 6121 §3.1.1: the 'to' SHOULD be a bare JID).
func Subscribe(to jid.JID) *xmlstream.Element { return subscription(TypeSubscribe, to) }

// Subscribed approves the contact's subscription request, or pre-approves
// one that has not come yet (RFC 6121 §3.1.4, §3.4). Tern sends it only
// when the user says so: requests are never approved automatically.
func Subscribed(to jid.JID) *xmlstream.Element { return subscription(TypeSubscribed, to) }

// Unsubscribe cancels our subscription to the contact's presence (RFC
// 6121 §3.3).
func Unsubscribe(to jid.JID) *xmlstream.Element { return subscription(TypeUnsubscribe, to) }

// Unsubscribed denies the contact's subscription request or cancels the
// subscription the contact has to our presence (RFC 6121 §3.2, §3.1.4).
func Unsubscribed(to jid.JID) *xmlstream.Element { return subscription(TypeUnsubscribed, to) }

func subscription(typ string, to jid.JID) *xmlstream.Element {
	return Presence{Type: typ, To: to.Bare()}.Element()
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// clip bounds peer-controlled text quoted in errors.
func clip(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return truncate(s, max) + "…"
}
