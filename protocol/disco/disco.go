// Package disco implements XEP-0030 Service Discovery (version 2.5.0):
// asking an entity who it is and what it supports (disco#info) and which
// items it hosts (disco#items), and answering disco#info about ourselves.
// Data forms in a disco#info result are XEP-0128 Service Discovery
// Extensions (version 1.0.1).
package disco

import (
	"encoding/xml"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/tern-im/tern/protocol/form"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/stanza"
)

// Namespaces (XEP-0030 §13.1).
const (
	NSInfo  = "http://jabber.org/protocol/disco#info"
	NSItems = "http://jabber.org/protocol/disco#items"
)

// Limits on what ParseInfo and ParseItems accept from a peer.
const (
	MaxIdentities = 64
	MaxFeatures   = 1024
	MaxForms      = 16
	MaxItems      = 4096
)

var (
	// ErrMalformed: the element is not a disco#info or disco#items query.
	ErrMalformed = errors.New("disco: malformed query")
	// ErrTooLarge: the answer exceeds one of the Max… limits.
	ErrTooLarge = errors.New("disco: answer too large")
)

// Identity is one <identity/> of an entity (XEP-0030 §3.1). Category and
// Type are registered values (client/pc, server/im, conference/text, …).
type Identity struct {
	Category, Type string
	// Lang is the identity's xml:lang ("" when absent), Name its optional
	// natural-language name in that language.
	Lang, Name string
}

// Info is the answer to a disco#info request.
type Info struct {
	// Node is the node the information is about ("" for the entity itself).
	Node       string
	Identities []Identity
	Features   []string
	// Forms are XEP-0128 extended information forms (type "result").
	Forms []form.Form
}

// HasFeature reports whether info lists the feature var.
func (info Info) HasFeature(v string) bool { return slices.Contains(info.Features, v) }

// HasIdentity reports whether info has an identity with this category and
// type.
func (info Info) HasIdentity(category, typ string) bool {
	return slices.ContainsFunc(info.Identities, func(id Identity) bool {
		return id.Category == category && id.Type == typ
	})
}

// Form returns the first extended information form whose FORM_TYPE is
// formType, or nil.
func (info Info) Form(formType string) *form.Form {
	for i := range info.Forms {
		if info.Forms[i].FormType() == formType {
			return &info.Forms[i]
		}
	}
	return nil
}

// Item is one <item/> of a disco#items answer (XEP-0030 §4.1).
type Item struct {
	JID        jid.JID
	Node, Name string
}

// Items is the answer to a disco#items request.
type Items struct {
	Node  string
	Items []Item
}

// InfoRequest returns a disco#info request to to (zero: our server) about
// node ("" for the entity itself).
func InfoRequest(to jid.JID, node string) *xmlstream.Element {
	return stanza.NewIQ(stanza.TypeGet, "", to, xmlstream.New(NSInfo, "query").Set("node", node))
}

// ItemsRequest returns a disco#items request to to (zero: our server)
// for the items at node ("" for the entity itself).
func ItemsRequest(to jid.JID, node string) *xmlstream.Element {
	return stanza.NewIQ(stanza.TypeGet, "", to, xmlstream.New(NSItems, "query").Set("node", node))
}

// query returns el when it is the query local/space, or its child of that
// name when el is an <iq/>.
func query(el *xmlstream.Element, space string) *xmlstream.Element {
	if el != nil && el.Name.Local == stanza.IQ {
		el = el.Child(space, "query")
	}
	if !el.Is(space, "query") {
		return nil
	}
	return el
}

// ParseInfo reads a disco#info <query/>, or the <iq/> result carrying it.
// Identities without category or type and features without var (XEP-0030
// §3.1 makes them mandatory) are skipped, as are data forms that do not
// parse; duplicates are kept (XEP-0115 treats them as an error, so they
// must stay visible).
func ParseInfo(el *xmlstream.Element) (Info, error) {
	q := query(el, NSInfo)
	if q == nil {
		return Info{}, ErrMalformed
	}
	info := Info{Node: q.Get("node")}
	for _, c := range q.Children {
		switch {
		case c.Is(NSInfo, "identity"):
			id := Identity{Category: c.Get("category"), Type: c.Get("type"), Lang: c.Lang(), Name: c.Get("name")}
			if id.Category == "" || id.Type == "" {
				continue
			}
			if len(info.Identities) == MaxIdentities {
				return Info{}, fmt.Errorf("%w: more than %d identities", ErrTooLarge, MaxIdentities)
			}
			info.Identities = append(info.Identities, id)
		case c.Is(NSInfo, "feature"):
			v := c.Get("var")
			if v == "" {
				continue
			}
			if len(info.Features) == MaxFeatures {
				return Info{}, fmt.Errorf("%w: more than %d features", ErrTooLarge, MaxFeatures)
			}
			info.Features = append(info.Features, v)
		case c.Is(form.NS, "x"):
			f, err := form.Parse(c)
			if err != nil {
				continue
			}
			if len(info.Forms) == MaxForms {
				return Info{}, fmt.Errorf("%w: more than %d forms", ErrTooLarge, MaxForms)
			}
			info.Forms = append(info.Forms, f)
		}
	}
	return info, nil
}

// Element returns the disco#info <query/> for info: its identities,
// features and forms in order.
func (info Info) Element() *xmlstream.Element {
	q := xmlstream.New(NSInfo, "query").Set("node", info.Node)
	for _, id := range info.Identities {
		el := xmlstream.New(NSInfo, "identity", "category", id.Category, "type", id.Type)
		if id.Lang != "" {
			el.Attr = append(el.Attr, xml.Attr{Name: xml.Name{Space: xmlstream.NSXML, Local: "lang"}, Value: id.Lang})
		}
		q.Append(el.Set("name", id.Name))
	}
	for _, f := range info.Features {
		q.Append(xmlstream.New(NSInfo, "feature", "var", f))
	}
	for _, f := range info.Forms {
		q.Append(f.Element())
	}
	return q
}

// ParseItems reads a disco#items <query/>, or the <iq/> result carrying
// it. Items without a valid 'jid' (XEP-0030 §4.1 requires one) are
// skipped.
func ParseItems(el *xmlstream.Element) (Items, error) {
	q := query(el, NSItems)
	if q == nil {
		return Items{}, ErrMalformed
	}
	items := Items{Node: q.Get("node")}
	for _, c := range q.Children {
		if !c.Is(NSItems, "item") {
			continue
		}
		j, err := jid.Parse(c.Get("jid"))
		if err != nil {
			continue
		}
		if len(items.Items) == MaxItems {
			return Items{}, fmt.Errorf("%w: more than %d items", ErrTooLarge, MaxItems)
		}
		items.Items = append(items.Items, Item{JID: j, Node: c.Get("node"), Name: c.Get("name")})
	}
	return items, nil
}

// Element returns the disco#items <query/> for items.
func (items Items) Element() *xmlstream.Element {
	q := xmlstream.New(NSItems, "query").Set("node", items.Node)
	for _, it := range items.Items {
		el := xmlstream.New(NSItems, "item", "jid", it.JID.String())
		q.Append(el.Set("node", it.Node).Set("name", it.Name))
	}
	return q
}

// OwnInfo returns the Info an entity with this identity answers with: the
// features sorted and without duplicates, always including disco#info
// itself (XEP-0030 §3.1: every entity that answers disco#info supports
// it). Empty features are dropped.
func OwnInfo(id Identity, features ...string) Info {
	fs := append([]string{NSInfo}, features...)
	fs = slices.DeleteFunc(fs, func(f string) bool { return strings.TrimSpace(f) == "" })
	slices.Sort(fs)
	return Info{Identities: []Identity{id}, Features: slices.Compact(fs)}
}

// Answer returns the payload answering the disco#info request req with
// info. The request may name a node; XEP-0030 §3.2 says the answer MUST
// mirror it. Only the entity itself ("") and the nodes listed (such as the
// XEP-0115 node#ver of our capabilities) are known; any other node is
// item-not-found. A request that is not a disco#info query is bad-request.
func Answer(req *xmlstream.Element, info Info, nodes ...string) (*xmlstream.Element, error) {
	q := query(req, NSInfo)
	if q == nil {
		return nil, &stanza.Error{Condition: stanza.CondBadRequest}
	}
	node := q.Get("node")
	if node != "" && !slices.Contains(nodes, node) {
		return nil, &stanza.Error{Condition: stanza.CondItemNotFound}
	}
	info.Node = node
	return info.Element(), nil
}
