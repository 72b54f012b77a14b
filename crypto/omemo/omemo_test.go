package omemo_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tern-im/tern/crypto/omemo"
	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
	wire "github.com/tern-im/tern/protocol/omemo"
)

var ctx = context.Background()

func TestSetupOnce(t *testing.T) {
	d := newDevice(t, "alice@example.org/laptop", omemo.Options{})
	if !wire.ValidID(d.id.DeviceID) || !wire.ValidKey(d.id.PublicKey) || len(d.id.PrivateKey) != 32 {
		t.Fatalf("identity %+v", d.id)
	}
	again, created, err := d.acct.Setup(ctx, d.st)
	if err != nil || created || again.DeviceID != d.id.DeviceID || !bytes.Equal(again.PublicKey, d.id.PublicKey) {
		t.Fatalf("second Setup: %v %v %v", again.DeviceID, created, err)
	}
	b := d.bundle()
	if len(b.PreKeys) != omemo.DefaultPreKeys || b.PreKeys[0].ID != 1 || b.PreKeys[99].ID != 100 {
		t.Fatalf("bundle has %d prekeys, ids %d..%d", len(b.PreKeys), b.PreKeys[0].ID, b.PreKeys[len(b.PreKeys)-1].ID)
	}
	if !bytes.Equal(b.IdentityKey, d.id.PublicKey) || b.Validate() != nil {
		t.Fatal("bundle does not carry our identity key or is invalid")
	}
	if id, err := d.acct.DeviceID(ctx, d.st); err != nil || id != d.id.DeviceID {
		t.Fatalf("DeviceID = %d %v", id, err)
	}
	// Before Setup, everything fails with ErrNoIdentity.
	fresh := omemo.New(acctID, jid.MustParse("x@example.org"), omemo.Options{})
	if _, err := fresh.Bundle(ctx, d.st.Snapshot()); err != nil {
		t.Fatalf("bundle from a copied store: %v", err)
	}
	other := newDevice(t, "bob@example.org", omemo.Options{})
	empty := omemo.New(2, jid.MustParse("x@example.org"), omemo.Options{})
	if _, err := empty.Bundle(ctx, other.st); !errors.Is(err, omemo.ErrNoIdentity) {
		t.Fatalf("Bundle without identity: %v", err)
	}
}

// A bundle built from stored keys must verify for someone else: the
// library's own record parsers rebuild public keys wrongly, so this fails
// if the adapter ever uses them.
func TestBundleFromStoreVerifies(t *testing.T) {
	bob := newDevice(t, "bob@example.org", omemo.Options{})
	bob2 := omemo.New(acctID, bob.jid, omemo.Options{}) // a restart: nothing cached
	b, err := bob2.Bundle(ctx, bob.st)
	if err != nil {
		t.Fatal(err)
	}
	alice := newDevice(t, "alice@example.org", omemo.Options{})
	if err := alice.acct.BuildSession(ctx, alice.st, bob.addr(), b); err != nil {
		t.Fatal(err)
	}
	e := alice.encrypt("hi", bob)
	bobAgain := &device{t: t, acct: bob2, st: bob.st, jid: bob.jid, id: bob.id}
	bobAgain.mustDecrypt(alice, e, "hi")
}

func TestConversation(t *testing.T) {
	alice := newDevice(t, "alice@example.org/a", omemo.Options{})
	bob := newDevice(t, "bob@example.org/b", omemo.Options{})
	alice.knows(bob)

	// Alice starts: prekey messages until she hears from Bob.
	for i := range 3 {
		e := alice.encrypt(fmt.Sprint("hello ", i), bob)
		if len(e.Keys) != 1 || !e.Keys[0].PreKey || e.Keys[0].RID != bob.id.DeviceID || e.SID != alice.id.DeviceID {
			t.Fatalf("message %d: keys %+v", i, e.Keys)
		}
		if len(e.IV) != 12 || e.KeyTransport() {
			t.Fatalf("IV %d bytes, key transport %v", len(e.IV), e.KeyTransport())
		}
		got := bob.mustDecrypt(alice, e, fmt.Sprint("hello ", i))
		if got.Trust != client.TrustBlind || got.State != omemo.TrustBlind || !bytes.Equal(got.IdentityKey, alice.id.PublicKey) {
			t.Fatalf("trust %v %v", got.Trust, got.State)
		}
		// The first one builds the session and uses a prekey.
		if got.PreKeyUsed != (i == 0) || got.SendKeyTransport != (i == 0) {
			t.Fatalf("message %d: PreKeyUsed %v SendKeyTransport %v", i, got.PreKeyUsed, got.SendKeyTransport)
		}
	}
	pks, _ := bob.st.PreKeys(ctx, acctID)
	if len(pks) != omemo.DefaultPreKeys-1 {
		t.Fatalf("%d prekeys left", len(pks))
	}

	// Bob answers over the session Alice started; he needs no bundle.
	e := bob.encrypt("hi alice", alice)
	if e.Keys[0].PreKey {
		t.Fatal("Bob's answer is a prekey message")
	}
	alice.mustDecrypt(bob, e, "hi alice")
	// Now Alice's messages are normal ones.
	e = alice.encrypt("after", bob)
	if e.Keys[0].PreKey {
		t.Fatal("Alice still sends prekey messages after Bob answered")
	}
	bob.mustDecrypt(alice, e, "after")

	// Empty text and a long text.
	bob.mustDecrypt(alice, alice.encrypt("", bob), "")
	long := strings.Repeat("ünïcödé ", 5000)
	bob.mustDecrypt(alice, alice.encrypt(long, bob), long)

	// Replenishing: new ids continue after the highest.
	added, err := bob.acct.ReplenishPreKeys(ctx, bob.st)
	if err != nil || !added {
		t.Fatalf("ReplenishPreKeys = %v %v", added, err)
	}
	pks, _ = bob.st.PreKeys(ctx, acctID)
	if len(pks) != omemo.DefaultPreKeys || pks[len(pks)-1].ID != omemo.DefaultPreKeys+1 {
		t.Fatalf("after replenishing: %d keys, last id %d", len(pks), pks[len(pks)-1].ID)
	}
	if added, err := bob.acct.ReplenishPreKeys(ctx, bob.st); err != nil || added {
		t.Fatalf("second ReplenishPreKeys = %v %v", added, err)
	}
}

func TestOwnDevicesAndCopies(t *testing.T) {
	alice1 := newDevice(t, "alice@example.org/one", omemo.Options{})
	alice2 := newDevice(t, "alice@example.org/two", omemo.Options{})
	bob := newDevice(t, "bob@example.org", omemo.Options{})
	alice1.knows(bob, alice2)
	bob.knows(alice1, alice2)

	// Our own device is left out, silently.
	res, err := alice1.acct.Encrypt(ctx, alice1.st, []byte("to bob, copy to me"), []omemo.Address{bob.addr(), alice2.addr(), alice1.addr()})
	if err != nil || len(res.Message.Keys) != 2 || len(res.Skipped) != 0 || res.Trust != client.TrustBlind {
		t.Fatalf("Encrypt = %+v, %v", res, err)
	}
	e := res.Message
	bob.mustDecrypt(alice1, e, "to bob, copy to me")
	alice2.mustDecrypt(alice1, e, "to bob, copy to me") // the carbon
	_, err = alice1.decrypt(alice1, e)                  // reflected to the sender
	wantReason(t, err, omemo.ErrOwnDevice, omemo.RepairNone)

	e = bob.encrypt("to both alices", alice1, alice2)
	alice1.mustDecrypt(bob, e, "to both alices")
	alice2.mustDecrypt(bob, e, "to both alices")

	// A device that was left out learns it was not meant for it.
	e = bob.encrypt("only one", alice1)
	_, err = alice2.decrypt(bob, e)
	wantReason(t, err, omemo.ErrNotForUs, omemo.RepairNone)

	// Encrypting for one's own devices only: the trust is theirs.
	res, err = alice1.acct.Encrypt(ctx, alice1.st, []byte("note to self"), []omemo.Address{alice2.addr()})
	if err != nil || res.Trust != client.TrustBlind {
		t.Fatalf("own devices only: %v %v", res.Trust, err)
	}
}

func TestOutOfOrderAndReplay(t *testing.T) {
	alice := newDevice(t, "alice@example.org", omemo.Options{})
	bob := newDevice(t, "bob@example.org", omemo.Options{})
	alice.knows(bob)
	bob.mustDecrypt(alice, alice.encrypt("start", bob), "start")
	alice.mustDecrypt(bob, bob.encrypt("ok", alice), "ok")

	var msgs []wire.Encrypted
	for i := range 8 {
		msgs = append(msgs, alice.encrypt(fmt.Sprint("m", i), bob))
	}
	for _, i := range []int{3, 0, 7, 1, 6, 2, 5, 4} {
		bob.mustDecrypt(alice, msgs[i], fmt.Sprint("m", i))
	}
	for i, m := range msgs {
		_, err := bob.decrypt(alice, m)
		if !errors.Is(err, omemo.ErrDuplicate) {
			t.Fatalf("replay of m%d: %v", i, err)
		}
	}
	// A replayed prekey message is a duplicate too, and uses no prekey.
	carol := newDevice(t, "carol@example.org", omemo.Options{})
	carol.knows(bob)
	first := carol.encrypt("prekey message", bob)
	bob.mustDecrypt(carol, first, "prekey message")
	before, _ := bob.st.PreKeys(ctx, acctID)
	_, err := bob.decrypt(carol, first)
	wantReason(t, err, omemo.ErrDuplicate, omemo.RepairNone)
	after, _ := bob.st.PreKeys(ctx, acctID)
	if len(after) != len(before) {
		t.Fatal("a replay consumed a prekey")
	}
	// Messages across ratchet steps, delivered late.
	a1 := alice.encrypt("before the reply", bob)
	alice.mustDecrypt(bob, bob.encrypt("reply", alice), "reply")
	a2 := alice.encrypt("after the reply", bob)
	bob.mustDecrypt(alice, a2, "after the reply")
	bob.mustDecrypt(alice, a1, "before the reply")
}

func TestIdentityChanged(t *testing.T) {
	alice := newDevice(t, "alice@example.org", omemo.Options{})
	bob := newDevice(t, "bob@example.org", omemo.Options{})
	alice.knows(bob)
	bob.mustDecrypt(alice, alice.encrypt("hello", bob), "hello")
	alice.mustDecrypt(bob, bob.encrypt("hi", alice), "hi")

	// Bob's device comes back with the same id and a new identity key
	// (reinstalled, or someone impersonating it).
	evil := newDevice(t, "bob@example.org", omemo.Options{})
	evilID := evil.id
	evilID.DeviceID = bob.id.DeviceID
	if err := evil.st.PutIdentity(ctx, acctID, evilID); err != nil {
		t.Fatal(err)
	}
	evil.id = evilID
	evil.knows(alice)
	e := evil.encrypt("it's me, trust me", alice)
	_, err := alice.decrypt(evil, e)
	wantReason(t, err, omemo.ErrIdentityChanged, omemo.RepairVerify)
	if !strings.Contains(err.Error(), "identity key changed") || !strings.Contains(err.Error(), "bob@example.org") {
		t.Errorf("message %q", err)
	}

	// The new key is recorded, undecided; the old one keeps its trust.
	devs, err := alice.acct.Devices(ctx, alice.st, bob.jid)
	if err != nil || len(devs) != 1 || len(devs[0].Keys) != 2 {
		t.Fatalf("Devices = %+v %v", devs, err)
	}
	if k := devs[0].Keys; !bytes.Equal(k[0].IdentityKey, bob.id.PublicKey) || k[0].State != omemo.TrustBlind ||
		!bytes.Equal(k[1].IdentityKey, evil.id.PublicKey) || k[1].State != omemo.TrustUndecided {
		t.Fatalf("keys %+v", k)
	}
	// Building a session from the new bundle is refused the same way.
	if err := alice.acct.BuildSession(ctx, alice.st, bob.addr(), evil.bundle()); !errors.Is(err, omemo.ErrIdentityChanged) {
		t.Fatalf("BuildSession with the new key: %v", err)
	}
	// The old session still works.
	alice.mustDecrypt(bob, bob.encrypt("still me", alice), "still me")
	bob.mustDecrypt(alice, alice.encrypt("good", bob), "good")

	// Once the user trusts the new key (after comparing it), it is used.
	fp, _ := omemo.Fingerprint(evil.id.PublicKey)
	if err := alice.acct.Verify(ctx, alice.st, bob.jid, fp); err != nil {
		t.Fatal(err)
	}
	got := alice.mustDecrypt(evil, evil.encrypt("now verified", alice), "now verified")
	if got.Trust != client.TrustVerified {
		t.Fatalf("trust %v", got.Trust)
	}
}

func TestConsumedPreKeyReused(t *testing.T) {
	bob := newDevice(t, "bob@example.org", omemo.Options{})
	b := bob.bundle()
	b.PreKeys = b.PreKeys[:1] // force both senders onto the same prekey
	carol := newDevice(t, "carol@example.org", omemo.Options{})
	dave := newDevice(t, "dave@example.org", omemo.Options{})
	for _, d := range []*device{carol, dave} {
		if err := d.acct.BuildSession(ctx, d.st, bob.addr(), b); err != nil {
			t.Fatal(err)
		}
	}
	got := bob.mustDecrypt(carol, carol.encrypt("first", bob), "first")
	if !got.PreKeyUsed {
		t.Fatal("prekey not reported used")
	}
	_, err := bob.decrypt(dave, dave.encrypt("second", bob))
	wantReason(t, err, omemo.ErrNoPreKey, omemo.RepairNewSession)
	// The repair: Bob builds a new session with Dave and sends a key
	// transport message; Dave's next messages decrypt.
	bob.learnList(dave)
	kt, err := bob.acct.ResetSession(ctx, bob.st, dave.addr(), dave.bundle())
	if err != nil || !kt.KeyTransport() {
		t.Fatalf("ResetSession = %+v %v", kt, err)
	}
	if d, err := dave.decrypt(bob, kt); err != nil || d.Plaintext != nil {
		t.Fatalf("key transport: %+v %v", d, err)
	}
	bob.mustDecrypt(dave, dave.encrypt("third", bob), "third")
}

func TestOldSignedPreKey(t *testing.T) {
	clk := newClock()
	opts := omemo.Options{Now: clk.Now, SignedPreKeyRotation: 7 * 24 * time.Hour, SignedPreKeyGrace: 28 * 24 * time.Hour}
	bob := newDevice(t, "bob@example.org", opts)
	old := bob.bundle()

	if rotated, err := bob.acct.RotateSignedPreKey(ctx, bob.st); err != nil || rotated {
		t.Fatalf("rotation of a new key: %v %v", rotated, err)
	}
	clk.Advance(8 * 24 * time.Hour)
	if rotated, err := bob.acct.RotateSignedPreKey(ctx, bob.st); err != nil || !rotated {
		t.Fatalf("rotation after 8 days: %v %v", rotated, err)
	}
	if nb := bob.bundle(); nb.SignedPreKeyID == old.SignedPreKeyID || bytes.Equal(nb.SignedPreKey, old.SignedPreKey) {
		t.Fatal("the bundle still has the old signed prekey")
	}

	// Within the grace period a session from the old bundle works.
	carol := newDevice(t, "carol@example.org", omemo.Options{})
	if err := carol.acct.BuildSession(ctx, carol.st, bob.addr(), old); err != nil {
		t.Fatal(err)
	}
	bob.mustDecrypt(carol, carol.encrypt("from an old bundle", bob), "from an old bundle")

	// After the grace period it is gone, with a clear error.
	clk.Advance(29 * 24 * time.Hour)
	if _, err := bob.acct.RotateSignedPreKey(ctx, bob.st); err != nil {
		t.Fatal(err)
	}
	spks, _ := bob.st.SignedPreKeys(ctx, acctID)
	if slices.ContainsFunc(spks, func(k omemo.SignedPreKey) bool { return k.ID == old.SignedPreKeyID }) {
		t.Fatal("the old signed prekey was not removed")
	}
	dave := newDevice(t, "dave@example.org", omemo.Options{})
	old.PreKeys = old.PreKeys[10:] // not the one carol used
	if err := dave.acct.BuildSession(ctx, dave.st, bob.addr(), old); err != nil {
		t.Fatal(err)
	}
	_, err := bob.decrypt(dave, dave.encrypt("too late", bob))
	wantReason(t, err, omemo.ErrNoSignedPreKey, omemo.RepairNewSession)
	// The session with carol outlives the key it started from.
	bob.mustDecrypt(carol, carol.encrypt("still fine", bob), "still fine")
}

func TestDeviceLists(t *testing.T) {
	alice := newDevice(t, "alice@example.org/a", omemo.Options{})
	own := alice.jid

	// Our own list without us: we must re-add ourselves.
	publish, err := alice.acct.SetDeviceList(ctx, alice.st, own, []uint32{5, 3})
	if err != nil || !slices.Equal(publish, sortedIDs(3, 5, alice.id.DeviceID)) {
		t.Fatalf("SetDeviceList(own without us) = %v %v", publish, err)
	}
	if publish, err := alice.acct.SetDeviceList(ctx, alice.st, own, []uint32{alice.id.DeviceID, 5}); err != nil || publish != nil {
		t.Fatalf("SetDeviceList(own with us) = %v %v", publish, err)
	}
	// Another account's list never asks for a publish.
	bobJID := jid.MustParse("bob@example.org")
	if publish, err := alice.acct.SetDeviceList(ctx, alice.st, bobJID, []uint32{7, 0, 7}); err != nil || publish != nil {
		t.Fatalf("SetDeviceList(bob) = %v %v", publish, err)
	}

	// The spoofing rule the engine applies before SetDeviceList: only a
	// list whose stanza comes from the owner's bare JID (or, for our own
	// list, from no one, i.e. our server) is believed.
	for _, from := range []string{"bob@example.org/res", "example.org", "eve@example.org/bob@example.org"} {
		if _, err := wire.DeviceListOwner(from, alice.jid); !errors.Is(err, wire.ErrSpoofed) {
			t.Errorf("DeviceListOwner(%q) = %v", from, err)
		}
	}
	// eve@example.org can only ever set her own list.
	owner, err := wire.DeviceListOwner("eve@example.org", alice.jid)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice.acct.SetDeviceList(ctx, alice.st, owner, []uint32{666}); err != nil {
		t.Fatal(err)
	}
	bobDevs, _ := alice.acct.Devices(ctx, alice.st, bobJID)
	if len(bobDevs) != 1 || bobDevs[0].Device != 7 || !bobDevs[0].Active {
		t.Fatalf("bob's devices %+v", bobDevs)
	}

	// Devices are never forgotten, only deactivated.
	if _, err := alice.acct.SetDeviceList(ctx, alice.st, bobJID, []uint32{8}); err != nil {
		t.Fatal(err)
	}
	bobDevs, _ = alice.acct.Devices(ctx, alice.st, bobJID)
	if len(bobDevs) != 2 || bobDevs[0].Active || !bobDevs[1].Active {
		t.Fatalf("bob's devices after a new list %+v", bobDevs)
	}

	// Removing one of our old devices at the user's request.
	list, err := alice.acct.RemoveOwnDevice(ctx, alice.st, 5)
	if err != nil || !slices.Equal(list, []uint32{alice.id.DeviceID}) {
		t.Fatalf("RemoveOwnDevice = %v %v", list, err)
	}
	if _, err := alice.acct.RemoveOwnDevice(ctx, alice.st, alice.id.DeviceID); !errors.Is(err, omemo.ErrOwnDevice) {
		t.Fatalf("removing ourselves: %v", err)
	}
	mine, _ := alice.acct.Devices(ctx, alice.st, own)
	if len(mine) != 2 || !mine[slices.IndexFunc(mine, func(d omemo.DeviceInfo) bool { return d.Own })].Active {
		t.Fatalf("own devices %+v", mine)
	}
}

func sortedIDs(ids ...uint32) []uint32 {
	slices.Sort(ids)
	return ids
}

func TestTrustPolicy(t *testing.T) {
	alice := newDevice(t, "alice@example.org", omemo.Options{})
	bob1 := newDevice(t, "bob@example.org/one", omemo.Options{})
	bob2 := newDevice(t, "bob@example.org/two", omemo.Options{})

	alice.learnList(bob1)
	plan, err := alice.acct.Plan(ctx, alice.st, bob1.jid)
	if err != nil || !slices.Equal(plan.NeedBundle, []omemo.Address{bob1.addr()}) || len(plan.Ready) != 0 {
		t.Fatalf("Plan before a session: %+v %v", plan, err)
	}
	alice.knows(bob1)
	plan, _ = alice.acct.Plan(ctx, alice.st, bob1.jid)
	if !slices.Equal(plan.Ready, []omemo.Address{bob1.addr()}) {
		t.Fatalf("Plan with a blindly trusted session: %+v", plan)
	}

	// Alice verifies bob1: from now on bob's new devices need her.
	fp, _ := omemo.Fingerprint(bob1.id.PublicKey)
	if err := alice.acct.Verify(ctx, alice.st, bob1.jid, omemo.FormatFingerprint(strings.ToUpper(fp))); err != nil {
		t.Fatal(err)
	}
	alice.knows(bob2)
	plan, _ = alice.acct.Plan(ctx, alice.st, bob1.jid)
	if !slices.Equal(plan.Ready, []omemo.Address{bob1.addr()}) || !slices.Equal(plan.Untrusted, []omemo.Address{bob2.addr()}) {
		t.Fatalf("Plan after verifying: %+v", plan)
	}
	res, err := alice.acct.Encrypt(ctx, alice.st, []byte("x"), []omemo.Address{bob1.addr(), bob2.addr()})
	if err != nil || len(res.Recipients) != 1 || len(res.Skipped) != 1 || !errors.Is(res.Skipped[0].Err, omemo.ErrUntrusted) ||
		res.Trust != client.TrustVerified {
		t.Fatalf("Encrypt = %+v %v", res, err)
	}
	// Only the undecided device: nothing may be sent.
	if _, err := alice.acct.Encrypt(ctx, alice.st, []byte("x"), []omemo.Address{bob2.addr()}); !errors.Is(err, omemo.ErrNoRecipients) || !errors.Is(err, omemo.ErrUntrusted) {
		t.Fatalf("Encrypt to an undecided device: %v", err)
	}
	// Messages from the undecided device decrypt, marked untrusted.
	bob2.knows(alice)
	got := alice.mustDecrypt(bob2, bob2.encrypt("from the new phone", alice), "from the new phone")
	if got.Trust != client.TrustUntrusted || got.State != omemo.TrustUndecided {
		t.Fatalf("trust %v %v", got.Trust, got.State)
	}
	// The user accepts it.
	fp2, _ := omemo.Fingerprint(bob2.id.PublicKey)
	if addrs, err := alice.acct.SetTrust(ctx, alice.st, bob1.jid, fp2, omemo.TrustBlind); err != nil || !slices.Equal(addrs, []omemo.Address{bob2.addr()}) {
		t.Fatalf("SetTrust = %v %v", addrs, err)
	}
	res, err = alice.acct.Encrypt(ctx, alice.st, []byte("x"), []omemo.Address{bob1.addr(), bob2.addr()})
	if err != nil || len(res.Recipients) != 2 || res.Trust != client.TrustBlind {
		t.Fatalf("Encrypt after accepting: %+v %v", res, err)
	}
	// Distrusting excludes it again, and Plan does not ask for its bundle.
	if err := alice.acct.Distrust(ctx, alice.st, bob1.jid, fp2); err != nil {
		t.Fatal(err)
	}
	plan, _ = alice.acct.Plan(ctx, alice.st, bob1.jid)
	if !slices.Equal(plan.Untrusted, []omemo.Address{bob2.addr()}) {
		t.Fatalf("Plan after distrusting: %+v", plan)
	}
	if err := alice.acct.Verify(ctx, alice.st, bob1.jid, strings.Repeat("ab", 32)); !errors.Is(err, omemo.ErrUnknownFingerprint) {
		t.Fatalf("Verify of an unknown fingerprint: %v", err)
	}
}

func TestFingerprintsAndURIs(t *testing.T) {
	ik := append([]byte{5}, bytes.Repeat([]byte{0xab}, 31)...)
	ik = append(ik, 0x01)
	fp, err := omemo.Fingerprint(ik)
	if err != nil || fp != strings.Repeat("ab", 31)+"01" {
		t.Fatalf("Fingerprint = %q %v", fp, err)
	}
	if got, want := omemo.FormatFingerprint(fp), strings.Repeat("abababab ", 7)+"ababab01"; got != want {
		t.Fatalf("FormatFingerprint = %q, want %q", got, want)
	}
	for _, in := range []string{fp, strings.ToUpper(fp), omemo.FormatFingerprint(fp), "05" + fp, "  " + strings.ReplaceAll(omemo.FormatFingerprint(fp), " ", ":") + "\n"} {
		if got, err := omemo.ParseFingerprint(in); err != nil || got != fp {
			t.Errorf("ParseFingerprint(%q) = %q %v", in, got, err)
		}
	}
	for _, in := range []string{"", fp[:62], fp + "00", "zz" + fp[2:]} {
		if _, err := omemo.ParseFingerprint(in); err == nil {
			t.Errorf("ParseFingerprint(%q) accepted", in)
		}
	}
	if _, err := omemo.Fingerprint(ik[1:]); err == nil {
		t.Error("Fingerprint of a 32-byte key")
	}

	owner := jid.MustParse("juliet@capulet.lit/balcony")
	uri := omemo.URI(owner, []omemo.DeviceFingerprint{{Device: 123, Fingerprint: fp}, {Device: 456, Fingerprint: strings.Repeat("0", 64)}})
	if want := "xmpp:juliet@capulet.lit?omemo-sid-123=" + fp + ";omemo-sid-456=" + strings.Repeat("0", 64); uri != want {
		t.Fatalf("URI = %s", uri)
	}
	j, devs, err := omemo.ParseURI(uri)
	if err != nil || j.String() != "juliet@capulet.lit" || len(devs) != 2 || devs[0].Device != 123 || devs[0].Fingerprint != fp {
		t.Fatalf("ParseURI = %v %+v %v", j, devs, err)
	}
	// Other parameters are ignored; escapes in the address are read.
	if j, devs, err := omemo.ParseURI("xmpp:j%C3%BCliet@capulet.lit?action=message;omemo-sid-9=" + strings.ToUpper(fp)); err != nil ||
		j.Local() != "jüliet" || len(devs) != 1 || devs[0].Fingerprint != fp {
		t.Fatalf("ParseURI with escapes = %v %+v %v", j, devs, err)
	}
	for _, bad := range []string{"", "https://example.org", "xmpp:capulet.lit?omemo-sid-1=" + fp, "xmpp:j@c.lit", "xmpp:j@c.lit?omemo-sid-0=" + fp,
		"xmpp:j@c.lit?omemo-sid-1=" + fp[:10], "xmpp:j@c.lit?omemo-sid-x=" + fp, "xmpp:j@c.lit?message"} {
		if _, _, err := omemo.ParseURI(bad); !errors.Is(err, omemo.ErrInvalidURI) {
			t.Errorf("ParseURI(%q) = %v", bad, err)
		}
	}
}

func TestVerifyURI(t *testing.T) {
	alice := newDevice(t, "alice@example.org", omemo.Options{})
	bob := newDevice(t, "bob@example.org", omemo.Options{})
	uri, err := bob.acct.OwnURI(ctx, bob.st)
	if err != nil {
		t.Fatal(err)
	}
	// Scanned before any session: the key is pre-verified.
	addrs, err := alice.acct.VerifyURI(ctx, alice.st, uri)
	if err != nil || !slices.Equal(addrs, []omemo.Address{bob.addr()}) {
		t.Fatalf("VerifyURI = %v %v", addrs, err)
	}
	alice.knows(bob)
	bob.knows(alice)
	if got := alice.mustDecrypt(bob, bob.encrypt("hi", alice), "hi"); got.Trust != client.TrustVerified {
		t.Fatalf("trust %v", got.Trust)
	}
	// A URI with another key for the device is a mismatch and verifies
	// nothing.
	other := omemo.URI(bob.jid, []omemo.DeviceFingerprint{{Device: bob.id.DeviceID, Fingerprint: strings.Repeat("cd", 32)}})
	if _, err := alice.acct.VerifyURI(ctx, alice.st, other); !errors.Is(err, omemo.ErrFingerprintMismatch) {
		t.Fatalf("VerifyURI mismatch: %v", err)
	}
	// A device announced by URI that then shows another key is refused.
	carol := newDevice(t, "carol@example.org", omemo.Options{})
	fake := omemo.URI(carol.jid, []omemo.DeviceFingerprint{{Device: carol.id.DeviceID, Fingerprint: strings.Repeat("ef", 32)}})
	if _, err := alice.acct.VerifyURI(ctx, alice.st, fake); err != nil {
		t.Fatal(err)
	}
	if err := alice.acct.BuildSession(ctx, alice.st, carol.addr(), carol.bundle()); !errors.Is(err, omemo.ErrIdentityChanged) {
		t.Fatalf("BuildSession against a verified fingerprint: %v", err)
	}
	fp, _ := alice.acct.OwnFingerprint(ctx, alice.st)
	if want, _ := omemo.Fingerprint(alice.id.PublicKey); fp != want {
		t.Fatalf("OwnFingerprint = %s", fp)
	}
}

func TestMalformedBundles(t *testing.T) {
	alice := newDevice(t, "alice@example.org", omemo.Options{})
	bob := newDevice(t, "bob@example.org", omemo.Options{})
	mallory := newDevice(t, "mallory@example.org", omemo.Options{})
	tests := []struct {
		name   string
		modify func(b *wire.Bundle)
	}{
		{"flipped signature bit", func(b *wire.Bundle) { b.SignedPreKeySignature[10] ^= 1 }},
		{"signature by another identity", func(b *wire.Bundle) { b.IdentityKey = mallory.id.PublicKey }},
		{"signed prekey swapped", func(b *wire.Bundle) { b.SignedPreKey = b.PreKeys[0].Public }},
		{"short identity key", func(b *wire.Bundle) { b.IdentityKey = b.IdentityKey[:32] }},
		{"identity key of type 6", func(b *wire.Bundle) { b.IdentityKey = append([]byte{6}, b.IdentityKey[1:]...) }},
		{"empty signed prekey", func(b *wire.Bundle) { b.SignedPreKey = nil }},
		{"short signature", func(b *wire.Bundle) { b.SignedPreKeySignature = b.SignedPreKeySignature[:63] }},
		{"no prekeys", func(b *wire.Bundle) { b.PreKeys = nil }},
		{"empty prekey", func(b *wire.Bundle) { b.PreKeys = []wire.PreKey{{ID: 1}} }},
		{"prekey id 0", func(b *wire.Bundle) { b.PreKeys = []wire.PreKey{{ID: 0, Public: b.PreKeys[0].Public}} }},
		{"all zero keys", func(b *wire.Bundle) {
			z := make([]byte, 33)
			z[0] = 5
			b.IdentityKey, b.SignedPreKey = z, z
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := bob.bundle()
			tt.modify(&b)
			err := alice.acct.BuildSession(ctx, alice.st, bob.addr(), b)
			if !errors.Is(err, omemo.ErrInvalidBundle) {
				t.Fatalf("BuildSession = %v, want ErrInvalidBundle", err)
			}
			if devs, _ := alice.st.SessionDevices(ctx, acctID, bob.jid); len(devs) != 0 {
				t.Fatal("a session was stored")
			}
		})
	}
	if err := alice.acct.BuildSession(ctx, alice.st, alice.addr(), alice.bundle()); !errors.Is(err, omemo.ErrOwnDevice) {
		t.Fatalf("session with ourselves: %v", err)
	}
}

func TestGarbageMessages(t *testing.T) {
	alice := newDevice(t, "alice@example.org", omemo.Options{})
	bob := newDevice(t, "bob@example.org", omemo.Options{})
	alice.knows(bob)
	good := alice.encrypt("real", bob)

	garbage := func(data []byte, prekey bool) wire.Encrypted {
		e := good
		e.Keys = []wire.Key{{RID: bob.id.DeviceID, PreKey: prekey, Data: data}}
		return e
	}
	real := good.Keys[0].Data
	flipped := bytes.Clone(real)
	flipped[len(flipped)/2] ^= 0x40
	tests := []struct {
		name   string
		e      wire.Encrypted
		reason error
	}{
		{"empty", garbage(nil, true), omemo.ErrMalformed},
		{"one byte", garbage([]byte{0x33}, true), omemo.ErrMalformed},
		{"random prekey message", garbage(bytes.Repeat([]byte{0x33, 0x0a, 0x21}, 40), true), omemo.ErrMalformed},
		{"random message", garbage(bytes.Repeat([]byte{0x33, 0x0a, 0x21}, 40), false), omemo.ErrMalformed},
		{"truncated", garbage(real[:len(real)/2], true), omemo.ErrMalformed},
		{"prekey message marked as normal", garbage(real, false), omemo.ErrMalformed},
		{"version 2", garbage(append([]byte{0x22}, real[1:]...), true), omemo.ErrMalformed},
		{"flipped bit", garbage(flipped, true), nil},
		{"bad IV", func() wire.Encrypted { e := good; e.IV = e.IV[:8]; return e }(), omemo.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := bob.decrypt(alice, tt.e)
			var de *omemo.DecryptError
			if !errors.As(err, &de) {
				t.Fatalf("err = %v", err)
			}
			if tt.reason != nil && !errors.Is(err, tt.reason) {
				t.Fatalf("err = %v, want %v", err, tt.reason)
			}
		})
	}
	// Nothing above changed Bob's state: the real message still decrypts,
	// once.
	bob.mustDecrypt(alice, good, "real")

	// A forged payload with a genuine key: the payload fails, and the
	// session does not move, so the genuine message still decrypts.
	m := alice.encrypt("second", bob)
	forged := m
	forged.Payload = bytes.Clone(m.Payload)
	forged.Payload[0] ^= 1
	_, err := bob.decrypt(alice, forged)
	wantReason(t, err, omemo.ErrBadPayload, omemo.RepairNone)
	bob.mustDecrypt(alice, m, "second")

	// A message for a device we have no session with, not a prekey message.
	carol := newDevice(t, "carol@example.org", omemo.Options{})
	carol.knows(bob)
	bob.mustDecrypt(carol, carol.encrypt("one", bob), "one")
	carol.mustDecrypt(bob, bob.encrypt("two", carol), "two")
	normal := carol.encrypt("three", bob)
	if normal.Keys[0].PreKey {
		t.Fatal("expected a normal message")
	}
	_, err = alice.decrypt(carol, withRID(normal, alice.id.DeviceID))
	wantReason(t, err, omemo.ErrNoSession, omemo.RepairNewSession)
	// Someone else's session: bad MAC.
	alice.knows(carol)
	carol.knows(alice)
	alice.mustDecrypt(carol, carol.encrypt("x", alice), "x")
	carol.mustDecrypt(alice, alice.encrypt("y", carol), "y")
	_, err = alice.decrypt(carol, withRID(normal, alice.id.DeviceID))
	wantReason(t, err, omemo.ErrBadMAC, omemo.RepairNewSession)
}

func sealGCM(t *testing.T, key, iv, plaintext []byte) []byte {
	t.Helper()
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCMWithNonceSize(block, len(iv))
	if err != nil {
		t.Fatal(err)
	}
	return gcm.Seal(nil, iv, plaintext, nil)
}

func withRID(e wire.Encrypted, rid uint32) wire.Encrypted {
	e.Keys = slices.Clone(e.Keys)
	for i := range e.Keys {
		e.Keys[i].RID = rid
	}
	return e
}

func TestLegacyPayloads(t *testing.T) {
	key := bytes.Repeat([]byte{1}, 16)
	for _, ivSize := range []int{12, 16} {
		iv := bytes.Repeat([]byte{2}, ivSize)
		sealed := sealGCM(t, key, iv, []byte("legacy"))
		// OMEMO 0.3: key ‖ tag as key material.
		e := wire.Encrypted{IV: iv, Payload: sealed[:len(sealed)-16]}
		pt, err := omemo.OpenPayload(append(bytes.Clone(key), sealed[len(sealed)-16:]...), e)
		if err != nil || string(pt) != "legacy" {
			t.Fatalf("IV %d, 32-byte material: %q %v", ivSize, pt, err)
		}
		// Older clients: a 16-byte key, the tag after the payload.
		e.Payload = sealed
		if pt, err := omemo.OpenPayload(key, e); err != nil || string(pt) != "legacy" {
			t.Fatalf("IV %d, 16-byte material: %q %v", ivSize, pt, err)
		}
	}
	if _, err := omemo.OpenPayload(bytes.Repeat([]byte{1}, 20), wire.Encrypted{IV: make([]byte, 12), Payload: []byte("x")}); !errors.Is(err, omemo.ErrMalformed) {
		t.Fatalf("20-byte key material: %v", err)
	}
	if _, err := omemo.OpenPayload(bytes.Repeat([]byte{1}, 16), wire.Encrypted{IV: make([]byte, 12), Payload: []byte("short")}); !errors.Is(err, omemo.ErrBadPayload) {
		t.Fatalf("payload shorter than the tag: %v", err)
	}
	if pt, err := omemo.OpenPayload(bytes.Repeat([]byte{1}, 16), wire.Encrypted{}); err != nil || pt != nil {
		t.Fatalf("key transport: %v %v", pt, err)
	}
}

func TestKeyTransportAndHeartbeat(t *testing.T) {
	alice := newDevice(t, "alice@example.org", omemo.Options{})
	bob := newDevice(t, "bob@example.org", omemo.Options{})
	bob.knows(alice)
	got := alice.mustDecrypt(bob, bob.encrypt("0", alice), "0")
	if !got.SendKeyTransport {
		t.Fatal("a new session does not ask for a key transport")
	}
	// Alice completes the session with a key transport message.
	res, err := alice.acct.KeyTransport(ctx, alice.st, []omemo.Address{bob.addr()})
	if err != nil || !res.Message.KeyTransport() || res.Trust != client.TrustUnknown {
		t.Fatalf("KeyTransport = %+v %v", res, err)
	}
	if d, err := bob.decrypt(alice, res.Message); err != nil || d.Plaintext != nil {
		t.Fatalf("Decrypt(key transport) = %+v %v", d, err)
	}
	// Bob now sends normal messages; after 53 of them on one chain without
	// an answer, Alice is asked for a heartbeat, once.
	var asked []int
	for i := 1; i <= 120; i++ {
		e := bob.encrypt(fmt.Sprint(i), alice)
		if e.Keys[0].PreKey {
			t.Fatalf("message %d is a prekey message", i)
		}
		if alice.mustDecrypt(bob, e, fmt.Sprint(i)).SendKeyTransport {
			asked = append(asked, i)
		}
	}
	// Bob's chain restarted when Alice's key transport reached him: his
	// message 1 is the first of a chain.
	if !slices.Equal(asked, []int{54, 107}) {
		t.Fatalf("heartbeats asked after messages %v", asked)
	}
	res, err = alice.acct.KeyTransport(ctx, alice.st, []omemo.Address{bob.addr()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bob.decrypt(alice, res.Message); err != nil {
		t.Fatal(err)
	}
	if alice.mustDecrypt(bob, bob.encrypt("fresh chain", alice), "fresh chain").SendKeyTransport {
		t.Fatal("heartbeat asked on a fresh chain")
	}
}

// Encryptions from many goroutines must not reuse message keys: the
// Account serialises them.
func TestConcurrentEncrypt(t *testing.T) {
	alice := newDevice(t, "alice@example.org", omemo.Options{})
	bob := newDevice(t, "bob@example.org", omemo.Options{})
	alice.knows(bob)
	bob.mustDecrypt(alice, alice.encrypt("start", bob), "start")
	alice.mustDecrypt(bob, bob.encrypt("ok", alice), "ok")
	const n = 40
	msgs := make([]wire.Encrypted, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			res, err := alice.acct.Encrypt(ctx, alice.st, []byte(fmt.Sprint(i)), []omemo.Address{bob.addr()})
			if err != nil {
				t.Error(err)
				return
			}
			msgs[i] = res.Message
		})
	}
	wg.Wait()
	order := rand.Perm(n)
	for _, i := range order {
		bob.mustDecrypt(alice, msgs[i], fmt.Sprint(i))
	}
}

// A rolled-back transaction leaves no trace: decrypting again after the
// rollback works, and is not a duplicate.
func TestRollback(t *testing.T) {
	alice := newDevice(t, "alice@example.org", omemo.Options{})
	bob := newDevice(t, "bob@example.org", omemo.Options{})
	alice.knows(bob)
	e := alice.encrypt("once", bob)
	before := bob.st.Snapshot()
	bob.mustDecrypt(alice, e, "once")
	bob.st.Restore(before) // the transaction storing the plaintext failed
	bob.mustDecrypt(alice, e, "once")
	if _, err := bob.decrypt(alice, e); !errors.Is(err, omemo.ErrDuplicate) {
		t.Fatalf("third decryption: %v", err)
	}
}

// A message sent on a session that the receiver has since replaced still
// decrypts with the archived state, which then becomes current again.
func TestPreviousSessionState(t *testing.T) {
	alice := newDevice(t, "alice@example.org", omemo.Options{})
	bob := newDevice(t, "bob@example.org", omemo.Options{})
	alice.knows(bob)
	bob.mustDecrypt(alice, alice.encrypt("start", bob), "start")
	alice.mustDecrypt(bob, bob.encrypt("ok", alice), "ok")
	late := alice.encrypt("sent before the reset", bob)

	kt, err := bob.acct.ResetSession(ctx, bob.st, alice.addr(), alice.bundle())
	if err != nil {
		t.Fatal(err)
	}
	bob.mustDecrypt(alice, late, "sent before the reset")
	if _, err := bob.decrypt(alice, late); !errors.Is(err, omemo.ErrDuplicate) {
		t.Fatalf("replay of the late message: %v", err)
	}
	// The late message made the old state current again; Alice, who also
	// took Bob's new session, decrypts whichever Bob uses.
	if _, err := alice.decrypt(bob, kt); err != nil {
		t.Fatal(err)
	}
	alice.mustDecrypt(bob, bob.encrypt("after the late message", alice), "after the late message")
	bob.mustDecrypt(alice, alice.encrypt("answer", bob), "answer")
}
