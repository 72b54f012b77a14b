// Package profile opens a Tern profile: the one database (storage/sqlite)
// with the data key that protects its secrets, kept in the OS keyring
// (storage/keyring) or derived from a passphrase with Argon2id when there
// is no keyring. It also stores new accounts (settings in the database,
// password in the keyring) and builds TLS settings. cmd/tern and
// cmd/tern-cli wire the same pieces this way (DESIGN.md §1: cmd is the
// composition root).
package profile

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/storage/keyring"
	"github.com/tern-im/tern/storage/sqlite"
)

// KeyInfoSuffix is appended to the database path to name the file that
// describes its data key (keyring.KeyInfo).
const KeyInfoSuffix = ".keyinfo"

var (
	// ErrNeedPassphrase: the data key is (or must be) derived from a
	// passphrase, because there is no keyring, and none was given.
	ErrNeedPassphrase = errors.New("profile: the data key needs a passphrase")
	// ErrCAFile: the CA file cannot be read or holds no certificate.
	ErrCAFile = errors.New("profile: bad CA file")
)

// Options says where the profile is and how to unlock it.
type Options struct {
	// Path is the database file ("": sqlite.DefaultPath()).
	Path string
	// Keyring holds the data key. Required.
	Keyring *keyring.Keyring
	// Passphrase derives the data key when the profile uses a passphrase,
	// or when it is created without a keyring. nil: Open fails with
	// ErrNeedPassphrase in those cases. Open does not keep it.
	Passphrase []byte
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
}

// Path returns the database path: p, or the default when p is empty.
func Path(p string) (string, error) {
	if p != "" {
		return p, nil
	}
	p, err := sqlite.DefaultPath()
	if err != nil {
		return "", fmt.Errorf("database path: %w", err)
	}
	return p, nil
}

// Open opens the database with its data key, creating both on first use:
// a random key in the keyring, else one derived from the passphrase. The
// caller closes the database and destroys the key. A wrong passphrase
// fails with keyring.ErrWrongPassphrase.
func Open(ctx context.Context, opts Options) (*sqlite.DB, *keyring.DataKey, error) {
	if opts.Keyring == nil {
		return nil, nil, errors.New("profile: Options.Keyring is nil")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	path, err := Path(opts.Path)
	if err != nil {
		return nil, nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, nil, fmt.Errorf("database directory: %w", err)
	}
	key, err := dataKey(ctx, opts, path+KeyInfoSuffix, log)
	if err != nil {
		return nil, nil, err
	}
	db, err := sqlite.Open(ctx, path, sqlite.Options{Sealer: key, Logger: log})
	if err != nil {
		key.Destroy()
		return nil, nil, err
	}
	return db, key, nil
}

// dataKey opens (or, the first time, creates) the data key described by
// the KeyInfo file at infoPath.
func dataKey(ctx context.Context, opts Options, infoPath string, log *slog.Logger) (*keyring.DataKey, error) {
	info, err := keyring.ReadKeyInfoFile(infoPath)
	switch {
	case err == nil:
		if info.Source == keyring.SourcePassphrase {
			if opts.Passphrase == nil {
				return nil, ErrNeedPassphrase
			}
			k, err := keyring.OpenPassphraseKey(opts.Passphrase, info)
			if err != nil {
				return nil, fmt.Errorf("data key: %w", err)
			}
			return k, nil
		}
		k, err := opts.Keyring.OpenDataKey(ctx, info)
		if err != nil {
			return nil, fmt.Errorf("data key: %w", err)
		}
		return k, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	k, info, err := opts.Keyring.CreateDataKey(ctx)
	if errors.Is(err, keyring.ErrUnavailable) {
		if opts.Passphrase == nil {
			return nil, fmt.Errorf("%w (no keyring: %w)", ErrNeedPassphrase, err)
		}
		k, info, err = keyring.CreatePassphraseKey(opts.Passphrase, keyring.DefaultArgon2Params())
	}
	if err != nil {
		return nil, fmt.Errorf("data key: %w", err)
	}
	if err := keyring.CreateKeyInfoFile(infoPath, info); err != nil {
		k.Destroy()
		if info.Source != keyring.SourcePassphrase {
			if derr := opts.Keyring.DeleteDataKey(ctx, info); derr != nil {
				log.Warn("could not remove the unused data key", "err", derr)
			}
		}
		return nil, err
	}
	return k, nil
}

// StoreAccount stores a verified account: its settings in db and its
// password in the keyring. It returns the stored account (with its ID)
// and whether the password was kept: without a keyring it is not (ask it
// at each sign-in). If the keyring refuses for another reason the account
// is removed again, so that nothing is half added.
func StoreAccount(ctx context.Context, db client.Store, creds client.Credentials, a client.Account, password string) (client.Account, bool, error) {
	err := db.Update(ctx, func(tx client.Tx) error {
		id, err := tx.PutAccount(ctx, a)
		a.ID = id
		return err
	})
	if err != nil {
		return client.Account{}, false, fmt.Errorf("store the account: %w", err)
	}
	err = creds.SetPassword(ctx, a.JID, password)
	switch {
	case errors.Is(err, client.ErrNoKeyring):
		return a, false, nil
	case err != nil:
		if derr := db.Update(ctx, func(tx client.Tx) error { return tx.DeleteAccount(ctx, a.ID) }); derr != nil {
			err = errors.Join(err, fmt.Errorf("undo adding the account: %w", derr))
		}
		return client.Account{}, false, fmt.Errorf("store the password: %w", err)
	}
	return a, true, nil
}

// TLSConfig returns the TLS settings of every connection: TLS 1.2 or
// later, verified against the system's roots, or only against the PEM
// certificates of caFile when it is not empty.
func TLSConfig(caFile string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile == "" {
		return cfg, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCAFile, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%w: %s contains no PEM certificate", ErrCAFile, caFile)
	}
	cfg.RootCAs = pool
	return cfg, nil
}
