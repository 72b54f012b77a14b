package omemo

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"

	"go.mau.fi/libsignal/protocol"
	"go.mau.fi/libsignal/session"
	"go.mau.fi/libsignal/signalerror"
	"go.mau.fi/libsignal/state/record"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/omemo"
)

// Decrypted is a decrypted message.
type Decrypted struct {
	// Plaintext is the message text; nil for a key-transport message,
	// which has no content (nothing to show).
	Plaintext []byte
	// Sender is the device that sent it; IdentityKey its identity key.
	Sender      Address
	IdentityKey []byte
	// State is the user's decision about that key at receipt, and Trust
	// what the stored message records (client.Message.Trust).
	State TrustState
	Trust client.Trust
	// PreKeyUsed reports that the message consumed one of our one-time
	// prekeys: call ReplenishPreKeys and publish the new Bundle (once a
	// catch-up has ended).
	PreKeyUsed bool
	// SendKeyTransport asks for a key-transport message to Sender
	// (KeyTransport): the message started a new session, which the sender
	// treats as unconfirmed until it hears from us, or the sender's
	// chain grew longer than Options.HeartbeatAfter without an answer.
	// Postpone it until a catch-up has ended.
	SendKeyTransport bool
}

// Decrypt decrypts a message that from (any JID of the sender; only the
// bare JID counts) sent. It handles prekey messages (building the session
// and consuming our prekey), 12- and 16-byte IVs, key material with and
// without the authentication tag (legacy clients put it after the
// payload), and key-transport messages.
//
// Every failure is a *DecryptError with a Reason a user can read and a
// Repair. Two reasons are not failures to show: ErrDuplicate (a replay, or
// a message seen twice — drop it silently) and ErrOwnDevice (our own
// message reflected). ErrNotForUs means the sender did not encrypt for
// this device; for a key-transport message (enc.KeyTransport()) that is
// normal — it was meant for another device of the account — and is not
// shown either.
//
// Run it in the transaction that stores the plaintext: the ratchet state,
// the consumed prekey and a first-seen identity key are written to st only
// when Decrypt succeeds, so a crash or a rollback cannot lose a message or
// let a replay through. After ErrIdentityChanged st also holds the new key
// as undecided; commit it.
func (a *Account) Decrypt(ctx context.Context, st Store, from jid.JID, enc omemo.Encrypted) (Decrypted, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	sender := Address{JID: from.Bare(), Device: enc.SID}
	me, err := a.identity(ctx, st)
	if err != nil {
		return Decrypted{}, &DecryptError{Sender: sender, Reason: ErrNoIdentity, Err: err}
	}
	fail := func(reason error, repair Repair, err error) (Decrypted, error) {
		return Decrypted{}, &DecryptError{Sender: sender, Reason: reason, Repair: repair, Err: err}
	}
	switch {
	case sender.JID.Local() == "" || !omemo.ValidID(sender.Device):
		return fail(ErrMalformed, RepairNone, errors.New("invalid sender"))
	case sender.JID == a.own && sender.Device == me.DeviceID:
		return fail(ErrOwnDevice, RepairNone, nil)
	case enc.Payload != nil && len(enc.IV) != omemo.IVSize && len(enc.IV) != omemo.LegacyIVSize:
		return fail(ErrMalformed, RepairNone, fmt.Errorf("IV of %d bytes", len(enc.IV)))
	}
	keys := enc.KeysFor(me.DeviceID)
	if len(keys) == 0 {
		return fail(ErrNotForUs, RepairNone, nil)
	}
	var first error
	for _, k := range keys {
		d, err := a.decryptKey(ctx, st, me, sender, k, enc)
		if err == nil {
			return d, nil
		}
		if first == nil {
			first = err
		}
	}
	reason, repair := classify(first)
	if errors.Is(reason, ErrIdentityChanged) {
		a.log.Warn("omemo: message from a device whose identity key changed", "jid", sender.JID.String(), "device", sender.Device)
	} else if !errors.Is(reason, ErrDuplicate) {
		a.log.Info("omemo: could not decrypt", "jid", sender.JID.String(), "device", sender.Device, "reason", reason.Error())
	}
	if reason == first {
		first = nil
	}
	return fail(reason, repair, first)
}

// decryptKey decrypts the message with one of its keys for our device.
func (a *Account) decryptKey(ctx context.Context, st Store, me Identity, sender Address, k omemo.Key, enc omemo.Encrypted) (Decrypted, error) {
	ss := a.signalStore(st, me)
	sa := signalAddress(sender)
	builder := session.NewBuilder(ss, ss, ss, ss, sa, a.ser)
	c := session.NewCipher(builder, sa)
	out := Decrypted{Sender: sender}

	var material []byte
	var rec *record.Session
	var msg *protocol.SignalMessage
	if k.PreKey {
		if err := checkPreKeySignalMessage(k.Data); err != nil {
			return Decrypted{}, err
		}
		pm, err := protocol.NewPreKeySignalMessageFromBytes(k.Data, a.ser.PreKeySignalMessage, a.ser.SignalMessage)
		if err != nil {
			return Decrypted{}, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		msg = pm.WhisperMessage()
		if rec, err = ss.LoadSession(ctx, sa); err != nil {
			return Decrypted{}, err
		}
		existed := rec.HasSessionState(pm.MessageVersion(), pm.BaseKey().Serialize())
		if !existed {
			// A new session with a key we do not accept (a changed
			// identity key) must reach the user.
			if ok, err := ss.IsTrustedIdentity(ctx, sa, pm.IdentityKey()); err != nil {
				return Decrypted{}, err
			} else if !ok {
				if err := a.recordChangedKey(ctx, st, sender, pm.IdentityKey().Serialize()); err != nil {
					return Decrypted{}, err
				}
				return Decrypted{}, ErrIdentityChanged
			}
		}
		used, err := builder.Process(ctx, rec, pm)
		if err != nil {
			return Decrypted{}, err
		}
		snapshot := rec.Serialize()
		reload := func() (*record.Session, error) {
			return record.NewSessionFromBytes(snapshot, a.ser.Session, a.ser.State)
		}
		if material, rec, err = a.decryptRecord(ctx, c, rec, reload, msg); err != nil {
			return Decrypted{}, err
		}
		if used != nil && !used.IsEmpty {
			if err := ss.RemovePreKey(ctx, used.Value); err != nil {
				return Decrypted{}, err
			}
			out.PreKeyUsed = true
		}
		out.SendKeyTransport = !existed
	} else {
		if err := checkSignalMessage(k.Data); err != nil {
			return Decrypted{}, err
		}
		var err error
		msg, err = protocol.NewSignalMessageFromBytes(k.Data, a.ser.SignalMessage)
		if err != nil {
			return Decrypted{}, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		if ok, err := ss.ContainsSession(ctx, sa); err != nil {
			return Decrypted{}, err
		} else if !ok {
			return Decrypted{}, ErrNoSession
		}
		if rec, err = ss.LoadSession(ctx, sa); err != nil {
			return Decrypted{}, err
		}
		reload := func() (*record.Session, error) { return ss.LoadSession(ctx, sa) }
		if material, rec, err = a.decryptRecord(ctx, c, rec, reload, msg); err != nil {
			return Decrypted{}, err
		}
	}

	state := rec.SessionState()
	ik := state.RemoteIdentityKey()
	if ok, err := ss.IsTrustedIdentity(ctx, sa, ik); err != nil {
		return Decrypted{}, err
	} else if !ok {
		if err := a.recordChangedKey(ctx, st, sender, ik.Serialize()); err != nil {
			return Decrypted{}, err
		}
		return Decrypted{}, ErrIdentityChanged
	}
	if err := ss.SaveIdentity(ctx, sa, ik); err != nil {
		return Decrypted{}, err
	}
	if err := ss.StoreSession(ctx, sa, rec); err != nil {
		return Decrypted{}, err
	}

	plaintext, err := openPayload(material, enc)
	if err != nil {
		return Decrypted{}, err
	}
	out.Plaintext = plaintext

	// Heartbeat: the sender has sent more than HeartbeatAfter messages on
	// this chain without hearing from us; answer once every HeartbeatAfter.
	if ratchet := msg.SenderRatchetKey(); state.HasReceiverChain(ratchet) {
		n, h := int(state.ReceiverChainKey(ratchet).Index()), a.opts.HeartbeatAfter
		if n > h && (n-1)%h == 0 {
			out.SendKeyTransport = true
		}
	}

	if err := ss.commit(ctx); err != nil {
		return Decrypted{}, err
	}
	out.IdentityKey = ik.Serialize()
	out.State = TrustUndecided
	if r, err := st.Trust(ctx, a.acct, sender, out.IdentityKey); err == nil {
		out.State = r.State
	} else if !errors.Is(err, ErrNotFound) {
		return Decrypted{}, err
	}
	out.Trust = clientTrust(out.State)
	return out, nil
}

// decryptRecord decrypts msg with the session record: with its current
// state, then with each previous one (a message that was sent before the
// sender saw our newest session). It returns the record as it must be
// stored.
//
// The library's own loop keeps the changes a failed attempt made to the
// current state and leaves a promoted state among the previous ones, so
// after a failure with the current state the previous ones are tried on a
// fresh copy of rec, from reload.
func (a *Account) decryptRecord(ctx context.Context, c *session.Cipher, rec *record.Session,
	reload func() (*record.Session, error), msg *protocol.SignalMessage) ([]byte, *record.Session, error) {
	pt, _, err := c.DecryptWithState(ctx, rec.SessionState(), msg)
	if err == nil {
		return pt, rec, nil
	}
	if errors.Is(err, signalerror.ErrOldCounter) {
		return nil, nil, err
	}
	first := err
	fresh, err := reload()
	if err != nil {
		return nil, nil, first
	}
	for i, state := range fresh.PreviousSessionStates() {
		pt, _, err := c.DecryptWithState(ctx, state, msg)
		if errors.Is(err, signalerror.ErrOldCounter) {
			return nil, nil, err
		}
		if err != nil {
			continue
		}
		s := fresh.Structure()
		prev := append([]*record.StateStructure{s.SessionState}, s.PreviousStates[:i]...)
		prev = append(prev, s.PreviousStates[i+1:]...)
		promoted, err := record.NewSessionFromStructure(&record.SessionStructure{SessionState: s.PreviousStates[i], PreviousStates: prev},
			a.ser.Session, a.ser.State)
		if err != nil {
			return nil, nil, err
		}
		return pt, promoted, nil
	}
	return nil, nil, first
}

// openPayload decrypts the payload with the key material the Signal layer
// returned: 16-byte key ‖ 16-byte tag (OMEMO 0.3), or a 16-byte key with
// the tag at the end of the payload (older clients). A key-transport
// message has no payload: nil, nil.
func openPayload(material []byte, enc omemo.Encrypted) ([]byte, error) {
	if enc.Payload == nil {
		if len(material) != payloadKeySize && len(material) != payloadKeySize+payloadTagSize {
			return nil, fmt.Errorf("%w: key material of %d bytes", ErrMalformed, len(material))
		}
		return nil, nil
	}
	var sealed []byte
	switch len(material) {
	case payloadKeySize + payloadTagSize:
		sealed = append(append(make([]byte, 0, len(enc.Payload)+payloadTagSize), enc.Payload...), material[payloadKeySize:]...)
	case payloadKeySize:
		if len(enc.Payload) < payloadTagSize {
			return nil, fmt.Errorf("%w: payload shorter than its tag", ErrBadPayload)
		}
		sealed = enc.Payload
	default:
		return nil, fmt.Errorf("%w: key material of %d bytes", ErrMalformed, len(material))
	}
	block, err := aes.NewCipher(material[:payloadKeySize])
	if err != nil {
		return nil, err
	}
	var gcm cipher.AEAD
	switch len(enc.IV) {
	case omemo.IVSize:
		gcm, err = cipher.NewGCM(block)
	case omemo.LegacyIVSize:
		gcm, err = cipher.NewGCMWithNonceSize(block, omemo.LegacyIVSize)
	default:
		return nil, fmt.Errorf("%w: IV of %d bytes", ErrMalformed, len(enc.IV))
	}
	if err != nil {
		return nil, err
	}
	pt, err := gcm.Open(nil, enc.IV, sealed, nil)
	if err != nil {
		return nil, ErrBadPayload
	}
	if pt == nil {
		pt = []byte{}
	}
	return pt, nil
}
