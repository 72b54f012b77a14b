package session

import (
	"fmt"
	"time"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
)

// smState is the XEP-0198 state of a session. It survives connections so a
// stream can be resumed. Guarded by Session.mu.
type smState struct {
	enabled   bool
	id        string
	resumable bool
	max       time.Duration
	lostAt    time.Time

	// inH counts the stanzas received since Stream Management was enabled
	// (XEP-0198 §4: the handled count, modulo 2^32).
	inH uint32
	// outH is the last count the server acknowledged.
	outH uint32
	// queue holds our stanzas not yet acknowledged, oldest first; the first
	// written of them have been written on the current connection. Without
	// Stream Management it holds only stanzas not yet written.
	queue   []*xmlstream.Element
	written int
	// requested is len(queue) when the last <r/> was sent.
	requested int
}

func (sm *smState) start(id string, resumable bool, max time.Duration) {
	*sm = smState{enabled: true, id: id, resumable: resumable && id != "", max: max, queue: sm.queue, written: sm.written}
}

// ack applies an acknowledgement of h and returns the stanzas it covers.
// XEP-0198 §4: h is a count modulo 2^32; acknowledging more than was sent
// is a protocol violation.
func (sm *smState) ack(h uint32) ([]*xmlstream.Element, error) {
	n := int(h - sm.outH) // uint32 arithmetic handles the wrap
	if n > len(sm.queue) {
		return nil, fmt.Errorf("%w: the server acknowledged %d stanzas but only %d were sent", ErrProtocol, n, len(sm.queue))
	}
	acked := sm.queue[:n:n]
	sm.queue = sm.queue[n:]
	sm.written -= n
	if sm.written < 0 {
		sm.written = 0
	}
	sm.requested -= n
	if sm.requested < 0 {
		sm.requested = 0
	}
	sm.outH = h
	return acked, nil
}

// reset ends the Stream Management session and returns every stanza that
// was never acknowledged: those may not have been delivered.
func (sm *smState) reset() []*xmlstream.Element {
	lost := sm.queue
	*sm = smState{}
	return lost
}
