// Package mam implements XEP-0313 Message Archive Management (version
// 1.1.3, namespace urn:xmpp:mam:2): querying an archive (our account's, or
// a room's) with a XEP-0004 data form and XEP-0059 paging, reading the
// result messages and the final <fin/>, and the archiving preferences that
// XEP-0441 (version 0.2.0) split out of XEP-0313 without changing them.
//
// # Security
//
// Results arrive as ordinary messages, so anyone can send something that
// looks like one. XEP-0313 §8.2: accept a result only if it answers a query
// we have open — its 'from' is the archive we queried and its queryid is
// the one we chose. [Result.Answers] encodes that check; give every query
// a fresh, unpredictable id ([NewQueryID]). The forwarded message inside
// a result is the archive's copy: its stanza-ids are the archive's claim
// and its <delay/> the archive's timestamp.
package mam

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tern-im/tern/protocol/delay"
	"github.com/tern-im/tern/protocol/form"
	"github.com/tern-im/tern/protocol/forward"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/rsm"
	"github.com/tern-im/tern/protocol/stanza"
)

// Namespaces and features.
const (
	// NS is the XEP-0313 namespace, disco#info feature and data form
	// FORM_TYPE.
	NS = "urn:xmpp:mam:2"
	// FeatureExtended is announced by archives that support the
	// before-id, after-id and ids fields and flipped pages (§6).
	FeatureExtended = NS + "#extended"
)

// Default archiving policies of Prefs (XEP-0441 §2.1.1).
const (
	DefaultAlways = "always"
	DefaultNever  = "never"
	DefaultRoster = "roster"
)

// Limits on what a peer may send.
const (
	// MaxID is the longest archive id or query id accepted, in bytes.
	MaxID = rsm.MaxUID
	// MaxPrefsJIDs is the largest number of JIDs accepted in the
	// always and never lists of Prefs together.
	MaxPrefsJIDs = 4096
)

var (
	// ErrNotResult is returned by ParseResult for a message that is not an
	// archive result.
	ErrNotResult = errors.New("mam: not an archive result")
	// ErrMalformed is returned for a result, fin or prefs element that is
	// not valid XEP-0313.
	ErrMalformed = errors.New("mam: malformed archive element")
)

// IQSender sends an IQ request and returns its reply.
type IQSender interface {
	SendIQ(ctx context.Context, iq *xmlstream.Element) (*xmlstream.Element, error)
}

// Query is an archive query (§4). The zero value asks for everything, in
// pages of the server's choosing.
type Query struct {
	// QueryID is echoed in every result, to tell them apart from other
	// queries' and from forgeries (§8.2): set it to NewQueryID().
	QueryID string
	// With restricts the results to messages to or from this JID; a bare
	// JID matches all its resources (§4.1.1).
	With jid.JID
	// Start and End restrict the results to messages archived at or after
	// Start and at or before End; zero values leave the range open (§4.1.2).
	Start, End time.Time
	// AfterID and BeforeID restrict the results to messages after and
	// before the ones with these archive ids, exclusive; IDs fetches the
	// messages with these ids. All three need FeatureExtended (§4.1.3),
	// unlike RSM's After and Before, which page through the results.
	AfterID, BeforeID string
	// IDs are the archive ids of messages to fetch (see AfterID).
	IDs []string
	// FlipPage asks for the page's results newest first (§4.3.3); it
	// needs FeatureExtended.
	FlipPage bool
	// RSM pages through the results: Max limits the page, After continues
	// after the last archive id received, Last (an empty <before/>) asks
	// for the most recent page (§4.3).
	RSM rsm.Set
}

// NewQueryID returns a fresh query id: 96 random bits in unpadded
// URL-safe base64.
func NewQueryID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (it crashes the program instead)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Element returns the <query/> element for q. The filters go into a
// submitted data form with FORM_TYPE urn:xmpp:mam:2 (§4.1), which is left
// out when there are none; the RSM <set/> is left out when q.RSM is zero.
func (q Query) Element() *xmlstream.Element {
	e := xmlstream.New(NS, "query")
	e.Set("queryid", q.QueryID)
	var fields []form.Field
	add := func(name string, values ...string) {
		fields = append(fields, form.Field{Var: name, Values: values})
	}
	if !q.With.IsZero() {
		add("with", q.With.String())
	}
	if !q.Start.IsZero() {
		add("start", delay.FormatTime(q.Start))
	}
	if !q.End.IsZero() {
		add("end", delay.FormatTime(q.End))
	}
	if q.AfterID != "" {
		add("after-id", q.AfterID)
	}
	if q.BeforeID != "" {
		add("before-id", q.BeforeID)
	}
	if len(q.IDs) > 0 {
		add("ids", q.IDs...)
	}
	if len(fields) > 0 {
		f := form.Form{Type: form.TypeSubmit, Fields: append([]form.Field{form.FormTypeField(NS)}, fields...)}
		e.Append(f.Element())
	}
	if q.RSM != (rsm.Set{}) {
		e.Append(q.RSM.Element())
	}
	if q.FlipPage {
		e.Append(xmlstream.New(NS, "flip-page"))
	}
	return e
}

// Request returns the IQ that sends q to archive: a room's bare JID, or
// the zero JID for our own account's archive (§4: queries go to the entity
// hosting the archive).
func (q Query) Request(archive jid.JID) *xmlstream.Element {
	return stanza.NewIQ(stanza.TypeSet, "", archive, q.Element())
}

// Result is one archive result message (§4.2).
type Result struct {
	// From is the 'from' of the result message, which must be the archive
	// (see Answers); zero when absent, which means our own account (RFC
	// 6120 §8.1.2.1).
	From jid.JID
	// QueryID is the queryid of the query the result answers.
	QueryID string
	// ID is the message's archive id: the UID to page from (RSM After),
	// and the stanza-id the archive assigned to it.
	ID string
	// Forwarded holds the archived <message/> and, usually, the <delay/>
	// with the time the archive received it.
	Forwarded forward.Forwarded
}

// ParseResult reads an archive result message: ErrNotResult when msg has no
// <result/> (or is of type 'error'), ErrMalformed when it has several, when
// the id is missing or longer than MaxID, or when it does not forward a
// <message/>.
func ParseResult(msg *xmlstream.Element) (Result, error) {
	if msg == nil || msg.Get("type") == stanza.TypeError {
		return Result{}, ErrNotResult
	}
	var el *xmlstream.Element
	for _, c := range msg.Children {
		if !c.Is(NS, "result") {
			continue
		}
		if el != nil {
			return Result{}, fmt.Errorf("%w: more than one <result/>", ErrMalformed)
		}
		el = c
	}
	if el == nil {
		return Result{}, ErrNotResult
	}
	r := Result{QueryID: el.Get("queryid"), ID: el.Get("id")}
	if r.ID == "" || len(r.ID) > MaxID || len(r.QueryID) > MaxID {
		return Result{}, fmt.Errorf("%w: result id", ErrMalformed)
	}
	if s, ok := msg.Lookup("from"); ok {
		from, err := jid.Parse(s)
		if err != nil {
			return Result{}, fmt.Errorf("%w: 'from': %w", ErrMalformed, err)
		}
		r.From = from
	}
	f, err := forward.Find(el)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if f.Stanza.Name.Local != stanza.Message {
		return Result{}, fmt.Errorf("%w: forwarded <%s/> is not a message", ErrMalformed, f.Stanza.Name.Local)
	}
	r.Forwarded = f
	return r, nil
}

// Element returns r as a <result/> element (without the message around it).
func (r Result) Element() *xmlstream.Element {
	e := xmlstream.New(NS, "result")
	e.Set("queryid", r.QueryID)
	e.Set("id", r.ID)
	return e.Append(r.Forwarded.Element())
}

// Answers reports whether r answers the query with id queryID that we sent
// to archive (the zero JID for our own account's archive), as XEP-0313
// §8.2 requires before a result is used: the query id is ours and not
// empty, and the result comes from the archive's bare JID. own is our
// account's JID: a result without 'from' comes from our own account.
func (r Result) Answers(queryID string, archive, own jid.JID) bool {
	if queryID == "" || r.QueryID != queryID {
		return false
	}
	from := r.From
	if from.IsZero() {
		from = own.Bare()
	}
	if archive.IsZero() {
		archive = own
	}
	return !from.IsZero() && from == archive.Bare()
}

// Fin is the <fin/> element of the IQ result that ends a query (§4.3).
type Fin struct {
	// Complete is set when the results reached the end of what the query
	// matched: no further page is needed.
	Complete bool
	// Stable is false when the archive says the results may still change
	// (stable='false'); don't cache such results for long (§4.3.2).
	Stable bool
	// Set describes the page: the first and last archive ids and, maybe,
	// the count.
	Set rsm.Result
}

// ParseFin reads the <fin/> of a query's IQ result. A missing RSM <set/> is
// read as an empty page.
func ParseFin(iq *xmlstream.Element) (Fin, error) {
	el := iq.Child(NS, "fin")
	if el == nil {
		return Fin{}, fmt.Errorf("%w: no <fin/>", ErrMalformed)
	}
	complete, err := boolAttr(el, "complete", false)
	if err != nil {
		return Fin{}, err
	}
	stable, err := boolAttr(el, "stable", true)
	if err != nil {
		return Fin{}, err
	}
	fin := Fin{Complete: complete, Stable: stable, Set: rsm.Result{FirstIndex: -1, Count: -1}}
	if s := el.Child(rsm.NS, "set"); s != nil {
		if fin.Set, err = rsm.ParseResult(s); err != nil {
			return Fin{}, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
	}
	return fin, nil
}

// Element returns f as a <fin/> element.
func (f Fin) Element() *xmlstream.Element {
	e := xmlstream.New(NS, "fin")
	if f.Complete {
		e.Set("complete", "true")
	}
	if !f.Stable {
		e.Set("stable", "false")
	}
	return e.Append(f.Set.Element())
}

// boolAttr reads an xs:boolean attribute, def when absent.
func boolAttr(el *xmlstream.Element, name string, def bool) (bool, error) {
	s, ok := el.Lookup(name)
	if !ok {
		return def, nil
	}
	switch strings.TrimSpace(s) {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, fmt.Errorf("%w: %s=%q is not a boolean", ErrMalformed, name, clip(s))
}

// Prefs are a user archive's preferences (XEP-0441 §2.1).
type Prefs struct {
	// Default is the policy for JIDs in neither list: DefaultAlways,
	// DefaultNever or DefaultRoster.
	Default string
	// Always and Never list JIDs whose messages are always, or never,
	// archived. A bare JID covers all its resources.
	Always, Never []jid.JID
}

// Element returns p as a <prefs/> element; both lists are always written
// (XEP-0441 §2.1: they MUST be present, even empty).
func (p Prefs) Element() *xmlstream.Element {
	e := xmlstream.New(NS, "prefs", "default", p.Default)
	list := func(name string, jids []jid.JID) *xmlstream.Element {
		l := xmlstream.New(NS, name)
		for _, j := range jids {
			l.Append(xmlstream.New(NS, "jid").SetText(j.String()))
		}
		return l
	}
	return e.Append(list("always", p.Always), list("never", p.Never))
}

// PrefsRequest returns the IQ that asks for our archive's preferences.
func PrefsRequest() *xmlstream.Element {
	return stanza.NewIQ(stanza.TypeGet, "", jid.JID{}, xmlstream.New(NS, "prefs"))
}

// SetPrefsRequest returns the IQ that sets our archive's preferences to p.
func SetPrefsRequest(p Prefs) *xmlstream.Element {
	return stanza.NewIQ(stanza.TypeSet, "", jid.JID{}, p.Element())
}

// ParsePrefs reads the <prefs/> child of iq (the answer to PrefsRequest or
// SetPrefsRequest). The default policy must be one of the three defined; a
// missing list is empty (XEP-0441 §2.1.2); an invalid JID, or more than
// MaxPrefsJIDs, is an error.
func ParsePrefs(iq *xmlstream.Element) (Prefs, error) {
	el := iq.Child(NS, "prefs")
	if el == nil {
		return Prefs{}, fmt.Errorf("%w: no <prefs/>", ErrMalformed)
	}
	p := Prefs{Default: el.Get("default")}
	switch p.Default {
	case DefaultAlways, DefaultNever, DefaultRoster:
	default:
		return Prefs{}, fmt.Errorf("%w: default policy %q", ErrMalformed, clip(p.Default))
	}
	n := 0
	read := func(name string) ([]jid.JID, error) {
		var out []jid.JID
		list := el.Child(NS, name)
		if list == nil {
			return nil, nil
		}
		for _, c := range list.Children {
			if !c.Is(NS, "jid") {
				continue
			}
			if n++; n > MaxPrefsJIDs {
				return nil, fmt.Errorf("%w: more than %d JIDs", ErrMalformed, MaxPrefsJIDs)
			}
			j, err := jid.Parse(strings.TrimSpace(c.Text))
			if err != nil {
				return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
			}
			out = append(out, j)
		}
		return out, nil
	}
	var err error
	if p.Always, err = read("always"); err != nil {
		return Prefs{}, err
	}
	if p.Never, err = read("never"); err != nil {
		return Prefs{}, err
	}
	return p, nil
}

// GetPrefs fetches our archive's preferences. A server that does not let
// users configure archiving answers feature-not-implemented (XEP-0441
// §2.1), which is returned as a *stanza.Error.
func GetPrefs(ctx context.Context, s IQSender) (Prefs, error) {
	res, err := s.SendIQ(ctx, PrefsRequest())
	if err != nil {
		return Prefs{}, fmt.Errorf("get archive preferences: %w", err)
	}
	return ParsePrefs(res)
}

// SetPrefs sets our archive's preferences and returns those the server
// applied, which its policy may make differ from p (XEP-0441 §2.1). When
// the server's answer does not say, p is returned.
func SetPrefs(ctx context.Context, s IQSender, p Prefs) (Prefs, error) {
	res, err := s.SendIQ(ctx, SetPrefsRequest(p))
	if err != nil {
		return Prefs{}, fmt.Errorf("set archive preferences: %w", err)
	}
	if res.Child(NS, "prefs") == nil {
		return p, nil
	}
	return ParsePrefs(res)
}

// clip shortens peer text for an error message.
func clip(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}
