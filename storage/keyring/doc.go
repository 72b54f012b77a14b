// Package keyring keeps Tern's secrets out of the database: account
// passwords, and the data key that seals private keys and session records at
// rest. It implements client.Credentials (DESIGN.md §4).
//
// Secrets live in the OS keyring through github.com/zalando/go-keyring: the
// freedesktop.org Secret Service API on Linux and the BSDs (GNOME Keyring,
// KWallet), the Keychain on macOS and the Credential Manager on Windows. A
// Keyring bounds every call with its context, because a keyring may show an
// unlock prompt that nobody answers, and classifies failures: ErrNotFound for
// a missing entry, an *UnavailableError (matching ErrUnavailable and
// client.ErrNoKeyring) when there is no session bus, no Secret Service, a
// locked keyring or no answer, and ErrFailed for anything else.
//
// A DataKey seals with AES-256-GCM (NIST SP 800-38D) under a subkey derived
// with HKDF-SHA-256 (RFC 5869) from a random 256-bit master key. Sealed values
// are
//
//	version (1 byte, 0x01) ‖ nonce (12 random bytes) ‖ ciphertext ‖ tag (16 bytes)
//
// with the version byte and the caller's additional data authenticated; Open
// fails closed with ErrTampered on any change. The master key either lives in
// the keyring (Keyring.CreateDataKey, Keyring.OpenDataKey) or, when there is
// no keyring, is derived from a passphrase the user chooses with Argon2id
// (RFC 9106, second recommended parameters: t=3, m=64 MiB, p=4, 16-byte salt;
// CreatePassphraseKey, OpenPassphraseKey). Either way a KeyInfo describes the
// key: where it lives, the Argon2id salt and cost, and a check value that
// detects a wrong passphrase or a replaced keyring entry. KeyInfo holds no
// secret; the caller persists it next to the database (CreateKeyInfoFile,
// ReadKeyInfoFile, or MarshalText into a table of its own).
//
// # Keeping secrets out of memory, logs and errors
//
// Nothing here logs or formats a password, passphrase or key, and errors name
// operations and accounts, never secret values. Key material this package
// owns in []byte form is zeroed after use (the master key after the subkeys
// are derived, the Argon2id output, decoded keyring values), and
// DataKey.Destroy drops the cipher. Go limits what that achieves: strings
// (passwords, and the base64 text go-keyring returns) are immutable and cannot
// be cleared; the AES key schedule inside crypto/aes is not reachable to
// clear, so Destroy only makes it garbage; the runtime may have copied values
// when it grew a goroutine stack; and the D-Bus library keeps its own copies
// of message buffers. Zeroing narrows the window in which a memory dump finds
// a key; it does not close it.
package keyring
