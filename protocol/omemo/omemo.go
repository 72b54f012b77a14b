// Package omemo is the wire format of OMEMO end-to-end encryption as
// deployed: XEP-0384 version 0.3, namespace "eu.siacs.conversations.axolotl".
// It reads and writes the <encrypted/> message element, the device list and
// the bundle that each device publishes over PEP (XEP-0163, XEP-0060), and
// builds the PEP requests that publish and fetch them, with the
// publish-options (XEP-0060 §7.1.5) that make both nodes world-readable.
// It also adds the XEP-0380 Explicit Message Encryption marker, the XEP-0334
// store hint and a plaintext fallback body to an encrypted message.
//
// This package does no cryptography: crypto/omemo turns an [Encrypted]
// into plaintext and back. Everything that comes from a peer is validated
// here, before any cryptographic library sees it: public keys must be 33
// bytes starting with the Curve25519 type byte 0x05, signatures 64 bytes,
// device and prekey ids in 1..2³¹−1, and every list is bounded (see the Max…
// constants). Parsers never panic on peer input; fuzz targets check that.
//
// # Security
//
// A device list is only believable when it comes from its owner's PEP
// service: [ParseDeviceListEvent] takes the owner from the notification's
// 'from', which must be a bare JID (a PEP service speaks for the account;
// anything with a resource was sent by a client), so a third party can
// never change somebody else's list.
package omemo

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
)

// Namespaces and PEP nodes.
const (
	// NS is the namespace of OMEMO 0.3 ("axolotl", after the Signal
	// protocol's former name).
	NS = "eu.siacs.conversations.axolotl"
	// NodeDeviceList is the PEP node of the device list; its single item
	// has the id [ItemCurrent].
	NodeDeviceList = NS + ".devicelist"
	// NodeBundlesPrefix, followed by a device id, is the PEP node of that
	// device's bundle (see [BundleNode]).
	NodeBundlesPrefix = NS + ".bundles:"
	// FeatureNotify is the entity-capabilities feature (XEP-0115) that
	// subscribes to contacts' device lists (XEP-0163 §4 "+notify").
	FeatureNotify = NodeDeviceList + "+notify"
	// ItemCurrent is the item id of the device list (XEP-0060 §12.20,
	// "singleton node").
	ItemCurrent = "current"

	// NSEME is the XEP-0380 Explicit Message Encryption namespace.
	NSEME = "urn:xmpp:eme:0"
	// NSHints is the XEP-0334 Message Processing Hints namespace.
	NSHints = "urn:xmpp:hints"
	// NSPubSub, NSPubSubEvent, NSPubSubOwner and NSPubSubErrors are the
	// XEP-0060 namespaces.
	NSPubSub       = "http://jabber.org/protocol/pubsub"
	NSPubSubEvent  = NSPubSub + "#event"
	NSPubSubOwner  = NSPubSub + "#owner"
	NSPubSubErrors = NSPubSub + "#errors"
	// NSPublishOptions is the FORM_TYPE of publish-options (XEP-0060
	// §7.1.5) and NSNodeConfig that of a node configuration (§8.2).
	NSPublishOptions = NSPubSub + "#publish-options"
	NSNodeConfig     = NSPubSub + "#node_config"
	// NSClient is the content namespace of client streams.
	NSClient = "jabber:client"
)

// Name is how the XEP-0380 marker names OMEMO to users of clients that do
// not support it.
const Name = "OMEMO"

// FallbackBody is the plaintext body of an encrypted message, for clients
// without OMEMO: it says what happened instead of showing nothing.
const FallbackBody = "This message is encrypted with OMEMO (XEP-0384), which your client does not support."

// Sizes of key material in Signal's serialisation.
const (
	// KeySize is the size of a serialised public key: the type byte
	// [KeyType] followed by the 32-byte Curve25519 key.
	KeySize = 33
	// KeyType is the first byte of a serialised Curve25519 public key.
	KeyType = 0x05
	// SignatureSize is the size of an XEdDSA signature.
	SignatureSize = 64
	// IVSize is the size of the AES-GCM IV that OMEMO 0.3 writes;
	// LegacyIVSize is the 16-byte IV of older clients, still accepted.
	IVSize       = 12
	LegacyIVSize = 16
)

// Limits on what a peer can make us parse and keep.
const (
	// MaxDeviceID is the largest device id (and prekey id): ids are in
	// 1..2³¹−1.
	MaxDeviceID = 1<<31 - 1
	// MaxDevices is the most device ids kept from one device list.
	MaxDevices = 256
	// MaxPreKeys is the most prekeys read from one bundle (a bundle has
	// 100).
	MaxPreKeys = 256
	// MaxKeys is the most <key/> elements read from one message header
	// (one per recipient device, our own devices included).
	MaxKeys = 1024
	// MaxKeyData is the largest decoded <key/> content: a Signal message
	// carrying 32 bytes of key material is about 200 bytes with a
	// prekey header.
	MaxKeyData = 2048
	// MaxPayload is the largest decoded payload (the encrypted body).
	MaxPayload = 512 << 10
)

var (
	// ErrMalformed is returned (wrapped, with the reason) for an element
	// that does not have the structure XEP-0384 0.3 gives it.
	ErrMalformed = errors.New("omemo: malformed element")
	// ErrTooLarge is returned (wrapped) when an element exceeds one of the
	// Max… limits.
	ErrTooLarge = errors.New("omemo: element too large")
	// ErrInvalidKey is returned (wrapped) for a public key that is not 33
	// bytes starting with 0x05, or a signature that is not 64 bytes.
	ErrInvalidKey = errors.New("omemo: invalid key")
	// ErrInvalidID is returned (wrapped) for a device or prekey id outside
	// 1..2³¹−1.
	ErrInvalidID = errors.New("omemo: invalid id")
	// ErrNotEncrypted is returned by Find for a message without an
	// OMEMO 0.3 <encrypted/> element.
	ErrNotEncrypted = errors.New("omemo: message is not OMEMO encrypted")
	// ErrSpoofed is returned by ParseDeviceListEvent for a device list
	// that does not come from its owner's bare JID: ignore it.
	ErrSpoofed = errors.New("omemo: device list not published by its owner")
)

// ValidKey reports whether b is a serialised Curve25519 public key: 33
// bytes, the first being 0x05.
func ValidKey(b []byte) bool {
	return len(b) == KeySize && b[0] == KeyType
}

// ValidSignature reports whether b has the size of a signature.
func ValidSignature(b []byte) bool {
	return len(b) == SignatureSize
}

// ValidID reports whether id is a valid device or prekey id (1..2³¹−1).
func ValidID(id uint32) bool {
	return id >= 1 && id <= MaxDeviceID
}

// parseID reads a decimal id in 1..2³¹−1. Leading '+' signs, spaces and
// zeros that strconv would reject or accept differently are refused.
func parseID(s string) (uint32, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || s == "" || s[0] == '+' || (len(s) > 1 && s[0] == '0') {
		return 0, ErrInvalidID
	}
	if !ValidID(uint32(n)) {
		return 0, ErrInvalidID
	}
	return uint32(n), nil
}

// parseSignedPreKeyID reads a signed prekey id. Unlike device and prekey
// ids it may be 0: nothing in the Signal protocol reserves 0 for signed
// prekeys, and refusing it would make such a peer unreachable.
func parseSignedPreKeyID(s string) (uint32, error) {
	if s == "0" {
		return 0, nil
	}
	return parseID(s)
}

// formatID writes an id.
func formatID(id uint32) string {
	return strconv.FormatUint(uint64(id), 10)
}

// encode is the base64 we write: standard alphabet, padded, no whitespace.
func encode(b []byte) string {
	return base64.StdEncoding.EncodeToString(b)
}

// decode reads base64 as peers write it: the standard alphabet, with or
// without padding, ignoring whitespace (some clients wrap lines every 76
// characters). max bounds the decoded size.
func decode(s string, max int) ([]byte, error) {
	if strings.ContainsAny(s, " \t\r\n") {
		s = strings.Map(func(r rune) rune {
			switch r {
			case ' ', '\t', '\r', '\n':
				return -1
			}
			return r
		}, s)
	}
	// Padding is optional; the length check counts only data characters.
	s = strings.TrimRight(s, "=")
	if len(s)*6/8 > max {
		return nil, ErrTooLarge
	}
	b, err := base64.RawStdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, err
	}
	return b, nil
}
