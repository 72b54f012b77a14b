package keyring_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	gokeyring "github.com/zalando/go-keyring"

	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/storage/keyring"
	"github.com/tern-im/tern/storage/keyring/keyringtest"
)

// childEnv selects a scenario of nokeyring_linux_test.go: the test binary,
// started again by a test with this variable set, runs that scenario
// instead of the tests.
const childEnv = "TERN_KEYRING_TEST_CHILD"

func TestMain(m *testing.M) {
	if scenario := os.Getenv(childEnv); scenario != "" {
		os.Exit(runChild(scenario))
	}
	os.Exit(m.Run())
}

// testService returns a keyring service name of its own for a test, so that
// tests never see each other's entries, nor a user's.
func testService() string {
	return "im.tern.Tern.test." + strings.ToLower(rand.Text()[:12])
}

// realKeyring returns a Keyring on the real Secret Service under a service
// name of its own, after checking that the Secret Service is there. It
// removes the entries the test leaves behind (those it names in cleanup)
// and checks that the Keyring closes.
func realKeyring(t *testing.T, opts keyring.Options) *keyring.Keyring {
	t.Helper()
	keyringtest.RequireSecretService(t)
	if opts.Service == "" {
		opts.Service = testService()
	}
	k := keyring.New(opts)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := k.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
		// Whatever a failed test left behind.
		if err := gokeyring.DeleteAll(opts.Service); err != nil && !errors.Is(err, gokeyring.ErrNotFound) {
			t.Errorf("remove test entries of %s: %v", opts.Service, err)
		}
	})
	return k
}

// ctxFor returns a context bounding one step of a test.
func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// fakeBackend is an in-memory Backend, in addition to (never instead of)
// the real Secret Service tests: it makes failures and hangs reproducible.
type fakeBackend struct {
	mu    sync.Mutex // guards the fields below
	items map[[2]string]string
	err   error         // when set, every call fails with it
	block chan struct{} // when set, calls wait until it is closed
	calls int
}

func (f *fakeBackend) wait() error {
	f.mu.Lock()
	f.calls++
	block, err := f.block, f.err
	f.mu.Unlock()
	if block != nil {
		<-block
	}
	return err
}

func (f *fakeBackend) Get(service, user string) (string, error) {
	if err := f.wait(); err != nil {
		return "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.items[[2]string{service, user}]
	if !ok {
		return "", gokeyring.ErrNotFound
	}
	return v, nil
}

func (f *fakeBackend) Set(service, user, secret string) error {
	if err := f.wait(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.items == nil {
		f.items = make(map[[2]string]string)
	}
	f.items[[2]string{service, user}] = secret
	return nil
}

func (f *fakeBackend) Delete(service, user string) error {
	if err := f.wait(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.items[[2]string{service, user}]; !ok {
		return gokeyring.ErrNotFound
	}
	delete(f.items, [2]string{service, user})
	return nil
}

// reasonOf returns the Reason of an *UnavailableError, or 0.
func reasonOf(err error) keyring.Reason {
	if ue, ok := errors.AsType[*keyring.UnavailableError](err); ok {
		return ue.Reason
	}
	return 0
}

// describe formats an error with the cause of an *UnavailableError.
func describe(err error) string {
	if ue, ok := errors.AsType[*keyring.UnavailableError](err); ok {
		return fmt.Sprintf("%v [reason %v, cause: %v]", err, ue.Reason, ue.Err)
	}
	return fmt.Sprint(err)
}

var (
	alice = jid.MustParse("alice@example.org/laptop")
	bob   = jid.MustParse("bob@example.net")
)
