package keyring_test

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"

	"github.com/tern-im/tern/storage/keyring"
)

// openProfileKey is how cmd/tern gets the data key of a profile at start:
// the KeyInfo file next to the database says where the key is; on first
// start the key is created in the keyring, or, without a keyring, derived
// from a passphrase the user chooses. askPassphrase shows the UI (with the
// keyring error's message when there is one) and returns what was typed.
func openProfileKey(ctx context.Context, k *keyring.Keyring, profileDir string,
	askPassphrase func(ctx context.Context, reason error) ([]byte, error)) (*keyring.DataKey, error) {
	path := filepath.Join(profileDir, "keyinfo.json")
	info, err := keyring.ReadKeyInfoFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist): // first start of this profile
		dk, info, err := k.CreateDataKey(ctx)
		if errors.Is(err, keyring.ErrUnavailable) {
			pass, perr := askPassphrase(ctx, err)
			if perr != nil {
				return nil, perr
			}
			dk, info, err = keyring.CreatePassphraseKey(pass, keyring.Argon2Params{})
			clear(pass)
		}
		if err != nil {
			return nil, err
		}
		if err := keyring.CreateKeyInfoFile(path, info); err != nil {
			dk.Destroy()
			_ = k.DeleteDataKey(ctx, info)
			return nil, err
		}
		return dk, nil
	case err != nil:
		return nil, err
	case info.Source == keyring.SourceKeyring:
		// No passphrase fallback here: the key is in the keyring, and
		// the error says to unlock or start it.
		return k.OpenDataKey(ctx, info)
	default:
		var reason error
		for {
			pass, err := askPassphrase(ctx, reason)
			if err != nil {
				return nil, err
			}
			dk, err := keyring.OpenPassphraseKey(pass, info)
			clear(pass)
			if !errors.Is(err, keyring.ErrWrongPassphrase) {
				return dk, err
			}
			reason = err
		}
	}
}

// The start-up flow for a profile's data key; the sealed values go into
// the database.
func Example() {
	ctx := context.Background()
	k := keyring.New(keyring.Options{})
	defer k.Close(ctx)
	dk, err := openProfileKey(ctx, k, "/path/to/profile", func(context.Context, error) ([]byte, error) {
		return []byte("what the user typed"), nil
	})
	if err != nil {
		return // show err.Error() to the user
	}
	defer dk.Destroy()
	sealed, _ := dk.Seal([]byte("identity private key"), []byte("omemo_identity/alice@example.org"))
	_, _ = dk.Open(sealed, []byte("omemo_identity/alice@example.org"))
}
