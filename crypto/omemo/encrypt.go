package omemo

import (
	"bytes"
	"cmp"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"

	"go.mau.fi/libsignal/protocol"
	"go.mau.fi/libsignal/session"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/omemo"
)

// Sizes of the payload encryption (XEP-0384 0.3 §4.5): AES-128-GCM with a
// 12-byte IV; the 16-byte key and the 16-byte tag are the key material
// the Signal session encrypts for each device.
const (
	payloadKeySize = 16
	payloadTagSize = 16
)

// Skipped is a device Encrypt did not encrypt to, and why (errors.Is with
// ErrNoSession, ErrUntrusted, ErrIdentityChanged, …).
type Skipped struct {
	Address
	Err error
}

// EncryptResult is an encrypted message and whom it reaches.
type EncryptResult struct {
	// Message is the <encrypted/> to send (omemo.AddTo puts it in a
	// message with the EME marker, store hint and fallback body).
	Message omemo.Encrypted
	// Recipients are the devices that can decrypt it.
	Recipients []Address
	// Skipped are the requested devices left out.
	Skipped []Skipped
	// Trust is the least trust among Recipients other than our own
	// devices (what an outbound message records); TrustUnknown for a
	// key-transport message.
	Trust client.Trust
}

// Encrypt encrypts plaintext for the given devices (the contact's and our
// own other devices; see Plan) and returns the message. Each device must
// have a session (BuildSession) with an identity key the user trusts
// (blindly or verified); the others are skipped, and listed in Skipped.
// Our own device is always left out. When no device remains the result is
// ErrNoRecipients and nothing must be sent: an encrypted conversation
// never falls back to plaintext.
//
// The sessions advance (and are stored in st) only when the whole message
// was encrypted.
func (a *Account) Encrypt(ctx context.Context, st Store, plaintext []byte, recipients []Address) (EncryptResult, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	me, err := a.identity(ctx, st)
	if err != nil {
		return EncryptResult{}, fmt.Errorf("omemo encrypt: %w", err)
	}
	if plaintext == nil {
		plaintext = []byte{}
	}
	res, err := a.encrypt(ctx, st, me, plaintext, recipients, true)
	if err != nil {
		return res, fmt.Errorf("omemo encrypt: %w", err)
	}
	return res, nil
}

// KeyTransport returns a key-transport message (no payload) for the given
// devices: send it to complete a session after a prekey message, to
// heal one (ResetSession does it for you) and as a heartbeat when Decrypt
// asks for one (Decrypted.SendKeyTransport). It carries no content, so it
// also goes to devices the user has not decided about.
func (a *Account) KeyTransport(ctx context.Context, st Store, recipients []Address) (EncryptResult, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	me, err := a.identity(ctx, st)
	if err != nil {
		return EncryptResult{}, fmt.Errorf("omemo key transport: %w", err)
	}
	res, err := a.encrypt(ctx, st, me, nil, recipients, false)
	if err != nil {
		return res, fmt.Errorf("omemo key transport: %w", err)
	}
	return res, nil
}

// encrypt encrypts plaintext (nil: a key-transport message) for the
// recipients. requireTrust skips devices whose identity key is not trusted.
func (a *Account) encrypt(ctx context.Context, st Store, me Identity, plaintext []byte, recipients []Address, requireTrust bool) (EncryptResult, error) {
	var res EncryptResult
	iv := make([]byte, omemo.IVSize)
	key := make([]byte, payloadKeySize)
	if _, err := rand.Read(iv); err != nil {
		return res, err
	}
	if _, err := rand.Read(key); err != nil {
		return res, err
	}
	material := key
	if plaintext != nil {
		block, err := aes.NewCipher(key)
		if err != nil {
			return res, err
		}
		gcm, err := cipher.NewGCM(block)
		if err != nil {
			return res, err
		}
		sealed := gcm.Seal(nil, iv, plaintext, nil)
		cut := len(sealed) - payloadTagSize
		res.Message.Payload = sealed[:cut]
		material = append(bytes.Clone(key), sealed[cut:]...)
	}
	res.Message.SID = me.DeviceID
	res.Message.IV = iv

	ss := a.signalStore(st, me)
	seen := make(map[Address]bool)
	leastPeer, leastOwn, peers := client.TrustVerified, client.TrustVerified, false
	for _, addr := range recipients {
		addr.JID = addr.JID.Bare()
		if seen[addr] || (addr.JID == a.own && addr.Device == me.DeviceID) {
			continue
		}
		seen[addr] = true
		k, state, err := a.encryptKey(ctx, st, ss, addr, material, requireTrust)
		if err != nil {
			if !errors.Is(err, ErrNoSession) && !errors.Is(err, ErrUntrusted) && !errors.Is(err, ErrIdentityChanged) {
				return EncryptResult{}, fmt.Errorf("%s/%d: %w", addr.JID, addr.Device, err)
			}
			res.Skipped = append(res.Skipped, Skipped{Address: addr, Err: err})
			continue
		}
		res.Message.Keys = append(res.Message.Keys, k)
		res.Recipients = append(res.Recipients, addr)
		if addr.JID != a.own {
			leastPeer, peers = min(leastPeer, clientTrust(state)), true
		} else {
			leastOwn = min(leastOwn, clientTrust(state))
		}
	}
	if len(res.Recipients) == 0 {
		errs := []error{ErrNoRecipients}
		for _, s := range res.Skipped {
			errs = append(errs, fmt.Errorf("%s/%d: %w", s.JID, s.Device, s.Err))
		}
		return EncryptResult{Skipped: res.Skipped}, errors.Join(errs...)
	}
	if err := ss.commit(ctx); err != nil {
		return EncryptResult{}, err
	}
	switch {
	case plaintext == nil:
		res.Trust = client.TrustUnknown
	case peers:
		res.Trust = leastPeer
	default:
		// Only our own devices: their trust is what counts.
		res.Trust = leastOwn
	}
	return res, nil
}

// sessionTrust returns the identity key of our session with addr and the
// user's decision about it.
func (a *Account) sessionTrust(ctx context.Context, st Store, ss *signalStore, addr Address) ([]byte, TrustState, error) {
	rec, err := ss.LoadSession(ctx, signalAddress(addr))
	if err != nil {
		return nil, 0, err
	}
	if !rec.SessionState().HasSenderChain() {
		return nil, 0, ErrNoSession
	}
	ik := rec.SessionState().RemoteIdentityKey().Serialize()
	r, err := st.Trust(ctx, a.acct, addr, ik)
	if errors.Is(err, ErrNotFound) {
		return ik, TrustUndecided, nil
	}
	if err != nil {
		return nil, 0, err
	}
	return ik, r.State, nil
}

// encryptKey encrypts the key material for one device.
func (a *Account) encryptKey(ctx context.Context, st Store, ss *signalStore, addr Address, material []byte, requireTrust bool) (omemo.Key, TrustState, error) {
	_, state, err := a.sessionTrust(ctx, st, ss, addr)
	if err != nil {
		return omemo.Key{}, 0, err
	}
	if requireTrust && state != TrustBlind && state != TrustVerified {
		return omemo.Key{}, state, fmt.Errorf("%w (%s)", ErrUntrusted, state)
	}
	sa := signalAddress(addr)
	c := session.NewCipher(session.NewBuilder(ss, ss, ss, ss, sa, a.ser), sa)
	msg, err := c.Encrypt(ctx, material)
	if err != nil {
		reason, _ := classify(err)
		return omemo.Key{}, state, fmt.Errorf("%w: %w", reason, err)
	}
	return omemo.Key{RID: addr.Device, PreKey: msg.Type() == protocol.PREKEY_TYPE, Data: msg.Serialize()}, state, nil
}

// Plan sorts the devices of peers and of our own account (ours excepted)
// for sending: Ready devices can be encrypted to now; NeedBundle devices
// have no session yet — fetch their bundle and BuildSession, then they are
// ready (or untrusted, if the policy leaves them undecided); Untrusted
// devices are left out until the user trusts them. Only devices of the
// latest device lists count.
type Plan struct {
	Ready, NeedBundle, Untrusted []Address
}

// Plan returns the Plan for a message to peers.
func (a *Account) Plan(ctx context.Context, st Store, peers ...jid.JID) (Plan, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	me, err := a.identity(ctx, st)
	if err != nil {
		return Plan{}, fmt.Errorf("omemo plan: %w", err)
	}
	owners := []jid.JID{a.own}
	for _, p := range peers {
		if p = p.Bare(); !slices.Contains(owners, p) {
			owners = append(owners, p)
		}
	}
	ss := a.signalStore(st, me)
	var plan Plan
	for _, owner := range owners {
		devs, err := st.Devices(ctx, a.acct, owner)
		if err != nil {
			return Plan{}, fmt.Errorf("omemo plan: %w", err)
		}
		recs, err := st.Trusts(ctx, a.acct, owner)
		if err != nil {
			return Plan{}, fmt.Errorf("omemo plan: %w", err)
		}
		for _, d := range devs {
			addr := Address{JID: owner, Device: d.ID}
			if !d.Active || (owner == a.own && d.ID == me.DeviceID) {
				continue
			}
			_, state, err := a.sessionTrust(ctx, st, ss, addr)
			switch {
			case errors.Is(err, ErrNoSession):
				if allDistrusted(recs, d.ID) {
					plan.Untrusted = append(plan.Untrusted, addr)
				} else {
					plan.NeedBundle = append(plan.NeedBundle, addr)
				}
			case err != nil:
				return Plan{}, fmt.Errorf("omemo plan: %w", err)
			case state == TrustBlind || state == TrustVerified:
				plan.Ready = append(plan.Ready, addr)
			default:
				plan.Untrusted = append(plan.Untrusted, addr)
			}
		}
	}
	for _, l := range []*[]Address{&plan.Ready, &plan.NeedBundle, &plan.Untrusted} {
		slices.SortFunc(*l, func(x, y Address) int {
			return cmp.Or(cmp.Compare(x.JID.String(), y.JID.String()), cmp.Compare(x.Device, y.Device))
		})
	}
	return plan, nil
}

// allDistrusted reports whether device has trust records and all of them
// are distrusted: fetching its bundle would be pointless.
func allDistrusted(recs []TrustRecord, device uint32) bool {
	n := 0
	for _, r := range recs {
		if r.Device != device {
			continue
		}
		if r.State != TrustDistrusted {
			return false
		}
		n++
	}
	return n > 0
}
