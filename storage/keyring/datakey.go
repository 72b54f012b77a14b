package keyring

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
)

// KeySize is the size of a master data key in bytes (256 bits).
const KeySize = 32

// sealVersion is the first byte of every sealed value: AES-256-GCM under the
// HKDF "seal" subkey, with a random 96-bit nonce. A new key or algorithm
// gets a new version; Open rejects versions it does not know.
const sealVersion byte = 1

// nonceSize and tagSize are AES-GCM's (NIST SP 800-38D).
const (
	nonceSize = 12
	tagSize   = 16
)

// SealOverhead is how many bytes Seal adds to the plaintext: version, nonce
// and tag.
const SealOverhead = 1 + nonceSize + tagSize

// HKDF-SHA-256 info strings (RFC 5869): each subkey of the master key has
// its own, so the check value stored in a KeyInfo says nothing about the
// sealing key.
const (
	infoSeal  = "im.tern.Tern data key v1: AES-256-GCM seal"
	infoCheck = "im.tern.Tern data key v1: check value"
)

// DataKey seals and opens values at rest with AES-256-GCM. It has exactly
// the method set of storage/sqlite's Sealer. A DataKey is safe for
// concurrent use.
//
// Each Seal draws a fresh random 96-bit nonce; NIST SP 800-38D §8.3 allows
// 2^32 seals under one key that way, far above what one profile's private
// keys and session records need.
type DataKey struct {
	mu   sync.RWMutex // guards aead
	aead cipher.AEAD  // nil after Destroy
}

// NewDataKey returns the DataKey for a 32-byte master key, for callers that
// keep the master key themselves (tests, or a future key store). It does not
// keep master; the caller should clear it after use.
func NewDataKey(master []byte) (*DataKey, error) {
	dk, check, err := deriveDataKey(master)
	clear(check)
	return dk, err
}

// deriveDataKey derives the sealing key and the check value from master.
func deriveDataKey(master []byte) (*DataKey, []byte, error) {
	if len(master) != KeySize {
		return nil, nil, fmt.Errorf("keyring: data key is %d bytes, want %d", len(master), KeySize)
	}
	sealKey, err := hkdf.Key(sha256.New, master, nil, infoSeal, KeySize)
	if err != nil {
		return nil, nil, fmt.Errorf("keyring: derive sealing key: %w", err)
	}
	defer clear(sealKey)
	check, err := checkValue(master)
	if err != nil {
		return nil, nil, err
	}
	block, err := aes.NewCipher(sealKey)
	if err != nil {
		return nil, nil, fmt.Errorf("keyring: %w", err)
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, nil, fmt.Errorf("keyring: %w", err)
	}
	return &DataKey{aead: aead}, check, nil
}

// checkValue returns the check value of master that a KeyInfo stores.
func checkValue(master []byte) ([]byte, error) {
	check, err := hkdf.Key(sha256.New, master, nil, infoCheck, checkSize)
	if err != nil {
		return nil, fmt.Errorf("keyring: derive check value: %w", err)
	}
	return check, nil
}

// Seal encrypts plaintext and authenticates it together with additionalData,
// which Open must be given unchanged. Bind the value to where it is stored
// (table, account, row key) so that a sealed value moved elsewhere does not
// open. The result is version ‖ nonce ‖ ciphertext ‖ tag, len(plaintext) +
// SealOverhead bytes.
func (k *DataKey) Seal(plaintext, additionalData []byte) ([]byte, error) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	if k.aead == nil {
		return nil, ErrDestroyed
	}
	out := make([]byte, 1, len(plaintext)+SealOverhead)
	out[0] = sealVersion
	return k.aead.Seal(out, nil, plaintext, boundData(sealVersion, additionalData)), nil
}

// Open decrypts a value made by Seal with the same key and additional data.
// Any change to sealed, a different key or different additional data gives
// ErrTampered and no plaintext.
func (k *DataKey) Open(sealed, additionalData []byte) ([]byte, error) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	if k.aead == nil {
		return nil, ErrDestroyed
	}
	if len(sealed) < SealOverhead || sealed[0] != sealVersion {
		return nil, ErrTampered
	}
	plaintext, err := k.aead.Open(nil, nil, sealed[1:], boundData(sealed[0], additionalData))
	if err != nil {
		return nil, ErrTampered
	}
	return plaintext, nil
}

// Destroy makes the DataKey unusable: later Seal and Open calls fail with
// ErrDestroyed. The cipher's expanded key inside crypto/aes cannot be
// cleared from Go; Destroy drops the last reference to it (see the package
// documentation).
func (k *DataKey) Destroy() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.aead = nil
}

// boundData is the additional data GCM authenticates: the version byte, so
// that it cannot be changed either, then the caller's.
func boundData(version byte, additionalData []byte) []byte {
	b := make([]byte, 0, 1+len(additionalData))
	b = append(b, version)
	return append(b, additionalData...)
}

// entryPrefix starts the keyring user name of data key entries. It contains
// spaces, which no JID can, so it never collides with a password entry.
const entryPrefix = "Tern data key "

// CreateDataKey makes a new random master key, stores it in the keyring
// under a new entry and returns its DataKey and the KeyInfo to persist with
// the database (a later OpenDataKey needs it). It reads the entry back
// before returning, so that nothing is sealed with a key the keyring did not
// keep. Without a keyring it fails with an *UnavailableError: use
// CreatePassphraseKey then.
//
// If persisting the KeyInfo fails, call DeleteDataKey: the entry is
// otherwise left behind unused.
func (k *Keyring) CreateDataKey(ctx context.Context) (*DataKey, KeyInfo, error) {
	master := make([]byte, KeySize)
	rand.Read(master) // never fails (crypto/rand, Go 1.24)
	defer clear(master)
	entry := entryPrefix + hexID(8)
	// go-keyring stores strings; this one cannot be cleared.
	encoded := base64.StdEncoding.EncodeToString(master)
	err := k.do(ctx, "store data key", func(b Backend) error {
		return b.Set(k.service, entry, encoded)
	})
	if err != nil {
		return nil, KeyInfo{}, err
	}
	var stored string
	err = k.do(ctx, "read back data key", func(b Backend) error {
		var err error
		stored, err = b.Get(k.service, entry)
		return err
	})
	if err == nil {
		got, want := []byte(stored), []byte(encoded)
		if subtle.ConstantTimeCompare(got, want) != 1 {
			err = fmt.Errorf("read back data key: %w: the keyring returned a different value", ErrFailed)
		}
		clear(got)
		clear(want)
	}
	if err != nil {
		// Best effort: the key was never used.
		if derr := k.deleteEntry(ctx, entry); derr != nil {
			k.log.Warn("could not remove unusable data key entry", "entry", entry, "err", derr)
		}
		return nil, KeyInfo{}, err
	}
	dk, check, err := deriveDataKey(master)
	if err != nil {
		return nil, KeyInfo{}, err
	}
	k.log.Info("created data key in the keyring", "entry", entry)
	return dk, KeyInfo{Source: SourceKeyring, Entry: entry, Check: check}, nil
}

// OpenDataKey reads the master key that info names from the keyring and
// returns its DataKey. It fails with ErrNotFound when the entry is gone,
// ErrWrongKey when the entry holds another key, and an *UnavailableError
// with DataKey set when there is no keyring (a passphrase cannot replace a
// key kept in the keyring).
func (k *Keyring) OpenDataKey(ctx context.Context, info KeyInfo) (*DataKey, error) {
	if err := info.Validate(); err != nil {
		return nil, err
	}
	if info.Source != SourceKeyring {
		return nil, fmt.Errorf("%w: the data key is protected by a passphrase, not the keyring", ErrInvalidKeyInfo)
	}
	var stored string
	err := k.do(ctx, "read data key", func(b Backend) error {
		var err error
		stored, err = b.Get(k.service, info.Entry)
		return err
	})
	var ue *UnavailableError
	if errors.As(err, &ue) {
		dup := *ue
		dup.DataKey = true
		return nil, &dup
	}
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("data key %q is missing from the keyring: %w", info.Entry, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	master, err := base64.StdEncoding.DecodeString(stored)
	defer clear(master)
	if err != nil || len(master) != KeySize {
		return nil, fmt.Errorf("data key %q: %w", info.Entry, ErrWrongKey)
	}
	check, err := checkValue(master)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(check, info.Check) != 1 {
		return nil, fmt.Errorf("data key %q: %w", info.Entry, ErrWrongKey)
	}
	dk, _, err := deriveDataKey(master)
	return dk, err
}

// DeleteDataKey removes the keyring entry that info names. Everything
// sealed with that key becomes unreadable for good. Deleting an entry that
// does not exist succeeds; a passphrase KeyInfo has no entry to delete.
func (k *Keyring) DeleteDataKey(ctx context.Context, info KeyInfo) error {
	if err := info.Validate(); err != nil {
		return err
	}
	if info.Source != SourceKeyring {
		return nil
	}
	return k.deleteEntry(ctx, info.Entry)
}

func (k *Keyring) deleteEntry(ctx context.Context, entry string) error {
	err := k.do(ctx, "delete data key", func(b Backend) error {
		return b.Delete(k.service, entry)
	})
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// hexID returns n random bytes in hex, for names.
func hexID(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
