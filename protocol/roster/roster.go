// Package roster implements the roster of RFC 6121 §2 (XMPP Instant
// Messaging and Presence): fetching the contact list with roster
// versioning (§2.6), adding, updating and removing contacts (§2.3–§2.5),
// and the roster pushes by which the server announces changes (§2.1.6),
// including the rule on who may send them.
package roster

import (
	"encoding/xml"
	"errors"
	"fmt"
	"slices"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/stanza"
)

// NS is the roster namespace.
const NS = "jabber:iq:roster"

// Subscription states of a roster item (RFC 6121 §2.1.2.5), and "remove",
// which only appears in roster sets and pushes that delete an item.
const (
	SubNone   = "none"
	SubTo     = "to"
	SubFrom   = "from"
	SubBoth   = "both"
	SubRemove = "remove"
)

// Limits on what the parsers accept from the server.
const (
	// MaxItems is the largest roster accepted.
	MaxItems = 10000
	// MaxGroups is the largest number of groups per item.
	MaxGroups = 64
	// MaxTextLen bounds the length in bytes of an item name and of a
	// group name.
	MaxTextLen = 1024
)

var (
	// ErrMalformed: the element is not a roster query, or a push does not
	// carry exactly one item with a valid JID (§2.1.6).
	ErrMalformed = errors.New("roster: malformed roster element")
	// ErrTooLarge: the roster or an item exceeds one of the limits.
	ErrTooLarge = errors.New("roster: roster too large")
	// ErrInvalidItem: an item we were asked to send is not valid.
	ErrInvalidItem = errors.New("roster: invalid item")
)

// Item is one contact of the roster (RFC 6121 §2.1.2).
type Item struct {
	// JID is the contact's address (usually a bare JID).
	JID jid.JID
	// Name is the user's nickname for the contact ("" when none).
	Name string
	// Subscription is one of the Sub… states ("none" when absent).
	Subscription string
	// Ask is set while our subscription request is pending
	// (ask='subscribe', §2.1.2.2).
	Ask bool
	// Approved is set when we pre-approved the contact's subscription
	// request (approved='true', §2.1.2.1, §3.4).
	Approved bool
	// Groups are the roster groups the contact is in, without duplicates.
	Groups []string
}

// Query is the content of a roster <query/>: a whole roster, or the one
// item of a push.
type Query struct {
	// Ver is the roster version (§2.6), "" when the server does not
	// version the roster.
	Ver   string
	Items []Item
}

// Get returns a roster get request (RFC 6121 §2.1.3). Set versioned when
// the server offers roster versioning (stream.Features.RosterVer); only
// then is the 'ver' attribute sent (§2.6.2), carrying ver: the version of
// the roster we have cached, or "" when we have none and want the whole
// roster with its version.
func Get(ver string, versioned bool) *xmlstream.Element {
	q := xmlstream.New(NS, "query")
	if versioned {
		// Set would drop an empty value; ver='' is meaningful here.
		q.Attr = append(q.Attr, xml.Attr{Name: xml.Name{Local: "ver"}, Value: ver})
	}
	return stanza.NewIQ(stanza.TypeGet, "", jid.JID{}, q)
}

// Set returns a roster set request that adds item or updates it (RFC 6121
// §2.3, §2.4). Only the JID, the name and the groups are sent: a client
// MUST NOT send 'ask' or 'approved' (§2.1.2.1, §2.1.2.2) and changes the
// subscription only with presence (§3). Empty and repeated group names,
// which the server would refuse (§2.3.3), are dropped. The JID must be
// set and the limits respected (ErrInvalidItem otherwise).
func Set(item Item) (*xmlstream.Element, error) {
	if item.JID.IsZero() {
		return nil, fmt.Errorf("%w: no JID", ErrInvalidItem)
	}
	groups := cleanGroups(item.Groups)
	if len(groups) > MaxGroups || len(item.Name) > MaxTextLen ||
		slices.ContainsFunc(groups, func(g string) bool { return len(g) > MaxTextLen }) {
		return nil, fmt.Errorf("%w: too many groups or too long a name", ErrInvalidItem)
	}
	el := xmlstream.New(NS, "item", "jid", item.JID.String()).Set("name", item.Name)
	for _, g := range groups {
		el.Append(xmlstream.New(NS, "group").SetText(g))
	}
	return stanza.NewIQ(stanza.TypeSet, "", jid.JID{}, xmlstream.New(NS, "query").Append(el)), nil
}

// Remove returns a roster set request that deletes the contact j
// (subscription='remove', RFC 6121 §2.5). The server also cancels the
// subscriptions in both directions.
func Remove(j jid.JID) *xmlstream.Element {
	item := xmlstream.New(NS, "item", "jid", j.String(), "subscription", SubRemove)
	return stanza.NewIQ(stanza.TypeSet, "", jid.JID{}, xmlstream.New(NS, "query").Append(item))
}

// cleanGroups drops empty and repeated group names, keeping the order.
func cleanGroups(groups []string) []string {
	var out []string
	for _, g := range groups {
		if g != "" && !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out
}

// Parse reads a roster <query/>. Items whose JID is missing or invalid
// are skipped; an unknown subscription reads as "none"; empty and
// repeated groups are dropped.
func Parse(el *xmlstream.Element) (Query, error) {
	if !el.Is(NS, "query") {
		return Query{}, ErrMalformed
	}
	q := Query{Ver: el.Get("ver")}
	for _, c := range el.Children {
		if !c.Is(NS, "item") {
			continue
		}
		it, err := parseItem(c)
		if errors.Is(err, ErrMalformed) {
			continue
		}
		if err != nil {
			return Query{}, err
		}
		if len(q.Items) == MaxItems {
			return Query{}, fmt.Errorf("%w: more than %d items", ErrTooLarge, MaxItems)
		}
		q.Items = append(q.Items, it)
	}
	return q, nil
}

func parseItem(el *xmlstream.Element) (Item, error) {
	j, err := jid.Parse(el.Get("jid"))
	if err != nil {
		return Item{}, fmt.Errorf("%w: item jid: %w", ErrMalformed, err)
	}
	it := Item{JID: j, Name: el.Get("name"), Subscription: el.Get("subscription"), Ask: el.Get("ask") == "subscribe"}
	switch it.Subscription {
	case SubNone, SubTo, SubFrom, SubBoth, SubRemove:
	default:
		it.Subscription = SubNone
	}
	switch el.Get("approved") {
	case "true", "1":
		it.Approved = true
	}
	if len(it.Name) > MaxTextLen {
		return Item{}, fmt.Errorf("%w: item name longer than %d bytes", ErrTooLarge, MaxTextLen)
	}
	for _, c := range el.Children {
		if !c.Is(NS, "group") || c.Text == "" || slices.Contains(it.Groups, c.Text) {
			continue
		}
		if len(c.Text) > MaxTextLen {
			return Item{}, fmt.Errorf("%w: group name longer than %d bytes", ErrTooLarge, MaxTextLen)
		}
		if len(it.Groups) == MaxGroups {
			return Item{}, fmt.Errorf("%w: more than %d groups", ErrTooLarge, MaxGroups)
		}
		it.Groups = append(it.Groups, c.Text)
	}
	return it, nil
}

// Element returns the roster <query/> for q, with every attribute of its
// items (as a server or a cache would write them).
func (q Query) Element() *xmlstream.Element {
	el := xmlstream.New(NS, "query").Set("ver", q.Ver)
	for _, it := range q.Items {
		el.Append(it.element())
	}
	return el
}

func (it Item) element() *xmlstream.Element {
	el := xmlstream.New(NS, "item", "jid", it.JID.String())
	el.Set("name", it.Name).Set("subscription", it.Subscription)
	if it.Ask {
		el.Set("ask", "subscribe")
	}
	if it.Approved {
		el.Set("approved", "true")
	}
	for _, g := range it.Groups {
		el.Append(xmlstream.New(NS, "group").SetText(g))
	}
	return el
}

// ParseResult reads the answer to a roster get. With roster versioning
// the server may answer with an empty result (no <query/>, RFC 6121
// §2.6.3): the roster has not changed since the version we sent, we keep
// our cached copy, and changes arrive as pushes. ParseResult then returns
// cached=true and an empty Query.
func ParseResult(iq *xmlstream.Element) (q Query, cached bool, err error) {
	if iq == nil || iq.Name.Local != stanza.IQ || iq.Get("type") != stanza.TypeResult {
		return Query{}, false, ErrMalformed
	}
	el := iq.Child(NS, "query")
	if el == nil {
		return Query{}, true, nil
	}
	q, err = Parse(el)
	return q, false, err
}

// ParsePush reads a roster push (RFC 6121 §2.1.6): an IQ set whose query
// carries exactly one item, and optionally the new roster version. The
// caller must first check the sender with PushAllowed, and acknowledge
// the push with an empty result (stanza.Result).
func ParsePush(iq *xmlstream.Element) (Item, string, error) {
	if iq == nil || iq.Name.Local != stanza.IQ || iq.Get("type") != stanza.TypeSet {
		return Item{}, "", ErrMalformed
	}
	el := iq.Child(NS, "query")
	if el == nil {
		return Item{}, "", ErrMalformed
	}
	var items []*xmlstream.Element
	for _, c := range el.Children {
		if c.Is(NS, "item") {
			items = append(items, c)
		}
	}
	if len(items) != 1 {
		return Item{}, "", fmt.Errorf("%w: a push carries %d items, not one", ErrMalformed, len(items))
	}
	it, err := parseItem(items[0])
	if err != nil {
		return Item{}, "", err
	}
	return it, el.Get("ver"), nil
}

// PushAllowed reports whether a roster push from from may be applied to
// the roster of the account own. RFC 6121 §2.1.6: a client MUST ignore a
// push unless it has no 'from' (from is zero: it comes from our account)
// or its 'from' is exactly our bare JID. Anything else is a spoofing
// attempt, to be ignored (and answered with service-unavailable, as for
// an unknown request).
func PushAllowed(from, own jid.JID) bool {
	return from.IsZero() || from == own.Bare()
}
