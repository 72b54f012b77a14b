// Package sid implements XEP-0359 Unique and Stable Stanza IDs (version
// 0.7.0): the <origin-id/> a client puts on the messages it sends, and the
// <stanza-id/> an archiving entity (our server for one-to-one messages, a
// MUC room for its messages) stamps on the messages it stores.
//
// # Which stanza-ids to believe
//
// Anyone can put a <stanza-id by='…'/> into a message they send. XEP-0359
// §3 (rule 2) makes an entity that assigns stanza-ids delete any it finds
// that carry its own address in 'by', so a stanza-id is trustworthy only
// when all of the following hold (§5, XEP-0313 §3.1):
//
//   - its 'by' is the entity that delivered the stanza to us and archives
//     it: our own bare JID for messages our server delivers (one-to-one
//     chats, carbons), the room's bare JID for groupchat messages from a
//     room;
//   - that entity announces urn:xmpp:sid:0 in disco#info (our server: also
//     urn:xmpp:mam:2), so it really strips forgeries;
//   - the element is a direct child of the stanza that entity delivered —
//     not of a message forwarded inside something else, where the sender
//     wrote whatever it liked.
//
// [StanzaIDs] applies the first rule; the caller is responsible for the
// other two, by passing only the entities it verified and only stanzas they
// delivered. Everything else — a stanza-id claiming our account on a
// message from a room, one claiming a room on a direct message, one whose
// 'by' is a server domain — is ignored.
//
// Origin-ids are chosen by the sender and can be spoofed (§5): use them to
// recognise our own messages coming back, never to reference someone
// else's.
package sid

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
)

// NS is the XEP-0359 namespace, also the disco#info feature an entity that
// follows its rules announces (§5).
const NS = "urn:xmpp:sid:0"

// MaxID is the longest stanza-id or origin-id accepted from a peer, in
// bytes. The XEP recommends UUIDs (36 bytes); longer values are refused so
// that a peer cannot make us store and index arbitrarily large keys.
const MaxID = 256

// ErrMalformed is returned for an element that is not a valid stanza-id or
// origin-id.
var ErrMalformed = errors.New("sid: malformed stanza id")

// StanzaID is a <stanza-id/>: the id under which By archived the stanza.
type StanzaID struct {
	// ID is the archive's id for the stanza, opaque.
	ID string
	// By is the entity that assigned it: an account's or a room's bare JID.
	By jid.JID
}

// Element returns s as a <stanza-id/> element.
func (s StanzaID) Element() *xmlstream.Element {
	return xmlstream.New(NS, "stanza-id", "id", s.ID, "by", s.By.String())
}

// ParseStanzaID reads a <stanza-id/> element: it needs a non-empty 'id' of
// at most MaxID bytes and a 'by' that is a valid JID (XEP-0359 §3 rules 5
// and 6).
func ParseStanzaID(el *xmlstream.Element) (StanzaID, error) {
	if !el.Is(NS, "stanza-id") {
		return StanzaID{}, ErrMalformed
	}
	id, err := checkID(el)
	if err != nil {
		return StanzaID{}, err
	}
	by, err := jid.Parse(el.Get("by"))
	if err != nil {
		return StanzaID{}, fmt.Errorf("%w: 'by': %w", ErrMalformed, err)
	}
	return StanzaID{ID: id, By: by}, nil
}

// StanzaIDs returns the stanza-ids among the direct children of stanza that
// were assigned by one of the trusted entities, compared as bare JIDs: at
// most one per entity. When a stanza carries two stanza-ids with the same
// 'by' (which XEP-0359 §3 rule 4 forbids), neither can be told apart from a
// forgery and both are ignored. Read the package documentation for which
// entities to trust; an empty trusted list yields nothing.
func StanzaIDs(stanza *xmlstream.Element, trusted ...jid.JID) []StanzaID {
	if stanza == nil || len(trusted) == 0 {
		return nil
	}
	var out []StanzaID
	for _, t := range trusted {
		if t.IsZero() {
			continue
		}
		want := t.Bare()
		var found StanzaID
		n := 0
		for _, c := range stanza.Children {
			if !c.Is(NS, "stanza-id") {
				continue
			}
			s, err := ParseStanzaID(c)
			if err != nil || s.By != want {
				continue
			}
			found = s
			n++
		}
		if n == 1 {
			out = append(out, found)
		}
	}
	return out
}

// Strip removes from stanza every <stanza-id/> child whose 'by' is by
// (compared as bare JIDs), as XEP-0359 §3 rule 2 asks of the entity by, and
// reports how many it removed. A client uses it before re-sending or
// storing a stanza it received from elsewhere under an identity it does not
// want forged, such as a forwarded message claiming our own archive.
func Strip(stanza *xmlstream.Element, by jid.JID) int {
	if stanza == nil {
		return 0
	}
	want := by.Bare()
	kept := stanza.Children[:0]
	n := 0
	for _, c := range stanza.Children {
		if c.Is(NS, "stanza-id") {
			if b, err := jid.Parse(c.Get("by")); err == nil && b.Bare() == want {
				n++
				continue
			}
		}
		kept = append(kept, c)
	}
	clear(stanza.Children[len(kept):])
	stanza.Children = kept
	return n
}

// NewOriginID returns a fresh origin id: 128 random bits in unpadded
// URL-safe base64 (22 characters), unpredictable as XEP-0359 §3 rule 1
// asks.
func NewOriginID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (it crashes the program instead)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// OriginID returns an <origin-id/> element with the given id.
func OriginID(id string) *xmlstream.Element {
	return xmlstream.New(NS, "origin-id", "id", id)
}

// ParseOriginID returns the id of the first valid <origin-id/> child of
// stanza, or "" when there is none. The value is chosen by the sender: see
// the package documentation.
func ParseOriginID(stanza *xmlstream.Element) string {
	if stanza == nil {
		return ""
	}
	for _, c := range stanza.Children {
		if !c.Is(NS, "origin-id") {
			continue
		}
		if id, err := checkID(c); err == nil {
			return id
		}
	}
	return ""
}

// checkID returns the 'id' attribute of a stanza-id or origin-id element.
func checkID(el *xmlstream.Element) (string, error) {
	id := el.Get("id")
	switch {
	case id == "":
		return "", fmt.Errorf("%w: no id", ErrMalformed)
	case len(id) > MaxID:
		return "", fmt.Errorf("%w: id longer than %d bytes", ErrMalformed, MaxID)
	}
	return id, nil
}
