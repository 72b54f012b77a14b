// Package delay implements XEP-0203 Delayed Delivery (version 2.0): the
// <delay xmlns='urn:xmpp:delay'/> element that stamps a stanza with the time
// it was originally sent, read-only support for its predecessor XEP-0091
// Legacy Delayed Delivery (jabber:x:delay), and the XEP-0082 DateTime
// profile (version 1.1.1) that both use.
//
// Delayed delivery notations can be forged by the sender or any server on
// the path (XEP-0203 §7): a stamp orders and dates a message for display,
// it proves nothing.
package delay

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
)

// Namespaces.
const (
	// NS is the XEP-0203 namespace.
	NS = "urn:xmpp:delay"
	// NSLegacy is the XEP-0091 namespace, read for backwards
	// compatibility only (XEP-0203 §5): Element never writes it.
	NSLegacy = "jabber:x:delay"
)

var (
	// ErrMalformed is returned for an element that is not a <delay/> (or a
	// legacy <x/>) or that has no valid 'stamp'.
	ErrMalformed = errors.New("delay: malformed delay element")
	// ErrTime is returned by ParseTime for a string that is not an
	// XEP-0082 DateTime.
	ErrTime = errors.New("delay: invalid XEP-0082 DateTime")
)

// Delay is a delayed delivery notation.
type Delay struct {
	// Stamp is when the stanza was originally sent (or received by the
	// entity that delayed it), in UTC.
	Stamp time.Time
	// From is the entity that delayed the stanza (an offline store, a MUC
	// room, an archive); zero when the notation does not say or names an
	// invalid address.
	From jid.JID
	// Reason is the optional natural-language description of the delay.
	Reason string
}

// maxStamp bounds the 'stamp' attribute handed to the time parser. The
// longest sensible DateTime with nanoseconds and an offset is 35 bytes; XML
// Schema allows any number of fraction digits, so leave room for more.
const maxStamp = 64

// Parse reads a XEP-0203 <delay/> element, or a XEP-0091 <x
// xmlns='jabber:x:delay'/> whose stamp is in the legacy CCYYMMDDThh:mm:ss
// UTC format (XEP-0082 §4 asks receivers to accept both formats there).
// An invalid 'from' is dropped rather than failing the notation: the stamp
// is what matters.
func Parse(el *xmlstream.Element) (Delay, error) {
	var (
		t   time.Time
		err error
	)
	stamp, ok := el.Lookup("stamp")
	switch {
	case !ok:
		return Delay{}, fmt.Errorf("%w: no stamp", ErrMalformed)
	case el.Is(NS, "delay"):
		t, err = ParseTime(stamp)
	case el.Is(NSLegacy, "x"):
		t, err = parseLegacy(stamp)
	default:
		return Delay{}, ErrMalformed
	}
	if err != nil {
		return Delay{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	d := Delay{Stamp: t, Reason: el.Text}
	if s := el.Get("from"); s != "" {
		if from, err := jid.Parse(s); err == nil {
			d.From = from
		}
	}
	return d, nil
}

// Find returns the delayed delivery notation of a stanza: its first valid
// XEP-0203 <delay/> child, or else its first valid XEP-0091 one. ok is false
// when the stanza carries neither.
func Find(stanza *xmlstream.Element) (d Delay, ok bool) {
	if stanza == nil {
		return Delay{}, false
	}
	for _, ns := range []string{NS, NSLegacy} {
		for _, c := range stanza.Children {
			if c.Name.Space != ns {
				continue
			}
			if d, err := Parse(c); err == nil {
				return d, true
			}
		}
	}
	return Delay{}, false
}

// Element returns d as a XEP-0203 <delay/> element. The stamp is written in
// UTC (XEP-0203 §3 requires it), with fractional seconds only when d.Stamp
// has them.
func (d Delay) Element() *xmlstream.Element {
	e := xmlstream.New(NS, "delay")
	if !d.From.IsZero() {
		e.Set("from", d.From.String())
	}
	e.Set("stamp", FormatTime(d.Stamp))
	return e.SetText(d.Reason)
}

// ParseTime parses an XEP-0082 DateTime, CCYY-MM-DDThh:mm:ss[.sss]TZD,
// where the time zone is "Z" or ±hh:mm and the fraction may have any number
// of digits (nanoseconds are kept, further digits ignored). Surrounding
// whitespace is allowed (the XML Schema dateTime type collapses it). The
// result is in UTC.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	// time.Parse also accepts a comma before the fraction; XML Schema
	// does not.
	if len(s) > maxStamp || strings.IndexByte(s, ',') >= 0 {
		return time.Time{}, ErrTime
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, ErrTime
	}
	return t.UTC(), nil
}

// FormatTime formats t as an XEP-0082 DateTime in UTC, with as many
// fraction digits as t needs (none for whole seconds).
func FormatTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339Nano)
}

// parseLegacy parses a XEP-0091 stamp, CCYYMMDDThh:mm:ss in UTC; the
// XEP-0082 form is accepted too, as XEP-0082 §4 recommends.
func parseLegacy(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if len(s) > maxStamp {
		return time.Time{}, ErrTime
	}
	if t, err := time.Parse("20060102T15:04:05", s); err == nil {
		return t, nil
	}
	return ParseTime(s)
}
