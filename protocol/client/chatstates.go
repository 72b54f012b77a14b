package client

import (
	"context"
	"fmt"

	"github.com/tern-im/tern/protocol/chatstates"
	"github.com/tern-im/tern/protocol/hints"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/message"
	"github.com/tern-im/tern/protocol/sid"
	"github.com/tern-im/tern/protocol/stanza"
)

// SendChatState tells the contact `to` our chat state (XEP-0085), for
// example ChatComposing while the user types. It sends nothing — and
// returns nil — when chat states are turned off (SetSendChatStates), when
// the contact is not known to support them (XEP-0085 §5.1: it has not sent
// us a chat state yet; our content messages carry <active/> to find out),
// or when the state is the one last sent (§5.4: never repeated). The
// notification is not stored, by us or (XEP-0334 no-store) by the servers.
func (c *Client) SendChatState(ctx context.Context, to jid.JID, state ChatState) error {
	if !chatstates.State(state).Valid() {
		return fmt.Errorf("send chat state: %w: %q", ErrInvalidChatState, state)
	}
	if to.IsZero() {
		return fmt.Errorf("send chat state: %w", ErrInvalidJID)
	}
	peer := to.Bare()
	m := c.messages()
	m.mu.Lock()
	last, known := m.chatPeers[peer]
	if !m.sendChatStates || !known || last == state {
		m.mu.Unlock()
		return nil
	}
	m.chatPeers[peer] = state
	m.mu.Unlock()
	el := xmlstream.New(stanza.NSClient, "message", "to", peer.String(), "type", message.TypeChat, "id", sid.NewOriginID()).Append(
		chatstates.State(state).Element(),
		hints.NoStore.Element())
	if err := c.Send(ctx, el); err != nil {
		m.mu.Lock()
		if m.chatPeers[peer] == state {
			m.chatPeers[peer] = last // not sent: it may be sent again
		}
		m.mu.Unlock()
		return fmt.Errorf("send chat state: %w", err)
	}
	return nil
}
