package sqlite

import (
	"context"
	"fmt"

	"github.com/tern-im/tern/protocol/client"
)

// SetMessageEncryption records how one of our outbound messages travels:
// the engine rebuilds, and encrypts or not, the stanza at every attempt
// (the conversation's policy, or what the contact publishes, may have
// changed since the message was stored), and the stored message says what
// went out. Only outbound messages change: what an inbound message
// recorded at receipt is never rewritten.
func (t *Tx) SetMessageEncryption(ctx context.Context, id client.MessageID, e client.Encryption, trust client.Trust) error {
	if err := t.writable(ctx, "set message encryption"); err != nil {
		return err
	}
	if e > client.EncryptionOMEMO || trust > client.TrustVerified {
		return fmt.Errorf("set message encryption: %w: encryption %d, trust %d", ErrInvalid, e, trust)
	}
	n, err := affected(t.exec(ctx, `UPDATE messages SET encryption = ?, trust = ? WHERE id = ? AND direction = ?`,
		e, trust, id, client.Outbound))
	if err != nil {
		return fmt.Errorf("set message encryption: %w", err)
	}
	if n == 0 {
		return notFound("outbound message", id)
	}
	return nil
}
