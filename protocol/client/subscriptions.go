package client

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/presence"
)

// Presence subscriptions (RFC 6121 §3). Inbound requests are stored and
// reported; only the user answers them (the seed requirement: every
// subscription is approved by the user, never automatically — not even
// for a contact we asked ourselves).

// nsNick is XEP-0172 User Nickname, which a subscription request may carry.
const nsNick = "http://jabber.org/protocol/nick"

// handleSubscription handles the four subscription presence types.
func (c *Client) handleSubscription(ctx context.Context, p presence.Presence, el *xmlstream.Element) {
	if p.From.IsZero() {
		return
	}
	from := p.From.Bare()
	if from == c.ownJID().Bare() {
		return
	}
	switch p.Type {
	case presence.TypeSubscribe:
		c.storeRequest(ctx, p, el, from)
	case presence.TypeUnsubscribe:
		// The contact withdrew its request (RFC 6121 §3.3), or no longer
		// wants our presence.
		c.forgetRequest(ctx, from)
		c.Emit(SubscriptionUpdate{JID: from, Type: p.Type})
	case presence.TypeUnsubscribed:
		c.Emit(SubscriptionUpdate{JID: from, Type: p.Type})
		c.subscriptionEnded(ctx, from)
	default: // subscribed
		c.Emit(SubscriptionUpdate{JID: from, Type: p.Type})
	}
}

// subscriptionEnded applies an inbound unsubscribed: our request was
// denied or our subscription cancelled (RFC 6121 §3.2). The server must
// push the roster item without ask and without 'to' (§3.2.3), but not all
// do (ejabberd 23.01 keeps quiet), so the stored item is brought in line
// here; a push that follows changes nothing more.
func (c *Client) subscriptionEnded(ctx context.Context, from jid.JID) {
	var changed *RosterItem
	err := c.cfg.Store.Update(ctx, func(tx Tx) error {
		changed = nil
		ver, items, err := tx.Roster(ctx, c.cfg.Account)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(items, func(it RosterItem) bool { return it.JID == from })
		if i < 0 {
			return nil
		}
		it := items[i]
		if !it.Ask && it.Subscription != SubscriptionTo && it.Subscription != SubscriptionBoth {
			return nil
		}
		it.Ask = false
		switch it.Subscription {
		case SubscriptionTo:
			it.Subscription = SubscriptionNone
		case SubscriptionBoth:
			it.Subscription = SubscriptionFrom
		}
		changed = &it
		return tx.PutRosterItem(ctx, c.cfg.Account, ver, it)
	})
	if err != nil {
		c.cfg.Logger.Warn("subscription: applying an unsubscribed", "err", err)
		return
	}
	if changed != nil {
		c.Emit(RosterChanged{Items: []RosterItem{*changed}})
	}
	c.forgetPresence(from)
}

// storeRequest records an inbound subscription request (RFC 6121 §3.1.3)
// for the user to answer.
func (c *Client) storeRequest(ctx context.Context, p presence.Presence, el *xmlstream.Element, from jid.JID) {
	req := SubscriptionRequest{
		JID:      from,
		Nick:     truncate(strings.TrimSpace(el.ChildText(nsNick, "nick")), maxNickLen),
		Status:   p.StatusIn(c.cfg.Languages),
		Received: c.now().UTC(),
	}
	var dropped string // why the request was not stored
	err := c.cfg.Store.Update(ctx, func(tx Tx) error {
		dropped = ""
		// The server stops blocked entities, but should one slip through
		// (a block made while offline), it never reaches the user.
		blocked, err := blockedIn(ctx, tx, c.cfg.Account, from)
		if err != nil {
			return err
		}
		if blocked {
			dropped = "blocked"
			return nil
		}
		// A request the user approved already (a late or repeated one:
		// servers resend pending requests at login) needs no answer.
		_, items, err := tx.Roster(ctx, c.cfg.Account)
		if err != nil {
			return err
		}
		if slices.ContainsFunc(items, func(it RosterItem) bool { return it.JID == from && hasFrom(it.Subscription) }) {
			dropped = "already approved"
			return nil
		}
		reqs, err := tx.SubscriptionRequests(ctx, c.cfg.Account)
		if err != nil {
			return err
		}
		if len(reqs) >= maxSubscriptionRequests && !slices.ContainsFunc(reqs, func(r SubscriptionRequest) bool { return r.JID == from }) {
			dropped = "too many unanswered requests"
			return nil
		}
		return tx.PutSubscriptionRequest(ctx, c.cfg.Account, req)
	})
	switch {
	case err != nil:
		c.cfg.Logger.Warn("subscription: storing a request", "err", err)
	case dropped != "":
		c.cfg.Logger.Info("subscription: dropping a request", "from", from, "why", dropped)
	default:
		c.Emit(SubscriptionRequested{Request: req})
	}
}

// forgetRequest deletes the stored request of j, if any, and reports it.
func (c *Client) forgetRequest(ctx context.Context, j jid.JID) {
	had := false
	err := c.cfg.Store.Update(ctx, func(tx Tx) error {
		var err error
		if had, err = hasRequest(ctx, tx, c.cfg.Account, j); err != nil || !had {
			return err
		}
		return tx.DeleteSubscriptionRequest(ctx, c.cfg.Account, j)
	})
	if err != nil {
		c.cfg.Logger.Warn("subscription: forgetting a request", "err", err)
		return
	}
	if had {
		c.Emit(SubscriptionRequestRemoved{JID: j})
	}
}

// RequestSubscription asks j for permission to see its presence (RFC 6121
// §3.1.1). AddContact does this too, after adding j to the roster.
func (c *Client) RequestSubscription(ctx context.Context, j jid.JID) error {
	return c.sendSubscription(ctx, "request subscription", j, presence.Subscribe)
}

// ApproveSubscription lets j see our presence, answering its request (RFC
// 6121 §3.1.4), and forgets the stored request.
func (c *Client) ApproveSubscription(ctx context.Context, j jid.JID) error {
	return c.answerRequest(ctx, "approve subscription", j, presence.Subscribed)
}

// DenySubscription refuses j's request to see our presence (RFC 6121
// §3.1.4) and forgets the stored request.
func (c *Client) DenySubscription(ctx context.Context, j jid.JID) error {
	return c.answerRequest(ctx, "deny subscription", j, presence.Unsubscribed)
}

// CancelSubscription revokes j's subscription to our presence (RFC 6121
// §3.2): j no longer sees it.
func (c *Client) CancelSubscription(ctx context.Context, j jid.JID) error {
	return c.answerRequest(ctx, "cancel subscription", j, presence.Unsubscribed)
}

// Unsubscribe cancels our subscription to j's presence (RFC 6121 §3.3).
func (c *Client) Unsubscribe(ctx context.Context, j jid.JID) error {
	return c.sendSubscription(ctx, "unsubscribe", j, presence.Unsubscribe)
}

// PreApprove approves j's subscription request before it is made (RFC 6121
// §3.4), so that the server accepts it without asking. Only servers that
// advertise pre-approval support it (ErrNotSupported otherwise).
func (c *Client) PreApprove(ctx context.Context, j jid.JID) error {
	if c.Session() == nil {
		return fmt.Errorf("pre-approve: %w", ErrOffline)
	}
	if !c.serverOffers(nsPreApproval) {
		return fmt.Errorf("pre-approve: %w", ErrNotSupported)
	}
	return c.sendSubscription(ctx, "pre-approve", j, presence.Subscribed)
}

func (c *Client) sendSubscription(ctx context.Context, op string, j jid.JID, build func(jid.JID) *xmlstream.Element) error {
	bare, err := bareOf(j)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if err := c.Send(ctx, build(bare)); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

func (c *Client) answerRequest(ctx context.Context, op string, j jid.JID, build func(jid.JID) *xmlstream.Element) error {
	if err := c.needStore(op); err != nil {
		return err
	}
	if err := c.sendSubscription(ctx, op, j, build); err != nil {
		return err
	}
	c.forgetRequest(ctx, j.Bare())
	return nil
}

// truncate cuts s to at most n bytes at a character boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
