package client

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tern-im/tern/protocol/blocking"
	"github.com/tern-im/tern/protocol/carbons"
	"github.com/tern-im/tern/protocol/correction"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/mam"
	"github.com/tern-im/tern/protocol/markers"
	"github.com/tern-im/tern/protocol/mds"
	"github.com/tern-im/tern/protocol/message"
	"github.com/tern-im/tern/protocol/omemo"
	"github.com/tern-im/tern/protocol/reactions"
	"github.com/tern-im/tern/protocol/receipts"
	"github.com/tern-im/tern/protocol/reply"
	"github.com/tern-im/tern/protocol/retraction"
	"github.com/tern-im/tern/protocol/rsm"
	"github.com/tern-im/tern/protocol/session"
	"github.com/tern-im/tern/protocol/sid"
	"github.com/tern-im/tern/protocol/stanza"
)

// Multi-device sync (issue 5): Message Carbons (XEP-0280), archive
// catch-up and scroll-back (XEP-0313 with XEP-0059 paging), the archive's
// preferences (XEP-0441) and Message Displayed Synchronization (XEP-0490).
//
// Decisions:
//   - Carbons are enabled at every new session, before the catch-up. A
//     carbon is unwrapped only when it comes from our own bare JID
//     (XEP-0280 §11, in handleMessage); its inner message goes through the
//     same pipeline as a live one (source carbon), never answered with a
//     receipt.
//   - Catch-up runs after every new (not resumed) session, before the
//     outbox is flushed. It pages FORWARD from the archive id of the
//     newest result we ever received from our archive (the cursor), until
//     the archive says complete. The cursor moves only in the transaction
//     that stores a page of archive results, never because of a live
//     message. When the archive no longer knows the cursor's id
//     (item-not-found, e.g. expired), catch-up pages forward by time from
//     the cursor's time minus catchupSlack instead.
//   - First login (no cursor): a bounded recent window, paging BACKWARD
//     from the end of the archive, each page stored as it comes: at most
//     SyncOptions.FirstSyncCount messages (default 500) and none older
//     than SyncOptions.FirstSyncAge (default 7 days). An empty archive
//     still records a cursor (no id, the time of the query), so the next
//     catch-up pages forward by time and nothing is missed.
//   - Older history: LoadOlder pages backward for one conversation (with
//     filter), from its own cursor, storing before reporting.
//   - A result is accepted only when it answers a query we have open
//     (its queryid, chosen at random per page, and its 'from', the archive
//     we asked: mam.Result.Answers); anything else is dropped.
//   - Dedupe: the store recognises a message by the archive's stanza-id
//     and by (sender, origin-id). The conservative fallback, for messages
//     that have neither in common with their other copy (a client that
//     sends no origin-id, and a live copy stored before we knew that our
//     server vouches for stanza-ids), applies only when the archived
//     message has no origin-id but an id attribute: a stored message of
//     the same conversation, direction and sender with that id, the same
//     body, no stanza-id from this archive and a time within
//     fallbackWindow of the archive's is the same message.
//   - One store transaction per page; the next page is requested while
//     the current one is stored (one page ahead).
//   - Our pending outbound messages whose origin-id the archive holds did
//     reach the server: the catch-up marks them sent and takes them out of
//     the outbox, so the flush that follows resends only the others.
//   - XEP-0490: the read position is published with the publish-options
//     of §4.2. A server that refuses them (ejabberd 23.01 knows only
//     persist_items and access_model there; a node that exists with
//     another configuration) gets the node configured by its owner
//     (created configured when missing), then the item published with
//     the XEP-0223 privacy preconditions only (sendDisplayed).
//   - A stream resumed while a catch-up was cut off: catch-up restarts
//     when the resumed stream acknowledges our stanzas (the engine has no
//     "resumed" hook yet).

// Defaults and limits of sync.
const (
	defaultFirstSyncCount = 500
	defaultFirstSyncAge   = 7 * 24 * time.Hour
	// defaultPageSize is the page size asked for; servers cap it (Prosody
	// and ejabberd at 50 by default).
	defaultPageSize = 250
	// maxPageResults bounds the results kept for one page, whatever the
	// archive sends.
	maxPageResults = 1000
	// resultWait bounds the wait for a page's results after its <fin/>
	// (results travel on the ordered inbound queue, the IQ result does
	// not).
	resultWait = 30 * time.Second
	// pageTimeout bounds one archive query.
	pageTimeout = 2 * time.Minute
	// catchupSlack is how far before the cursor's time a time-based
	// catch-up starts (clock differences; duplicates are recognised).
	catchupSlack = time.Minute
	// recheckSlack is how far before the cursor's time (the archive's
	// own stamp), or before the start of the range not rechecked yet, a
	// recheck starts.
	recheckSlack = 5 * time.Second
	// recheckWindow bounds how far back (in archive time, before the
	// cursor) a recheck reaches for the start of the range not rechecked
	// yet (MAMCursor.RecheckFrom): a message an archive makes visible late
	// is late by a moment, and a catch-up that ran long behind the live edge
	// read what was settled.
	recheckWindow = 5 * time.Minute
	// fallbackWindow is the largest time difference of the fallback
	// dedupe.
	fallbackWindow = 2 * time.Minute
	// defaultRecheckAfter: see SyncOptions.RecheckAfter.
	defaultRecheckAfter = 5 * time.Second
	// maxHistoryPages bounds the pages one LoadOlder call fetches.
	maxHistoryPages = 20
	// maxDisplayedWalk bounds how far back MarkRead looks for a message
	// with a stanza-id to publish (XEP-0490).
	maxDisplayedWalk = 500
)

// ErrIncompletePage: an archive ended a page without sending all of its
// results (the connection dropped, or the archive misbehaved).
var ErrIncompletePage = errors.New("client: archive page incomplete")

// SyncOptions configure the archive catch-up.
type SyncOptions struct {
	// FirstSyncCount is the most messages fetched at the first login of a
	// device (0: 500).
	FirstSyncCount int
	// FirstSyncAge is how far back the first login fetches (0: 7 days).
	FirstSyncAge time.Duration
	// PageSize is the page size asked of the archive (0: 250; servers cap
	// it, Prosody at 50 by default).
	PageSize int
	// RecheckAfter is how long after a completed catch-up, or after a
	// resumed stream, a short catch-up runs forward from the cursor (0:
	// 5 s; negative: none). A server may archive messages late, under ids
	// earlier than the ones we already have: those it had routed to our
	// previous connection before it noticed that connection was gone
	// (ejabberd re-routes them when the new session replaces the old); and
	// a server may lose stanzas across a resumption; and a server may
	// make a message visible in its archive after later ones (ejabberd
	// 23.01 with an SQL archive). The recheck pages by time from a little
	// before the cursor, or before where the catch-ups since the last
	// completed recheck started, and finds them in the archive.
	RecheckAfter time.Duration
}

// syncer is the sync state of one Client; mu guards every field but sem.
type syncer struct {
	mu      sync.Mutex
	opts    SyncOptions
	queries map[string]*mamQuery
	// pending: a catch-up started and has not finished (a cut connection
	// interrupted it).
	pending bool
	// unpublished holds, per conversation, the message MarkRead reached
	// while its XEP-0490 publication could not be done.
	unpublished map[ConversationID]MessageID
	// configureDisplayed: this session's server refused the XEP-0490
	// publish-options; publications configure the node instead (see
	// sendDisplayed).
	configureDisplayed bool
	// preciseStamps: the archive stamps its results with sub-second
	// digits (ejabberd), so a recheck can page by time (forwardSync). The
	// cursor keeps it too (MAMCursor.Precise).
	preciseStamps bool
	// sem serialises catch-ups.
	sem chan struct{}
}

func newSyncer() *syncer {
	return &syncer{
		queries:     make(map[string]*mamQuery),
		unpublished: make(map[ConversationID]MessageID),
		sem:         make(chan struct{}, 1),
	}
}

// syncState returns the sync state of c.
func (c *Client) syncState() *syncer { return c.messages().sync }

// notePrecise records that the archive stamps with sub-second digits.
func (s *syncer) notePrecise() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.preciseStamps = true
}

// precise reports whether the archive stamps its results with sub-second
// digits.
func (s *syncer) precise() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.preciseStamps
}

// SetSyncOptions changes the catch-up options (for the next catch-up).
func (c *Client) SetSyncOptions(o SyncOptions) {
	s := c.syncState()
	s.mu.Lock()
	s.opts = o
	s.mu.Unlock()
}

func (s *syncer) options() SyncOptions {
	s.mu.Lock()
	o := s.opts
	s.mu.Unlock()
	if o.FirstSyncCount <= 0 {
		o.FirstSyncCount = defaultFirstSyncCount
	}
	if o.FirstSyncAge <= 0 {
		o.FirstSyncAge = defaultFirstSyncAge
	}
	if o.PageSize <= 0 {
		o.PageSize = defaultPageSize
	}
	if o.RecheckAfter == 0 {
		o.RecheckAfter = defaultRecheckAfter
	}
	o.PageSize = min(o.PageSize, maxPageResults)
	return o
}

// registerSync wires carbons, archive results and XEP-0490 notifications.
// It is called by registerMessaging, before the message handler, so that
// archive results and displayed notifications never reach it.
func registerSync(c *Client) {
	c.mux.HandleMessage(c.handleSyncMessage)
	c.OnResumed(c.resumedSync)
	c.mux.AddFeature(carbons.NS)
	c.mux.AddFeature(mds.FeatureNotify)
}

// handleSyncMessage takes archive results and displayed notifications. It
// runs on the client loop.
func (c *Client) handleSyncMessage(ctx context.Context, el *xmlstream.Element) bool {
	if el.Child(mam.NS, "result") != nil {
		c.handleArchiveResult(el)
		return true
	}
	if mds.IsNotification(el) {
		c.handleDisplayedNotification(ctx, el)
		return true
	}
	return false
}

// handleArchiveResult hands a result to the query it answers; a result for
// no query of ours is dropped (XEP-0313 §8.2).
func (c *Client) handleArchiveResult(el *xmlstream.Element) {
	r, err := mam.ParseResult(el)
	if err != nil {
		c.cfg.Logger.Debug("dropping a malformed archive result", "from", el.Get("from"), "err", err)
		return
	}
	s := c.syncState()
	s.mu.Lock()
	q := s.queries[r.QueryID]
	s.mu.Unlock()
	if q == nil || !r.Answers(q.id, q.archive, c.accountJID()) {
		c.cfg.Logger.Warn("ignoring an archive result for a query we did not send", "from", el.Get("from"))
		return
	}
	q.add(r)
}

// mamQuery is one open archive query (one page).
type mamQuery struct {
	id      string
	archive jid.JID // zero: our own account's archive
	signal  chan struct{}

	mu      sync.Mutex // guards results
	results []mam.Result
}

func (q *mamQuery) add(r mam.Result) {
	q.mu.Lock()
	if len(q.results) < maxPageResults {
		q.results = append(q.results, r)
	}
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

// upTo returns the results up to the one with archive id last, once it
// arrived.
func (q *mamQuery) upTo(last string) ([]mam.Result, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i := len(q.results) - 1; i >= 0; i-- {
		if q.results[i].ID == last {
			return q.results[:i+1], true
		}
	}
	return nil, false
}

// archivePage is one page of results with the archive's <fin/>.
type archivePage struct {
	results []mam.Result
	fin     mam.Fin
}

// fetchPage sends one query to archive (zero: our own) and returns its
// results, in the archive's order.
func (c *Client) fetchPage(ctx context.Context, archive jid.JID, q mam.Query) (archivePage, error) {
	q.QueryID = mam.NewQueryID()
	mq := &mamQuery{id: q.QueryID, archive: archive, signal: make(chan struct{}, 1)}
	s := c.syncState()
	s.mu.Lock()
	s.queries[mq.id] = mq
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.queries, mq.id)
		s.mu.Unlock()
	}()
	ctx, cancel := context.WithTimeout(ctx, pageTimeout)
	defer cancel()
	res, err := c.SendIQ(ctx, q.Request(archive))
	if err != nil {
		return archivePage{}, fmt.Errorf("archive query: %w", err)
	}
	fin, err := mam.ParseFin(res)
	if err != nil {
		return archivePage{}, fmt.Errorf("archive query: %w", err)
	}
	if fin.Set.Last == "" {
		return archivePage{fin: fin}, nil
	}
	// The IQ result overtakes the results, which come through the
	// ordered inbound queue: wait for the page's last one.
	timer := time.NewTimer(resultWait)
	defer timer.Stop()
	for {
		if results, ok := mq.upTo(fin.Set.Last); ok {
			return archivePage{results: results, fin: fin}, nil
		}
		select {
		case <-mq.signal:
		case <-timer.C:
			return archivePage{}, fmt.Errorf("archive query: %w", ErrIncompletePage)
		case <-ctx.Done():
			return archivePage{}, fmt.Errorf("archive query: %w", ctx.Err())
		}
	}
}

// pageStats counts what storing a page did; last is the position given to
// its last result (see pageBatch.last).
type pageStats struct {
	fresh, dup int
	last       time.Time
}

// storePage stores a page of results from archive (our own account's) in
// one transaction, with cursor (if not nil) run in it too, given the
// position of the page's last result. prev is the position of the result
// before the page (zero: none known). history drops the MessageReceived
// events (scroll-back is not news).
func (c *Client) storePage(ctx context.Context, results []mam.Result, prev time.Time,
	cursor func(ctx context.Context, tx Tx, last time.Time) error, history bool) (pageStats, error) {
	var fx effects
	var st pageStats
	err := c.cfg.Store.Update(ctx, func(tx Tx) error {
		fx, st = effects{}, pageStats{}
		b := &pageBatch{c: c, tx: tx, own: c.accountJID(), convs: map[jid.JID]ConversationID{}, last: prev}
		for _, r := range results {
			if err := b.add(ctx, r, &fx, &st); err != nil {
				return err
			}
		}
		if err := b.flush(ctx, &fx, &st); err != nil {
			return err
		}
		if err := b.reconcileOutbox(ctx, &fx); err != nil {
			return err
		}
		st.last = b.last
		if b.precise {
			c.syncState().notePrecise()
		}
		if cursor != nil {
			return cursor(ctx, tx, b.last)
		}
		return nil
	})
	if err != nil {
		return pageStats{}, fmt.Errorf("store archive page: %w", err)
	}
	if history {
		kept := fx.events[:0]
		for _, e := range fx.events {
			if _, ok := e.(MessageReceived); !ok {
				kept = append(kept, e)
			}
		}
		fx.events = kept
	}
	c.finish(ctx, &fx)
	return st, nil
}

// pageBatch stores one page: plain content messages are collected and
// inserted together (one InsertMessages call: a few statements for the
// page, the full-text index updated in bulk); anything else (corrections,
// receipts, markers, reactions, retractions, replies, errors) goes through
// the one-message pipeline, after what precedes it is stored.
type pageBatch struct {
	c       *Client
	tx      Tx
	own     jid.JID
	blocked blocking.List
	loaded  bool // blocked is loaded
	convs   map[jid.JID]ConversationID
	msgs    []Message
	// outbound lists the origin-ids of our archived messages, to
	// reconcile with the outbox.
	outbound []string
	// last is the position (server time) given to the previous result.
	// Results are in the archive's order, which is the conversation's,
	// but servers that stamp whole seconds (Prosody) give many the same
	// time: a result stamped no later than the previous one, within the
	// same second, is placed 1 µs after it.
	last time.Time
	// precise: a result of the page was stamped with sub-second digits.
	precise bool
}

func (b *pageBatch) add(ctx context.Context, r mam.Result, fx *effects, st *pageStats) error {
	el := r.Forwarded.Stanza
	if el == nil || el.Name.Local != "message" {
		return nil
	}
	src := source{kind: sourceArchive, archive: b.own, archiveID: r.ID}
	if r.Forwarded.Delay != nil {
		stamp := r.Forwarded.Delay.Stamp
		b.precise = b.precise || stamp.Nanosecond() != 0
		if !b.last.IsZero() && !stamp.After(b.last) && stamp.Truncate(time.Second).Equal(b.last.Truncate(time.Second)) {
			stamp = b.last.Add(time.Microsecond)
		}
		src.stamp, b.last = stamp, stamp
	}
	msg, err := message.Parse(el, "")
	if err != nil {
		return nil // unattributable
	}
	src.sent = !msg.From.IsZero() && msg.From.Bare() == b.own
	if src.sent {
		if oid := sid.ParseOriginID(el); oid != "" {
			b.outbound = append(b.outbound, oid)
		} else if msg.ID != "" {
			b.outbound = append(b.outbound, msg.ID)
		}
	}
	if !plainContent(el, msg) {
		if err := b.flush(ctx, fx, st); err != nil {
			return err
		}
		var one effects
		err := b.c.receive(ctx, b.tx, el, src, &one)
		if err != nil && !errors.Is(err, errUnchanged) {
			return err
		}
		fx.events = append(fx.events, one.events...)
		fx.after = append(fx.after, one.after...)
		st.dup++ // not a new timeline message (or counted by its own event)
		for _, e := range one.events {
			if _, ok := e.(MessageReceived); ok {
				st.dup--
				st.fresh++
			}
		}
		return nil
	}
	in := &incoming{el: el, msg: msg, src: src, own: b.own}
	if src.sent {
		if msg.To.IsZero() {
			return nil
		}
		in.peer, in.dir, in.sender = msg.To.Bare(), Outbound, b.own.String()
	} else {
		if msg.From.IsZero() {
			return nil
		}
		in.peer, in.dir, in.sender = msg.From.Bare(), Inbound, msg.From.Bare().String()
		if !b.loaded {
			list, err := b.tx.Blocklist(ctx, b.c.cfg.Account)
			if err != nil {
				return err
			}
			b.blocked, b.loaded = list, true
		}
		if b.blocked.Blocked(msg.From) {
			return nil // XEP-0191: never shown, not even from the archive
		}
	}
	conv, ok := b.convs[in.peer]
	if !ok {
		if conv, err = b.tx.EnsureConversation(ctx, b.c.cfg.Account, in.peer, KindChat); err != nil {
			return err
		}
		b.convs[in.peer] = conv
	}
	in.conv = conv
	m := b.c.newMessage(in)
	if dup, err := b.fallbackDuplicate(ctx, m); err != nil || dup {
		if dup {
			st.dup++
		}
		return err
	}
	b.msgs = append(b.msgs, m)
	return nil
}

// fallbackDuplicate is the conservative dedupe for messages without an
// origin-id (see the decisions above).
func (b *pageBatch) fallbackDuplicate(ctx context.Context, m Message) (bool, error) {
	if m.OriginID != "" || m.XMLID == "" || len(m.StanzaIDs) == 0 {
		return false, nil
	}
	id, err := b.tx.FindMessage(ctx, m.Conversation, MessageRef{Sender: m.Sender, XMLID: m.XMLID})
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	stored, err := b.tx.Message(ctx, id)
	if err != nil {
		return false, err
	}
	if stored.Direction != m.Direction || stored.Body != m.Body || stored.OriginID != "" {
		return false, nil
	}
	for _, s := range stored.StanzaIDs {
		if s.Archive == m.StanzaIDs[0].Archive {
			return false, nil // a different message with the same id
		}
	}
	at := cmp.Or(m.Server, m.Sent, m.Received)
	d := stored.Time.Sub(at)
	return d <= fallbackWindow && d >= -fallbackWindow, nil
}

// flush inserts the collected plain messages.
func (b *pageBatch) flush(ctx context.Context, fx *effects, st *pageStats) error {
	if len(b.msgs) == 0 {
		return nil
	}
	res, err := b.tx.InsertMessages(ctx, b.msgs)
	if err != nil {
		return err
	}
	for i, r := range res {
		if r.Duplicate {
			st.dup++
			continue
		}
		st.fresh++
		m := b.msgs[i]
		m.ID = r.ID
		m.Time = cmp.Or(m.Server, m.Sent, m.Received).Truncate(time.Microsecond)
		fx.events = append(fx.events, MessageReceived{Message: m})
	}
	b.msgs = b.msgs[:0]
	return nil
}

// reconcileOutbox marks sent, and takes out of the outbox, the pending
// stanzas of ours the archive holds: they reached the server, so the flush
// after the catch-up must not send them again.
func (b *pageBatch) reconcileOutbox(ctx context.Context, fx *effects) error {
	if len(b.outbound) == 0 {
		return nil
	}
	items, err := b.tx.Outbox(ctx, b.c.cfg.Account)
	if err != nil || len(items) == 0 {
		return err
	}
	archived := make(map[string]bool, len(b.outbound))
	for _, id := range b.outbound {
		archived[id] = true
	}
	for _, it := range items {
		var key string
		var msg Message
		if it.Message != 0 {
			if msg, err = b.tx.Message(ctx, it.Message); errors.Is(err, ErrNotFound) {
				continue
			} else if err != nil {
				return err
			}
			key = wireID(msg)
		} else if el, perr := xmlstream.Parse(it.Payload); perr == nil {
			key = cmp.Or(sid.ParseOriginID(el), el.Get("id"))
		}
		if key == "" || !archived[key] {
			continue
		}
		if err := b.tx.Dequeue(ctx, it.ID); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		if it.Message != 0 && msg.State == StatePending {
			if err := b.c.setState(ctx, b.tx, msg, StateSent, "", fx); err != nil {
				return err
			}
		}
		xmlID := key
		if it.Message != 0 {
			xmlID = msg.XMLID
		}
		fx.after = append(fx.after, func() { b.c.forgetInflight(xmlID) })
	}
	return nil
}

// plainContent reports whether a message is only content: a body, with
// nothing that acts on another message. Those are stored in bulk.
func plainContent(el *xmlstream.Element, msg message.Message) bool {
	if (msg.Type != message.TypeChat && msg.Type != message.TypeNormal && msg.Type != "") || len(msg.Bodies) == 0 {
		return false
	}
	for _, ch := range el.Children {
		switch ch.Name.Space {
		case receipts.NS, markers.NS, retraction.NS, reactions.NS, correction.NS, reply.NS, reply.NSFallback,
			omemo.NS: // its body is a fallback: decrypted by the one-message path (omemo.go)
			return false
		}
	}
	return true
}

// onlineSync runs after every new session, before the outbox is flushed:
// carbons on, then the catch-up.
func (c *Client) onlineSync(ctx context.Context) {
	ectx, cancel := context.WithTimeout(ctx, discoTimeout)
	if err := carbons.Enable(ectx, c); err != nil {
		c.cfg.Logger.Info("could not enable message carbons", "err", err)
	}
	cancel()
	c.CatchUp(ctx)
}

// resumedSync runs after a resumed stream (no new session, so no
// OnOnline): a catch-up that the connection loss cut off runs again;
// otherwise a recheck runs (SyncOptions.RecheckAfter later). A resumed
// stream should have lost nothing, but servers do lose stanzas across a
// resumption (ejabberd 23.01, seen in TestSyncChaos: messages it had
// written to the dead connection are neither resent nor flooded again);
// one query forward from the cursor finds them in the archive.
func (c *Client) resumedSync(ctx context.Context, _ session.Info) {
	s := c.syncState()
	s.mu.Lock()
	pending := s.pending
	s.mu.Unlock()
	if pending {
		c.CatchUp(ctx)
		return
	}
	after := s.options().RecheckAfter
	if after < 0 {
		return
	}
	t := time.NewTimer(after)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return
	case <-t.C:
	}
	c.catchUpPass(ctx, true)
}

// CatchUp fetches what our archive received since the last catch-up (or
// the recent window at the first login) and stores it, reporting
// CatchupProgress events and a final CatchupDone. The engine runs it after
// every new session; it returns when done or when ctx ends.
func (c *Client) CatchUp(ctx context.Context) CatchupDone {
	return c.catchUpPass(ctx, false)
}

// catchUpPass is one catch-up; a completed one that is not itself a
// recheck schedules the recheck (SyncOptions.RecheckAfter) as a task of
// the connection.
func (c *Client) catchUpPass(ctx context.Context, recheck bool) CatchupDone {
	s := c.syncState()
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return CatchupDone{Archive: c.accountJID(), Err: ctx.Err()}
	}
	defer func() { <-s.sem }()
	s.mu.Lock()
	s.pending = true
	s.mu.Unlock()
	sum := c.catchUp(ctx, recheck)
	sum.Recheck = recheck
	after := s.options().RecheckAfter
	if sum.Err == nil {
		s.mu.Lock()
		s.pending = false
		s.mu.Unlock()
	} else {
		c.cfg.Logger.Info("archive catch-up stopped", "err", sum.Err)
	}
	c.Emit(sum)
	if sum.Err == nil && !recheck && after > 0 {
		c.Go(func(ctx context.Context) {
			t := time.NewTimer(after)
			defer t.Stop()
			select {
			case <-ctx.Done():
			case <-t.C:
				c.catchUpPass(ctx, true)
			}
		})
	}
	return sum
}

func (c *Client) catchUp(ctx context.Context, recheck bool) CatchupDone {
	own := c.accountJID()
	start := time.Now()
	sum := CatchupDone{Archive: own}
	if c.cfg.Store == nil {
		sum.Err = ErrNoStore
		return sum
	}
	var cur MAMCursor
	err := c.cfg.Store.View(ctx, func(tx Tx) error {
		var err error
		cur, err = tx.MAMCursor(ctx, c.cfg.Account, own, jid.JID{})
		return err
	})
	switch {
	case errors.Is(err, ErrNotFound):
		sum.FirstSync = true
		err = c.firstSync(ctx, &sum)
	case err == nil:
		err = c.forwardSync(ctx, cur, recheck, &sum)
	}
	sum.Err = err
	sum.Duration = time.Since(start)
	return sum
}

// forwardSync pages forward from the cursor until the archive is complete.
// A recheck against an archive that stamps precisely pages forward by
// time, from recheckSlack before the cursor's time or before where the
// forward catch-ups since the last completed recheck started, whichever
// is earlier (recheckStart, MAMCursor.RecheckFrom): such an archive may
// make a message visible after later ones (ejabberd 23.01 with its SQL
// archive: a message delivered live with its stanza-id, absent from a
// page read 20 ms later that holds messages with later ids and stamps),
// so paging after the cursor's id would never see it, and its copy would
// keep the position of its arrival. An archive that stamps whole seconds
// (Prosody) is rechecked after the cursor's id: its results of one second
// get positions 1 µs apart in the order of the pages that brought them
// (pageBatch.last), and reading them again in other pages would give them
// other positions.
func (c *Client) forwardSync(ctx context.Context, cur MAMCursor, recheck bool, sum *CatchupDone) error {
	o := c.syncState().options()
	first := mam.Query{RSM: rsm.Set{Max: o.PageSize, After: cur.Newest}}
	// The position of the newest result stored (see pageBatch.last).
	prev := cur.NewestTime
	switch {
	case cur.Newest == "":
		first = mam.Query{Start: cur.NewestTime.Add(-catchupSlack), RSM: rsm.Set{Max: o.PageSize}}
	case recheck && !cur.NewestTime.IsZero() && (cur.Precise || c.syncState().precise()):
		first = mam.Query{Start: recheckStart(cur.NewestTime, cur.RecheckFrom), RSM: rsm.Set{Max: o.PageSize}}
		prev = time.Time{} // the page starts before the cursor
	}
	fallback := false
	next := func(q mam.Query, pg archivePage, err error) (mam.Query, bool, error) {
		if err != nil {
			// XEP-0313 §5.1.2: the archive no longer knows the id (it
			// expired): continue by time.
			if errors.Is(err, stanza.ErrItemNotFound) && q.RSM.After != "" && !fallback {
				fallback = true
				return mam.Query{Start: cur.NewestTime.Add(-catchupSlack), RSM: rsm.Set{Max: o.PageSize}}, true, nil
			}
			return mam.Query{}, false, err
		}
		if pg.fin.Complete || pg.fin.Set.Last == "" {
			sum.Complete = true
			return mam.Query{}, false, nil
		}
		// The next page is everything after the last result: a start
		// time would add nothing but cost (Prosody's SQL archive counts
		// every message since the start for each page's total, and may
		// sort them) and would hide a message archived late with an
		// earlier stamp.
		q.RSM.After, q.Start = pg.fin.Set.Last, time.Time{}
		return q, true, nil
	}
	store := func(ctx context.Context, pg archivePage) error {
		cursor := func(ctx context.Context, tx Tx, lastAt time.Time) error {
			c0, err := tx.MAMCursor(ctx, c.cfg.Account, c.accountJID(), jid.JID{})
			if err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
			c0.Archive, c0.With = c.accountJID(), jid.JID{}
			// The range a recheck must cover, kept with the cursor so that
			// it survives a restart: a catch-up that moves the cursor
			// extends it back to where it started; a recheck that read to
			// the end of the archive clears it. A catch-up can move the
			// cursor far beyond a message the archive makes visible late
			// (several pages, or a recheck cut off by a connection loss
			// and followed by a plain catch-up on the resumed stream).
			switch {
			case !recheck && !cur.NewestTime.IsZero() && (c0.RecheckFrom.IsZero() || cur.NewestTime.Before(c0.RecheckFrom)):
				c0.RecheckFrom = cur.NewestTime
			case recheck && (pg.fin.Complete || pg.fin.Set.Last == ""):
				c0.RecheckFrom = time.Time{}
			}
			c0.Precise = c0.Precise || c.syncState().precise()
			if len(pg.results) > 0 {
				last := pg.results[len(pg.results)-1]
				c0.Newest = last.ID
				if !lastAt.IsZero() {
					c0.NewestTime = lastAt
				}
				if c0.Oldest == "" {
					c0.Oldest = pg.results[0].ID
					if d := pg.results[0].Forwarded.Delay; d != nil {
						c0.OldestTime = d.Stamp
					}
				}
			} else if c0.Newest == "" && c0.NewestTime.IsZero() {
				c0.NewestTime = c.now().UTC()
			}
			return tx.PutMAMCursor(ctx, c.cfg.Account, c0)
		}
		last, err := c.storeCatchupPage(ctx, pg, prev, cursor, sum)
		if !last.IsZero() {
			prev = last
		}
		return err
	}
	return c.pagePipeline(ctx, first, next, store)
}

// recheckStart returns the time from which a recheck by time pages, for
// the cursor's time newest: recheckSlack before the earlier of newest and
// from, the start of the range not rechecked yet (zero: none), but no more
// than recheckWindow before newest.
func recheckStart(newest, from time.Time) time.Time {
	start := newest
	if !from.IsZero() && from.Before(start) {
		start = from
		if limit := newest.Add(-recheckWindow); start.Before(limit) {
			start = limit
		}
	}
	return start.Add(-recheckSlack)
}

// firstSync fetches the recent window backward from the end of the archive.
func (c *Client) firstSync(ctx context.Context, sum *CatchupDone) error {
	o := c.syncState().options()
	queried := c.now().UTC()
	cutoff := queried.Add(-o.FirstSyncAge)
	first := mam.Query{Start: cutoff, RSM: rsm.Set{Max: min(o.PageSize, o.FirstSyncCount), Last: true}}
	fetched := 0
	next := func(q mam.Query, pg archivePage, err error) (mam.Query, bool, error) {
		if err != nil {
			return mam.Query{}, false, err
		}
		fetched += len(pg.results)
		if pg.fin.Complete || pg.fin.Set.First == "" || fetched >= o.FirstSyncCount {
			sum.Complete = true
			return mam.Query{}, false, nil
		}
		q.RSM = rsm.Set{Max: min(o.PageSize, o.FirstSyncCount-fetched), Before: pg.fin.Set.First}
		return q, true, nil
	}
	newestSet := false
	store := func(ctx context.Context, pg archivePage) error {
		cursor := func(ctx context.Context, tx Tx, lastAt time.Time) error {
			c0, err := tx.MAMCursor(ctx, c.cfg.Account, c.accountJID(), jid.JID{})
			if err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
			c0.Archive, c0.With = c.accountJID(), jid.JID{}
			if !newestSet {
				// The first page is the newest: catch-up continues after it
				// (or, for an empty archive, after the time of the query).
				c0.Newest, c0.NewestTime = "", queried
				if n := len(pg.results); n > 0 {
					c0.Newest = pg.results[n-1].ID
					if !lastAt.IsZero() {
						c0.NewestTime = lastAt
					}
				}
			}
			if len(pg.results) > 0 {
				c0.Oldest = pg.results[0].ID
				if d := pg.results[0].Forwarded.Delay; d != nil {
					c0.OldestTime = d.Stamp
				}
			}
			c0.Precise = c0.Precise || c.syncState().precise()
			return tx.PutMAMCursor(ctx, c.cfg.Account, c0)
		}
		// Pages go backward: no position before the page is known.
		if _, err := c.storeCatchupPage(ctx, pg, time.Time{}, cursor, sum); err != nil {
			return err
		}
		newestSet = true
		return nil
	}
	return c.pagePipeline(ctx, first, next, store)
}

// storeCatchupPage stores one catch-up page and reports progress; it
// returns the position of the page's last result (see storePage).
func (c *Client) storeCatchupPage(ctx context.Context, pg archivePage, prev time.Time,
	cursor func(context.Context, Tx, time.Time) error, sum *CatchupDone) (time.Time, error) {
	st, err := c.storePage(ctx, pg.results, prev, cursor, false)
	if err != nil {
		return time.Time{}, err
	}
	sum.Pages++
	sum.Fetched += len(pg.results)
	sum.New += st.fresh
	sum.Duplicates += st.dup
	c.Emit(CatchupProgress{Archive: sum.Archive, Fetched: sum.Fetched, Done: sum.New + sum.Duplicates, Total: pg.fin.Set.Count})
	return st.last, nil
}

// pagePipeline fetches pages (first, then as next says) and stores them
// in order, requesting the next page while the current one is stored.
// next sees each page (or the error fetching it) and returns the next
// query, or false to stop (with an error to report).
func (c *Client) pagePipeline(ctx context.Context, first mam.Query,
	next func(q mam.Query, pg archivePage, err error) (mam.Query, bool, error),
	store func(ctx context.Context, pg archivePage) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pages := make(chan archivePage, 1)
	var fetchErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(pages)
		q := first
		for {
			pg, err := c.fetchPage(ctx, jid.JID{}, q)
			nq, more, nerr := next(q, pg, err)
			if err == nil {
				select {
				case pages <- pg:
				case <-ctx.Done():
					fetchErr = ctx.Err()
					return
				}
			}
			if nerr != nil || !more {
				fetchErr = nerr
				return
			}
			q = nq
		}
	})
	var storeErr error
	for pg := range pages {
		if storeErr != nil {
			continue // drain
		}
		if storeErr = store(ctx, pg); storeErr != nil {
			cancel()
		}
	}
	wg.Wait()
	return cmp.Or(storeErr, fetchErr)
}

// LoadOlder fetches up to n older messages of a conversation from our
// archive (XEP-0313 with a 'with' filter, paging backward from where the
// previous call stopped), stores them, then reports a HistoryLoaded event.
// It returns how many messages were new to the store and whether the
// archive has nothing older. It needs a connection.
func (c *Client) LoadOlder(ctx context.Context, conv ConversationID, n int) (int, bool, error) {
	st, err := c.requireStore()
	if err != nil {
		return 0, false, err
	}
	var cv Conversation
	var cur MAMCursor
	own := c.accountJID()
	err = st.View(ctx, func(tx Tx) error {
		if cv, err = tx.Conversation(ctx, conv); err != nil {
			return err
		}
		cur, err = tx.MAMCursor(ctx, c.cfg.Account, own, cv.Peer)
		if errors.Is(err, ErrNotFound) {
			cur, err = MAMCursor{Archive: own, With: cv.Peer}, nil
		}
		return err
	})
	if err != nil {
		return 0, false, fmt.Errorf("load older: %w", err)
	}
	if cv.Kind != KindChat {
		return 0, false, fmt.Errorf("load older: %w", ErrOtherConversation)
	}
	added := 0
	o := c.syncState().options()
	for page := 0; !cur.Complete && added < n && page < maxHistoryPages; page++ {
		q := mam.Query{With: cv.Peer, RSM: rsm.Set{Max: min(o.PageSize, max(n-added, 1)), Before: cur.Oldest, Last: cur.Oldest == ""}}
		pg, err := c.fetchPage(ctx, jid.JID{}, q)
		if err != nil {
			return added, false, fmt.Errorf("load older: %w", err)
		}
		next := cur
		if len(pg.results) > 0 {
			next.Oldest = pg.results[0].ID
			if d := pg.results[0].Forwarded.Delay; d != nil {
				next.OldestTime = d.Stamp
			}
			if next.Newest == "" {
				last := pg.results[len(pg.results)-1]
				next.Newest = last.ID
				if last.Forwarded.Delay != nil {
					next.NewestTime = last.Forwarded.Delay.Stamp
				}
			}
		}
		next.Complete = pg.fin.Complete || len(pg.results) == 0
		stats, err := c.storePage(ctx, pg.results, time.Time{}, func(ctx context.Context, tx Tx, _ time.Time) error {
			return tx.PutMAMCursor(ctx, c.cfg.Account, next)
		}, true)
		if err != nil {
			return added, false, fmt.Errorf("load older: %w", err)
		}
		added += stats.fresh
		cur = next
	}
	c.Emit(HistoryLoaded{Conversation: conv, Added: added, Complete: cur.Complete})
	return added, cur.Complete, nil
}

// ArchiveDefault is an archive's default policy (XEP-0441 §2.1.1).
type ArchiveDefault string

// The default policies.
const (
	ArchiveAlways ArchiveDefault = mam.DefaultAlways // archive every message
	ArchiveNever  ArchiveDefault = mam.DefaultNever  // archive none
	ArchiveRoster ArchiveDefault = mam.DefaultRoster // archive those of roster contacts
)

// ArchivePrefs are our archive's preferences (XEP-0441): the default
// policy, and the JIDs always or never archived.
type ArchivePrefs struct {
	Default       ArchiveDefault
	Always, Never []jid.JID
}

// ArchivePreferences reads our archive's preferences. A server that does
// not let users choose answers with a *stanza.Error
// (feature-not-implemented).
func (c *Client) ArchivePreferences(ctx context.Context) (ArchivePrefs, error) {
	p, err := mam.GetPrefs(ctx, c)
	if err != nil {
		return ArchivePrefs{}, fmt.Errorf("archive preferences: %w", err)
	}
	return ArchivePrefs{Default: ArchiveDefault(p.Default), Always: p.Always, Never: p.Never}, nil
}

// SetArchivePreferences changes our archive's preferences and returns the
// ones the server applied (its policy may differ from p).
func (c *Client) SetArchivePreferences(ctx context.Context, p ArchivePrefs) (ArchivePrefs, error) {
	got, err := mam.SetPrefs(ctx, c, mam.Prefs{Default: string(p.Default), Always: p.Always, Never: p.Never})
	if err != nil {
		return ArchivePrefs{}, fmt.Errorf("set archive preferences: %w", err)
	}
	return ArchivePrefs{Default: ArchiveDefault(got.Default), Always: got.Always, Never: got.Never}, nil
}

// XEP-0490: displayed state shared with our other devices.

// onlineDisplayed runs after every new session, after the catch-up: it
// reads our displayed items (XEP-0490 §4.4) and publishes what MarkRead
// could not.
func (c *Client) onlineDisplayed(ctx context.Context, _ session.Info) {
	qctx, cancel := context.WithTimeout(ctx, discoTimeout)
	res, err := c.SendIQ(qctx, mds.ItemsRequest())
	cancel()
	switch {
	case errors.Is(err, stanza.ErrItemNotFound): // never published
	case err != nil:
		c.cfg.Logger.Debug("could not fetch the displayed states", "err", err)
	default:
		items, err := mds.Parse(res)
		if err != nil {
			c.cfg.Logger.Debug("malformed displayed states", "err", err)
			break
		}
		c.applyDisplayed(ctx, items)
	}
	s := c.syncState()
	s.mu.Lock()
	todo := s.unpublished
	s.unpublished = make(map[ConversationID]MessageID)
	s.configureDisplayed = false // the server may have changed
	s.mu.Unlock()
	for conv, id := range todo {
		c.publishDisplayed(ctx, conv, id)
	}
}

// handleDisplayedNotification applies a PEP notification of our displayed
// node; only our own account may send it.
func (c *Client) handleDisplayedNotification(ctx context.Context, el *xmlstream.Element) {
	from, err := jid.Parse(el.Get("from"))
	if err != nil || from != c.accountJID() {
		c.cfg.Logger.Warn("ignoring a displayed notification not from our account", "from", el.Get("from"))
		return
	}
	items, err := mds.Parse(el)
	if err != nil {
		c.cfg.Logger.Debug("malformed displayed notification", "err", err)
		return
	}
	c.applyDisplayed(ctx, items)
}

// applyDisplayed moves the read positions forward to the displayed
// messages (XEP-0490 §5: only forward; unknown stanza-ids ignored), in one
// transaction, and reports the conversations whose position moved.
func (c *Client) applyDisplayed(ctx context.Context, items []mds.Displayed) {
	own := c.accountJID()
	var events []Event
	err := c.cfg.Store.Update(ctx, func(tx Tx) error {
		events = nil
		for _, d := range items {
			// One-to-one chats only: the stanza-id is our server's.
			if d.StanzaID.By != own || d.Chat.Resource() != "" || d.Chat.IsZero() {
				continue
			}
			conv, err := tx.EnsureConversation(ctx, c.cfg.Account, d.Chat, KindChat)
			if err != nil {
				return err
			}
			id, err := tx.FindMessage(ctx, conv, MessageRef{Archive: own, StanzaID: d.StanzaID.ID})
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			before, err := tx.Conversation(ctx, conv)
			if err != nil {
				return err
			}
			if err := tx.SetLastRead(ctx, conv, id); err != nil {
				return err
			}
			after, err := tx.Conversation(ctx, conv)
			if err != nil {
				return err
			}
			if after.LastRead != before.LastRead || after.Unread != before.Unread {
				events = append(events, ReadSynced{Conversation: conv, LastRead: after.LastRead, Unread: after.Unread})
			}
		}
		if len(events) == 0 {
			return errUnchanged
		}
		return nil
	})
	if err != nil && !errors.Is(err, errUnchanged) {
		c.cfg.Logger.Warn("could not apply displayed states", "err", err)
		return
	}
	for _, e := range events {
		c.Emit(e)
	}
}

// publishDisplayed publishes (XEP-0490 §4.2) that conv was displayed up to
// upTo: the stanza-id our server gave it, or the nearest earlier message
// that has one. Offline, it is published at the next session.
func (c *Client) publishDisplayed(ctx context.Context, conv ConversationID, upTo MessageID) {
	own := c.accountJID()
	var d mds.Displayed
	err := c.cfg.Store.View(ctx, func(tx Tx) error {
		cv, err := tx.Conversation(ctx, conv)
		if err != nil {
			return err
		}
		if cv.Kind != KindChat {
			return nil
		}
		msg, err := tx.Message(ctx, upTo)
		if err != nil {
			return err
		}
		for walked := 0; walked < maxDisplayedWalk; {
			for _, s := range msg.StanzaIDs {
				if s.Archive == own {
					d = mds.Displayed{Chat: cv.Peer, StanzaID: sid.StanzaID{ID: s.ID, By: own}}
					return nil
				}
			}
			page, err := tx.PageBefore(ctx, conv, msg.ID, 50)
			if err != nil || len(page) == 0 {
				return err
			}
			for i := len(page) - 1; i >= 0; i-- {
				walked++
				for _, s := range page[i].StanzaIDs {
					if s.Archive == own {
						d = mds.Displayed{Chat: cv.Peer, StanzaID: sid.StanzaID{ID: s.ID, By: own}}
						return nil
					}
				}
			}
			msg = page[0]
		}
		return nil
	})
	if err != nil {
		c.cfg.Logger.Debug("could not find what to publish as displayed", "err", err)
		return
	}
	if d.Chat.IsZero() {
		return // no message with a stanza-id of our server yet
	}
	keep := func() {
		s := c.syncState()
		s.mu.Lock()
		s.unpublished[conv] = upTo
		s.mu.Unlock()
	}
	started := c.Go(func(ctx context.Context) {
		pctx, cancel := context.WithTimeout(ctx, discoTimeout)
		defer cancel()
		if err := c.sendDisplayed(pctx, d); err != nil {
			c.cfg.Logger.Info("could not publish the displayed state", "err", err)
			if ctx.Err() != nil {
				keep()
			}
		}
	})
	if !started {
		keep()
	}
}

// sendDisplayed publishes d with the publish-options XEP-0490 §4.2
// requires. A server that refuses them (mds.OptionsRefused: ejabberd 23.01
// knows no pubsub#max_items or pubsub#send_last_published_item there, and
// XEP-0060 §7.1.5 makes it reject unknown fields; or the node exists with
// another configuration) gets the node configured by its owner instead
// (XEP-0060 §8.2.4; created configured, §8.1.3, when missing), then the
// item published with the XEP-0223 privacy preconditions only. The
// session remembers the refusal, so the next publications go straight to
// the fallback.
func (c *Client) sendDisplayed(ctx context.Context, d mds.Displayed) error {
	s := c.syncState()
	s.mu.Lock()
	configure := s.configureDisplayed
	s.mu.Unlock()
	if !configure {
		_, err := c.SendIQ(ctx, mds.Publish(d))
		if err == nil || !mds.OptionsRefused(err) {
			return err
		}
		c.cfg.Logger.Debug("the server refused the displayed node's publish-options; configuring the node", "err", err)
		s.mu.Lock()
		s.configureDisplayed = true
		s.mu.Unlock()
	}
	_, err := c.SendIQ(ctx, mds.Configure())
	if errors.Is(err, stanza.ErrItemNotFound) {
		_, err = c.SendIQ(ctx, mds.CreateConfigured())
		if errors.Is(err, stanza.ErrConflict) {
			// Another of our clients created it meanwhile.
			_, err = c.SendIQ(ctx, mds.Configure())
		}
	}
	if err != nil {
		return fmt.Errorf("configure the displayed node: %w", err)
	}
	_, err = c.SendIQ(ctx, mds.PublishPrivate(d))
	return err
}
