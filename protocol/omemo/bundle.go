package omemo

import (
	"fmt"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
)

// PreKey is a one-time prekey of a bundle.
type PreKey struct {
	ID uint32
	// Public is the serialised public key (33 bytes, 0x05 first).
	Public []byte
}

// Bundle is the public key material a device publishes so that others can
// start sessions with it (XEP-0384 0.3 §4.3).
type Bundle struct {
	// SignedPreKeyID and SignedPreKey are the current signed prekey;
	// SignedPreKeySignature is the identity key's signature of
	// SignedPreKey (64 bytes).
	SignedPreKeyID        uint32
	SignedPreKey          []byte
	SignedPreKeySignature []byte
	// IdentityKey is the device's public identity key (33 bytes).
	IdentityKey []byte
	// PreKeys are the one-time prekeys.
	PreKeys []PreKey
}

// Validate checks everything about b that does not need cryptography:
// every key is 33 bytes starting with 0x05, the signature is 64 bytes,
// prekey ids are in 1..2³¹−1 and distinct, and there is at least one and
// at most MaxPreKeys prekeys. It does not verify the signature.
func (b Bundle) Validate() error {
	switch {
	case !ValidKey(b.IdentityKey):
		return fmt.Errorf("%w: identity key", ErrInvalidKey)
	case !ValidKey(b.SignedPreKey):
		return fmt.Errorf("%w: signed prekey", ErrInvalidKey)
	case !ValidSignature(b.SignedPreKeySignature):
		return fmt.Errorf("%w: signed prekey signature of %d bytes", ErrInvalidKey, len(b.SignedPreKeySignature))
	case b.SignedPreKeyID > MaxDeviceID:
		return fmt.Errorf("%w: signed prekey id %d", ErrInvalidID, b.SignedPreKeyID)
	case len(b.PreKeys) == 0:
		return fmt.Errorf("%w: bundle without prekeys", ErrMalformed)
	case len(b.PreKeys) > MaxPreKeys:
		return fmt.Errorf("%w: more than %d prekeys", ErrTooLarge, MaxPreKeys)
	}
	seen := make(map[uint32]bool, len(b.PreKeys))
	for _, pk := range b.PreKeys {
		if !ValidID(pk.ID) {
			return fmt.Errorf("%w: prekey id %d", ErrInvalidID, pk.ID)
		}
		if seen[pk.ID] {
			return fmt.Errorf("%w: prekey id %d twice", ErrMalformed, pk.ID)
		}
		seen[pk.ID] = true
		if !ValidKey(pk.Public) {
			return fmt.Errorf("%w: prekey %d", ErrInvalidKey, pk.ID)
		}
	}
	return nil
}

// ParseBundle reads a <bundle xmlns='eu.siacs.conversations.axolotl'/> and
// validates it (see Bundle.Validate). The children may come in any order.
func ParseBundle(el *xmlstream.Element) (Bundle, error) {
	if !el.Is(NS, "bundle") {
		return Bundle{}, fmt.Errorf("%w: not a <bundle/>", ErrMalformed)
	}
	var b Bundle
	spk := el.Child(NS, "signedPreKeyPublic")
	sig := el.Child(NS, "signedPreKeySignature")
	ik := el.Child(NS, "identityKey")
	pks := el.Child(NS, "prekeys")
	if spk == nil || sig == nil || ik == nil || pks == nil {
		return Bundle{}, fmt.Errorf("%w: bundle lacks signedPreKeyPublic, signedPreKeySignature, identityKey or prekeys", ErrMalformed)
	}
	var err error
	if b.SignedPreKeyID, err = parseSignedPreKeyID(spk.Get("signedPreKeyId")); err != nil {
		return Bundle{}, fmt.Errorf("%w: signedPreKeyId %q", ErrInvalidID, clip(spk.Get("signedPreKeyId")))
	}
	if b.SignedPreKey, err = decode(spk.Text, KeySize); err != nil {
		return Bundle{}, fmt.Errorf("%w: signedPreKeyPublic: %w", ErrInvalidKey, err)
	}
	if b.SignedPreKeySignature, err = decode(sig.Text, SignatureSize); err != nil {
		return Bundle{}, fmt.Errorf("%w: signedPreKeySignature: %w", ErrInvalidKey, err)
	}
	if b.IdentityKey, err = decode(ik.Text, KeySize); err != nil {
		return Bundle{}, fmt.Errorf("%w: identityKey: %w", ErrInvalidKey, err)
	}
	for _, c := range pks.Children {
		if !c.Is(NS, "preKeyPublic") {
			continue
		}
		if len(b.PreKeys) == MaxPreKeys {
			return Bundle{}, fmt.Errorf("%w: more than %d prekeys", ErrTooLarge, MaxPreKeys)
		}
		id, err := parseID(c.Get("preKeyId"))
		if err != nil {
			return Bundle{}, fmt.Errorf("%w: preKeyId %q", ErrInvalidID, clip(c.Get("preKeyId")))
		}
		pub, err := decode(c.Text, KeySize)
		if err != nil {
			return Bundle{}, fmt.Errorf("%w: prekey %d: %w", ErrInvalidKey, id, err)
		}
		b.PreKeys = append(b.PreKeys, PreKey{ID: id, Public: pub})
	}
	if err := b.Validate(); err != nil {
		return Bundle{}, err
	}
	return b, nil
}

// Element returns the <bundle/> for b, children in the order of the
// XEP's schema: signedPreKeyPublic, signedPreKeySignature, identityKey,
// prekeys.
func (b Bundle) Element() *xmlstream.Element {
	el := xmlstream.New(NS, "bundle")
	el.Append(
		xmlstream.New(NS, "signedPreKeyPublic", "signedPreKeyId", formatID(b.SignedPreKeyID)).SetText(encode(b.SignedPreKey)),
		xmlstream.New(NS, "signedPreKeySignature").SetText(encode(b.SignedPreKeySignature)),
		xmlstream.New(NS, "identityKey").SetText(encode(b.IdentityKey)),
	)
	pks := xmlstream.New(NS, "prekeys")
	for _, pk := range b.PreKeys {
		pks.Append(xmlstream.New(NS, "preKeyPublic", "preKeyId", formatID(pk.ID)).SetText(encode(pk.Public)))
	}
	return el.Append(pks)
}

// BundleNode returns the PEP node of a device's bundle.
func BundleNode(device uint32) string {
	return NodeBundlesPrefix + formatID(device)
}

// ParseBundleItems reads the bundle from the <items/> of a PEP result for
// BundleNode(device). Any item id is accepted (Dino uses "1", others
// "current"); the last item with a <bundle/> wins.
func ParseBundleItems(items *xmlstream.Element, device uint32) (Bundle, error) {
	if items == nil || items.Get("node") != BundleNode(device) {
		return Bundle{}, fmt.Errorf("%w: not the items of %s", ErrMalformed, BundleNode(device))
	}
	var bundle *xmlstream.Element
	for _, it := range items.Children {
		if it.Name.Local != "item" {
			continue
		}
		if b := it.Child(NS, "bundle"); b != nil {
			bundle = b
		}
	}
	if bundle == nil {
		return Bundle{}, fmt.Errorf("%w: no bundle in %s", ErrMalformed, BundleNode(device))
	}
	return ParseBundle(bundle)
}
