package client

import (
	"context"
	"fmt"

	"github.com/tern-im/tern/protocol/avatar"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/vcard"
)

// vcard-temp (XEP-0054): reading anyone's vCard and writing our own.

// VCard is a vcard-temp vCard (XEP-0054). Change one read with GetVCard
// and write it back with SetVCard: the whole vCard is replaced, and the
// parts Tern does not model (Other) must survive.
type VCard = vcard.VCard

// VCardPhoto is a vCard's PHOTO.
type VCardPhoto = vcard.Photo

// GetVCard returns the vCard of j's bare JID, or ours when j is zero. A
// contact without a vCard has an empty one (no error).
func (c *Client) GetVCard(ctx context.Context, j jid.JID) (VCard, error) {
	var to jid.JID
	if !j.IsZero() && j.Bare() != c.ownJID().Bare() {
		to = j.Bare()
	}
	res, err := c.SendIQ(ctx, vcard.Request(to))
	if err != nil {
		if vcard.NotFound(err) {
			return VCard{}, nil
		}
		return VCard{}, fmt.Errorf("get vcard: %w", err)
	}
	v, err := vcard.Parse(res)
	if err != nil {
		return VCard{}, fmt.Errorf("get vcard: %w", err)
	}
	return v, nil
}

// SetVCard replaces our vCard. When its photo changed, our presence
// announces the new avatar hash (XEP-0153 §4.2) and the image is stored as
// our avatar.
func (c *Client) SetVCard(ctx context.Context, v VCard) error {
	if _, err := c.SendIQ(ctx, vcard.Set(v)); err != nil {
		return fmt.Errorf("set vcard: %w", err)
	}
	if c.cfg.Store != nil {
		c.ownVCardChanged(ctx, v)
	}
	return nil
}

// ownVCardChanged updates our avatar from our vCard's photo (after
// SetVCard, or after reading our vCard on a new session).
func (c *Client) ownVCardChanged(ctx context.Context, v VCard) {
	own := c.ownJID().Bare()
	var data []byte
	if v.Photo != nil {
		data = v.Photo.Data
	}
	if len(data) == 0 {
		c.announceAvatar(own, "")
		c.setContactAvatar(ctx, own, "")
		c.setOwnHash(ctx, "")
		return
	}
	hash := avatar.ID(data)
	c.announceAvatar(own, hash)
	if err := c.resolveAvatar(ctx, own, hash, func(context.Context) ([]byte, error) { return data, nil }); err != nil {
		c.cfg.Logger.Warn("avatar: our vCard photo is not usable as an avatar", "err", err)
	}
	// Announce it whatever we think of it: it is what the vCard holds.
	c.setOwnHash(ctx, hash)
}
