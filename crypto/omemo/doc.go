// Package omemo implements OMEMO end-to-end encryption (XEP-0384, the
// deployed 0.3 version, namespace "eu.siacs.conversations.axolotl") on the
// Signal protocol: our own device, sessions, encryption and decryption,
// device lists and the trust policy (blind trust before verification).
//
// It declares what it needs from storage: [Store], the per-account
// OMEMO state (our identity, prekeys, signed prekeys, sessions, the device
// lists of other users and the user's trust decisions). storage/sqlite
// implements it in the same database as the message history, so decrypting
// a message and storing its plaintext commit in one transaction: a crash
// can never advance a ratchet without keeping the message, and a replayed
// message is harmless. The store seals private keys and session records at
// rest (AES-256-GCM under a key held by the OS keyring); this package sees
// them in clear.
//
// # Use
//
// An [Account] is the OMEMO layer of one XMPP account; every method takes
// the Store (the caller's transaction) to work in. The wire format is
// protocol/omemo's: Encrypt returns and Decrypt takes an omemo.Encrypted,
// Bundle returns an omemo.Bundle to publish and BuildSession takes a
// fetched one. The network is the caller's business:
//
//   - at start, Setup (publish Bundle and the device list when it created
//     the device), RotateSignedPreKey;
//   - device lists: SetDeviceList for every list received from its owner
//     (protocol/omemo.ParseDeviceListEvent, DeviceListOwner); publish what
//     it returns;
//   - sending: Plan, fetch the bundles of Plan.NeedBundle and BuildSession,
//     then Encrypt to Plan.Ready; ErrNoRecipients means nothing may be
//     sent;
//   - receiving: Decrypt in the transaction that stores the message; drop
//     ErrDuplicate and ErrOwnDevice silently, show the other failures with
//     their Repair; after a catch-up, ReplenishPreKeys (publish Bundle) and
//     send the KeyTransport messages that Decrypted.SendKeyTransport asked
//     for;
//   - repairs: ResetSession with a freshly fetched bundle;
//   - trust: Devices, Verify, Distrust, SetTrust, VerifyURI, OwnURI.
//
// go.mau.fi/libsignal does the Signal protocol. Everything a peer sends is
// checked before the library sees it (keys, signatures, the Signal
// messages' protobuf), because the library panics on some malformed input;
// its logger is replaced by one that prints nothing, because its debug
// output contains key material.
package omemo
