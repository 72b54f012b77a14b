package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/tern-im/tern/crypto/omemo"
	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
)

// sealAD is the additional data binding a sealed blob to its row: the
// table, the account and the row's key. A blob copied to another row, or a
// row whose key was edited, does not open.
func sealAD(table string, acct client.AccountID, owner string, id uint32) []byte {
	b := make([]byte, 0, 64)
	b = append(b, "tern/sqlite/v1\x00"...)
	b = append(b, table...)
	b = append(b, 0)
	b = strconv.AppendInt(b, int64(acct), 10)
	b = append(b, 0)
	b = append(b, owner...)
	b = append(b, 0)
	b = strconv.AppendUint(b, uint64(id), 10)
	return b
}

func (t *Tx) seal(plaintext, ad []byte) ([]byte, error) {
	if t.db.opts.Sealer == nil {
		return nil, ErrNoSealer
	}
	if len(plaintext) == 0 {
		return nil, fmt.Errorf("%w: empty secret", ErrInvalid)
	}
	return t.db.opts.Sealer.Seal(plaintext, ad)
}

func (t *Tx) unseal(sealed, ad []byte) ([]byte, error) {
	if t.db.opts.Sealer == nil {
		return nil, ErrNoSealer
	}
	p, err := t.db.opts.Sealer.Open(sealed, ad)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnseal, err)
	}
	return p, nil
}

func omemoNotFound(what string, id any) error {
	return fmt.Errorf("%s %v: %w", what, id, omemo.ErrNotFound)
}

// validDevice checks an OMEMO device id (1..2³¹−1).
func validDevice(id uint32) error {
	if id == 0 || id > 1<<31-1 {
		return fmt.Errorf("%w: device id %d (1 to 2³¹−1)", ErrInvalid, id)
	}
	return nil
}

func addrKey(a omemo.Address) (string, error) {
	j, err := bareJID("device owner", a.JID)
	if err != nil {
		return "", err
	}
	return j, validDevice(a.Device)
}

// Identity returns the account's own device.
func (t *Tx) Identity(ctx context.Context, acct client.AccountID) (omemo.Identity, error) {
	var id omemo.Identity
	var sealed []byte
	var created sql.NullInt64
	err := t.queryRow(ctx, `SELECT device_id, public_key, private_sealed, created FROM omemo_identity WHERE account = ?`, acct).
		Scan(&id.DeviceID, &id.PublicKey, &sealed, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return id, omemoNotFound("identity of account", acct)
	}
	if err != nil {
		return id, fmt.Errorf("omemo identity: %w", err)
	}
	id.Created = fromMicros(created)
	if id.PrivateKey, err = t.unseal(sealed, sealAD("omemo_identity", acct, "", id.DeviceID)); err != nil {
		return omemo.Identity{}, fmt.Errorf("omemo identity: %w", err)
	}
	return id, nil
}

// PutIdentity stores the account's own device.
func (t *Tx) PutIdentity(ctx context.Context, acct client.AccountID, id omemo.Identity) error {
	if err := t.writable(ctx, "put omemo identity"); err != nil {
		return err
	}
	if err := validDevice(id.DeviceID); err != nil {
		return fmt.Errorf("put omemo identity: %w", err)
	}
	if len(id.PublicKey) == 0 {
		return fmt.Errorf("put omemo identity: %w: no public key", ErrInvalid)
	}
	sealed, err := t.seal(id.PrivateKey, sealAD("omemo_identity", acct, "", id.DeviceID))
	if err != nil {
		return fmt.Errorf("put omemo identity: %w", err)
	}
	created := id.Created
	if created.IsZero() {
		created = time.Now()
	}
	if _, err := t.exec(ctx, `INSERT OR REPLACE INTO omemo_identity (account, device_id, public_key, private_sealed, created) VALUES (?, ?, ?, ?, ?)`,
		acct, id.DeviceID, id.PublicKey, sealed, created.UnixMicro()); err != nil {
		if isConstraint(err) {
			return notFound("account", acct)
		}
		return fmt.Errorf("put omemo identity: %w", err)
	}
	return nil
}

// PreKey returns one of our one-time prekeys.
func (t *Tx) PreKey(ctx context.Context, acct client.AccountID, id uint32) (omemo.PreKey, error) {
	ks, err := t.preKeys(ctx, acct, `SELECT id, public_key, private_sealed FROM omemo_prekeys WHERE account = ? AND id = ?`, acct, id)
	if err != nil {
		return omemo.PreKey{}, err
	}
	if len(ks) == 0 {
		return omemo.PreKey{}, omemoNotFound("prekey", id)
	}
	return ks[0], nil
}

// PreKeys returns all our one-time prekeys, by ID.
func (t *Tx) PreKeys(ctx context.Context, acct client.AccountID) ([]omemo.PreKey, error) {
	return t.preKeys(ctx, acct, `SELECT id, public_key, private_sealed FROM omemo_prekeys WHERE account = ? ORDER BY id`, acct)
}

func (t *Tx) preKeys(ctx context.Context, acct client.AccountID, query string, args ...any) ([]omemo.PreKey, error) {
	rows, err := t.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("omemo prekeys: %w", err)
	}
	defer rows.Close()
	var out []omemo.PreKey
	for rows.Next() {
		var k omemo.PreKey
		var sealed []byte
		if err := rows.Scan(&k.ID, &k.PublicKey, &sealed); err != nil {
			return nil, fmt.Errorf("omemo prekeys: %w", err)
		}
		if k.PrivateKey, err = t.unseal(sealed, sealAD("omemo_prekeys", acct, "", k.ID)); err != nil {
			return nil, fmt.Errorf("omemo prekey %d: %w", k.ID, err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// PutPreKeys stores prekeys.
func (t *Tx) PutPreKeys(ctx context.Context, acct client.AccountID, keys ...omemo.PreKey) error {
	if err := t.writable(ctx, "put omemo prekeys"); err != nil {
		return err
	}
	for _, k := range keys {
		if k.ID == 0 || len(k.PublicKey) == 0 {
			return fmt.Errorf("put omemo prekeys: %w: prekey %d without id or public key", ErrInvalid, k.ID)
		}
		sealed, err := t.seal(k.PrivateKey, sealAD("omemo_prekeys", acct, "", k.ID))
		if err != nil {
			return fmt.Errorf("put omemo prekeys: %w", err)
		}
		if _, err := t.exec(ctx, `INSERT OR REPLACE INTO omemo_prekeys (account, id, public_key, private_sealed) VALUES (?, ?, ?, ?)`,
			acct, k.ID, k.PublicKey, sealed); err != nil {
			if isConstraint(err) {
				return notFound("account", acct)
			}
			return fmt.Errorf("put omemo prekeys: %w", err)
		}
	}
	return nil
}

// RemovePreKey deletes a consumed prekey.
func (t *Tx) RemovePreKey(ctx context.Context, acct client.AccountID, id uint32) error {
	if err := t.writable(ctx, "remove omemo prekey"); err != nil {
		return err
	}
	if _, err := t.exec(ctx, `DELETE FROM omemo_prekeys WHERE account = ? AND id = ?`, acct, id); err != nil {
		return fmt.Errorf("remove omemo prekey: %w", err)
	}
	return nil
}

// SignedPreKey returns one of our signed prekeys.
func (t *Tx) SignedPreKey(ctx context.Context, acct client.AccountID, id uint32) (omemo.SignedPreKey, error) {
	ks, err := t.signedPreKeys(ctx, acct, `SELECT id, public_key, private_sealed, signature, created FROM omemo_signed_prekeys
		WHERE account = ? AND id = ?`, acct, id)
	if err != nil {
		return omemo.SignedPreKey{}, err
	}
	if len(ks) == 0 {
		return omemo.SignedPreKey{}, omemoNotFound("signed prekey", id)
	}
	return ks[0], nil
}

// SignedPreKeys returns all our signed prekeys, oldest first.
func (t *Tx) SignedPreKeys(ctx context.Context, acct client.AccountID) ([]omemo.SignedPreKey, error) {
	return t.signedPreKeys(ctx, acct, `SELECT id, public_key, private_sealed, signature, created FROM omemo_signed_prekeys
		WHERE account = ? ORDER BY created, id`, acct)
}

func (t *Tx) signedPreKeys(ctx context.Context, acct client.AccountID, query string, args ...any) ([]omemo.SignedPreKey, error) {
	rows, err := t.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("omemo signed prekeys: %w", err)
	}
	defer rows.Close()
	var out []omemo.SignedPreKey
	for rows.Next() {
		var k omemo.SignedPreKey
		var sealed []byte
		var created sql.NullInt64
		if err := rows.Scan(&k.ID, &k.PublicKey, &sealed, &k.Signature, &created); err != nil {
			return nil, fmt.Errorf("omemo signed prekeys: %w", err)
		}
		k.Created = fromMicros(created)
		if k.PrivateKey, err = t.unseal(sealed, sealAD("omemo_signed_prekeys", acct, "", k.ID)); err != nil {
			return nil, fmt.Errorf("omemo signed prekey %d: %w", k.ID, err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// PutSignedPreKey stores a signed prekey.
func (t *Tx) PutSignedPreKey(ctx context.Context, acct client.AccountID, k omemo.SignedPreKey) error {
	if err := t.writable(ctx, "put omemo signed prekey"); err != nil {
		return err
	}
	if len(k.PublicKey) == 0 || len(k.Signature) == 0 {
		return fmt.Errorf("put omemo signed prekey: %w: signed prekey %d without public key or signature", ErrInvalid, k.ID)
	}
	sealed, err := t.seal(k.PrivateKey, sealAD("omemo_signed_prekeys", acct, "", k.ID))
	if err != nil {
		return fmt.Errorf("put omemo signed prekey: %w", err)
	}
	created := k.Created
	if created.IsZero() {
		created = time.Now()
	}
	if _, err := t.exec(ctx, `INSERT OR REPLACE INTO omemo_signed_prekeys (account, id, public_key, private_sealed, signature, created)
		VALUES (?, ?, ?, ?, ?, ?)`, acct, k.ID, k.PublicKey, sealed, k.Signature, created.UnixMicro()); err != nil {
		if isConstraint(err) {
			return notFound("account", acct)
		}
		return fmt.Errorf("put omemo signed prekey: %w", err)
	}
	return nil
}

// RemoveSignedPreKey deletes a signed prekey.
func (t *Tx) RemoveSignedPreKey(ctx context.Context, acct client.AccountID, id uint32) error {
	if err := t.writable(ctx, "remove omemo signed prekey"); err != nil {
		return err
	}
	if _, err := t.exec(ctx, `DELETE FROM omemo_signed_prekeys WHERE account = ? AND id = ?`, acct, id); err != nil {
		return fmt.Errorf("remove omemo signed prekey: %w", err)
	}
	return nil
}

// Session returns the session record with a device.
func (t *Tx) Session(ctx context.Context, acct client.AccountID, addr omemo.Address) ([]byte, error) {
	owner, err := addrKey(addr)
	if err != nil {
		return nil, fmt.Errorf("omemo session: %w", err)
	}
	var sealed []byte
	err = t.queryRow(ctx, `SELECT record_sealed FROM omemo_sessions WHERE account = ? AND jid = ? AND device = ?`, acct, owner, addr.Device).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, omemoNotFound("session with", fmt.Sprintf("%s:%d", owner, addr.Device))
	}
	if err != nil {
		return nil, fmt.Errorf("omemo session: %w", err)
	}
	rec, err := t.unseal(sealed, sealAD("omemo_sessions", acct, owner, addr.Device))
	if err != nil {
		return nil, fmt.Errorf("omemo session: %w", err)
	}
	return rec, nil
}

// PutSession stores a session record.
func (t *Tx) PutSession(ctx context.Context, acct client.AccountID, addr omemo.Address, record []byte) error {
	if err := t.writable(ctx, "put omemo session"); err != nil {
		return err
	}
	owner, err := addrKey(addr)
	if err != nil {
		return fmt.Errorf("put omemo session: %w", err)
	}
	sealed, err := t.seal(record, sealAD("omemo_sessions", acct, owner, addr.Device))
	if err != nil {
		return fmt.Errorf("put omemo session: %w", err)
	}
	if _, err := t.exec(ctx, `INSERT OR REPLACE INTO omemo_sessions (account, jid, device, record_sealed, updated) VALUES (?, ?, ?, ?, ?)`,
		acct, owner, addr.Device, sealed, time.Now().UnixMicro()); err != nil {
		if isConstraint(err) {
			return notFound("account", acct)
		}
		return fmt.Errorf("put omemo session: %w", err)
	}
	return nil
}

// DeleteSession deletes the session with one device.
func (t *Tx) DeleteSession(ctx context.Context, acct client.AccountID, addr omemo.Address) error {
	if err := t.writable(ctx, "delete omemo session"); err != nil {
		return err
	}
	if _, err := t.exec(ctx, `DELETE FROM omemo_sessions WHERE account = ? AND jid = ? AND device = ?`, acct, addr.JID.String(), addr.Device); err != nil {
		return fmt.Errorf("delete omemo session: %w", err)
	}
	return nil
}

// SessionDevices returns the devices of a JID we have sessions with.
func (t *Tx) SessionDevices(ctx context.Context, acct client.AccountID, owner jid.JID) ([]uint32, error) {
	rows, err := t.query(ctx, `SELECT device FROM omemo_sessions WHERE account = ? AND jid = ? ORDER BY device`, acct, owner.String())
	if err != nil {
		return nil, fmt.Errorf("omemo session devices: %w", err)
	}
	defer rows.Close()
	var out []uint32
	for rows.Next() {
		var d uint32
		if err := rows.Scan(&d); err != nil {
			return nil, fmt.Errorf("omemo session devices: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// DeleteSessions deletes every session with a JID's devices.
func (t *Tx) DeleteSessions(ctx context.Context, acct client.AccountID, owner jid.JID) error {
	if err := t.writable(ctx, "delete omemo sessions"); err != nil {
		return err
	}
	if _, err := t.exec(ctx, `DELETE FROM omemo_sessions WHERE account = ? AND jid = ?`, acct, owner.String()); err != nil {
		return fmt.Errorf("delete omemo sessions: %w", err)
	}
	return nil
}

// Devices returns every device seen in a JID's device list.
func (t *Tx) Devices(ctx context.Context, acct client.AccountID, owner jid.JID) ([]omemo.Device, error) {
	rows, err := t.query(ctx, `SELECT device, active, first_seen, last_seen FROM omemo_devices WHERE account = ? AND jid = ? ORDER BY device`,
		acct, owner.String())
	if err != nil {
		return nil, fmt.Errorf("omemo devices: %w", err)
	}
	defer rows.Close()
	var out []omemo.Device
	for rows.Next() {
		var d omemo.Device
		var active int
		var first, last sql.NullInt64
		if err := rows.Scan(&d.ID, &active, &first, &last); err != nil {
			return nil, fmt.Errorf("omemo devices: %w", err)
		}
		d.Active, d.FirstSeen, d.LastSeen = active != 0, fromMicros(first), fromMicros(last)
		out = append(out, d)
	}
	return out, rows.Err()
}

// SetDeviceList records a device list received at the given time.
func (t *Tx) SetDeviceList(ctx context.Context, acct client.AccountID, owner jid.JID, ids []uint32, at time.Time) error {
	if err := t.writable(ctx, "set omemo device list"); err != nil {
		return err
	}
	o, err := bareJID("device owner", owner)
	if err != nil {
		return fmt.Errorf("set omemo device list: %w", err)
	}
	for _, id := range ids {
		if err := validDevice(id); err != nil {
			return fmt.Errorf("set omemo device list: %w", err)
		}
	}
	if at.IsZero() {
		at = time.Now()
	}
	list, err := jsonArray(ids)
	if err != nil {
		return fmt.Errorf("set omemo device list: %w", err)
	}
	if _, err := t.exec(ctx, `UPDATE omemo_devices SET active = 0
		WHERE account = ? AND jid = ? AND active = 1 AND device NOT IN (SELECT value FROM json_each(?))`, acct, o, list); err != nil {
		return fmt.Errorf("set omemo device list: %w", err)
	}
	for _, id := range ids {
		if _, err := t.exec(ctx, `INSERT INTO omemo_devices (account, jid, device, active, first_seen, last_seen) VALUES (?1, ?2, ?3, 1, ?4, ?4)
			ON CONFLICT (account, jid, device) DO UPDATE SET active = 1, last_seen = ?4`, acct, o, id, at.UnixMicro()); err != nil {
			if isConstraint(err) {
				return notFound("account", acct)
			}
			return fmt.Errorf("set omemo device list: %w", err)
		}
	}
	return nil
}

// DeleteDevice forgets a device with its session and trust decisions.
func (t *Tx) DeleteDevice(ctx context.Context, acct client.AccountID, addr omemo.Address) error {
	if err := t.writable(ctx, "delete omemo device"); err != nil {
		return err
	}
	for _, table := range []string{"omemo_devices", "omemo_sessions", "omemo_trust"} {
		if _, err := t.exec(ctx, `DELETE FROM `+table+` WHERE account = ? AND jid = ? AND device = ?`, acct, addr.JID.String(), addr.Device); err != nil {
			return fmt.Errorf("delete omemo device: %w", err)
		}
	}
	return nil
}

const trustColumns = `jid, device, identity_key, state, first_seen, decided`

func scanTrust(sc interface{ Scan(...any) error }) (omemo.TrustRecord, error) {
	var r omemo.TrustRecord
	var j string
	var first, decided sql.NullInt64
	if err := sc.Scan(&j, &r.Device, &r.IdentityKey, &r.State, &first, &decided); err != nil {
		return r, err
	}
	var err error
	r.JID, err = parseJID(j)
	r.FirstSeen, r.Decided = fromMicros(first), fromMicros(decided)
	return r, err
}

// Trust returns the decision about one identity key of a device.
func (t *Tx) Trust(ctx context.Context, acct client.AccountID, addr omemo.Address, identityKey []byte) (omemo.TrustRecord, error) {
	r, err := scanTrust(t.queryRow(ctx, `SELECT `+trustColumns+` FROM omemo_trust WHERE account = ? AND jid = ? AND device = ? AND identity_key = ?`,
		acct, addr.JID.String(), addr.Device, identityKey))
	if errors.Is(err, sql.ErrNoRows) {
		return r, omemoNotFound("trust of", fmt.Sprintf("%s:%d", addr.JID, addr.Device))
	}
	if err != nil {
		return r, fmt.Errorf("omemo trust: %w", err)
	}
	return r, nil
}

// Trusts returns the decisions about every identity key of a JID's devices.
func (t *Tx) Trusts(ctx context.Context, acct client.AccountID, owner jid.JID) ([]omemo.TrustRecord, error) {
	rows, err := t.query(ctx, `SELECT `+trustColumns+` FROM omemo_trust WHERE account = ? AND jid = ? ORDER BY device, first_seen, identity_key`,
		acct, owner.String())
	if err != nil {
		return nil, fmt.Errorf("omemo trusts: %w", err)
	}
	defer rows.Close()
	var out []omemo.TrustRecord
	for rows.Next() {
		r, err := scanTrust(rows)
		if err != nil {
			return nil, fmt.Errorf("omemo trusts: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// SetTrust stores a decision about (Address, IdentityKey).
func (t *Tx) SetTrust(ctx context.Context, acct client.AccountID, r omemo.TrustRecord) error {
	if err := t.writable(ctx, "set omemo trust"); err != nil {
		return err
	}
	owner, err := addrKey(r.Address)
	if err != nil {
		return fmt.Errorf("set omemo trust: %w", err)
	}
	if len(r.IdentityKey) == 0 || r.State > omemo.TrustDistrusted {
		return fmt.Errorf("set omemo trust: %w: no identity key, or state %d", ErrInvalid, r.State)
	}
	now := time.Now()
	first, decided := r.FirstSeen, r.Decided
	if first.IsZero() {
		first = now
	}
	if decided.IsZero() {
		decided = now
	}
	if _, err := t.exec(ctx, `INSERT INTO omemo_trust (account, jid, device, identity_key, state, first_seen, decided) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (account, jid, device, identity_key) DO UPDATE SET state = excluded.state, decided = excluded.decided`,
		acct, owner, r.Device, r.IdentityKey, r.State, first.UnixMicro(), decided.UnixMicro()); err != nil {
		if isConstraint(err) {
			return notFound("account", acct)
		}
		return fmt.Errorf("set omemo trust: %w", err)
	}
	return nil
}
