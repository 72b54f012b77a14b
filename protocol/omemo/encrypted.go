package omemo

import (
	"fmt"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
)

// Key is one <key/> of a message header: the message key, encrypted by
// the Signal session with one recipient device.
type Key struct {
	// RID is the recipient's device id.
	RID uint32
	// PreKey reports that Data is a PreKeySignalMessage, which builds a
	// new session; otherwise it is a SignalMessage of an existing session.
	PreKey bool
	// Data is the serialised Signal message.
	Data []byte
}

// Encrypted is the <encrypted/> element of an OMEMO message (XEP-0384 0.3
// §4.5 "Sending a message").
type Encrypted struct {
	// SID is the sender's device id.
	SID uint32
	// Keys are the message key encrypted for each recipient device.
	Keys []Key
	// IV is the AES-GCM initialisation vector: 12 bytes, or 16 from older
	// clients. In a key-transport message (no payload) it carries no
	// meaning and may be empty.
	IV []byte
	// Payload is the AES-128-GCM ciphertext of the body. Nil means a
	// key-transport message, which only carries key material (to complete
	// or heal a session, or as a heartbeat).
	Payload []byte
}

// KeyTransport reports whether e is a key-transport message (no payload).
func (e Encrypted) KeyTransport() bool { return e.Payload == nil }

// KeysFor returns the keys addressed to device rid, in document order.
// XEP-0384 0.3 does not say whose device a <key/> is for, so two recipients'
// devices may share an id; the receiver tries each.
func (e Encrypted) KeysFor(rid uint32) []Key {
	var out []Key
	for _, k := range e.Keys {
		if k.RID == rid {
			out = append(out, k)
		}
	}
	return out
}

// ParseEncrypted reads an <encrypted xmlns='eu.siacs.conversations.axolotl'/>
// element. It requires a valid sender id, at least one key, and an IV of
// 12 or 16 bytes when there is a payload. A <key/> with prekey='true' or
// prekey='1' carries a PreKeySignalMessage; any other value or none means
// a SignalMessage.
func ParseEncrypted(el *xmlstream.Element) (Encrypted, error) {
	if !el.Is(NS, "encrypted") {
		return Encrypted{}, fmt.Errorf("%w: not an <encrypted/> element", ErrMalformed)
	}
	header := el.Child(NS, "header")
	if header == nil {
		return Encrypted{}, fmt.Errorf("%w: <encrypted/> without <header/>", ErrMalformed)
	}
	var e Encrypted
	var err error
	if e.SID, err = parseID(header.Get("sid")); err != nil {
		return Encrypted{}, fmt.Errorf("%w: header sid %q: %w", ErrMalformed, clip(header.Get("sid")), err)
	}
	ivSeen := false
	for _, c := range header.Children {
		if c.Name.Space != NS {
			continue
		}
		switch c.Name.Local {
		case "key":
			if len(e.Keys) == MaxKeys {
				return Encrypted{}, fmt.Errorf("%w: more than %d keys", ErrTooLarge, MaxKeys)
			}
			k, err := parseKey(c)
			if err != nil {
				return Encrypted{}, err
			}
			e.Keys = append(e.Keys, k)
		case "iv":
			if ivSeen {
				return Encrypted{}, fmt.Errorf("%w: more than one <iv/>", ErrMalformed)
			}
			ivSeen = true
			if e.IV, err = decode(c.Text, LegacyIVSize); err != nil {
				return Encrypted{}, fmt.Errorf("%w: <iv/>: %w", ErrMalformed, err)
			}
		}
	}
	if len(e.Keys) == 0 {
		return Encrypted{}, fmt.Errorf("%w: header without keys", ErrMalformed)
	}
	payloads := 0
	for _, c := range el.Children {
		if !c.Is(NS, "payload") {
			continue
		}
		if payloads++; payloads > 1 {
			return Encrypted{}, fmt.Errorf("%w: more than one <payload/>", ErrMalformed)
		}
		if e.Payload, err = decode(c.Text, MaxPayload); err != nil {
			return Encrypted{}, fmt.Errorf("%w: <payload/>: %w", ErrMalformed, err)
		}
		if e.Payload == nil {
			e.Payload = []byte{}
		}
	}
	if e.Payload != nil && len(e.IV) != IVSize && len(e.IV) != LegacyIVSize {
		return Encrypted{}, fmt.Errorf("%w: IV of %d bytes", ErrMalformed, len(e.IV))
	}
	return e, nil
}

func parseKey(c *xmlstream.Element) (Key, error) {
	rid, err := parseID(c.Get("rid"))
	if err != nil {
		return Key{}, fmt.Errorf("%w: key rid %q: %w", ErrMalformed, clip(c.Get("rid")), err)
	}
	data, err := decode(c.Text, MaxKeyData)
	if err != nil {
		return Key{}, fmt.Errorf("%w: key for %d: %w", ErrMalformed, rid, err)
	}
	if len(data) == 0 {
		return Key{}, fmt.Errorf("%w: empty key for %d", ErrMalformed, rid)
	}
	p := c.Get("prekey")
	return Key{RID: rid, PreKey: p == "true" || p == "1", Data: data}, nil
}

// Element returns the <encrypted/> element for e: the header with its
// keys (prekey='true' on prekey keys, never prekey='false', which some
// clients read as true) and the IV, then the payload unless e is a
// key-transport message. Base64 is written without whitespace.
func (e Encrypted) Element() *xmlstream.Element {
	header := xmlstream.New(NS, "header", "sid", formatID(e.SID))
	for _, k := range e.Keys {
		key := xmlstream.New(NS, "key", "rid", formatID(k.RID))
		if k.PreKey {
			key.Set("prekey", "true")
		}
		header.Append(key.SetText(encode(k.Data)))
	}
	header.Append(xmlstream.New(NS, "iv").SetText(encode(e.IV)))
	el := xmlstream.New(NS, "encrypted").Append(header)
	if e.Payload != nil {
		el.Append(xmlstream.New(NS, "payload").SetText(encode(e.Payload)))
	}
	return el
}

// Find returns the OMEMO 0.3 message in msg (a <message/> stanza):
// ErrNotEncrypted when it has no <encrypted/> child, a wrapped
// ErrMalformed or ErrTooLarge when it has a bad one. Messages of type
// 'error' often echo what caused them and are never treated as encrypted.
func Find(msg *xmlstream.Element) (Encrypted, error) {
	if msg == nil || msg.Get("type") == "error" {
		return Encrypted{}, ErrNotEncrypted
	}
	el := msg.Child(NS, "encrypted")
	if el == nil {
		return Encrypted{}, ErrNotEncrypted
	}
	return ParseEncrypted(el)
}

// AddTo makes msg (a <message/> stanza) an OMEMO message carrying e, and
// returns it. Every <body/> msg has is removed first, so plaintext can
// never travel next to its ciphertext; then it appends e, the XEP-0380
// marker naming OMEMO and the XEP-0334 <store/> hint (so that archives
// keep encrypted messages, which have no body the server can read), and,
// unless e is a key-transport message, the plaintext [FallbackBody] for
// clients without OMEMO.
func AddTo(msg *xmlstream.Element, e Encrypted) *xmlstream.Element {
	kept := msg.Children[:0]
	for _, c := range msg.Children {
		if c.Name.Local == "body" && (c.Name.Space == msg.Name.Space || c.Name.Space == NSClient) {
			continue
		}
		kept = append(kept, c)
	}
	msg.Children = kept
	msg.Append(e.Element(), EME(), xmlstream.New(NSHints, "store"))
	if !e.KeyTransport() {
		msg.Append(xmlstream.New(msg.Name.Space, "body").SetText(FallbackBody))
	}
	return msg
}

// EME returns the XEP-0380 element saying that a message is encrypted with
// OMEMO 0.3.
func EME() *xmlstream.Element {
	return xmlstream.New(NSEME, "encryption", "namespace", NS, "name", Name)
}

// clip shortens peer text quoted in an error (at a rune boundary).
func clip(s string) string {
	const max = 32
	if len(s) <= max {
		return s
	}
	n := 0
	for i := range s {
		if i > max {
			break
		}
		n = i
	}
	return s[:n] + "…"
}
