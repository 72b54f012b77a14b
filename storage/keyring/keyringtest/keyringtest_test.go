package keyringtest_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/tern-im/tern/storage/keyring/keyringtest"
)

// secret has bytes that encode to '+' and '/' in base64 and '-' and '_' in
// the URL alphabet, so that the two alphabets differ.
var secret = []byte("\xfb\xff\xbf secret-key-material \xfe\xef")

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestFindSecretsForms(t *testing.T) {
	filler := bytes.Repeat([]byte("abc "), 40)
	embed := func(b []byte) []byte { return append(append(bytes.Clone(filler), b...), filler...) }
	b64In := func(enc *base64.Encoding, lead int) []byte {
		// The secret inside a longer encoded value, after lead other bytes.
		v := append(append(bytes.Repeat([]byte{0x55}, lead), secret...), "tail"...)
		return []byte(enc.EncodeToString(v))
	}
	tests := []struct {
		name string
		data []byte
		form string
	}{
		{"raw", embed(secret), "raw"},
		{"hex", embed([]byte(hex.EncodeToString(secret))), "hex"},
		{"HEX", embed([]byte(strings.ToUpper(hex.EncodeToString(secret)))), "HEX"},
		{"base64", embed([]byte(base64.StdEncoding.EncodeToString(secret))), "base64"},
		{"base64 after 1 byte", embed(b64In(base64.StdEncoding, 1)), "base64"},
		{"base64 after 2 bytes", embed(b64In(base64.StdEncoding, 2)), "base64"},
		{"base64 after 3 bytes", embed(b64In(base64.StdEncoding, 3)), "base64"},
		{"unpadded base64", embed([]byte(base64.RawStdEncoding.EncodeToString(secret))), "base64"},
		{"base64url after 1 byte", embed(b64In(base64.URLEncoding, 1)), "base64url"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "db.sqlite")
			write(t, path, tc.data)
			found, err := keyringtest.FindSecrets([]string{path}, [][]byte{[]byte("another secret, absent"), secret})
			if err != nil {
				t.Fatal(err)
			}
			ok := false
			for _, f := range found {
				if f.Secret != 1 || f.Path != path {
					t.Errorf("unexpected finding %s", f)
				}
				ok = ok || f.Form == tc.form
			}
			if !ok {
				t.Errorf("findings %v; want one in %s form", found, tc.form)
			}
		})
	}
}

func TestFindSecretsOffsetAndDirectories(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "clean.log"), bytes.Repeat([]byte("nothing here "), 1000))
	write(t, filepath.Join(dir, "nested", "deeper", "db-wal"), append([]byte("0123456789"), secret...))
	found, err := keyringtest.FindSecrets([]string{dir}, [][]byte{secret})
	if err != nil {
		t.Fatal(err)
	}
	want := keyringtest.Finding{Path: filepath.Join(dir, "nested", "deeper", "db-wal"), Secret: 0, Form: "raw", Offset: 10}
	if len(found) != 1 || found[0] != want {
		t.Fatalf("found %v, want [%v]", found, want)
	}
	if s := found[0].String(); strings.Contains(s, string(secret)) || !strings.Contains(s, "raw form at offset 10") {
		t.Errorf("String() = %q", s)
	}
}

func TestFindSecretsNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "clean")
	// Near misses: a prefix of the secret, and its hex in mixed case.
	h := []byte(hex.EncodeToString(secret))
	h[0] = 'F'
	write(t, path, append(append(bytes.Clone(secret[:len(secret)-1]), '!'), h...))
	found, err := keyringtest.FindSecrets([]string{path}, [][]byte{secret})
	if err != nil || len(found) != 0 {
		t.Fatalf("FindSecrets = %v, %v; want nothing", found, err)
	}
}

func TestFindSecretsErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := keyringtest.FindSecrets([]string{filepath.Join(dir, "missing")}, [][]byte{secret}); err == nil {
		t.Error("a missing path is not an error")
	}
	if _, err := keyringtest.FindSecrets([]string{dir}, [][]byte{[]byte("short")}); err == nil {
		t.Error("a short secret is not an error")
	}
}

// recorder is a testing.TB that records failures instead of failing. Like
// testing's, its Fatal methods end the goroutine: run calls f on one.
type recorder struct {
	testing.TB
	errors []string
	fatal  bool
}

func (r *recorder) run(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	<-done
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatal(args ...any) {
	r.fatal = true
	r.errors = append(r.errors, fmt.Sprint(args...))
	runtime.Goexit()
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.fatal = true
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
	runtime.Goexit()
}

func TestAssertNoSecrets(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "tern.log"), []byte("level=DEBUG msg=login password="+base64.StdEncoding.EncodeToString(secret)))
	r := &recorder{TB: t}
	r.run(func() { keyringtest.AssertNoSecrets(r, []string{dir}, [][]byte{secret}) })
	if len(r.errors) != 1 || r.fatal {
		t.Fatalf("AssertNoSecrets reported %q (fatal %v); want one error", r.errors, r.fatal)
	}
	if !strings.Contains(r.errors[0], "tern.log") || strings.Contains(r.errors[0], base64.StdEncoding.EncodeToString(secret)) {
		t.Errorf("report %q should name the file and not show the secret", r.errors[0])
	}
	clean := &recorder{TB: t}
	write(t, filepath.Join(dir, "tern.log"), []byte("level=DEBUG msg=login"))
	clean.run(func() { keyringtest.AssertNoSecrets(clean, []string{dir}, [][]byte{secret}) })
	if len(clean.errors) != 0 {
		t.Errorf("clean file reported: %q", clean.errors)
	}
}

func TestRequireSecretServiceFailsClearly(t *testing.T) {
	dead := filepath.Join(t.TempDir(), "no-bus-here")
	for _, env := range []struct{ addr, ci, want string }{
		{"", "true", "DBUS_SESSION_BUS_ADDRESS is not set (in CI): " + keyringtest.Hint},
		{"", "", "DBUS_SESSION_BUS_ADDRESS is not set (outside CI): " + keyringtest.Hint},
		{"unix:path=" + dead, "", "No system keyring is available (no D-Bus session bus)"},
	} {
		t.Setenv("DBUS_SESSION_BUS_ADDRESS", env.addr)
		t.Setenv("CI", env.ci)
		r := &recorder{TB: t}
		r.run(func() { keyringtest.RequireSecretService(r) })
		if !r.fatal || len(r.errors) != 1 || !strings.Contains(r.errors[0], env.want) || !strings.HasSuffix(r.errors[0], keyringtest.Hint) {
			t.Errorf("address %q, CI=%q: reported %q; want a fatal error containing %q and ending with the hint", env.addr, env.ci, r.errors, env.want)
		}
	}
}
