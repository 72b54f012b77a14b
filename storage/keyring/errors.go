package keyring

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"

	dbus "github.com/godbus/dbus/v5"
	gokeyring "github.com/zalando/go-keyring"

	"github.com/tern-im/tern/protocol/client"
)

var (
	// ErrNotFound: the keyring has no such entry.
	ErrNotFound = errors.New("keyring: not found")
	// ErrUnavailable: there is no usable keyring. Errors matching it are
	// *UnavailableError values, which also match client.ErrNoKeyring.
	ErrUnavailable = errors.New("keyring: no system keyring available")
	// ErrFailed: the keyring answered with an error this package does not
	// know; the wrapped error has the details.
	ErrFailed = errors.New("keyring: operation failed")
	// ErrClosed: the Keyring was closed.
	ErrClosed = errors.New("keyring: closed")
	// ErrTampered: a sealed value was modified, truncated, sealed with
	// another key or with other additional data. Open never returns partial
	// plaintext.
	ErrTampered = errors.New("keyring: sealed data was modified or does not belong to this key")
	// ErrDestroyed: the DataKey was destroyed.
	ErrDestroyed = errors.New("keyring: data key destroyed")
	// ErrWrongPassphrase: the passphrase does not match the KeyInfo.
	ErrWrongPassphrase = errors.New("keyring: wrong passphrase")
	// ErrWrongKey: the keyring entry named by a KeyInfo holds a different key
	// than the one the KeyInfo was made for (the entry was replaced).
	ErrWrongKey = errors.New("keyring: the keyring holds a different data key than this profile uses")
	// ErrInvalidPassphrase: the passphrase is empty or contains characters
	// that cannot be entered reliably (RFC 8265 OpaqueString).
	ErrInvalidPassphrase = errors.New("keyring: invalid passphrase")
	// ErrInvalidKeyInfo: a KeyInfo is malformed, of an unknown version, or
	// asks for out-of-range Argon2id parameters.
	ErrInvalidKeyInfo = errors.New("keyring: invalid key info")
	// ErrInvalidAccount: the account JID is empty.
	ErrInvalidAccount = errors.New("keyring: empty account")
	// ErrEmptyPassword: SetPassword was given an empty password.
	ErrEmptyPassword = errors.New("keyring: empty password")
)

// Reason says why a keyring is unavailable.
type Reason int

const (
	// NoBus: there is no D-Bus session bus to reach the Secret Service.
	NoBus Reason = iota + 1
	// NoService: the session bus has no Secret Service (no GNOME Keyring,
	// KWallet or KeePassXC running or activatable).
	NoService
	// Locked: the keyring is locked and was not unlocked (prompt dismissed or
	// impossible).
	Locked
	// Timeout: the keyring did not answer before the context ended, for
	// example because an unlock prompt is still waiting for the user.
	Timeout
	// Denied: the keyring refused access.
	Denied
	// Unsupported: this platform has no keyring go-keyring can use.
	Unsupported
)

// String returns the reason as a user-presentable phrase.
func (r Reason) String() string {
	switch r {
	case NoBus:
		return "no D-Bus session bus"
	case NoService:
		return "no Secret Service is running"
	case Locked:
		return "the keyring is locked"
	case Timeout:
		return "the keyring did not answer in time"
	case Denied:
		return "the keyring refused access"
	case Unsupported:
		return "this system has no supported keyring"
	}
	return fmt.Sprintf("reason %d", int(r))
}

// UnavailableError reports that there is no usable keyring. Its message is
// meant for the user; Err (reachable with errors.Is/As, never shown by Error)
// has the technical cause for logs. It matches ErrUnavailable and
// client.ErrNoKeyring, and for Timeout also the context's error.
type UnavailableError struct {
	// Reason says why, in words the message shows.
	Reason Reason
	// DataKey is set when the error comes from reading a data key that lives
	// in the keyring: that profile's encrypted data cannot be opened until
	// the keyring is back, and no passphrase replaces it.
	DataKey bool
	// Err is the underlying error, or nil.
	Err error
}

// Error returns a message for the user, naming the reason.
func (e *UnavailableError) Error() string {
	if e.DataKey {
		return "The system keyring is not available (" + e.Reason.String() +
			"); Tern keeps the key to this profile's encrypted data there: unlock or start the keyring and try again"
	}
	return "No system keyring is available (" + e.Reason.String() +
		"); Tern will ask for your password at sign-in and protect your keys with a passphrase"
}

// Unwrap returns ErrUnavailable, client.ErrNoKeyring and the cause.
func (e *UnavailableError) Unwrap() []error {
	errs := []error{ErrUnavailable, client.ErrNoKeyring}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// multiError reports the first error's message and matches all of them.
type multiError []error

func (m multiError) Error() string   { return m[0].Error() }
func (m multiError) Unwrap() []error { return m }

// errNoPassword is ErrNotFound as client.Credentials reports it.
var errNoPassword = multiError{ErrNotFound, client.ErrNoPassword}

// errNoBus marks the system backend's failures to reach the session bus,
// found before go-keyring is asked.
var errNoBus = errors.New("cannot reach the D-Bus session bus")

// D-Bus error names (D-Bus specification, "Message Bus Messages"; the Secret
// Service API, "Errors").
const (
	dbusServiceUnknown = "org.freedesktop.DBus.Error.ServiceUnknown"
	dbusNameHasNoOwner = "org.freedesktop.DBus.Error.NameHasNoOwner"
	dbusNoServer       = "org.freedesktop.DBus.Error.NoServer"
	dbusDisconnected   = "org.freedesktop.DBus.Error.Disconnected"
	dbusNoReply        = "org.freedesktop.DBus.Error.NoReply"
	dbusTimeout        = "org.freedesktop.DBus.Error.Timeout"
	dbusTimedOut       = "org.freedesktop.DBus.Error.TimedOut"
	dbusAccessDenied   = "org.freedesktop.DBus.Error.AccessDenied"
	secretIsLocked     = "org.freedesktop.Secret.Error.IsLocked"
	secretNoSuchObject = "org.freedesktop.Secret.Error.NoSuchObject"
	unknownObject      = "org.freedesktop.DBus.Error.UnknownObject"
	unknownMethod      = "org.freedesktop.DBus.Error.UnknownMethod"
)

// classify maps a backend error to this package's errors. op names the
// operation ("get password"); it never contains a secret.
func classify(op string, err error) error {
	if err == nil {
		return nil
	}
	unavailable := func(r Reason) error { return &UnavailableError{Reason: r, Err: fmt.Errorf("%s: %w", op, err)} }
	var ue *UnavailableError
	switch {
	case errors.As(err, &ue):
		return err
	case errors.Is(err, ErrNotFound), errors.Is(err, gokeyring.ErrNotFound):
		return fmt.Errorf("%s: %w", op, ErrNotFound)
	case errors.Is(err, gokeyring.ErrUnsupportedPlatform):
		return unavailable(Unsupported)
	case errors.Is(err, context.DeadlineExceeded):
		return unavailable(Timeout)
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("keyring: %s: %w", op, err)
	}
	if name, ok := dbusErrorName(err); ok {
		switch name {
		case dbusServiceUnknown, dbusNameHasNoOwner:
			return unavailable(NoService)
		case dbusNoServer, dbusDisconnected:
			return unavailable(NoBus)
		case dbusNoReply, dbusTimeout, dbusTimedOut:
			return unavailable(Timeout)
		case dbusAccessDenied:
			return unavailable(Denied)
		case secretIsLocked:
			return unavailable(Locked)
		case secretNoSuchObject, unknownObject, unknownMethod:
			// The default collection does not exist (a keyring daemon
			// started without one, and no prompt to create it): nothing
			// can be stored, as with a locked keyring.
			return unavailable(Locked)
		}
		return fmt.Errorf("%s: %w: %w", op, ErrFailed, err)
	}
	// go-keyring's own message when Unlock did not unlock the collection
	// (prompt dismissed, or no prompter).
	if strings.Contains(err.Error(), "failed to unlock correct collection") {
		return unavailable(Locked)
	}
	if connectionError(err) {
		return unavailable(NoBus)
	}
	return fmt.Errorf("%s: %w: %w", op, ErrFailed, err)
}

// dbusErrorName returns the name of a D-Bus error reply in err's chain.
func dbusErrorName(err error) (string, bool) {
	var v dbus.Error
	if errors.As(err, &v) {
		return v.Name, true
	}
	var p *dbus.Error
	if errors.As(err, &p) && p != nil {
		return p.Name, true
	}
	return "", false
}

// connectionError reports whether err comes from reaching the session bus
// rather than from a reply on it: a dial or socket error, a failed
// dbus-launch, or godbus's own connection errors ("dbus: …").
func connectionError(err error) bool {
	var (
		execErr *exec.Error
		exitErr *exec.ExitError
		netErr  *net.OpError
		pathErr *os.PathError
		errno   syscall.Errno
	)
	switch {
	case errors.Is(err, errNoBus), errors.Is(err, dbus.ErrClosed),
		errors.As(err, &execErr), errors.As(err, &exitErr), errors.As(err, &netErr),
		errors.As(err, &pathErr), errors.As(err, &errno):
		return true
	}
	return strings.HasPrefix(err.Error(), "dbus: ")
}
