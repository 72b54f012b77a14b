package client

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/message"
	"github.com/tern-im/tern/protocol/omemo"
	"github.com/tern-im/tern/protocol/session"
	"github.com/tern-im/tern/protocol/sid"
	"github.com/tern-im/tern/protocol/stanza"
)

// OMEMO in the engine (XEP-0384 0.3, issue 6). The cryptography is the
// E2EE layer's (crypto/omemo); the engine does the network and decides
// when to encrypt.
//
// Decisions:
//   - Every new session: Setup (our device), signed prekey rotation, our
//     device list fetched and our id re-added when missing (other ids are
//     never removed by us), our bundle published with open access
//     (publish-options, node configuration as the fallback). The bundle
//     goes out before the list, so a device that sees our id can fetch
//     it. We advertise devicelist+notify, so PEP pushes lists to us.
//   - A device list is believed only from its owner's bare JID
//     (omemo.ParseDeviceListEvent; DESIGN.md §7); anything else is dropped.
//   - Contacts' lists are fetched on demand (once per session) before a
//     message is sent and when the UI asks for their devices; bundles of
//     devices without a session are fetched then, and sessions built.
//     Nothing touches the network inside a store transaction.
//   - Policy (Conversation.Encryption): Required encrypts; Disabled sends
//     plaintext; Default encrypts when the peer publishes OMEMO devices.
//     An encrypted message goes to the peer's trusted devices and our own
//     other trusted devices; when no device of the peer can be encrypted
//     to (our own devices alone do not help the peer), the message fails
//     with the reason — never plaintext. Corrections and replies are
//     encrypted like messages; reactions, retractions, receipts, markers
//     and chat states stay plaintext (as Conversations does).
//   - The stanza is rebuilt, and so re-encrypted, at every attempt; what
//     we store is the plaintext with Encryption OMEMO and the least trust
//     of the recipients.
//   - Receiving (live, carbons, archive): decryption runs in the inbound
//     transaction that stores the plaintext. A replay or an already
//     decrypted copy is dropped silently; our own device's reflected
//     message too. Any other failure is stored as a visible message
//     (empty body, Failure says why) with a DecryptionFailed event; Repair
//     heals the session. A message is never shown as encrypted unless it
//     decrypted, and its fallback body is never stored.
//   - After a prekey message: prekeys replenished and the bundle
//     republished, and a key-transport message sent to complete the
//     session — postponed until the catch-up of a new session ended (it
//     may bring many). Heartbeats (a key transport after 53 messages
//     without an answer) go the same way.

// Limits and timings of the OMEMO feature.
const (
	// e2eeTimeout bounds the network work before a message is encrypted
	// (device lists, bundles).
	e2eeTimeout = 20 * time.Second
	// maxBundleFetches bounds the bundles fetched for one message.
	maxBundleFetches = 64
	// maxPendingKeyTransports bounds the devices waiting for a key
	// transport.
	maxPendingKeyTransports = 1024
	// rotationCheck is how often a connected client checks whether its
	// signed prekey is due for rotation.
	rotationCheck = 24 * time.Hour
)

// omemoState is the OMEMO state of one Client; mu guards every field.
type omemoState struct {
	mu sync.Mutex
	// fetched holds the bare JIDs whose device list we fetched (or were
	// pushed) in this session; noBundle the devices whose bundle could not
	// be fetched in this session.
	fetched  map[jid.JID]bool
	noBundle map[DeviceAddress]bool
	// reported holds the devices a TrustNeeded event named in this
	// session.
	reported map[DeviceAddress]bool
	// postpone: the catch-up of a new session runs; the work below waits
	// for its end.
	postpone bool
	// replenish: a prekey was used; keyTransport: devices to answer.
	replenish    bool
	keyTransport map[DeviceAddress]bool
	// working: a task does the postponed work.
	working bool
}

func newOMEMOState() *omemoState {
	return &omemoState{
		fetched:      make(map[jid.JID]bool),
		noBundle:     make(map[DeviceAddress]bool),
		reported:     make(map[DeviceAddress]bool),
		keyTransport: make(map[DeviceAddress]bool),
	}
}

// registerOMEMO wires OMEMO when the Client has an E2EE layer: device
// list notifications (before the message handler sees them), the +notify
// feature and the sign-in work, which must precede the archive catch-up.
func registerOMEMO(c *Client) {
	if c.cfg.E2EE == nil {
		return
	}
	c.e2eeState = newOMEMOState()
	c.mux.HandleMessage(c.handleDeviceList)
	c.mux.AddFeature(omemo.FeatureNotify)
	c.OnOnline(c.onlineOMEMO)
}

// registerOMEMOAfterSync registers what runs once the catch-up of a new
// session ended (registered after the messaging feature, whose online hook
// does the catch-up).
func registerOMEMOAfterSync(c *Client) {
	if c.cfg.E2EE == nil {
		return
	}
	c.OnOnline(c.afterCatchupOMEMO)
	// A catch-up cut off by a lost connection never reached
	// afterCatchupOMEMO; a resumed stream has no online hooks.
	c.OnResumed(c.afterCatchupOMEMO)
}

// requireE2EE returns the store and the E2EE layer, or an error.
func (c *Client) requireE2EE() (Store, E2EE, error) {
	st, err := c.requireStore()
	if err != nil {
		return nil, nil, err
	}
	if c.cfg.E2EE == nil {
		return nil, nil, ErrNoE2EE
	}
	return st, c.cfg.E2EE, nil
}

// onlineOMEMO runs after every new session, before the catch-up.
func (c *Client) onlineOMEMO(ctx context.Context, _ session.Info) {
	s := c.e2eeState
	s.mu.Lock()
	s.fetched = make(map[jid.JID]bool)
	s.noBundle = make(map[DeviceAddress]bool)
	s.reported = make(map[DeviceAddress]bool)
	s.postpone = true
	s.mu.Unlock()
	e := c.cfg.E2EE
	err := c.cfg.Store.Update(ctx, func(tx Tx) error {
		if _, _, err := e.Setup(ctx, tx); err != nil {
			return err
		}
		_, err := e.RotateSignedPreKey(ctx, tx)
		return err
	})
	if err != nil {
		c.cfg.Logger.Error("omemo: could not set up our device", "err", err)
		return
	}
	c.publishOwnDevice(ctx)
	c.Go(c.rotateSignedPreKeys)
}

// afterCatchupOMEMO runs after the catch-up of a new session: the work it
// postponed is done now.
func (c *Client) afterCatchupOMEMO(ctx context.Context, _ session.Info) {
	s := c.e2eeState
	s.mu.Lock()
	s.postpone = false
	s.mu.Unlock()
	c.doPostponed(ctx)
}

// publishOwnDevice publishes our bundle, then our device list with our id
// added when it lacks it.
func (c *Client) publishOwnDevice(ctx context.Context) {
	own := c.accountJID()
	ctx, cancel := context.WithTimeout(ctx, e2eeTimeout)
	defer cancel()
	ids, err := c.fetchDeviceList(ctx, own)
	if err != nil {
		// Publishing a list now could drop our other devices from it.
		c.cfg.Logger.Warn("omemo: could not fetch our device list", "err", err)
		return
	}
	e := c.cfg.E2EE
	var (
		publish []uint32
		bundle  omemo.Bundle
		device  uint32
	)
	err = c.cfg.Store.Update(ctx, func(tx Tx) error {
		var err error
		if device, _, err = e.Setup(ctx, tx); err != nil {
			return err
		}
		if publish, err = e.SetDeviceList(ctx, tx, own, ids); err != nil {
			return err
		}
		bundle, err = e.Bundle(ctx, tx)
		return err
	})
	if err != nil {
		c.cfg.Logger.Error("omemo: could not record our device list", "err", err)
		return
	}
	c.noteFetched(own)
	if err := c.publishPEP(ctx, omemo.BundleNode(device), func() *xmlstream.Element { return omemo.PublishBundle(device, bundle) }); err != nil {
		c.cfg.Logger.Warn("omemo: could not publish our bundle", "err", err)
		c.Emit(OMEMOReady{Device: device})
		return
	}
	published := true
	if publish != nil {
		published = c.publishDeviceList(ctx, publish)
	}
	c.Emit(OMEMOReady{Device: device, Published: published})
}

// publishDeviceList publishes our device list and reports whether it
// did.
func (c *Client) publishDeviceList(ctx context.Context, ids []uint32) bool {
	if err := c.publishPEP(ctx, omemo.NodeDeviceList, func() *xmlstream.Element { return omemo.PublishDeviceList(ids) }); err != nil {
		c.cfg.Logger.Warn("omemo: could not publish our device list", "err", err)
		return false
	}
	return true
}

// publishBundle publishes our current bundle.
func (c *Client) publishBundle(ctx context.Context) {
	e := c.cfg.E2EE
	var bundle omemo.Bundle
	var device uint32
	err := c.cfg.Store.View(ctx, func(tx Tx) error {
		var err error
		if device, _, err = e.Setup(ctx, tx); err != nil {
			return err
		}
		bundle, err = e.Bundle(ctx, tx)
		return err
	})
	if err == nil {
		err = c.publishPEP(ctx, omemo.BundleNode(device), func() *xmlstream.Element { return omemo.PublishBundle(device, bundle) })
	}
	if err != nil {
		c.cfg.Logger.Warn("omemo: could not publish our bundle", "err", err)
	}
}

// publishPEP sends a publish request built by req; when the node exists
// with another access model (XEP-0060 §7.1.5 precondition-not-met) it
// configures the node open and publishes again.
func (c *Client) publishPEP(ctx context.Context, node string, req func() *xmlstream.Element) error {
	_, err := c.SendIQ(ctx, req())
	if omemo.IsPreconditionNotMet(err) {
		if _, err = c.SendIQ(ctx, omemo.ConfigureNode(node)); err != nil {
			return fmt.Errorf("configure %s: %w", node, err)
		}
		_, err = c.SendIQ(ctx, req())
	}
	if err != nil {
		return fmt.Errorf("publish %s: %w", node, err)
	}
	return nil
}

// fetchDeviceList fetches owner's device list: nil when the account
// publishes none.
func (c *Client) fetchDeviceList(ctx context.Context, owner jid.JID) ([]uint32, error) {
	res, err := c.SendIQ(ctx, omemo.FetchDeviceList(owner.Bare()))
	if errors.Is(err, stanza.ErrItemNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("fetch the device list of %s: %w", owner, err)
	}
	return omemo.ParseDeviceListResult(res)
}

// fetchBundle fetches one device's bundle.
func (c *Client) fetchBundle(ctx context.Context, dev DeviceAddress) (omemo.Bundle, error) {
	res, err := c.SendIQ(ctx, omemo.FetchBundle(dev.JID, dev.Device))
	if err != nil {
		return omemo.Bundle{}, fmt.Errorf("fetch the bundle of %s/%d: %w", dev.JID, dev.Device, err)
	}
	return omemo.ParseBundleResult(res, dev.Device)
}

// noteFetched records that owner's device list is known for this session.
func (c *Client) noteFetched(owner jid.JID) {
	s := c.e2eeState
	s.mu.Lock()
	s.fetched[owner] = true
	s.mu.Unlock()
}

// rotateSignedPreKeys is a task of each connection: once a day it rotates
// the signed prekey when it is due, and republishes the bundle.
func (c *Client) rotateSignedPreKeys(ctx context.Context) {
	t := time.NewTicker(rotationCheck)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var rotated bool
		err := c.cfg.Store.Update(ctx, func(tx Tx) error {
			var err error
			rotated, err = c.cfg.E2EE.RotateSignedPreKey(ctx, tx)
			return err
		})
		if err != nil {
			c.cfg.Logger.Warn("omemo: signed prekey rotation failed", "err", err)
			continue
		}
		if rotated {
			c.publishBundle(ctx)
		}
	}
}

// handleDeviceList takes PEP notifications of device lists (XEP-0163),
// believed only from their owner. It runs on the client loop.
func (c *Client) handleDeviceList(ctx context.Context, el *xmlstream.Element) bool {
	ev := el.Child(omemo.NSPubSubEvent, "event")
	if ev == nil {
		return false
	}
	items := ev.Child(omemo.NSPubSubEvent, "items")
	if items == nil || items.Get("node") != omemo.NodeDeviceList {
		return false
	}
	owner, ids, err := omemo.ParseDeviceListEvent(el, c.accountJID())
	if errors.Is(err, omemo.ErrSpoofed) {
		// DESIGN.md §7: a device list only as published by its owner.
		c.cfg.Logger.Warn("omemo: ignoring a device list not sent by its owner", "from", el.Get("from"))
		return true
	}
	if err != nil {
		c.cfg.Logger.Debug("omemo: ignoring a malformed device list", "from", el.Get("from"), "err", err)
		return true
	}
	var publish []uint32
	err = c.cfg.Store.Update(ctx, func(tx Tx) error {
		// Our own list may come (PEP sends the last item on our presence)
		// before the sign-in work made our device.
		if _, _, err := c.cfg.E2EE.Setup(ctx, tx); err != nil {
			return err
		}
		var err error
		publish, err = c.cfg.E2EE.SetDeviceList(ctx, tx, owner, ids)
		return err
	})
	if err != nil {
		c.cfg.Logger.Warn("omemo: could not record a device list", "owner", owner, "err", err)
		return true
	}
	c.noteFetched(owner)
	if publish != nil {
		// Another device of ours published without ours: put it back.
		c.Go(func(ctx context.Context) { c.publishDeviceList(ctx, publish) })
	}
	c.Emit(DevicesChanged{Owner: owner, Devices: ids})
	return true
}

// prepareEncryption does the network work before a message to peer is
// encrypted, when online: the device lists of peer and of our account
// (once per session), and sessions with the devices that have none. It
// reports devices that wait for the user's decision (TrustNeeded).
func (c *Client) prepareEncryption(ctx context.Context, peer jid.JID) {
	if c.cfg.E2EE == nil || c.cfg.Store == nil || c.Session() == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, e2eeTimeout)
	defer cancel()
	peer = peer.Bare()
	own := c.accountJID()
	e := c.cfg.E2EE
	for _, owner := range []jid.JID{own, peer} {
		s := c.e2eeState
		s.mu.Lock()
		known := s.fetched[owner]
		s.mu.Unlock()
		if known {
			continue
		}
		ids, err := c.fetchDeviceList(ctx, owner)
		if err != nil {
			c.cfg.Logger.Info("omemo: device list not available", "owner", owner, "err", err)
			continue
		}
		var publish []uint32
		err = c.cfg.Store.Update(ctx, func(tx Tx) error {
			var err error
			publish, err = e.SetDeviceList(ctx, tx, owner, ids)
			return err
		})
		if err != nil {
			c.cfg.Logger.Warn("omemo: could not record a device list", "owner", owner, "err", err)
			continue
		}
		c.noteFetched(owner)
		if publish != nil {
			c.publishDeviceList(ctx, publish)
		}
		if owner == own {
			break // notes to ourselves: one list
		}
	}
	plan, err := c.plan(ctx, peer)
	if err != nil {
		c.cfg.Logger.Warn("omemo: could not plan encryption", "peer", peer, "err", err)
		return
	}
	built := 0
	for _, dev := range plan.NeedBundle {
		s := c.e2eeState
		s.mu.Lock()
		skip := s.noBundle[dev]
		s.mu.Unlock()
		if skip || built >= maxBundleFetches {
			continue
		}
		built++
		b, err := c.fetchBundle(ctx, dev)
		if err != nil {
			c.cfg.Logger.Info("omemo: no bundle", "jid", dev.JID, "device", dev.Device, "err", err)
			s.mu.Lock()
			s.noBundle[dev] = true
			s.mu.Unlock()
			continue
		}
		var buildErr error
		err = c.cfg.Store.Update(ctx, func(tx Tx) error {
			// A changed identity key is recorded for the user even though
			// the session is refused: commit either way.
			buildErr = e.BuildSession(ctx, tx, dev, b)
			return nil
		})
		if err == nil {
			err = buildErr
		}
		if err != nil {
			c.cfg.Logger.Info("omemo: no session", "jid", dev.JID, "device", dev.Device, "err", err)
			s.mu.Lock()
			s.noBundle[dev] = true
			s.mu.Unlock()
		}
	}
	if built > 0 {
		if plan, err = c.plan(ctx, peer); err != nil {
			return
		}
	}
	c.reportUntrusted(ctx, plan.Untrusted)
}

// plan returns the E2EE plan for a message to peer.
func (c *Client) plan(ctx context.Context, peer jid.JID) (E2EEPlan, error) {
	var plan E2EEPlan
	err := c.cfg.Store.View(ctx, func(tx Tx) error {
		var err error
		plan, err = c.cfg.E2EE.Plan(ctx, tx, peer)
		return err
	})
	return plan, err
}

// reportUntrusted reports, once per session, devices whose identity key
// waits for the user's decision (not those the user distrusted).
func (c *Client) reportUntrusted(ctx context.Context, devs []DeviceAddress) {
	if len(devs) == 0 {
		return
	}
	byOwner := make(map[jid.JID][]uint32)
	var owners []jid.JID
	err := c.cfg.Store.View(ctx, func(tx Tx) error {
		infos := make(map[jid.JID][]DeviceInfo)
		for _, d := range devs {
			list, ok := infos[d.JID]
			if !ok {
				var err error
				if list, err = c.cfg.E2EE.Devices(ctx, tx, d.JID); err != nil {
					return err
				}
				infos[d.JID] = list
			}
			for _, info := range list {
				if info.Device != d.Device {
					continue
				}
				if k, ok := info.Current(); ok && k.Trust == DeviceDistrusted {
					continue
				}
				s := c.e2eeState
				s.mu.Lock()
				seen := s.reported[d]
				s.reported[d] = true
				s.mu.Unlock()
				if !seen {
					if _, ok := byOwner[d.JID]; !ok {
						owners = append(owners, d.JID)
					}
					byOwner[d.JID] = append(byOwner[d.JID], d.Device)
				}
			}
		}
		return nil
	})
	if err != nil {
		return
	}
	for _, o := range owners {
		c.Emit(TrustNeeded{Owner: o, Devices: byOwner[o]})
	}
}

// encryptError is a message that must be encrypted and cannot be: it
// fails with the reason.
type encryptError struct{ reason string }

func (e *encryptError) Error() string { return e.reason }

// Unwrap makes the failure match ErrNoRecipients.
func (e *encryptError) Unwrap() error { return ErrNoRecipients }

// mustEncrypt applies the conversation's policy to a message to peer.
func (c *Client) mustEncrypt(ctx context.Context, tx Tx, conv ConversationID, peer jid.JID) (bool, error) {
	if c.cfg.E2EE == nil {
		return false, nil
	}
	cv, err := tx.Conversation(ctx, conv)
	if err != nil {
		return false, err
	}
	switch cv.Encryption {
	case EncryptionRequired:
		return true, nil
	case EncryptionDisabled:
		return false, nil
	}
	devs, err := c.cfg.E2EE.Devices(ctx, tx, peer)
	if err != nil {
		return false, err
	}
	for _, d := range devs {
		if d.Active && !d.Own {
			return true, nil
		}
	}
	return false, nil
}

// messageEncryptionSetter is implemented by stores that can record how an
// outbound message travelled after it was stored (the stanza is rebuilt,
// and the decision made again, at every attempt).
type messageEncryptionSetter interface {
	SetMessageEncryption(ctx context.Context, id MessageID, e Encryption, t Trust) error
}

// encryptStanza encrypts el, the stanza of our message msg to peer whose
// text is body, when the conversation's policy says so. It returns an
// *encryptError when the message must be encrypted and cannot be.
func (c *Client) encryptStanza(ctx context.Context, tx Tx, msg Message, peer jid.JID, el *xmlstream.Element, body string) (*xmlstream.Element, error) {
	on, err := c.mustEncrypt(ctx, tx, msg.Conversation, peer)
	if err != nil {
		return nil, err
	}
	if !on {
		return el, c.recordEncryption(ctx, tx, msg, EncryptionNone, TrustUnknown)
	}
	e := c.cfg.E2EE
	plan, err := e.Plan(ctx, tx, peer)
	if err != nil {
		return nil, err
	}
	own := c.accountJID()
	ready := 0
	for _, d := range plan.Ready {
		if d.JID == peer.Bare() || peer.Bare() == own {
			ready++
		}
	}
	if ready == 0 {
		var untrusted, unreachable int
		for _, d := range plan.Untrusted {
			if d.JID == peer.Bare() {
				untrusted++
			}
		}
		for _, d := range plan.NeedBundle {
			if d.JID == peer.Bare() {
				unreachable++
			}
		}
		reason := fmt.Sprintf("not sent: no trusted OMEMO device of %s to encrypt to", peer.Bare())
		switch {
		case untrusted > 0 && unreachable > 0:
			reason += fmt.Sprintf(" (%d untrusted, %d without a session)", untrusted, unreachable)
		case untrusted > 0:
			reason += fmt.Sprintf(" (%d untrusted: decide about them)", untrusted)
		case unreachable > 0:
			reason += fmt.Sprintf(" (%d without a session)", unreachable)
		}
		return nil, &encryptError{reason: reason}
	}
	enc, trust, err := e.Encrypt(ctx, tx, []byte(body), plan.Ready)
	if errors.Is(err, ErrNoRecipients) {
		return nil, &encryptError{reason: truncateUTF8("not sent: "+err.Error(), maxFailureLen)}
	}
	if err != nil {
		return nil, err
	}
	omemo.AddTo(el, enc)
	return el, c.recordEncryption(ctx, tx, msg, EncryptionOMEMO, trust)
}

// recordEncryption records how our stored message travels, when the store
// can and it changed.
func (c *Client) recordEncryption(ctx context.Context, tx Tx, msg Message, e Encryption, t Trust) error {
	if msg.ID == 0 || (msg.Encryption == e && msg.Trust == t) {
		return nil
	}
	if s, ok := tx.(messageEncryptionSetter); ok {
		return s.SetMessageEncryption(ctx, msg.ID, e, t)
	}
	return nil
}

// failEncryption marks our message failed because it could not be
// encrypted, takes it out of the outbox, and returns the item that
// reports it (handOff emits the update instead of sending).
func (c *Client) failEncryption(ctx context.Context, tx Tx, msg Message, cause *encryptError) (pendingItem, error) {
	if _, err := tx.SetState(ctx, msg.ID, StateFailed, cause.reason); err != nil {
		return pendingItem{}, err
	}
	if err := c.dequeueMessage(ctx, tx, msg.ID); err != nil {
		return pendingItem{}, err
	}
	root := msg.ID
	if msg.Replaces != 0 {
		root = msg.Replaces
	}
	return pendingItem{failed: &MessageUpdated{Conversation: msg.Conversation, ID: root, State: StateFailed, Failure: cause.reason}}, nil
}

// decryptIncoming decrypts an OMEMO message in the inbound transaction.
// stop says the pipeline ends here with err; otherwise in's body is the
// plaintext and the pipeline goes on.
func (c *Client) decryptIncoming(ctx context.Context, tx Tx, in *incoming, fx *effects) (stop bool, err error) {
	enc, err := omemo.Find(in.el)
	if errors.Is(err, omemo.ErrNotEncrypted) {
		return false, nil
	}
	fx.handled = true
	if err != nil {
		de := &DecryptError{Repair: RepairNone, Err: fmt.Errorf("could not decrypt a message from %s: malformed OMEMO element", in.peer)}
		return true, done(c.storeDecryptFailure(ctx, tx, in, 0, de, fx), fx)
	}
	from := in.msg.From
	if in.dir == Outbound {
		from = in.own
	}
	d, err := c.cfg.E2EE.Decrypt(ctx, tx, from, enc)
	var de *DecryptError
	switch {
	case err == nil:
	case errors.Is(err, ErrDecryptDuplicate), errors.Is(err, ErrDecryptIgnored):
		c.cfg.Logger.Debug("omemo: dropping a message", "from", in.msg.From, "device", enc.SID, "reason", err)
		return true, errUnchanged
	case errors.As(err, &de):
		c.cfg.Logger.Info("omemo: could not decrypt", "from", in.msg.From, "device", enc.SID, "reason", err)
		return true, done(c.storeDecryptFailure(ctx, tx, in, enc.SID, de, fx), fx)
	default:
		return true, err
	}
	c.cfg.Logger.Debug("omemo: decrypted", "from", in.msg.From, "device", d.Device, "id", in.msg.ID, "key_transport", d.Plaintext == nil)
	fx.changed = true // the ratchet moved: commit it with what follows
	if d.PreKeyUsed || d.SendKeyTransport {
		sender := DeviceAddress{JID: from.Bare(), Device: d.Device}
		used, answer := d.PreKeyUsed, d.SendKeyTransport
		fx.after = append(fx.after, func() { c.noteE2EEWork(sender, used, answer) })
	}
	if d.Plaintext == nil {
		return true, nil // a key-transport message: nothing to show
	}
	in.msg.Bodies = map[string]string{"": strings.ToValidUTF8(string(d.Plaintext), "\uFFFD")}
	in.msg.Lang = ""
	in.enc, in.device, in.trust = EncryptionOMEMO, d.Device, d.Trust
	return false, nil
}

// storeDecryptFailure stores a message that could not be decrypted: no
// body (never the fallback), Failure says why.
func (c *Client) storeDecryptFailure(ctx context.Context, tx Tx, in *incoming, device uint32, de *DecryptError, fx *effects) error {
	in.msg.Bodies = nil
	in.enc, in.device, in.trust = EncryptionOMEMO, device, TrustUnknown
	m := c.newMessage(in)
	m.Failure = truncateUTF8(de.Error(), maxFailureLen)
	// A copy of our own message that this device cannot read has no
	// delivery state here: receipts must not overwrite the reason.
	m.State = StateNone
	res, err := tx.InsertMessages(ctx, []Message{m})
	if err != nil {
		return err
	}
	fx.changed = true
	if res[0].Duplicate {
		return nil
	}
	stored, err := tx.Message(ctx, res[0].ID)
	if err != nil {
		return err
	}
	fx.events = append(fx.events, MessageReceived{Message: stored}, DecryptionFailed{
		Conversation: stored.Conversation, Message: stored.ID, From: in.msg.From, Device: device,
		Reason: stored.Failure, Repair: de.Repair,
	})
	return nil
}

// noteE2EEWork records what a decrypted message asks for and does it now
// unless a catch-up is running.
func (c *Client) noteE2EEWork(sender DeviceAddress, replenish, answer bool) {
	s := c.e2eeState
	s.mu.Lock()
	if replenish {
		s.replenish = true
	}
	if answer && len(s.keyTransport) < maxPendingKeyTransports {
		s.keyTransport[sender] = true
	}
	run := !s.postpone && !s.working
	s.mu.Unlock()
	if run {
		c.Go(c.doPostponed)
	}
}

// doPostponed replenishes our prekeys (and republishes the bundle) and
// sends the key-transport messages decrypted messages asked for, until
// none is left.
func (c *Client) doPostponed(ctx context.Context) {
	s := c.e2eeState
	s.mu.Lock()
	if s.postpone || s.working {
		s.mu.Unlock()
		return
	}
	s.working = true
	s.mu.Unlock()
	for {
		s.mu.Lock()
		replenish := s.replenish
		var devs []DeviceAddress
		for d := range s.keyTransport {
			devs = append(devs, d)
		}
		if ctx.Err() != nil || s.postpone || (!replenish && len(devs) == 0) {
			// Decided under the lock that noteE2EEWork takes, so that no
			// work is left behind without a worker.
			s.working = false
			s.mu.Unlock()
			return
		}
		s.replenish, s.keyTransport = false, make(map[DeviceAddress]bool)
		s.mu.Unlock()
		if replenish {
			var added bool
			err := c.cfg.Store.Update(ctx, func(tx Tx) error {
				var err error
				added, err = c.cfg.E2EE.ReplenishPreKeys(ctx, tx)
				return err
			})
			if err != nil {
				c.cfg.Logger.Warn("omemo: could not replenish prekeys", "err", err)
			} else if added {
				c.publishBundle(ctx)
			}
		}
		c.sendKeyTransports(ctx, devs)
	}
}

// sendKeyTransports sends a key-transport message to each owner's devices.
func (c *Client) sendKeyTransports(ctx context.Context, devs []DeviceAddress) {
	slices.SortFunc(devs, func(x, y DeviceAddress) int {
		return cmp.Or(cmp.Compare(x.JID.String(), y.JID.String()), cmp.Compare(x.Device, y.Device))
	})
	for len(devs) > 0 {
		owner := devs[0].JID
		n := 1
		for n < len(devs) && devs[n].JID == owner {
			n++
		}
		if err := c.sendKeyTransport(ctx, owner, devs[:n]); err != nil {
			c.cfg.Logger.Info("omemo: could not send a key-transport message", "to", owner, "err", err)
		}
		devs = devs[n:]
	}
}

// sendKeyTransport sends one key-transport message to devices of owner.
func (c *Client) sendKeyTransport(ctx context.Context, owner jid.JID, devs []DeviceAddress) error {
	var el *xmlstream.Element
	err := c.cfg.Store.Update(ctx, func(tx Tx) error {
		enc, err := c.cfg.E2EE.KeyTransport(ctx, tx, devs)
		if err != nil {
			return err
		}
		el = omemo.AddTo(message.Message{To: owner, ID: sid.NewOriginID(), Type: message.TypeChat}.Element(), enc)
		return nil
	})
	if err != nil {
		return err
	}
	return c.Send(ctx, el)
}

// SetEncryption sets the end-to-end encryption policy of a conversation:
// EncryptionRequired (encrypt, or fail visibly), EncryptionDisabled
// (plaintext) or EncryptionDefault (encrypt when the contact publishes
// OMEMO devices).
func (c *Client) SetEncryption(ctx context.Context, conv ConversationID, p EncryptionPolicy) error {
	st, err := c.requireStore()
	if err != nil {
		return err
	}
	if err := st.Update(ctx, func(tx Tx) error { return tx.SetEncryption(ctx, conv, p) }); err != nil {
		return fmt.Errorf("set encryption: %w", err)
	}
	return nil
}

// SetConversationEncryption sets the encryption policy of the
// conversation with peer (see SetEncryption), creating the conversation
// when needed.
func (c *Client) SetConversationEncryption(ctx context.Context, peer jid.JID, p EncryptionPolicy) error {
	st, err := c.requireStore()
	if err != nil {
		return err
	}
	if peer.IsZero() {
		return fmt.Errorf("set encryption: %w", ErrInvalidJID)
	}
	err = st.Update(ctx, func(tx Tx) error {
		conv, err := tx.EnsureConversation(ctx, c.cfg.Account, peer.Bare(), KindChat)
		if err != nil {
			return err
		}
		return tx.SetEncryption(ctx, conv, p)
	})
	if err != nil {
		return fmt.Errorf("set encryption: %w", err)
	}
	return nil
}

// Encrypts reports whether the next message to peer would be encrypted
// (the conversation's policy, and whether peer publishes OMEMO devices as
// far as we know). With the network available it refreshes what we know
// first.
func (c *Client) Encrypts(ctx context.Context, peer jid.JID) (bool, error) {
	st, err := c.requireStore()
	if err != nil {
		return false, err
	}
	if c.cfg.E2EE == nil {
		return false, nil
	}
	c.prepareEncryption(ctx, peer)
	var on bool
	err = st.Update(ctx, func(tx Tx) error {
		conv, err := tx.EnsureConversation(ctx, c.cfg.Account, peer.Bare(), KindChat)
		if err != nil {
			return err
		}
		on, err = c.mustEncrypt(ctx, tx, conv, peer.Bare())
		return err
	})
	return on, err
}

// OwnFingerprint returns our device's id and the fingerprint of its
// identity key (64 lowercase hex digits).
func (c *Client) OwnFingerprint(ctx context.Context) (uint32, string, error) {
	st, e, err := c.requireE2EE()
	if err != nil {
		return 0, "", err
	}
	var device uint32
	var fp string
	err = st.Update(ctx, func(tx Tx) error {
		var err error
		if device, _, err = e.Setup(ctx, tx); err != nil {
			return err
		}
		fp, err = e.OwnFingerprint(ctx, tx)
		return err
	})
	if err != nil {
		return 0, "", fmt.Errorf("own fingerprint: %w", err)
	}
	return device, fp, nil
}

// OwnURI returns the verification URI of our device (the content of the
// QR code other OMEMO clients scan).
func (c *Client) OwnURI(ctx context.Context) (string, error) {
	st, e, err := c.requireE2EE()
	if err != nil {
		return "", err
	}
	var uri string
	err = st.Update(ctx, func(tx Tx) error {
		if _, _, err := e.Setup(ctx, tx); err != nil {
			return err
		}
		var err error
		uri, err = e.OwnURI(ctx, tx)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("own URI: %w", err)
	}
	return uri, nil
}

// Devices returns the OMEMO devices of owner (a contact, or our own
// account) with their fingerprints and trust. With a connection it first
// fetches owner's device list and the bundles of devices we have no
// session with, so that their fingerprints are known.
func (c *Client) Devices(ctx context.Context, owner jid.JID) ([]DeviceInfo, error) {
	st, e, err := c.requireE2EE()
	if err != nil {
		return nil, err
	}
	c.prepareEncryption(ctx, owner)
	var out []DeviceInfo
	err = st.View(ctx, func(tx Tx) error {
		var err error
		out, err = e.Devices(ctx, tx, owner.Bare())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("devices of %s: %w", owner, err)
	}
	return out, nil
}

// SetTrust records the user's decision about the devices of owner whose
// identity key has the fingerprint fp (hex, in groups or not, with or
// without the 05 prefix).
func (c *Client) SetTrust(ctx context.Context, owner jid.JID, fp string, t DeviceTrust) error {
	st, e, err := c.requireE2EE()
	if err != nil {
		return err
	}
	err = st.Update(ctx, func(tx Tx) error {
		_, err := e.SetTrust(ctx, tx, owner.Bare(), fp, t)
		return err
	})
	if err != nil {
		return fmt.Errorf("trust %s: %w", owner, err)
	}
	return nil
}

// Verify marks owner's device with fingerprint fp verified. From then on,
// new devices of owner wait for the user's decision.
func (c *Client) Verify(ctx context.Context, owner jid.JID, fp string) error {
	return c.SetTrust(ctx, owner, fp, DeviceVerified)
}

// Distrust marks owner's device with fingerprint fp distrusted: messages
// are never encrypted to it.
func (c *Client) Distrust(ctx context.Context, owner jid.JID, fp string) error {
	return c.SetTrust(ctx, owner, fp, DeviceDistrusted)
}

// VerifyURI verifies the devices a scanned verification URI
// (xmpp:jid?omemo-sid-<id>=<fingerprint>;…) names, and returns them.
func (c *Client) VerifyURI(ctx context.Context, uri string) ([]DeviceAddress, error) {
	st, e, err := c.requireE2EE()
	if err != nil {
		return nil, err
	}
	var out []DeviceAddress
	err = st.Update(ctx, func(tx Tx) error {
		var err error
		out, err = e.VerifyURI(ctx, tx, uri)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("verify URI: %w", err)
	}
	return out, nil
}

// RemoveOwnDevice removes another device of our account from our device
// list ("remove old device"): it is forgotten here and the list without
// it is published. It needs a connection.
func (c *Client) RemoveOwnDevice(ctx context.Context, device uint32) error {
	st, e, err := c.requireE2EE()
	if err != nil {
		return err
	}
	if c.Session() == nil {
		return fmt.Errorf("remove device %d: %w", device, ErrOffline)
	}
	var ids []uint32
	err = st.Update(ctx, func(tx Tx) error {
		var err error
		ids, err = e.RemoveOwnDevice(ctx, tx, device)
		return err
	})
	if err != nil {
		return fmt.Errorf("remove device %d: %w", device, err)
	}
	if err := c.publishPEP(ctx, omemo.NodeDeviceList, func() *xmlstream.Element { return omemo.PublishDeviceList(ids) }); err != nil {
		return fmt.Errorf("remove device %d: %w", device, err)
	}
	return nil
}

// Repair heals the session behind a message that could not be decrypted
// (Message.DecryptFailed): it fetches the sending device's bundle, builds
// a new session and sends the device a key-transport message, so that
// its next messages decrypt. The failed message itself stays as it is.
// A device whose identity key changed needs the user's decision first
// (ErrTrustDecision). It needs a connection.
func (c *Client) Repair(ctx context.Context, id MessageID) error {
	st, _, err := c.requireE2EE()
	if err != nil {
		return err
	}
	var dev DeviceAddress
	err = st.View(ctx, func(tx Tx) error {
		m, err := tx.Message(ctx, id)
		if err != nil {
			return err
		}
		if !m.DecryptFailed() || m.SenderDevice == 0 {
			return ErrNotDecryptFailure
		}
		dev = DeviceAddress{JID: c.accountJID(), Device: m.SenderDevice}
		if m.Direction == Inbound {
			cv, err := tx.Conversation(ctx, m.Conversation)
			if err != nil {
				return err
			}
			dev.JID = cv.Peer
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("repair message %d: %w", id, err)
	}
	if err := c.RepairDevice(ctx, dev); err != nil {
		return fmt.Errorf("repair message %d: %w", id, err)
	}
	return nil
}

// RepairDevice builds a new session with a device from its freshly
// fetched bundle and sends it a key-transport message (see Repair).
func (c *Client) RepairDevice(ctx context.Context, dev DeviceAddress) error {
	st, e, err := c.requireE2EE()
	if err != nil {
		return err
	}
	if c.Session() == nil {
		return ErrOffline
	}
	dev.JID = dev.JID.Bare()
	b, err := c.fetchBundle(ctx, dev)
	if err != nil {
		return err
	}
	var buildErr error
	var el *xmlstream.Element
	err = st.Update(ctx, func(tx Tx) error {
		// A changed identity key is recorded even though the session is
		// refused: commit either way.
		if buildErr = e.BuildSession(ctx, tx, dev, b); buildErr != nil {
			return nil
		}
		enc, err := e.KeyTransport(ctx, tx, []DeviceAddress{dev})
		if err != nil {
			return err
		}
		el = omemo.AddTo(message.Message{To: dev.JID, ID: sid.NewOriginID(), Type: message.TypeChat}.Element(), enc)
		return nil
	})
	if err = cmp.Or(err, buildErr); err != nil {
		return err
	}
	s := c.e2eeState
	s.mu.Lock()
	delete(s.noBundle, dev)
	s.mu.Unlock()
	return c.Send(ctx, el)
}

// prepareOutbox prepares encryption for the peers of the messages waiting
// in the outbox, before the flush rebuilds their stanzas.
func (c *Client) prepareOutbox(ctx context.Context) {
	if c.cfg.E2EE == nil || c.Session() == nil {
		return
	}
	var peers []jid.JID
	err := c.cfg.Store.View(ctx, func(tx Tx) error {
		items, err := tx.Outbox(ctx, c.cfg.Account)
		if err != nil {
			return err
		}
		seen := make(map[ConversationID]bool)
		for _, it := range items {
			if it.Message == 0 {
				continue
			}
			m, err := tx.Message(ctx, it.Message)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if seen[m.Conversation] || m.State != StatePending {
				continue
			}
			seen[m.Conversation] = true
			cv, err := tx.Conversation(ctx, m.Conversation)
			if err != nil {
				return err
			}
			peers = append(peers, cv.Peer)
		}
		return nil
	})
	if err != nil {
		c.cfg.Logger.Warn("omemo: could not read the outbox", "err", err)
		return
	}
	for _, p := range peers {
		c.prepareEncryption(ctx, p)
	}
}

// prepareCorrection prepares encryption for the correction of message id.
func (c *Client) prepareCorrection(ctx context.Context, id MessageID) {
	if c.cfg.E2EE == nil || c.Session() == nil {
		return
	}
	var peer jid.JID
	err := c.cfg.Store.View(ctx, func(tx Tx) error {
		m, err := rootMessage(ctx, tx, id)
		if err != nil {
			return err
		}
		cv, err := tx.Conversation(ctx, m.Conversation)
		peer = cv.Peer
		return err
	})
	if err == nil {
		c.prepareEncryption(ctx, peer)
	}
}
