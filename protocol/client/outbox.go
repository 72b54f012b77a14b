package client

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/tern-im/tern/protocol/chatstates"
	"github.com/tern-im/tern/protocol/correction"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/markers"
	"github.com/tern-im/tern/protocol/message"
	"github.com/tern-im/tern/protocol/receipts"
	"github.com/tern-im/tern/protocol/reply"
	"github.com/tern-im/tern/protocol/sid"
)

// The outbox (DESIGN.md §3). A message is stored as pending, with an outbox
// item, before it is handed to the session; the item goes when the server
// acknowledges the stanza (XEP-0198) or the message fails. Reactions and
// retractions are outbox items too (their serialised stanza).
//
// Every pending stanza goes out exactly once per stream:
//   - a resumed stream resends what the server had not acknowledged by
//     itself, so the engine does nothing;
//   - a failed resumption reports the stanzas that may be lost
//     (OnUndelivered): they stop counting as in flight;
//   - after every new session (OnOnline) the outbox is flushed: every item
//     not in flight is sent.
//
// Without Stream Management there is no acknowledgement: a message becomes
// sent as soon as the session accepted it for writing, and one lost with
// the connection is not noticed.

// SendOptions are the optional parts of a message.
type SendOptions struct {
	// Thread is the conversation thread (RFC 6121 §5.2.5), "" for none.
	Thread string
	// ReplyTo is the message of the same conversation this one answers
	// (XEP-0461), 0 for none. The referenced text is quoted as a XEP-0428
	// fallback for clients without reply support.
	ReplyTo MessageID
}

// SendMessage sends a chat message to the contact `to` and returns its ID
// in the store. The message is stored as pending first (a MessageQueued
// event), then handed to the session; MessageUpdated events report it sent
// (acknowledged by our server), delivered (XEP-0184), read (XEP-0333) or
// failed (with the reason). Offline, it waits in the outbox for the next
// connection: that is not an error.
//
// Messages go to the contact's bare JID (a resource in `to` is ignored), so
// that every client of the contact can receive them. The body is sent as
// written; a /me command (XEP-0245) is a body starting with "/me ".
func (c *Client) SendMessage(ctx context.Context, to jid.JID, body string, opts SendOptions) (MessageID, error) {
	st, err := c.requireStore()
	if err != nil {
		return 0, err
	}
	if to.IsZero() {
		return 0, fmt.Errorf("send message: %w", ErrInvalidJID)
	}
	if strings.TrimSpace(body) == "" {
		return 0, fmt.Errorf("send message: %w", ErrEmptyMessage)
	}
	peer, own := to.Bare(), c.accountJID()
	// OMEMO: device lists and sessions need the network, which the
	// transaction below must not wait for (omemo.go).
	c.prepareEncryption(ctx, peer)
	oid := sid.NewOriginID()
	var (
		stored Message
		item   pendingItem
	)
	err = st.Update(ctx, func(tx Tx) error {
		conv, err := tx.EnsureConversation(ctx, c.cfg.Account, peer, KindChat)
		if err != nil {
			return err
		}
		msg := Message{
			Conversation: conv, Direction: Outbound, Type: TypeChat, Sender: own.String(),
			XMLID: oid, OriginID: oid, Sent: c.now().UTC(), Body: body, Thread: opts.Thread, State: StatePending,
		}
		if opts.ReplyTo != 0 {
			ref, err := tx.Message(ctx, opts.ReplyTo)
			if err != nil {
				return fmt.Errorf("the message replied to: %w", err)
			}
			if ref.Conversation != conv {
				return ErrOtherConversation
			}
			if msg.ReplyTo.ID = wireID(ref); msg.ReplyTo.ID == "" {
				return fmt.Errorf("the message replied to: %w", ErrNoMessageID)
			}
			msg.ReplyTo.To = ref.Sender
		}
		if stored, item, err = c.queueMessage(ctx, tx, msg, peer); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("send message: %w", err)
	}
	c.Emit(MessageQueued{Message: stored})
	c.handOff(ctx, item)
	return stored.ID, nil
}

// queueMessage stores an outbound message with its outbox item and returns
// it as stored, with the stanza to send.
func (c *Client) queueMessage(ctx context.Context, tx Tx, msg Message, peer jid.JID) (Message, pendingItem, error) {
	res, err := tx.InsertMessages(ctx, []Message{msg})
	if err != nil {
		return Message{}, pendingItem{}, err
	}
	ob, err := tx.Enqueue(ctx, OutboxItem{Account: c.cfg.Account, Message: res[0].ID})
	if err != nil {
		return Message{}, pendingItem{}, err
	}
	stored, err := tx.Message(ctx, res[0].ID)
	if err != nil {
		return Message{}, pendingItem{}, err
	}
	el, err := c.buildMessage(ctx, tx, stored, peer)
	var ee *encryptError
	if errors.As(err, &ee) {
		// OMEMO: it cannot be encrypted, so it fails; never plaintext.
		p, err := c.failEncryption(ctx, tx, stored, ee)
		if err != nil {
			return Message{}, pendingItem{}, err
		}
		stored.State, stored.Failure = StateFailed, ee.reason
		return stored, p, nil
	}
	if err != nil {
		return Message{}, pendingItem{}, err
	}
	if stored, err = tx.Message(ctx, stored.ID); err != nil { // with its encryption
		return Message{}, pendingItem{}, err
	}
	return stored, pendingItem{el: el, ref: outboxRef{outbox: ob, msg: stored.ID, conv: stored.Conversation, timeline: stored.Replaces == 0}}, nil
}

// wireID is the id other stanzas use to refer to a one-to-one message: its
// origin-id when it has one, else its stanza id (XEP-0444 §4.2, XEP-0461
// §4.1; ours are equal).
func wireID(m Message) string {
	if m.OriginID != "" {
		return m.OriginID
	}
	return m.XMLID
}

// buildMessage returns the stanza for our stored message msg to peer: the
// body (with the quote of a reply), origin-id (XEP-0359, equal to the
// stanza id), a receipt request (XEP-0184), markable (XEP-0333), <active/>
// (XEP-0085, unless turned off), and <replace/> for a correction
// (XEP-0308). It is rebuilt from the store at every attempt.
func (c *Client) buildMessage(ctx context.Context, tx Tx, msg Message, peer jid.JID) (*xmlstream.Element, error) {
	body := msg.Body
	var ext []*xmlstream.Element
	if msg.Replaces != 0 {
		orig, err := tx.Message(ctx, msg.Replaces)
		if err != nil {
			return nil, fmt.Errorf("the corrected message: %w", err)
		}
		ext = append(ext, correction.Replace(orig.XMLID))
	}
	if msg.ReplyTo.ID != "" {
		r := reply.Reply{ID: msg.ReplyTo.ID}
		if to, err := jid.Parse(msg.ReplyTo.To); err == nil {
			r.To = to
		}
		ext = append(ext, r.Element())
		// XEP-0461 §3.1 with XEP-0428: quote the referenced text for
		// clients that do not support replies.
		id, ok, err := c.findRef(ctx, tx, msg.Conversation, msg.ReplyTo.ID, msg.ReplyTo.To)
		if err != nil {
			return nil, err
		}
		if ok {
			ref, err := tx.Message(ctx, id)
			if err != nil {
				return nil, err
			}
			var fb *xmlstream.Element
			if body, fb = reply.Fallback(ref.Text(), body); fb != nil {
				ext = append(ext, fb)
			}
		}
	}
	ext = append(ext, sid.OriginID(msg.OriginID), receipts.Request(), markers.Markable())
	m := c.messages()
	m.mu.Lock()
	if m.sendChatStates {
		// XEP-0085 §5.1: every content message carries <active/>.
		ext = append(ext, chatstates.Active.Element())
		if _, known := m.chatPeers[peer]; known {
			m.chatPeers[peer] = ChatActive
		}
	}
	m.mu.Unlock()
	el := message.Message{
		To: peer, ID: msg.XMLID, Type: message.TypeChat,
		Bodies: map[string]string{"": body}, Thread: message.Thread{ID: msg.Thread},
		Extensions: ext,
	}.Element()
	// XEP-0384 when the conversation's policy says so (omemo.go); an
	// *encryptError when it must be encrypted and cannot be.
	return c.encryptStanza(ctx, tx, msg, peer, el, body)
}

// pendingItem is an outbox stanza ready to be handed to the session, or
// (failed set, el nil) a message that failed before it could be sent, to
// report instead.
type pendingItem struct {
	el     *xmlstream.Element
	ref    outboxRef
	failed *MessageUpdated
}

// handOff gives an outbox stanza to the session, unless it is in flight
// already. Without a connection it stays in the outbox for the next one.
func (c *Client) handOff(ctx context.Context, p pendingItem) {
	c.sendItem(ctx, p, false)
}

// holdOutbox makes new outbox stanzas wait for the flush of a new session
// (messenger.held); the client calls it before the session's online hooks.
func (c *Client) holdOutbox() {
	m := c.messages()
	m.mu.Lock()
	m.held, m.missed = true, false
	m.mu.Unlock()
}

// releaseEmptyOutbox ends the hold of a new session at once when the
// outbox holds nothing (the usual case), so that the catch-up does not
// delay new messages.
func (c *Client) releaseEmptyOutbox(ctx context.Context) {
	var n int
	err := c.cfg.Store.View(ctx, func(tx Tx) error {
		out, err := tx.Outbox(ctx, c.cfg.Account)
		n = len(out)
		return err
	})
	if err != nil || n > 0 {
		return
	}
	m := c.messages()
	m.mu.Lock()
	if !m.missed {
		m.held = false
	}
	m.mu.Unlock()
}

// sendItem hands an outbox stanza to the session, unless it is in flight
// already, or the outbox is held and this is not the flush.
func (c *Client) sendItem(ctx context.Context, p pendingItem, flush bool) {
	if p.failed != nil {
		c.Emit(*p.failed)
		return
	}
	if p.el == nil {
		return
	}
	key := p.el.Get("id")
	m := c.messages()
	m.mu.Lock()
	if m.held && !flush {
		m.missed = true // the flush sends it, in order
		m.mu.Unlock()
		return
	}
	if _, queued := m.inflight[key]; queued || key == "" {
		m.mu.Unlock()
		return
	}
	if err := c.Send(ctx, p.el); err != nil {
		m.mu.Unlock()
		c.cfg.Logger.Debug("outbox item kept for the next connection", "id", key, "err", err)
		return
	}
	s := c.Session()
	sm := s != nil && s.Info().SM
	if sm {
		m.inflight[key] = p.ref
	}
	m.mu.Unlock()
	if !sm {
		// No XEP-0198: no acknowledgement will come.
		c.markSent(ctx, []outboxRef{p.ref})
	}
}

// forgetInflight drops a stanza id from the in-flight set.
func (c *Client) forgetInflight(key string) {
	m := c.messages()
	m.mu.Lock()
	delete(m.inflight, key)
	m.mu.Unlock()
}

// outboxAcked is the OnAcked hook: acknowledged outbox stanzas are sent.
func (c *Client) outboxAcked(ctx context.Context, stanzas []*xmlstream.Element) {
	m := c.messages()
	var refs []outboxRef
	m.mu.Lock()
	for _, el := range stanzas {
		if el.Name.Local != "message" {
			continue
		}
		key := el.Get("id")
		if ref, ok := m.inflight[key]; ok {
			delete(m.inflight, key)
			refs = append(refs, ref)
		}
	}
	m.mu.Unlock()
	if len(refs) > 0 {
		c.markSent(ctx, refs)
	}
}

// outboxUndelivered is the OnUndelivered hook: the stanzas a failed
// resumption lost are no longer in flight, so the flush that follows the
// new session sends them again.
func (c *Client) outboxUndelivered(_ context.Context, stanzas []*xmlstream.Element) {
	m := c.messages()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, el := range stanzas {
		if el.Name.Local == "message" {
			delete(m.inflight, el.Get("id"))
		}
	}
}

// markSent records that our server has the stanzas: their messages are
// sent and their outbox items done.
func (c *Client) markSent(ctx context.Context, refs []outboxRef) {
	var fx effects
	err := c.cfg.Store.Update(ctx, func(tx Tx) error {
		fx = effects{}
		for _, r := range refs {
			if err := tx.Dequeue(ctx, r.outbox); err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
			if r.msg == 0 {
				continue
			}
			changed, err := tx.SetState(ctx, r.msg, StateSent, "")
			switch {
			case errors.Is(err, ErrNotFound): // deleted meanwhile
			case err != nil:
				return err
			case changed && r.timeline:
				fx.events = append(fx.events, MessageUpdated{Conversation: r.conv, ID: r.msg, State: StateSent})
			}
		}
		return nil
	})
	if err != nil {
		c.cfg.Logger.Warn("could not record sent messages", "err", err)
		return
	}
	c.finish(ctx, &fx)
}

// flushOutbox sends every outbox item not in flight, oldest first. Items
// whose message is no longer pending (failed, retracted, deleted) are
// dropped from the outbox.
func (c *Client) flushOutbox(ctx context.Context) {
	c.prepareOutbox(ctx)
	for ctx.Err() == nil {
		c.flushOnce(ctx)
		m := c.messages()
		m.mu.Lock()
		if !m.missed {
			m.held = false // in order from now on
			m.mu.Unlock()
			return
		}
		m.missed = false // queued while we read: another pass
		m.mu.Unlock()
	}
}

// flushOnce sends, in the outbox's order, every item not in flight.
func (c *Client) flushOnce(ctx context.Context) {
	var items []pendingItem
	err := c.cfg.Store.Update(ctx, func(tx Tx) error {
		items = nil
		out, err := tx.Outbox(ctx, c.cfg.Account)
		if err != nil {
			return err
		}
		for _, it := range out {
			p, ok, err := c.rebuild(ctx, tx, it)
			if err != nil {
				return err
			}
			if !ok {
				if err := tx.Dequeue(ctx, it.ID); err != nil && !errors.Is(err, ErrNotFound) {
					return err
				}
				continue
			}
			items = append(items, p)
		}
		return nil
	})
	if err != nil {
		c.cfg.Logger.Warn("could not read the outbox", "err", err)
		return
	}
	for _, p := range items {
		if ctx.Err() != nil {
			return
		}
		c.sendItem(ctx, p, true)
	}
}

// rebuild returns the stanza of an outbox item; ok is false when there is
// nothing to send any more.
func (c *Client) rebuild(ctx context.Context, tx Tx, it OutboxItem) (pendingItem, bool, error) {
	ref := outboxRef{outbox: it.ID, msg: it.Message}
	if it.Message == 0 {
		el, err := xmlstream.Parse(it.Payload)
		if err != nil || el.Get("id") == "" {
			c.cfg.Logger.Warn("dropping an unreadable outbox item", "item", it.ID, "err", err)
			return pendingItem{}, false, nil
		}
		return pendingItem{el: el, ref: ref}, true, nil
	}
	msg, err := tx.Message(ctx, it.Message)
	if errors.Is(err, ErrNotFound) {
		return pendingItem{}, false, nil
	}
	if err != nil {
		return pendingItem{}, false, err
	}
	if msg.State != StatePending || !msg.Retracted.IsZero() || msg.Direction != Outbound {
		return pendingItem{}, false, nil
	}
	conv, err := tx.Conversation(ctx, msg.Conversation)
	if err != nil {
		return pendingItem{}, false, err
	}
	el, err := c.buildMessage(ctx, tx, msg, conv.Peer)
	var ee *encryptError
	if errors.As(err, &ee) {
		p, err := c.failEncryption(ctx, tx, msg, ee)
		return p, err == nil, err
	}
	if err != nil {
		return pendingItem{}, false, err
	}
	ref.conv, ref.timeline = msg.Conversation, msg.Replaces == 0
	return pendingItem{el: el, ref: ref}, true, nil
}

// dequeueMessage removes the outbox item of a message, if it has one.
func (c *Client) dequeueMessage(ctx context.Context, tx Tx, id MessageID) error {
	out, err := tx.Outbox(ctx, c.cfg.Account)
	if err != nil {
		return err
	}
	for _, it := range out {
		if it.Message == id {
			if err := tx.Dequeue(ctx, it.ID); err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
		}
	}
	return nil
}

// queuePayload stores a stanza that is not a message of the timeline (a
// reaction, a retraction) as an outbox item, and returns it ready to send.
func (c *Client) queuePayload(ctx context.Context, tx Tx, el *xmlstream.Element) (pendingItem, error) {
	ob, err := tx.Enqueue(ctx, OutboxItem{Account: c.cfg.Account, Payload: []byte(el.String())})
	if err != nil {
		return pendingItem{}, err
	}
	return pendingItem{el: el, ref: outboxRef{outbox: ob}}, nil
}

// Retry sends a failed message of ours again (with the same ids, so a
// copy that did arrive is recognised as a duplicate).
func (c *Client) Retry(ctx context.Context, id MessageID) error {
	st, err := c.requireStore()
	if err != nil {
		return err
	}
	var item pendingItem
	var conv ConversationID
	var peer jid.JID
	err = st.View(ctx, func(tx Tx) error {
		msg, err := tx.Message(ctx, id)
		if err != nil {
			return err
		}
		cv, err := tx.Conversation(ctx, msg.Conversation)
		peer = cv.Peer
		return err
	})
	if err != nil {
		return fmt.Errorf("retry message %d: %w", id, err)
	}
	c.prepareEncryption(ctx, peer)
	err = st.Update(ctx, func(tx Tx) error {
		msg, err := tx.Message(ctx, id)
		if err != nil {
			return err
		}
		switch {
		case msg.Direction != Outbound:
			return ErrNotOwnMessage
		case msg.State != StateFailed:
			return ErrNotFailed
		}
		if _, err := tx.SetState(ctx, id, StatePending, ""); err != nil {
			return err
		}
		msg.State, conv = StatePending, msg.Conversation
		ob, err := tx.Enqueue(ctx, OutboxItem{Account: c.cfg.Account, Message: id})
		if err != nil {
			return err
		}
		cv, err := tx.Conversation(ctx, msg.Conversation)
		if err != nil {
			return err
		}
		el, err := c.buildMessage(ctx, tx, msg, cv.Peer)
		var ee *encryptError
		if errors.As(err, &ee) {
			item, err = c.failEncryption(ctx, tx, msg, ee)
			return err
		}
		if err != nil {
			return err
		}
		item = pendingItem{el: el, ref: outboxRef{outbox: ob, msg: id, conv: msg.Conversation, timeline: msg.Replaces == 0}}
		return nil
	})
	if err != nil {
		return fmt.Errorf("retry message %d: %w", id, err)
	}
	c.Emit(MessageUpdated{Conversation: conv, ID: id, State: StatePending})
	c.handOff(ctx, item)
	if item.failed != nil {
		return fmt.Errorf("retry message %d: %s: %w", id, item.failed.Failure, ErrNoRecipients)
	}
	return nil
}

// Delete deletes a message from the store, with its corrections and its
// outbox item (typically a failed message the user gives up on). It is a
// local deletion: a message already handed to the server may still arrive.
func (c *Client) Delete(ctx context.Context, id MessageID) error {
	st, err := c.requireStore()
	if err != nil {
		return err
	}
	var key string
	err = st.Update(ctx, func(tx Tx) error {
		msg, err := tx.Message(ctx, id)
		if err != nil {
			return err
		}
		if msg.Direction == Outbound {
			key = msg.XMLID
		}
		return tx.DeleteMessage(ctx, id)
	})
	if err != nil {
		return fmt.Errorf("delete message %d: %w", id, err)
	}
	if key != "" {
		c.forgetInflight(key)
	}
	return nil
}
