package keyring_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/tern-im/tern/storage/keyring"
)

func passphraseInfo(t *testing.T) keyring.KeyInfo {
	t.Helper()
	_, info, err := keyring.CreatePassphraseKey([]byte("key info test passphrase"), cheap)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

func keyringInfo() keyring.KeyInfo {
	return keyring.KeyInfo{Source: keyring.SourceKeyring, Entry: "Tern data key 0123456789abcdef", Check: bytes.Repeat([]byte{9}, 32)}
}

func TestKeyInfoTextRoundTrip(t *testing.T) {
	for _, info := range []keyring.KeyInfo{keyringInfo(), passphraseInfo(t)} {
		text, err := info.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var got keyring.KeyInfo
		if err := got.UnmarshalText(text); err != nil {
			t.Fatalf("UnmarshalText(%s): %v", text, err)
		}
		if !reflect.DeepEqual(got, info) {
			t.Fatalf("round trip of %s: got %+v, want %+v", text, got, info)
		}
	}
}

func TestKeyInfoRejects(t *testing.T) {
	const check = `"check":"CQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk="`
	const salt = `"salt":"AAAAAAAAAAAAAAAAAAAAAA=="`
	const pp = `"version":1,"source":"passphrase","kdf":"argon2id","time":3,"memory_kib":65536,"threads":4,` + salt + `,` + check
	// The valid forms, so that each rejection below is about its change.
	for _, ok := range []string{`{"version":1,"source":"keyring","entry":"e",` + check + `}`, `{` + pp + `}`} {
		var info keyring.KeyInfo
		if err := info.UnmarshalText([]byte(ok)); err != nil {
			t.Fatalf("valid %s: %v", ok, err)
		}
	}
	tests := []struct{ name, text string }{
		{"empty", ``},
		{"not JSON", `version=1`},
		{"array", `[]`},
		{"newer version", `{"version":2,"source":"keyring","entry":"e",` + check + `}`},
		{"no version", `{"source":"keyring","entry":"e",` + check + `}`},
		{"unknown source", `{"version":1,"source":"tpm","entry":"e",` + check + `}`},
		{"unknown field", `{"version":1,"source":"keyring","entry":"e","extra":1,` + check + `}`},
		{"trailing data", `{"version":1,"source":"keyring","entry":"e",` + check + `}{}`},
		{"no check", `{"version":1,"source":"keyring","entry":"e"}`},
		{"short check", `{"version":1,"source":"keyring","entry":"e","check":"CQkJ"}`},
		{"no entry", `{"version":1,"source":"keyring",` + check + `}`},
		{"control in entry", `{"version":1,"source":"keyring","entry":"a\nb",` + check + `}`},
		{"long entry", `{"version":1,"source":"keyring","entry":"` + strings.Repeat("e", 257) + `",` + check + `}`},
		{"keyring with salt", `{"version":1,"source":"keyring","entry":"e",` + salt + `,` + check + `}`},
		{"keyring with kdf", `{"version":1,"source":"keyring","entry":"e","kdf":"argon2id",` + check + `}`},
		{"keyring with cost", `{"version":1,"source":"keyring","entry":"e","time":3,` + check + `}`},
		{"passphrase with entry", `{` + pp + `,"entry":"e"}`},
		{"unknown kdf", `{` + strings.Replace(pp, "argon2id", "scrypt", 1) + `}`},
		{"no salt", `{` + strings.Replace(pp, salt+",", "", 1) + `}`},
		{"short salt", `{` + strings.Replace(pp, salt, `"salt":"AAAA"`, 1) + `}`},
		{"huge memory", `{` + strings.Replace(pp, "65536", "4294967295", 1) + `}`},
		{"memory overflows", `{` + strings.Replace(pp, "65536", "4294967296", 1) + `}`},
		{"zero time", `{` + strings.Replace(pp, `"time":3`, `"time":0`, 1) + `}`},
		{"threads overflow", `{` + strings.Replace(pp, `"threads":4`, `"threads":256`, 1) + `}`},
		{"bad base64", `{` + strings.Replace(pp, salt, `"salt":"!!"`, 1) + `}`},
	}
	for _, tc := range tests {
		var info keyring.KeyInfo
		if err := info.UnmarshalText([]byte(tc.text)); !errors.Is(err, keyring.ErrInvalidKeyInfo) {
			t.Errorf("%s: UnmarshalText = %v, want ErrInvalidKeyInfo", tc.name, err)
		}
		if !reflect.DeepEqual(info, keyring.KeyInfo{}) {
			t.Errorf("%s: a rejected UnmarshalText changed the KeyInfo to %+v", tc.name, info)
		}
	}
	var bad keyring.KeyInfo
	if _, err := bad.MarshalText(); !errors.Is(err, keyring.ErrInvalidKeyInfo) {
		t.Errorf("MarshalText(zero KeyInfo) = %v, want ErrInvalidKeyInfo", err)
	}
}

func TestKeyInfoFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tern.keyinfo")
	if _, err := keyring.ReadKeyInfoFile(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("ReadKeyInfoFile(missing) = %v, want fs.ErrNotExist", err)
	}
	info := passphraseInfo(t)
	if err := keyring.CreateKeyInfoFile(path, info); err != nil {
		t.Fatal(err)
	}
	got, err := keyring.ReadKeyInfoFile(path)
	if err != nil || !reflect.DeepEqual(got, info) {
		t.Fatalf("ReadKeyInfoFile = %+v, %v; want %+v", got, err, info)
	}
	if runtime.GOOS != "windows" {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if mode := st.Mode().Perm(); mode != 0o600 {
			t.Errorf("mode %v, want 0600", mode)
		}
	}
	// Never replaced: the existing file may be the only way into the data.
	if err := keyring.CreateKeyInfoFile(path, keyringInfo()); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("CreateKeyInfoFile over an existing file = %v, want fs.ErrExist", err)
	}
	if got, err := keyring.ReadKeyInfoFile(path); err != nil || !reflect.DeepEqual(got, info) {
		t.Fatalf("after the refused overwrite: %+v, %v", got, err)
	}
	// No temporary files are left behind, whether creating worked or not.
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only the key info file", names)
	}
	if err := keyring.CreateKeyInfoFile(filepath.Join(dir, "bad"), keyring.KeyInfo{}); !errors.Is(err, keyring.ErrInvalidKeyInfo) {
		t.Errorf("CreateKeyInfoFile(invalid) = %v", err)
	}
}

func TestReadKeyInfoFileRejects(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string][]byte{
		"garbage":   []byte("not a key info\n"),
		"truncated": []byte(`{"version":1,"source":"keyring"`),
		"huge":      append([]byte(`{"version":1,"source":"keyring","entry":"`), bytes.Repeat([]byte("e"), 70<<10)...),
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := keyring.ReadKeyInfoFile(path); !errors.Is(err, keyring.ErrInvalidKeyInfo) {
			t.Errorf("%s: ReadKeyInfoFile = %v, want ErrInvalidKeyInfo", name, err)
		}
	}
}
