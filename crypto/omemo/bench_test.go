package omemo_test

import (
	"fmt"
	"testing"

	"github.com/tern-im/tern/crypto/omemo"
	wire "github.com/tern-im/tern/protocol/omemo"
)

// BenchmarkEncrypt10Devices encrypts one message for 10 devices with
// established sessions (target: ≤ 2 ms per message).
func BenchmarkEncrypt10Devices(b *testing.B) {
	alice := newDevice(b, "alice@example.org", omemo.Options{})
	var addrs []omemo.Address
	for i := range 10 {
		d := newDevice(b, fmt.Sprintf("peer%d@example.org", i), omemo.Options{})
		alice.knows(d)
		d.mustDecrypt(alice, alice.encrypt("hello", d), "hello")
		alice.mustDecrypt(d, d.encrypt("hi", alice), "hi")
		addrs = append(addrs, d.addr())
	}
	text := []byte("A message of ordinary length, about as long as most chat messages are.")
	b.ReportAllocs()
	cpu0, cpuOK := cpuTime()
	for b.Loop() {
		res, err := alice.acct.Encrypt(ctx, alice.st, text, addrs)
		if err != nil || len(res.Recipients) != 10 {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/msg")
	if cpu1, ok := cpuTime(); ok && cpuOK {
		b.ReportMetric(float64((cpu1-cpu0).Microseconds())/float64(b.N)/1000, "cpu-ms/msg")
	}
}

// BenchmarkDecrypt decrypts messages of an established session, in order
// (target: ≥ 5,000 messages/s on one core).
func BenchmarkDecrypt(b *testing.B) {
	alice := newDevice(b, "alice@example.org", omemo.Options{})
	bob := newDevice(b, "bob@example.org", omemo.Options{})
	alice.knows(bob)
	bob.mustDecrypt(alice, alice.encrypt("hello", bob), "hello")
	alice.mustDecrypt(bob, bob.encrypt("hi", alice), "hi")
	text := []byte("A message of ordinary length, about as long as most chat messages are.")
	msgs := make([]wire.Encrypted, b.N)
	for i := range msgs {
		res, err := alice.acct.Encrypt(ctx, alice.st, text, []omemo.Address{bob.addr()})
		if err != nil {
			b.Fatal(err)
		}
		msgs[i] = res.Message
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0, cpuOK := cpuTime()
	for i := range b.N {
		if _, err := bob.acct.Decrypt(ctx, bob.st, alice.jid, msgs[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	if cpu1, ok := cpuTime(); ok && cpuOK {
		b.ReportMetric(float64(b.N)/(cpu1-cpu0).Seconds(), "msgs/cpu-s")
	}
}
