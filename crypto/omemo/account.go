package omemo

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"slices"
	"sync"
	"time"

	"go.mau.fi/libsignal/ecc"
	"go.mau.fi/libsignal/keys/identity"
	"go.mau.fi/libsignal/serialize"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/omemo"
)

// Defaults of Options.
const (
	// DefaultPreKeys is how many one-time prekeys a bundle offers.
	DefaultPreKeys = 100
	// DefaultSignedPreKeyRotation is how old the signed prekey gets before
	// RotateSignedPreKey replaces it.
	DefaultSignedPreKeyRotation = 7 * 24 * time.Hour
	// DefaultSignedPreKeyGrace is how long a replaced signed prekey is
	// kept, so that sessions started from a bundle fetched before the
	// rotation (a message that waited in an archive) still work.
	DefaultSignedPreKeyGrace = 4 * 7 * 24 * time.Hour
	// DefaultHeartbeatAfter is how many messages may arrive on one
	// receiving chain before a key-transport message answers, to move the
	// ratchet forward (python-omemo's staleness number).
	DefaultHeartbeatAfter = 53
)

// maxPreKeyID is the largest one-time prekey id we generate. The Signal
// libraries treat ids as 24-bit ("medium") numbers, and go.mau.fi/libsignal
// never deletes a prekey with id 0xFFFFFF, so our ids stay below it.
const maxPreKeyID = 0xFFFFFE

// Options configures an Account. The zero value uses the defaults.
type Options struct {
	// PreKeys is how many one-time prekeys the bundle offers
	// (DefaultPreKeys; at most omemo.MaxPreKeys).
	PreKeys int
	// SignedPreKeyRotation is the age at which the signed prekey is
	// replaced (DefaultSignedPreKeyRotation); SignedPreKeyGrace is how long
	// a replaced one is kept (DefaultSignedPreKeyGrace).
	SignedPreKeyRotation, SignedPreKeyGrace time.Duration
	// HeartbeatAfter is how many messages may arrive on one receiving
	// chain before Decrypt asks for a key-transport message
	// (DefaultHeartbeatAfter).
	HeartbeatAfter int
	// Now returns the current time (time.Now); tests set it.
	Now func() time.Time
	// Logger receives diagnostics, never keys or plaintext; nil discards
	// them.
	Logger *slog.Logger
}

// Account is the OMEMO layer of one XMPP account: its own device, its
// sessions and its trust decisions, kept in a Store. Every method takes
// the Store to use — the transaction of the caller — so that what a
// method changes commits or rolls back with everything else the caller
// does in that transaction.
//
// An Account is safe for concurrent use: its methods run one at a time.
type Account struct {
	acct client.AccountID
	own  jid.JID // bare
	opts Options
	log  *slog.Logger
	ser  *serialize.Serializer

	// mu serialises all work with Signal sessions of this account:
	// go.mau.fi/libsignal is not safe for concurrent use, and two
	// concurrent encryptions on one session would reuse a message key.
	// Every exported method holds it for its whole run. It also guards
	// pair and pairOf, our identity key pair and the private key it was
	// derived from (see identityPair).
	mu     sync.Mutex
	pair   *identity.KeyPair
	pairOf []byte
}

// New returns the OMEMO layer of account acct, whose address is own (the
// resource is ignored). Call Setup before anything else.
func New(acct client.AccountID, own jid.JID, opts Options) *Account {
	if opts.PreKeys <= 0 {
		opts.PreKeys = DefaultPreKeys
	}
	opts.PreKeys = min(opts.PreKeys, omemo.MaxPreKeys)
	if opts.SignedPreKeyRotation <= 0 {
		opts.SignedPreKeyRotation = DefaultSignedPreKeyRotation
	}
	if opts.SignedPreKeyGrace <= 0 {
		opts.SignedPreKeyGrace = DefaultSignedPreKeyGrace
	}
	if opts.HeartbeatAfter <= 0 {
		opts.HeartbeatAfter = DefaultHeartbeatAfter
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Account{acct: acct, own: own.Bare(), opts: opts, log: log, ser: serialize.NewProtoBufSerializer()}
}

// JID returns the account's bare JID.
func (a *Account) JID() jid.JID { return a.own }

// Setup creates this account's OMEMO device the first time it is called
// for a store: a random device id in 1..2³¹−1 that no device of the account
// has used, an identity key, PreKeys one-time prekeys and a signed prekey.
// Later calls return the stored device. created reports that a device was
// made now: publish its bundle (Bundle) and add it to the device list.
func (a *Account) Setup(ctx context.Context, st Store) (id Identity, created bool, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	id, err = st.Identity(ctx, a.acct)
	if err == nil {
		return id, false, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return Identity{}, false, fmt.Errorf("omemo setup: %w", err)
	}
	known, err := st.Devices(ctx, a.acct, a.own)
	if err != nil {
		return Identity{}, false, fmt.Errorf("omemo setup: %w", err)
	}
	taken := make(map[uint32]bool, len(known))
	for _, d := range known {
		taken[d.ID] = true
	}
	device, err := newDeviceID(taken)
	if err != nil {
		return Identity{}, false, fmt.Errorf("omemo setup: %w", err)
	}
	pair, err := ecc.GenerateKeyPair()
	if err != nil {
		return Identity{}, false, fmt.Errorf("omemo setup: %w", err)
	}
	priv := pair.PrivateKey().Serialize()
	now := a.opts.Now()
	id = Identity{DeviceID: device, PublicKey: pair.PublicKey().Serialize(), PrivateKey: priv[:], Created: now}
	if err := st.PutIdentity(ctx, a.acct, id); err != nil {
		return Identity{}, false, fmt.Errorf("omemo setup: %w", err)
	}
	pks, err := generatePreKeys(1, a.opts.PreKeys, nil)
	if err != nil {
		return Identity{}, false, fmt.Errorf("omemo setup: %w", err)
	}
	if err := st.PutPreKeys(ctx, a.acct, pks...); err != nil {
		return Identity{}, false, fmt.Errorf("omemo setup: %w", err)
	}
	spk, err := newSignedPreKey(id, 1, now)
	if err != nil {
		return Identity{}, false, fmt.Errorf("omemo setup: %w", err)
	}
	if err := st.PutSignedPreKey(ctx, a.acct, spk); err != nil {
		return Identity{}, false, fmt.Errorf("omemo setup: %w", err)
	}
	a.log.Info("omemo: created device", "device", device)
	return id, true, nil
}

// identity returns our device or ErrNoIdentity.
func (a *Account) identity(ctx context.Context, st Store) (Identity, error) {
	id, err := st.Identity(ctx, a.acct)
	if errors.Is(err, ErrNotFound) {
		return Identity{}, ErrNoIdentity
	}
	if err != nil {
		return Identity{}, err
	}
	if !omemo.ValidID(id.DeviceID) || !omemo.ValidKey(id.PublicKey) || len(id.PrivateKey) != 32 {
		return Identity{}, fmt.Errorf("%w: stored identity is corrupt", ErrMalformed)
	}
	return id, nil
}

// DeviceID returns our device id.
func (a *Account) DeviceID(ctx context.Context, st Store) (uint32, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	id, err := a.identity(ctx, st)
	if err != nil {
		return 0, err
	}
	return id.DeviceID, nil
}

// Bundle returns our bundle to publish: the identity key, the newest
// signed prekey and every one-time prekey.
func (a *Account) Bundle(ctx context.Context, st Store) (omemo.Bundle, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	id, err := a.identity(ctx, st)
	if err != nil {
		return omemo.Bundle{}, fmt.Errorf("omemo bundle: %w", err)
	}
	spks, err := a.signedPreKeys(ctx, st)
	if err != nil {
		return omemo.Bundle{}, fmt.Errorf("omemo bundle: %w", err)
	}
	if len(spks) == 0 {
		return omemo.Bundle{}, fmt.Errorf("omemo bundle: no signed prekey")
	}
	spk := spks[len(spks)-1]
	pks, err := st.PreKeys(ctx, a.acct)
	if err != nil {
		return omemo.Bundle{}, fmt.Errorf("omemo bundle: %w", err)
	}
	slices.SortFunc(pks, func(x, y PreKey) int { return cmp.Compare(x.ID, y.ID) })
	b := omemo.Bundle{
		SignedPreKeyID:        spk.ID,
		SignedPreKey:          spk.PublicKey,
		SignedPreKeySignature: spk.Signature,
		IdentityKey:           id.PublicKey,
	}
	for _, pk := range pks {
		b.PreKeys = append(b.PreKeys, omemo.PreKey{ID: pk.ID, Public: pk.PublicKey})
	}
	if len(b.PreKeys) > omemo.MaxPreKeys {
		b.PreKeys = b.PreKeys[:omemo.MaxPreKeys]
	}
	if err := b.Validate(); err != nil {
		return omemo.Bundle{}, fmt.Errorf("omemo bundle: %w", err)
	}
	return b, nil
}

// signedPreKeys returns our signed prekeys, oldest first.
func (a *Account) signedPreKeys(ctx context.Context, st Store) ([]SignedPreKey, error) {
	spks, err := st.SignedPreKeys(ctx, a.acct)
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(spks, func(x, y SignedPreKey) int {
		if c := x.Created.Compare(y.Created); c != 0 {
			return c
		}
		return cmp.Compare(x.ID, y.ID)
	})
	return spks, nil
}

// ReplenishPreKeys tops the one-time prekeys up to Options.PreKeys after
// some were used, and reports whether it added any: then publish the new
// Bundle. Call it after Decrypt reports PreKeyUsed, once a catch-up has
// ended (a catch-up may use several).
func (a *Account) ReplenishPreKeys(ctx context.Context, st Store) (bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, err := a.identity(ctx, st); err != nil {
		return false, fmt.Errorf("omemo prekeys: %w", err)
	}
	pks, err := st.PreKeys(ctx, a.acct)
	if err != nil {
		return false, fmt.Errorf("omemo prekeys: %w", err)
	}
	missing := a.opts.PreKeys - len(pks)
	if missing <= 0 {
		return false, nil
	}
	// New ids continue after the highest one, so that an id that was
	// just used is not handed out again right away.
	taken := make(map[uint32]bool, len(pks))
	var last uint32
	for _, pk := range pks {
		taken[pk.ID] = true
		last = max(last, pk.ID)
	}
	fresh, err := generatePreKeys(last+1, missing, taken)
	if err != nil {
		return false, fmt.Errorf("omemo prekeys: %w", err)
	}
	if err := st.PutPreKeys(ctx, a.acct, fresh...); err != nil {
		return false, fmt.Errorf("omemo prekeys: %w", err)
	}
	return true, nil
}

// RotateSignedPreKey replaces the signed prekey when it is older than
// Options.SignedPreKeyRotation, and removes replaced ones whose grace
// period (Options.SignedPreKeyGrace, counted from their replacement) is
// over. It reports whether it made a new one: then publish the new Bundle.
// Call it at every connection and once a day.
func (a *Account) RotateSignedPreKey(ctx context.Context, st Store) (bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	id, err := a.identity(ctx, st)
	if err != nil {
		return false, fmt.Errorf("omemo signed prekey: %w", err)
	}
	spks, err := a.signedPreKeys(ctx, st)
	if err != nil {
		return false, fmt.Errorf("omemo signed prekey: %w", err)
	}
	now := a.opts.Now()
	rotated := false
	if len(spks) == 0 || now.Sub(spks[len(spks)-1].Created) >= a.opts.SignedPreKeyRotation {
		var next uint32 = 1
		for _, k := range spks {
			next = max(next, k.ID+1)
		}
		if next > omemo.MaxDeviceID {
			next = 1
		}
		spk, err := newSignedPreKey(id, next, now)
		if err != nil {
			return false, fmt.Errorf("omemo signed prekey: %w", err)
		}
		if err := st.PutSignedPreKey(ctx, a.acct, spk); err != nil {
			return false, fmt.Errorf("omemo signed prekey: %w", err)
		}
		spks = append(spks, spk)
		rotated = true
		a.log.Info("omemo: rotated the signed prekey", "id", next)
	}
	// A key stopped being current when the next one was made.
	for i := 0; i+1 < len(spks); i++ {
		if now.Sub(spks[i+1].Created) >= a.opts.SignedPreKeyGrace {
			if err := st.RemoveSignedPreKey(ctx, a.acct, spks[i].ID); err != nil {
				return rotated, fmt.Errorf("omemo signed prekey: %w", err)
			}
		}
	}
	return rotated, nil
}

// newDeviceID returns a uniformly random id in 1..2³¹−1 not in taken.
func newDeviceID(taken map[uint32]bool) (uint32, error) {
	for {
		n, err := rand.Int(rand.Reader, big.NewInt(omemo.MaxDeviceID))
		if err != nil {
			return 0, err
		}
		id := uint32(n.Int64()) + 1
		if !taken[id] {
			return id, nil
		}
	}
}

// generatePreKeys makes n prekeys with ids from start on, wrapping from
// maxPreKeyID to 1 and skipping ids in taken.
func generatePreKeys(start uint32, n int, taken map[uint32]bool) ([]PreKey, error) {
	out := make([]PreKey, 0, n)
	id := start
	for len(out) < n {
		if id == 0 || id > maxPreKeyID {
			id = 1
		}
		if taken[id] {
			id++
			continue
		}
		pair, err := ecc.GenerateKeyPair()
		if err != nil {
			return nil, err
		}
		priv := pair.PrivateKey().Serialize()
		out = append(out, PreKey{ID: id, PublicKey: pair.PublicKey().Serialize(), PrivateKey: priv[:]})
		id++
	}
	return out, nil
}

// newSignedPreKey makes a signed prekey with the given id, signed by our
// identity key.
func newSignedPreKey(id Identity, keyID uint32, now time.Time) (SignedPreKey, error) {
	pair, err := ecc.GenerateKeyPair()
	if err != nil {
		return SignedPreKey{}, err
	}
	pub := pair.PublicKey().Serialize()
	sig := ecc.CalculateSignature(ecc.CreateKeyPair(id.PrivateKey).PrivateKey(), pub)
	priv := pair.PrivateKey().Serialize()
	return SignedPreKey{ID: keyID, PublicKey: pub, PrivateKey: priv[:], Signature: sig[:], Created: now}, nil
}
