package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
)

// messageSelect reads a message with its latest correction (found through
// the messages_corrections index: one probe per message).
const messageSelect = `SELECT m.id, m.conversation, m.ts, m.direction, m.type, m.sender, m.origin_id, m.xml_id,
	m.sent_ts, m.server_ts, m.received_ts, m.body, m.lang, m.thread, m.reply_to, m.reply_id, m.state, m.failure,
	m.replaces, m.retracted_ts, m.encryption, m.sender_device, m.trust, m.markable, c.id, c.body, c.ts
	FROM messages m LEFT JOIN messages c ON c.id = (
		SELECT x.id FROM messages x WHERE x.replaces = m.id ORDER BY x.ts DESC, x.id DESC LIMIT 1)`

// The timeline queries: keyset pagination on (ts, id) in messages_timeline,
// O(log n + page). The explicit ts range lets SQLite seek in the index; the
// OR orders messages with the same time by id (the index's last column, the
// rowid).
const (
	latestPageSQL = messageSelect + ` WHERE m.conversation = ? AND m.replaces IS NULL
		ORDER BY m.ts DESC, m.id DESC LIMIT ? + 0`
	pageBeforeSQL = messageSelect + ` WHERE m.conversation = ?1 AND m.replaces IS NULL
		AND m.ts <= ?2 AND (m.ts < ?2 OR m.id < ?3)
		ORDER BY m.ts DESC, m.id DESC LIMIT ?4 + 0`
	pageAfterSQL = messageSelect + ` WHERE m.conversation = ?1 AND m.replaces IS NULL
		AND m.ts >= ?2 AND (m.ts > ?2 OR m.id > ?3)
		ORDER BY m.ts, m.id LIMIT ?4 + 0`
)

// lastMessagesSQL reads the newest timeline message of each conversation
// of an account: one seek at the end of each conversation's range of
// messages_timeline.
const lastMessagesSQL = messageSelect + ` WHERE m.id IN (
	SELECT (SELECT x.id FROM messages x WHERE x.conversation = v.id AND x.replaces IS NULL
		ORDER BY x.ts DESC, x.id DESC LIMIT 1)
	FROM conversations v WHERE v.account = ?1)`

// correctionsSQL reads the newest corrections of a message, newest first
// (the messages_corrections index is in chain order).
const correctionsSQL = messageSelect + ` WHERE m.replaces = ?1 ORDER BY m.ts DESC, m.id DESC LIMIT ?2 + 0`

// The largest page a timeline query returns.
const maxPage = 1000

// maxCorrections bounds the corrections Corrections returns: a peer
// decides how long a chain is.
const maxCorrections = 1000

// A note on "LIMIT ? + 0" in the queries of this package: when a LIMIT is a
// bare parameter, SQLite's planner reads its bound value and marks the
// statement to be recompiled whenever the parameter is bound again — at
// every execution. The "+ 0" keeps the plan independent of the value, so
// the cached statement is reused (a page query costs about a third).

func scanMessage(sc interface{ Scan(...any) error }) (client.Message, error) {
	var m client.Message
	var origin, xmlID sql.NullString
	var ts, sent, server, received, replaces, retracted, device sql.NullInt64
	var corrID, corrTS sql.NullInt64
	var corrBody sql.NullString
	err := sc.Scan(&m.ID, &m.Conversation, &ts, &m.Direction, &m.Type, &m.Sender, &origin, &xmlID,
		&sent, &server, &received, &m.Body, &m.Lang, &m.Thread, &m.ReplyTo.To, &m.ReplyTo.ID, &m.State, &m.Failure,
		&replaces, &retracted, &m.Encryption, &device, &m.Trust, &m.Markable, &corrID, &corrBody, &corrTS)
	if err != nil {
		return m, err
	}
	m.OriginID = origin.String
	m.XMLID = origin.String
	if xmlID.Valid {
		m.XMLID = xmlID.String
	}
	m.Time, m.Sent, m.Server, m.Received = fromMicros(ts), fromMicros(sent), fromMicros(server), fromMicros(received)
	m.Replaces = client.MessageID(replaces.Int64)
	m.Retracted = fromMicros(retracted)
	m.SenderDevice = uint32(device.Int64)
	if corrID.Valid {
		m.LastCorrection = &client.Correction{ID: client.MessageID(corrID.Int64), Body: corrBody.String, Time: fromMicros(corrTS)}
	}
	return m, nil
}

// Message returns one message with everything attached to it.
func (t *Tx) Message(ctx context.Context, id client.MessageID) (client.Message, error) {
	m, err := scanMessage(t.queryRow(ctx, messageSelect+` WHERE m.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return m, notFound("message", id)
	}
	if err != nil {
		return m, fmt.Errorf("message: %w", err)
	}
	ms := []client.Message{m}
	if err := t.loadDetails(ctx, ms); err != nil {
		return m, fmt.Errorf("message: %w", err)
	}
	return ms[0], nil
}

// Corrections returns the versions of the timeline message that id is or
// corrects, oldest first: the message itself, then its newest
// maxCorrections corrections as stored (see client.History.Corrections).
func (t *Tx) Corrections(ctx context.Context, id client.MessageID) ([]client.Message, error) {
	var root sql.NullInt64
	err := t.queryRow(ctx, `SELECT replaces FROM messages WHERE id = ?`, id).Scan(&root)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("message", id)
	}
	if err != nil {
		return nil, fmt.Errorf("corrections: %w", err)
	}
	if root.Valid {
		id = client.MessageID(root.Int64)
	}
	orig, err := scanMessage(t.queryRow(ctx, messageSelect+` WHERE m.id = ?`, id))
	if err != nil {
		return nil, fmt.Errorf("corrections: %w", err)
	}
	out := []client.Message{orig}
	rows, err := t.query(ctx, correctionsSQL, id, maxCorrections)
	if err != nil {
		return nil, fmt.Errorf("corrections: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("corrections: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("corrections: %w", err)
	}
	slices.Reverse(out[1:])
	if err := t.loadDetails(ctx, out); err != nil {
		return nil, fmt.Errorf("corrections: %w", err)
	}
	return out, nil
}

func checkPageSize(n int) error {
	if n < 1 || n > maxPage {
		return fmt.Errorf("%w: page size %d (1 to %d)", ErrInvalid, n, maxPage)
	}
	return nil
}

// LatestPage returns the newest n timeline messages of conv, oldest first.
func (t *Tx) LatestPage(ctx context.Context, conv client.ConversationID, n int) ([]client.Message, error) {
	if err := checkPageSize(n); err != nil {
		return nil, fmt.Errorf("latest page: %w", err)
	}
	return t.page(ctx, true, latestPageSQL, conv, n)
}

// LastMessages returns the newest timeline message of each conversation
// of acct that has one, in no particular order.
func (t *Tx) LastMessages(ctx context.Context, acct client.AccountID) ([]client.Message, error) {
	ms, err := t.page(ctx, false, lastMessagesSQL, acct)
	if err != nil {
		return nil, fmt.Errorf("last messages: %w", err)
	}
	return ms, nil
}

// PageBefore returns the n timeline messages of conv just before the
// message before, oldest first.
func (t *Tx) PageBefore(ctx context.Context, conv client.ConversationID, before client.MessageID, n int) ([]client.Message, error) {
	if err := checkPageSize(n); err != nil {
		return nil, fmt.Errorf("page before: %w", err)
	}
	ts, err := t.anchor(ctx, conv, before)
	if err != nil {
		return nil, fmt.Errorf("page before: %w", err)
	}
	return t.page(ctx, true, pageBeforeSQL, conv, ts, before, n)
}

// PageAfter returns the n timeline messages of conv just after the message
// after, oldest first.
func (t *Tx) PageAfter(ctx context.Context, conv client.ConversationID, after client.MessageID, n int) ([]client.Message, error) {
	if err := checkPageSize(n); err != nil {
		return nil, fmt.Errorf("page after: %w", err)
	}
	ts, err := t.anchor(ctx, conv, after)
	if err != nil {
		return nil, fmt.Errorf("page after: %w", err)
	}
	return t.page(ctx, false, pageAfterSQL, conv, ts, after, n)
}

// newestMarkableSQL walks messages_timeline back from upTo (?2, ?3) to
// the first inbound markable message, stopping at after (?4, ?5; NULL for
// the start of the conversation).
const newestMarkableSQL = messageSelect + ` WHERE m.conversation = ?1 AND m.replaces IS NULL
	AND m.ts <= ?2 AND (m.ts < ?2 OR m.id <= ?3)
	AND (?4 IS NULL OR m.ts >= ?4 AND (m.ts > ?4 OR m.id > ?5))
	AND m.direction = 1 AND m.markable = 1
	ORDER BY m.ts DESC, m.id DESC LIMIT 1`

// NewestMarkable returns the newest inbound markable timeline message of
// conv after the message after (0: from the start) and at or before upTo.
// It reads the timeline between the two, O(log n + distance).
func (t *Tx) NewestMarkable(ctx context.Context, conv client.ConversationID, after, upTo client.MessageID) (client.Message, error) {
	upTS, err := t.anchor(ctx, conv, upTo)
	if err != nil {
		return client.Message{}, fmt.Errorf("newest markable: %w", err)
	}
	var afterTS, afterID any
	if after != 0 {
		ts, err := t.anchor(ctx, conv, after)
		if err != nil {
			return client.Message{}, fmt.Errorf("newest markable: %w", err)
		}
		afterTS, afterID = ts, after
	}
	ms, err := t.page(ctx, true, newestMarkableSQL, conv, upTS, upTo, afterTS, afterID)
	if err != nil {
		return client.Message{}, fmt.Errorf("newest markable: %w", err)
	}
	if len(ms) == 0 {
		return client.Message{}, fmt.Errorf("newest markable: %w", client.ErrNotFound)
	}
	return ms[0], nil
}

// anchor returns the timeline position of a message of conv.
func (t *Tx) anchor(ctx context.Context, conv client.ConversationID, id client.MessageID) (int64, error) {
	var ts int64
	var c client.ConversationID
	var replaces sql.NullInt64
	err := t.queryRow(ctx, `SELECT ts, conversation, replaces FROM messages WHERE id = ?`, id).Scan(&ts, &c, &replaces)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, notFound("message", id)
	case err != nil:
		return 0, err
	case c != conv:
		return 0, fmt.Errorf("%w: message %d is not in conversation %d", ErrInvalid, id, conv)
	case replaces.Valid:
		return 0, fmt.Errorf("%w: message %d is a correction, not a timeline message", ErrInvalid, id)
	}
	return ts, nil
}

// page runs a timeline query and returns its messages oldest first.
func (t *Tx) page(ctx context.Context, newestFirst bool, query string, args ...any) ([]client.Message, error) {
	rows, err := t.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("page: %w", err)
	}
	defer rows.Close()
	var out []client.Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("page: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("page: %w", err)
	}
	if newestFirst {
		slices.Reverse(out)
	}
	if err := t.loadDetails(ctx, out); err != nil {
		return nil, fmt.Errorf("page: %w", err)
	}
	return out, nil
}

// loadDetails fills in stanza-ids, alternative bodies, attachments and
// reactions: one query each for the whole page.
func (t *Tx) loadDetails(ctx context.Context, ms []client.Message) error {
	if len(ms) == 0 {
		return nil
	}
	idx := make(map[client.MessageID]int, len(ms))
	ids := make([]client.MessageID, len(ms))
	for i, m := range ms {
		idx[m.ID] = i
		ids[i] = m.ID
	}
	list, err := jsonArray(ids)
	if err != nil {
		return err
	}
	archives := map[string]jid.JID{}
	// The first stanza-id is in the message's row, further ones in
	// message_stanza_ids.
	err = t.each(ctx, `SELECT m.id, a.jid, m.stanza_id FROM messages m JOIN archives a ON a.id = m.archive
		WHERE m.id IN (SELECT value FROM json_each(?1)) AND m.stanza_id IS NOT NULL
		UNION ALL
		SELECT s.message, a.jid, s.stanza_id FROM message_stanza_ids s JOIN archives a ON a.id = s.archive
		WHERE s.message IN (SELECT value FROM json_each(?1)) ORDER BY 1, 2`, list,
		func(sc func(...any) error) error {
			var id client.MessageID
			var archive, sid string
			if err := sc(&id, &archive, &sid); err != nil {
				return err
			}
			j, err := parseArchive(archives, archive)
			if err != nil {
				return err
			}
			m := &ms[idx[id]]
			m.StanzaIDs = append(m.StanzaIDs, client.StanzaID{Archive: j, ID: sid})
			return nil
		})
	if err != nil {
		return fmt.Errorf("stanza-ids: %w", err)
	}
	err = t.each(ctx, `SELECT message, lang, body FROM message_bodies WHERE message IN (SELECT value FROM json_each(?))
		ORDER BY message, lang`, list,
		func(sc func(...any) error) error {
			var id client.MessageID
			var b client.Body
			if err := sc(&id, &b.Lang, &b.Text); err != nil {
				return err
			}
			m := &ms[idx[id]]
			m.Alternatives = append(m.Alternatives, b)
			return nil
		})
	if err != nil {
		return fmt.Errorf("alternative bodies: %w", err)
	}
	err = t.each(ctx, `SELECT message, id, url, media_type, name, description, size, width, height, sha256, local_path
		FROM attachments WHERE message IN (SELECT value FROM json_each(?)) ORDER BY message, id`, list,
		func(sc func(...any) error) error {
			var id client.MessageID
			var a client.Attachment
			if err := sc(&id, &a.ID, &a.URL, &a.MediaType, &a.Name, &a.Description, &a.Size, &a.Width, &a.Height, &a.SHA256, &a.LocalPath); err != nil {
				return err
			}
			m := &ms[idx[id]]
			m.Attachments = append(m.Attachments, a)
			return nil
		})
	if err != nil {
		return fmt.Errorf("attachments: %w", err)
	}
	err = t.each(ctx, `SELECT message, sender, emoji, ts FROM reactions WHERE message IN (SELECT value FROM json_each(?))
		ORDER BY message, sender, emoji`, list,
		func(sc func(...any) error) error {
			var id client.MessageID
			var sender, emoji string
			var ts sql.NullInt64
			if err := sc(&id, &sender, &emoji, &ts); err != nil {
				return err
			}
			m := &ms[idx[id]]
			at := fromMicros(ts)
			if n := len(m.Reactions); n > 0 && m.Reactions[n-1].Sender == sender {
				r := &m.Reactions[n-1]
				r.Emojis = append(r.Emojis, emoji)
				if at.After(r.Time) {
					r.Time = at
				}
				return nil
			}
			m.Reactions = append(m.Reactions, client.Reaction{Sender: sender, Emojis: []string{emoji}, Time: at})
			return nil
		})
	if err != nil {
		return fmt.Errorf("reactions: %w", err)
	}
	return nil
}

// each runs a query and calls f for every row with the row's Scan.
func (t *Tx) each(ctx context.Context, query string, arg any, f func(scan func(...any) error) error) error {
	rows, err := t.query(ctx, query, arg)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := f(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}
