package main

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/tern-im/tern/protocol/client"
)

// errSendFailed: the message could not be delivered to our server.
var errSendFailed = errors.New("the message failed")

// cmdSend sends one chat message through the engine's outbox and waits
// until the server acknowledged it (XEP-0198) or it failed.
func (e *env) cmdSend(ctx context.Context, args []string) error {
	fs := e.newFlags("send", true)
	to := fs.String("to", "", "the recipient's JID")
	body := fs.String("body", "", "the message text")
	fs.StringVar(&e.g.account, "account", e.g.account, "the account to send from (default: the only one)")
	thread := fs.String("thread", "", "the conversation thread (RFC 6121 §5.2.5)")
	encryption := fs.String("encryption", "", "set the conversation's OMEMO policy first: required, disabled or default")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("send: unexpected argument %q", pos[0])}
	}
	peer, err := bareArg("send: --to", *to)
	if err != nil {
		return err
	}
	if *body == "" {
		return usageError{"send: --body is required"}
	}
	policy, setPolicy := client.EncryptionDefault, *encryption != ""
	switch *encryption {
	case "", "default":
	case "required":
		policy = client.EncryptionRequired
	case "disabled":
		policy = client.EncryptionDisabled
	default:
		return usageError{"send: --encryption: want required, disabled or default"}
	}
	w := newStateWatch()
	return e.online(ctx, w.handle, func(ctx context.Context, c *client.Client) error {
		if setPolicy {
			if err := c.SetConversationEncryption(ctx, peer, policy); err != nil {
				return err
			}
		}
		id, err := c.SendMessage(ctx, peer, *body, client.SendOptions{Thread: *thread})
		if err != nil {
			return err
		}
		u, err := w.wait(ctx, id)
		if err != nil {
			return fmt.Errorf("send: message %d is still pending in the outbox: %w", id, err)
		}
		if u.State == client.StateFailed {
			return fmt.Errorf("send: message %d: %w: %s", id, errSendFailed, u.Failure)
		}
		fmt.Fprintln(e.stdout, id)
		return nil
	})
}

// stateWatch collects the delivery states the engine reports, so that a
// state that arrives before SendMessage returned the id is not missed.
type stateWatch struct {
	mu     sync.Mutex // guards states and notify
	states map[client.MessageID]client.MessageUpdated
	notify chan struct{} // closed and replaced at each new state
}

func newStateWatch() *stateWatch {
	return &stateWatch{states: make(map[client.MessageID]client.MessageUpdated), notify: make(chan struct{})}
}

// handle records the outcome of outbound messages: sent (or beyond) or
// failed.
func (w *stateWatch) handle(ev client.Event) {
	u, ok := ev.(client.MessageUpdated)
	if !ok || u.State < client.StateSent {
		return
	}
	w.mu.Lock()
	if _, seen := w.states[u.ID]; !seen {
		w.states[u.ID] = u
		close(w.notify)
		w.notify = make(chan struct{})
	}
	w.mu.Unlock()
}

// wait returns the first outcome of message id.
func (w *stateWatch) wait(ctx context.Context, id client.MessageID) (client.MessageUpdated, error) {
	for {
		w.mu.Lock()
		u, ok := w.states[id]
		ch := w.notify
		w.mu.Unlock()
		if ok {
			return u, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return client.MessageUpdated{}, ctx.Err()
		}
	}
}
