package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
)

// archiveKey identifies an archive of an account.
type archiveKey struct {
	account client.AccountID
	jid     string
}

// archiveID returns the id of an archive, creating it when create is set
// (0 when it does not exist and create is not set).
func (t *Tx) archiveID(ctx context.Context, acct client.AccountID, archive string, create bool) (int64, error) {
	k := archiveKey{acct, archive}
	if id, ok := t.archives[k]; ok {
		return id, nil
	}
	var id int64
	err := t.queryRow(ctx, `SELECT id FROM archives WHERE account = ? AND jid = ?`, acct, archive).Scan(&id)
	switch {
	case errors.Is(err, sql.ErrNoRows) && create:
		res, err := t.exec(ctx, `INSERT INTO archives (account, jid) VALUES (?, ?)`, acct, archive)
		if err != nil {
			return 0, err
		}
		if id, err = res.LastInsertId(); err != nil {
			return 0, err
		}
	case errors.Is(err, sql.ErrNoRows):
		return 0, nil
	case err != nil:
		return 0, err
	}
	if t.archives == nil {
		t.archives = map[archiveKey]int64{}
	}
	t.archives[k] = id
	return id, nil
}

// jsonArray encodes values for json_each(): lists of ids and keys are
// passed as one parameter, so the statements are static and cached. Strings
// must be valid UTF-8 (validateKey), or the encoding would change them.
func jsonArray(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// validateKey checks a string used as a lookup key: JSON-encoded lists of
// keys must round-trip exactly.
func validateKey(what, s string) error {
	if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
		return fmt.Errorf("%w: %s is not valid UTF-8 text", ErrInvalid, what)
	}
	return nil
}

// The largest group of rows one multi-row INSERT carries. Groups are powers
// of two (64, 32, …, 1) so that at most seven statements per table are
// prepared and cached.
const maxRowsPerInsert = 64

// insertRows runs "prefix VALUES (…),(…)…" over args, cols values per row.
func (t *Tx) insertRows(ctx context.Context, prefix string, cols int, args []any) error {
	rows := len(args) / cols
	for rows > 0 {
		n := maxRowsPerInsert
		for n > rows {
			n /= 2
		}
		if _, err := t.exec(ctx, prefix+" VALUES "+placeholders(n, cols), args[:n*cols]...); err != nil {
			return err
		}
		args = args[n*cols:]
		rows -= n
	}
	return nil
}

// The dedupe lookups of a batch: one index probe per key.
const (
	// A message's first stanza-id is in its row, further ones in
	// message_stanza_ids (migrations/0004_import.sql).
	lookupStanzaIDsSQL = `SELECT m.stanza_id, m.id FROM json_each(?2) j CROSS JOIN messages m ON m.archive = ?1 AND m.stanza_id = j.value
		UNION ALL
		SELECT s.stanza_id, s.message FROM json_each(?2) j CROSS JOIN message_stanza_ids s ON s.archive = ?1 AND s.stanza_id = j.value`
	lookupOriginIDsSQL = `SELECT m.conversation, m.sender, m.origin_id, m.id FROM json_each(?) j CROSS JOIN messages m
		ON m.conversation = j.value ->> 0 AND m.sender = j.value ->> 1 AND m.origin_id = j.value ->> 2`
)

type sidKey struct {
	archive int64
	id      string
}

type originKey struct {
	conv           client.ConversationID
	sender, origin string
}

type convState struct {
	account    client.AccountID
	lastReadTS sql.NullInt64
	lastReadID int64
	// what this batch adds
	maxTS  int64
	newest bool // maxTS is set
	unread int
}

// after reports whether position (ts, id) is after the read position.
func (c *convState) after(ts int64, id client.MessageID) bool {
	return !c.lastReadTS.Valid || ts > c.lastReadTS.Int64 || (ts == c.lastReadTS.Int64 && int64(id) > c.lastReadID)
}

// messageTime is the timeline position of a new message: the position the
// engine chose (Time), else the first known of its server, sent and
// received times.
func messageTime(m *client.Message) time.Time {
	for _, t := range []time.Time{m.Time, m.Server, m.Sent, m.Received} {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

func validateMessage(m *client.Message) error {
	switch {
	case m.Direction != client.Inbound && m.Direction != client.Outbound:
		return fmt.Errorf("%w: direction %d", ErrInvalid, m.Direction)
	case m.Type < client.TypeNormal || m.Type > client.TypeHeadline:
		return fmt.Errorf("%w: type %d", ErrInvalid, m.Type)
	case m.Sender == "":
		return fmt.Errorf("%w: no sender", ErrInvalid)
	case validateKey("sender", m.Sender) != nil:
		return validateKey("sender", m.Sender)
	case validateKey("origin-id", m.OriginID) != nil:
		return validateKey("origin-id", m.OriginID)
	case messageTime(m).IsZero():
		return fmt.Errorf("%w: no timestamp", ErrInvalid)
	case m.State > client.StateFailed:
		return fmt.Errorf("%w: state %d", ErrInvalid, m.State)
	case m.Encryption > client.EncryptionOMEMO:
		return fmt.Errorf("%w: encryption %d", ErrInvalid, m.Encryption)
	case m.Trust > client.TrustVerified:
		return fmt.Errorf("%w: trust %d", ErrInvalid, m.Trust)
	}
	for _, s := range m.StanzaIDs {
		if !s.Archive.IsBare() || s.ID == "" {
			return fmt.Errorf("%w: stanza-id %q by %q", ErrInvalid, s.ID, s.Archive)
		}
		if err := validateKey("stanza-id", s.ID); err != nil {
			return err
		}
	}
	for _, a := range m.Attachments {
		if a.URL == "" {
			return fmt.Errorf("%w: attachment without URL", ErrInvalid)
		}
	}
	return nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullInt(v uint32) any {
	if v == 0 {
		return nil
	}
	return int64(v)
}

// InsertMessages stores messages in order, deduplicating them against the
// store and against each other, in the caller's transaction. Index i of the
// result describes msgs[i].
//
// The work is done in a handful of statements per batch, not per message:
// one lookup of the batch's stanza-ids per archive, one of its origin-ids,
// and multi-row INSERTs. The bodies are indexed for search when the
// transaction commits, once for all its batches: an archive catch-up is
// fastest with several pages (about 1,000 messages) per transaction,
// given here at once or in several calls (BENCHMARKS.md).
func (t *Tx) InsertMessages(ctx context.Context, msgs []client.Message) ([]client.InsertResult, error) {
	// Not t.writable: that would index the previous batches now.
	if t.ro {
		return nil, fmt.Errorf("insert messages: %w", ErrReadOnly)
	}
	if len(msgs) == 0 {
		return nil, nil
	}
	convs, err := t.loadConvStates(ctx, msgs)
	if err != nil {
		return nil, fmt.Errorf("insert messages: %w", err)
	}

	for i := range msgs {
		if err := validateMessage(&msgs[i]); err != nil {
			return nil, fmt.Errorf("insert messages: message %d: %w", i, err)
		}
	}
	// Name every message's dedupe keys.
	sids := make([][]sidKey, len(msgs))
	byArchive := map[int64][]string{}
	var origins [][3]any
	for i := range msgs {
		m := &msgs[i]
		seen := map[string]bool{}
		for _, s := range m.StanzaIDs {
			a := s.Archive.String()
			if seen[a] {
				continue // XEP-0359: one stanza-id per archive; the first wins
			}
			seen[a] = true
			id, err := t.archiveID(ctx, convs[m.Conversation].account, a, true)
			if err != nil {
				return nil, fmt.Errorf("insert messages: archive: %w", err)
			}
			sids[i] = append(sids[i], sidKey{id, s.ID})
			byArchive[id] = append(byArchive[id], s.ID)
		}
		if m.OriginID != "" {
			origins = append(origins, [3]any{m.Conversation, m.Sender, m.OriginID})
		}
	}

	// Which of them are stored already?
	found := map[sidKey]client.MessageID{}
	for archive, ids := range byArchive {
		if err := t.lookupStanzaIDs(ctx, archive, ids, found); err != nil {
			return nil, fmt.Errorf("insert messages: %w", err)
		}
	}
	foundOrigin, err := t.lookupOriginIDs(ctx, origins)
	if err != nil {
		return nil, fmt.Errorf("insert messages: %w", err)
	}

	// Classify: new, or a duplicate of a stored (or earlier new) message.
	next, err := t.nextMessageID(ctx)
	if err != nil {
		return nil, fmt.Errorf("insert messages: %w", err)
	}
	results := make([]client.InsertResult, len(msgs))
	var fresh []int
	var sidRows []any
	var merges []merge
	for i := range msgs {
		m := &msgs[i]
		okey := originKey{m.Conversation, m.Sender, m.OriginID}
		var dup client.MessageID
		for _, k := range sids[i] {
			if id, hit := found[k]; hit {
				dup = id
				break
			}
		}
		if dup == 0 && m.OriginID != "" {
			dup = foundOrigin[okey]
		}
		id := dup
		if dup == 0 {
			id = next
			next++
			fresh = append(fresh, i)
			results[i] = client.InsertResult{ID: id}
		} else {
			results[i] = client.InsertResult{ID: dup, Duplicate: true}
			if m.OriginID != "" || !m.Server.IsZero() {
				merges = append(merges, merge{dup, m.OriginID, m.Server})
			}
		}
		for j, k := range sids[i] {
			if _, hit := found[k]; !hit {
				found[k] = id
				// A new message keeps its first stanza-id in its row.
				if dup != 0 || j > 0 {
					sidRows = append(sidRows, k.archive, k.id, id)
				}
			}
		}
		if m.OriginID != "" {
			if _, hit := foundOrigin[okey]; !hit {
				foundOrigin[okey] = id
			}
		}
	}

	// The writes run in a savepoint: a failed batch leaves nothing behind
	// in the caller's transaction, in particular not the fts_deferred row.
	if _, err := t.exec(ctx, `SAVEPOINT insert_messages`); err != nil {
		return nil, fmt.Errorf("insert messages: %w", err)
	}
	if err := t.writeBatch(ctx, msgs, fresh, sids, results, convs, sidRows, merges); err != nil {
		if _, rerr := t.exec(ctx, `ROLLBACK TO insert_messages`); rerr != nil {
			return nil, fmt.Errorf("insert messages: %w (and rolling back: %w)", err, rerr)
		}
		t.exec(ctx, `RELEASE insert_messages`)
		return nil, fmt.Errorf("insert messages: %w", err)
	}
	if _, err := t.exec(ctx, `RELEASE insert_messages`); err != nil {
		return nil, fmt.Errorf("insert messages: %w", err)
	}
	if len(fresh) > 0 {
		t.deferFTS(idRange{results[fresh[0]].ID, results[fresh[len(fresh)-1]].ID})
	}
	return results, nil
}

// takesServerTime is the SQL condition under which a stored message takes
// the server time ?2 of a copy as its time and timeline position:
//
//   - its position is not a server time (a live message placed by its
//     arrival) and ?2 is no later (a later copy is the server archiving it
//     again, e.g. after a resent stanza), unless ?2 and the server time it
//     has are both sub-second stamps and ?2 is the later: a stanza resent
//     after a resumption is stamped again when resent (ejabberd), and the
//     earlier stamp is the server's first;
//   - or ?2 is within the same second as its server time and more precise:
//     it refines a whole-second stamp (Prosody), and of two sub-second
//     stamps (ejabberd) the earlier is the server's first (a stanza resent
//     after a resumption, or from offline storage, is stamped again when
//     resent);
//   - or both are sub-second stamps and ?2 is earlier, in another second:
//     the archive's stamp of a message whose resent copies (stamped when
//     resent, a second boundary later) placed it first.
const takesServerTime = `?2 IS NOT NULL AND (
	(server_ts IS NULL OR ts <> server_ts) AND ?2 <= ts AND
		NOT (server_ts IS NOT NULL AND server_ts < ?2 AND server_ts % 1000000 <> 0 AND ?2 % 1000000 <> 0) OR
	ts = server_ts AND server_ts <> ?2 AND (
		server_ts / 1000000 = ?2 / 1000000 AND server_ts % 1000000 = 0 OR
		?2 < server_ts AND ?2 % 1000000 <> 0 AND (server_ts / 1000000 = ?2 / 1000000 OR server_ts % 1000000 <> 0)))`

type merge struct {
	id     client.MessageID
	origin string
	server time.Time
}

// writeBatch writes what InsertMessages decided.
func (t *Tx) writeBatch(ctx context.Context, msgs []client.Message, fresh []int, sids [][]sidKey, results []client.InsertResult,
	convs map[client.ConversationID]*convState, sidRows []any, merges []merge) error {
	if err := t.insertFresh(ctx, msgs, fresh, sids, results, convs); err != nil {
		return err
	}
	if err := t.insertRows(ctx, `INSERT OR IGNORE INTO message_stanza_ids (archive, stanza_id, message)`, 3, sidRows); err != nil {
		return fmt.Errorf("stanza-ids: %w", err)
	}
	for _, mg := range merges {
		// xml_id NULL means "the same as origin_id": when a message gains
		// an origin-id, keep its id attribute as it was. Rows with nothing
		// to gain are not rewritten (the usual duplicate of an archive
		// page already has both).
		// A message that gains the server's time takes its place in the
		// server's order (takesServerTime): a live copy was placed by its
		// arrival, later than the server's time, possibly after messages
		// the server archived before it (XEP-0313: the archive's order is
		// the conversation's). A server time within the same second as the
		// stored one refines it: servers that stamp whole seconds (Prosody)
		// get sub-second positions from the archive's order (the engine
		// spaces results of one second 1 µs apart).
		if _, err := t.exec(ctx, `UPDATE OR IGNORE messages SET
				xml_id = CASE WHEN origin_id IS NULL AND ?1 IS NOT NULL THEN coalesce(xml_id, '') ELSE xml_id END,
				origin_id = coalesce(origin_id, ?1),
				ts = CASE WHEN `+takesServerTime+` THEN ?2 ELSE ts END,
				server_ts = CASE WHEN `+takesServerTime+` THEN ?2 ELSE server_ts END
			WHERE id = ?3 AND (origin_id IS NULL AND ?1 IS NOT NULL OR `+takesServerTime+`)`,
			nullString(mg.origin), micros(mg.server), mg.id); err != nil {
			return fmt.Errorf("merge: %w", err)
		}
	}
	var updates [][3]int64
	for id, c := range convs {
		if c.newest || c.unread > 0 {
			updates = append(updates, [3]int64{int64(id), c.maxTS, int64(c.unread)})
		}
	}
	if len(updates) == 0 {
		return nil
	}
	list, err := jsonArray(updates)
	if err != nil {
		return err
	}
	// A new message that becomes the conversation's newest brings it back
	// from the archive, whoever sent it (as Signal and Telegram do); an
	// older one (a page of history loaded on demand) does not. The right
	// side of SET sees the row before the update: last_ts is the old
	// newest. A message as old as the newest comes after it (by ID).
	if _, err := t.exec(ctx, `UPDATE conversations SET last_ts = max(coalesce(last_ts, u.ts), u.ts), unread = conversations.unread + u.unread,
			archived = CASE WHEN last_ts IS NULL OR u.ts >= last_ts THEN 0 ELSE archived END
		FROM (SELECT value ->> 0 AS id, value ->> 1 AS ts, value ->> 2 AS unread FROM json_each(?)) AS u
		WHERE conversations.id = u.id`, list); err != nil {
		return fmt.Errorf("conversations: %w", err)
	}
	return nil
}

// loadConvStates reads the conversations the batch refers to.
func (t *Tx) loadConvStates(ctx context.Context, msgs []client.Message) (map[client.ConversationID]*convState, error) {
	convs := map[client.ConversationID]*convState{}
	var ids []client.ConversationID
	for _, m := range msgs {
		if _, ok := convs[m.Conversation]; !ok {
			convs[m.Conversation] = nil
			ids = append(ids, m.Conversation)
		}
	}
	list, err := jsonArray(ids)
	if err != nil {
		return nil, err
	}
	rows, err := t.query(ctx, `SELECT id, account, last_read_ts, coalesce(last_read_id, 0) FROM conversations
		WHERE id IN (SELECT value FROM json_each(?))`, list)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id client.ConversationID
		c := new(convState)
		if err := rows.Scan(&id, &c.account, &c.lastReadTS, &c.lastReadID); err != nil {
			return nil, err
		}
		convs[id] = c
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, id := range ids {
		if convs[id] == nil {
			return nil, notFound("conversation", id)
		}
	}
	return convs, nil
}

func (t *Tx) lookupStanzaIDs(ctx context.Context, archive int64, ids []string, found map[sidKey]client.MessageID) error {
	list, err := jsonArray(ids)
	if err != nil {
		return err
	}
	rows, err := t.query(ctx, lookupStanzaIDsSQL, archive, list)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var sid string
		var msg client.MessageID
		if err := rows.Scan(&sid, &msg); err != nil {
			return err
		}
		found[sidKey{archive, sid}] = msg
	}
	return rows.Err()
}

func (t *Tx) lookupOriginIDs(ctx context.Context, keys [][3]any) (map[originKey]client.MessageID, error) {
	found := map[originKey]client.MessageID{}
	if len(keys) == 0 {
		return found, nil
	}
	list, err := jsonArray(keys)
	if err != nil {
		return nil, err
	}
	rows, err := t.query(ctx, lookupOriginIDsSQL, list)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var k originKey
		var id client.MessageID
		if err := rows.Scan(&k.conv, &k.sender, &k.origin, &id); err != nil {
			return nil, err
		}
		found[k] = id
	}
	return found, rows.Err()
}

// nextMessageID returns the ID the next new message gets. IDs are assigned
// here rather than by SQLite so that a batch knows them before inserting;
// AUTOINCREMENT's sqlite_sequence keeps them from being reused.
func (t *Tx) nextMessageID(ctx context.Context) (client.MessageID, error) {
	var id client.MessageID
	err := t.queryRow(ctx, `SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'messages'), 0),
		coalesce((SELECT max(id) FROM messages), 0)) + 1`).Scan(&id)
	return id, err
}

const insertMessagePrefix = `INSERT INTO messages (id, conversation, ts, direction, type, sender, origin_id, xml_id,
	sent_ts, server_ts, received_ts, body, lang, thread, reply_to, reply_id, state, failure, replaces,
	retracted_ts, encryption, sender_device, trust, archive, stanza_id, markable)`

const messageInsertColumns = 26

// insertFresh inserts the new messages msgs[i] (i in fresh) with their
// alternatives and attachments, and notes what they change in their
// conversations.
func (t *Tx) insertFresh(ctx context.Context, msgs []client.Message, fresh []int, sids [][]sidKey, results []client.InsertResult, convs map[client.ConversationID]*convState) error {
	if len(fresh) == 0 {
		return nil
	}
	// Corrections point at the root of their chain, in the same
	// conversation (XEP-0308: a correction of a correction corrects the
	// original).
	type rowInfo struct {
		conv client.ConversationID
		root client.MessageID // 0: a timeline message
	}
	batch := map[client.MessageID]rowInfo{}
	args := make([]any, 0, len(fresh)*messageInsertColumns)
	var bodyRows, attRows []any
	for _, i := range fresh {
		m := &msgs[i]
		id := results[i].ID
		var root client.MessageID
		if m.Replaces != 0 {
			r, ok := batch[m.Replaces]
			if !ok {
				var err error
				if r.conv, r.root, err = t.correctionTarget(ctx, m.Replaces); err != nil {
					return err
				}
			}
			if r.conv != m.Conversation {
				return fmt.Errorf("%w: message %d corrects message %d of another conversation", ErrInvalid, i, m.Replaces)
			}
			root = r.root
			if root == 0 {
				root = m.Replaces
			}
		}
		batch[id] = rowInfo{m.Conversation, root}
		ts := messageTime(m).UnixMicro()
		body, lang, alts, atts := m.Body, m.Lang, m.Alternatives, m.Attachments
		if !m.Retracted.IsZero() {
			body, alts, atts = "", nil, nil
		}
		var xmlID any
		if m.XMLID != m.OriginID {
			xmlID = m.XMLID
		}
		var replaces any
		if root != 0 {
			replaces = root
		}
		var archive, stanzaID any
		if len(sids[i]) > 0 {
			archive, stanzaID = sids[i][0].archive, sids[i][0].id
		}
		args = append(args, id, m.Conversation, ts, m.Direction, m.Type, m.Sender, nullString(m.OriginID), xmlID,
			micros(m.Sent), micros(m.Server), micros(m.Received), body, lang, m.Thread, m.ReplyTo.To, m.ReplyTo.ID,
			m.State, m.Failure, replaces, micros(m.Retracted), m.Encryption, nullInt(m.SenderDevice), m.Trust, archive, stanzaID,
			boolInt(m.Markable && m.Direction == client.Inbound))
		for _, b := range alts {
			if b.Lang != lang {
				bodyRows = append(bodyRows, id, b.Lang, b.Text)
			}
		}
		for _, a := range atts {
			attRows = append(attRows, id, a.URL, a.MediaType, a.Name, a.Description, a.Size, a.Width, a.Height, a.SHA256, a.LocalPath)
		}
		if root == 0 {
			c := convs[m.Conversation]
			if !c.newest || ts > c.maxTS {
				c.maxTS, c.newest = ts, true
			}
			if m.Direction == client.Inbound && c.after(ts, id) {
				c.unread++
			}
		}
	}
	// The bodies are indexed when the transaction commits, or before
	// another write (Tx.flushFTS); fresh IDs are consecutive. Until then the
	// fts_deferred row turns the per-row trigger off.
	if len(t.ftsPending) == 0 {
		if _, err := t.exec(ctx, `INSERT INTO fts_deferred (id) VALUES (1)`); err != nil {
			return err
		}
	}
	if err := t.insertRows(ctx, insertMessagePrefix, messageInsertColumns, args); err != nil {
		return err
	}
	if err := t.insertRows(ctx, `INSERT OR IGNORE INTO message_bodies (message, lang, body)`, 3, bodyRows); err != nil {
		return fmt.Errorf("alternative bodies: %w", err)
	}
	if err := t.insertRows(ctx, `INSERT INTO attachments (message, url, media_type, name, description, size, width, height, sha256, local_path)`, 10, attRows); err != nil {
		return fmt.Errorf("attachments: %w", err)
	}
	return nil
}

// correctionTarget returns the conversation of a stored message and the
// root of its correction chain (0 when it is not a correction).
func (t *Tx) correctionTarget(ctx context.Context, id client.MessageID) (client.ConversationID, client.MessageID, error) {
	var conv client.ConversationID
	var root sql.NullInt64
	err := t.queryRow(ctx, `SELECT conversation, replaces FROM messages WHERE id = ?`, id).Scan(&conv, &root)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, fmt.Errorf("corrected %w", notFound("message", id))
	}
	return conv, client.MessageID(root.Int64), err
}

// FindMessage returns the message of conv that ref references.
func (t *Tx) FindMessage(ctx context.Context, conv client.ConversationID, ref client.MessageRef) (client.MessageID, error) {
	var id client.MessageID
	var err error
	switch {
	case ref.StanzaID != "" && !ref.Archive.IsZero():
		var acct client.AccountID
		if err := t.queryRow(ctx, `SELECT account FROM conversations WHERE id = ?`, conv).Scan(&acct); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return 0, notFound("conversation", conv)
			}
			return 0, fmt.Errorf("find message: %w", err)
		}
		archive, err := t.archiveID(ctx, acct, ref.Archive.String(), false)
		if err != nil {
			return 0, fmt.Errorf("find message: %w", err)
		}
		err = t.queryRow(ctx, `SELECT id FROM messages WHERE archive = ?1 AND stanza_id = ?2 AND conversation = ?3
			UNION ALL
			SELECT s.message FROM message_stanza_ids s JOIN messages m ON m.id = s.message
			WHERE s.archive = ?1 AND s.stanza_id = ?2 AND m.conversation = ?3`, archive, ref.StanzaID, conv).Scan(&id)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return 0, fmt.Errorf("find message: %w", err)
		}
	case ref.Sender != "" && ref.OriginID != "":
		err = t.queryRow(ctx, `SELECT id FROM messages WHERE conversation = ? AND sender = ? AND origin_id = ?`,
			conv, ref.Sender, ref.OriginID).Scan(&id)
	case ref.Sender != "" && ref.XMLID != "":
		// The newest message from the sender whose id attribute is XMLID:
		// stored in xml_id, or, when equal to the origin-id, as origin_id.
		err = t.queryRow(ctx, `SELECT max(id) FROM (
				SELECT id FROM messages WHERE conversation = ?1 AND sender = ?2 AND xml_id = ?3
				UNION ALL
				SELECT id FROM messages WHERE conversation = ?1 AND sender = ?2 AND origin_id = ?3 AND xml_id IS NULL)`,
			conv, ref.Sender, ref.XMLID).Scan(&nullableID{&id})
	default:
		return 0, fmt.Errorf("find message: %w: the reference names no stanza-id, origin-id or id", ErrInvalid)
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("find message: %w", err)
	}
	if id == 0 {
		return 0, fmt.Errorf("find message: %w", client.ErrNotFound)
	}
	return id, nil
}

// nullableID scans a possibly NULL integer into a MessageID (0 for NULL).
type nullableID struct{ id *client.MessageID }

func (n nullableID) Scan(src any) error {
	var v sql.NullInt64
	if err := v.Scan(src); err != nil {
		return err
	}
	*n.id = client.MessageID(v.Int64)
	return nil
}

// SetState moves an outbound message's delivery state (see
// client.MessageStore.SetState for the allowed transitions).
func (t *Tx) SetState(ctx context.Context, id client.MessageID, state client.DeliveryState, failure string) (bool, error) {
	if err := t.writable(ctx, "set state"); err != nil {
		return false, err
	}
	var cur client.DeliveryState
	var dir client.Direction
	if err := t.queryRow(ctx, `SELECT state, direction FROM messages WHERE id = ?`, id).Scan(&cur, &dir); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return false, notFound("message", id)
		}
		return false, fmt.Errorf("set state: %w", err)
	}
	if dir != client.Outbound {
		return false, fmt.Errorf("set state: %w: message %d is inbound", ErrInvalid, id)
	}
	ok := false
	switch state {
	case client.StateSent, client.StateDelivered, client.StateRead:
		ok = cur >= client.StatePending && cur < state && cur != client.StateFailed
	case client.StateFailed:
		ok = cur == client.StatePending || cur == client.StateSent
	case client.StatePending:
		ok = cur == client.StateFailed
	default:
		return false, fmt.Errorf("set state: %w: state %d", ErrInvalid, state)
	}
	if !ok {
		return false, nil
	}
	if state != client.StateFailed {
		failure = ""
	}
	if _, err := t.exec(ctx, `UPDATE messages SET state = ?, failure = ? WHERE id = ?`, state, failure, id); err != nil {
		return false, fmt.Errorf("set state: %w", err)
	}
	return true, nil
}

// SetReactions replaces sender's reactions to a message.
func (t *Tx) SetReactions(ctx context.Context, id client.MessageID, sender string, emojis []string, at time.Time) error {
	if err := t.writable(ctx, "set reactions"); err != nil {
		return err
	}
	if sender == "" {
		return fmt.Errorf("set reactions: %w: no sender", ErrInvalid)
	}
	var exists int
	if err := t.queryRow(ctx, `SELECT count(*) FROM messages WHERE id = ?`, id).Scan(&exists); err != nil {
		return fmt.Errorf("set reactions: %w", err)
	}
	if exists == 0 {
		return notFound("message", id)
	}
	if _, err := t.exec(ctx, `DELETE FROM reactions WHERE message = ? AND sender = ?`, id, sender); err != nil {
		return fmt.Errorf("set reactions: %w", err)
	}
	if at.IsZero() {
		at = time.Now()
	}
	set := slices.Clone(emojis)
	slices.Sort(set)
	for _, e := range slices.Compact(set) {
		if e == "" {
			continue
		}
		if _, err := t.exec(ctx, `INSERT INTO reactions (message, sender, emoji, ts) VALUES (?, ?, ?, ?)`, id, sender, e, at.UnixMicro()); err != nil {
			return fmt.Errorf("set reactions: %w", err)
		}
	}
	return nil
}

// Retract marks a message retracted and forgets its content. The rows stay,
// so that the archive cannot bring the message back as new.
func (t *Tx) Retract(ctx context.Context, id client.MessageID, at time.Time) error {
	if err := t.writable(ctx, "retract"); err != nil {
		return err
	}
	if at.IsZero() {
		at = time.Now()
	}
	n, err := affected(t.exec(ctx, `UPDATE messages SET retracted_ts = coalesce(retracted_ts, ?), body = '' WHERE id = ?`, at.UnixMicro(), id))
	if err != nil {
		return fmt.Errorf("retract: %w", err)
	}
	if n == 0 {
		return notFound("message", id)
	}
	for _, q := range []string{
		`UPDATE messages SET body = '' WHERE replaces = ?1`,
		`DELETE FROM message_bodies WHERE message = ?1 OR message IN (SELECT id FROM messages WHERE replaces = ?1)`,
		`DELETE FROM attachments WHERE message = ?1 OR message IN (SELECT id FROM messages WHERE replaces = ?1)`,
		`DELETE FROM reactions WHERE message = ?1`,
	} {
		if _, err := t.exec(ctx, q, id); err != nil {
			return fmt.Errorf("retract: %w", err)
		}
	}
	return nil
}

// DeleteMessage deletes a message with its corrections, stanza-ids,
// reactions, attachments and outbox item.
func (t *Tx) DeleteMessage(ctx context.Context, id client.MessageID) error {
	if err := t.writable(ctx, "delete message"); err != nil {
		return err
	}
	var conv client.ConversationID
	if err := t.queryRow(ctx, `DELETE FROM messages WHERE id = ? RETURNING conversation`, id).Scan(&conv); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("message", id)
		}
		return fmt.Errorf("delete message: %w", err)
	}
	if _, err := t.exec(ctx, `UPDATE conversations SET last_ts = (SELECT max(ts) FROM messages WHERE conversation = ?1 AND replaces IS NULL) WHERE id = ?1`, conv); err != nil {
		return fmt.Errorf("delete message: %w", err)
	}
	return t.recountUnread(ctx, conv)
}

// SetAttachmentPath records where a downloaded attachment is kept.
func (t *Tx) SetAttachmentPath(ctx context.Context, id client.AttachmentID, path string) error {
	if err := t.writable(ctx, "set attachment path"); err != nil {
		return err
	}
	n, err := affected(t.exec(ctx, `UPDATE attachments SET local_path = ? WHERE id = ?`, path, id))
	if err != nil {
		return fmt.Errorf("set attachment path: %w", err)
	}
	if n == 0 {
		return notFound("attachment", id)
	}
	return nil
}

// parseArchive parses a stored archive JID, caching the result.
func parseArchive(cache map[string]jid.JID, s string) (jid.JID, error) {
	if j, ok := cache[s]; ok {
		return j, nil
	}
	j, err := parseJID(s)
	if err == nil {
		cache[s] = j
	}
	return j, err
}
