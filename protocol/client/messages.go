package client

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/tern-im/tern/protocol/hints"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/markers"
	"github.com/tern-im/tern/protocol/message"
	"github.com/tern-im/tern/protocol/reactions"
	"github.com/tern-im/tern/protocol/retraction"
	"github.com/tern-im/tern/protocol/sid"
	"github.com/tern-im/tern/protocol/stanza"
)

// Text returns the text to show for m: the body of its latest correction
// (XEP-0308) when it was corrected, else its body.
func (m Message) Text() string {
	if m.LastCorrection != nil {
		return m.LastCorrection.Body
	}
	return m.Body
}

// IsMe reports whether m's text is a XEP-0245 /me command ("/me waves"),
// to be shown as an action of its sender; MeText returns the action.
func (m Message) IsMe() bool { return message.IsMe(m.Text()) }

// MeText returns the action of a /me command (the text after "/me "), or
// the text unchanged when it is not one (XEP-0245 §2).
func (m Message) MeText() string { return message.MeText(m.Text()) }

// ownMessage returns our timeline message id (the original when id is a
// correction) with the address of its conversation's peer, for the
// operations only the sender may do.
func ownMessage(ctx context.Context, tx Tx, id MessageID) (Message, jid.JID, error) {
	msg, err := rootMessage(ctx, tx, id)
	if err != nil {
		return Message{}, jid.JID{}, err
	}
	if msg.Direction != Outbound {
		return Message{}, jid.JID{}, ErrNotOwnMessage
	}
	if !msg.Retracted.IsZero() {
		return Message{}, jid.JID{}, ErrRetracted
	}
	if msg.XMLID == "" {
		return Message{}, jid.JID{}, ErrNoMessageID
	}
	conv, err := tx.Conversation(ctx, msg.Conversation)
	if err != nil {
		return Message{}, jid.JID{}, err
	}
	return msg, conv.Peer, nil
}

// Correct replaces the text of one of our messages (XEP-0308). The
// correction is stored and sent like a message (pending, then sent…), and a
// MessageUpdated event carries it. XEP-0308 is meant for the last message;
// Correct allows any message of ours, and receiving clients that only
// accept the last one may ignore the correction of an older one.
func (c *Client) Correct(ctx context.Context, id MessageID, newBody string) error {
	st, err := c.requireStore()
	if err != nil {
		return err
	}
	if strings.TrimSpace(newBody) == "" {
		return fmt.Errorf("correct message %d: %w", id, ErrEmptyMessage)
	}
	var (
		stored Message
		item   pendingItem
		orig   Message
	)
	c.prepareCorrection(ctx, id)
	err = st.Update(ctx, func(tx Tx) error {
		var peer jid.JID
		var err error
		if orig, peer, err = ownMessage(ctx, tx, id); err != nil {
			return err
		}
		oid := sid.NewOriginID()
		corr := Message{
			Conversation: orig.Conversation, Direction: Outbound, Type: TypeChat, Sender: orig.Sender,
			XMLID: oid, OriginID: oid, Sent: c.now().UTC(), Body: newBody, Thread: orig.Thread,
			State: StatePending, Replaces: orig.ID,
		}
		stored, item, err = c.queueMessage(ctx, tx, corr, peer)
		return err
	})
	if err != nil {
		return fmt.Errorf("correct message %d: %w", id, err)
	}
	c.Emit(MessageUpdated{Conversation: orig.Conversation, ID: orig.ID,
		Corrected: &Correction{ID: stored.ID, Body: stored.Body, Time: stored.Time}})
	c.handOff(ctx, item)
	return nil
}

// Retract retracts one of our messages (XEP-0424): its text is forgotten
// here at once, and the contact's clients are asked to do the same. A
// message still waiting in the outbox is not sent any more.
func (c *Client) Retract(ctx context.Context, id MessageID) error {
	st, err := c.requireStore()
	if err != nil {
		return err
	}
	var (
		item pendingItem
		orig Message
	)
	err = st.Update(ctx, func(tx Tx) error {
		var peer jid.JID
		var err error
		if orig, peer, err = ownMessage(ctx, tx, id); err != nil {
			return err
		}
		if err := tx.Retract(ctx, orig.ID, c.now().UTC()); err != nil {
			return err
		}
		if err := c.dequeueMessage(ctx, tx, orig.ID); err != nil {
			return err
		}
		oid := sid.NewOriginID()
		el := retraction.Message(peer, message.TypeChat, oid, orig.XMLID).Append(sid.OriginID(oid))
		item, err = c.queuePayload(ctx, tx, el)
		return err
	})
	if err != nil {
		return fmt.Errorf("retract message %d: %w", id, err)
	}
	c.Emit(MessageUpdated{Conversation: orig.Conversation, ID: orig.ID, Retracted: true})
	c.handOff(ctx, item)
	return nil
}

// React sets our reactions to a message of a conversation (XEP-0444): the
// complete set, replacing the previous one; no emojis removes them. Each
// reaction must be a single emoji.
func (c *Client) React(ctx context.Context, id MessageID, emojis []string) error {
	st, err := c.requireStore()
	if err != nil {
		return err
	}
	var set []string
	for _, e := range emojis {
		e = strings.TrimSpace(e)
		if !reactions.Valid(e) {
			return fmt.Errorf("react to message %d: %w: %q", id, ErrInvalidReaction, e)
		}
		if !slices.Contains(set, e) {
			set = append(set, e)
		}
	}
	if len(set) > reactions.MaxReactions {
		return fmt.Errorf("react to message %d: %w: more than %d", id, ErrInvalidReaction, reactions.MaxReactions)
	}
	var (
		item   pendingItem
		target Message
	)
	err = st.Update(ctx, func(tx Tx) error {
		var err error
		if target, err = rootMessage(ctx, tx, id); err != nil {
			return err
		}
		if !target.Retracted.IsZero() {
			return ErrRetracted
		}
		ref := wireID(target)
		if ref == "" {
			return ErrNoMessageID
		}
		conv, err := tx.Conversation(ctx, target.Conversation)
		if err != nil {
			return err
		}
		if err := tx.SetReactions(ctx, target.ID, c.accountJID().String(), set, c.now().UTC()); err != nil {
			return err
		}
		oid := sid.NewOriginID()
		el := reactions.Message(conv.Peer, message.TypeChat, oid, reactions.Reactions{ID: ref, Emoji: set})
		item, err = c.queuePayload(ctx, tx, el.Append(sid.OriginID(oid)))
		return err
	})
	if err != nil {
		return fmt.Errorf("react to message %d: %w", id, err)
	}
	c.Emit(MessageUpdated{Conversation: target.Conversation, ID: target.ID, Reactions: true})
	c.handOff(ctx, item)
	return nil
}

// MarkRead records that the user has seen the conversation up to the
// message upTo (its unread count drops), and, unless turned off with
// SetSendReadMarkers, tells the contact with a displayed marker (XEP-0333)
// for the newest message up to there that asked for one. Markers only move
// forward, are never sent for our own messages, and only to contacts
// allowed to see our presence. The marker answers the newest markable
// message between the previous read position (this device's or, through
// XEP-0490, another's: read there, answered there) and upTo; the fact that
// a message is markable is stored with it, so this holds across restarts
// and for messages that came from the archive or as carbons.
func (c *Client) MarkRead(ctx context.Context, conv ConversationID, upTo MessageID) error {
	st, err := c.requireStore()
	if err != nil {
		return err
	}
	var marker *xmlstream.Element
	err = st.Update(ctx, func(tx Tx) error {
		cv, err := tx.Conversation(ctx, conv)
		if err != nil {
			return err
		}
		msg, err := tx.Message(ctx, upTo)
		if err != nil {
			return err
		}
		if msg.Conversation != conv {
			return ErrOtherConversation
		}
		if err := tx.SetLastRead(ctx, conv, upTo); err != nil {
			return err
		}
		if !c.sendingMarkers() || cv.Kind != KindChat {
			// A room's markers reference the room's stanza-ids and go to
			// the room as groupchat: not sent from here.
			return nil
		}
		mk, err := tx.NewestMarkable(ctx, conv, cv.LastRead, upTo)
		switch {
		case errors.Is(err, ErrNotFound):
			// None since the last read position (or that message is
			// gone): nothing to answer.
			return nil
		case err != nil:
			return err
		case mk.XMLID == "":
			return nil
		}
		allowed, err := c.presenceAllowed(ctx, tx, cv.Peer)
		if err != nil || !allowed {
			return err
		}
		// XEP-0333 §4: the marker answers the message's own id, and
		// carries a store hint so that our other clients learn from the
		// archive that it was read.
		marker = xmlstream.New(stanza.NSClient, "message", "to", cv.Peer.String(), "type", message.TypeChat, "id", sid.NewOriginID()).Append(
			markers.Marker{Kind: markers.Displayed, ID: mk.XMLID}.Element(),
			hints.Store.Element())
		return nil
	})
	if err != nil {
		return fmt.Errorf("mark read: %w", err)
	}
	// XEP-0490: our other devices learn it through PEP (sync.go).
	c.publishDisplayed(ctx, conv, upTo)
	if marker != nil {
		if err := c.Send(ctx, marker); err != nil {
			c.cfg.Logger.Debug("could not send a displayed marker", "err", err)
		}
	}
	return nil
}

// sendingMarkers reports whether the user lets MarkRead send displayed
// markers (SetSendReadMarkers).
func (c *Client) sendingMarkers() bool {
	m := c.messages()
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sendMarkers
}
