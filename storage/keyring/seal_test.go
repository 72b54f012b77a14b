package keyring_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/tern-im/tern/storage/keyring"
)

// sealer is storage/sqlite's Sealer, restated: a DataKey must satisfy it
// without either package importing the other.
type sealer interface {
	Seal(plaintext, additionalData []byte) ([]byte, error)
	Open(sealed, additionalData []byte) ([]byte, error)
}

var _ sealer = (*keyring.DataKey)(nil)

// testMaster returns the master key 00 01 02 … 1f.
func testMaster() []byte {
	m := make([]byte, keyring.KeySize)
	for i := range m {
		m[i] = byte(i)
	}
	return m
}

func testKey(t testing.TB) *keyring.DataKey {
	t.Helper()
	dk, err := keyring.NewDataKey(testMaster())
	if err != nil {
		t.Fatal(err)
	}
	return dk
}

func TestSealOpenRoundTrip(t *testing.T) {
	dk := testKey(t)
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	tests := []struct {
		name          string
		plaintext, ad []byte
	}{
		{"empty", nil, nil},
		{"one byte", []byte{0}, []byte("ad")},
		{"signal session record", bytes.Repeat([]byte{0xa5}, 1800), []byte("omemo_sessions/alice@example.org/bob@example.net/1234")},
		{"binary ad", []byte("identity key"), []byte{0, 1, 2, 255}},
		{"1 MiB", big, []byte("big")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sealed, err := dk.Seal(tc.plaintext, tc.ad)
			if err != nil {
				t.Fatal(err)
			}
			if len(sealed) != len(tc.plaintext)+keyring.SealOverhead || sealed[0] != 1 {
				t.Fatalf("sealed %d bytes, version %d; want %d bytes, version 1",
					len(sealed), sealed[0], len(tc.plaintext)+keyring.SealOverhead)
			}
			if len(tc.plaintext) >= 16 && bytes.Contains(sealed, tc.plaintext[:16]) {
				t.Fatal("sealed value contains the plaintext")
			}
			got, err := dk.Open(sealed, tc.ad)
			if err != nil || !bytes.Equal(got, tc.plaintext) {
				t.Fatalf("Open = %d bytes, %v; want the plaintext", len(got), err)
			}
			again, err := dk.Seal(tc.plaintext, tc.ad)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(again[1:13], sealed[1:13]) || bytes.Equal(again, sealed) {
				t.Fatal("two seals share a nonce")
			}
		})
	}
}

// TestOpenDetectsTampering flips each byte of a sealed value (every bit,
// then all bits), truncates it at every length and extends it: each must
// fail with ErrTampered.
func TestOpenDetectsTampering(t *testing.T) {
	dk := testKey(t)
	ad := []byte("messages/42")
	sealed, err := dk.Seal([]byte("a private key, 32 bytes long...."), ad)
	if err != nil {
		t.Fatal(err)
	}
	expectTampered := func(what string, b []byte) {
		t.Helper()
		got, err := dk.Open(b, ad)
		if !errors.Is(err, keyring.ErrTampered) || got != nil {
			t.Errorf("%s: Open = %q, %v; want ErrTampered and no plaintext", what, got, err)
		}
	}
	for i := range sealed {
		for _, mask := range []byte{0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xff} {
			b := bytes.Clone(sealed)
			b[i] ^= mask
			expectTampered(fmt.Sprintf("byte %d ^ %#02x", i, mask), b)
		}
	}
	for n := range len(sealed) {
		expectTampered(fmt.Sprintf("truncated to %d", n), bytes.Clone(sealed[:n]))
	}
	expectTampered("extended", append(bytes.Clone(sealed), 0))
	expectTampered("nonce moved", append(append([]byte{1}, sealed[2:]...), sealed[1]))
	// The untouched value still opens: the failures above are the changes.
	if _, err := dk.Open(sealed, ad); err != nil {
		t.Fatalf("the original no longer opens: %v", err)
	}
}

func TestOpenBindsAdditionalDataAndKey(t *testing.T) {
	dk := testKey(t)
	sealed, err := dk.Seal([]byte("secret"), []byte("account=alice@example.org;row=7"))
	if err != nil {
		t.Fatal(err)
	}
	for _, ad := range [][]byte{
		nil,
		[]byte("account=alice@example.org;row=8"),
		[]byte("account=alice@example.org;row=7 "),
		[]byte("account=mallory@example.org;row=7"),
		[]byte("\x01account=alice@example.org;row=7"),
	} {
		if _, err := dk.Open(sealed, ad); !errors.Is(err, keyring.ErrTampered) {
			t.Errorf("Open with additional data %q = %v; want ErrTampered", ad, err)
		}
	}
	other := testMaster()
	other[31] ^= 1
	dk2, err := keyring.NewDataKey(other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dk2.Open(sealed, []byte("account=alice@example.org;row=7")); !errors.Is(err, keyring.ErrTampered) {
		t.Errorf("another key opened the value: %v", err)
	}
}

func TestNewDataKeyRejectsBadLength(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33, 64} {
		if _, err := keyring.NewDataKey(make([]byte, n)); err == nil {
			t.Errorf("NewDataKey(%d bytes) succeeded", n)
		}
	}
}

func TestDestroy(t *testing.T) {
	dk := testKey(t)
	sealed, err := dk.Seal([]byte("x"), nil)
	if err != nil {
		t.Fatal(err)
	}
	dk.Destroy()
	if _, err := dk.Seal([]byte("x"), nil); !errors.Is(err, keyring.ErrDestroyed) {
		t.Errorf("Seal after Destroy: %v", err)
	}
	if _, err := dk.Open(sealed, nil); !errors.Is(err, keyring.ErrDestroyed) {
		t.Errorf("Open after Destroy: %v", err)
	}
	dk.Destroy() // twice is harmless
}

// TestSealConcurrent: one DataKey serves the database's goroutines (run
// with -race).
func TestSealConcurrent(t *testing.T) {
	dk := testKey(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				ad := fmt.Appendf(nil, "%d/%d", g, i)
				s, err := dk.Seal(ad, ad)
				if err == nil {
					var got []byte
					got, err = dk.Open(s, ad)
					if err == nil && !bytes.Equal(got, ad) {
						err = fmt.Errorf("round trip %s gave %q", ad, got)
					}
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// Golden values: sealed with the test master key by this package; they
// must open forever, as profiles keep them on disk. The test also opens them
// with the standard library alone, following the format documented in the
// package comment, so that format and documentation cannot drift apart.
const (
	goldenAD        = "omemo_identity/alice@example.org"
	goldenPlaintext = "Tern sealed value, version 1"
	goldenSealed    = "0189e4f5fa2d228e14221dd518b25023b17499197647b47cd0d752a0723df4c20d41fe1a2cf81788aab285519a44083387c8a85f8884c9433b"
	goldenEmpty     = "012127150d7b6f67795160f9f1e2aab590283f371ded088e34590f6b71"
)

func TestSealedFormatGolden(t *testing.T) {
	dk := testKey(t)
	for _, tc := range []struct{ sealed, ad, plaintext string }{
		{goldenSealed, goldenAD, goldenPlaintext},
		{goldenEmpty, "", ""},
	} {
		sealed, err := hex.DecodeString(tc.sealed)
		if err != nil {
			t.Fatal(err)
		}
		got, err := dk.Open(sealed, []byte(tc.ad))
		if err != nil || string(got) != tc.plaintext {
			t.Errorf("Open(golden) = %q, %v; want %q", got, err, tc.plaintext)
		}

		// By hand: version ‖ nonce ‖ ciphertext ‖ tag, AES-256-GCM under
		// HKDF-SHA-256(master, info), additional data = version ‖ ad.
		key, err := hkdf.Key(sha256.New, testMaster(), nil, "im.tern.Tern data key v1: AES-256-GCM seal", 32)
		if err != nil {
			t.Fatal(err)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			t.Fatal(err)
		}
		gcm, err := cipher.NewGCM(block)
		if err != nil {
			t.Fatal(err)
		}
		if sealed[0] != 1 {
			t.Fatalf("version byte %d", sealed[0])
		}
		got, err = gcm.Open(nil, sealed[1:13], sealed[13:], append([]byte{1}, tc.ad...))
		if err != nil || string(got) != tc.plaintext {
			t.Errorf("standard library Open(golden) = %q, %v; want %q", got, err, tc.plaintext)
		}
	}
}
