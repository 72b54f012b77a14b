package omemo

import (
	"errors"
	"fmt"

	"github.com/tern-im/tern/protocol/form"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/stanza"
)

// AccessModelOpen is the pubsub#access_model that lets anyone read a node:
// people without a presence subscription must be able to fetch our device
// list and bundles to write to us (XEP-0384 0.3 §4.3 recommends it).
const AccessModelOpen = "open"

// PublishDeviceList returns the IQ that publishes our device list (item
// 'current' of NodeDeviceList) with publish-options asking for an open
// access model. If the server answers with a precondition-not-met error
// (IsPreconditionNotMet), the node exists with another configuration: send
// ConfigureNode(NodeDeviceList), then publish again.
func PublishDeviceList(ids []uint32) *xmlstream.Element {
	return publish(NodeDeviceList, DeviceListElement(ids))
}

// PublishBundle returns the IQ that publishes our bundle (item 'current'
// of BundleNode(device)), with publish-options as PublishDeviceList.
func PublishBundle(device uint32, b Bundle) *xmlstream.Element {
	return publish(BundleNode(device), b.Element())
}

// publish builds a PEP publish of one 'current' item with publish-options
// (XEP-0060 §7.1.5) requesting the open access model.
func publish(node string, payload *xmlstream.Element) *xmlstream.Element {
	opts := form.Form{Type: form.TypeSubmit, Fields: []form.Field{
		form.FormTypeField(NSPublishOptions),
		{Var: "pubsub#access_model", Values: []string{AccessModelOpen}},
	}}
	ps := xmlstream.New(NSPubSub, "pubsub").Append(
		xmlstream.New(NSPubSub, "publish", "node", node).Append(
			xmlstream.New(NSPubSub, "item", "id", ItemCurrent).Append(payload)),
		xmlstream.New(NSPubSub, "publish-options").Append(opts.Element()),
	)
	return stanza.NewIQ(stanza.TypeSet, "", jid.JID{}, ps)
}

// ConfigureNode returns the IQ that sets the access model of one of our
// nodes to open (XEP-0060 §8.2.4), the fallback when publish-options fail
// with precondition-not-met.
func ConfigureNode(node string) *xmlstream.Element {
	cfg := form.Form{Type: form.TypeSubmit, Fields: []form.Field{
		form.FormTypeField(NSNodeConfig),
		{Var: "pubsub#access_model", Values: []string{AccessModelOpen}},
	}}
	ps := xmlstream.New(NSPubSubOwner, "pubsub").Append(
		xmlstream.New(NSPubSubOwner, "configure", "node", node).Append(cfg.Element()))
	return stanza.NewIQ(stanza.TypeSet, "", jid.JID{}, ps)
}

// IsPreconditionNotMet reports whether err (from sending a publish) is the
// XEP-0060 §7.1.5 error saying that the node's configuration differs from
// the publish-options.
func IsPreconditionNotMet(err error) bool {
	var se *stanza.Error
	return errors.As(err, &se) && se.App.Is(NSPubSubErrors, "precondition-not-met")
}

// FetchDeviceList returns the IQ that fetches owner's device list. A
// result is read with ParseDeviceListResult; an item-not-found error
// (stanza.ErrItemNotFound) means the account publishes no OMEMO devices.
func FetchDeviceList(owner jid.JID) *xmlstream.Element {
	return fetch(owner, NodeDeviceList)
}

// FetchBundle returns the IQ that fetches one device's bundle; read the
// result with ParseBundleResult.
func FetchBundle(owner jid.JID, device uint32) *xmlstream.Element {
	return fetch(owner, BundleNode(device))
}

func fetch(owner jid.JID, node string) *xmlstream.Element {
	ps := xmlstream.New(NSPubSub, "pubsub").Append(xmlstream.New(NSPubSub, "items", "node", node, "max_items", "1"))
	return stanza.NewIQ(stanza.TypeGet, "", owner.Bare(), ps)
}

// resultItems returns the <items/> of a pubsub IQ result.
func resultItems(iq *xmlstream.Element) (*xmlstream.Element, error) {
	if iq == nil || iq.Name.Local != stanza.IQ || iq.Get("type") != stanza.TypeResult {
		return nil, fmt.Errorf("%w: not an IQ result", ErrMalformed)
	}
	items := iq.Child(NSPubSub, "pubsub").Child(NSPubSub, "items")
	if items == nil {
		return nil, fmt.Errorf("%w: pubsub result without <items/>", ErrMalformed)
	}
	return items, nil
}

// ParseDeviceListResult reads the device ids from the result of
// FetchDeviceList. Whose list it is follows from where the request went;
// the session only accepts replies from there.
func ParseDeviceListResult(iq *xmlstream.Element) ([]uint32, error) {
	items, err := resultItems(iq)
	if err != nil {
		return nil, err
	}
	return ParseDeviceListItems(items)
}

// ParseBundleResult reads the bundle from the result of
// FetchBundle(owner, device) and validates it.
func ParseBundleResult(iq *xmlstream.Element, device uint32) (Bundle, error) {
	items, err := resultItems(iq)
	if err != nil {
		return Bundle{}, err
	}
	return ParseBundleItems(items, device)
}
