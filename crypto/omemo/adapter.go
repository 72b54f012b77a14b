package omemo

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"go.mau.fi/libsignal/ecc"
	"go.mau.fi/libsignal/keys/identity"
	"go.mau.fi/libsignal/protocol"
	"go.mau.fi/libsignal/state/record"

	"github.com/tern-im/tern/protocol/jid"
)

// signalStore implements the store interfaces of go.mau.fi/libsignal over
// a Store, for one operation of one account.
//
// Reads go to the Store; the writes a Signal operation makes (sessions,
// used prekeys, first-seen identity keys) are held back and only reach the
// Store at commit, after the whole operation succeeded — including the
// payload decryption that follows the Signal layer. A failed or forged
// message therefore changes nothing: no ratchet step, no consumed prekey,
// no trust record for a key nobody proved to own.
//
// Private keys are stored as 32 bytes and the key pairs rebuilt with
// ecc.CreateKeyPair: the library's record.NewPreKeyFromBytes and
// NewSignedPreKeyFromBytes rebuild the public key wrongly.
type signalStore struct {
	a    *Account
	st   Store
	me   Identity
	pair *identity.KeyPair

	sessions map[Address][]byte // pending session records
	usedKeys map[uint32]bool    // pending removals of one-time prekeys
	trust    []TrustRecord      // pending first-seen identity keys

	// stored caches the stored trust records per JID for the operation:
	// one decryption asks for them up to three times (IsTrustedIdentity
	// before and after, SaveIdentity), and nothing the operation does
	// changes them before it ends (its own records are in trust; a changed
	// key is recorded on the way out).
	stored map[jid.JID][]TrustRecord
}

func (a *Account) signalStore(st Store, me Identity) *signalStore {
	return &signalStore{
		a:        a,
		st:       st,
		me:       me,
		pair:     a.identityPair(me),
		sessions: make(map[Address][]byte),
		usedKeys: make(map[uint32]bool),
	}
}

// identityPair returns our identity key pair. Deriving the public key is
// a scalar multiplication, which would cost more than the rest of a
// decryption, so the pair is kept for as long as the stored identity stays
// the same. Caller holds a.mu.
func (a *Account) identityPair(me Identity) *identity.KeyPair {
	if a.pair == nil || !bytes.Equal(a.pairOf, me.PrivateKey) {
		pair := ecc.CreateKeyPair(me.PrivateKey)
		a.pair = identity.NewKeyPair(identity.NewKey(pair.PublicKey()), pair.PrivateKey())
		a.pairOf = bytes.Clone(me.PrivateKey)
	}
	return a.pair
}

// commit writes the pending changes to the Store.
func (s *signalStore) commit(ctx context.Context) error {
	addrs := make([]Address, 0, len(s.sessions))
	for addr := range s.sessions {
		addrs = append(addrs, addr)
	}
	slices.SortFunc(addrs, func(x, y Address) int {
		return cmp.Or(cmp.Compare(x.JID.String(), y.JID.String()), cmp.Compare(x.Device, y.Device))
	})
	for _, addr := range addrs {
		if err := s.st.PutSession(ctx, s.a.acct, addr, s.sessions[addr]); err != nil {
			return err
		}
	}
	for id := range s.usedKeys {
		if err := s.st.RemovePreKey(ctx, s.a.acct, id); err != nil {
			return err
		}
	}
	for _, r := range s.trust {
		if err := s.st.SetTrust(ctx, s.a.acct, r); err != nil {
			return err
		}
	}
	return nil
}

// signalAddress returns the library's address of a device.
func signalAddress(addr Address) *protocol.SignalAddress {
	return protocol.NewSignalAddress(addr.JID.String(), addr.Device)
}

// address returns our address of a library address.
func address(sa *protocol.SignalAddress) (Address, error) {
	j, err := jid.Parse(sa.Name())
	if err != nil {
		return Address{}, fmt.Errorf("%w: address %q", ErrMalformed, sa.Name())
	}
	return Address{JID: j.Bare(), Device: sa.DeviceID()}, nil
}

// --- store.IdentityKey

// GetIdentityKeyPair returns our identity key pair.
func (s *signalStore) GetIdentityKeyPair() *identity.KeyPair { return s.pair }

// GetLocalRegistrationID returns our device id, which OMEMO uses as the
// Signal registration id.
func (s *signalStore) GetLocalRegistrationID() uint32 { return s.me.DeviceID }

// SaveIdentity records a device's identity key the first time a session
// with it is made, with the trust the policy gives a new key (see
// Account.newKeyState).
func (s *signalStore) SaveIdentity(ctx context.Context, sa *protocol.SignalAddress, key *identity.Key) error {
	addr, err := address(sa)
	if err != nil {
		return err
	}
	recs, err := s.trustRecords(ctx, addr)
	if err != nil {
		return err
	}
	ik := key.Serialize()
	for _, r := range recs {
		if bytes.Equal(r.IdentityKey, ik) {
			return nil
		}
	}
	state, err := s.a.newKeyState(ctx, s.st, addr, len(recs) > 0)
	if err != nil {
		return err
	}
	now := s.a.opts.Now()
	s.trust = append(s.trust, TrustRecord{Address: addr, IdentityKey: bytes.Clone(ik), State: state, FirstSeen: now, Decided: now})
	return nil
}

// IsTrustedIdentity refuses exactly one thing: a device presenting an
// identity key other than the one we know for it, until the user has
// decided to trust the new key. Everything else — a new device, an
// undecided or distrusted key — is decided in our layer (Encrypt skips
// untrusted devices; Decrypt reports the trust), not here.
func (s *signalStore) IsTrustedIdentity(ctx context.Context, sa *protocol.SignalAddress, key *identity.Key) (bool, error) {
	addr, err := address(sa)
	if err != nil {
		return false, err
	}
	recs, err := s.trustRecords(ctx, addr)
	if err != nil {
		return false, err
	}
	return keyAccepted(recs, key.Serialize()), nil
}

// keyAccepted applies IsTrustedIdentity's rule to the trust records of one
// device.
func keyAccepted(recs []TrustRecord, ik []byte) bool {
	if len(recs) == 0 {
		return true
	}
	for _, r := range recs {
		if bytes.Equal(r.IdentityKey, ik) {
			// The only key ever seen for the device; or one of several,
			// which the user has trusted explicitly.
			return len(recs) == 1 || r.State == TrustBlind || r.State == TrustVerified
		}
	}
	return false
}

// trustRecords returns the trust records of one device, pending ones
// included.
func (s *signalStore) trustRecords(ctx context.Context, addr Address) ([]TrustRecord, error) {
	all, ok := s.stored[addr.JID]
	if !ok {
		var err error
		if all, err = s.st.Trusts(ctx, s.a.acct, addr.JID); err != nil {
			return nil, err
		}
		if s.stored == nil {
			s.stored = make(map[jid.JID][]TrustRecord)
		}
		s.stored[addr.JID] = all
	}
	var out []TrustRecord
	for _, r := range all {
		if r.Device == addr.Device {
			out = append(out, r)
		}
	}
	for _, r := range s.trust {
		if r.Address == addr {
			out = append(out, r)
		}
	}
	return out, nil
}

// --- store.PreKey

// LoadPreKey returns one of our one-time prekeys, or nil when there is no
// such key (the library then reports ErrNoOneTimeKeyFound).
func (s *signalStore) LoadPreKey(ctx context.Context, id uint32) (*record.PreKey, error) {
	if s.usedKeys[id] {
		return nil, nil
	}
	pk, err := s.st.PreKey(ctx, s.a.acct, id)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	pair, err := keyPair(pk.PrivateKey, pk.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("prekey %d: %w", id, err)
	}
	return record.NewPreKey(pk.ID, pair, s.a.ser.PreKeyRecord), nil
}

// StorePreKey stores a one-time prekey.
func (s *signalStore) StorePreKey(ctx context.Context, id uint32, r *record.PreKey) error {
	priv := r.KeyPair().PrivateKey().Serialize()
	delete(s.usedKeys, id)
	return s.st.PutPreKeys(ctx, s.a.acct, PreKey{ID: id, PublicKey: r.KeyPair().PublicKey().Serialize(), PrivateKey: priv[:]})
}

// ContainsPreKey reports whether we have a one-time prekey.
func (s *signalStore) ContainsPreKey(ctx context.Context, id uint32) (bool, error) {
	r, err := s.LoadPreKey(ctx, id)
	return r != nil, err
}

// RemovePreKey marks a one-time prekey used; it is deleted at commit.
func (s *signalStore) RemovePreKey(_ context.Context, id uint32) error {
	s.usedKeys[id] = true
	return nil
}

// --- store.SignedPreKey

// LoadSignedPreKey returns one of our signed prekeys, or nil when there is
// no such key (the library then reports ErrNoSignedPreKey).
func (s *signalStore) LoadSignedPreKey(ctx context.Context, id uint32) (*record.SignedPreKey, error) {
	k, err := s.st.SignedPreKey(ctx, s.a.acct, id)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return s.signedRecord(k)
}

func (s *signalStore) signedRecord(k SignedPreKey) (*record.SignedPreKey, error) {
	pair, err := keyPair(k.PrivateKey, k.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("signed prekey %d: %w", k.ID, err)
	}
	if len(k.Signature) != 64 {
		return nil, fmt.Errorf("%w: signed prekey %d has a signature of %d bytes", ErrMalformed, k.ID, len(k.Signature))
	}
	return record.NewSignedPreKey(k.ID, k.Created.UnixMilli(), pair, [64]byte(k.Signature), s.a.ser.SignedPreKeyRecord), nil
}

// LoadSignedPreKeys returns all our signed prekeys.
func (s *signalStore) LoadSignedPreKeys(ctx context.Context) ([]*record.SignedPreKey, error) {
	ks, err := s.st.SignedPreKeys(ctx, s.a.acct)
	if err != nil {
		return nil, err
	}
	out := make([]*record.SignedPreKey, 0, len(ks))
	for _, k := range ks {
		r, err := s.signedRecord(k)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// StoreSignedPreKey stores a signed prekey.
func (s *signalStore) StoreSignedPreKey(ctx context.Context, id uint32, r *record.SignedPreKey) error {
	priv := r.KeyPair().PrivateKey().Serialize()
	sig := r.Signature()
	return s.st.PutSignedPreKey(ctx, s.a.acct, SignedPreKey{
		ID: id, PublicKey: r.KeyPair().PublicKey().Serialize(), PrivateKey: priv[:], Signature: sig[:],
		Created: s.a.opts.Now(),
	})
}

// ContainsSignedPreKey reports whether we have a signed prekey.
func (s *signalStore) ContainsSignedPreKey(ctx context.Context, id uint32) (bool, error) {
	r, err := s.LoadSignedPreKey(ctx, id)
	return r != nil, err
}

// RemoveSignedPreKey deletes a signed prekey.
func (s *signalStore) RemoveSignedPreKey(ctx context.Context, id uint32) error {
	return s.st.RemoveSignedPreKey(ctx, s.a.acct, id)
}

// --- store.Session

// LoadSession returns the session with a device; for a device without one
// an empty record, as the library requires (never nil).
func (s *signalStore) LoadSession(ctx context.Context, sa *protocol.SignalAddress) (*record.Session, error) {
	addr, err := address(sa)
	if err != nil {
		return nil, err
	}
	b, ok := s.sessions[addr]
	if !ok {
		b, err = s.st.Session(ctx, s.a.acct, addr)
		if errors.Is(err, ErrNotFound) {
			return record.NewSession(s.a.ser.Session, s.a.ser.State), nil
		}
		if err != nil {
			return nil, err
		}
	}
	r, err := record.NewSessionFromBytes(b, s.a.ser.Session, s.a.ser.State)
	if err != nil {
		return nil, fmt.Errorf("%w: stored session with %s/%d: %w", ErrMalformed, addr.JID, addr.Device, err)
	}
	return r, nil
}

// GetSubDeviceSessions returns the devices of a JID we have sessions with.
func (s *signalStore) GetSubDeviceSessions(ctx context.Context, name string) ([]uint32, error) {
	j, err := jid.Parse(name)
	if err != nil {
		return nil, fmt.Errorf("%w: address %q", ErrMalformed, name)
	}
	ids, err := s.st.SessionDevices(ctx, s.a.acct, j.Bare())
	if err != nil {
		return nil, err
	}
	for addr := range s.sessions {
		if addr.JID == j.Bare() && !slices.Contains(ids, addr.Device) {
			ids = append(ids, addr.Device)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// StoreSession keeps a session record until commit. Only initialised
// sessions are kept: the library cannot read back a record whose state is
// empty.
func (s *signalStore) StoreSession(_ context.Context, sa *protocol.SignalAddress, r *record.Session) error {
	addr, err := address(sa)
	if err != nil {
		return err
	}
	if !r.SessionState().HasSenderChain() {
		return fmt.Errorf("%w: refusing to store an uninitialised session", ErrNoSession)
	}
	s.sessions[addr] = r.Serialize()
	return nil
}

// ContainsSession reports whether we have a session with a device.
func (s *signalStore) ContainsSession(ctx context.Context, sa *protocol.SignalAddress) (bool, error) {
	addr, err := address(sa)
	if err != nil {
		return false, err
	}
	if _, ok := s.sessions[addr]; ok {
		return true, nil
	}
	_, err = s.st.Session(ctx, s.a.acct, addr)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// DeleteSession deletes the session with a device.
func (s *signalStore) DeleteSession(ctx context.Context, sa *protocol.SignalAddress) error {
	addr, err := address(sa)
	if err != nil {
		return err
	}
	delete(s.sessions, addr)
	return s.st.DeleteSession(ctx, s.a.acct, addr)
}

// errNotSupported is returned by DeleteAllSessions.
var errNotSupported = errors.New("omemo: not supported")

// DeleteAllSessions is not supported: sessions are deleted per JID
// (Store.DeleteSessions). The library never calls it.
func (s *signalStore) DeleteAllSessions(context.Context) error { return errNotSupported }

// keyPair rebuilds a key pair from its 32-byte private key and checks it
// against the stored public key.
func keyPair(priv, pub []byte) (*ecc.ECKeyPair, error) {
	if len(priv) != 32 {
		return nil, fmt.Errorf("%w: private key of %d bytes", ErrMalformed, len(priv))
	}
	pair := ecc.CreateKeyPair(priv)
	if !bytes.Equal(pair.PublicKey().Serialize(), pub) {
		return nil, fmt.Errorf("%w: public key does not match the private key", ErrMalformed)
	}
	return pair, nil
}
