// Package entitytime implements XEP-0202 Entity Time (version 2.0): asking
// an entity for its local time, and answering such questions, with the
// UTC time and the numeric offset of the entity's time zone in the
// XEP-0082 profiles (version 1.1.1).
package entitytime

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/stanza"
)

// NS is the XEP-0202 namespace.
const NS = "urn:xmpp:time"

// MaxOffset bounds the time zone offsets accepted (real ones lie within
// −12:00…+14:00).
const MaxOffset = 18 * time.Hour

// maxText bounds <utc/> and <tzo/>: XEP-0082 allows any number of
// fractional digits, a peer could send megabytes of them.
const maxText = 64

var (
	// ErrMalformed: the answer has no <time/>, or a <tzo/> or <utc/>
	// that is missing or not in the XEP-0082 format.
	ErrMalformed = errors.New("entitytime: malformed answer")
)

// Time is an entity's answer: its idea of the current time and its time
// zone offset.
type Time struct {
	// UTC is the entity's current time, in UTC.
	UTC time.Time
	// Offset is the entity's offset from UTC (east positive), a whole
	// number of minutes.
	Offset time.Duration
}

// Local returns the entity's local time: UTC in a fixed zone at Offset.
func (t Time) Local() time.Time {
	return t.UTC.In(time.FixedZone("", int(t.Offset/time.Second)))
}

// Now returns the Time describing now in its own location, for Answer.
// Offsets that are not whole minutes are truncated to minutes.
func Now(now time.Time) Time {
	_, off := now.Zone()
	return Time{UTC: now.UTC(), Offset: (time.Duration(off) * time.Second).Truncate(time.Minute)}
}

// Request returns a request for the local time of to (a full JID for a
// client, XEP-0202 §3).
func Request(to jid.JID) *xmlstream.Element {
	return stanza.NewIQ(stanza.TypeGet, "", to, xmlstream.New(NS, "time"))
}

// Answer returns the <time/> payload of our answer at now. XEP-0202 §5:
// the offset reveals something about where the user is; pass now.UTC()
// to answer with offset zero instead.
func Answer(now time.Time) *xmlstream.Element {
	return Now(now).Element()
}

// Element returns the <time/> element for t.
func (t Time) Element() *xmlstream.Element {
	return xmlstream.New(NS, "time").Append(
		xmlstream.New(NS, "tzo").SetText(formatOffset(t.Offset)),
		xmlstream.New(NS, "utc").SetText(t.UTC.UTC().Format("2006-01-02T15:04:05.999999999Z")))
}

// Parse reads a <time/>, or the IQ result carrying it. Both <tzo/> and
// <utc/> are required (§2). The UTC time may have fractional seconds and,
// leniently, a numeric offset, which is applied.
func Parse(el *xmlstream.Element) (Time, error) {
	if el != nil && el.Name.Local == stanza.IQ {
		el = el.Child(NS, "time")
	}
	if !el.Is(NS, "time") {
		return Time{}, ErrMalformed
	}
	off, err := ParseOffset(el.ChildText(NS, "tzo"))
	if err != nil {
		return Time{}, err
	}
	utc, err := ParseDateTime(el.ChildText(NS, "utc"))
	if err != nil {
		return Time{}, err
	}
	return Time{UTC: utc, Offset: off}, nil
}

// ParseOffset reads an XEP-0082 time zone definition: "Z" or ±hh:mm,
// within ±MaxOffset.
func ParseOffset(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "Z" {
		return 0, nil
	}
	if len(s) != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':' {
		return 0, fmt.Errorf("%w: time zone %q", ErrMalformed, clip(s))
	}
	h, okh := digits2(s[1:3])
	m, okm := digits2(s[4:6])
	if !okh || !okm || m > 59 {
		return 0, fmt.Errorf("%w: time zone %q", ErrMalformed, s)
	}
	d := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute
	if d > MaxOffset {
		return 0, fmt.Errorf("%w: time zone %q out of range", ErrMalformed, s)
	}
	if s[0] == '-' {
		d = -d
	}
	return d, nil
}

func digits2(s string) (int, bool) {
	if len(s) != 2 || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' {
		return 0, false
	}
	return int(s[0]-'0')*10 + int(s[1]-'0'), true
}

// ParseDateTime reads an XEP-0082 DateTime (CCYY-MM-DDThh:mm:ss[.sss]TZD)
// and returns it in UTC.
func ParseDateTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if len(s) > maxText {
		return time.Time{}, fmt.Errorf("%w: date-time too long", ErrMalformed)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: date-time %q", ErrMalformed, s)
	}
	// time.Parse accepts offsets up to ±99:59; XEP-0082 means real ones.
	if _, off := t.Zone(); time.Duration(max(off, -off))*time.Second > MaxOffset {
		return time.Time{}, fmt.Errorf("%w: date-time %q: offset out of range", ErrMalformed, s)
	}
	return t.UTC(), nil
}

// formatOffset writes d as ±hh:mm ("+00:00" for UTC).
func formatOffset(d time.Duration) string {
	sign := '+'
	if d < 0 {
		sign, d = '-', -d
	}
	d = min(d, MaxOffset)
	return fmt.Sprintf("%c%02d:%02d", sign, int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// clip bounds peer-controlled text quoted in errors.
func clip(s string) string {
	if len(s) > 16 {
		return s[:16] + "…"
	}
	return s
}
