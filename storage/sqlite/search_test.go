package sqlite_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/storage/sqlite"
)

func (e *env) search(acct client.AccountID, q string) []client.SearchHit {
	e.t.Helper()
	hits, err := e.db.Search(e.t.Context(), acct, q, 50)
	if err != nil {
		e.t.Fatalf("Search(%q): %v", q, err)
	}
	return hits
}

func hitIDs(hs []client.SearchHit) []client.MessageID {
	out := make([]client.MessageID, len(hs))
	for i, h := range hs {
		out[i] = h.Message
	}
	return out
}

func TestSearchMatching(t *testing.T) {
	e := newEnv(t)
	c := e.conv(e.acct, juliet)
	bodies := []string{
		"Let's meet at the Café tomorrow",   // 0
		"NAÏVE question: is the cafe open?", // 1
		"see you tomorrow morning",          // 2
		"foo or bar, that is the question",  // 3
		`she said "foo" and left`,           // 4
		"Zürich is lovely in spring",        // 5
		"ﬁne ligatures and ＷＩＤＥ letters",    // 6
	}
	var ms []client.Message
	for i, b := range bodies {
		ms = append(ms, msg(c, juliet, i, b))
	}
	res := e.insert(ms...)
	id := func(i int) client.MessageID { return res[i].ID }
	tests := []struct {
		q    string
		want []client.MessageID
	}{
		{"cafe", []client.MessageID{id(0), id(1)}},
		{"CAFÉ", []client.MessageID{id(0), id(1)}},
		{"naive", []client.MessageID{id(1)}},
		{"zurich", []client.MessageID{id(5)}},
		{"tomorrow cafe", []client.MessageID{id(0)}},
		{"tom*", []client.MessageID{id(0), id(2)}},
		{"tom", nil},
		{`foo" OR`, []client.MessageID{id(3)}}, // both words, literally
		{`"foo"`, []client.MessageID{id(3), id(4)}},
		{"question foo", []client.MessageID{id(3)}},
		{"the question", []client.MessageID{id(1), id(3)}},
	}
	for _, tt := range tests {
		got := hitIDs(e.search(e.acct, tt.q))
		slices.Sort(got)
		if !slices.Equal(got, tt.want) {
			t.Errorf("Search(%q) = %v, want %v", tt.q, got, tt.want)
		}
	}
}

// TestSearchQueryIsNeverSyntax: whatever the user types is text.
func TestSearchQueryIsNeverSyntax(t *testing.T) {
	e := newEnv(t)
	c := e.conv(e.acct, juliet)
	e.insert(msg(c, juliet, 1, "AND OR NOT NEAR body col rank"), msg(c, juliet, 2, "plain text"))
	for _, q := range []string{
		`foo" OR`, `"`, `""`, `"""`, `*`, `**`, `a*b`, `-foo`, `NOT`, `AND`, `OR`, `a AND`, `OR b`, `NEAR(a b)`, `NEAR/2`,
		`body:plain`, `{body}: text`, `^plain`, `(`, `)`, `(plain`, `plain)`, `+`, `:`, `rank:1`, `'`, `\`, `\"`,
		"😀", "😀 plain", "\x00", "\t\n", "", "   ", `plain*"`, `"plain*`, `*plain`, "a\u200bb", strings.Repeat("x ", 500),
		"MATCH", "'; DROP TABLE messages; --", `plain" OR "text`, `"plain" NOT "text"`,
	} {
		if _, err := e.db.Search(ctx(t), e.acct, q, 10); err != nil {
			t.Errorf("Search(%q): %v", q, err)
		}
	}
	if hits := e.search(e.acct, "NEAR OR"); len(hits) != 1 {
		t.Errorf("operator words as text: %d hits, want 1", len(hits))
	}
	if hits := e.search(e.acct, `plain" "text`); len(hits) != 1 {
		t.Errorf("quotes as text: %d hits, want 1", len(hits))
	}
	if hits := e.search(e.acct, `plain" OR "text`); len(hits) != 0 {
		t.Errorf("OR is a word, not an operator: %d hits, want 0", len(hits))
	}
	for q, want := range map[string]string{
		`foo" OR`: `"foo""" "OR"`,
		`tom*`:    `"tom"*`,
		"😀 !! *":  "",
		"café":    `"café"`,
	} {
		if got := sqlite.FTSQuery(q); got != want {
			t.Errorf("FTSQuery(%q) = %q, want %q", q, got, want)
		}
	}
}

func TestSearchRankingAndSnippets(t *testing.T) {
	e := newEnv(t)
	c := e.conv(e.acct, juliet)
	long := "the balcony " + strings.Repeat("and many other words that dilute the match ", 20)
	short := "balcony balcony, the balcony!"
	res := e.insert(msg(c, juliet, 1, long), msg(c, juliet, 2, short), msg(c, juliet, 3, "nothing here"))
	hits := e.search(e.acct, "balcony")
	if len(hits) != 2 || hits[0].Message != res[1].ID || hits[1].Message != res[0].ID || hits[0].Score <= hits[1].Score {
		t.Fatalf("ranking: %+v", hits)
	}
	h := hits[0]
	if h.Conversation != c || !h.Time.Equal(t0.Add(2e9)) {
		t.Errorf("hit %+v", h)
	}
	var matched []string
	var text strings.Builder
	for _, p := range h.Snippet {
		text.WriteString(p.Text)
		if p.Match {
			matched = append(matched, p.Text)
		}
	}
	if text.String() != short || !slices.Equal(matched, []string{"balcony", "balcony", "balcony"}) {
		t.Errorf("snippet %+v", h.Snippet)
	}
	for _, n := range []int{0, 1001} {
		_, err := e.db.Search(ctx(t), e.acct, "balcony", n)
		mustErr(t, err, sqlite.ErrInvalid)
	}
}

func TestSearchIsPerAccount(t *testing.T) {
	e := newEnv(t)
	other := e.account(jid.MustParse("benvolio@montague.example"))
	c := e.conv(e.acct, juliet)
	oc := e.conv(other, juliet)
	// Interleave the accounts' messages so that the other account's fill
	// the ranking window too.
	var ms []client.Message
	for i := range 3 * sqlite.SearchWindow {
		m := msg(c, juliet, i, fmt.Sprintf("rosemary %d", i))
		if i%3 != 0 {
			m = msg(oc, juliet, i, fmt.Sprintf("rosemary for remembrance %d", i))
		}
		ms = append(ms, m)
	}
	for len(ms) > 0 {
		n := min(len(ms), 500)
		e.insert(ms[:n]...)
		ms = ms[n:]
	}
	for _, acct := range []client.AccountID{e.acct, other} {
		hits := e.search(acct, "rosemary")
		if len(hits) != 50 {
			t.Errorf("account %d: %d hits, want 50", acct, len(hits))
		}
		for _, h := range hits {
			want := c
			if acct == other {
				want = oc
			}
			if h.Conversation != want {
				t.Fatalf("account %d got a hit of conversation %d", acct, h.Conversation)
			}
		}
	}
	if hits := e.search(e.acct, "remembrance"); len(hits) != 0 {
		t.Errorf("account %d finds the other account's words: %d hits", e.acct, len(hits))
	}
}

// TestSearchIndexFollowsChanges: the index follows inserts, single and
// batched, body changes by retraction, and deletions.
func TestSearchIndexFollowsChanges(t *testing.T) {
	e := newEnv(t)
	c := e.conv(e.acct, juliet)
	single := e.insert(msg(c, juliet, 1, "lantern"))[0].ID
	var batch []client.Message
	for i := range 150 {
		batch = append(batch, msg(c, juliet, 10+i, fmt.Sprintf("torch %d", i)))
	}
	res := e.insert(batch...)
	if n := len(e.search(e.acct, "torch")); n != 50 {
		t.Errorf("%d hits for the batch, want 50 (the limit)", n)
	}
	e.update(func(tx client.Tx) error {
		if err := tx.DeleteMessage(ctx(t), single); err != nil {
			return err
		}
		for _, r := range res[:100] {
			if err := tx.Retract(ctx(t), r.ID, t0); err != nil {
				return err
			}
		}
		return nil
	})
	if hits := e.search(e.acct, "lantern"); len(hits) != 0 {
		t.Errorf("a deleted message is found: %v", hits)
	}
	hits, _ := e.db.Search(ctx(t), e.acct, "torch", 1000)
	if len(hits) != 50 {
		t.Errorf("%d hits after retracting 100 of 150, want 50", len(hits))
	}
	if err := e.db.IntegrityCheck(ctx(t)); err != nil {
		t.Error(err)
	}
}
