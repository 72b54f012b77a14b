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
//
// # Servers that refuse the publish-options
//
// §4.2 requires the publication to carry publish-options (Publish). A
// server that refuses them — one that does not know a field (ejabberd
// 23.01 knows only persist_items and access_model), or whose node exists
// with another configuration — is handled by the node's owner configuring
// the node (Configure, or CreateConfigured when it does not exist yet)
// and then publishing with the privacy preconditions only (PublishPrivate,
// XEP-0223 §3): the item is never stored where others could read it.
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
	nsPubSubOwner   = "http://jabber.org/protocol/pubsub#owner"
	nsPublishOpts   = "http://jabber.org/protocol/pubsub#publish-options"
	nsNodeConfig    = "http://jabber.org/protocol/pubsub#node_config"
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
func Publish(d Displayed) *xmlstream.Element {
	return publish(d, nodeOptions(nsPublishOpts))
}

// PublishPrivate returns the IQ that publishes d with only the
// preconditions that keep it private (XEP-0223 §3: persist_items true,
// access model whitelist). It is for a server that refuses the other
// publish-options of Publish, after the node was configured as §4.2
// requires (Configure, CreateConfigured): the preconditions still make the
// server refuse the item should the node have become readable by others.
func PublishPrivate(d Displayed) *xmlstream.Element {
	return publish(d, form.Form{Type: form.TypeSubmit, Fields: []form.Field{
		form.FormTypeField(nsPublishOpts),
		{Var: "pubsub#persist_items", Values: []string{"true"}},
		{Var: "pubsub#access_model", Values: []string{"whitelist"}},
	}})
}

func publish(d Displayed, opts form.Form) *xmlstream.Element {
	item := xmlstream.New(nsPubSub, "item", "id", d.Chat.String()).Append(d.Element())
	ps := xmlstream.New(nsPubSub, "pubsub").Append(
		xmlstream.New(nsPubSub, "publish", "node", Node).Append(item),
		xmlstream.New(nsPubSub, "publish-options").Append(opts.Element()),
	)
	return stanza.NewIQ(stanza.TypeSet, "", jid.JID{}, ps)
}

// nodeOptions is the configuration §4.2 requires, as a form of formType
// (publish-options or node_config).
func nodeOptions(formType string) form.Form {
	return form.Form{Type: form.TypeSubmit, Fields: []form.Field{
		form.FormTypeField(formType),
		{Var: "pubsub#persist_items", Values: []string{"true"}},
		{Var: "pubsub#max_items", Values: []string{maxItemsDefault}},
		{Var: "pubsub#send_last_published_item", Values: []string{"never"}},
		{Var: "pubsub#access_model", Values: []string{"whitelist"}},
	}}
}

// Configure returns the IQ by which the node's owner gives our existing
// node the configuration §4.2 requires (XEP-0060 §8.2.4, the submitted
// node_config form). A node that does not exist yet is answered with
// item-not-found: create it with CreateConfigured.
func Configure() *xmlstream.Element {
	ps := xmlstream.New(nsPubSubOwner, "pubsub").Append(
		xmlstream.New(nsPubSubOwner, "configure", "node", Node).Append(nodeOptions(nsNodeConfig).Element()))
	return stanza.NewIQ(stanza.TypeSet, "", jid.JID{}, ps)
}

// CreateConfigured returns the IQ that creates our node with the
// configuration §4.2 requires (XEP-0060 §8.1.3, create and configure). A
// node created meanwhile (by another of our clients) is answered with
// conflict: configure it with Configure.
func CreateConfigured() *xmlstream.Element {
	ps := xmlstream.New(nsPubSub, "pubsub").Append(
		xmlstream.New(nsPubSub, "create", "node", Node),
		xmlstream.New(nsPubSub, "configure").Append(nodeOptions(nsNodeConfig).Element()))
	return stanza.NewIQ(stanza.TypeSet, "", jid.JID{}, ps)
}

// OptionsRefused reports whether err, the answer to Publish, says that the
// server did not take the publication's publish-options, so that
// configuring the node (Configure, then PublishPrivate) may succeed where
// Publish did not: the node exists with another configuration (XEP-0060
// §7.1.5: conflict, precondition-not-met), or the server does not know a
// field (it "MUST reject the publication upon encountering unknown
// fields": ejabberd 23.01, which knows only persist_items and access_model
// there, answers resource-constraint; others bad-request, not-acceptable
// or policy-violation), or publish-options at all (feature-not-implemented).
func OptionsRefused(err error) bool {
	for _, e := range []error{stanza.ErrConflict, stanza.ErrResourceConstraint, stanza.ErrBadRequest,
		stanza.ErrNotAcceptable, stanza.ErrPolicyViolation, stanza.ErrFeatureNotImplemented} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
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
