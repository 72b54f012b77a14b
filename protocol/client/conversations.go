package client

import (
	"context"
	"fmt"
)

// The user's organisation of the conversation list (pinned and archived
// conversations) and the edit history of messages: local state in the
// store, nothing is sent.

// SetPinned pins a conversation of this account to the top of the list
// (Conversation.Pinned), or unpins it. Pinning a pinned conversation keeps
// its place.
func (c *Client) SetPinned(ctx context.Context, conv ConversationID, on bool) error {
	if err := c.updateConversation(ctx, conv, func(tx Tx) error { return tx.SetPinned(ctx, conv, on) }); err != nil {
		return fmt.Errorf("set pinned: %w", err)
	}
	return nil
}

// SetArchived archives a conversation of this account (the list shows it
// only on demand; Conversation.Archived) or brings it back. The store
// brings it back by itself when a new message arrives or is sent.
func (c *Client) SetArchived(ctx context.Context, conv ConversationID, on bool) error {
	if err := c.updateConversation(ctx, conv, func(tx Tx) error { return tx.SetArchived(ctx, conv, on) }); err != nil {
		return fmt.Errorf("set archived: %w", err)
	}
	return nil
}

// updateConversation runs fn in a write transaction once conv is known to
// belong to this account.
func (c *Client) updateConversation(ctx context.Context, conv ConversationID, fn func(tx Tx) error) error {
	st, err := c.requireStore()
	if err != nil {
		return err
	}
	return st.Update(ctx, func(tx Tx) error {
		cv, err := tx.Conversation(ctx, conv)
		if err != nil {
			return err
		}
		if cv.Account != c.cfg.Account {
			return fmt.Errorf("conversation %d: %w", conv, ErrNotFound)
		}
		return fn(tx)
	})
}

// Corrections returns the edit history of a message of this account
// (XEP-0308): the message as first received or sent, then each correction,
// oldest first, with their bodies as stored (decrypted). msg may name the
// original or one of its corrections; see History.Corrections.
func (c *Client) Corrections(ctx context.Context, msg MessageID) ([]Message, error) {
	st, err := c.requireStore()
	if err != nil {
		return nil, err
	}
	var out []Message
	err = st.View(ctx, func(tx Tx) error {
		chain, err := tx.Corrections(ctx, msg)
		if err != nil {
			return err
		}
		if len(chain) == 0 {
			return fmt.Errorf("message %d: %w", msg, ErrNotFound)
		}
		cv, err := tx.Conversation(ctx, chain[0].Conversation)
		if err != nil {
			return err
		}
		if cv.Account != c.cfg.Account {
			return fmt.Errorf("message %d: %w", msg, ErrNotFound)
		}
		out = chain
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("edit history: %w", err)
	}
	return out, nil
}
