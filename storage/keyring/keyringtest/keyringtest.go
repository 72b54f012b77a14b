// Package keyringtest helps tests prove that secrets stay secret (issue 3:
// "no secret in clear anywhere") and that a real Secret Service (the
// freedesktop.org Secret Service API, as storage/keyring uses it) is there.
// Only tests import it.
package keyringtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/storage/keyring"
)

// MinSecretLen is the shortest secret FindSecrets accepts. Shorter ones
// would match by chance in a large database: the shortest pattern searched
// for a secret of n bytes is the base64 of n-2 of them.
const MinSecretLen = 12

// Finding is one place where a secret was found.
type Finding struct {
	Path   string // the file
	Secret int    // index of the secret in the list given
	Form   string // "raw", "hex", "HEX", "base64", "base64url"
	Offset int64  // byte offset in the file
}

// String describes the finding without the secret.
func (f Finding) String() string {
	return fmt.Sprintf("%s: secret #%d in %s form at offset %d", f.Path, f.Secret, f.Form, f.Offset)
}

// encoding is one form a secret may be written in.
type encoding struct {
	name   string
	encode func([]byte) [][]byte // the patterns to look for
}

// encodings returns the forms searched: raw bytes, hex in either case, and
// base64 in the standard and URL alphabets.
func encodings() []encoding {
	return []encoding{
		{"raw", func(s []byte) [][]byte { return [][]byte{s} }},
		{"hex", func(s []byte) [][]byte { return [][]byte{[]byte(hex.EncodeToString(s))} }},
		{"HEX", func(s []byte) [][]byte { return [][]byte{bytes.ToUpper([]byte(hex.EncodeToString(s)))} }},
		{"base64", func(s []byte) [][]byte { return base64Patterns(base64.StdEncoding, s) }},
		{"base64url", func(s []byte) [][]byte { return base64Patterns(base64.URLEncoding, s) }},
	}
}

// base64Patterns returns what to look for when s is base64-encoded as part
// of a longer value. The text then depends on where s starts within a
// 3-byte group, so there is one pattern per alignment (s preceded by 0, 1
// or 2 other bytes): the whole 4-character groups that encode bytes of s
// only. Padding characters are left out, as s may be followed by more data.
func base64Patterns(enc *base64.Encoding, s []byte) [][]byte {
	var out [][]byte
	for lead := range 3 {
		skip := (3 - lead) % 3 // bytes of s that share a group with the lead
		whole := (len(s) - skip) / 3 * 3
		if whole <= 0 {
			continue
		}
		out = append(out, []byte(enc.EncodeToString(s[skip:skip+whole])))
	}
	return out
}

// FindSecrets searches the files at paths (directories: every regular file
// under them) for each secret in every form encodings lists. A path that does
// not exist is an error, so that a test cannot pass by looking in the wrong
// place.
func FindSecrets(paths []string, secrets [][]byte) ([]Finding, error) {
	for i, s := range secrets {
		if len(s) < MinSecretLen {
			return nil, fmt.Errorf("keyringtest: secret #%d is %d bytes, shorter than %d", i, len(s), MinSecretLen)
		}
	}
	var findings []Finding
	search := func(path string) error {
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, s := range secrets {
			for _, e := range encodings() {
				for _, pattern := range e.encode(s) {
					if off := bytes.Index(data, pattern); off >= 0 {
						findings = append(findings, Finding{Path: path, Secret: i, Form: e.name, Offset: int64(off)})
					}
				}
			}
		}
		return nil
	}
	for _, p := range paths {
		err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.Type().IsRegular() {
				return nil
			}
			return search(path)
		})
		if err != nil {
			return nil, fmt.Errorf("keyringtest: %w", err)
		}
	}
	return findings, nil
}

// AssertNoSecrets fails t for every secret FindSecrets finds in the files
// at paths (database, WAL, logs, or whole directories), naming the file, the
// secret's index and form, and never the secret itself.
func AssertNoSecrets(t testing.TB, paths []string, secrets [][]byte) {
	t.Helper()
	findings, err := FindSecrets(paths, secrets)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range findings {
		t.Errorf("secret in clear: %s", f)
	}
}

// Hint is the advice RequireSecretService gives when there is no usable
// Secret Service.
const Hint = "run the tests via make test (scripts/testenv.sh) so a Secret Service is available"

// RequireSecretService fails t unless a real Secret Service answers on the
// session bus: in CI and everywhere else, nothing may skip. It fails fast,
// without trying to start a bus, when DBUS_SESSION_BUS_ADDRESS is unset, and
// otherwise probes the keyring for at most 15 seconds.
func RequireSecretService(t testing.TB) {
	t.Helper()
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		where := "outside CI"
		if os.Getenv("CI") == "true" {
			where = "in CI"
		}
		t.Fatalf("DBUS_SESSION_BUS_ADDRESS is not set (%s): %s", where, Hint)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	k := keyring.New(keyring.Options{Service: "im.tern.Tern.probe"})
	defer func() {
		if err := k.Close(ctx); err != nil {
			t.Errorf("close probe keyring: %v", err)
		}
	}()
	_, err := k.Password(ctx, jid.MustParse("probe-"+strings.ToLower(rand.Text())+"@tern.invalid"))
	if !errors.Is(err, keyring.ErrNotFound) {
		var cause error
		if ue, ok := errors.AsType[*keyring.UnavailableError](err); ok {
			cause = ue.Err
		}
		t.Fatalf("probing the Secret Service: %v (cause: %v): %s", err, cause, Hint)
	}
}
