package keyring

import (
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"golang.org/x/text/secure/precis"
)

// Argon2Params is the cost of deriving a key from a passphrase with
// Argon2id (RFC 9106). The zero value means DefaultArgon2Params.
type Argon2Params struct {
	// Time is the number of passes over the memory (t).
	Time uint32
	// MemoryKiB is the memory size in KiB (m).
	MemoryKiB uint32
	// Threads is the degree of parallelism (p).
	Threads uint8
}

// Bounds Validate enforces. The upper ones keep a forged KeyInfo from
// making Tern allocate or compute without limit.
const (
	minArgon2Memory  = 8 << 10 // KiB: 8 MiB
	maxArgon2Memory  = 1 << 20 // KiB: 1 GiB
	maxArgon2Time    = 64
	maxArgon2Threads = 64
)

// DefaultArgon2Params returns RFC 9106's second recommended option (§4):
// t=3 passes, m=64 MiB, p=4 lanes, for memory-constrained environments.
func DefaultArgon2Params() Argon2Params {
	return Argon2Params{Time: 3, MemoryKiB: 64 << 10, Threads: 4}
}

// Validate reports whether p is within the bounds this package accepts: t
// from 1 to 64, p from 1 to 64, m from 8 MiB to 1 GiB. Errors match
// ErrInvalidKeyInfo.
func (p Argon2Params) Validate() error {
	switch {
	case p.Time < 1 || p.Time > maxArgon2Time:
		return fmt.Errorf("%w: argon2id time %d out of range 1…%d", ErrInvalidKeyInfo, p.Time, maxArgon2Time)
	case p.Threads < 1 || p.Threads > maxArgon2Threads:
		return fmt.Errorf("%w: argon2id threads %d out of range 1…%d", ErrInvalidKeyInfo, p.Threads, maxArgon2Threads)
	case p.MemoryKiB < minArgon2Memory || p.MemoryKiB > maxArgon2Memory:
		return fmt.Errorf("%w: argon2id memory %d KiB out of range %d…%d", ErrInvalidKeyInfo, p.MemoryKiB, minArgon2Memory, maxArgon2Memory)
	}
	return nil
}

// CreatePassphraseKey derives a new data key from passphrase, for when there
// is no keyring, with a new random salt and the given cost (the zero value:
// DefaultArgon2Params). It returns the DataKey and the KeyInfo to persist
// with the database; OpenPassphraseKey needs both the KeyInfo and the same
// passphrase again. The passphrase is normalized with the RFC 8265
// OpaqueString profile (so that the same characters typed on another system
// give the same key); it must not be empty. The caller owns passphrase and
// should clear it after the call. Deriving takes about a second with the
// default cost; it cannot be interrupted.
func CreatePassphraseKey(passphrase []byte, params Argon2Params) (*DataKey, KeyInfo, error) {
	if params == (Argon2Params{}) {
		params = DefaultArgon2Params()
	}
	if err := params.Validate(); err != nil {
		return nil, KeyInfo{}, err
	}
	salt := make([]byte, saltSize)
	rand.Read(salt) // never fails (crypto/rand, Go 1.24)
	master, err := derivePassphraseKey(passphrase, salt, params)
	if err != nil {
		return nil, KeyInfo{}, err
	}
	defer clear(master)
	dk, check, err := deriveDataKey(master)
	if err != nil {
		return nil, KeyInfo{}, err
	}
	return dk, KeyInfo{Source: SourcePassphrase, Argon2: params, Salt: salt, Check: check}, nil
}

// OpenPassphraseKey derives the data key that info describes from
// passphrase. A passphrase other than the one given to CreatePassphraseKey
// gives ErrWrongPassphrase, never a wrong key.
func OpenPassphraseKey(passphrase []byte, info KeyInfo) (*DataKey, error) {
	if err := info.Validate(); err != nil {
		return nil, err
	}
	if info.Source != SourcePassphrase {
		return nil, fmt.Errorf("%w: the data key is in the keyring, not derived from a passphrase", ErrInvalidKeyInfo)
	}
	master, err := derivePassphraseKey(passphrase, info.Salt, info.Argon2)
	if err != nil {
		return nil, err
	}
	defer clear(master)
	check, err := checkValue(master)
	if err != nil {
		return nil, err
	}
	defer clear(check)
	if subtle.ConstantTimeCompare(check, info.Check) != 1 {
		return nil, ErrWrongPassphrase
	}
	dk, derived, err := deriveDataKey(master)
	clear(derived)
	return dk, err
}

// derivePassphraseKey returns the Argon2id master key of passphrase.
func derivePassphraseKey(passphrase, salt []byte, p Argon2Params) ([]byte, error) {
	// RFC 8265 §4.2: OpaqueString is the profile for passwords. Its
	// errors would not reveal the passphrase, but it is not worth the risk
	// of wrapping them.
	if !utf8.Valid(passphrase) {
		// precis passes some invalid UTF-8 through unchanged.
		return nil, ErrInvalidPassphrase
	}
	norm, err := precis.OpaqueString.Bytes(passphrase)
	if err != nil || len(norm) == 0 {
		return nil, ErrInvalidPassphrase
	}
	defer clear(norm)
	return argon2.IDKey(norm, salt, p.Time, p.MemoryKiB, p.Threads, KeySize), nil
}
