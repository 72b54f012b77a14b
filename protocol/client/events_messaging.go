package client

import (
	"github.com/tern-im/tern/protocol/jid"
)

// MessageReceived: a new message from the network was stored in a
// conversation's timeline. Message is as stored (with its ID and Time).
// Messages from blocked senders (XEP-0191) never produce this event: they
// are dropped before they are stored.
type MessageReceived struct{ Message Message }

// MessageQueued: a message composed here (SendMessage) was stored as
// pending in the outbox; MessageUpdated events follow as it is sent,
// delivered and read, or fails.
type MessageQueued struct{ Message Message }

// MessageUpdated: a stored message changed. Only the fields that describe
// the change are set; read the whole message with Store.Message(ID).
type MessageUpdated struct {
	Conversation ConversationID
	ID           MessageID
	// State is the new delivery state of an outbound message (StateNone
	// when the update is not about the state), Failure the reason when it
	// is StateFailed.
	State   DeliveryState
	Failure string
	// Corrected is the new latest correction (XEP-0308), nil otherwise.
	Corrected *Correction
	// Retracted reports that the message was retracted (XEP-0424).
	Retracted bool
	// Reactions reports that someone's reactions to the message changed
	// (XEP-0444).
	Reactions bool
}

// ChatState is a XEP-0085 chat state.
type ChatState string

// The chat states (XEP-0085 §2).
const (
	ChatActive    ChatState = "active"    // paying attention to the conversation
	ChatComposing ChatState = "composing" // typing
	ChatPaused    ChatState = "paused"    // stopped typing for a moment
	ChatInactive  ChatState = "inactive"  // not paying attention
	ChatGone      ChatState = "gone"      // left the conversation
)

// ChatStateChanged: a contact's chat state changed (XEP-0085). It is not
// stored. From is the full JID of the contact's client.
type ChatStateChanged struct {
	From  jid.JID
	State ChatState
}

// Headline: a message of type 'headline' arrived (RFC 6121 §5.2.2: an
// alert or notification to which no reply is expected, such as a news
// item or a server announcement). Headlines are transient: they are
// reported, not stored.
type Headline struct {
	From    jid.JID
	Subject string
	Body    string
}

func (MessageReceived) isEvent()  {}
func (MessageQueued) isEvent()    {}
func (MessageUpdated) isEvent()   {}
func (ChatStateChanged) isEvent() {}
func (Headline) isEvent()         {}
