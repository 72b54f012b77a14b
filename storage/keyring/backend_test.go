package keyring_test

// Tests with an in-memory backend: error classification and the bounds on
// calls that never return. The same paths against the real Secret Service
// are in real_test.go and nokeyring_linux_test.go.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	dbus "github.com/godbus/dbus/v5"
	gokeyring "github.com/zalando/go-keyring"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/storage/keyring"
)

func TestClassification(t *testing.T) {
	dbusErr := func(name string) error { return dbus.Error{Name: name, Body: []any{"message from the bus"}} }
	tests := []struct {
		name   string
		err    error
		reason keyring.Reason // 0: not unavailable
		is     error          // another error the result must match
	}{
		{"not found", gokeyring.ErrNotFound, 0, keyring.ErrNotFound},
		{"unsupported platform", gokeyring.ErrUnsupportedPlatform, keyring.Unsupported, nil},
		{"no dbus-launch", &exec.Error{Name: "dbus-launch", Err: exec.ErrNotFound}, keyring.NoBus, nil},
		{"dead socket", &net.OpError{Op: "dial", Net: "unix", Err: syscall.ECONNREFUSED}, keyring.NoBus, nil},
		{"bare errno", syscall.ENOENT, keyring.NoBus, nil},
		{"godbus auth", errors.New("dbus: authentication failed"), keyring.NoBus, nil},
		{"connection closed", dbus.ErrClosed, keyring.NoBus, nil},
		{"service unknown", dbusErr("org.freedesktop.DBus.Error.ServiceUnknown"), keyring.NoService, nil},
		{"service unknown (pointer)", dbus.NewError("org.freedesktop.DBus.Error.ServiceUnknown", nil), keyring.NoService, nil},
		{"name has no owner", dbusErr("org.freedesktop.DBus.Error.NameHasNoOwner"), keyring.NoService, nil},
		{"disconnected", dbusErr("org.freedesktop.DBus.Error.Disconnected"), keyring.NoBus, nil},
		{"no reply", dbusErr("org.freedesktop.DBus.Error.NoReply"), keyring.Timeout, nil},
		{"access denied", dbusErr("org.freedesktop.DBus.Error.AccessDenied"), keyring.Denied, nil},
		{"is locked", dbusErr("org.freedesktop.Secret.Error.IsLocked"), keyring.Locked, nil},
		{"no such object", dbusErr("org.freedesktop.Secret.Error.NoSuchObject"), keyring.Locked, nil},
		{"unlock failed", fmt.Errorf("failed to unlock correct collection '%v'", "/org/freedesktop/secrets/aliases/default"), keyring.Locked, nil},
		{"deadline", context.DeadlineExceeded, keyring.Timeout, context.DeadlineExceeded},
		{"other D-Bus error", dbusErr("org.freedesktop.Secret.Error.Weird"), 0, keyring.ErrFailed},
		{"too big", gokeyring.ErrSetDataTooBig, 0, keyring.ErrFailed},
		{"anything else", errors.New("something unexpected"), 0, keyring.ErrFailed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := keyring.New(keyring.Options{Backend: &fakeBackend{err: tc.err}})
			ctx := t.Context()
			check := func(op string, err error) {
				t.Helper()
				if got := reasonOf(err); got != tc.reason {
					t.Errorf("%s: reason %v, want %v (%s)", op, got, tc.reason, describe(err))
				}
				unavailable := errors.Is(err, keyring.ErrUnavailable)
				if unavailable != (tc.reason != 0) || errors.Is(err, client.ErrNoKeyring) != unavailable {
					t.Errorf("%s: %s; ErrUnavailable %v, ErrNoKeyring %v", op, describe(err), unavailable, errors.Is(err, client.ErrNoKeyring))
				}
				if tc.is != nil && !errors.Is(err, tc.is) {
					t.Errorf("%s: %s does not match %v", op, describe(err), tc.is)
				}
				if tc.reason != 0 && !errors.Is(err, tc.err) && !sameDBusError(err, tc.err) {
					t.Errorf("%s: the cause %v is not reachable with errors.Is", op, tc.err)
				}
			}
			_, err := k.Password(ctx, alice)
			if tc.reason == 0 && errors.Is(tc.err, gokeyring.ErrNotFound) {
				if !errors.Is(err, client.ErrNoPassword) {
					t.Errorf("Password: %v, want client.ErrNoPassword too", err)
				}
			}
			check("Password", err)
			if errors.Is(tc.err, gokeyring.ErrNotFound) {
				return // Set does not report "not found", and Delete ignores it
			}
			check("SetPassword", k.SetPassword(ctx, alice, "password"))
			check("DeletePassword", k.DeletePassword(ctx, alice))
			_, _, err = k.CreateDataKey(ctx)
			check("CreateDataKey", err)
		})
	}
}

// sameDBusError reports whether err wraps a D-Bus error named like want's
// (dbus.Error holds a slice, so errors.Is cannot compare it).
func sameDBusError(err, want error) bool {
	w, ok := errors.AsType[dbus.Error](want)
	if !ok {
		if p, ok := errors.AsType[*dbus.Error](want); ok {
			w = *p
		}
	}
	got, ok := errors.AsType[dbus.Error](err)
	if !ok {
		if p, ok := errors.AsType[*dbus.Error](err); ok {
			got = *p
		}
	}
	return w.Name != "" && got.Name == w.Name
}

func TestUnavailableMessages(t *testing.T) {
	for _, r := range []keyring.Reason{keyring.NoBus, keyring.NoService, keyring.Locked, keyring.Timeout, keyring.Denied, keyring.Unsupported} {
		e := &keyring.UnavailableError{Reason: r, Err: errors.New("technical detail")}
		want := "No system keyring is available (" + r.String() + "); Tern will ask for your password at sign-in and protect your keys with a passphrase"
		if e.Error() != want {
			t.Errorf("%v: %q, want %q", r, e.Error(), want)
		}
		if strings.Contains(e.Error(), "technical detail") || strings.HasPrefix(r.String(), "reason") {
			t.Errorf("%v: message %q shows the cause or has no phrase", r, e.Error())
		}
		e.DataKey = true
		if !strings.Contains(e.Error(), r.String()) || !strings.Contains(e.Error(), "unlock or start the keyring") {
			t.Errorf("%v with DataKey: %q", r, e.Error())
		}
	}
}

// TestCallBoundedByContext: a backend call that never returns (an unlock
// prompt nobody answers) does not hold up the caller beyond its context,
// later calls wait their turn within theirs, and Close reports the stuck
// call until it returns.
func TestCallBoundedByContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		fb := &fakeBackend{block: release}
		k := keyring.New(keyring.Options{Backend: fb})

		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		start := time.Now()
		_, err := k.Password(ctx, alice)
		if reasonOf(err) != keyring.Timeout || !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, client.ErrNoKeyring) {
			t.Fatalf("Password with a hung backend: %s", describe(err))
		}
		if d := time.Since(start); d != 5*time.Second {
			t.Fatalf("returned after %v, want at the 5 s deadline", d)
		}

		ctx2, cancel2 := context.WithTimeout(t.Context(), time.Second)
		defer cancel2()
		if err := k.SetPassword(ctx2, bob, "pw"); reasonOf(err) != keyring.Timeout {
			t.Fatalf("SetPassword behind a hung call: %s", describe(err))
		}
		ctx3, cancel3 := context.WithTimeout(t.Context(), time.Second)
		defer cancel3()
		if err := k.Close(ctx3); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Close with a hung call: %v, want DeadlineExceeded", err)
		}
		fb.mu.Lock()
		calls := fb.calls
		fb.mu.Unlock()
		if calls != 1 {
			t.Fatalf("backend called %d times, want 1 (the later call must wait its turn)", calls)
		}

		close(release) // the prompt is answered at last
		if err := k.Close(t.Context()); err != nil {
			t.Fatalf("Close after the call returned: %v", err)
		}
		if _, err := k.Password(t.Context(), alice); !errors.Is(err, keyring.ErrClosed) {
			t.Fatalf("Password after Close: %v, want ErrClosed", err)
		}
	})
}

func TestDefaultTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		k := keyring.New(keyring.Options{Backend: &fakeBackend{block: release}, Timeout: time.Minute})
		start := time.Now()
		// No deadline from the caller: the Keyring's own bound applies.
		_, err := k.Password(t.Context(), alice)
		if reasonOf(err) != keyring.Timeout || time.Since(start) != time.Minute {
			t.Fatalf("after %v: %s; want a timeout after 1 min", time.Since(start), describe(err))
		}
		close(release)
		if err := k.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		// Negative: only the caller's context bounds calls. Cancelling is
		// not a missing keyring.
		k := keyring.New(keyring.Options{Backend: &fakeBackend{block: release}, Timeout: -1})
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(time.Hour, cancel) // fake time in the bubble
		start := time.Now()
		_, err := k.Password(ctx, alice)
		if !errors.Is(err, context.Canceled) || errors.Is(err, keyring.ErrUnavailable) || time.Since(start) != time.Hour {
			t.Fatalf("after %v: %s; want context.Canceled after 1 h", time.Since(start), describe(err))
		}
		close(release)
		if err := k.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
}

// TestFakeBackendDataKey covers data key bookkeeping without a bus: the
// read-back check and entry names.
func TestFakeBackendDataKey(t *testing.T) {
	fb := &fakeBackend{}
	k := keyring.New(keyring.Options{Backend: fb, Service: "svc"})
	ctx := t.Context()
	_, info, err := k.CreateDataKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(info.Entry, "Tern data key ") {
		t.Errorf("entry %q", info.Entry)
	}
	fb.mu.Lock()
	n := len(fb.items)
	fb.mu.Unlock()
	if n != 1 {
		t.Fatalf("%d entries after CreateDataKey, want 1", n)
	}
	if _, err := k.OpenDataKey(ctx, info); err != nil {
		t.Fatal(err)
	}

	// A keyring that accepts a value but does not keep it: CreateDataKey
	// fails rather than hand out a key that will be gone.
	lossy := &lossyBackend{}
	k2 := keyring.New(keyring.Options{Backend: lossy})
	if _, _, err := k2.CreateDataKey(ctx); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("CreateDataKey on a keyring that loses entries: %v", err)
	}
}

// lossyBackend accepts every Set and forgets it.
type lossyBackend struct{}

func (lossyBackend) Get(string, string) (string, error) { return "", gokeyring.ErrNotFound }
func (lossyBackend) Set(string, string, string) error   { return nil }
func (lossyBackend) Delete(string, string) error        { return gokeyring.ErrNotFound }
