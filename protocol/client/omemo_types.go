package client

import (
	"context"
	"errors"
	"time"

	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/omemo"
)

// E2EE is the end-to-end encryption layer the engine uses for OMEMO
// (XEP-0384 0.3). crypto/omemo implements it (DESIGN.md §2: the engine
// must not import crypto, so the interface is the consumer's); cmd/ wires
// it into Config.E2EE.
//
// Every method works in the store transaction it is given: the layer's
// own state (keys, sessions, device lists, trust) lives in the same
// database as the history, and an implementation reaches it with a type
// assertion on tx (see Store). What a method changes commits or rolls back
// with the rest of the transaction — a decrypted message and the ratchet
// step that decrypted it are stored together, or not at all.
//
// The network is the engine's business: the layer never sends anything.
type E2EE interface {
	// Setup creates this account's device the first time (created is
	// then true: publish its bundle and add it to the device list) and
	// returns its id.
	Setup(ctx context.Context, tx Tx) (device uint32, created bool, err error)
	// Bundle returns our bundle to publish.
	Bundle(ctx context.Context, tx Tx) (omemo.Bundle, error)
	// RotateSignedPreKey replaces the signed prekey when it is old enough
	// and reports whether it did (publish the Bundle then).
	RotateSignedPreKey(ctx context.Context, tx Tx) (bool, error)
	// ReplenishPreKeys tops the one-time prekeys up after some were used
	// and reports whether it did (publish the Bundle then).
	ReplenishPreKeys(ctx context.Context, tx Tx) (bool, error)

	// SetDeviceList records a device list received from its owner (the
	// caller checked that it is the owner's). For our own account it
	// returns the list to publish when ours is missing from it, else nil.
	SetDeviceList(ctx context.Context, tx Tx, owner jid.JID, ids []uint32) ([]uint32, error)
	// Plan sorts the devices a message to peer goes to — peer's and our
	// own other devices, from the latest device lists.
	Plan(ctx context.Context, tx Tx, peer jid.JID) (E2EEPlan, error)
	// BuildSession starts a session with a device from its fetched bundle.
	// A bundle whose identity key differs from the known one fails (the
	// new key is recorded for the user's decision: commit tx anyway).
	BuildSession(ctx context.Context, tx Tx, dev DeviceAddress, b omemo.Bundle) error

	// Encrypt encrypts plaintext for the devices (those of a Plan's Ready
	// list) and returns the message with the least trust among the
	// recipients. When no device can be encrypted to, the error wraps
	// ErrNoRecipients: nothing may be sent.
	Encrypt(ctx context.Context, tx Tx, plaintext []byte, to []DeviceAddress) (omemo.Encrypted, Trust, error)
	// KeyTransport returns a key-transport message (no content) for the
	// devices: it completes a session started by a prekey message, heals a
	// rebuilt one, and answers long receiving chains.
	KeyTransport(ctx context.Context, tx Tx, to []DeviceAddress) (omemo.Encrypted, error)
	// Decrypt decrypts a message from (only the bare JID counts). Errors:
	// wrapping ErrDecryptDuplicate (a replay, or a copy already
	// decrypted) or ErrDecryptIgnored (our own device's message, a key
	// transport for another device) — both dropped silently; anything
	// else is a *DecryptError to show.
	Decrypt(ctx context.Context, tx Tx, from jid.JID, enc omemo.Encrypted) (Decrypted, error)

	// OwnFingerprint and OwnURI describe our device for verification.
	OwnFingerprint(ctx context.Context, tx Tx) (string, error)
	OwnURI(ctx context.Context, tx Tx) (string, error)
	// Devices returns every known device of owner (our own account
	// included) with the identity keys seen and the decisions about them.
	Devices(ctx context.Context, tx Tx, owner jid.JID) ([]DeviceInfo, error)
	// SetTrust records the user's decision about owner's devices with the
	// fingerprint fp (in any usual notation).
	SetTrust(ctx context.Context, tx Tx, owner jid.JID, fp string, t DeviceTrust) ([]DeviceAddress, error)
	// VerifyURI verifies the devices a scanned xmpp:…?omemo-sid-… URI
	// names.
	VerifyURI(ctx context.Context, tx Tx, uri string) ([]DeviceAddress, error)
	// RemoveOwnDevice forgets another device of our account and returns
	// the device list to publish.
	RemoveOwnDevice(ctx context.Context, tx Tx, device uint32) ([]uint32, error)
}

// Errors of the end-to-end encryption layer and its API.
var (
	// ErrNoE2EE: the Client was configured without end-to-end encryption.
	ErrNoE2EE = errors.New("client: end-to-end encryption is not configured")
	// ErrDecryptDuplicate: an encrypted message was decrypted before (a
	// replay, or the archive's copy of a message received live). Dropped
	// silently.
	ErrDecryptDuplicate = errors.New("client: encrypted message already decrypted")
	// ErrDecryptIgnored: an encrypted message that is nothing to show: a
	// copy of this device's own message, a key-transport message for
	// another device.
	ErrDecryptIgnored = errors.New("client: encrypted message not for this device to show")
	// ErrNoRecipients: a message that must be encrypted could not be
	// encrypted for any device of its recipient; it fails, never goes out
	// in plaintext.
	ErrNoRecipients = errors.New("client: no device to encrypt to")
	// ErrNotDecryptFailure: Repair needs a message that could not be
	// decrypted.
	ErrNotDecryptFailure = errors.New("client: the message is not a decryption failure")
	// ErrTrustDecision: the device presents a new identity key; the user
	// must trust or distrust it (SetTrust) before it can be repaired.
	ErrTrustDecision = errors.New("client: the device's new identity key needs the user's decision")
)

// DeviceAddress is an OMEMO device of a user: the bare JID and the device
// id.
type DeviceAddress struct {
	JID    jid.JID
	Device uint32
}

// E2EEPlan sorts the devices for a message: Ready can be encrypted to
// now; NeedBundle have no session yet (fetch the bundle, BuildSession);
// Untrusted are left out until the user trusts them.
type E2EEPlan struct {
	Ready, NeedBundle, Untrusted []DeviceAddress
}

// Decrypted is a decrypted message.
type Decrypted struct {
	// Plaintext is the body; nil for a key-transport message.
	Plaintext []byte
	// Device is the sending device and Trust its trust at receipt.
	Device uint32
	Trust  Trust
	// PreKeyUsed: one of our one-time prekeys was consumed; replenish and
	// republish the bundle (after a catch-up).
	PreKeyUsed bool
	// SendKeyTransport: answer the sending device with a key-transport
	// message (a new session to complete, or a heartbeat).
	SendKeyTransport bool
}

// Repair is what may heal a decryption failure.
type Repair uint8

// The repairs.
const (
	// RepairNone: nothing to do (a garbled message, or one not encrypted
	// for this device).
	RepairNone Repair = iota
	// RepairNewSession: fetch the sender's bundle, build a new session
	// and send it a key-transport message (Client.Repair); its next
	// messages decrypt. The failed message itself stays lost.
	RepairNewSession
	// RepairVerify: the sending device's identity key changed; the user
	// decides about the new key (SetTrust), then Client.Repair.
	RepairVerify
)

// String names the repair.
func (r Repair) String() string {
	switch r {
	case RepairNone:
		return "none"
	case RepairNewSession:
		return "new session"
	case RepairVerify:
		return "verify identity"
	}
	return "invalid"
}

// DecryptError is a decryption failure to show in the conversation.
type DecryptError struct {
	// Repair is what may heal it.
	Repair Repair
	// Err says what happened, in words for the user.
	Err error
}

// Error returns the reason.
func (e *DecryptError) Error() string { return e.Err.Error() }

// Unwrap returns the reason.
func (e *DecryptError) Unwrap() error { return e.Err }

// DeviceTrust is the user's decision about a device's identity key.
type DeviceTrust uint8

// The decisions.
const (
	// DeviceUndecided: not trusted yet — a new device of a contact with
	// verified devices, or a changed identity key.
	DeviceUndecided DeviceTrust = iota
	// DeviceBlind: trusted without verification (blind trust before
	// verification, the default for a contact's first keys).
	DeviceBlind
	// DeviceVerified: the user compared the fingerprint.
	DeviceVerified
	// DeviceDistrusted: the user refused it; never encrypted to.
	DeviceDistrusted
)

// String names the decision.
func (t DeviceTrust) String() string {
	switch t {
	case DeviceUndecided:
		return "undecided"
	case DeviceBlind:
		return "blind"
	case DeviceVerified:
		return "verified"
	case DeviceDistrusted:
		return "distrusted"
	}
	return "invalid"
}

// DeviceKey is one identity key seen for a device, with the decision
// about it.
type DeviceKey struct {
	// Fingerprint is the key's lowercase hex (64 digits, without the 05
	// type byte), as OMEMO clients show it.
	Fingerprint string
	Trust       DeviceTrust
	FirstSeen   time.Time
}

// DeviceInfo describes one OMEMO device of a user.
type DeviceInfo struct {
	DeviceAddress
	// Active: the latest device list names it.
	Active bool
	// Own: it is this device.
	Own bool
	// Keys are the identity keys seen for it, first seen first; empty
	// until a session was made or a verification URI named it. More than
	// one means its key changed.
	Keys []DeviceKey
}

// Current returns the newest identity key seen for the device.
func (d DeviceInfo) Current() (DeviceKey, bool) {
	if len(d.Keys) == 0 {
		return DeviceKey{}, false
	}
	return d.Keys[len(d.Keys)-1], true
}

// DecryptFailed reports whether m is an encrypted message that could not
// be decrypted: Failure says why, and Client.Repair may heal the session.
func (m Message) DecryptFailed() bool {
	return m.Encryption == EncryptionOMEMO && m.Failure != "" && m.State != StateFailed && m.Body == ""
}
