package keyring_test

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"testing"

	"golang.org/x/crypto/argon2"

	"github.com/tern-im/tern/storage/keyring"
)

// cheap is the lowest cost Validate accepts, so that table tests stay fast;
// TestPassphraseDefaultCost and the golden test use RFC 9106's parameters.
var cheap = keyring.Argon2Params{Time: 1, MemoryKiB: 8 << 10, Threads: 1}

func TestPassphraseDefaultCost(t *testing.T) {
	want := keyring.Argon2Params{Time: 3, MemoryKiB: 64 * 1024, Threads: 4} // RFC 9106 §4, second option
	if got := keyring.DefaultArgon2Params(); got != want {
		t.Fatalf("DefaultArgon2Params = %+v, want %+v", got, want)
	}
	dk, info, err := keyring.CreatePassphraseKey([]byte("a passphrase the user chose"), keyring.Argon2Params{})
	if err != nil {
		t.Fatal(err)
	}
	if info.Source != keyring.SourcePassphrase || info.Argon2 != want || len(info.Salt) != 16 || len(info.Check) != 32 || info.Entry != "" {
		t.Fatalf("KeyInfo = %+v", info)
	}
	sealed, err := dk.Seal([]byte("prekey"), []byte("ad"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := keyring.OpenPassphraseKey([]byte("a passphrase the user chose"), info)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := again.Open(sealed, []byte("ad")); err != nil || string(got) != "prekey" {
		t.Fatalf("Open with the re-derived key = %q, %v", got, err)
	}
}

func TestPassphraseWrong(t *testing.T) {
	const pass = "Tr0ub4dor&3 is not it"
	_, info, err := keyring.CreatePassphraseKey([]byte(pass), cheap)
	if err != nil {
		t.Fatal(err)
	}
	for _, wrong := range []string{"Tr0ub4dor&3 is not iT", "Tr0ub4dor&3 is not it ", "x", pass[:len(pass)-1]} {
		dk, err := keyring.OpenPassphraseKey([]byte(wrong), info)
		if !errors.Is(err, keyring.ErrWrongPassphrase) || dk != nil {
			t.Errorf("OpenPassphraseKey(%q) = %v, %v; want ErrWrongPassphrase", wrong, dk, err)
		}
		if err != nil && bytes.Contains([]byte(err.Error()), []byte(wrong)) {
			t.Errorf("the error %q contains the passphrase", err)
		}
	}
	// The salt is part of the key: the same passphrase under another salt
	// is another key.
	_, info2, err := keyring.CreatePassphraseKey([]byte(pass), cheap)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(info.Salt, info2.Salt) || bytes.Equal(info.Check, info2.Check) {
		t.Fatal("two keys from one passphrase share salt or check value")
	}
	// A changed cost is another key too.
	changed := info
	changed.Argon2.Time++
	if _, err := keyring.OpenPassphraseKey([]byte(pass), changed); !errors.Is(err, keyring.ErrWrongPassphrase) {
		t.Errorf("changed time cost: %v, want ErrWrongPassphrase", err)
	}
}

// TestPassphraseNormalized: RFC 8265 OpaqueString makes the same visible
// passphrase the same key, however it was typed.
func TestPassphraseNormalized(t *testing.T) {
	tests := []struct{ name, created, typed string }{
		{"NFC and NFD", "caf\u00e9 au lait", "cafe\u0301 au lait"},
		{"no-break space", "two\u00a0words here", "two words here"},
		{"ideographic space", "fullwidth\u3000space", "fullwidth space"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, info, err := keyring.CreatePassphraseKey([]byte(tc.created), cheap)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := keyring.OpenPassphraseKey([]byte(tc.typed), info); err != nil {
				t.Errorf("OpenPassphraseKey(%q) for %q: %v", tc.typed, tc.created, err)
			}
		})
	}
}

func TestPassphraseInvalid(t *testing.T) {
	for _, p := range []string{"", "bell\a", "nul\x00byte", "\xff\xfe not UTF-8"} {
		if _, _, err := keyring.CreatePassphraseKey([]byte(p), cheap); !errors.Is(err, keyring.ErrInvalidPassphrase) {
			t.Errorf("CreatePassphraseKey(%q) = %v, want ErrInvalidPassphrase", p, err)
		}
	}
	_, info, err := keyring.CreatePassphraseKey([]byte("valid one"), cheap)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := keyring.OpenPassphraseKey(nil, info); !errors.Is(err, keyring.ErrInvalidPassphrase) {
		t.Errorf("OpenPassphraseKey(empty) = %v, want ErrInvalidPassphrase", err)
	}
}

func TestPassphraseDoesNotKeepInput(t *testing.T) {
	pass := []byte("caller owns and clears this")
	dk, info, err := keyring.CreatePassphraseKey(pass, cheap)
	if err != nil {
		t.Fatal(err)
	}
	if string(pass) != "caller owns and clears this" {
		t.Fatalf("CreatePassphraseKey changed the caller's buffer to %q", pass)
	}
	clear(pass) // what a caller does; the key must not depend on the buffer afterwards
	sealed, err := dk.Seal([]byte("v"), nil)
	if err != nil {
		t.Fatal(err)
	}
	again, err := keyring.OpenPassphraseKey([]byte("caller owns and clears this"), info)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := again.Open(sealed, nil); err != nil {
		t.Fatal(err)
	}
}

func TestArgon2ParamsValidate(t *testing.T) {
	tests := []struct {
		p  keyring.Argon2Params
		ok bool
	}{
		{keyring.DefaultArgon2Params(), true},
		{cheap, true},
		{keyring.Argon2Params{Time: 64, MemoryKiB: 1 << 20, Threads: 64}, true},
		{keyring.Argon2Params{Time: 0, MemoryKiB: 65536, Threads: 4}, false},
		{keyring.Argon2Params{Time: 65, MemoryKiB: 65536, Threads: 4}, false},
		{keyring.Argon2Params{Time: 3, MemoryKiB: 8<<10 - 1, Threads: 1}, false},
		{keyring.Argon2Params{Time: 3, MemoryKiB: 1<<20 + 1, Threads: 4}, false},
		{keyring.Argon2Params{Time: 3, MemoryKiB: 65536, Threads: 0}, false},
		{keyring.Argon2Params{Time: 3, MemoryKiB: 65536, Threads: 65}, false},
	}
	for _, tc := range tests {
		err := tc.p.Validate()
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, keyring.ErrInvalidKeyInfo)) {
			t.Errorf("Validate(%+v) = %v, want ok=%v", tc.p, err, tc.ok)
		}
		if !tc.ok {
			if _, _, err := keyring.CreatePassphraseKey([]byte("passphrase"), tc.p); !errors.Is(err, keyring.ErrInvalidKeyInfo) {
				t.Errorf("CreatePassphraseKey(%+v) = %v, want ErrInvalidKeyInfo", tc.p, err)
			}
		}
	}
}

// goldenPassphraseInfo was made by CreatePassphraseKey with the default
// cost and passphrase "correct horse battery staple". It must open forever.
const goldenPassphraseInfo = `{"version":1,"source":"passphrase","kdf":"argon2id","time":3,"memory_kib":65536,"threads":4,"salt":"wCmm82avEkj0CiLE8w2Jqw==","check":"RckWNP39TF2NUX2WnytPH+cqfNM61H0JetoFrMx1C+k="}`

func TestPassphraseGolden(t *testing.T) {
	var info keyring.KeyInfo
	if err := info.UnmarshalText([]byte(goldenPassphraseInfo)); err != nil {
		t.Fatal(err)
	}
	if _, err := keyring.OpenPassphraseKey([]byte("correct horse battery staple"), info); err != nil {
		t.Fatalf("golden passphrase: %v", err)
	}
	if _, err := keyring.OpenPassphraseKey([]byte("correct horse battery stapler"), info); !errors.Is(err, keyring.ErrWrongPassphrase) {
		t.Fatalf("golden, wrong passphrase: %v", err)
	}
	// By hand, as the package comment documents it: Argon2id (RFC 9106)
	// gives the master key; the check value is its HKDF-SHA-256 subkey.
	master := argon2.IDKey([]byte("correct horse battery staple"), info.Salt, 3, 64*1024, 4, 32)
	check, err := hkdf.Key(sha256.New, master, nil, "im.tern.Tern data key v1: check value", 32)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(check, info.Check) {
		t.Fatal("check value computed by hand differs from the golden KeyInfo")
	}
}
