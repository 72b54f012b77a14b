package omemo

import (
	"bytes"
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/omemo"
)

// Trust policy (DESIGN.md §7, issue 6):
//
//   - Blind trust before verification (BTBV): the first identity key seen
//     for a device is trusted blindly — unless the user has verified some
//     device of that JID, in which case new devices stay undecided until
//     the user looks at them.
//   - A device presenting another identity key than the one we know is
//     never accepted silently: the Signal layer refuses it (keyAccepted),
//     Decrypt and BuildSession report ErrIdentityChanged, and the new key
//     is recorded as undecided for the user to decide.
//   - Trust decisions are per (device, identity key): a decision about a
//     key never carries over to another.

// newKeyState is the trust a newly seen identity key of addr gets.
// changed says that the device had another key before.
func (a *Account) newKeyState(ctx context.Context, st Store, addr Address, changed bool) (TrustState, error) {
	if changed {
		return TrustUndecided, nil
	}
	recs, err := st.Trusts(ctx, a.acct, addr.JID)
	if err != nil {
		return 0, err
	}
	for _, r := range recs {
		if r.State == TrustVerified {
			return TrustUndecided, nil
		}
	}
	return TrustBlind, nil
}

// recordChangedKey stores an undecided trust record for an identity key
// that a known device presented instead of its known one, so that the
// user can see it and decide. It is written to st directly, not held back
// like the writes of a Signal operation: the operation failed, but the
// user must learn about the key.
func (a *Account) recordChangedKey(ctx context.Context, st Store, addr Address, ik []byte) error {
	_, err := st.Trust(ctx, a.acct, addr, ik)
	if err == nil {
		return nil
	}
	if !errors.Is(err, ErrNotFound) {
		return err
	}
	now := a.opts.Now()
	a.log.Warn("omemo: a device presented a new identity key", "jid", addr.JID.String(), "device", addr.Device)
	return st.SetTrust(ctx, a.acct, TrustRecord{Address: addr, IdentityKey: bytes.Clone(ik), State: TrustUndecided, FirstSeen: now, Decided: now})
}

// clientTrust maps a trust state to what a message records.
func clientTrust(s TrustState) client.Trust {
	switch s {
	case TrustBlind:
		return client.TrustBlind
	case TrustVerified:
		return client.TrustVerified
	}
	return client.TrustUntrusted
}

// String names the trust state.
func (s TrustState) String() string {
	switch s {
	case TrustUndecided:
		return "undecided"
	case TrustBlind:
		return "blind"
	case TrustVerified:
		return "verified"
	case TrustDistrusted:
		return "distrusted"
	}
	return "invalid"
}

// Fingerprint returns the fingerprint of an identity key: the lowercase
// hex of its 32 key bytes, without the 0x05 type byte (64 characters), as
// Conversations and the other OMEMO clients show it. FormatFingerprint
// groups it for display.
func Fingerprint(identityKey []byte) (string, error) {
	if !omemo.ValidKey(identityKey) {
		return "", fmt.Errorf("%w: identity key", ErrMalformed)
	}
	return hex.EncodeToString(identityKey[1:]), nil
}

// FormatFingerprint shows a fingerprint in groups of 8 characters
// separated by spaces.
func FormatFingerprint(fp string) string {
	var b strings.Builder
	for i := 0; i < len(fp); i += 8 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(fp[i:min(i+8, len(fp))])
	}
	return b.String()
}

// ParseFingerprint reads a fingerprint as a user may type or paste it:
// any case, with spaces, colons or dashes between groups, with or without
// the leading "05". It returns the canonical form (see Fingerprint).
func ParseFingerprint(s string) (string, error) {
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\n', '\r', ':', '-':
			return -1
		}
		return r
	}, strings.ToLower(s))
	if len(s) == 66 && strings.HasPrefix(s, "05") {
		s = s[2:]
	}
	if len(s) != 64 {
		return "", fmt.Errorf("%w: a fingerprint has 64 hex digits", ErrUnknownFingerprint)
	}
	if _, err := hex.DecodeString(s); err != nil {
		return "", fmt.Errorf("%w: a fingerprint has 64 hex digits", ErrUnknownFingerprint)
	}
	return s, nil
}

// identityKeyOf returns the identity key a canonical fingerprint stands
// for.
func identityKeyOf(fp string) []byte {
	b, _ := hex.DecodeString(fp)
	return append([]byte{omemo.KeyType}, b...)
}

// DeviceFingerprint is a device id with the fingerprint of its identity
// key, as a verification URI carries them.
type DeviceFingerprint struct {
	Device      uint32
	Fingerprint string
}

// uriPrefix starts the query parameters of a verification URI.
const uriPrefix = "omemo-sid-"

// URI returns the verification URI of an account's devices, the content of
// the QR code OMEMO clients scan (Conversations' format):
// xmpp:<bare JID>?omemo-sid-<device id>=<fingerprint>;omemo-sid-….
func URI(owner jid.JID, devices []DeviceFingerprint) string {
	var b strings.Builder
	b.WriteString("xmpp:")
	b.WriteString(uriEscape(owner.Bare().String()))
	for i, d := range devices {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte(';')
		}
		b.WriteString(uriPrefix)
		b.WriteString(strconv.FormatUint(uint64(d.Device), 10))
		b.WriteByte('=')
		b.WriteString(d.Fingerprint)
	}
	return b.String()
}

// uriEscape percent-encodes what RFC 5122 does not allow unescaped in the
// path of an xmpp: URI.
func uriEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			strings.IndexByte("-._~!$&'()*+,=:@/", c) >= 0:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// ParseURI reads a verification URI (see URI): the account and the
// fingerprints of its devices, in the order given. Other query parameters
// (an action, a name) are ignored; a URI without any omemo-sid parameter
// is ErrInvalidURI.
func ParseURI(s string) (jid.JID, []DeviceFingerprint, error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), "xmpp:")
	if !ok {
		return jid.JID{}, nil, fmt.Errorf("%w: not an xmpp: URI", ErrInvalidURI)
	}
	path, query, _ := strings.Cut(rest, "?")
	path = strings.TrimPrefix(path, "//") // an authority is not used by OMEMO
	p, err := url.PathUnescape(path)
	if err != nil {
		return jid.JID{}, nil, fmt.Errorf("%w: %w", ErrInvalidURI, err)
	}
	owner, err := jid.Parse(p)
	if err != nil || owner.Local() == "" {
		return jid.JID{}, nil, fmt.Errorf("%w: invalid address", ErrInvalidURI)
	}
	var out []DeviceFingerprint
	for _, param := range strings.Split(query, ";") {
		k, v, _ := strings.Cut(param, "=")
		idText, ok := strings.CutPrefix(k, uriPrefix)
		if !ok {
			continue
		}
		id, err := strconv.ParseUint(idText, 10, 32)
		if err != nil || !omemo.ValidID(uint32(id)) {
			return jid.JID{}, nil, fmt.Errorf("%w: device id %q", ErrInvalidURI, idText)
		}
		fp, err := ParseFingerprint(v)
		if err != nil {
			return jid.JID{}, nil, fmt.Errorf("%w: fingerprint of device %d", ErrInvalidURI, id)
		}
		out = append(out, DeviceFingerprint{Device: uint32(id), Fingerprint: fp})
		if len(out) > omemo.MaxDevices {
			return jid.JID{}, nil, fmt.Errorf("%w: too many devices", ErrInvalidURI)
		}
	}
	if len(out) == 0 {
		return jid.JID{}, nil, fmt.Errorf("%w: no fingerprints", ErrInvalidURI)
	}
	return owner.Bare(), out, nil
}

// OwnFingerprint returns the fingerprint of our own device.
func (a *Account) OwnFingerprint(ctx context.Context, st Store) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	id, err := a.identity(ctx, st)
	if err != nil {
		return "", err
	}
	return Fingerprint(id.PublicKey)
}

// OwnURI returns the verification URI of our own device, for a QR code
// that contacts (and our other devices) scan.
func (a *Account) OwnURI(ctx context.Context, st Store) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	id, err := a.identity(ctx, st)
	if err != nil {
		return "", err
	}
	fp, err := Fingerprint(id.PublicKey)
	if err != nil {
		return "", err
	}
	return URI(a.own, []DeviceFingerprint{{Device: id.DeviceID, Fingerprint: fp}}), nil
}

// SetTrust records the user's decision about every device of owner whose
// identity key has the fingerprint fp (normally one), and returns them.
// ErrUnknownFingerprint: no device of owner was seen with that key.
func (a *Account) SetTrust(ctx context.Context, st Store, owner jid.JID, fp string, state TrustState) ([]Address, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.setTrust(ctx, st, owner.Bare(), fp, state)
}

func (a *Account) setTrust(ctx context.Context, st Store, owner jid.JID, fp string, state TrustState) ([]Address, error) {
	if state > TrustDistrusted {
		return nil, fmt.Errorf("omemo trust: invalid state %d", state)
	}
	fp, err := ParseFingerprint(fp)
	if err != nil {
		return nil, err
	}
	ik := identityKeyOf(fp)
	recs, err := st.Trusts(ctx, a.acct, owner)
	if err != nil {
		return nil, fmt.Errorf("omemo trust: %w", err)
	}
	var out []Address
	now := a.opts.Now()
	for _, r := range recs {
		if !bytes.Equal(r.IdentityKey, ik) {
			continue
		}
		r.State, r.Decided = state, now
		if err := st.SetTrust(ctx, a.acct, r); err != nil {
			return nil, fmt.Errorf("omemo trust: %w", err)
		}
		out = append(out, r.Address)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %s has no device with %s", ErrUnknownFingerprint, owner, FormatFingerprint(fp))
	}
	return out, nil
}

// Verify marks the devices of owner with fingerprint fp verified: the user
// compared it with the one the device shows. From then on, new devices of
// owner need the user's decision before messages are encrypted to them.
func (a *Account) Verify(ctx context.Context, st Store, owner jid.JID, fp string) error {
	_, err := a.SetTrust(ctx, st, owner, fp, TrustVerified)
	return err
}

// Distrust marks the devices of owner with fingerprint fp distrusted:
// messages are never encrypted to them, and theirs are shown as untrusted.
func (a *Account) Distrust(ctx context.Context, st Store, owner jid.JID, fp string) error {
	_, err := a.SetTrust(ctx, st, owner, fp, TrustDistrusted)
	return err
}

// VerifyURI verifies the devices a scanned verification URI names (see
// URI) and returns them. A device we have seen with another identity key
// fails the whole URI with ErrFingerprintMismatch and verifies nothing
// (someone is lying: the URI, or the device). A device we have not seen yet
// gets its key recorded as verified, so that when it appears it is trusted
// if, and only if, it presents that key.
func (a *Account) VerifyURI(ctx context.Context, st Store, uri string) ([]Address, error) {
	owner, devs, err := ParseURI(uri)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	recs, err := st.Trusts(ctx, a.acct, owner)
	if err != nil {
		return nil, fmt.Errorf("omemo verify: %w", err)
	}
	now := a.opts.Now()
	var todo []TrustRecord
	for _, d := range devs {
		addr := Address{JID: owner, Device: d.Device}
		ik := identityKeyOf(d.Fingerprint)
		var mine []TrustRecord
		for _, r := range recs {
			if r.Address == addr {
				mine = append(mine, r)
			}
		}
		i := slices.IndexFunc(mine, func(r TrustRecord) bool { return bytes.Equal(r.IdentityKey, ik) })
		switch {
		case i >= 0:
			r := mine[i]
			r.State, r.Decided = TrustVerified, now
			todo = append(todo, r)
		case len(mine) > 0:
			return nil, fmt.Errorf("%w: device %d of %s", ErrFingerprintMismatch, d.Device, owner)
		default:
			todo = append(todo, TrustRecord{Address: addr, IdentityKey: ik, State: TrustVerified, FirstSeen: now, Decided: now})
		}
	}
	out := make([]Address, 0, len(todo))
	for _, r := range todo {
		if err := st.SetTrust(ctx, a.acct, r); err != nil {
			return nil, fmt.Errorf("omemo verify: %w", err)
		}
		out = append(out, r.Address)
	}
	return out, nil
}

// DeviceInfo describes one device of a user for the trust screens.
type DeviceInfo struct {
	Address
	// Active says whether the latest device list contains it.
	Active bool
	// Own says that it is this device.
	Own bool
	// Keys are the identity keys seen for the device with the decision
	// about each, first seen first. More than one means its key changed:
	// the newest is undecided until the user decides.
	Keys []TrustRecord
}

// Devices returns every device known of owner (our own account included),
// by id: those of its device lists, and those we only know from a trust
// record (a message, a verification URI).
func (a *Account) Devices(ctx context.Context, st Store, owner jid.JID) ([]DeviceInfo, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	owner = owner.Bare()
	devs, err := st.Devices(ctx, a.acct, owner)
	if err != nil {
		return nil, fmt.Errorf("omemo devices: %w", err)
	}
	recs, err := st.Trusts(ctx, a.acct, owner)
	if err != nil {
		return nil, fmt.Errorf("omemo devices: %w", err)
	}
	var me uint32
	if owner == a.own {
		if id, err := a.identity(ctx, st); err == nil {
			me = id.DeviceID
		}
	}
	byID := make(map[uint32]*DeviceInfo)
	var out []*DeviceInfo
	get := func(id uint32) *DeviceInfo {
		if d, ok := byID[id]; ok {
			return d
		}
		d := &DeviceInfo{Address: Address{JID: owner, Device: id}, Own: id == me && me != 0}
		byID[id] = d
		out = append(out, d)
		return d
	}
	for _, d := range devs {
		get(d.ID).Active = d.Active
	}
	for _, r := range recs {
		d := get(r.Device)
		d.Keys = append(d.Keys, r)
	}
	res := make([]DeviceInfo, 0, len(out))
	for _, d := range out {
		slices.SortStableFunc(d.Keys, func(x, y TrustRecord) int { return x.FirstSeen.Compare(y.FirstSeen) })
		res = append(res, *d)
	}
	slices.SortFunc(res, func(x, y DeviceInfo) int { return cmp.Compare(x.Device, y.Device) })
	return res, nil
}

// SetDeviceList records a device list of owner, received at the current
// time, and returns the list we must publish in reply, or nil. The caller
// checks first that the list really is owner's (omemo.DeviceListOwner,
// omemo.ParseDeviceListEvent): a list is only believed from its owner.
//
// For our own account the reply is the list with our device added when it
// is missing (XEP-0384: another device may have published without seeing
// ours). Other devices' ids are never removed by us; see RemoveOwnDevice.
func (a *Account) SetDeviceList(ctx context.Context, st Store, owner jid.JID, ids []uint32) ([]uint32, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	owner = owner.Bare()
	valid := make([]uint32, 0, len(ids))
	for _, id := range ids {
		if omemo.ValidID(id) {
			valid = append(valid, id)
		}
	}
	slices.Sort(valid)
	valid = slices.Compact(valid)
	if len(valid) > omemo.MaxDevices {
		return nil, fmt.Errorf("omemo device list: %w", omemo.ErrTooLarge)
	}
	if err := st.SetDeviceList(ctx, a.acct, owner, valid, a.opts.Now()); err != nil {
		return nil, fmt.Errorf("omemo device list: %w", err)
	}
	if owner != a.own {
		return nil, nil
	}
	me, err := a.identity(ctx, st)
	if err != nil {
		return nil, fmt.Errorf("omemo device list: %w", err)
	}
	if _, found := slices.BinarySearch(valid, me.DeviceID); found {
		return nil, nil
	}
	out := append(slices.Clone(valid), me.DeviceID)
	slices.Sort(out)
	return out, nil
}

// RemoveOwnDevice forgets one of our account's other devices at the
// user's request ("remove old device"): its session and trust decisions
// are deleted, and the returned list (our active devices without it) is to
// be published. Our own device cannot be removed.
func (a *Account) RemoveOwnDevice(ctx context.Context, st Store, device uint32) ([]uint32, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	me, err := a.identity(ctx, st)
	if err != nil {
		return nil, fmt.Errorf("omemo remove device: %w", err)
	}
	if device == me.DeviceID {
		return nil, fmt.Errorf("omemo remove device: %w", ErrOwnDevice)
	}
	if err := st.DeleteDevice(ctx, a.acct, Address{JID: a.own, Device: device}); err != nil {
		return nil, fmt.Errorf("omemo remove device: %w", err)
	}
	devs, err := st.Devices(ctx, a.acct, a.own)
	if err != nil {
		return nil, fmt.Errorf("omemo remove device: %w", err)
	}
	out := []uint32{me.DeviceID}
	for _, d := range devs {
		if d.Active && d.ID != device && d.ID != me.DeviceID {
			out = append(out, d.ID)
		}
	}
	slices.Sort(out)
	if err := st.SetDeviceList(ctx, a.acct, a.own, out, a.opts.Now()); err != nil {
		return nil, fmt.Errorf("omemo remove device: %w", err)
	}
	return out, nil
}
