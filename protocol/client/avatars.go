package client

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/tern-im/tern/protocol/avatar"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/session"
	"github.com/tern-im/tern/protocol/stanza"
	"github.com/tern-im/tern/protocol/vcard"
)

// Avatars: XEP-0153 (the SHA-1 of the vCard photo rides in presence) and
// XEP-0084 (metadata and data in PEP, with +notify in our caps). Images
// come from peers: they are fetched, checked against their hash and the
// limits, and decoded in tasks, never in a handler; the store keeps them
// by hash and remembers which contact uses which.

// nsPubSubEvent qualifies PEP notifications (XEP-0060 §7.1.2).
const nsPubSubEvent = "http://jabber.org/protocol/pubsub#event"

// ErrNotPNG: SetAvatar needs a PNG image (XEP-0084 §4.1: the data node
// holds image/png).
var ErrNotPNG = errors.New("client: the avatar must be a PNG image")

// avatarLimits are the limits on inbound avatar images.
func avatarLimits() avatar.Limits { return avatar.Limits{} }

// announceAvatar records hash as the latest avatar announced for contact
// ("": none). Announcements are recorded in the order they arrive; it
// reports whether hash is already the stored avatar (nothing to do).
func (c *Client) announceAvatar(contact jid.JID, hash string) bool {
	st := c.contacts()
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.wanted) >= maxTrackedContacts {
		clear(st.wanted) // forgetting only loses the ordering of stale look-ups
	}
	st.wanted[contact] = hash
	known, ok := st.avatars[contact]
	return ok && known == hash
}

// avatarWanted reports whether hash is still the latest avatar announced
// for contact.
func (c *Client) avatarWanted(contact jid.JID, hash string) bool {
	st := c.contacts()
	st.mu.Lock()
	defer st.mu.Unlock()
	w, ok := st.wanted[contact]
	return !ok || w == hash
}

// avatarAnnounced handles an XEP-0153 hash from a presence of contact
// ("" : no avatar). It runs on the client loop: the work is a task.
func (c *Client) avatarAnnounced(contact jid.JID, hash string) {
	st := c.contacts()
	st.mu.Lock()
	pep := st.pepAvatar[contact]
	st.mu.Unlock()
	if pep || c.announceAvatar(contact, hash) {
		return
	}
	c.startTask("avatar "+contact.String()+" "+hash, func(ctx context.Context) {
		fetch := func(ctx context.Context) ([]byte, error) {
			v, err := c.GetVCard(ctx, contact)
			if err != nil {
				return nil, err
			}
			if v.Photo == nil || len(v.Photo.Data) == 0 {
				return nil, fmt.Errorf("%w: the vCard has no photo", avatar.ErrHashMismatch)
			}
			return v.Photo.Data, nil
		}
		if err := c.resolveAvatar(ctx, contact, hash, fetch); err != nil {
			c.cfg.Logger.Warn("avatar: rejecting a vCard avatar", "from", contact, "err", err)
		}
	})
}

// handleAvatarEvent takes XEP-0084 metadata notifications (XEP-0163 PEP);
// other messages go on to the next handler.
func (c *Client) handleAvatarEvent(_ context.Context, el *xmlstream.Element) bool {
	ev := el.Child(nsPubSubEvent, "event")
	if ev == nil {
		return false
	}
	items := ev.Child(nsPubSubEvent, "items")
	if items == nil || items.Get("node") != avatar.NSMetadata {
		return false
	}
	h, err := stanza.ParseHeader(el)
	if err != nil {
		return true
	}
	// A PEP notification comes from the owner's bare JID (XEP-0163 §4.3):
	// anything else is not that contact's avatar.
	if h.From.Local() == "" || !h.From.IsBare() {
		c.cfg.Logger.Warn("avatar: ignoring metadata not sent by its owner's PEP service", "from", h.From)
		return true
	}
	contact := h.From
	_, md, err := avatar.ParseMetadataItem(el)
	if err != nil {
		c.cfg.Logger.Debug("avatar: malformed metadata", "from", contact, "err", err)
		return true
	}
	st := c.contacts()
	st.mu.Lock()
	if len(st.pepAvatar) >= maxTrackedContacts {
		clear(st.pepAvatar)
	}
	st.pepAvatar[contact] = true
	st.mu.Unlock()
	if md.Disabled() {
		if !c.announceAvatar(contact, "") {
			c.startTask("avatar "+contact.String()+" ", func(ctx context.Context) {
				if err := c.resolveAvatar(ctx, contact, "", nil); err != nil {
					c.cfg.Logger.Warn("avatar: removing an avatar", "from", contact, "err", err)
				}
			})
		}
		return true
	}
	info, ok := md.DataInfo()
	if !ok {
		return true // only images hosted elsewhere (§4.2.1): not fetched
	}
	if c.announceAvatar(contact, info.ID) {
		return true
	}
	c.startTask("avatar "+contact.String()+" "+info.ID, func(ctx context.Context) {
		fetch := func(ctx context.Context) ([]byte, error) {
			res, err := c.SendIQ(ctx, avatar.DataRequest(contact, info.ID))
			if err != nil {
				return nil, err
			}
			return avatar.ParseDataItem(res, avatarLimits())
		}
		if err := c.resolveAvatar(ctx, contact, info.ID, fetch); err != nil {
			c.cfg.Logger.Warn("avatar: rejecting a PEP avatar", "from", contact, "err", err)
		}
	})
	return true
}

// resolveAvatar makes hash the avatar of contact: from the store when the
// image is there, else fetched with fetch, checked and decoded here (a
// task or an API call, off the client loop). Only the avatars of roster
// contacts and of our own account are kept: strangers cannot fill the
// disk with images. hash "" means no avatar.
func (c *Client) resolveAvatar(ctx context.Context, contact jid.JID, hash string, fetch func(context.Context) ([]byte, error)) (err error) {
	own := contact == c.ownJID().Bare()
	var cur string
	var inRoster, stored bool
	err = c.cfg.Store.View(ctx, func(tx Tx) error {
		var err error
		cur, err = tx.ContactAvatar(ctx, c.cfg.Account, contact)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		_, items, err := tx.Roster(ctx, c.cfg.Account)
		if err != nil {
			return err
		}
		inRoster = slices.ContainsFunc(items, func(it RosterItem) bool { return it.JID == contact })
		if hash == "" {
			return nil
		}
		switch _, err := tx.Avatar(ctx, hash); {
		case err == nil:
			stored = true
		case !errors.Is(err, ErrNotFound):
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !own && !inRoster {
		return nil
	}
	if own {
		// XEP-0153 §4.3: our presence announces what our account uses,
		// whichever client of ours changed it.
		defer func() {
			if err == nil && c.avatarWanted(contact, hash) {
				c.setOwnHash(ctx, hash)
			}
		}()
	}
	if cur == hash && (hash == "" || stored) {
		c.rememberAvatar(contact, hash)
		return nil
	}
	if hash == "" || stored {
		c.setContactAvatar(ctx, contact, hash)
		return nil
	}
	st := c.contacts()
	st.mu.Lock()
	refused := st.rejected[hash]
	st.mu.Unlock()
	if refused || !c.avatarWanted(contact, hash) {
		return nil // refused before, or a newer announcement came meanwhile
	}
	qctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	data, err := fetch(qctx)
	if err == nil {
		// Check the hash and the limits before decoding, then decode to
		// be sure the image is usable (avatar.Decode checks again).
		_, err = avatar.CheckID(data, hash, avatarLimits())
	}
	var info avatar.Info
	if err == nil {
		_, info, err = avatar.Decode(data, avatarLimits())
	}
	if err != nil {
		if errors.Is(err, avatar.ErrTooLarge) || errors.Is(err, avatar.ErrNotImage) || errors.Is(err, avatar.ErrHashMismatch) {
			st.mu.Lock()
			if len(st.rejected) >= maxTrackedContacts {
				clear(st.rejected)
			}
			st.rejected[hash] = true
			st.mu.Unlock()
		}
		return err
	}
	a := Avatar{Hash: hash, MediaType: info.Type, Width: info.Width, Height: info.Height, Data: data}
	stale := false
	err = c.cfg.Store.Update(ctx, func(tx Tx) error {
		// Checked inside the (serialised) write transaction, so that a
		// look-up that finishes late never overwrites a newer avatar.
		if stale = !c.avatarWanted(contact, hash); stale {
			return nil
		}
		if err := tx.PutAvatar(ctx, a); err != nil {
			return err
		}
		return tx.SetContactAvatar(ctx, c.cfg.Account, contact, hash)
	})
	if err != nil || stale {
		return err
	}
	c.rememberAvatar(contact, hash)
	c.Emit(AvatarChanged{JID: contact, Hash: hash})
	return nil
}

// setContactAvatar records that contact uses the stored avatar hash ("":
// none) and reports it.
func (c *Client) setContactAvatar(ctx context.Context, contact jid.JID, hash string) {
	var changed, stale bool
	err := c.cfg.Store.Update(ctx, func(tx Tx) error {
		changed = false
		if stale = !c.avatarWanted(contact, hash); stale {
			return nil
		}
		cur, err := tx.ContactAvatar(ctx, c.cfg.Account, contact)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		changed = errors.Is(err, ErrNotFound) || cur != hash
		if !changed {
			return nil
		}
		return tx.SetContactAvatar(ctx, c.cfg.Account, contact, hash)
	})
	if err != nil {
		c.cfg.Logger.Warn("avatar: storing a contact's avatar", "err", err)
		return
	}
	if stale {
		return
	}
	c.rememberAvatar(contact, hash)
	if changed {
		c.Emit(AvatarChanged{JID: contact, Hash: hash})
	}
}

// rememberAvatar notes the stored avatar of contact, so that presence
// repeating the same hash costs nothing; a stale one is not noted.
func (c *Client) rememberAvatar(contact jid.JID, hash string) {
	st := c.contacts()
	st.mu.Lock()
	defer st.mu.Unlock()
	if w, ok := st.wanted[contact]; ok && w != hash {
		return
	}
	if len(st.avatars) >= maxTrackedContacts {
		clear(st.avatars) // a cache: the store has it all
	}
	st.avatars[contact] = hash
}

// setOwnHash sets the avatar hash our presence announces (XEP-0153 §4.1)
// and broadcasts our presence again when it changed.
func (c *Client) setOwnHash(ctx context.Context, hash string) {
	st := c.contacts()
	st.mu.Lock()
	changed := !st.ownReady || st.ownHash != hash
	st.ownHash, st.ownReady = hash, true
	available := st.available
	st.mu.Unlock()
	if changed && available {
		if err := c.broadcast(ctx, "avatar", true); err != nil {
			c.cfg.Logger.Debug("avatar: announcing our avatar", "err", err)
		}
	}
}

// onlineOwnAvatar reads our vCard on a new session, to announce our
// avatar's hash in presence (XEP-0153 §4.1 rule 2: until then our presence
// carries an empty update). It runs as a task of its own: the hooks after
// it (the outbox) need not wait for it.
func (c *Client) onlineOwnAvatar(context.Context, session.Info) {
	c.Go(func(ctx context.Context) {
		qctx, cancel := context.WithTimeout(ctx, queryTimeout)
		defer cancel()
		v, err := c.GetVCard(qctx, jid.JID{})
		if err != nil {
			c.cfg.Logger.Debug("avatar: reading our vCard", "err", err)
			return
		}
		c.ownVCardChanged(ctx, v)
	})
}

// SetAvatar publishes png as our avatar: in PEP (XEP-0084: data, then
// metadata) and as our vCard photo (XEP-0153), and stores it. A nil png
// removes our avatar. The image must be a PNG within the limits other
// clients accept (vCard photos: vcard.MaxPhotoSize bytes).
func (c *Client) SetAvatar(ctx context.Context, png []byte) error {
	if err := c.needStore("set avatar"); err != nil {
		return err
	}
	own := c.ownJID().Bare()
	v, err := c.GetVCard(ctx, jid.JID{})
	if err != nil {
		return fmt.Errorf("set avatar: %w", err)
	}
	if png == nil {
		if _, err := c.SendIQ(ctx, avatar.PublishMetadata()); err != nil {
			return fmt.Errorf("set avatar: %w", err)
		}
		v.Photo = nil
		if _, err := c.SendIQ(ctx, vcard.Set(v)); err != nil {
			return fmt.Errorf("set avatar: %w", err)
		}
		c.announceAvatar(own, "")
		c.setContactAvatar(ctx, own, "")
		c.setOwnHash(ctx, "")
		return nil
	}
	info, err := avatar.Check(png, avatar.Limits{MaxBytes: vcard.MaxPhotoSize})
	if err != nil {
		return fmt.Errorf("set avatar: %w", err)
	}
	if info.Type != "image/png" {
		return fmt.Errorf("set avatar: %w (it is %s)", ErrNotPNG, info.Type)
	}
	if _, err := c.SendIQ(ctx, avatar.PublishData(png)); err != nil {
		return fmt.Errorf("set avatar: publishing the data: %w", err)
	}
	if _, err := c.SendIQ(ctx, avatar.PublishMetadata(info)); err != nil {
		return fmt.Errorf("set avatar: publishing the metadata: %w", err)
	}
	v.Photo = &vcard.Photo{Type: info.Type, Data: png}
	if _, err := c.SendIQ(ctx, vcard.Set(v)); err != nil {
		return fmt.Errorf("set avatar: vCard photo: %w", err)
	}
	c.announceAvatar(own, info.ID)
	if err := c.resolveAvatar(ctx, own, info.ID, func(context.Context) ([]byte, error) { return png, nil }); err != nil {
		return fmt.Errorf("set avatar: %w", err)
	}
	c.setOwnHash(ctx, info.ID)
	return nil
}
