package client

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/tern-im/tern/protocol/blocking"
	"github.com/tern-im/tern/protocol/carbons"
	"github.com/tern-im/tern/protocol/chatstates"
	"github.com/tern-im/tern/protocol/correction"
	"github.com/tern-im/tern/protocol/delay"
	"github.com/tern-im/tern/protocol/hints"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/markers"
	"github.com/tern-im/tern/protocol/message"
	"github.com/tern-im/tern/protocol/reactions"
	"github.com/tern-im/tern/protocol/receipts"
	"github.com/tern-im/tern/protocol/reply"
	"github.com/tern-im/tern/protocol/retraction"
	"github.com/tern-im/tern/protocol/sid"
	"github.com/tern-im/tern/protocol/stanza"
)

// The inbound pipeline (DESIGN.md §3). Every message stanza goes through
// one store transaction: parse → dedupe → apply → persist; the events and
// the stanzas it causes (receipts) go out after the commit.
//
// Decisions:
//   - Messages from a JID our block list covers (XEP-0191) are dropped
//     entirely: not stored, not counted as unread, no event, no receipt,
//     no chat state. Error bounces about our own messages still apply.
//   - Headlines (RFC 6121 §5.2.2) are transient notifications: a Headline
//     event, nothing stored.
//   - A correction, retraction or reaction whose target is not found among
//     the messages of the right sender in that conversation is ignored (not
//     stored as a new message).
//   - A reply (XEP-0461) keeps its quote fallback when the referenced
//     message is unknown, so the context is not lost (§3.1); otherwise the
//     fallback is stripped.
//   - Receipts (XEP-0184 §8) are returned, and displayed markers sent, only
//     to contacts allowed to see our presence (subscription from or both).
//   - Group chat messages are left to the room feature (not handled yet).

// errUnchanged rolls back a transaction that changed nothing (a receipt for
// a message we never sent, a spoofed correction, …), so that the store is
// left exactly as it was, even the conversation the pipeline looked up.
var errUnchanged = errors.New("client: nothing to store")

// sourceKind says how a message element reached the pipeline.
type sourceKind uint8

const (
	// sourceLive: delivered to us directly by our server.
	sourceLive sourceKind = iota
	// sourceArchive: a XEP-0313 result of a query we sent to archive.
	sourceArchive
	// sourceCarbon: a XEP-0280 carbon, unwrapped after checking that it
	// comes from our own bare JID.
	sourceCarbon
)

// source describes where the message element given to receive comes from.
// Carbons and archive results hand their inner <message/> to receive with
// their source; only live messages are answered (receipts, chat states).
type source struct {
	kind sourceKind
	// sent marks a message one of our own clients sent (a sent carbon, an
	// outbound archived message): its author is us and its 'to' the peer.
	sent bool
	// archive is the bare JID of the archive a result came from, archiveID
	// the id it gave the message (its XEP-0359 stanza-id there), stamp the
	// archive's time for it.
	archive   jid.JID
	archiveID string
	stamp     time.Time
}

// effects is what processing a stanza does outside the store: it is done
// after the commit, and only then.
type effects struct {
	// handled: the stanza was for the message features (otherwise it is
	// left to the next handler, or reported as an unhandled Stanza).
	handled bool
	// changed: the transaction wrote something worth committing.
	changed bool
	events  []Event
	send    []*xmlstream.Element
	after   []func()
}

// incoming is one message being processed.
type incoming struct {
	el  *xmlstream.Element
	msg message.Message
	src source
	// own is our bare JID, peer the other party's (the conversation).
	own, peer jid.JID
	// dir and sender are the Direction and Message.Sender of its author.
	dir    Direction
	sender string
	conv   ConversationID
	// enc, device and trust say how it travelled: an OMEMO message's
	// body is the decrypted text by then (omemo.go).
	enc    Encryption
	device uint32
	trust  Trust
}

// handleMessage is the message handler of the mux; it runs on the client
// loop.
func (c *Client) handleMessage(ctx context.Context, el *xmlstream.Element) bool {
	if el.Get("type") == message.TypeGroupchat {
		return false // XEP-0045 rooms: not handled yet
	}
	src := source{kind: sourceLive}
	switch inner, sent, err := carbons.Unwrap(el, c.accountJID()); {
	case errors.Is(err, carbons.ErrNotCarbon):
	case err != nil:
		// XEP-0280 §11: a carbon from anyone but our own bare JID is a
		// forgery (and a malformed one is useless): never unwrap it.
		c.cfg.Logger.Warn("dropping a carbon that does not come from our account", "from", el.Get("from"), "err", err)
		return true
	default:
		if inner.Get("type") == message.TypeGroupchat {
			return true // XEP-0280 §6: rooms' messages are not copied; ignore
		}
		if carbons.IsPrivate(inner) || hints.Has(inner, hints.NoCopy) {
			// XEP-0280 §7 and XEP-0334 §4.3: its sender asked that other
			// devices get no copy; a server that copied it all the same
			// is not obeyed.
			return true
		}
		el, src = inner, source{kind: sourceCarbon, sent: sent}
	}
	var fx effects
	err := c.cfg.Store.Update(ctx, func(tx Tx) error {
		fx = effects{}
		return c.receive(ctx, tx, el, src, &fx)
	})
	if src.kind == sourceCarbon {
		fx.handled = true // the wrapper is not for anyone else
	}
	if err != nil && !errors.Is(err, errUnchanged) {
		c.cfg.Logger.Warn("could not store an inbound message", "from", el.Get("from"), "id", el.Get("id"), "err", err)
		return true
	}
	c.finish(ctx, &fx)
	return fx.handled
}

// finish does what a committed (or harmlessly rolled back) transaction
// left to do: remember, send, report.
func (c *Client) finish(ctx context.Context, fx *effects) {
	for _, f := range fx.after {
		f()
	}
	for _, el := range fx.send {
		if err := c.Send(ctx, el); err != nil {
			c.cfg.Logger.Debug("could not send", "stanza", el.Name.Local, "err", err)
		}
	}
	for _, e := range fx.events {
		c.Emit(e)
	}
}

// done turns the outcome of applying a stanza into the transaction's
// result: errUnchanged rolls back what nothing needs.
func done(err error, fx *effects) error {
	if err != nil {
		return err
	}
	if !fx.changed {
		return errUnchanged
	}
	return nil
}

// receive runs the pipeline for one message element from src in tx. It is
// the one entry point for live messages, carbons and archive results.
func (c *Client) receive(ctx context.Context, tx Tx, el *xmlstream.Element, src source, fx *effects) error {
	msg, err := message.Parse(el, "")
	if err != nil {
		fx.handled = true // unattributable: dropped
		return errUnchanged
	}
	if msg.Type == message.TypeError {
		return done(c.receiveError(ctx, tx, msg, fx), fx)
	}
	in := &incoming{el: el, msg: msg, src: src, own: c.accountJID()}
	if src.sent {
		if msg.To.IsZero() {
			fx.handled = true
			return errUnchanged
		}
		in.peer, in.dir, in.sender = msg.To.Bare(), Outbound, in.own.String()
	} else {
		if msg.From.IsZero() {
			return errUnchanged // from our own server: nothing for us here
		}
		in.peer, in.dir, in.sender = msg.From.Bare(), Inbound, msg.From.Bare().String()
		blocked, err := c.isBlocked(ctx, tx, msg.From)
		if err != nil {
			return err
		}
		if blocked {
			fx.handled = true
			c.cfg.Logger.Debug("dropping a message from a blocked sender", "from", msg.From)
			return errUnchanged
		}
	}

	// XEP-0085: chat states are reported, never stored.
	if src.kind == sourceLive && in.dir == Inbound {
		if st, err := chatstates.Parse(el); err == nil && st != "" && !chatstates.Ignore(st, msg.Type) {
			fx.handled = true
			fx.events = append(fx.events, ChatStateChanged{From: msg.From, State: ChatState(st)})
			fx.after = append(fx.after, func() { c.noteChatStates(in.peer) })
		}
	}
	if msg.Type == message.TypeHeadline {
		return c.receiveHeadline(in, fx)
	}

	if in.conv, err = tx.EnsureConversation(ctx, c.cfg.Account, in.peer, KindChat); err != nil {
		return err
	}
	// XEP-0384: decrypt in this transaction, before anything reads the
	// body (omemo.go).
	if c.cfg.E2EE != nil {
		if stop, err := c.decryptIncoming(ctx, tx, in, fx); stop {
			return err
		}
	}
	// Receipts and markers about our messages, from the peer they went to.
	if in.dir == Inbound {
		if id, ok := receipts.ParseReceived(el); ok {
			fx.handled = true
			if err := c.applyState(ctx, tx, in, id, StateDelivered, false, fx); err != nil {
				return err
			}
		}
		if mk, err := markers.Parse(el); err == nil {
			fx.handled = true
			state := StateRead
			if mk.Kind == markers.Received {
				state = StateDelivered
			}
			if err := c.applyState(ctx, tx, in, mk.ID, state, true, fx); err != nil {
				return err
			}
		}
	}

	// A retraction, a reaction or a correction acts on an earlier message;
	// a body it carries is a fallback or the new text, never a message of
	// its own.
	if id, err := retraction.Parse(el); !errors.Is(err, retraction.ErrNotFound) {
		fx.handled = true
		if err != nil {
			return done(nil, fx) // malformed: ignored
		}
		return done(c.applyRetraction(ctx, tx, in, id, fx), fx)
	}
	if r, err := reactions.Parse(el); !errors.Is(err, reactions.ErrNotFound) {
		fx.handled = true
		if err != nil {
			return done(nil, fx) // malformed: ignored
		}
		return done(c.applyReactions(ctx, tx, in, r, fx), fx)
	}
	if id, err := correction.Parse(el); !errors.Is(err, correction.ErrNoCorrection) {
		fx.handled = true
		if err != nil {
			return done(nil, fx) // malformed: ignored
		}
		return done(c.applyCorrection(ctx, tx, in, id, fx), fx)
	}
	if len(in.msg.Bodies) == 0 { // in.msg: an OMEMO message's body is its plaintext
		return done(nil, fx)
	}
	fx.handled = true
	return done(c.storeMessage(ctx, tx, in, fx), fx)
}

// isBlocked reports whether our block list covers j (XEP-0191 §7).
func (c *Client) isBlocked(ctx context.Context, tx Tx, j jid.JID) (bool, error) {
	list, err := tx.Blocklist(ctx, c.cfg.Account)
	if err != nil {
		return false, err
	}
	return blocking.List(list).Blocked(j), nil
}

// presenceAllowed reports whether peer may see our presence (a roster
// subscription 'from' or 'both', or our own account): receipts and markers
// reveal that we are online (XEP-0184 §8, XEP-0333 §5).
func (c *Client) presenceAllowed(ctx context.Context, tx Tx, peer jid.JID) (bool, error) {
	if peer == c.accountJID() {
		return true, nil
	}
	_, items, err := tx.Roster(ctx, c.cfg.Account)
	if err != nil {
		return false, err
	}
	for _, it := range items {
		if it.JID == peer {
			return it.Subscription == SubscriptionFrom || it.Subscription == SubscriptionBoth, nil
		}
	}
	return false, nil
}

// receiveHeadline reports a headline; nothing is stored.
func (c *Client) receiveHeadline(in *incoming, fx *effects) error {
	body, subject := in.msg.Body(c.cfg.Languages), in.msg.Subject(c.cfg.Languages)
	if body == "" && subject == "" {
		return errUnchanged // e.g. a PEP notification for another feature
	}
	fx.handled = true
	fx.events = append(fx.events, Headline{From: in.msg.From, Subject: subject, Body: body})
	return errUnchanged
}

// receiveError applies a type='error' message: when it bounces one of our
// messages to that peer, the message failed (the seed requirement: the
// sender learns of non-delivery).
func (c *Client) receiveError(ctx context.Context, tx Tx, msg message.Message, fx *effects) error {
	if msg.ID == "" || msg.From.IsZero() {
		return nil
	}
	conv, err := tx.EnsureConversation(ctx, c.cfg.Account, msg.From.Bare(), KindChat)
	if err != nil {
		return err
	}
	id, ok, err := c.findRef(ctx, tx, conv, msg.ID, c.accountJID().String())
	if err != nil || !ok {
		return err
	}
	orig, err := tx.Message(ctx, id)
	if err != nil {
		return err
	}
	if orig.Direction != Outbound {
		return nil
	}
	fx.handled = true
	if err := c.setState(ctx, tx, orig, StateFailed, failureReason(msg.Error), fx); err != nil {
		return err
	}
	// A failed message waits for the user (Retry or Delete), not for the
	// next connection.
	if err := c.dequeueMessage(ctx, tx, orig.ID); err != nil {
		return err
	}
	key := orig.XMLID
	fx.after = append(fx.after, func() { c.forgetInflight(key) })
	return nil
}

// maxFailureLen bounds the failure reason kept from an error stanza, in
// bytes: its text comes from a server or a peer.
const maxFailureLen = 512

// failureReason describes a bounce for the user.
func failureReason(se *stanza.Error) string {
	if se == nil {
		return "the message bounced"
	}
	if blocking.IsBlockedError(se) {
		return "you have blocked this contact"
	}
	return truncateUTF8(se.Error(), maxFailureLen)
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// findRef finds the message of conv that id (a stanza id or origin-id)
// refers to among the messages of the given senders, tried in order.
// Looking only among a sender's own messages is what keeps a peer from
// acting on someone else's message (DESIGN.md §7).
func (c *Client) findRef(ctx context.Context, tx Tx, conv ConversationID, id string, senders ...string) (MessageID, bool, error) {
	if id == "" || len(id) > maxIDLen {
		return 0, false, nil
	}
	for _, s := range senders {
		for _, ref := range []MessageRef{{Sender: s, XMLID: id}, {Sender: s, OriginID: id}} {
			mid, err := tx.FindMessage(ctx, conv, ref)
			if err == nil {
				return mid, true, nil
			}
			if !errors.Is(err, ErrNotFound) {
				return 0, false, err
			}
		}
	}
	return 0, false, nil
}

// rootMessage returns the message id names, or the message it corrects
// when it is a correction (XEP-0308: acting on a correction acts on the
// original).
func rootMessage(ctx context.Context, tx Tx, id MessageID) (Message, error) {
	m, err := tx.Message(ctx, id)
	if err != nil || m.Replaces == 0 {
		return m, err
	}
	return tx.Message(ctx, m.Replaces)
}

// applyState moves our message with stanza id `id` in the conversation to
// state, for a receipt (XEP-0184) or a marker (XEP-0333). A marker means
// "up to here": with cumulative, our earlier sent or delivered messages
// move too.
func (c *Client) applyState(ctx context.Context, tx Tx, in *incoming, id string, state DeliveryState, cumulative bool, fx *effects) error {
	target, ok, err := c.findRef(ctx, tx, in.conv, id, in.own.String())
	if err != nil || !ok {
		return err // a receipt for a message we never sent to this peer: ignored
	}
	msg, err := tx.Message(ctx, target)
	if err != nil {
		return err
	}
	if msg.Direction != Outbound {
		return nil
	}
	if err := c.setState(ctx, tx, msg, state, "", fx); err != nil {
		return err
	}
	if !cumulative || msg.Replaces != 0 {
		return nil
	}
	before := msg.ID
	for scanned := 0; scanned < maxMarkerWalk; {
		page, err := tx.PageBefore(ctx, in.conv, before, 100)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			return nil
		}
		for i := len(page) - 1; i >= 0; i-- {
			p := page[i]
			scanned++
			if p.Direction != Outbound {
				continue
			}
			switch {
			case p.State == StateSent || (p.State == StateDelivered && state == StateRead):
				if err := c.setState(ctx, tx, p, state, "", fx); err != nil {
					return err
				}
			case p.State >= state && p.State != StateFailed:
				return nil // marked already, and so is everything before
			}
			// Pending messages may not have gone out before the marked
			// one (the outbox resends them); failed ones did not.
		}
		before = page[0].ID
	}
	return nil
}

// setState changes the delivery state of our message and reports it.
func (c *Client) setState(ctx context.Context, tx Tx, msg Message, state DeliveryState, failure string, fx *effects) error {
	changed, err := tx.SetState(ctx, msg.ID, state, failure)
	if err != nil || !changed {
		return err
	}
	fx.changed = true
	if msg.Replaces == 0 {
		fx.events = append(fx.events, MessageUpdated{Conversation: msg.Conversation, ID: msg.ID, State: state, Failure: failure})
	}
	return nil
}

// newMessage returns the stored form of in's content.
func (c *Client) newMessage(in *incoming) Message {
	lang, text, alts := pickBody(in.msg.Bodies, in.msg.Lang, c.cfg.Languages)
	sent, server, received := c.messageTimes(in)
	m := Message{
		Conversation: in.conv,
		Direction:    in.dir,
		Type:         messageType(in.msg.Type),
		Sender:       in.sender,
		XMLID:        limitID(in.msg.ID),
		OriginID:     sid.ParseOriginID(in.el),
		StanzaIDs:    c.stanzaIDs(in),
		Sent:         sent,
		Server:       server,
		Received:     received,
		Body:         text,
		Lang:         lang,
		Alternatives: alts,
		Thread:       limitID(in.msg.Thread.ID),
		Encryption:   in.enc,
		SenderDevice: in.device,
		Trust:        in.trust,
		// Kept for MarkRead, whichever way the message came (live, as a
		// carbon of another device's, or from the archive).
		Markable: in.dir == Inbound && markers.IsMarkable(in.el),
	}
	if in.dir == Outbound {
		m.State = StateSent // sent by another client of ours: our server has it
	}
	if in.src.kind != sourceArchive {
		// A message our server delivers takes its place by arrival: the
		// server delivers in its order, and its stamps may be whole
		// seconds (Prosody), coarser than the order. The archive's copy
		// later gives it the archive's time (the store's merge).
		m.Time = received
	}
	return m
}

// pickBody chooses the body in the user's language among the alternatives
// (RFC 6121 §5.2.3) and returns the others, sorted by language.
func pickBody(bodies map[string]string, def string, prefs []string) (lang, text string, alts []Body) {
	if len(bodies) == 0 {
		return "", "", nil
	}
	// message.Pick chooses by the keys alone: picking among the keys
	// themselves tells which language won.
	langs := make(map[string]string, len(bodies))
	for k := range bodies {
		langs[k] = k
	}
	lang = message.Pick(langs, def, prefs)
	for k, v := range bodies {
		if k != lang {
			alts = append(alts, Body{Lang: k, Text: v})
		}
	}
	slices.SortFunc(alts, func(a, b Body) int { return cmp.Compare(a.Lang, b.Lang) })
	return lang, bodies[lang], alts
}

// messageType maps a stanza type to the stored one.
func messageType(t string) MessageType {
	switch t {
	case message.TypeChat:
		return TypeChat
	case message.TypeHeadline:
		return TypeHeadline
	case message.TypeGroupchat:
		return TypeGroupchat
	}
	return TypeNormal
}

// limitID drops an id or thread longer than any we could refer to: a peer
// must not make us store and index arbitrarily long keys.
func limitID(s string) string {
	if len(s) > maxIDLen {
		return ""
	}
	return s
}

// messageTimes returns the sender's, the server's and our reception time
// of in. A delay (XEP-0203) from our server is the server's time (offline
// storage); any other is the sender's claim. Neither may lie in the
// future: a peer must not pin its message to the end of the timeline.
func (c *Client) messageTimes(in *incoming) (sent, server, received time.Time) {
	received = c.now().UTC()
	server = in.src.stamp
	if d, ok := delay.Find(in.el); ok {
		// Our server stamps offline messages from its domain (XEP-0160)
		// and, Prosody, the stanzas it resends after a stream resumption
		// from our bare JID (XEP-0198).
		ours := d.From.Resource() == "" && d.From.Domain() == in.own.Domain() &&
			(d.From.Local() == "" || d.From.Bare() == in.own.Bare())
		switch {
		case ours && server.IsZero():
			server = d.Stamp
		case !ours:
			sent = d.Stamp
		}
	}
	if sent.After(received) {
		sent = received
	}
	if server.After(received) {
		server = received
	}
	return sent, server, received
}

// stanzaIDs returns the XEP-0359 stanza-ids of in that can be trusted
// (XEP-0359 §5): the archive's id of an archive result, and for a message
// our server delivered the stanza-id by our bare JID, when our server
// announces XEP-0359 (and so strips forgeries).
func (c *Client) stanzaIDs(in *incoming) []StanzaID {
	switch in.src.kind {
	case sourceArchive:
		if in.src.archiveID == "" || len(in.src.archiveID) > maxIDLen {
			return nil
		}
		return []StanzaID{{Archive: in.src.archive.Bare(), ID: in.src.archiveID}}
	case sourceLive, sourceCarbon:
		// A carbon comes from our own bare JID (checked by Unwrap): our
		// server delivered its inner message, and stamped it.
		m := c.messages()
		m.mu.Lock()
		trusted := m.sidTrusted
		m.mu.Unlock()
		if !trusted {
			return nil
		}
		var out []StanzaID
		for _, s := range sid.StanzaIDs(in.el, in.own) {
			out = append(out, StanzaID{Archive: s.By.Bare(), ID: s.ID})
		}
		return out
	}
	return nil
}

// storeMessage stores a content message and reports it.
func (c *Client) storeMessage(ctx context.Context, tx Tx, in *incoming, fx *effects) error {
	msg := c.newMessage(in)
	if r, err := reply.Parse(in.el); err == nil {
		msg.ReplyTo = Reply{ID: r.ID}
		if !r.To.IsZero() {
			msg.ReplyTo.To = r.To.String()
		}
		// XEP-0461 §3.1: hide the quote only when the referenced message
		// can be shown instead.
		_, found, err := c.findRef(ctx, tx, in.conv, r.ID, in.peer.String(), in.own.String())
		if err != nil {
			return err
		}
		if found {
			msg.Body = reply.StripFallback(in.el, msg.Body)
			for i := range msg.Alternatives {
				msg.Alternatives[i].Text = reply.StripFallback(in.el, msg.Alternatives[i].Text)
			}
		}
	}
	res, err := tx.InsertMessages(ctx, []Message{msg})
	if err != nil {
		return err
	}
	fx.changed = true // a duplicate may still gain stanza-ids
	if !res[0].Duplicate {
		stored, err := tx.Message(ctx, res[0].ID)
		if err != nil {
			return err
		}
		fx.events = append(fx.events, MessageReceived{Message: stored})
	}
	return c.answerReceipt(ctx, tx, in, fx)
}

// answerReceipt queues the XEP-0184 receipt in asks for, when it may be
// given: only for a message delivered to us live (§4.5: not from an
// archive, not a copy of our own), from a peer allowed to see our presence
// (§8). A duplicate is answered again: the sender may have resent it for
// want of a receipt.
func (c *Client) answerReceipt(ctx context.Context, tx Tx, in *incoming, fx *effects) error {
	if in.src.kind != sourceLive || in.dir != Inbound || in.peer == in.own || !receipts.Requested(in.el) {
		return nil
	}
	ok, err := c.presenceAllowed(ctx, tx, in.peer)
	if err != nil || !ok {
		return err
	}
	if ack := receipts.Answer(in.el, sid.NewOriginID()); ack != nil {
		fx.send = append(fx.send, ack)
	}
	return nil
}

// applyCorrection stores a correction (XEP-0308) of an earlier message of
// the same sender.
func (c *Client) applyCorrection(ctx context.Context, tx Tx, in *incoming, id string, fx *effects) error {
	if len(in.msg.Bodies) == 0 {
		return nil
	}
	target, ok, err := c.findRef(ctx, tx, in.conv, id, in.sender)
	if err != nil || !ok {
		return err
	}
	orig, err := rootMessage(ctx, tx, target)
	if err != nil {
		return err
	}
	// XEP-0308 §4: only the original's sender may correct it (findRef
	// looked among that sender's messages only; this says it again).
	if orig.Sender != in.sender || orig.Direction != in.dir || !orig.Retracted.IsZero() {
		return nil
	}
	corr := c.newMessage(in)
	corr.Replaces = orig.ID
	res, err := tx.InsertMessages(ctx, []Message{corr})
	if err != nil {
		return err
	}
	fx.changed = true
	if !res[0].Duplicate {
		stored, err := tx.Message(ctx, orig.ID)
		if err != nil {
			return err
		}
		fx.events = append(fx.events, MessageUpdated{Conversation: in.conv, ID: orig.ID, Corrected: stored.LastCorrection})
	}
	return c.answerReceipt(ctx, tx, in, fx)
}

// applyRetraction retracts (XEP-0424) an earlier message of the same
// sender.
func (c *Client) applyRetraction(ctx context.Context, tx Tx, in *incoming, id string, fx *effects) error {
	target, ok, err := c.findRef(ctx, tx, in.conv, id, in.sender)
	if err != nil || !ok {
		return err
	}
	orig, err := rootMessage(ctx, tx, target)
	if err != nil {
		return err
	}
	// XEP-0424 §5: only the original's sender may retract it.
	if orig.Sender != in.sender || orig.Direction != in.dir || !orig.Retracted.IsZero() {
		return nil
	}
	sent, _, received := c.messageTimes(in)
	if err := tx.Retract(ctx, orig.ID, cmp.Or(sent, received)); err != nil {
		return err
	}
	fx.changed = true
	fx.events = append(fx.events, MessageUpdated{Conversation: in.conv, ID: orig.ID, Retracted: true})
	return nil
}

// applyReactions replaces the sender's reactions (XEP-0444) to a message of
// the conversation.
func (c *Client) applyReactions(ctx context.Context, tx Tx, in *incoming, r reactions.Reactions, fx *effects) error {
	author := in.msg.From
	if in.dir == Outbound {
		author = in.own
	}
	// §4.1: in a one-to-one chat only its two parties may react.
	if !reactions.Acceptable(author, in.own, in.peer) {
		return nil
	}
	target, ok, err := c.findRef(ctx, tx, in.conv, r.ID, in.peer.String(), in.own.String())
	if err != nil || !ok {
		return err
	}
	orig, err := rootMessage(ctx, tx, target)
	if err != nil || !orig.Retracted.IsZero() {
		return err
	}
	sent, _, received := c.messageTimes(in)
	at := cmp.Or(sent, received)
	// §4.1: a delayed update older than the set applied already is stale.
	for _, re := range orig.Reactions {
		if re.Sender == in.sender && re.Time.After(at) {
			return nil
		}
	}
	if err := tx.SetReactions(ctx, orig.ID, in.sender, r.Emoji, at); err != nil {
		return err
	}
	fx.changed = true
	fx.events = append(fx.events, MessageUpdated{Conversation: in.conv, ID: orig.ID, Reactions: true})
	return nil
}

// noteChatStates records that peer supports chat states (XEP-0085 §5.1).
func (c *Client) noteChatStates(peer jid.JID) {
	m := c.messages()
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.chatPeers[peer]; ok {
		return
	}
	if len(m.chatPeers) >= maxChatStatePeers {
		for k := range m.chatPeers { // forget an arbitrary one
			delete(m.chatPeers, k)
			break
		}
	}
	m.chatPeers[peer] = ""
}
