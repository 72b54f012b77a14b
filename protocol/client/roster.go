package client

import (
	"context"
	"fmt"
	"slices"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/presence"
	"github.com/tern-im/tern/protocol/roster"
	"github.com/tern-im/tern/protocol/session"
	"github.com/tern-im/tern/protocol/stanza"
)

// The roster (RFC 6121 §2): fetched with versioning on every new session,
// kept in sync by pushes, changed through the API below. The store follows
// the server: the API sends requests, and the pushes the server answers
// them with (to every interested resource, us included) update the store.

// onlineRoster fetches the roster (RFC 6121 §2.2) with the version we have
// (§2.6). It also forgets the presence of the previous session, which the
// server sends again after our initial presence.
func (c *Client) onlineRoster(ctx context.Context, info session.Info) {
	c.resetPresence()
	var ver string
	err := c.cfg.Store.View(ctx, func(tx Tx) error {
		v, _, err := tx.Roster(ctx, c.cfg.Account)
		ver = v
		return err
	})
	if err != nil {
		c.cfg.Logger.Warn("roster: reading the stored roster", "err", err)
		return
	}
	versioned := slices.Contains(info.ServerFeatures, nsRosterVer)
	// The hooks run one after the other (the outbox flush comes later):
	// none may wait forever for an answer.
	qctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	res, err := c.SendIQ(qctx, roster.Get(ver, versioned))
	if err != nil {
		c.cfg.Logger.Warn("roster: fetching the roster", "err", err)
		return
	}
	q, cached, err := roster.ParseResult(res)
	if err != nil {
		c.cfg.Logger.Warn("roster: the server's roster", "err", err)
		return
	}
	if cached {
		// §2.6.3: unchanged since ver; changes, if any, come as pushes.
		return
	}
	items := make([]RosterItem, 0, len(q.Items))
	for _, it := range q.Items {
		if ri, ok := rosterItem(it); ok {
			items = append(items, ri)
		} else {
			c.cfg.Logger.Debug("roster: skipping an item that is not a bare JID", "jid", it.JID)
		}
	}
	// A push that the server sent after this result and the loop applied
	// before this transaction would be overwritten here; the stored
	// version is then the result's, so the next session's roster get
	// brings the change back (§2.6.3).
	var answered []jid.JID
	err = c.cfg.Store.Update(ctx, func(tx Tx) error {
		answered = nil
		if err := tx.ReplaceRoster(ctx, c.cfg.Account, q.Ver, items); err != nil {
			return err
		}
		// Requests answered on another client while we were away.
		reqs, err := tx.SubscriptionRequests(ctx, c.cfg.Account)
		if err != nil {
			return err
		}
		for _, r := range reqs {
			i := slices.IndexFunc(items, func(it RosterItem) bool { return it.JID == r.JID })
			if i >= 0 && hasFrom(items[i].Subscription) {
				if err := tx.DeleteSubscriptionRequest(ctx, c.cfg.Account, r.JID); err != nil {
					return err
				}
				answered = append(answered, r.JID)
			}
		}
		return nil
	})
	if err != nil {
		c.cfg.Logger.Warn("roster: storing the roster", "err", err)
		return
	}
	c.Emit(RosterChanged{Full: true, Items: items})
	for _, j := range answered {
		c.Emit(SubscriptionRequestRemoved{JID: j})
	}
}

// handleRosterPush applies a roster push (RFC 6121 §2.1.6) and acknowledges
// it with an empty result.
func (c *Client) handleRosterPush(ctx context.Context, iq *xmlstream.Element) (*xmlstream.Element, error) {
	h, err := stanza.ParseHeader(iq)
	if err != nil {
		return nil, &stanza.Error{Type: stanza.ErrorTypeModify, Condition: stanza.CondBadRequest}
	}
	if !roster.PushAllowed(h.From, c.ownJID()) {
		// RFC 6121 §2.1.6: a push from anyone but our account is ignored.
		// It is answered as a request we do not handle would be, which
		// tells the sender nothing.
		c.cfg.Logger.Warn("roster: ignoring a roster push that does not come from our account", "from", h.From)
		return nil, &stanza.Error{Type: stanza.ErrorTypeCancel, Condition: stanza.CondServiceUnavailable}
	}
	item, ver, err := roster.ParsePush(iq)
	if err != nil {
		c.cfg.Logger.Warn("roster: malformed roster push", "err", err)
		return nil, &stanza.Error{Type: stanza.ErrorTypeModify, Condition: stanza.CondBadRequest}
	}
	var ev RosterChanged
	answered := false
	if item.Subscription == roster.SubRemove {
		if !item.JID.IsBare() {
			return nil, nil
		}
		err = c.cfg.Store.Update(ctx, func(tx Tx) error {
			return tx.DeleteRosterItem(ctx, c.cfg.Account, ver, item.JID)
		})
		ev.Removed = []jid.JID{item.JID}
	} else {
		ri, ok := rosterItem(item)
		if !ok {
			c.cfg.Logger.Debug("roster: skipping a pushed item that is not a bare JID", "jid", item.JID)
			return nil, nil
		}
		err = c.cfg.Store.Update(ctx, func(tx Tx) error {
			answered = false
			if err := tx.PutRosterItem(ctx, c.cfg.Account, ver, ri); err != nil {
				return err
			}
			if !hasFrom(ri.Subscription) {
				return nil
			}
			// The contact now has our presence: a request we kept is
			// answered (perhaps on another client).
			pending, err := hasRequest(ctx, tx, c.cfg.Account, ri.JID)
			if err != nil || !pending {
				return err
			}
			answered = true
			return tx.DeleteSubscriptionRequest(ctx, c.cfg.Account, ri.JID)
		})
		ev.Items = []RosterItem{ri}
	}
	if err != nil {
		c.cfg.Logger.Warn("roster: storing a roster push", "err", err)
		return nil, &stanza.Error{Type: stanza.ErrorTypeWait, Condition: stanza.CondInternalServerError}
	}
	c.Emit(ev)
	if answered {
		c.Emit(SubscriptionRequestRemoved{JID: ev.Items[0].JID})
	}
	// Without a subscription to the contact we no longer see its presence.
	if len(ev.Removed) > 0 {
		c.forgetPresence(ev.Removed[0])
	} else if s := ev.Items[0].Subscription; s != SubscriptionTo && s != SubscriptionBoth {
		c.forgetPresence(ev.Items[0].JID)
	}
	return nil, nil
}

// AddContact adds j (its bare JID) to the roster with a name and groups and
// asks to see its presence (RFC 6121 §2.3, §3.1.1). The roster push that
// follows updates the store and is reported as RosterChanged.
func (c *Client) AddContact(ctx context.Context, j jid.JID, name string, groups []string) error {
	bare, err := bareOf(j)
	if err != nil {
		return fmt.Errorf("add contact: %w", err)
	}
	if err := c.rosterSet(ctx, roster.Item{JID: bare, Name: name, Groups: groups}); err != nil {
		return fmt.Errorf("add contact: %w", err)
	}
	if err := c.Send(ctx, presence.Subscribe(bare)); err != nil {
		return fmt.Errorf("add contact: subscription request: %w", err)
	}
	return nil
}

// RenameContact changes the name of a contact of the roster ("" removes
// it), keeping its groups.
func (c *Client) RenameContact(ctx context.Context, j jid.JID, name string) error {
	it, err := c.storedItem(ctx, j)
	if err != nil {
		return fmt.Errorf("rename contact: %w", err)
	}
	it.Name = name
	if err := c.rosterSet(ctx, it); err != nil {
		return fmt.Errorf("rename contact: %w", err)
	}
	return nil
}

// SetGroups replaces the groups of a contact of the roster, keeping its
// name.
func (c *Client) SetGroups(ctx context.Context, j jid.JID, groups []string) error {
	it, err := c.storedItem(ctx, j)
	if err != nil {
		return fmt.Errorf("set groups: %w", err)
	}
	it.Groups = groups
	if err := c.rosterSet(ctx, it); err != nil {
		return fmt.Errorf("set groups: %w", err)
	}
	return nil
}

// RemoveContact removes a contact from the roster; the server also cancels
// the subscriptions both ways (RFC 6121 §2.5).
func (c *Client) RemoveContact(ctx context.Context, j jid.JID) error {
	bare, err := bareOf(j)
	if err != nil {
		return fmt.Errorf("remove contact: %w", err)
	}
	if _, err := c.SendIQ(ctx, roster.Remove(bare)); err != nil {
		return fmt.Errorf("remove contact: %w", err)
	}
	return nil
}

// rosterSet sends a roster set for it and waits for the server's answer.
func (c *Client) rosterSet(ctx context.Context, it roster.Item) error {
	req, err := roster.Set(it)
	if err != nil {
		return err
	}
	_, err = c.SendIQ(ctx, req)
	return err
}

// storedItem returns the stored roster item of j as a roster.Item.
func (c *Client) storedItem(ctx context.Context, j jid.JID) (roster.Item, error) {
	if err := c.needStore("roster"); err != nil {
		return roster.Item{}, err
	}
	bare, err := bareOf(j)
	if err != nil {
		return roster.Item{}, err
	}
	var found *RosterItem
	err = c.cfg.Store.View(ctx, func(tx Tx) error {
		_, items, err := tx.Roster(ctx, c.cfg.Account)
		if err != nil {
			return err
		}
		if i := slices.IndexFunc(items, func(it RosterItem) bool { return it.JID == bare }); i >= 0 {
			found = &items[i]
		}
		return nil
	})
	if err != nil {
		return roster.Item{}, err
	}
	if found == nil {
		return roster.Item{}, fmt.Errorf("%w: %s", ErrNotInRoster, bare)
	}
	return roster.Item{JID: found.JID, Name: found.Name, Groups: found.Groups}, nil
}

// rosterItem converts a roster item of the wire to the store's; items
// whose JID is not bare (RFC 6121 allows any JID, clients use bare ones)
// are not kept.
func rosterItem(it roster.Item) (RosterItem, bool) {
	if !it.JID.IsBare() {
		return RosterItem{}, false
	}
	sub := SubscriptionNone
	switch it.Subscription {
	case roster.SubTo:
		sub = SubscriptionTo
	case roster.SubFrom:
		sub = SubscriptionFrom
	case roster.SubBoth:
		sub = SubscriptionBoth
	}
	return RosterItem{
		JID: it.JID, Name: it.Name, Subscription: sub, Ask: it.Ask, Approved: it.Approved,
		Groups: slices.Clone(it.Groups),
	}, true
}

// hasFrom reports whether the contact is subscribed to our presence.
func hasFrom(s Subscription) bool { return s == SubscriptionFrom || s == SubscriptionBoth }

// hasRequest reports whether a subscription request from j is stored.
func hasRequest(ctx context.Context, tx Tx, acct AccountID, j jid.JID) (bool, error) {
	reqs, err := tx.SubscriptionRequests(ctx, acct)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(reqs, func(r SubscriptionRequest) bool { return r.JID == j }), nil
}
