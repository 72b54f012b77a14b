package client

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/tern-im/tern/protocol/blocking"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/session"
	"github.com/tern-im/tern/protocol/stanza"
)

// Blocking (XEP-0191): the server's block list is mirrored in the store,
// fetched on each new session and kept in sync by the pushes the server
// sends to every resource. The server stops blocked entities' stanzas; the
// engine also checks the list (Blocked) so that nothing from a blocked JID
// reaches the UI.

// onlineBlocklist fetches the block list (§3.2) into the store.
func (c *Client) onlineBlocklist(ctx context.Context, _ session.Info) {
	qctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	res, err := c.SendIQ(qctx, blocking.ListRequest())
	if err != nil {
		if errors.Is(err, stanza.ErrServiceUnavailable) || errors.Is(err, stanza.ErrFeatureNotImplemented) {
			c.cfg.Logger.Info("blocking: the server has no block list")
		} else {
			c.cfg.Logger.Warn("blocking: fetching the block list", "err", err)
		}
		return
	}
	list, err := blocking.ParseList(res)
	if err != nil {
		c.cfg.Logger.Warn("blocking: the server's block list", "err", err)
		return
	}
	if err := c.updateBlocklist(ctx, func(tx Tx) error {
		return tx.SetBlocklist(ctx, c.cfg.Account, list)
	}); err != nil {
		c.cfg.Logger.Warn("blocking: storing the block list", "err", err)
	}
}

// handleBlockPush applies a block or unblock push (§3.3, §3.4) from our
// account.
func (c *Client) handleBlockPush(ctx context.Context, iq *xmlstream.Element) (*xmlstream.Element, error) {
	h, err := stanza.ParseHeader(iq)
	if err != nil {
		return nil, &stanza.Error{Type: stanza.ErrorTypeModify, Condition: stanza.CondBadRequest}
	}
	if !blocking.PushAllowed(h.From, c.ownJID()) {
		// Like a roster push (RFC 6121 §2.1.6): only our account may
		// change our block list; anyone else is told nothing.
		c.cfg.Logger.Warn("blocking: ignoring a block list push that does not come from our account", "from", h.From)
		return nil, &stanza.Error{Type: stanza.ErrorTypeCancel, Condition: stanza.CondServiceUnavailable}
	}
	cmd, err := blocking.ParseCommand(iq)
	if err != nil {
		c.cfg.Logger.Warn("blocking: malformed push", "err", err)
		return nil, &stanza.Error{Type: stanza.ErrorTypeModify, Condition: stanza.CondBadRequest}
	}
	if err := c.applyBlockCommand(ctx, cmd); err != nil {
		c.cfg.Logger.Warn("blocking: storing a push", "err", err)
		return nil, &stanza.Error{Type: stanza.ErrorTypeWait, Condition: stanza.CondInternalServerError}
	}
	return nil, nil
}

// applyBlockCommand applies a block or unblock to the stored list.
func (c *Client) applyBlockCommand(ctx context.Context, cmd blocking.Command) error {
	return c.updateBlocklist(ctx, func(tx Tx) error {
		if cmd.Block {
			return tx.Block(ctx, c.cfg.Account, cmd.JIDs...)
		}
		return tx.Unblock(ctx, c.cfg.Account, cmd.JIDs...)
	})
}

// updateBlocklist changes the stored list with change, in one transaction,
// then refreshes the in-memory copy and reports a change.
func (c *Client) updateBlocklist(ctx context.Context, change func(tx Tx) error) error {
	var before, after []jid.JID
	err := c.cfg.Store.Update(ctx, func(tx Tx) error {
		var err error
		if before, err = tx.Blocklist(ctx, c.cfg.Account); err != nil {
			return err
		}
		if err := change(tx); err != nil {
			return err
		}
		after, err = tx.Blocklist(ctx, c.cfg.Account)
		return err
	})
	if err != nil {
		return err
	}
	st := c.contacts()
	st.mu.Lock()
	st.blocklist, st.blockOK = after, true
	st.mu.Unlock()
	if !slices.Equal(before, after) {
		c.Emit(BlocklistChanged{JIDs: slices.Clone(after)})
	}
	return nil
}

// Block blocks jids (XEP-0191 §3.3): the server then stops everything
// between them and us. Entries are matched as XEP-0191 §7 says (a bare
// JID covers its resources, a domain everything at it).
func (c *Client) Block(ctx context.Context, jids ...jid.JID) error {
	if err := c.needStore("block"); err != nil {
		return err
	}
	req, err := blocking.Block(jids...)
	if err != nil {
		return fmt.Errorf("block: %w", err)
	}
	if _, err := c.SendIQ(ctx, req); err != nil {
		return fmt.Errorf("block: %w", err)
	}
	// The server pushes the change to us too; applying it now makes the
	// store current when Block returns (applying twice changes nothing).
	if err := c.applyBlockCommand(ctx, blocking.Command{Block: true, JIDs: jids}); err != nil {
		return fmt.Errorf("block: %w", err)
	}
	return nil
}

// Unblock unblocks jids (XEP-0191 §3.4). At least one is needed: use
// UnblockAll to empty the list.
func (c *Client) Unblock(ctx context.Context, jids ...jid.JID) error {
	if err := c.needStore("unblock"); err != nil {
		return err
	}
	req, err := blocking.Unblock(jids...)
	if err != nil {
		return fmt.Errorf("unblock: %w", err)
	}
	if _, err := c.SendIQ(ctx, req); err != nil {
		return fmt.Errorf("unblock: %w", err)
	}
	if err := c.applyBlockCommand(ctx, blocking.Command{JIDs: jids}); err != nil {
		return fmt.Errorf("unblock: %w", err)
	}
	return nil
}

// UnblockAll empties the block list (XEP-0191 §3.5).
func (c *Client) UnblockAll(ctx context.Context) error {
	if err := c.needStore("unblock all"); err != nil {
		return err
	}
	if _, err := c.SendIQ(ctx, blocking.UnblockAll()); err != nil {
		return fmt.Errorf("unblock all: %w", err)
	}
	if err := c.applyBlockCommand(ctx, blocking.Command{}); err != nil {
		return fmt.Errorf("unblock all: %w", err)
	}
	return nil
}

// Blocked reports whether j is covered by the block list (XEP-0191 §7
// matching). Nothing from a blocked JID may reach the UI. It answers from
// memory, loading the stored list the first time; the message pipeline,
// inside its transaction, uses blockedIn instead.
func (c *Client) Blocked(j jid.JID) bool {
	st := c.contacts()
	st.mu.Lock()
	list, ok := st.blocklist, st.blockOK
	st.mu.Unlock()
	if !ok && c.cfg.Store != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := c.cfg.Store.View(ctx, func(tx Tx) error {
			var err error
			list, err = tx.Blocklist(ctx, c.cfg.Account)
			return err
		})
		if err != nil {
			c.cfg.Logger.Warn("blocking: reading the block list", "err", err)
		} else {
			st.mu.Lock()
			if !st.blockOK { // a newer list may have been stored meanwhile
				st.blocklist, st.blockOK = list, true
			} else {
				list = st.blocklist
			}
			st.mu.Unlock()
		}
	}
	return blocking.List(list).Blocked(j)
}

// blockedIn reports whether the block list in tx covers j: the check for
// code that already holds a transaction (the inbound message pipeline).
func blockedIn(ctx context.Context, tx Tx, acct AccountID, j jid.JID) (bool, error) {
	list, err := tx.Blocklist(ctx, acct)
	if err != nil {
		return false, err
	}
	return blocking.List(list).Blocked(j), nil
}
