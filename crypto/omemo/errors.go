package omemo

import (
	"errors"
	"fmt"

	"go.mau.fi/libsignal/signalerror"
)

// Sentinel errors. Decrypt returns a *DecryptError whose Reason is one of
// them (errors.Is works on the *DecryptError); the other operations wrap
// them.
var (
	// ErrNoIdentity: this account has no OMEMO device yet; call Setup.
	ErrNoIdentity = errors.New("omemo: no own device yet")
	// ErrDuplicate: the message was already decrypted (a replay, or the
	// same message from the archive and live). Drop it silently.
	ErrDuplicate = errors.New("omemo: message already decrypted")
	// ErrOwnDevice: the message was sent by this very device (a reflected
	// copy). Drop it silently.
	ErrOwnDevice = errors.New("omemo: message sent by this device")
	// ErrNotForUs: the message has no key for this device: the sender
	// did not know about it, or did not trust it.
	ErrNotForUs = errors.New("omemo: the message was not encrypted for this device")
	// ErrNoSession: there is no session with the sending device and the
	// message does not start one.
	ErrNoSession = errors.New("omemo: no session with this device")
	// ErrIdentityChanged: a device presents an identity key other than
	// the one we know for it. It is never accepted silently: the new key
	// is recorded as undecided until the user decides.
	ErrIdentityChanged = errors.New("omemo: the device's identity key changed")
	// ErrBadMAC: the message failed authentication with every session
	// state we have for the device (a broken or replaced session, or a
	// forged message).
	ErrBadMAC = errors.New("omemo: message authentication failed")
	// ErrNoPreKey: the message starts a session with a one-time prekey
	// we no longer have (already used, or never ours).
	ErrNoPreKey = errors.New("omemo: the message uses a one-time prekey that was already used")
	// ErrNoSignedPreKey: the message starts a session with a signed
	// prekey we no longer have (rotated out and removed after its grace
	// period).
	ErrNoSignedPreKey = errors.New("omemo: the message uses a signed prekey that expired")
	// ErrTooFarInFuture: the message is more than 2000 messages ahead in
	// its chain.
	ErrTooFarInFuture = errors.New("omemo: the message is too far ahead of the session")
	// ErrMalformed: the message, key or bundle is not well-formed.
	ErrMalformed = errors.New("omemo: malformed data")
	// ErrBadPayload: the key decrypted but the payload did not (it was
	// altered, or the key material does not match it).
	ErrBadPayload = errors.New("omemo: the encrypted text is corrupted")
	// ErrInvalidBundle: a bundle's keys or signature are invalid.
	ErrInvalidBundle = errors.New("omemo: invalid bundle")
	// ErrUntrusted: a device was not encrypted to because the user has
	// not trusted (or has distrusted) its identity key.
	ErrUntrusted = errors.New("omemo: device not trusted")
	// ErrNoRecipients: no device at all could be encrypted to; the
	// message must not be sent.
	ErrNoRecipients = errors.New("omemo: no device to encrypt to")
	// ErrUnknownFingerprint: no device of that user has this fingerprint.
	ErrUnknownFingerprint = errors.New("omemo: no device with this fingerprint")
	// ErrFingerprintMismatch: a verification URI names a device whose
	// identity key differs from the fingerprint in the URI.
	ErrFingerprintMismatch = errors.New("omemo: fingerprint does not match the device's identity key")
	// ErrInvalidURI: the text is not an xmpp: URI with OMEMO fingerprints.
	ErrInvalidURI = errors.New("omemo: not an OMEMO verification URI")
	// ErrDecryptionFailed: another failure of the Signal layer.
	ErrDecryptionFailed = errors.New("omemo: decryption failed")
)

// Repair is what may fix a decryption failure.
type Repair uint8

// The repairs.
const (
	// RepairNone: nothing to do (a garbled message, or one never meant
	// for this device).
	RepairNone Repair = iota
	// RepairNewSession: fetch the sender's bundle, build a new session
	// (ResetSession) and send it the key-transport message that returns,
	// so that its next messages decrypt. The message itself is lost; ask
	// the sender to send it again.
	RepairNewSession
	// RepairVerify: the user must look at the device's new identity key
	// and trust or distrust it (Verify, SetTrust, Distrust); then a new
	// session as for RepairNewSession.
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

// DecryptError is a decryption failure that the user must see (except
// ErrDuplicate and ErrOwnDevice, which the caller drops silently).
type DecryptError struct {
	// Sender is the sending device.
	Sender Address
	// Reason is one of the sentinels (ErrNoSession, ErrIdentityChanged, …).
	Reason error
	// Repair is what may fix it.
	Repair Repair
	// Err is the underlying error, for logs; nil when Reason says it all.
	Err error
}

// Error says what happened in words a user can read, for example
// "could not decrypt a message from juliet@capulet.lit (device 31415):
// the device's identity key changed".
func (e *DecryptError) Error() string {
	reason := e.Reason.Error()
	if len(reason) > len("omemo: ") && reason[:len("omemo: ")] == "omemo: " {
		reason = reason[len("omemo: "):]
	}
	return fmt.Sprintf("could not decrypt a message from %s (device %d): %s", e.Sender.JID, e.Sender.Device, reason)
}

// Unwrap returns Reason and Err, so errors.Is matches either.
func (e *DecryptError) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Reason}
	}
	return []error{e.Reason, e.Err}
}

// classify maps an error of the Signal layer to our reason and repair.
//
//lint:ignore ST1008 the first result is not a failure of classify but its answer
func classify(err error) (error, Repair) {
	switch {
	case errors.Is(err, signalerror.ErrOldCounter):
		return ErrDuplicate, RepairNone
	case errors.Is(err, signalerror.ErrUntrustedIdentity), errors.Is(err, ErrIdentityChanged):
		return ErrIdentityChanged, RepairVerify
	case errors.Is(err, signalerror.ErrNoSignedPreKey):
		return ErrNoSignedPreKey, RepairNewSession
	case errors.Is(err, signalerror.ErrNoOneTimeKeyFound):
		return ErrNoPreKey, RepairNewSession
	case errors.Is(err, signalerror.ErrNoSessionForUser), errors.Is(err, signalerror.ErrUninitializedSession),
		errors.Is(err, ErrNoSession):
		return ErrNoSession, RepairNewSession
	case errors.Is(err, signalerror.ErrBadMAC), errors.Is(err, signalerror.ErrNoValidSessions):
		return ErrBadMAC, RepairNewSession
	case errors.Is(err, signalerror.ErrTooFarIntoFuture):
		return ErrTooFarInFuture, RepairNewSession
	case errors.Is(err, errSignalMessage), errors.Is(err, ErrMalformed),
		errors.Is(err, signalerror.ErrOldMessageVersion), errors.Is(err, signalerror.ErrUnknownMessageVersion),
		errors.Is(err, signalerror.ErrIncompleteMessage), errors.Is(err, signalerror.ErrWrongMessageVersion):
		return ErrMalformed, RepairNone
	case errors.Is(err, ErrBadPayload):
		return ErrBadPayload, RepairNone
	}
	return ErrDecryptionFailed, RepairNewSession
}
