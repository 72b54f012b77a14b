package keyring_test

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/tern-im/tern/storage/keyring"
)

// FuzzOpen: Open must never panic and must fail closed. The seeds include
// the golden values, so the fuzzer starts from valid seals and mutates them.
func FuzzOpen(f *testing.F) {
	dk := testKey(f)
	f.Add([]byte{}, []byte{})
	f.Add([]byte{1}, []byte("ad"))
	for _, s := range []struct{ plaintext, ad string }{
		{"identity private key", "omemo_identity/alice@example.org"},
		{"", ""},
	} {
		sealed, err := dk.Seal([]byte(s.plaintext), []byte(s.ad))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(sealed, []byte(s.ad))
	}
	f.Fuzz(func(t *testing.T, sealed, ad []byte) {
		in := bytes.Clone(sealed)
		plaintext, err := dk.Open(sealed, ad)
		if !bytes.Equal(in, sealed) {
			t.Fatal("Open modified its input")
		}
		if err != nil {
			if !errors.Is(err, keyring.ErrTampered) || plaintext != nil {
				t.Fatalf("Open failed with %v and %d bytes; want ErrTampered and none", err, len(plaintext))
			}
			return
		}
		// Only a real seal opens: its layout is fixed, and sealing the
		// plaintext again gives another value that opens the same way.
		if len(sealed) != len(plaintext)+keyring.SealOverhead || sealed[0] != 1 {
			t.Fatalf("opened a %d-byte value into %d bytes", len(sealed), len(plaintext))
		}
		again, err := dk.Seal(plaintext, ad)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := dk.Open(again, ad); err != nil || !bytes.Equal(got, plaintext) {
			t.Fatalf("reseal round trip: %v", err)
		}
	})
}

// FuzzKeyInfo: UnmarshalText must never panic, must reject what Validate
// rejects, and what it accepts must survive MarshalText unchanged.
func FuzzKeyInfo(f *testing.F) {
	f.Add([]byte(goldenPassphraseInfo))
	f.Add([]byte(`{"version":1,"source":"keyring","entry":"Tern data key 0123456789abcdef","check":"CQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk="}`))
	f.Add([]byte(`{"version":2}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, text []byte) {
		var info keyring.KeyInfo
		if err := info.UnmarshalText(text); err != nil {
			if !errors.Is(err, keyring.ErrInvalidKeyInfo) {
				t.Fatalf("UnmarshalText error %v does not match ErrInvalidKeyInfo", err)
			}
			return
		}
		if err := info.Validate(); err != nil {
			t.Fatalf("UnmarshalText accepted an invalid KeyInfo: %v", err)
		}
		out, err := info.MarshalText()
		if err != nil {
			t.Fatalf("MarshalText of an accepted KeyInfo: %v", err)
		}
		var again keyring.KeyInfo
		if err := again.UnmarshalText(out); err != nil || !reflect.DeepEqual(again, info) {
			t.Fatalf("round trip of %s: %+v, %v; want %+v", out, again, err, info)
		}
	})
}
