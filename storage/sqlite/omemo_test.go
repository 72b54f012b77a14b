package sqlite_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/tern-im/tern/crypto/omemo"
	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/storage/sqlite"
)

// omemoUpdate runs fn with the transaction as the OMEMO layer sees it.
func (e *env) omemoUpdate(fn func(st omemo.Store) error) error {
	return e.db.Update(e.t.Context(), func(tx client.Tx) error {
		st, ok := tx.(omemo.Store)
		if !ok {
			e.t.Fatalf("%T does not implement omemo.Store", tx)
		}
		return fn(st)
	})
}

func random(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func pubKey() []byte { return append([]byte{5}, random(32)...) }

type secrets struct {
	identity omemo.Identity
	preKeys  []omemo.PreKey
	signed   omemo.SignedPreKey
	session  []byte
}

func storeSecrets(t *testing.T, e *env) secrets {
	t.Helper()
	s := secrets{
		identity: omemo.Identity{DeviceID: 1234567, PublicKey: pubKey(), PrivateKey: random(32), Created: t0},
		signed:   omemo.SignedPreKey{ID: 1, PublicKey: pubKey(), PrivateKey: random(32), Signature: random(64), Created: t0},
		session:  append([]byte(`{"SessionState":{"RootKey":"`), random(64)...),
	}
	for i := range 100 {
		s.preKeys = append(s.preKeys, omemo.PreKey{ID: uint32(i + 1), PublicKey: pubKey(), PrivateKey: random(32)})
	}
	err := e.omemoUpdate(func(st omemo.Store) error {
		if err := st.PutIdentity(ctx(t), e.acct, s.identity); err != nil {
			return err
		}
		if err := st.PutPreKeys(ctx(t), e.acct, s.preKeys...); err != nil {
			return err
		}
		if err := st.PutSignedPreKey(ctx(t), e.acct, s.signed); err != nil {
			return err
		}
		return st.PutSession(ctx(t), e.acct, omemo.Address{JID: jid.MustParse(juliet), Device: 42}, s.session)
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestOMEMORoundTrip(t *testing.T) {
	e := newEnv(t)
	s := storeSecrets(t, e)
	jul := jid.MustParse(juliet)
	err := e.omemoUpdate(func(st omemo.Store) error {
		id, err := st.Identity(ctx(t), e.acct)
		if err != nil || !equalJSON(id, s.identity) {
			t.Errorf("identity %+v, %v", id, err)
		}
		pk, err := st.PreKey(ctx(t), e.acct, 57)
		if err != nil || !equalJSON(pk, s.preKeys[56]) {
			t.Errorf("prekey 57: %+v, %v", pk, err)
		}
		all, err := st.PreKeys(ctx(t), e.acct)
		if err != nil || !equalJSON(all, s.preKeys) {
			t.Errorf("prekeys: %d, %v", len(all), err)
		}
		if err := st.RemovePreKey(ctx(t), e.acct, 57); err != nil {
			return err
		}
		if _, err := st.PreKey(ctx(t), e.acct, 57); !errors.Is(err, omemo.ErrNotFound) {
			t.Errorf("removed prekey: %v", err)
		}
		spk, err := st.SignedPreKey(ctx(t), e.acct, 1)
		if err != nil || !equalJSON(spk, s.signed) {
			t.Errorf("signed prekey %+v, %v", spk, err)
		}
		newer := omemo.SignedPreKey{ID: 2, PublicKey: pubKey(), PrivateKey: random(32), Signature: random(64), Created: t0.Add(time.Hour)}
		if err := st.PutSignedPreKey(ctx(t), e.acct, newer); err != nil {
			return err
		}
		spks, err := st.SignedPreKeys(ctx(t), e.acct)
		if err != nil || len(spks) != 2 || spks[0].ID != 1 || spks[1].ID != 2 {
			t.Errorf("signed prekeys %+v, %v", spks, err)
		}
		if err := st.RemoveSignedPreKey(ctx(t), e.acct, 1); err != nil {
			return err
		}
		rec, err := st.Session(ctx(t), e.acct, omemo.Address{JID: jul, Device: 42})
		if err != nil || !bytes.Equal(rec, s.session) {
			t.Errorf("session: %v", err)
		}
		if _, err := st.Session(ctx(t), e.acct, omemo.Address{JID: jul, Device: 43}); !errors.Is(err, omemo.ErrNotFound) {
			t.Errorf("missing session: %v", err)
		}
		if err := st.PutSession(ctx(t), e.acct, omemo.Address{JID: jul, Device: 7}, []byte("other")); err != nil {
			return err
		}
		devs, err := st.SessionDevices(ctx(t), e.acct, jul)
		if err != nil || !slices.Equal(devs, []uint32{7, 42}) {
			t.Errorf("session devices %v, %v", devs, err)
		}
		if err := st.DeleteSession(ctx(t), e.acct, omemo.Address{JID: jul, Device: 7}); err != nil {
			return err
		}
		if devs, _ := st.SessionDevices(ctx(t), e.acct, jul); !slices.Equal(devs, []uint32{42}) {
			t.Errorf("after deleting one session: %v", devs)
		}
		if err := st.DeleteSessions(ctx(t), e.acct, jul); err != nil {
			return err
		}
		if devs, _ := st.SessionDevices(ctx(t), e.acct, jul); len(devs) != 0 {
			t.Errorf("after deleting all sessions: %v", devs)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Another account has nothing.
	other := e.account(jid.MustParse("benvolio@montague.example"))
	e.omemoUpdate(func(st omemo.Store) error {
		if _, err := st.Identity(ctx(t), other); !errors.Is(err, omemo.ErrNotFound) {
			t.Errorf("the other account's identity: %v", err)
		}
		return nil
	})
}

func equalJSON(a, b any) bool {
	return sprintAll(a) == sprintAll(b)
}

func TestOMEMODevicesAndTrust(t *testing.T) {
	e := newEnv(t)
	jul := jid.MustParse(juliet)
	e.omemoUpdate(func(st omemo.Store) error {
		if err := st.SetDeviceList(ctx(t), e.acct, jul, []uint32{1, 2, 3}, t0); err != nil {
			t.Fatal(err)
		}
		if err := st.SetDeviceList(ctx(t), e.acct, jul, []uint32{3, 4}, t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		devs, err := st.Devices(ctx(t), e.acct, jul)
		want := []omemo.Device{
			{ID: 1, Active: false, FirstSeen: t0, LastSeen: t0},
			{ID: 2, Active: false, FirstSeen: t0, LastSeen: t0},
			{ID: 3, Active: true, FirstSeen: t0, LastSeen: t0.Add(time.Hour)},
			{ID: 4, Active: true, FirstSeen: t0.Add(time.Hour), LastSeen: t0.Add(time.Hour)},
		}
		if err != nil || !equalJSON(devs, want) {
			t.Errorf("devices %+v, %v", devs, err)
		}
		for _, bad := range [][]uint32{{0}, {1 << 31}} {
			if err := st.SetDeviceList(ctx(t), e.acct, jul, bad, t0); !errors.Is(err, sqlite.ErrInvalid) {
				t.Errorf("device list %v: %v", bad, err)
			}
		}

		addr := omemo.Address{JID: jul, Device: 3}
		k1, k2 := pubKey(), pubKey()
		if err := st.SetTrust(ctx(t), e.acct, omemo.TrustRecord{Address: addr, IdentityKey: k1, State: omemo.TrustBlind, FirstSeen: t0, Decided: t0}); err != nil {
			t.Fatal(err)
		}
		// Verification later keeps FirstSeen.
		if err := st.SetTrust(ctx(t), e.acct, omemo.TrustRecord{Address: addr, IdentityKey: k1, State: omemo.TrustVerified, Decided: t0.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		r, err := st.Trust(ctx(t), e.acct, addr, k1)
		if err != nil || r.State != omemo.TrustVerified || !r.FirstSeen.Equal(t0) || !r.Decided.Equal(t0.Add(time.Hour)) || r.Address != addr {
			t.Errorf("trust %+v, %v", r, err)
		}
		// A changed identity key is a record of its own.
		if _, err := st.Trust(ctx(t), e.acct, addr, k2); !errors.Is(err, omemo.ErrNotFound) {
			t.Errorf("unknown key: %v", err)
		}
		if err := st.SetTrust(ctx(t), e.acct, omemo.TrustRecord{Address: addr, IdentityKey: k2, State: omemo.TrustUndecided, FirstSeen: t0.Add(2 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		rs, err := st.Trusts(ctx(t), e.acct, jul)
		if err != nil || len(rs) != 2 || !bytes.Equal(rs[0].IdentityKey, k1) || rs[1].State != omemo.TrustUndecided {
			t.Errorf("trusts %+v, %v", rs, err)
		}
		// Removing the device forgets its trust and session.
		if err := st.PutSession(ctx(t), e.acct, addr, []byte("s")); err != nil {
			t.Fatal(err)
		}
		if err := st.DeleteDevice(ctx(t), e.acct, addr); err != nil {
			t.Fatal(err)
		}
		if rs, _ := st.Trusts(ctx(t), e.acct, jul); len(rs) != 0 {
			t.Errorf("trusts after removing the device: %v", rs)
		}
		if _, err := st.Session(ctx(t), e.acct, addr); !errors.Is(err, omemo.ErrNotFound) {
			t.Errorf("session after removing the device: %v", err)
		}
		return nil
	})
}

// TestOMEMOStateCommitsWithTheMessage: a ratchet step and the plaintext it
// produced are stored together or not at all.
func TestOMEMOStateCommitsWithTheMessage(t *testing.T) {
	e := newEnv(t)
	c := e.conv(e.acct, juliet)
	addr := omemo.Address{JID: jid.MustParse(juliet), Device: 9}
	e.omemoUpdate(func(st omemo.Store) error { return st.PutSession(ctx(t), e.acct, addr, []byte("ratchet 1")) })
	crash := errors.New("crashed before the message was stored")
	err := e.db.Update(ctx(t), func(tx client.Tx) error {
		st := tx.(omemo.Store)
		if err := st.PutSession(ctx(t), e.acct, addr, []byte("ratchet 2")); err != nil {
			return err
		}
		if err := st.RemovePreKey(ctx(t), e.acct, 5); err != nil {
			return err
		}
		return crash
	})
	mustErr(t, err, crash)
	e.omemoUpdate(func(st omemo.Store) error {
		if rec, _ := st.Session(ctx(t), e.acct, addr); string(rec) != "ratchet 1" {
			t.Errorf("session after a failed transaction: %q", rec)
		}
		return nil
	})
	err = e.db.Update(ctx(t), func(tx client.Tx) error {
		if err := tx.(omemo.Store).PutSession(ctx(t), e.acct, addr, []byte("ratchet 2")); err != nil {
			return err
		}
		m := msg(c, juliet, 1, "decrypted text")
		m.Encryption, m.SenderDevice, m.Trust = client.EncryptionOMEMO, 9, client.TrustBlind
		_, err := tx.InsertMessages(ctx(t), []client.Message{m})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	e.omemoUpdate(func(st omemo.Store) error {
		if rec, _ := st.Session(ctx(t), e.acct, addr); string(rec) != "ratchet 2" {
			t.Errorf("session after the commit: %q", rec)
		}
		return nil
	})
}

// TestNoSecretInClear stores keys and a session, then searches the
// database files for them.
func TestNoSecretInClear(t *testing.T) {
	e := newEnv(t)
	s := storeSecrets(t, e)
	check := func(when string) {
		var all []byte
		for _, suffix := range []string{"", "-wal", "-shm"} {
			b, _ := os.ReadFile(e.path + suffix)
			all = append(all, b...)
		}
		if !bytes.Contains(all, s.identity.PublicKey) {
			t.Fatalf("%s: the public identity key is not in the files: the search is broken", when)
		}
		secrets := [][]byte{s.identity.PrivateKey, s.signed.PrivateKey, s.session[len(s.session)-32:]}
		for _, k := range s.preKeys {
			secrets = append(secrets, k.PrivateKey)
		}
		for i, sec := range secrets {
			if bytes.Contains(all, sec) {
				t.Errorf("%s: secret %d is in the database files in clear", when, i)
			}
		}
	}
	check("open") // in the WAL
	e.db.Close()
	check("closed") // checkpointed into the database
}

func TestSealedBlobsStayInTheirRows(t *testing.T) {
	e := newEnv(t)
	sealer := newSealer(t)
	e.db.Close()
	db := openAt(t, e.path, sqlite.Options{Sealer: sealer})
	e.db = db
	storeSecrets(t, e)
	jul := jid.MustParse(juliet)
	e.omemoUpdate(func(st omemo.Store) error {
		return st.PutSession(ctx(t), e.acct, omemo.Address{JID: jul, Device: 43}, []byte("another session"))
	})
	db.Close()

	// Swap blobs between rows behind the store's back.
	r := raw(t, e.path)
	for _, q := range []string{
		`UPDATE omemo_sessions SET record_sealed = (SELECT record_sealed FROM omemo_sessions WHERE device = 42) WHERE device = 43`,
		`UPDATE omemo_prekeys SET private_sealed = (SELECT private_sealed FROM omemo_prekeys WHERE id = 1) WHERE id = 2`,
		`UPDATE omemo_identity SET device_id = 7654321`,
	} {
		if _, err := r.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	r.Close()
	e.db = openAt(t, e.path, sqlite.Options{Sealer: sealer})
	e.omemoUpdate(func(st omemo.Store) error {
		if _, err := st.Session(ctx(t), e.acct, omemo.Address{JID: jul, Device: 43}); !errors.Is(err, sqlite.ErrUnseal) {
			t.Errorf("a session blob moved to another device opened: %v", err)
		}
		if _, err := st.Session(ctx(t), e.acct, omemo.Address{JID: jul, Device: 42}); err != nil {
			t.Errorf("the untouched session: %v", err)
		}
		if _, err := st.PreKey(ctx(t), e.acct, 2); !errors.Is(err, sqlite.ErrUnseal) {
			t.Errorf("a prekey blob moved to another id opened: %v", err)
		}
		if _, err := st.PreKey(ctx(t), e.acct, 1); err != nil {
			t.Errorf("the untouched prekey: %v", err)
		}
		if _, err := st.Identity(ctx(t), e.acct); !errors.Is(err, sqlite.ErrUnseal) {
			t.Errorf("an identity with a changed device id opened: %v", err)
		}
		return nil
	})
	e.db.Close()
	// With another data key nothing opens.
	e.db = openAt(t, e.path, sqlite.Options{Sealer: newSealer(t)})
	e.omemoUpdate(func(st omemo.Store) error {
		if _, err := st.PreKey(ctx(t), e.acct, 1); !errors.Is(err, sqlite.ErrUnseal) {
			t.Errorf("opened with the wrong key: %v", err)
		}
		return nil
	})
}

func TestWithoutSealer(t *testing.T) {
	path := t.TempDir() + "/tern.db"
	e := &env{t: t, db: openAt(t, path, sqlite.Options{}), path: path, me: jid.MustParse(romeo)}
	e.acct = e.account(e.me)
	err := e.omemoUpdate(func(st omemo.Store) error {
		return st.PutIdentity(ctx(t), e.acct, omemo.Identity{DeviceID: 1, PublicKey: pubKey(), PrivateKey: random(32)})
	})
	mustErr(t, err, sqlite.ErrNoSealer)
	err = e.omemoUpdate(func(st omemo.Store) error {
		return st.PutSession(ctx(t), e.acct, omemo.Address{JID: jid.MustParse(juliet), Device: 1}, []byte("x"))
	})
	mustErr(t, err, sqlite.ErrNoSealer)
	// What is not secret works.
	err = e.omemoUpdate(func(st omemo.Store) error {
		return st.SetDeviceList(ctx(t), e.acct, jid.MustParse(juliet), []uint32{1}, t0)
	})
	if err != nil {
		t.Error(err)
	}
}
