// Package message handles the <message/> stanza of RFC 6121 §5 (XMPP IM):
// its type, its human-readable <body/> and <subject/> alternatives in
// several languages, its <thread/>, and the /me command of XEP-0245 (The
// /me Command, version 1.0).
//
// Extension payloads (receipts, markers, corrections, …) are left to their
// own packages: Parse keeps them untouched in Message.Extensions and
// Element writes them back.
package message

import (
	"cmp"
	"encoding/xml"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/stanza"
)

// Message types (RFC 6121 §5.2.2).
const (
	TypeChat      = "chat"
	TypeError     = "error"
	TypeGroupchat = "groupchat"
	TypeHeadline  = "headline"
	TypeNormal    = "normal"
)

// MaxAlternatives is how many <body/> (and, separately, <subject/>)
// language alternatives Parse keeps; further ones are ignored.
const MaxAlternatives = 32

// ErrMalformed is returned by Parse for an element that is not a message
// stanza or whose addresses are invalid.
var ErrMalformed = errors.New("message: malformed message")

// Message is a <message/> stanza.
type Message struct {
	// From and To are the sender and recipient; zero when absent.
	From, To jid.JID
	// ID is the 'id' attribute.
	ID string
	// Type is one of the Type… constants. Parse turns an absent or
	// unknown type into TypeNormal, as RFC 6121 §5.2.2 requires; Element
	// omits type='normal'.
	Type string
	// Lang is the default language of the stanza's human-readable text:
	// its xml:lang, or the stream's when it has none (RFC 6120 §8.1.5).
	Lang string
	// Bodies maps a language to the body text in that language (RFC 6121
	// §5.2.3). A <body/> without xml:lang is in Lang; the key "" means no
	// language was declared anywhere (Parse uses it only when Lang is
	// empty).
	Bodies map[string]string
	// Subjects are the <subject/> alternatives, keyed like Bodies (RFC
	// 6121 §5.2.4). An empty subject is kept: in a groupchat it clears the
	// room subject.
	Subjects map[string]string
	// Thread is the conversation thread (RFC 6121 §5.2.5); zero when absent.
	Thread Thread
	// Error is the stanza error of a type='error' message, nil otherwise.
	Error *stanza.Error
	// Extensions are the other child elements, in document order.
	Extensions []*xmlstream.Element
}

// Thread is a <thread/> element: an opaque conversation identifier and the
// identifier of the thread it was spawned from (RFC 6121 §5.2.5).
type Thread struct {
	// ID identifies the thread; Parent the thread it was spawned from
	// ("" for none).
	ID, Parent string
}

// Parse reads a message stanza (in jabber:client or jabber:server).
// streamLang is the xml:lang of the stream the stanza arrived on, the
// default language for a stanza without one.
//
// RFC 6121 §5.2.3 allows several bodies only with distinct languages; when
// a sender repeats a language (compared case-insensitively, as BCP 47
// requires), the first body wins. An empty xml:lang is treated like an absent
// xml:lang. Only the first <thread/> is read.
func Parse(el *xmlstream.Element, streamLang string) (Message, error) {
	h, err := stanza.ParseHeader(el)
	if err != nil {
		return Message{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if h.Name != stanza.Message {
		return Message{}, fmt.Errorf("%w: <%s/> is not a message", ErrMalformed, h.Name)
	}
	m := Message{From: h.From, To: h.To, ID: h.ID, Type: h.Type, Lang: h.Lang}
	switch m.Type {
	case TypeChat, TypeError, TypeGroupchat, TypeHeadline, TypeNormal:
	default:
		m.Type = TypeNormal
	}
	if m.Lang == "" {
		m.Lang = streamLang
	}
	m.Error = stanza.ParseError(el)
	ns := el.Name.Space
	threadSeen := false
	for _, c := range el.Children {
		if c.Name.Space != ns {
			m.Extensions = append(m.Extensions, c)
			continue
		}
		switch c.Name.Local {
		case "body":
			m.Bodies = addAlternative(m.Bodies, c, m.Lang)
		case "subject":
			m.Subjects = addAlternative(m.Subjects, c, m.Lang)
		case "thread":
			if !threadSeen {
				threadSeen = true
				m.Thread = Thread{ID: c.Text, Parent: c.Get("parent")}
			}
		case "error":
			// Read by stanza.ParseError; an <error/> in a message
			// that is not of type 'error' means nothing.
		default:
			m.Extensions = append(m.Extensions, c)
		}
	}
	return m, nil
}

// addAlternative adds the text of c to alts under its language (def when
// it has none), unless that language is already there or alts is full.
func addAlternative(alts map[string]string, c *xmlstream.Element, def string) map[string]string {
	lang := c.Lang()
	if lang == "" || strings.EqualFold(lang, def) {
		lang = def // one spelling for the default language
	}
	if len(alts) >= MaxAlternatives {
		return alts
	}
	for k := range alts {
		if strings.EqualFold(k, lang) {
			return alts
		}
	}
	if alts == nil {
		alts = make(map[string]string, 1)
	}
	alts[lang] = c.Text
	return alts
}

// Element returns m as a <message/> stanza in jabber:client. Subjects come
// first, then bodies, each set in a stable order: the one in m.Lang
// (written without xml:lang) first, the others by language. The thread,
// the error (when m.Type is TypeError) and the extensions follow. Extension
// elements are not copied.
func (m Message) Element() *xmlstream.Element {
	e := xmlstream.New(stanza.NSClient, stanza.Message)
	if !m.From.IsZero() {
		e.Set("from", m.From.String())
	}
	if !m.To.IsZero() {
		e.Set("to", m.To.String())
	}
	e.Set("id", m.ID)
	if m.Type != TypeNormal {
		e.Set("type", m.Type)
	}
	if m.Lang != "" {
		e.Attr = append(e.Attr, langAttr(m.Lang))
	}
	appendAlternatives(e, "subject", m.Subjects, m.Lang)
	appendAlternatives(e, "body", m.Bodies, m.Lang)
	if m.Thread != (Thread{}) {
		t := xmlstream.New(stanza.NSClient, "thread").SetText(m.Thread.ID)
		e.Append(t.Set("parent", m.Thread.Parent))
	}
	if m.Type == TypeError && m.Error != nil {
		e.Append(m.Error.Element())
	}
	return e.Append(m.Extensions...)
}

// appendAlternatives appends one element named local per language in alts.
func appendAlternatives(e *xmlstream.Element, local string, alts map[string]string, def string) {
	for _, lang := range sortedLangs(alts, def) {
		c := xmlstream.New(stanza.NSClient, local).SetText(alts[lang])
		if !strings.EqualFold(lang, def) {
			c.Attr = append(c.Attr, langAttr(lang))
		}
		e.Append(c)
	}
}

// sortedLangs returns the keys of alts: those equal to def (ignoring case)
// first, then the others in byte order.
func sortedLangs(alts map[string]string, def string) []string {
	langs := make([]string, 0, len(alts))
	for k := range alts {
		langs = append(langs, k)
	}
	slices.SortFunc(langs, func(a, b string) int {
		da, db := strings.EqualFold(a, def), strings.EqualFold(b, def)
		switch {
		case da && !db:
			return -1
		case db && !da:
			return 1
		}
		return cmp.Compare(a, b)
	})
	return langs
}

// langAttr returns an xml:lang attribute.
func langAttr(lang string) xml.Attr {
	return xml.Attr{Name: xml.Name{Space: xmlstream.NSXML, Local: "lang"}, Value: lang}
}

// Body returns the body in the language that best fits prefs, the user's
// languages in order of preference (BCP 47 tags such as "de-CH"; POSIX
// locale names such as "de_CH.UTF-8" are accepted too). See [Pick].
func (m Message) Body(prefs []string) string {
	return Pick(m.Bodies, m.Lang, prefs)
}

// Subject returns the subject in the language that best fits prefs, as
// Body does.
func (m Message) Subject(prefs []string) string {
	return Pick(m.Subjects, m.Lang, prefs)
}

// Pick chooses among language alternatives of one text (RFC 6121 §5.2.3:
// alternate versions of the same body, one per language). For each
// preferred language in turn it tries an exact match, then the lookup
// fallback of RFC 4647 §3.4 ("de-CH-1996" → "de-CH" → "de"), then a more
// specific alternative of the same language ("de" accepts "de-AT"). When no
// preference matches it returns the alternative in the stanza's default
// language def, else the one with no declared language, else the first in
// byte order of the language tags, so the choice is always deterministic.
// Tags are compared case-insensitively. Pick returns "" when alts is empty.
func Pick(alts map[string]string, def string, prefs []string) string {
	if len(alts) == 0 {
		return ""
	}
	get := func(lang string) (string, bool) {
		for k, v := range alts {
			if strings.EqualFold(k, lang) {
				return v, true
			}
		}
		return "", false
	}
	langs := sortedLangs(alts, "")
	for _, p := range prefs {
		for tag := normalizeTag(p); tag != ""; tag = truncate(tag) {
			if v, ok := get(tag); ok {
				return v
			}
			for _, k := range langs {
				if len(k) > len(tag) && k[len(tag)] == '-' && strings.EqualFold(k[:len(tag)], tag) {
					return alts[k]
				}
			}
		}
	}
	if v, ok := get(def); ok {
		return v
	}
	if v, ok := alts[""]; ok {
		return v
	}
	return alts[langs[0]]
}

// normalizeTag turns a preference into a BCP 47 tag: a POSIX locale's
// encoding and modifier are dropped and '_' becomes '-'.
func normalizeTag(p string) string {
	if i := strings.IndexAny(p, ".@"); i >= 0 {
		p = p[:i]
	}
	return strings.ReplaceAll(strings.TrimSpace(p), "_", "-")
}

// truncate removes the last subtag of tag, and a single-character subtag
// left in front of it, as the RFC 4647 §3.4 lookup does; it returns "" when
// nothing is left.
func truncate(tag string) string {
	i := strings.LastIndexByte(tag, '-')
	if i < 0 {
		return ""
	}
	tag = tag[:i]
	if j := strings.LastIndexByte(tag, '-'); j >= 0 && j == len(tag)-2 {
		tag = tag[:j]
	}
	return tag
}

// IsMe reports whether body is a XEP-0245 /me command: it starts with
// exactly "/me " (XEP-0245 §2: "/meshrugs", " /me shrugs" and "/me's" are
// not commands).
func IsMe(body string) bool {
	return strings.HasPrefix(body, "/me ")
}

// MeText returns the action of a /me command, the text after "/me ", for a
// client to show after the sender's name (XEP-0245 §2); a body that is not
// a /me command is returned unchanged. Show /me actions differently from
// room presence notices, so that "/me has left the room" cannot pass for
// one (XEP-0245 §5).
func MeText(body string) string {
	if IsMe(body) {
		return body[len("/me "):]
	}
	return body
}
