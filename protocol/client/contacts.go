package client

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/tern-im/tern/protocol/avatar"
	"github.com/tern-im/tern/protocol/blocking"
	"github.com/tern-im/tern/protocol/caps"
	"github.com/tern-im/tern/protocol/disco"
	"github.com/tern-im/tern/protocol/entitytime"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/roster"
	"github.com/tern-im/tern/protocol/session"
)

// Stream features (RFC 6121 §2.6.1, §3.4) the contact features look for in
// session.Info.ServerFeatures.
const (
	nsRosterVer   = "urn:xmpp:features:rosterver"
	nsPreApproval = "urn:xmpp:features:pre-approval"
)

// Limits on the in-memory state peers can make grow.
const (
	// maxTrackedContacts bounds the bare JIDs whose presence is tracked
	// (contacts, and strangers sending directed presence).
	maxTrackedContacts = 10000
	// maxResources bounds the resources tracked per bare JID.
	maxResources = 64
	// maxCapsCache bounds the verified disco#info results kept in memory
	// (the store keeps them all).
	maxCapsCache = 1024
	// maxInFlight bounds the concurrent caps and avatar look-ups.
	maxInFlight = 32
	// maxSubscriptionRequests bounds the stored unanswered requests: a
	// flood of requests from throwaway accounts must not fill the disk.
	maxSubscriptionRequests = 1000
	// maxNickLen bounds the XEP-0172 nickname kept from a request, in bytes.
	maxNickLen = 1024
	// queryTimeout bounds each round trip to a contact or the server made
	// in the background: a peer that never answers must not hold a task.
	queryTimeout = 30 * time.Second
)

// Errors of the contact API.
var (
	// ErrNotSupported: the server does not offer what the request needs
	// (pre-approval, client state indication, …).
	ErrNotSupported = errors.New("client: the server does not support this")
	// ErrNotInRoster: the contact is not in the stored roster.
	ErrNotInRoster = errors.New("client: not in the roster")
	// ErrInvalidShow: a presence show value other than "", "away", "chat",
	// "dnd" and "xa" (RFC 6121 §4.7.2.1).
	ErrInvalidShow = errors.New("client: invalid presence show value")
	// ErrInvalidJID: an address the operation cannot use (empty, or with
	// a resource where a bare JID is needed).
	ErrInvalidJID = errors.New("client: invalid address")
)

// contacts is the state of the contact features of one Client. Handlers
// run on the client loop, tasks and API calls on other goroutines: mu
// guards every field.
type contacts struct {
	mu sync.Mutex

	// The presence the user chose (SetPresence, SetUnavailable). It is
	// broadcast after the roster on every new session.
	available bool
	show      string
	status    string
	priority  int8

	// ownHash is the XEP-0153 hash of our avatar ("" for none); ownReady
	// says whether we know it (until then presence carries an empty <x/>,
	// §4.1 rule 2).
	ownHash  string
	ownReady bool

	// active is the XEP-0352 client state the user chose.
	active bool

	// resources tracks the available resources of contacts and of our own
	// other clients: bare JID → resource → presence.
	resources map[jid.JID]map[string]*resourceState
	// capsInfo holds verified disco#info results by "hash ver".
	capsInfo map[string]disco.Info
	// jidInfo holds disco#info results that could not be verified (legacy
	// or unsupported hash, mismatch): they belong to that full JID alone
	// (XEP-0115 §5.4) and are forgotten when it goes offline.
	jidInfo map[jid.JID]disco.Info
	// busy marks the caps and avatar look-ups in flight.
	busy map[string]bool
	// avatars is the avatar hash known to be stored per bare JID.
	avatars map[jid.JID]string
	// wanted is the avatar hash last announced per bare JID, in the order
	// announcements arrived: look-ups finish in any order, and only the
	// latest announcement may be stored.
	wanted map[jid.JID]string
	// pepAvatar marks the contacts that announced their avatar with
	// XEP-0084, which supersedes XEP-0153 (XEP-0084 §1): their presence
	// hashes, often stale or rewritten by servers, are then ignored.
	pepAvatar map[jid.JID]bool
	// rejected holds the avatar hashes whose image was refused (limits,
	// not an image, not matching its hash), so that a contact repeating
	// one does not make us fetch it again.
	rejected map[string]bool

	// blocklist mirrors the store's (loaded lazily).
	blocklist []jid.JID
	blockOK   bool

	// own is our disco#info and caps, computed once every feature has
	// registered (the first time they are needed).
	ownOnce sync.Once
	ownInfo disco.Info
	ownCaps caps.Caps
}

// resourceState is one tracked resource.
type resourceState struct {
	p    ResourcePresence
	caps caps.Caps // zero when the presence carried none
}

// contacts returns the contact state of c.
func (c *Client) contacts() *contacts { return c.contactsState }

func newContacts() *contacts {
	return &contacts{
		available: true,
		active:    true,
		resources: make(map[jid.JID]map[string]*resourceState),
		capsInfo:  make(map[string]disco.Info),
		jidInfo:   make(map[jid.JID]disco.Info),
		busy:      make(map[string]bool),
		avatars:   make(map[jid.JID]string),
		wanted:    make(map[jid.JID]string),
		pepAvatar: make(map[jid.JID]bool),
		rejected:  make(map[string]bool),
	}
}

// registerContacts wires the contact features: roster (RFC 6121 §2),
// subscriptions and presence (RFC 6121 §3–4), entity capabilities and
// service discovery (XEP-0115, XEP-0030), blocking (XEP-0191), vCard and
// avatars (XEP-0054, XEP-0084, XEP-0153), entity time (XEP-0202) and client
// state indication (XEP-0352).
func registerContacts(c *Client) {
	m := c.mux
	// On every new session, in this order: the roster before presence
	// (RFC 6121 §2.2), then what can wait.
	c.OnOnline(c.onlineRoster)
	c.OnOnline(c.onlinePresence)
	// XEP-0352 §5: every stream, a resumed one too, starts active.
	c.OnResumed(func(_ context.Context, info session.Info) { c.restoreClientState(info) })
	c.OnOnline(c.onlineBlocklist)
	c.OnOnline(c.onlineOwnAvatar)

	m.HandleIQ("set", roster.NS, "query", c.handleRosterPush)
	m.HandleIQ("set", blocking.NS, "block", c.handleBlockPush)
	m.HandleIQ("set", blocking.NS, "unblock", c.handleBlockPush)
	m.HandlePresence(c.handlePresence)
	m.HandleMessage(c.handleAvatarEvent)

	// XEP-0030 and XEP-0115: who we are and what we do.
	m.HandleIQ("get", disco.NSInfo, "query", c.handleDiscoInfo)
	m.AddFeature(disco.NSInfo)
	m.AddFeature(caps.NS)
	// XEP-0084 via XEP-0163: ask for avatar metadata notifications.
	m.AddFeature(avatar.NSMetadataNotify)
	// XEP-0202: answer entity time.
	m.HandleIQ("get", entitytime.NS, "time", func(context.Context, *xmlstream.Element) (*xmlstream.Element, error) {
		return entitytime.Answer(c.now()), nil
	})
	m.AddFeature(entitytime.NS)
}

// ownJID returns the full JID of the current session (the configured one
// before the first connection).
func (c *Client) ownJID() jid.JID {
	if s := c.Session(); s != nil {
		if j := s.Info().JID; !j.IsZero() {
			return j
		}
	}
	return c.cfg.Session.JID
}

// serverOffers reports whether the current session's stream features list
// the namespace ns.
func (c *Client) serverOffers(ns string) bool {
	s := c.Session()
	return s != nil && slices.Contains(s.Info().ServerFeatures, ns)
}

// needStore fails with ErrNoStore when the client has no store (the
// contact features are not registered then, but the API stays callable).
func (c *Client) needStore(op string) error {
	if c.cfg.Store == nil {
		return fmt.Errorf("%s: %w", op, ErrNoStore)
	}
	return nil
}

// bareOf checks that j is usable as a contact address and returns its bare
// form.
func bareOf(j jid.JID) (jid.JID, error) {
	if j.IsZero() {
		return jid.JID{}, ErrInvalidJID
	}
	return j.Bare(), nil
}

// startTask runs f as a task of the current connection unless a task with
// the same key is already running or too many are; it reports whether f
// was started.
func (c *Client) startTask(key string, f func(ctx context.Context)) bool {
	st := c.contacts()
	st.mu.Lock()
	if st.busy[key] || len(st.busy) >= maxInFlight {
		st.mu.Unlock()
		return false
	}
	st.busy[key] = true
	st.mu.Unlock()
	done := func() {
		st.mu.Lock()
		delete(st.busy, key)
		st.mu.Unlock()
	}
	if !c.Go(func(ctx context.Context) {
		defer done()
		f(ctx)
	}) {
		done()
		return false
	}
	return true
}
