package keyring_test

import (
	"fmt"
	"testing"

	"github.com/tern-im/tern/storage/keyring"
)

// BenchmarkPassphraseKey measures the Argon2id cost the user waits for at
// start when there is no keyring (RFC 9106's second option by default).
func BenchmarkPassphraseKey(b *testing.B) {
	for _, p := range []struct {
		name   string
		params keyring.Argon2Params
	}{
		{"t3-m64MiB-p4", keyring.DefaultArgon2Params()},
		{"t3-m64MiB-p1", keyring.Argon2Params{Time: 3, MemoryKiB: 64 << 10, Threads: 1}},
	} {
		b.Run(p.name, func(b *testing.B) {
			_, info, err := keyring.CreatePassphraseKey([]byte("benchmark passphrase"), p.params)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := keyring.OpenPassphraseKey([]byte("benchmark passphrase"), info); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSealOpen measures sealing at rest for typical sizes: a private
// key, a Signal session record, a large blob.
func BenchmarkSealOpen(b *testing.B) {
	dk := testKey(b)
	ad := []byte("omemo_sessions/alice@example.org/bob@example.net/1234")
	for _, n := range []int{32, 2 << 10, 64 << 10} {
		plaintext := make([]byte, n)
		b.Run(fmt.Sprintf("Seal/%dB", n), func(b *testing.B) {
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := dk.Seal(plaintext, ad); err != nil {
					b.Fatal(err)
				}
			}
		})
		sealed, err := dk.Seal(plaintext, ad)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("Open/%dB", n), func(b *testing.B) {
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := dk.Open(sealed, ad); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
