package keyring_test

// These tests run against the real Secret Service that scripts/testenv.sh
// provides (gnome-keyring-daemon on a private session bus).

import (
	"bytes"
	"encoding/base64"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	gokeyring "github.com/zalando/go-keyring"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/storage/keyring"
	"github.com/tern-im/tern/storage/keyring/keyringtest"
)

func TestPasswordSetGetDelete(t *testing.T) {
	k := realKeyring(t, keyring.Options{})
	tests := []struct {
		name     string
		account  jid.JID
		password string
	}{
		{"ascii", alice, "correct horse battery staple"},
		{"unicode", jid.MustParse("zoë@exämple.org"), "pässwört 🔑 ünïcode"},
		{"symbols", jid.MustParse("carol@example.com"), `'"\;--%00 <x/> $(rm)`},
		{"long", jid.MustParse("dave@example.com"), strings.Repeat("0123456789abcdef", 64)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := ctxFor(t)
			if _, err := k.Password(ctx, tc.account); !errors.Is(err, keyring.ErrNotFound) || !errors.Is(err, client.ErrNoPassword) {
				t.Fatalf("Password before Set: %v, want ErrNotFound and client.ErrNoPassword", describe(err))
			}
			if err := k.SetPassword(ctx, tc.account, tc.password); err != nil {
				t.Fatalf("SetPassword: %v", describe(err))
			}
			got, err := k.Password(ctx, tc.account)
			if err != nil || got != tc.password {
				t.Fatalf("Password = %q, %v; want the password set", got, describe(err))
			}
			// A resource makes no difference: entries are per bare JID.
			withRes, err := tc.account.Bare().WithResource("phone")
			if err != nil {
				t.Fatal(err)
			}
			if got, err := k.Password(ctx, withRes); err != nil || got != tc.password {
				t.Fatalf("Password(%s) = %q, %v; want the bare JID's password", withRes, got, err)
			}
			// Replacing keeps one entry with the new value.
			if err := k.SetPassword(ctx, withRes, tc.password+"-2"); err != nil {
				t.Fatal(err)
			}
			if got, err := k.Password(ctx, tc.account); err != nil || got != tc.password+"-2" {
				t.Fatalf("after replacing, Password = %q, %v", got, err)
			}
			if err := k.DeletePassword(ctx, tc.account); err != nil {
				t.Fatalf("DeletePassword: %v", describe(err))
			}
			if _, err := k.Password(ctx, tc.account); !errors.Is(err, keyring.ErrNotFound) {
				t.Fatalf("Password after delete: %v, want ErrNotFound", describe(err))
			}
			// Deleting what is not there is not an error.
			if err := k.DeletePassword(ctx, tc.account); err != nil {
				t.Fatalf("second DeletePassword: %v", describe(err))
			}
		})
	}
}

func TestPasswordEntriesAreSeparate(t *testing.T) {
	k1 := realKeyring(t, keyring.Options{})
	k2 := realKeyring(t, keyring.Options{})
	ctx := ctxFor(t)
	for _, step := range []struct {
		k       *keyring.Keyring
		account jid.JID
		pw      string
	}{{k1, alice, "alice in service 1"}, {k1, bob, "bob in service 1"}, {k2, alice, "alice in service 2"}} {
		if err := step.k.SetPassword(ctx, step.account, step.pw); err != nil {
			t.Fatal(describe(err))
		}
	}
	for _, want := range []struct {
		k       *keyring.Keyring
		account jid.JID
		pw      string
	}{{k1, alice, "alice in service 1"}, {k1, bob, "bob in service 1"}, {k2, alice, "alice in service 2"}} {
		if got, err := want.k.Password(ctx, want.account); err != nil || got != want.pw {
			t.Errorf("%s in %s: %q, %v; want %q", want.account, want.k.Service(), got, err, want.pw)
		}
	}
	if _, err := k2.Password(ctx, bob); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("bob in service 2: %v, want ErrNotFound", err)
	}
	for _, k := range []*keyring.Keyring{k1, k2} {
		for _, a := range []jid.JID{alice, bob} {
			if err := k.DeletePassword(ctx, a); err != nil {
				t.Error(err)
			}
		}
	}
}

func TestPasswordRejectsBadInput(t *testing.T) {
	k := realKeyring(t, keyring.Options{})
	ctx := ctxFor(t)
	if err := k.SetPassword(ctx, jid.JID{}, "pw"); !errors.Is(err, keyring.ErrInvalidAccount) {
		t.Errorf("SetPassword(zero JID) = %v, want ErrInvalidAccount", err)
	}
	if _, err := k.Password(ctx, jid.JID{}); !errors.Is(err, keyring.ErrInvalidAccount) {
		t.Errorf("Password(zero JID) = %v, want ErrInvalidAccount", err)
	}
	if err := k.DeletePassword(ctx, jid.JID{}); !errors.Is(err, keyring.ErrInvalidAccount) {
		t.Errorf("DeletePassword(zero JID) = %v, want ErrInvalidAccount", err)
	}
	if err := k.SetPassword(ctx, alice, ""); !errors.Is(err, keyring.ErrEmptyPassword) {
		t.Errorf("SetPassword(empty) = %v, want ErrEmptyPassword", err)
	}
}

func TestDataKeyCreatedOnceAndStable(t *testing.T) {
	service := testService()
	k1 := realKeyring(t, keyring.Options{Service: service})
	ctx := ctxFor(t)
	dk, info, err := k1.CreateDataKey(ctx)
	if err != nil {
		t.Fatalf("CreateDataKey: %v", describe(err))
	}
	if info.Source != keyring.SourceKeyring || info.Entry == "" || len(info.Check) != 32 || info.Salt != nil {
		t.Fatalf("KeyInfo = %+v", info)
	}
	ad := []byte("omemo_sessions/alice@example.org/1234")
	sealed, err := dk.Seal([]byte("session record"), ad)
	if err != nil {
		t.Fatal(err)
	}

	// The KeyInfo goes to a file next to the database; a later start (a new
	// Keyring, as in a new process) reads it and gets the same key.
	path := filepath.Join(t.TempDir(), "keyinfo.json")
	if err := keyring.CreateKeyInfoFile(path, info); err != nil {
		t.Fatal(err)
	}
	read, err := keyring.ReadKeyInfoFile(path)
	if err != nil {
		t.Fatal(err)
	}
	k2 := keyring.New(keyring.Options{Service: service})
	for i := range 2 {
		again, err := k2.OpenDataKey(ctx, read)
		if err != nil {
			t.Fatalf("OpenDataKey #%d: %v", i+1, describe(err))
		}
		if got, err := again.Open(sealed, ad); err != nil || string(got) != "session record" {
			t.Fatalf("Open with the reopened key #%d = %q, %v", i+1, got, err)
		}
		resealed, err := again.Seal([]byte("next record"), ad)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := dk.Open(resealed, ad); err != nil || string(got) != "next record" {
			t.Fatalf("the first key cannot open what the reopened one sealed: %q, %v", got, err)
		}
	}
	if err := k2.Close(ctx); err != nil {
		t.Fatal(err)
	}

	// A second CreateDataKey makes another, independent key and entry: it
	// never replaces the first one.
	dk2, info2, err := k1.CreateDataKey(ctx)
	if err != nil {
		t.Fatal(describe(err))
	}
	if info2.Entry == info.Entry || bytes.Equal(info2.Check, info.Check) {
		t.Fatalf("second key reuses the first one's entry or key: %q vs %q", info2.Entry, info.Entry)
	}
	if _, err := dk2.Open(sealed, ad); !errors.Is(err, keyring.ErrTampered) {
		t.Fatalf("another data key opened the first one's value: %v", err)
	}
	if _, err := k1.OpenDataKey(ctx, info); err != nil {
		t.Fatalf("first key after creating a second: %v", describe(err))
	}

	// Deleting removes the entry for good.
	for _, i := range []keyring.KeyInfo{info, info2} {
		if err := k1.DeleteDataKey(ctx, i); err != nil {
			t.Fatal(describe(err))
		}
		if _, err := k1.OpenDataKey(ctx, i); !errors.Is(err, keyring.ErrNotFound) {
			t.Fatalf("OpenDataKey after DeleteDataKey: %v, want ErrNotFound", describe(err))
		}
		if err := k1.DeleteDataKey(ctx, i); err != nil {
			t.Fatalf("second DeleteDataKey: %v", describe(err))
		}
	}
}

func TestDataKeyEntryReplaced(t *testing.T) {
	service := testService()
	k := realKeyring(t, keyring.Options{Service: service})
	ctx := ctxFor(t)
	_, info, err := k.CreateDataKey(ctx)
	if err != nil {
		t.Fatal(describe(err))
	}
	other := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	for _, value := range []string{other, "not base64!", base64.StdEncoding.EncodeToString([]byte("short"))} {
		// Someone (another program, a restored backup) replaced the entry.
		if err := gokeyring.Set(service, info.Entry, value); err != nil {
			t.Fatal(err)
		}
		if _, err := k.OpenDataKey(ctx, info); !errors.Is(err, keyring.ErrWrongKey) {
			t.Errorf("OpenDataKey with a replaced entry: %v, want ErrWrongKey", describe(err))
		}
	}
	if err := k.DeleteDataKey(ctx, info); err != nil {
		t.Fatal(err)
	}
}

func TestDataKeyRejectsPassphraseInfo(t *testing.T) {
	k := realKeyring(t, keyring.Options{})
	_, info, err := keyring.CreatePassphraseKey([]byte("a passphrase for this test"), cheap)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.OpenDataKey(ctxFor(t), info); !errors.Is(err, keyring.ErrInvalidKeyInfo) {
		t.Errorf("OpenDataKey(passphrase info) = %v, want ErrInvalidKeyInfo", err)
	}
}

// TestNoSecretInErrorsOrLogs runs every operation, successful and failing,
// with debug logging into a file, then searches the log and all error texts
// for the password and the data key.
func TestNoSecretInErrorsOrLogs(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "tern.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	logger := slog.New(slog.NewTextHandler(logFile, &slog.HandlerOptions{Level: slog.LevelDebug}))
	service := testService()
	k := realKeyring(t, keyring.Options{Service: service, Logger: logger})
	ctx := ctxFor(t)

	const password = "hunter2-but-much-longer-and-secret"
	var errs []error
	record := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	record(k.SetPassword(ctx, alice, password))
	_, err = k.Password(ctx, alice)
	record(err)
	_, err = k.Password(ctx, bob)
	record(err)
	dk, info, err := k.CreateDataKey(ctx)
	if err != nil {
		t.Fatal(describe(err))
	}
	stored, err := gokeyring.Get(service, info.Entry)
	if err != nil {
		t.Fatal(err)
	}
	master, err := base64.StdEncoding.DecodeString(stored)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := dk.Seal([]byte("private key material 0123456789"), []byte("ad"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = dk.Open(sealed, []byte("other ad"))
	record(err)
	// A wrong entry, a missing entry, a closed keyring.
	bad := info
	bad.Check = bytes.Repeat([]byte{1}, 32)
	_, err = k.OpenDataKey(ctx, bad)
	record(err)
	record(k.DeleteDataKey(ctx, info))
	_, err = k.OpenDataKey(ctx, info)
	record(err)
	record(k.DeletePassword(ctx, alice))
	// A backend that fails while the password is being stored.
	failing := keyring.New(keyring.Options{Backend: &fakeBackend{err: errors.New("org.example.Error: went wrong")}, Logger: logger})
	record(failing.SetPassword(ctx, alice, password))
	_, _, err = failing.CreateDataKey(ctx)
	record(err)
	if len(errs) < 6 {
		t.Fatalf("only %d operations failed; the test means to check failures", len(errs))
	}

	var texts strings.Builder
	for _, err := range errs {
		texts.WriteString(describe(err))
		texts.WriteByte('\n')
	}
	errPath := filepath.Join(dir, "errors.txt")
	if err := os.WriteFile(errPath, []byte(texts.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := logFile.Sync(); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(logPath); err != nil || info.Size() == 0 {
		t.Fatalf("the log is empty (%v): nothing was checked", err)
	}
	keyringtest.AssertNoSecrets(t, []string{logPath, errPath}, [][]byte{[]byte(password), master, []byte(stored)})
	// gnome-keyring's own files (encrypted with the keyring password) must
	// not hold them in clear either.
	if data := os.Getenv("XDG_DATA_HOME"); data != "" {
		if dir := filepath.Join(data, "keyrings"); exists(dir) {
			keyringtest.AssertNoSecrets(t, []string{dir}, [][]byte{[]byte(password), master})
		}
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
