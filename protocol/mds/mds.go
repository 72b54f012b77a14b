// Package mds implements XEP-0490 Message Displayed Synchronization
// (version 1.0.1): the private PEP node urn:xmpp:mds:displayed:0 in which a
// user's clients record, per conversation, the XEP-0359 stanza-id of the
// newest message displayed, so that reading on one device clears the unread
// count on the others.
//
// Each item's id is the JID of the conversation (a contact's bare JID, a
// room's bare JID, or an occupant's full JID for a private message) and its
// payload one <displayed/> holding exactly one <stanza-id/> (§4.1). The
// stanza-id is the one our own server assigned (by = our bare JID) for
// one-to-one chats, the room's for group chats (§4.2).
//
// # Security
//
// The node is private (access model whitelist, §4.2): only our own account
// publishes to it and receives its notifications. A notification counts only
// when it comes from our own bare JID; the caller checks that, and applies
// the business rules of §5 (the displayed position only moves forward; a
// stanza-id not found in the conversation is ignored).
package mds

import (
	"errors"
	"fmt"

	"github.com/tern-im/tern/protocol/form"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/sid"
	"github.com/tern-im/tern/protocol/stanza"
)

// Namespaces, node and features.
const (
	// NS is the XEP-0490 namespace of <displayed/>, and the PEP node.
	NS = "urn:xmpp:mds:displayed:0"
	// Node is the PEP node that holds the items (the namespace itself).
	Node = NS
	// FeatureNotify is the XEP-0115 feature a client announces to receive
	// notifications of the node (XEP-0163 "+notify", §4.3).
	FeatureNotify = NS + "+notify"
	// FeatureServerAssist is announced by servers that publish the item
	// from a <displayed/> sent along with a XEP-0333 marker (§4.5).
	FeatureServerAssist = "urn:xmpp:mds:server-assist:0"

	nsPubSub        = "http://jabber.org/protocol/pubsub"
	nsPubSubEvent   = "http://jabber.org/protocol/pubsub#event"
	nsPublishOpts   = "http://jabber.org/protocol/pubsub#publish-options"
	maxItemsDefault = "max"
)

// MaxItems is the largest number of items read from one result or
// notification; the rest are ignored (a peer must not make us allocate
// without bound; a user has far fewer conversations).
const MaxItems = 10000

// ErrMalformed is returned for a result or notification that is not valid
// XEP-0490.
var ErrMalformed = errors.New("mds: malformed displayed element")

// Displayed is one item of the node: the conversation Chat has been
// displayed up to the message the archive By gave the stanza-id ID.
type Displayed struct {
	// Chat is the conversation: the item id.
	Chat jid.JID
	// StanzaID is the stanza-id of the newest displayed message.
	StanzaID sid.StanzaID
}

// Element returns the <displayed/> payload of d.
func (d Displayed) Element() *xmlstream.Element {
	return xmlstream.New(NS, "displayed").Append(d.StanzaID.Element())
}

// Publish returns the IQ that publishes d to our own node, with the
// publish-options §4.2 requires: a persistent, whitelist-only node keeping
// an item per conversation, whose last item is not sent on subscription.
func Publish(d Displayed) *xmlstream.Element { return PublishMaxItems(d, maxItemsDefault) }

// FallbackMaxItems is the max_items to publish with when a server refuses
// "max" (ejabberd answers resource-constraint; its default limit per node
// is 1000 items).
const FallbackMaxItems = "1000"

// PublishMaxItems is Publish with another pubsub#max_items value, for
// servers that do not accept "max".
func PublishMaxItems(d Displayed, maxItems string) *xmlstream.Element {
	item := xmlstream.New(nsPubSub, "item", "id", d.Chat.String()).Append(d.Element())
	opts := form.Form{Type: form.TypeSubmit, Fields: []form.Field{
		form.FormTypeField(nsPublishOpts),
		{Var: "pubsub#persist_items", Values: []string{"true"}},
		{Var: "pubsub#max_items", Values: []string{maxItems}},
		{Var: "pubsub#send_last_published_item", Values: []string{"never"}},
		{Var: "pubsub#access_model", Values: []string{"whitelist"}},
	}}
	ps := xmlstream.New(nsPubSub, "pubsub").Append(
		xmlstream.New(nsPubSub, "publish", "node", Node).Append(item),
		xmlstream.New(nsPubSub, "publish-options").Append(opts.Element()),
	)
	return stanza.NewIQ(stanza.TypeSet, "", jid.JID{}, ps)
}

// ItemsRequest returns the IQ that fetches every item of our own node
// (§4.4: at each new session, after initial presence).
func ItemsRequest() *xmlstream.Element {
	ps := xmlstream.New(nsPubSub, "pubsub").Append(xmlstream.New(nsPubSub, "items", "node", Node))
	return stanza.NewIQ(stanza.TypeGet, "", jid.JID{}, ps)
}

// IsNotification reports whether msg is a PEP notification of the node
// (it may still be malformed; Parse tells).
func IsNotification(msg *xmlstream.Element) bool {
	ev := msg.Child(nsPubSubEvent, "event")
	if ev == nil {
		return false
	}
	items := ev.Child(nsPubSubEvent, "items")
	return items != nil && items.Get("node") == Node
}

// Parse reads the items of the node from an IQ result (<pubsub><items/>)
// or a PEP notification message (<event><items/>). Items without a valid
// JID as id or without exactly one valid <stanza-id/> in a <displayed/>
// are skipped (they say nothing usable); retractions in a notification are
// ignored. An element with neither wrapper, or whose items are for another
// node, is ErrMalformed.
func Parse(el *xmlstream.Element) ([]Displayed, error) {
	var items *xmlstream.Element
	space := nsPubSub
	if ps := el.Child(nsPubSub, "pubsub"); ps != nil {
		items = ps.Child(nsPubSub, "items")
	} else if ev := el.Child(nsPubSubEvent, "event"); ev != nil {
		items, space = ev.Child(nsPubSubEvent, "items"), nsPubSubEvent
	}
	if items == nil {
		return nil, fmt.Errorf("%w: no <items/>", ErrMalformed)
	}
	if items.Get("node") != Node {
		return nil, fmt.Errorf("%w: items of node %q", ErrMalformed, items.Get("node"))
	}
	var out []Displayed
	for _, it := range items.Children {
		if len(out) >= MaxItems {
			break
		}
		if !it.Is(space, "item") {
			continue
		}
		d, ok := parseItem(it)
		if ok {
			out = append(out, d)
		}
	}
	return out, nil
}

// parseItem reads one <item/>.
func parseItem(it *xmlstream.Element) (Displayed, bool) {
	chat, err := jid.Parse(it.Get("id"))
	if err != nil || chat.IsZero() {
		return Displayed{}, false
	}
	disp := it.Child(NS, "displayed")
	if disp == nil {
		return Displayed{}, false
	}
	var found []*xmlstream.Element
	for _, c := range disp.Children {
		if c.Is(sid.NS, "stanza-id") {
			found = append(found, c)
		}
	}
	// §4.1: exactly one stanza-id.
	if len(found) != 1 {
		return Displayed{}, false
	}
	s, err := sid.ParseStanzaID(found[0])
	if err != nil || s.By.IsZero() {
		return Displayed{}, false
	}
	return Displayed{Chat: chat, StanzaID: s}, true
}
