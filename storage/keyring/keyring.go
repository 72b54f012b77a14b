package keyring

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	gokeyring "github.com/zalando/go-keyring"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
)

// DefaultService is the keyring service name of Tern's entries: its
// application ID.
const DefaultService = "im.tern.Tern"

// DefaultTimeout bounds each keyring call whose context has no earlier
// deadline. It leaves a user time to answer an unlock prompt.
const DefaultTimeout = 2 * time.Minute

// Backend is the keyring the Keyring talks to: go-keyring's operations. The
// default is the system keyring; tests may pass another. Implementations
// report a missing entry with an error matching ErrNotFound (or go-keyring's
// ErrNotFound). Calls may block; the Keyring bounds them with its contexts.
type Backend interface {
	// Get returns the secret stored for service and user.
	Get(service, user string) (string, error)
	// Set stores or replaces the secret for service and user.
	Set(service, user, secret string) error
	// Delete removes the secret stored for service and user.
	Delete(service, user string) error
}

// Options configures a Keyring. The zero value uses the system keyring.
type Options struct {
	// Service is the keyring service name (empty: DefaultService). Tests use
	// their own so that they never touch a user's entries.
	Service string
	// Backend is the keyring (nil: the system keyring through go-keyring).
	Backend Backend
	// Timeout bounds each call whose context has no earlier deadline
	// (0: DefaultTimeout; negative: only the context bounds calls).
	Timeout time.Duration
	// Logger receives diagnostics (never secrets); nil discards them.
	Logger *slog.Logger
}

// Keyring stores passwords and data keys in the OS keyring. It implements
// client.Credentials; its methods are safe for concurrent use.
//
// The keyring libraries cannot be interrupted: a call that waits on an
// unlock prompt returns only when the prompt does. So each call runs on its
// own goroutine, and a method returns when its context ends even if the call
// has not; such an abandoned call keeps running until the keyring answers.
// Calls are serialized, so at most one is ever abandoned: while it runs,
// later calls wait for it (within their own contexts). Close waits for it.
type Keyring struct {
	service string
	backend Backend
	timeout time.Duration
	log     *slog.Logger

	// turn is a one-slot semaphore: held by the goroutine running a backend
	// call, from before the call until it returns, and briefly by Close.
	turn chan struct{}
	// wg counts the goroutines running backend calls.
	wg sync.WaitGroup
	// closing is closed by the first Close.
	closing   chan struct{}
	closeOnce sync.Once
}

var _ client.Credentials = (*Keyring)(nil)

// New returns a Keyring. It does not contact the keyring.
func New(opts Options) *Keyring {
	k := &Keyring{
		service: opts.Service,
		backend: opts.Backend,
		timeout: opts.Timeout,
		log:     opts.Logger,
		turn:    make(chan struct{}, 1),
		closing: make(chan struct{}),
	}
	if k.service == "" {
		k.service = DefaultService
	}
	if k.backend == nil {
		k.backend = systemBackend{}
	}
	if k.timeout == 0 {
		k.timeout = DefaultTimeout
	}
	if k.log == nil {
		k.log = slog.New(slog.DiscardHandler)
	}
	return k
}

// Service returns the keyring service name entries are stored under.
func (k *Keyring) Service() string { return k.service }

// Close makes later calls fail with ErrClosed and waits, within ctx, for a
// call abandoned by an ended context to return. It returns ctx's error if
// that call is still running when ctx ends; calling Close again waits again.
func (k *Keyring) Close(ctx context.Context) error {
	k.closeOnce.Do(func() { close(k.closing) })
	select {
	case k.turn <- struct{}{}:
		<-k.turn
		k.wg.Wait() // the last call's goroutine is past its final statement
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// do runs f on the backend, bounded by ctx and the Keyring's timeout, and
// classifies its error. op names the operation for errors and logs.
func (k *Keyring) do(ctx context.Context, op string, f func(Backend) error) error {
	if k.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, k.timeout)
		defer cancel()
	}
	select {
	case k.turn <- struct{}{}:
	case <-k.closing:
		return ErrClosed
	case <-ctx.Done():
		k.log.Warn("keyring call not started: a previous call is still waiting for the keyring", "op", op, "err", ctx.Err())
		return classify(op, ctx.Err())
	}
	select {
	case <-k.closing:
		<-k.turn
		return ErrClosed
	default:
	}
	done := make(chan error, 1)
	k.wg.Go(func() {
		defer func() { <-k.turn }()
		done <- f(k.backend)
	})
	select {
	case err := <-done:
		err = classify(op, err)
		if err != nil && !errors.Is(err, ErrNotFound) {
			k.log.Debug("keyring call failed", "op", op, "err", err, "cause", cause(err))
		}
		return err
	case <-ctx.Done():
		k.log.Warn("keyring call abandoned: no answer before the context ended", "op", op, "err", ctx.Err())
		return classify(op, ctx.Err())
	}
}

// cause returns the technical cause of an *UnavailableError for logs (its
// message is for users), or nil.
func cause(err error) error {
	var ue *UnavailableError
	if errors.As(err, &ue) {
		return ue.Err
	}
	return nil
}

// user returns the keyring user name of an account: its bare JID.
func user(account jid.JID) (string, error) {
	if account.Domain() == "" {
		return "", ErrInvalidAccount
	}
	return account.Bare().String(), nil
}

// Password returns the password stored for account's bare JID. It fails
// with an error matching ErrNotFound and client.ErrNoPassword when there is
// none, and with an *UnavailableError (client.ErrNoKeyring) when there is no
// keyring: then ask the user.
func (k *Keyring) Password(ctx context.Context, account jid.JID) (string, error) {
	u, err := user(account)
	if err != nil {
		return "", err
	}
	var pw string
	err = k.do(ctx, "get password for "+u, func(b Backend) error {
		var err error
		pw, err = b.Get(k.service, u)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return "", errNoPassword
	}
	if err != nil {
		return "", err
	}
	return pw, nil
}

// SetPassword stores or replaces the password for account's bare JID.
func (k *Keyring) SetPassword(ctx context.Context, account jid.JID, password string) error {
	u, err := user(account)
	if err != nil {
		return err
	}
	if password == "" {
		return ErrEmptyPassword
	}
	return k.do(ctx, "set password for "+u, func(b Backend) error {
		return b.Set(k.service, u, password)
	})
}

// DeletePassword removes the password stored for account's bare JID.
// Removing a password that is not stored succeeds.
func (k *Keyring) DeletePassword(ctx context.Context, account jid.JID) error {
	u, err := user(account)
	if err != nil {
		return err
	}
	err = k.do(ctx, "delete password for "+u, func(b Backend) error {
		return b.Delete(k.service, u)
	})
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// systemBackend is the OS keyring through go-keyring.
type systemBackend struct{}

func (systemBackend) Get(service, user string) (string, error) {
	if err := checkBus(); err != nil {
		return "", err
	}
	return gokeyring.Get(service, user)
}

func (systemBackend) Set(service, user, secret string) error {
	if err := checkBus(); err != nil {
		return err
	}
	return gokeyring.Set(service, user, secret)
}

func (systemBackend) Delete(service, user string) error {
	if err := checkBus(); err != nil {
		return err
	}
	return gokeyring.Delete(service, user)
}
