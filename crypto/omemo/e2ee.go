package omemo

import (
	"context"
	"errors"
	"fmt"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/omemo"
)

// E2EE is an Account as the engine's end-to-end encryption layer
// (client.E2EE): cmd/ puts it into client.Config.E2EE. Each method finds
// the Store in the engine's transaction (the store's Tx implements both
// client.Tx and Store) and maps this package's types and errors to the
// engine's.
type E2EE struct{ a *Account }

var _ client.E2EE = (*E2EE)(nil)

// ErrNoStore: the engine's transaction does not implement Store (the
// store of the Client is not one that keeps OMEMO state).
var ErrNoStore = errors.New("omemo: the store keeps no OMEMO state")

// NewE2EE returns a as the engine's E2EE layer.
func NewE2EE(a *Account) *E2EE { return &E2EE{a: a} }

// Account returns the Account behind e.
func (e *E2EE) Account() *Account { return e.a }

// storeOf returns the Store of the engine's transaction.
func storeOf(tx client.Tx) (Store, error) {
	st, ok := tx.(Store)
	if !ok {
		return nil, ErrNoStore
	}
	return st, nil
}

// Setup creates our device the first time (see Account.Setup).
func (e *E2EE) Setup(ctx context.Context, tx client.Tx) (uint32, bool, error) {
	st, err := storeOf(tx)
	if err != nil {
		return 0, false, err
	}
	id, created, err := e.a.Setup(ctx, st)
	return id.DeviceID, created, err
}

// Bundle returns our bundle (see Account.Bundle).
func (e *E2EE) Bundle(ctx context.Context, tx client.Tx) (omemo.Bundle, error) {
	st, err := storeOf(tx)
	if err != nil {
		return omemo.Bundle{}, err
	}
	return e.a.Bundle(ctx, st)
}

// RotateSignedPreKey rotates the signed prekey when due (see
// Account.RotateSignedPreKey).
func (e *E2EE) RotateSignedPreKey(ctx context.Context, tx client.Tx) (bool, error) {
	st, err := storeOf(tx)
	if err != nil {
		return false, err
	}
	return e.a.RotateSignedPreKey(ctx, st)
}

// ReplenishPreKeys tops the one-time prekeys up (see
// Account.ReplenishPreKeys).
func (e *E2EE) ReplenishPreKeys(ctx context.Context, tx client.Tx) (bool, error) {
	st, err := storeOf(tx)
	if err != nil {
		return false, err
	}
	return e.a.ReplenishPreKeys(ctx, st)
}

// SetDeviceList records a device list from its owner (see
// Account.SetDeviceList).
func (e *E2EE) SetDeviceList(ctx context.Context, tx client.Tx, owner jid.JID, ids []uint32) ([]uint32, error) {
	st, err := storeOf(tx)
	if err != nil {
		return nil, err
	}
	return e.a.SetDeviceList(ctx, st, owner, ids)
}

// Plan sorts the devices for a message to peer (see Account.Plan).
func (e *E2EE) Plan(ctx context.Context, tx client.Tx, peer jid.JID) (client.E2EEPlan, error) {
	st, err := storeOf(tx)
	if err != nil {
		return client.E2EEPlan{}, err
	}
	p, err := e.a.Plan(ctx, st, peer)
	if err != nil {
		return client.E2EEPlan{}, err
	}
	return client.E2EEPlan{Ready: devices(p.Ready), NeedBundle: devices(p.NeedBundle), Untrusted: devices(p.Untrusted)}, nil
}

// BuildSession starts a session from a fetched bundle (see
// Account.BuildSession). A changed identity key also matches
// client.ErrTrustDecision.
func (e *E2EE) BuildSession(ctx context.Context, tx client.Tx, dev client.DeviceAddress, b omemo.Bundle) error {
	st, err := storeOf(tx)
	if err != nil {
		return err
	}
	err = e.a.BuildSession(ctx, st, toAddress(dev), b)
	if errors.Is(err, ErrIdentityChanged) {
		return fmt.Errorf("%w: %w", client.ErrTrustDecision, err)
	}
	return err
}

// Encrypt encrypts plaintext for the devices (see Account.Encrypt).
// ErrNoRecipients also matches client.ErrNoRecipients.
func (e *E2EE) Encrypt(ctx context.Context, tx client.Tx, plaintext []byte, to []client.DeviceAddress) (omemo.Encrypted, client.Trust, error) {
	st, err := storeOf(tx)
	if err != nil {
		return omemo.Encrypted{}, 0, err
	}
	if plaintext == nil {
		plaintext = []byte{}
	}
	res, err := e.a.Encrypt(ctx, st, plaintext, addresses(to))
	if errors.Is(err, ErrNoRecipients) {
		return omemo.Encrypted{}, 0, fmt.Errorf("%w: %w", client.ErrNoRecipients, err)
	}
	if err != nil {
		return omemo.Encrypted{}, 0, err
	}
	return res.Message, res.Trust, nil
}

// KeyTransport returns a key-transport message for the devices (see
// Account.KeyTransport).
func (e *E2EE) KeyTransport(ctx context.Context, tx client.Tx, to []client.DeviceAddress) (omemo.Encrypted, error) {
	st, err := storeOf(tx)
	if err != nil {
		return omemo.Encrypted{}, err
	}
	res, err := e.a.KeyTransport(ctx, st, addresses(to))
	if err != nil {
		return omemo.Encrypted{}, err
	}
	return res.Message, nil
}

// Decrypt decrypts a message (see Account.Decrypt). Its errors map to the
// engine's: ErrDuplicate to client.ErrDecryptDuplicate; ErrOwnDevice, and
// ErrNotForUs for a key-transport message, to client.ErrDecryptIgnored;
// the other failures to a *client.DecryptError with the Repair.
func (e *E2EE) Decrypt(ctx context.Context, tx client.Tx, from jid.JID, enc omemo.Encrypted) (client.Decrypted, error) {
	st, err := storeOf(tx)
	if err != nil {
		return client.Decrypted{}, err
	}
	d, err := e.a.Decrypt(ctx, st, from, enc)
	var de *DecryptError
	switch {
	case err == nil:
		return client.Decrypted{
			Plaintext: d.Plaintext, Device: d.Sender.Device, Trust: d.Trust,
			PreKeyUsed: d.PreKeyUsed, SendKeyTransport: d.SendKeyTransport,
		}, nil
	case errors.Is(err, ErrDuplicate):
		return client.Decrypted{}, fmt.Errorf("%w: %w", client.ErrDecryptDuplicate, err)
	case errors.Is(err, ErrOwnDevice), errors.Is(err, ErrNotForUs) && enc.KeyTransport():
		return client.Decrypted{}, fmt.Errorf("%w: %w", client.ErrDecryptIgnored, err)
	case errors.As(err, &de):
		return client.Decrypted{}, &client.DecryptError{Repair: repair(de.Repair), Err: de}
	}
	return client.Decrypted{}, err
}

// repair maps a Repair to the engine's.
func repair(r Repair) client.Repair {
	switch r {
	case RepairNewSession:
		return client.RepairNewSession
	case RepairVerify:
		return client.RepairVerify
	}
	return client.RepairNone
}

// OwnFingerprint returns our device's fingerprint.
func (e *E2EE) OwnFingerprint(ctx context.Context, tx client.Tx) (string, error) {
	st, err := storeOf(tx)
	if err != nil {
		return "", err
	}
	return e.a.OwnFingerprint(ctx, st)
}

// OwnURI returns our device's verification URI.
func (e *E2EE) OwnURI(ctx context.Context, tx client.Tx) (string, error) {
	st, err := storeOf(tx)
	if err != nil {
		return "", err
	}
	return e.a.OwnURI(ctx, st)
}

// Devices returns the known devices of owner (see Account.Devices).
func (e *E2EE) Devices(ctx context.Context, tx client.Tx, owner jid.JID) ([]client.DeviceInfo, error) {
	st, err := storeOf(tx)
	if err != nil {
		return nil, err
	}
	infos, err := e.a.Devices(ctx, st, owner)
	if err != nil {
		return nil, err
	}
	out := make([]client.DeviceInfo, 0, len(infos))
	for _, d := range infos {
		ci := client.DeviceInfo{DeviceAddress: device(d.Address), Active: d.Active, Own: d.Own}
		for _, k := range d.Keys {
			fp, err := Fingerprint(k.IdentityKey)
			if err != nil {
				continue // a corrupt record: nothing to show
			}
			ci.Keys = append(ci.Keys, client.DeviceKey{Fingerprint: fp, Trust: client.DeviceTrust(k.State), FirstSeen: k.FirstSeen})
		}
		out = append(out, ci)
	}
	return out, nil
}

// SetTrust records the user's decision (see Account.SetTrust).
func (e *E2EE) SetTrust(ctx context.Context, tx client.Tx, owner jid.JID, fp string, t client.DeviceTrust) ([]client.DeviceAddress, error) {
	st, err := storeOf(tx)
	if err != nil {
		return nil, err
	}
	addrs, err := e.a.SetTrust(ctx, st, owner, fp, TrustState(t))
	return devices(addrs), err
}

// VerifyURI verifies the devices of a verification URI (see
// Account.VerifyURI).
func (e *E2EE) VerifyURI(ctx context.Context, tx client.Tx, uri string) ([]client.DeviceAddress, error) {
	st, err := storeOf(tx)
	if err != nil {
		return nil, err
	}
	addrs, err := e.a.VerifyURI(ctx, st, uri)
	return devices(addrs), err
}

// RemoveOwnDevice forgets another device of ours (see
// Account.RemoveOwnDevice).
func (e *E2EE) RemoveOwnDevice(ctx context.Context, tx client.Tx, id uint32) ([]uint32, error) {
	st, err := storeOf(tx)
	if err != nil {
		return nil, err
	}
	return e.a.RemoveOwnDevice(ctx, st, id)
}

// The trust states and the engine's device trust have the same values.
var _ = [1]struct{}{}[int(TrustDistrusted)-int(client.DeviceDistrusted)]

func device(a Address) client.DeviceAddress {
	return client.DeviceAddress{JID: a.JID, Device: a.Device}
}

func toAddress(d client.DeviceAddress) Address { return Address{JID: d.JID, Device: d.Device} }

func devices(as []Address) []client.DeviceAddress {
	if as == nil {
		return nil
	}
	out := make([]client.DeviceAddress, len(as))
	for i, a := range as {
		out[i] = device(a)
	}
	return out
}

func addresses(ds []client.DeviceAddress) []Address {
	out := make([]Address, len(ds))
	for i, d := range ds {
		out[i] = toAddress(d)
	}
	return out
}
