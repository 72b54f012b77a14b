package client

import (
	"context"
	"errors"

	"github.com/tern-im/tern/protocol/caps"
	"github.com/tern-im/tern/protocol/disco"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
)

// Service discovery about us (XEP-0030) and entity capabilities
// (XEP-0115): what we advertise is generated from the features actually
// registered in the mux; what contacts advertise is looked up in the store
// by verified hash, or asked for in a task, verified, and only then cached.

// capsNode identifies Tern in our caps (XEP-0115 §4: a URL of the project).
const capsNode = "https://tern.im"

// ownDisco returns our disco#info and the caps that advertise it. It is
// computed once, when first needed: every feature has registered by then
// (New returns only after registerFeatures).
func (c *Client) ownDisco() (disco.Info, caps.Caps) {
	st := c.contacts()
	st.ownOnce.Do(func() {
		// Who we are: XEP-0030 §3.1, registered category client/pc.
		id := disco.Identity{Category: "client", Type: "pc", Name: "Tern"}
		info := disco.OwnInfo(id, c.mux.Features()...)
		cp, err := caps.New(capsNode, capsInfo(info))
		if err != nil {
			// OwnInfo removes duplicates, so this cannot happen.
			c.cfg.Logger.Error("caps: our own disco#info cannot be hashed", "err", err)
		}
		st.ownInfo, st.ownCaps = info, cp
	})
	return st.ownInfo, st.ownCaps
}

// handleDiscoInfo answers disco#info about us, for the plain entity and
// for our caps node#ver (XEP-0115 §6.2).
func (c *Client) handleDiscoInfo(_ context.Context, iq *xmlstream.Element) (*xmlstream.Element, error) {
	info, cp := c.ownDisco()
	return disco.Answer(iq, info, cp.InfoNode())
}

// capsInfo converts a disco#info result to what the verification string
// covers.
func capsInfo(info disco.Info) caps.Info {
	ci := caps.Info{Features: info.Features, Forms: info.Forms}
	for _, id := range info.Identities {
		ci.Identities = append(ci.Identities, caps.Identity(id))
	}
	return ci
}

// capsKey identifies a verification string with its hash function.
func capsKey(cp caps.Caps) string { return cp.Hash + " " + cp.Ver }

// verifiable reports whether cp's ver can be verified and so cached
// globally (XEP-0115 §5.4, §12).
func verifiable(cp caps.Caps) bool { return !cp.Legacy() && caps.Supported(cp.Hash) }

// resolveCaps makes sure the features behind cp, advertised by full, are
// known, looking them up in a task when they are not.
func (c *Client) resolveCaps(full jid.JID, cp caps.Caps) {
	st := c.contacts()
	v := verifiable(cp)
	st.mu.Lock()
	known := false
	if v {
		_, known = st.capsInfo[capsKey(cp)]
	} else {
		_, known = st.jidInfo[full]
	}
	st.mu.Unlock()
	if known {
		return
	}
	key := "caps " + capsKey(cp)
	if !v {
		key = "caps " + full.String()
	}
	c.startTask(key, func(ctx context.Context) { c.lookupCaps(ctx, full, cp, v) })
}

// lookupCaps finds the disco#info behind cp: in the store (verified
// results only), else by asking full. A result is cached by hash only when
// it verifies; otherwise it holds for full alone.
func (c *Client) lookupCaps(ctx context.Context, full jid.JID, cp caps.Caps, v bool) {
	if v {
		var raw []byte
		err := c.cfg.Store.View(ctx, func(tx Tx) error {
			var err error
			raw, err = tx.DiscoInfo(ctx, cp.Hash, cp.Ver)
			return err
		})
		switch {
		case err == nil:
			if info, err := parseStoredInfo(raw); err == nil {
				c.rememberCaps(cp, info)
				c.Emit(CapsResolved{JID: full, Verified: true})
				return
			}
			c.cfg.Logger.Warn("caps: a cached disco#info does not parse; asking again", "ver", cp.Ver)
		case !errors.Is(err, ErrNotFound):
			c.cfg.Logger.Warn("caps: reading the cache", "err", err)
		}
	}
	qctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	res, err := c.SendIQ(qctx, disco.InfoRequest(full, cp.InfoNode()))
	if err != nil {
		c.cfg.Logger.Debug("caps: disco#info query failed", "to", full, "err", err)
		return
	}
	info, err := disco.ParseInfo(res)
	if err != nil {
		c.cfg.Logger.Debug("caps: malformed disco#info answer", "from", full, "err", err)
		return
	}
	info.Node = ""
	if v && caps.Verify(capsInfo(info), cp.Hash, cp.Ver) {
		raw := xmlstream.Append(nil, info.Element(), "")
		err := c.cfg.Store.Update(ctx, func(tx Tx) error {
			return tx.PutDiscoInfo(ctx, cp.Hash, cp.Ver, raw)
		})
		if err != nil {
			c.cfg.Logger.Warn("caps: caching a verified disco#info", "err", err)
		}
		c.rememberCaps(cp, info)
		c.Emit(CapsResolved{JID: full, Verified: true})
		return
	}
	if v {
		// XEP-0115 §5.4: a mismatch may be an attack on the cache (cache
		// poisoning); the answer is the sender's alone.
		c.cfg.Logger.Warn("caps: disco#info does not match the advertised hash; not caching it", "from", full, "ver", cp.Ver)
	}
	st := c.contacts()
	st.mu.Lock()
	r := st.resources[full.Bare()][full.Resource()]
	still := r != nil && r.caps == cp
	if still {
		st.jidInfo[full] = info
	}
	st.mu.Unlock()
	if still {
		c.Emit(CapsResolved{JID: full, Verified: false})
	}
}

// rememberCaps keeps a verified result in memory, within maxCapsCache.
func (c *Client) rememberCaps(cp caps.Caps, info disco.Info) {
	st := c.contacts()
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.capsInfo) >= maxCapsCache {
		for k := range st.capsInfo { // evict one at random; the store keeps it
			delete(st.capsInfo, k)
			break
		}
	}
	st.capsInfo[capsKey(cp)] = info
}

// parseStoredInfo reads a cached disco#info <query/>.
func parseStoredInfo(raw []byte) (disco.Info, error) {
	el, err := xmlstream.Parse(raw)
	if err != nil {
		return disco.Info{}, err
	}
	return disco.ParseInfo(el)
}

// ContactSupports reports whether a contact's resource advertises feature
// in its entity capabilities (XEP-0115) — for a bare JID, whether any of
// its available resources does. It answers from memory: false while the
// features are not known yet (CapsResolved reports when they are).
func (c *Client) ContactSupports(j jid.JID, feature string) bool {
	st := c.contacts()
	st.mu.Lock()
	defer st.mu.Unlock()
	rs := st.resources[j.Bare()]
	has := func(r *resourceState) bool {
		if info, ok := st.jidInfo[r.p.JID]; ok {
			return info.HasFeature(feature)
		}
		if r.caps.Ver != "" && verifiable(r.caps) {
			if info, ok := st.capsInfo[capsKey(r.caps)]; ok {
				return info.HasFeature(feature)
			}
		}
		return false
	}
	if j.Resource() != "" {
		r := rs[j.Resource()]
		return r != nil && has(r)
	}
	for _, r := range rs {
		if has(r) {
			return true
		}
	}
	return false
}
