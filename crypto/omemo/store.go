package omemo

import (
	"context"
	"errors"
	"time"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
)

// ErrNotFound is returned (wrapped) when a store has no such item.
var ErrNotFound = errors.New("omemo: not found")

// Store is the OMEMO state of every account, implemented by a store
// transaction (see client.Store): use it only inside that transaction.
// Private keys and session records are plaintext here; the store protects
// them at rest. Keys are in Signal's serialisation: public keys are 33
// bytes (0x05 ‖ Curve25519 key), private keys 32 bytes.
type Store interface {
	// Identity returns the account's own device (ErrNotFound before one
	// was created).
	Identity(ctx context.Context, acct client.AccountID) (Identity, error)
	// PutIdentity stores the account's own device, replacing any earlier
	// one.
	PutIdentity(ctx context.Context, acct client.AccountID, id Identity) error

	// PreKey returns one of our one-time prekeys.
	PreKey(ctx context.Context, acct client.AccountID, id uint32) (PreKey, error)
	// PreKeys returns all our one-time prekeys, by ID.
	PreKeys(ctx context.Context, acct client.AccountID) ([]PreKey, error)
	// PutPreKeys stores prekeys (replacing any with the same ID).
	PutPreKeys(ctx context.Context, acct client.AccountID, keys ...PreKey) error
	// RemovePreKey deletes a consumed prekey (no error if absent).
	RemovePreKey(ctx context.Context, acct client.AccountID, id uint32) error

	// SignedPreKey returns one of our signed prekeys.
	SignedPreKey(ctx context.Context, acct client.AccountID, id uint32) (SignedPreKey, error)
	// SignedPreKeys returns all our signed prekeys, oldest first.
	SignedPreKeys(ctx context.Context, acct client.AccountID) ([]SignedPreKey, error)
	// PutSignedPreKey stores a signed prekey (replacing one with the same ID).
	PutSignedPreKey(ctx context.Context, acct client.AccountID, k SignedPreKey) error
	// RemoveSignedPreKey deletes a signed prekey (no error if absent).
	RemoveSignedPreKey(ctx context.Context, acct client.AccountID, id uint32) error

	// Session returns the Signal session record with a device
	// (ErrNotFound when there is none).
	Session(ctx context.Context, acct client.AccountID, addr Address) ([]byte, error)
	// PutSession stores a session record.
	PutSession(ctx context.Context, acct client.AccountID, addr Address, record []byte) error
	// DeleteSession deletes the session with one device.
	DeleteSession(ctx context.Context, acct client.AccountID, addr Address) error
	// SessionDevices returns the devices of a JID we have sessions with,
	// ascending.
	SessionDevices(ctx context.Context, acct client.AccountID, owner jid.JID) ([]uint32, error)
	// DeleteSessions deletes every session with a JID's devices.
	DeleteSessions(ctx context.Context, acct client.AccountID, owner jid.JID) error

	// Devices returns every device ever seen in a JID's device list (our
	// own included), ascending by ID.
	Devices(ctx context.Context, acct client.AccountID, owner jid.JID) ([]Device, error)
	// SetDeviceList records a device list received at the given time: the
	// listed devices become active (new ones are added), the others
	// inactive. Devices are never forgotten, so their trust survives.
	SetDeviceList(ctx context.Context, acct client.AccountID, owner jid.JID, ids []uint32, at time.Time) error
	// DeleteDevice forgets a device (the user removed it), with its session
	// and trust decisions.
	DeleteDevice(ctx context.Context, acct client.AccountID, addr Address) error

	// Trust returns the decision about one identity key of a device
	// (ErrNotFound when the key was never seen).
	Trust(ctx context.Context, acct client.AccountID, addr Address, identityKey []byte) (TrustRecord, error)
	// Trusts returns the decisions about every identity key seen for a
	// JID's devices, by device, then first seen.
	Trusts(ctx context.Context, acct client.AccountID, owner jid.JID) ([]TrustRecord, error)
	// SetTrust stores a decision about (Address, IdentityKey). FirstSeen is
	// kept from the first time the key was stored.
	SetTrust(ctx context.Context, acct client.AccountID, r TrustRecord) error
}

// Address is a device of a user: the bare JID and the device ID.
type Address struct {
	JID    jid.JID
	Device uint32
}

// Identity is our own device.
type Identity struct {
	// DeviceID is in 1..2³¹−1.
	DeviceID uint32
	// PublicKey and PrivateKey are the identity key pair.
	PublicKey  []byte
	PrivateKey []byte
	// Created is when the device was created.
	Created time.Time
}

// PreKey is one of our one-time prekeys.
type PreKey struct {
	ID         uint32
	PublicKey  []byte
	PrivateKey []byte
}

// SignedPreKey is one of our signed prekeys.
type SignedPreKey struct {
	ID         uint32
	PublicKey  []byte
	PrivateKey []byte
	// Signature is the identity key's 64-byte signature of PublicKey.
	Signature []byte
	// Created is when the key was generated (for rotation).
	Created time.Time
}

// Device is an entry of a user's device list.
type Device struct {
	ID uint32
	// Active says whether the latest device list contains it.
	Active bool
	// FirstSeen and LastSeen are when a device list first and last
	// contained it.
	FirstSeen, LastSeen time.Time
}

// TrustState is the user's decision about a device's identity key.
type TrustState uint8

// The trust states.
const (
	// TrustUndecided: seen, but not (yet) trusted — a new device of a
	// contact with verified devices, or a changed identity key.
	TrustUndecided TrustState = iota
	// TrustBlind: trusted without verification (blind trust before
	// verification).
	TrustBlind
	// TrustVerified: the user compared the fingerprint.
	TrustVerified
	// TrustDistrusted: the user refused it; never encrypt to it.
	TrustDistrusted
)

// TrustRecord is the decision about one identity key of one device.
type TrustRecord struct {
	Address
	// IdentityKey is the device's public identity key (its fingerprint).
	IdentityKey []byte
	State       TrustState
	// FirstSeen is when the key was first stored; Decided when State was
	// last set.
	FirstSeen, Decided time.Time
}
