package client

import (
	"time"

	"github.com/tern-im/tern/protocol/jid"
)

// CatchupProgress: an archive catch-up stored a page (for a progress bar).
// Fetched counts the results received so far, Done those processed
// (stored, or recognised as copies of stored messages); Total is the
// archive's count of what the query matched, -1 when it did not say.
type CatchupProgress struct {
	Archive       jid.JID
	Fetched, Done int
	Total         int
}

// CatchupDone: an archive catch-up ended. New counts the messages that
// were new to this device, Duplicates the results it had already (live,
// as carbons, or from an earlier catch-up). FirstSync says that this device
// had never read the archive, so only the recent window was fetched.
// Complete says the archive had nothing more; Err why it stopped early (it
// is resumed at the next connection). Recheck marks the short second pass
// that follows a completed catch-up (SyncOptions.RecheckAfter).
type CatchupDone struct {
	Archive                         jid.JID
	Fetched, New, Duplicates, Pages int
	FirstSync, Complete, Recheck    bool
	Duration                        time.Duration
	Err                             error
}

// HistoryLoaded: LoadOlder stored older messages of a conversation (Added
// of them new); read them from the store. Complete says the archive has
// nothing older.
type HistoryLoaded struct {
	Conversation ConversationID
	Added        int
	Complete     bool
}

// ReadSynced: another device of ours displayed a conversation up to
// LastRead (XEP-0490); Unread is the new unread count.
type ReadSynced struct {
	Conversation ConversationID
	LastRead     MessageID
	Unread       int
}

func (CatchupProgress) isEvent() {}
func (CatchupDone) isEvent()     {}
func (HistoryLoaded) isEvent()   {}
func (ReadSynced) isEvent()      {}
