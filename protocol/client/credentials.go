package client

import (
	"context"
	"errors"

	"github.com/tern-im/tern/protocol/jid"
)

// Credentials keeps account passwords out of the database: storage/keyring
// implements it with the OS keyring (DESIGN.md §4). Methods key on the
// account's bare JID; a resource in the argument is ignored.
//
// When the system has no usable keyring, every method fails with an error
// matching ErrNoKeyring: nothing is stored, and the UI asks for the password
// at each sign-in instead. Implementations never put a password in an error
// or a log line.
type Credentials interface {
	// Password returns the stored password of account. It fails with
	// ErrNoPassword when none is stored (ask the user, then offer to store
	// it) and with ErrNoKeyring when there is no keyring to ask.
	Password(ctx context.Context, account jid.JID) (string, error)
	// SetPassword stores or replaces the password of account.
	SetPassword(ctx context.Context, account jid.JID, password string) error
	// DeletePassword removes the stored password of account; removing a
	// password that is not stored is not an error.
	DeletePassword(ctx context.Context, account jid.JID) error
}

var (
	// ErrNoPassword: Credentials has no password for the account.
	ErrNoPassword = errors.New("client: no stored password")
	// ErrNoKeyring: Credentials cannot store passwords on this system (no
	// keyring, or it is locked or not answering). Ask the user for the
	// password at sign-in and keep it in memory only.
	ErrNoKeyring = errors.New("client: no keyring to store passwords; ask the user")
)
