package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"unicode"

	"github.com/tern-im/tern/protocol/client"
)

// searchWindow is how many of the newest matches Search ranks. BM25 costs
// about 15 µs per ranked row here, so ranking every match of a common word
// in a large history would take seconds; the newest matches are also what a
// chat search is usually after. Queries with fewer matches are ranked
// completely.
const searchWindow = 1000

// maxSearchHits bounds Search's limit.
const maxSearchHits = 1000

// Snippet markers: control characters that XML 1.0, and hence a message
// body, cannot contain.
const (
	snippetOpen  = "\x02"
	snippetClose = "\x03"
)

// The two queries of a search.
const (
	// searchCandidatesSQL walks the matches from the newest, which needs
	// no ranking and stops after the window.
	searchCandidatesSQL = `SELECT f.rowid, m.conversation, m.ts, m.replaces
		FROM messages_fts f JOIN messages m ON m.id = f.rowid JOIN conversations c ON c.id = m.conversation
		WHERE messages_fts MATCH ? AND c.account = ? ORDER BY f.rowid DESC LIMIT ? + 0`
	// searchRankSQL ranks the rows from the oldest candidate on; FTS5
	// sorts by rank itself, so snippets are made only for the rows read.
	searchRankSQL = `SELECT rowid, rank, snippet(messages_fts, 0, char(2), char(3), '…', 16)
		FROM messages_fts WHERE messages_fts MATCH ? AND rowid >= ? ORDER BY rank`
)

// ftsQuery turns user text into an FTS5 query that matches every word and
// interprets nothing: each whitespace-separated word becomes a quoted
// string (a quote inside is doubled), so operators, column filters and
// quotes are plain text; a '*' ending a word makes it a prefix. Words with
// no letter or digit are dropped, as the tokenizer would ignore them, and
// NUL bytes separate words. It returns "" when no word is left.
func ftsQuery(text string) string {
	var b strings.Builder
	// FTS5's parser ends a string at a NUL byte; no body contains one.
	text = strings.ReplaceAll(text, "\x00", " ")
	for _, w := range strings.Fields(text) {
		prefix := strings.HasSuffix(w, "*")
		w = strings.TrimRight(w, "*")
		if strings.IndexFunc(w, func(r rune) bool {
			return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Co, r)
		}) < 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteByte('"')
		b.WriteString(strings.ReplaceAll(w, `"`, `""`))
		b.WriteByte('"')
		if prefix {
			b.WriteByte('*')
		}
	}
	return b.String()
}

// Search returns up to limit messages of acct matching every word of
// query, the most relevant first (BM25 over the newest searchWindow
// matches).
func (t *Tx) Search(ctx context.Context, acct client.AccountID, query string, limit int) ([]client.SearchHit, error) {
	if limit < 1 || limit > maxSearchHits {
		return nil, fmt.Errorf("search: %w: limit %d (1 to %d)", ErrInvalid, limit, maxSearchHits)
	}
	q := ftsQuery(query)
	if q == "" {
		return nil, nil
	}
	// In a write transaction, this transaction's imports are indexed
	// first (Tx.flushFTS).
	if !t.ro {
		if err := t.flushFTS(ctx); err != nil {
			return nil, fmt.Errorf("search: %w", err)
		}
	}
	// 1. The newest matches of the account: the candidates.
	type cand struct {
		conv client.ConversationID
		ts   sql.NullInt64
		root sql.NullInt64
	}
	cands := map[int64]cand{}
	rows, err := t.query(ctx, searchCandidatesSQL, q, acct, max(searchWindow, limit))
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	lowest := int64(0)
	for rows.Next() {
		var id int64
		var c cand
		if err := rows.Scan(&id, &c.conv, &c.ts, &c.root); err != nil {
			rows.Close()
			return nil, fmt.Errorf("search: %w", err)
		}
		cands[id] = c
		lowest = id
	}
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	if len(cands) == 0 {
		return nil, nil
	}
	// 2. Rank them.
	rows, err = t.query(ctx, searchRankSQL, q, lowest)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	defer rows.Close()
	var hits []client.SearchHit
	for len(hits) < limit && rows.Next() {
		var id int64
		var rank float64
		var snip string
		if err := rows.Scan(&id, &rank, &snip); err != nil {
			return nil, fmt.Errorf("search: %w", err)
		}
		c, ok := cands[id]
		if !ok {
			continue // another account's message
		}
		msg := client.MessageID(id)
		if c.root.Valid {
			msg = client.MessageID(c.root.Int64)
		}
		hits = append(hits, client.SearchHit{
			Conversation: c.conv,
			Message:      msg,
			Time:         fromMicros(c.ts),
			Snippet:      parseSnippet(snip),
			Score:        -rank, // FTS5's bm25 is lower for better matches
		})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	return hits, nil
}

// parseSnippet splits a snippet with markers into parts.
func parseSnippet(s string) []client.SnippetPart {
	var parts []client.SnippetPart
	match := false
	for s != "" {
		marker := snippetOpen
		if match {
			marker = snippetClose
		}
		text, rest, found := strings.Cut(s, marker)
		if text != "" {
			parts = append(parts, client.SnippetPart{Text: text, Match: match})
		}
		if !found {
			break
		}
		s, match = rest, !match
	}
	return parts
}
