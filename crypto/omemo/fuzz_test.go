package omemo_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"go.mau.fi/libsignal/ecc"

	"github.com/tern-im/tern/crypto/omemo"
	"github.com/tern-im/tern/protocol/jid"
	wire "github.com/tern-im/tern/protocol/omemo"
)

// FuzzDecrypt feeds arbitrary Signal messages, IVs and payloads to Bob's
// Decrypt, from Alice, with whom he has a session. It must never panic,
// every failure must be a *DecryptError, and Bob's store must be
// unchanged after a failure. Besides the committed seeds, genuine messages
// of this run's session are added, so the fuzzer mutates real ones.
func FuzzDecrypt(f *testing.F) {
	alice := newDevice(f, "alice@example.org", omemo.Options{})
	bob := newDevice(f, "bob@example.org", omemo.Options{})
	alice.knows(bob)
	first := alice.encrypt("first", bob)
	f.Add(first.Keys[0].Data, true, first.IV, first.Payload)
	bob.mustDecrypt(alice, first, "first")
	alice.mustDecrypt(bob, bob.encrypt("reply", alice), "reply")
	second := alice.encrypt("second", bob)
	f.Add(second.Keys[0].Data, false, second.IV, second.Payload)
	kt, err := alice.acct.KeyTransport(ctx, alice.st, []omemo.Address{bob.addr()})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(kt.Message.Keys[0].Data, false, kt.Message.IV, []byte(nil))
	base := bob.st.Snapshot()

	f.Fuzz(func(t *testing.T, key []byte, prekey bool, iv, payload []byte) {
		bob.st.Restore(base)
		e := wire.Encrypted{SID: alice.id.DeviceID, IV: iv, Payload: payload,
			Keys: []wire.Key{{RID: bob.id.DeviceID, PreKey: prekey, Data: key}}}
		d, err := bob.decrypt(alice, e)
		if err == nil {
			if d.Sender != alice.addr() {
				t.Fatalf("decrypted as from %v", d.Sender)
			}
			return
		}
		var de *omemo.DecryptError
		if !errors.As(err, &de) || de.Error() == "" {
			t.Fatalf("err = %v (%T)", err, err)
		}
		// A failure leaves no trace, except an undecided identity key.
		if errors.Is(err, omemo.ErrIdentityChanged) {
			return
		}
		got, _ := bob.st.Session(ctx, acctID, alice.addr())
		want, _ := base.Session(ctx, acctID, alice.addr())
		if !bytes.Equal(got, want) {
			t.Fatal("a failed decryption changed the session")
		}
		pks, _ := bob.st.PreKeys(ctx, acctID)
		wantPKs, _ := base.PreKeys(ctx, acctID)
		if len(pks) != len(wantPKs) {
			t.Fatal("a failed decryption consumed a prekey")
		}
	})
}

// FuzzBuildSession feeds arbitrary key material as a bundle to
// BuildSession. It must never panic and must refuse everything whose
// signature does not verify (checked here with the library's
// XEdDSA verification).
func FuzzBuildSession(f *testing.F) {
	alice := newDevice(f, "alice@example.org", omemo.Options{})
	bob := newDevice(f, "bob@example.org", omemo.Options{})
	b := bob.bundle()
	f.Add(b.IdentityKey, b.SignedPreKey, b.SignedPreKeySignature, b.PreKeys[0].Public, uint32(1))
	f.Add(b.IdentityKey[:32], b.SignedPreKey, b.SignedPreKeySignature, b.PreKeys[0].Public, uint32(0))
	base := alice.st.Snapshot()
	f.Fuzz(func(t *testing.T, ik, spk, sig, pk []byte, pkID uint32) {
		alice.st.Restore(base)
		bundle := wire.Bundle{SignedPreKeyID: 1, SignedPreKey: spk, SignedPreKeySignature: sig, IdentityKey: ik,
			PreKeys: []wire.PreKey{{ID: pkID, Public: pk}}}
		err := alice.acct.BuildSession(ctx, alice.st, bob.addr(), bundle)
		if err == nil {
			// Only a bundle whose identity key signed its signed prekey.
			if !wire.ValidKey(ik) || !wire.ValidKey(spk) || !wire.ValidKey(pk) || !wire.ValidSignature(sig) {
				t.Fatal("accepted malformed keys")
			}
			pub, err := ecc.DecodePoint(ik, 0)
			if err != nil || !ecc.VerifySignature(pub, spk, [64]byte(sig)) {
				t.Fatal("accepted a signature that does not verify")
			}
			return
		}
		if devs, _ := alice.st.SessionDevices(ctx, acctID, bob.jid); len(devs) != 0 {
			t.Fatalf("failed with %v but stored a session", err)
		}
	})
}

// FuzzParseURI feeds arbitrary text to ParseURI, which reads scanned QR
// codes. It must never panic, and what it accepts must come back the same
// from URI.
func FuzzParseURI(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		owner, devs, err := omemo.ParseURI(s)
		if err != nil {
			return
		}
		if owner.Local() == "" || owner.Resource() != "" || len(devs) == 0 {
			t.Fatalf("accepted %v %v", owner, devs)
		}
		for _, d := range devs {
			if !wire.ValidID(d.Device) || len(d.Fingerprint) != 64 || strings.ToLower(d.Fingerprint) != d.Fingerprint {
				t.Fatalf("accepted %+v", d)
			}
		}
		o2, d2, err := omemo.ParseURI(omemo.URI(owner, devs))
		if err != nil || o2 != owner || len(d2) != len(devs) {
			t.Fatalf("round trip of %s: %v %v %v", omemo.URI(owner, devs), o2, d2, err)
		}
		for i := range devs {
			if d2[i] != devs[i] {
				t.Fatalf("round trip: %v != %v", d2, devs)
			}
		}
		if j, err := jid.Parse(owner.String()); err != nil || j != owner {
			t.Fatalf("owner %v does not re-parse", owner)
		}
	})
}
