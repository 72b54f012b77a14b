package client

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/tern-im/tern/protocol/avatar"
	"github.com/tern-im/tern/protocol/caps"
	"github.com/tern-im/tern/protocol/csi"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/presence"
	"github.com/tern-im/tern/protocol/session"
)

// Presence (RFC 6121 §4): ours, broadcast after the roster on each new
// session with the values the user last chose, and our contacts', tracked
// per resource in memory. Also XEP-0352 client state indication, which is
// per stream too.

// nsMUCUser marks the presence of a XEP-0045 room occupant, which belongs
// to the rooms feature, not to contacts.
const nsMUCUser = "http://jabber.org/protocol/muc#user"

// onlinePresence restores the client state and sends our initial presence
// (RFC 6121 §4.2) on a new session, after the roster.
func (c *Client) onlinePresence(ctx context.Context, info session.Info) {
	c.restoreClientState(info)
	st := c.contacts()
	st.mu.Lock()
	available := st.available
	st.mu.Unlock()
	if !available {
		return
	}
	if err := c.Send(ctx, c.ownPresence(jid.JID{}, true)); err != nil {
		c.cfg.Logger.Warn("presence: sending the initial presence", "err", err)
	}
}

// restoreClientState tells the server we are inactive when the user set
// it so: XEP-0352 §5, every stream starts active — a new one, and a
// resumed XEP-0198 stream too. (The client loop has no hook for resumed
// streams yet; it should call this there as well.)
func (c *Client) restoreClientState(info session.Info) {
	st := c.contacts()
	st.mu.Lock()
	active := st.active
	st.mu.Unlock()
	if active || !slices.Contains(info.ServerFeatures, csi.NS) {
		return
	}
	if s := c.Session(); s != nil {
		if err := s.SendNonza(csi.Inactive.Element()); err != nil {
			c.cfg.Logger.Debug("csi: could not restore the inactive state", "err", err)
		}
	}
}

// SetPresence sets and broadcasts our availability: show is "" (online),
// "away", "chat", "dnd" or "xa"; status a text for contacts ("" for none);
// priority is clamped to -128…127 (RFC 6121 §4.7.2). The values are kept
// and sent again on every new session. Offline, they are only kept.
func (c *Client) SetPresence(ctx context.Context, show, status string, priority int) error {
	switch show {
	case "", presence.ShowAway, presence.ShowChat, presence.ShowDND, presence.ShowXA:
	default:
		return fmt.Errorf("set presence: %w: %q", ErrInvalidShow, show)
	}
	st := c.contacts()
	st.mu.Lock()
	st.available, st.show, st.status, st.priority = true, show, status, presence.ClampPriority(priority)
	st.mu.Unlock()
	return c.broadcast(ctx, "set presence", true)
}

// SetUnavailable broadcasts unavailable presence (RFC 6121 §4.5) with an
// optional status while staying connected: messages and roster pushes
// still arrive. It is kept until SetPresence, across reconnections.
func (c *Client) SetUnavailable(ctx context.Context, status string) error {
	st := c.contacts()
	st.mu.Lock()
	st.available, st.status = false, status
	st.mu.Unlock()
	return c.broadcast(ctx, "set unavailable", false)
}

// broadcast sends our presence to our subscribers; offline it does nothing
// (the next session sends it).
func (c *Client) broadcast(ctx context.Context, op string, available bool) error {
	if c.Session() == nil {
		return nil
	}
	err := c.Send(ctx, c.ownPresence(jid.JID{}, available))
	if errors.Is(err, ErrOffline) || errors.Is(err, session.ErrNotConnected) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// SendDirectedPresence sends our presence to to alone (RFC 6121 §4.6):
// our current availability when available is set, unavailable otherwise.
// Directed presence is not repeated after a reconnection.
func (c *Client) SendDirectedPresence(ctx context.Context, to jid.JID, available bool) error {
	if to.IsZero() {
		return fmt.Errorf("directed presence: %w", ErrInvalidJID)
	}
	if err := c.Send(ctx, c.ownPresence(to, available)); err != nil {
		return fmt.Errorf("directed presence: %w", err)
	}
	return nil
}

// ownPresence builds our presence, to our subscribers (to zero) or
// directed. Available presence carries our entity capabilities (XEP-0115)
// and our avatar hash (XEP-0153 §4.1: in every presence).
func (c *Client) ownPresence(to jid.JID, available bool) *xmlstream.Element {
	st := c.contacts()
	st.mu.Lock()
	show, status, prio, hash, ready := st.show, st.status, st.priority, st.ownHash, st.ownReady
	st.mu.Unlock()
	p := presence.Presence{To: to}
	if status != "" {
		p.Status = map[string]string{"": status}
	}
	if !available {
		p.Type = presence.TypeUnavailable
		return p.Element()
	}
	p.Show, p.Priority = show, prio
	_, cp := c.ownDisco()
	p.Extensions = []*xmlstream.Element{cp.Element(), avatar.Update{Ready: ready, Hash: hash}.Element()}
	return p.Element()
}

// Presences returns the available resources of a contact (or of our own
// account: our other clients), highest priority first. It is empty when
// the contact is offline or we do not see its presence.
func (c *Client) Presences(j jid.JID) []ResourcePresence {
	st := c.contacts()
	st.mu.Lock()
	var out []ResourcePresence
	for _, rs := range st.resources[j.Bare()] {
		out = append(out, rs.p)
	}
	st.mu.Unlock()
	slices.SortFunc(out, func(a, b ResourcePresence) int {
		if a.Priority != b.Priority {
			return cmp.Compare(b.Priority, a.Priority)
		}
		return cmp.Compare(a.JID.String(), b.JID.String())
	})
	return out
}

// SetActive tells the server whether the user is looking at Tern
// (XEP-0352 client state indication), so that it can hold back unimportant
// traffic while not. The state is kept and restored on every new session.
// It fails with ErrNotSupported when the server does not offer the feature
// (the state is kept all the same).
func (c *Client) SetActive(active bool) error {
	st := c.contacts()
	st.mu.Lock()
	st.active = active
	st.mu.Unlock()
	s := c.Session()
	if s == nil || !s.Connected() {
		return nil
	}
	if !c.serverOffers(csi.NS) {
		return fmt.Errorf("set active: %w", ErrNotSupported)
	}
	state := csi.Inactive
	if active {
		state = csi.Active
	}
	if err := s.SendNonza(state.Element()); err != nil && !errors.Is(err, session.ErrNotConnected) {
		return fmt.Errorf("set active: %w", err)
	}
	return nil
}

// handlePresence routes inbound presence.
func (c *Client) handlePresence(ctx context.Context, el *xmlstream.Element) bool {
	p, err := presence.Parse(el)
	if err != nil {
		c.cfg.Logger.Debug("presence: dropping a malformed presence", "err", err)
		return true
	}
	if p.Extension(nsMUCUser, "x") != nil {
		return false
	}
	switch {
	case presence.IsSubscription(p.Type):
		c.handleSubscription(ctx, p, el)
	case p.Type == presence.TypeAvailable || p.Type == presence.TypeUnavailable:
		c.trackPresence(p, el)
	case p.Type == presence.TypeError:
		if p.Error != nil {
			c.Emit(PresenceError{From: p.From, Err: p.Error})
		}
	}
	// Probes are the server's business (RFC 6121 §4.3).
	return true
}

// trackPresence records an available or unavailable presence of a
// resource.
func (c *Client) trackPresence(p presence.Presence, el *xmlstream.Element) {
	if p.From.IsZero() || p.From == c.ownJID() {
		return
	}
	bare, res := p.From.Bare(), p.From.Resource()
	st := c.contacts()
	now := c.now()
	if p.Type == presence.TypeUnavailable {
		st.mu.Lock()
		if res == "" {
			// The whole bare JID is offline.
			for r := range st.resources[bare] {
				if full, err := bare.WithResource(r); err == nil {
					delete(st.jidInfo, full)
				}
			}
			delete(st.resources, bare)
		} else if rs := st.resources[bare]; rs != nil {
			delete(rs, res)
			if len(rs) == 0 {
				delete(st.resources, bare)
			}
		}
		delete(st.jidInfo, p.From)
		st.mu.Unlock()
		c.Emit(PresenceChanged{Presence: ResourcePresence{JID: p.From, Since: now}})
		return
	}
	rp := ResourcePresence{
		JID: p.From, Show: p.Show, Status: p.StatusIn(c.cfg.Languages), Priority: p.Priority, Since: now,
	}
	var cp caps.Caps
	if x := p.Extension(caps.NS, "c"); x != nil {
		if v, err := caps.Parse(x); err == nil {
			cp = v
			rp.Node = v.Node
		}
	}
	st.mu.Lock()
	rs := st.resources[bare]
	if rs == nil {
		if len(st.resources) >= maxTrackedContacts {
			st.mu.Unlock()
			c.cfg.Logger.Warn("presence: too many entities to track; ignoring one", "from", p.From)
			return
		}
		rs = make(map[string]*resourceState)
		st.resources[bare] = rs
	}
	if _, ok := rs[res]; !ok && len(rs) >= maxResources {
		st.mu.Unlock()
		c.cfg.Logger.Warn("presence: too many resources; ignoring one", "from", p.From)
		return
	}
	old := rs[res]
	rs[res] = &resourceState{p: rp, caps: cp}
	if old != nil && old.caps != cp {
		delete(st.jidInfo, p.From)
	}
	st.mu.Unlock()
	c.Emit(PresenceChanged{Presence: rp, Available: true})
	if cp.Ver != "" {
		c.resolveCaps(p.From, cp)
	}
	if u, err := avatar.ParseUpdate(el); err == nil && u.Ready {
		c.avatarAnnounced(bare, u.Hash)
	}
}

// forgetPresence forgets the presence of every resource of bare (when we
// no longer see its presence: RFC 6121 §3.3 has the server say so, not all
// servers do) and reports them unavailable.
func (c *Client) forgetPresence(bare jid.JID) {
	st := c.contacts()
	st.mu.Lock()
	var gone []jid.JID
	for _, r := range st.resources[bare] {
		gone = append(gone, r.p.JID)
		delete(st.jidInfo, r.p.JID)
	}
	delete(st.resources, bare)
	st.mu.Unlock()
	now := c.now()
	for _, j := range gone {
		c.Emit(PresenceChanged{Presence: ResourcePresence{JID: j, Since: now}})
	}
}

// resetPresence forgets the presence of the previous session (a new
// session learns it again), reporting every tracked resource unavailable.
func (c *Client) resetPresence() {
	st := c.contacts()
	st.mu.Lock()
	var gone []jid.JID
	for _, rs := range st.resources {
		for _, r := range rs {
			gone = append(gone, r.p.JID)
		}
	}
	clear(st.resources)
	clear(st.jidInfo)
	st.mu.Unlock()
	now := c.now()
	for _, j := range gone {
		c.Emit(PresenceChanged{Presence: ResourcePresence{JID: j, Since: now}})
	}
}
