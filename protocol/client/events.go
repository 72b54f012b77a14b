package client

import (
	"time"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/session"
)

// Event is something the engine reports. The concrete types are below.
type Event interface{ isEvent() }

// Connecting: a connection attempt starts (Attempt counts from 1 since the
// last success).
type Connecting struct{ Attempt int }

// Online: the account is connected. Info.Resumed says whether the previous
// stream was resumed (nothing was lost) rather than started anew.
type Online struct{ Info session.Info }

// Offline: the connection ended or an attempt failed; another attempt
// follows after Retry (0: at once).
type Offline struct {
	Err   error
	Retry time.Duration
}

// Failed: a permanent error (wrong password, certificate, …) stopped the
// client. It needs the user.
type Failed struct{ Err error }

// Undelivered: the stream could not be resumed, and these stanzas may not
// have reached the server (sent but never acknowledged, or never sent).
type Undelivered struct{ Stanzas []*xmlstream.Element }

// Acked: the server acknowledged these stanzas (XEP-0198).
type Acked struct{ Stanzas []*xmlstream.Element }

// Stanza: an inbound stanza no feature handled.
type Stanza struct{ Element *xmlstream.Element }

func (Connecting) isEvent()  {}
func (Online) isEvent()      {}
func (Offline) isEvent()     {}
func (Failed) isEvent()      {}
func (Undelivered) isEvent() {}
func (Acked) isEvent()       {}
func (Stanza) isEvent()      {}
