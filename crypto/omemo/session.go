package omemo

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"

	"go.mau.fi/libsignal/ecc"
	"go.mau.fi/libsignal/keys/identity"
	"go.mau.fi/libsignal/keys/prekey"
	"go.mau.fi/libsignal/session"
	"go.mau.fi/libsignal/util/optional"

	"github.com/tern-im/tern/protocol/omemo"
)

// BuildSession starts a new session with a device from its bundle (fetched
// with omemo.FetchBundle), replacing any session we had with it. Build
// sessions for the devices Plan lists as NeedBundle, then Encrypt; the
// first message to the device is a prekey message.
//
// The bundle is checked completely before the Signal library sees it: key
// sizes and types, ids, and the signature of the signed prekey
// (ErrInvalidBundle). A bundle whose identity key differs from the one we
// know for the device fails with ErrIdentityChanged; the new key is then
// recorded as undecided (in st, even though an error is returned: commit
// the transaction so the user can see it).
func (a *Account) BuildSession(ctx context.Context, st Store, addr Address, b omemo.Bundle) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	me, err := a.identity(ctx, st)
	if err != nil {
		return fmt.Errorf("omemo session: %w", err)
	}
	addr.JID = addr.JID.Bare()
	if err := a.buildSession(ctx, st, me, addr, b); err != nil {
		return fmt.Errorf("omemo session with %s/%d: %w", addr.JID, addr.Device, err)
	}
	return nil
}

func (a *Account) buildSession(ctx context.Context, st Store, me Identity, addr Address, b omemo.Bundle) error {
	if addr.JID == a.own && addr.Device == me.DeviceID {
		return ErrOwnDevice
	}
	if !omemo.ValidID(addr.Device) {
		return fmt.Errorf("%w: device id %d", ErrInvalidBundle, addr.Device)
	}
	if err := b.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidBundle, err)
	}
	ik, err := ecc.DecodePoint(b.IdentityKey, 0)
	if err != nil {
		return fmt.Errorf("%w: identity key: %w", ErrInvalidBundle, err)
	}
	spk, err := ecc.DecodePoint(b.SignedPreKey, 0)
	if err != nil {
		return fmt.Errorf("%w: signed prekey: %w", ErrInvalidBundle, err)
	}
	sig := [64]byte(b.SignedPreKeySignature)
	if !ecc.VerifySignature(ik, b.SignedPreKey, sig) {
		return fmt.Errorf("%w: the signed prekey's signature is not the identity key's", ErrInvalidBundle)
	}
	n, err := rand.Int(rand.Reader, big.NewInt(int64(len(b.PreKeys))))
	if err != nil {
		return err
	}
	pk := b.PreKeys[n.Int64()]
	pkPub, err := ecc.DecodePoint(pk.Public, 0)
	if err != nil {
		return fmt.Errorf("%w: prekey %d: %w", ErrInvalidBundle, pk.ID, err)
	}

	ss := a.signalStore(st, me)
	sa := signalAddress(addr)
	recs, err := ss.trustRecords(ctx, addr)
	if err != nil {
		return err
	}
	if !keyAccepted(recs, b.IdentityKey) {
		if err := a.recordChangedKey(ctx, st, addr, b.IdentityKey); err != nil {
			return err
		}
		return ErrIdentityChanged
	}
	bundle := prekey.NewBundle(0, addr.Device, optional.NewOptionalUint32(pk.ID), b.SignedPreKeyID,
		pkPub, spk, sig, identity.NewKey(ik))
	builder := session.NewBuilder(ss, ss, ss, ss, sa, a.ser)
	if err := builder.ProcessBundle(ctx, bundle); err != nil {
		reason, _ := classify(err)
		return fmt.Errorf("%w: %w", reason, err)
	}
	return ss.commit(ctx)
}

// ResetSession repairs a broken session (Repair RepairNewSession): it
// builds a new session with the device from its freshly fetched bundle and
// returns a key-transport message for it, to send right away so that the
// device's next messages use the new session.
func (a *Account) ResetSession(ctx context.Context, st Store, addr Address, b omemo.Bundle) (omemo.Encrypted, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	me, err := a.identity(ctx, st)
	if err != nil {
		return omemo.Encrypted{}, fmt.Errorf("omemo reset session: %w", err)
	}
	addr.JID = addr.JID.Bare()
	if err := a.buildSession(ctx, st, me, addr, b); err != nil {
		return omemo.Encrypted{}, fmt.Errorf("omemo reset session with %s/%d: %w", addr.JID, addr.Device, err)
	}
	res, err := a.encrypt(ctx, st, me, nil, []Address{addr}, false)
	if err != nil {
		return omemo.Encrypted{}, fmt.Errorf("omemo reset session with %s/%d: %w", addr.JID, addr.Device, err)
	}
	return res.Message, nil
}
