// Package blocking implements XEP-0191 Blocking Command (version 1.3):
// fetching the blocklist, blocking and unblocking JIDs, the pushes by
// which the server keeps every resource's copy in sync, and the JID
// matching rules that decide whom a blocklist entry covers.
package blocking

import (
	"errors"
	"fmt"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/stanza"
)

// Namespaces.
const (
	// NS is the XEP-0191 namespace and disco feature.
	NS = "urn:xmpp:blocking"
	// NSErrors qualifies the <blocked/> application error a server
	// returns for a stanza we sent to a JID we block (§3.3).
	NSErrors = "urn:xmpp:blocking:errors"
)

// MaxItems is the largest blocklist or command accepted from the server.
const MaxItems = 10000

var (
	// ErrMalformed: the element is not a blocklist or command, or a
	// command lists JIDs none of which is valid.
	ErrMalformed = errors.New("blocking: malformed element")
	// ErrTooLarge: more than MaxItems items.
	ErrTooLarge = errors.New("blocking: too many items")
	// ErrNoJIDs: a block or unblock command needs at least one JID (use
	// UnblockAll to clear the list).
	ErrNoJIDs = errors.New("blocking: no JIDs to block or unblock")
)

// List is a blocklist: the JIDs blocked, in the server's order.
type List []jid.JID

// Command is a <block/> or <unblock/>: a request we send, or a push from
// the server announcing a change made by one of our resources.
type Command struct {
	// Block is set for <block/>, clear for <unblock/>.
	Block bool
	// JIDs are the JIDs concerned. An unblock without JIDs unblocks
	// everyone (§3.4).
	JIDs []jid.JID
}

// All reports whether c unblocks every JID.
func (c Command) All() bool { return !c.Block && len(c.JIDs) == 0 }

// ListRequest returns the request for our blocklist (§3.2).
func ListRequest() *xmlstream.Element {
	return stanza.NewIQ(stanza.TypeGet, "", jid.JID{}, xmlstream.New(NS, "blocklist"))
}

// Block returns the request that blocks jids (§3.3).
func Block(jids ...jid.JID) (*xmlstream.Element, error) {
	return command(true, jids)
}

// Unblock returns the request that unblocks jids (§3.4).
func Unblock(jids ...jid.JID) (*xmlstream.Element, error) {
	return command(false, jids)
}

// UnblockAll returns the request that empties the blocklist (§3.5).
func UnblockAll() *xmlstream.Element {
	return stanza.NewIQ(stanza.TypeSet, "", jid.JID{}, Command{}.Element())
}

func command(block bool, jids []jid.JID) (*xmlstream.Element, error) {
	if len(jids) == 0 {
		return nil, ErrNoJIDs
	}
	for _, j := range jids {
		if j.IsZero() {
			return nil, fmt.Errorf("%w: an empty JID", ErrNoJIDs)
		}
	}
	return stanza.NewIQ(stanza.TypeSet, "", jid.JID{}, Command{Block: block, JIDs: jids}.Element()), nil
}

// payload returns el, or its child named local when el is an <iq/>.
func payload(el *xmlstream.Element, locals ...string) *xmlstream.Element {
	if el != nil && el.Name.Local == stanza.IQ {
		for _, l := range locals {
			if c := el.Child(NS, l); c != nil {
				return c
			}
		}
		return nil
	}
	for _, l := range locals {
		if el.Is(NS, l) {
			return el
		}
	}
	return nil
}

// items reads the valid JIDs of el's <item/> children, and whether it
// had any <item/> at all.
func items(el *xmlstream.Element) ([]jid.JID, bool, error) {
	var js []jid.JID
	hadItems := false
	for _, c := range el.Children {
		if !c.Is(NS, "item") {
			continue
		}
		hadItems = true
		j, err := jid.Parse(c.Get("jid"))
		if err != nil {
			continue
		}
		if len(js) == MaxItems {
			return nil, true, fmt.Errorf("%w: more than %d", ErrTooLarge, MaxItems)
		}
		js = append(js, j)
	}
	return js, hadItems, nil
}

// ParseList reads a <blocklist/>, or the IQ result carrying it. Items
// with a missing or invalid JID are skipped.
func ParseList(el *xmlstream.Element) (List, error) {
	bl := payload(el, "blocklist")
	if bl == nil {
		return nil, ErrMalformed
	}
	js, _, err := items(bl)
	return List(js), err
}

// Element returns the <blocklist/> for l.
func (l List) Element() *xmlstream.Element {
	el := xmlstream.New(NS, "blocklist")
	for _, j := range l {
		el.Append(xmlstream.New(NS, "item", "jid", j.String()))
	}
	return el
}

// ParseCommand reads a <block/> or <unblock/>, or the IQ set carrying it
// (a push, §3.3, §3.4). Items with invalid JIDs are skipped, but a
// command whose items are all invalid is ErrMalformed: an unblock must
// never turn into "unblock everyone" because its JIDs did not parse, and
// a block needs at least one JID (§3.3).
func ParseCommand(el *xmlstream.Element) (Command, error) {
	c := payload(el, "block", "unblock")
	if c == nil {
		return Command{}, ErrMalformed
	}
	js, hadItems, err := items(c)
	if err != nil {
		return Command{}, err
	}
	cmd := Command{Block: c.Name.Local == "block", JIDs: js}
	if len(js) == 0 && (hadItems || cmd.Block) {
		return Command{}, fmt.Errorf("%w: no valid JID in <%s/>", ErrMalformed, c.Name.Local)
	}
	return cmd, nil
}

// Element returns the <block/> or <unblock/> for c.
func (c Command) Element() *xmlstream.Element {
	name := "unblock"
	if c.Block {
		name = "block"
	}
	el := xmlstream.New(NS, name)
	for _, j := range c.JIDs {
		el.Append(xmlstream.New(NS, "item", "jid", j.String()))
	}
	return el
}

// PushAllowed reports whether a blocklist push from from may be applied
// for the account own: like a roster push (RFC 6121 §2.1.6), it must come
// from our own account, with no 'from' or with our bare JID as 'from'.
func PushAllowed(from, own jid.JID) bool {
	return from.IsZero() || from == own.Bare()
}

// Matches reports whether the blocklist entry item covers the address j,
// by the matching order of XEP-0191 §7 (that of XEP-0016):
// user@domain/resource matches only that resource; user@domain any of
// its resources; domain/resource only that resource; and domain the
// domain itself and every address at it.
func Matches(item, j jid.JID) bool {
	switch {
	case item.IsZero():
		return false
	case item.Local() == "" && item.Resource() == "":
		return j.Domain() == item.Domain()
	case item.Resource() == "":
		return j.Bare() == item
	default:
		return j == item
	}
}

// Blocked reports whether any entry of l covers j (see Matches).
func (l List) Blocked(j jid.JID) bool {
	for _, item := range l {
		if Matches(item, j) {
			return true
		}
	}
	return false
}

// IsBlockedError reports whether err is the error a server returns for a
// stanza we sent to a JID we block: not-acceptable with the <blocked/>
// application condition (§3.3).
func IsBlockedError(err *stanza.Error) bool {
	return err != nil && err.Condition == stanza.CondNotAcceptable && err.App.Is(NSErrors, "blocked")
}
