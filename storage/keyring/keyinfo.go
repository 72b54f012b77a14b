package keyring

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"unicode"
	"unicode/utf8"
)

// Source says where a data key's master key comes from.
type Source string

const (
	// SourceKeyring: a random master key stored in the OS keyring.
	SourceKeyring Source = "keyring"
	// SourcePassphrase: a master key derived from the user's passphrase
	// with Argon2id.
	SourcePassphrase Source = "passphrase"
)

// keyInfoVersion is the KeyInfo format this package writes and reads.
const keyInfoVersion = 1

const (
	checkSize = 32 // bytes of a KeyInfo check value
	saltSize  = 16 // bytes of an Argon2id salt (RFC 9106 §4: 128 bits)
	// maxEntry bounds a keyring entry name in a KeyInfo.
	maxEntry = 256
	// maxKeyInfoFile bounds what ReadKeyInfoFile reads.
	maxKeyInfoFile = 64 << 10
)

// KeyInfo describes a data key without revealing it: where the master key
// comes from, the Argon2id salt and cost for a passphrase, and a check value
// (an HKDF subkey of the master key, RFC 5869) that tells a wrong passphrase
// or a replaced keyring entry from the right one. Nothing in it is secret,
// but the check value lets whoever reads it test passphrase guesses (at
// Argon2id's cost), as sealed data would: keep it with the database, with
// the same permissions. Persist it with MarshalText or CreateKeyInfoFile.
type KeyInfo struct {
	// Source is where the master key comes from.
	Source Source
	// Entry is the keyring entry holding the master key (SourceKeyring).
	Entry string
	// Argon2 is the derivation cost (SourcePassphrase).
	Argon2 Argon2Params
	// Salt is the Argon2id salt, 16 bytes (SourcePassphrase).
	Salt []byte
	// Check is the 32-byte check value of the master key.
	Check []byte
}

// Validate reports whether info is well formed, with an error matching
// ErrInvalidKeyInfo if not.
func (info KeyInfo) Validate() error {
	if len(info.Check) != checkSize {
		return fmt.Errorf("%w: check value is %d bytes, want %d", ErrInvalidKeyInfo, len(info.Check), checkSize)
	}
	switch info.Source {
	case SourceKeyring:
		if !validEntry(info.Entry) {
			return fmt.Errorf("%w: bad keyring entry name", ErrInvalidKeyInfo)
		}
		if info.Argon2 != (Argon2Params{}) || info.Salt != nil {
			return fmt.Errorf("%w: keyring key with passphrase parameters", ErrInvalidKeyInfo)
		}
	case SourcePassphrase:
		if info.Entry != "" {
			return fmt.Errorf("%w: passphrase key with a keyring entry", ErrInvalidKeyInfo)
		}
		if len(info.Salt) != saltSize {
			return fmt.Errorf("%w: salt is %d bytes, want %d", ErrInvalidKeyInfo, len(info.Salt), saltSize)
		}
		if err := info.Argon2.Validate(); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%w: unknown source %q", ErrInvalidKeyInfo, info.Source)
	}
	return nil
}

func validEntry(s string) bool {
	if s == "" || len(s) > maxEntry || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// keyInfoJSON is the persisted form of a KeyInfo.
type keyInfoJSON struct {
	Version   int    `json:"version"`
	Source    Source `json:"source"`
	Entry     string `json:"entry,omitempty"`
	KDF       string `json:"kdf,omitempty"`
	Time      uint32 `json:"time,omitempty"`
	MemoryKiB uint32 `json:"memory_kib,omitempty"`
	Threads   uint8  `json:"threads,omitempty"`
	Salt      []byte `json:"salt,omitempty"`
	Check     []byte `json:"check"`
}

// kdfArgon2id names the only passphrase KDF of format version 1.
const kdfArgon2id = "argon2id"

// MarshalText returns info as a small JSON object with a format version.
func (info KeyInfo) MarshalText() ([]byte, error) {
	if err := info.Validate(); err != nil {
		return nil, err
	}
	j := keyInfoJSON{Version: keyInfoVersion, Source: info.Source, Entry: info.Entry, Check: info.Check}
	if info.Source == SourcePassphrase {
		j.KDF = kdfArgon2id
		j.Time, j.MemoryKiB, j.Threads = info.Argon2.Time, info.Argon2.MemoryKiB, info.Argon2.Threads
		j.Salt = info.Salt
	}
	return json.Marshal(j)
}

// UnmarshalText parses what MarshalText returns. It rejects unknown fields,
// unknown versions and anything Validate rejects, with errors matching
// ErrInvalidKeyInfo.
func (info *KeyInfo) UnmarshalText(text []byte) error {
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.DisallowUnknownFields()
	var j keyInfoJSON
	if err := dec.Decode(&j); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidKeyInfo, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: trailing data", ErrInvalidKeyInfo)
	}
	switch {
	case j.Version > keyInfoVersion:
		return fmt.Errorf("%w: format version %d is newer than this Tern understands (%d)", ErrInvalidKeyInfo, j.Version, keyInfoVersion)
	case j.Version != keyInfoVersion:
		return fmt.Errorf("%w: format version %d", ErrInvalidKeyInfo, j.Version)
	}
	out := KeyInfo{Source: j.Source, Entry: j.Entry, Check: j.Check}
	switch j.Source {
	case SourcePassphrase:
		if j.KDF != kdfArgon2id {
			return fmt.Errorf("%w: unknown kdf %q", ErrInvalidKeyInfo, j.KDF)
		}
		out.Argon2 = Argon2Params{Time: j.Time, MemoryKiB: j.MemoryKiB, Threads: j.Threads}
		out.Salt = j.Salt
	default:
		if j.KDF != "" {
			return fmt.Errorf("%w: kdf without a passphrase", ErrInvalidKeyInfo)
		}
		if j.Time != 0 || j.MemoryKiB != 0 || j.Threads != 0 || j.Salt != nil {
			return fmt.Errorf("%w: keyring key with passphrase parameters", ErrInvalidKeyInfo)
		}
	}
	if err := out.Validate(); err != nil {
		return err
	}
	*info = out
	return nil
}

// CreateKeyInfoFile writes info to a new file at path (mode 0600),
// atomically: the file appears complete or not at all. It never replaces an
// existing file, whose KeyInfo may be the only way to open a database; then
// it fails with an error matching fs.ErrExist.
func CreateKeyInfoFile(path string, info KeyInfo) error {
	text, err := info.MarshalText()
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".keyinfo-*.tmp")
	if err != nil {
		return fmt.Errorf("keyring: create key info file: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(append(text, '\n'))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("keyring: write key info file: %w", err)
	}
	// A hard link publishes the complete file under its name, and fails
	// rather than replacing one that exists.
	if err := os.Link(tmp.Name(), path); err != nil {
		return fmt.Errorf("keyring: create key info file: %w", err)
	}
	syncDir(dir)
	return nil
}

// syncDir makes a new directory entry durable where the system allows it.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync() // not supported for directories everywhere (Windows)
	_ = d.Close()
}

// ReadKeyInfoFile reads a file written by CreateKeyInfoFile. A missing file
// gives an error matching fs.ErrNotExist: the profile has no data key yet.
func ReadKeyInfoFile(path string) (KeyInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return KeyInfo{}, fmt.Errorf("keyring: read key info file: %w", err)
	}
	defer f.Close()
	text, err := io.ReadAll(io.LimitReader(f, maxKeyInfoFile+1))
	if err != nil {
		return KeyInfo{}, fmt.Errorf("keyring: read key info file: %w", err)
	}
	if len(text) > maxKeyInfoFile {
		return KeyInfo{}, fmt.Errorf("keyring: key info file %s: %w: larger than %d bytes", path, ErrInvalidKeyInfo, maxKeyInfoFile)
	}
	var info KeyInfo
	if err := info.UnmarshalText(bytes.TrimSpace(text)); err != nil {
		return KeyInfo{}, fmt.Errorf("keyring: key info file %s: %w", path, err)
	}
	return info, nil
}
