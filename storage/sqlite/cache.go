package sqlite

import (
	"context"
	"crypto/sha1"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
)

// DiscoInfo returns a cached disco#info result.
func (t *Tx) DiscoInfo(ctx context.Context, algo, ver string) ([]byte, error) {
	var info []byte
	err := t.queryRow(ctx, `SELECT info FROM disco_cache WHERE algo = ? AND ver = ?`, algo, ver).Scan(&info)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("disco info", algo+":"+ver)
	}
	if err != nil {
		return nil, fmt.Errorf("disco info: %w", err)
	}
	return info, nil
}

// PutDiscoInfo caches a verified disco#info result.
func (t *Tx) PutDiscoInfo(ctx context.Context, algo, ver string, info []byte) error {
	if err := t.writable(ctx, "put disco info"); err != nil {
		return err
	}
	if algo == "" || ver == "" || len(info) == 0 {
		return fmt.Errorf("put disco info: %w: empty algorithm, verification string or result", ErrInvalid)
	}
	if _, err := t.exec(ctx, `INSERT OR REPLACE INTO disco_cache (algo, ver, info, stored) VALUES (?, ?, ?, ?)`,
		algo, ver, info, time.Now().UnixMicro()); err != nil {
		return fmt.Errorf("put disco info: %w", err)
	}
	return nil
}

// Avatar returns an avatar by hash.
func (t *Tx) Avatar(ctx context.Context, hash string) (client.Avatar, error) {
	a := client.Avatar{Hash: hash}
	err := t.queryRow(ctx, `SELECT media_type, width, height, data FROM avatars WHERE hash = ?`, hash).Scan(&a.MediaType, &a.Width, &a.Height, &a.Data)
	if errors.Is(err, sql.ErrNoRows) {
		return a, notFound("avatar", hash)
	}
	if err != nil {
		return a, fmt.Errorf("avatar: %w", err)
	}
	return a, nil
}

// PutAvatar stores an avatar whose Hash is the SHA-1 of its Data.
func (t *Tx) PutAvatar(ctx context.Context, a client.Avatar) error {
	if err := t.writable(ctx, "put avatar"); err != nil {
		return err
	}
	sum := sha1.Sum(a.Data)
	if want := hex.EncodeToString(sum[:]); a.Hash != want {
		return fmt.Errorf("put avatar: %w: hash %q is not the SHA-1 of the data (%s)", ErrInvalid, a.Hash, want)
	}
	if _, err := t.exec(ctx, `INSERT OR REPLACE INTO avatars (hash, media_type, width, height, data, stored) VALUES (?, ?, ?, ?, ?, ?)`,
		a.Hash, a.MediaType, a.Width, a.Height, a.Data, time.Now().UnixMicro()); err != nil {
		return fmt.Errorf("put avatar: %w", err)
	}
	return nil
}

// ContactAvatar returns the hash of a contact's avatar.
func (t *Tx) ContactAvatar(ctx context.Context, acct client.AccountID, contact jid.JID) (string, error) {
	var hash string
	err := t.queryRow(ctx, `SELECT hash FROM contact_avatars WHERE account = ? AND jid = ?`, acct, contact.String()).Scan(&hash)
	if errors.Is(err, sql.ErrNoRows) {
		return "", notFound("avatar of", contact)
	}
	if err != nil {
		return "", fmt.Errorf("contact avatar: %w", err)
	}
	return hash, nil
}

// SetContactAvatar records a contact's avatar hash and deletes avatars no
// contact uses any more.
func (t *Tx) SetContactAvatar(ctx context.Context, acct client.AccountID, contact jid.JID, hash string) error {
	if err := t.writable(ctx, "set contact avatar"); err != nil {
		return err
	}
	if contact.IsZero() {
		return fmt.Errorf("set contact avatar: %w: no contact", ErrInvalid)
	}
	var old sql.NullString
	if err := t.queryRow(ctx, `SELECT hash FROM contact_avatars WHERE account = ? AND jid = ?`, acct, contact.String()).Scan(&old); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("set contact avatar: %w", err)
	}
	if _, err := t.exec(ctx, `INSERT OR REPLACE INTO contact_avatars (account, jid, hash) VALUES (?, ?, ?)`, acct, contact.String(), hash); err != nil {
		if isConstraint(err) {
			return notFound("account", acct)
		}
		return fmt.Errorf("set contact avatar: %w", err)
	}
	if old.Valid && old.String != "" && old.String != hash {
		if _, err := t.exec(ctx, `DELETE FROM avatars WHERE hash = ?1 AND NOT EXISTS (SELECT 1 FROM contact_avatars WHERE hash = ?1)`, old.String); err != nil {
			return fmt.Errorf("set contact avatar: %w", err)
		}
	}
	return nil
}
