package omemo

import (
	"fmt"
	"slices"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
)

// ParseDeviceList reads a <list xmlns='eu.siacs.conversations.axolotl'/>
// and returns its device ids, ascending and without repeats. Entries whose
// id is not in 1..2³¹−1 are skipped rather than failing the list, so one
// bad entry from a buggy client does not make every device of the account
// unreachable. More than MaxDevices valid entries is an error.
func ParseDeviceList(el *xmlstream.Element) ([]uint32, error) {
	if !el.Is(NS, "list") {
		return nil, fmt.Errorf("%w: not a device <list/>", ErrMalformed)
	}
	ids := []uint32{}
	for _, c := range el.Children {
		if !c.Is(NS, "device") {
			continue
		}
		id, err := parseID(c.Get("id"))
		if err != nil {
			continue
		}
		if len(ids) == MaxDevices {
			return nil, fmt.Errorf("%w: more than %d devices", ErrTooLarge, MaxDevices)
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

// DeviceListElement returns the <list/> of the given device ids, ascending
// and without repeats; invalid ids are left out.
func DeviceListElement(ids []uint32) *xmlstream.Element {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	list := xmlstream.New(NS, "list")
	for _, id := range ids {
		if ValidID(id) {
			list.Append(xmlstream.New(NS, "device", "id", formatID(id)))
		}
	}
	return list
}

// ParseDeviceListItems reads the device list from the <items/> of a PEP
// result or notification for NodeDeviceList. Any item id is accepted
// (XEP-0060 says 'current', not every client obeys); the last item with a
// <list/> wins. No item, or an item without a list (a node that was
// purged), is an empty list.
func ParseDeviceListItems(items *xmlstream.Element) ([]uint32, error) {
	if items == nil || items.Get("node") != NodeDeviceList {
		return nil, fmt.Errorf("%w: not the items of %s", ErrMalformed, NodeDeviceList)
	}
	var list *xmlstream.Element
	for _, it := range items.Children {
		if it.Name.Local != "item" {
			continue
		}
		if l := it.Child(NS, "list"); l != nil {
			list = l
		}
	}
	if list == nil {
		return []uint32{}, nil
	}
	return ParseDeviceList(list)
}

// ParseDeviceListEvent reads a PEP notification of a device list (a
// <message/> with <event xmlns='…pubsub#event'><items
// node='eu.siacs.conversations.axolotl.devicelist'/>) and returns whose
// list it is and its ids.
//
// The owner is the message's sender, which must be a bare JID: PEP
// notifications come from the account's bare JID (XEP-0163 §4.3.2), while
// anything a client sends carries its full JID. A notification without
// 'from' comes from our own account (RFC 6120 §8.1.2.1), so own is
// returned. Anything else — a full JID, a bare domain — yields ErrSpoofed.
// A message that is not such a notification yields ErrMalformed.
func ParseDeviceListEvent(msg *xmlstream.Element, own jid.JID) (owner jid.JID, ids []uint32, err error) {
	if msg == nil || msg.Get("type") == "error" {
		return jid.JID{}, nil, fmt.Errorf("%w: not a device list notification", ErrMalformed)
	}
	var items *xmlstream.Element
	if ev := msg.Child(NSPubSubEvent, "event"); ev != nil {
		for _, c := range ev.Children {
			if c.Is(NSPubSubEvent, "items") && c.Get("node") == NodeDeviceList {
				items = c
			}
		}
	}
	if items == nil {
		return jid.JID{}, nil, fmt.Errorf("%w: not a device list notification", ErrMalformed)
	}
	owner, err = DeviceListOwner(msg.Get("from"), own)
	if err != nil {
		return jid.JID{}, nil, err
	}
	ids, err = ParseDeviceListItems(items)
	if err != nil {
		return jid.JID{}, nil, err
	}
	return owner, ids, nil
}

// DeviceListOwner returns whose device list a stanza from 'from' (the
// attribute's value, "" when absent) may carry: the sender itself when it
// is a bare JID with a localpart, our own bare JID when there is no
// 'from'; anything else is ErrSpoofed. The engine applies the same rule to
// every device list it receives, in notifications and in fetch results.
func DeviceListOwner(from string, own jid.JID) (jid.JID, error) {
	if from == "" {
		if own.IsZero() {
			return jid.JID{}, ErrSpoofed
		}
		return own.Bare(), nil
	}
	j, err := jid.Parse(from)
	if err != nil || j.Local() == "" || j.Resource() != "" {
		return jid.JID{}, ErrSpoofed
	}
	return j, nil
}
