package sqlite_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/storage/sqlite"
)

// FuzzSearch: no user query is an error, and every hit's snippet is text
// of a stored body.
func FuzzSearch(f *testing.F) {
	e := newEnv(f)
	c := e.conv(e.acct, juliet)
	bodies := []string{
		"But soft, what light through yonder window breaks?",
		"Café naïve résumé — Zürich",
		`quotes "inside" and a * star and (parens) AND OR NOT NEAR`,
		"😀 emoji and ＷＩＤＥ text",
	}
	for i, b := range bodies {
		e.insert(msg(c, juliet, i, b))
	}
	f.Add("window")
	f.Add(`foo" OR`)
	f.Fuzz(func(t *testing.T, q string) {
		hits, err := e.db.Search(t.Context(), e.acct, q, 20)
		if err != nil {
			t.Fatalf("Search(%q): %v", q, err)
		}
		for _, h := range hits {
			var text strings.Builder
			for _, p := range h.Snippet {
				text.WriteString(p.Text)
			}
			found := false
			for _, b := range bodies {
				if strings.Contains(b, strings.Trim(text.String(), "…")) {
					found = true
				}
			}
			if !found {
				t.Fatalf("Search(%q): snippet %q is not from a stored body", q, text.String())
			}
		}
	})
}

// FuzzInsert: any message the store accepts reads back as stored, and
// storing it again is reported as a duplicate exactly when it has an
// origin-id or a stanza-id.
func FuzzInsert(f *testing.F) {
	e := newEnv(f)
	c := e.conv(e.acct, juliet)
	f.Add(juliet, "origin-1", "stanza-1", "attr-1", "hello")
	f.Add("nick in a room", "", "", "", "")
	f.Fuzz(func(t *testing.T, sender, origin, stanzaID, xmlID, body string) {
		m := msg(c, sender, 1, body)
		m.OriginID, m.XMLID = origin, xmlID
		if stanzaID != "" {
			m.StanzaIDs = []client.StanzaID{{Archive: jid.MustParse(romeo), ID: stanzaID}}
		}
		res, err := e.db.InsertMessages(t.Context(), []client.Message{m})
		valid := sender != "" && validKey(sender) && validKey(origin) && validKey(stanzaID)
		if !valid {
			if !errors.Is(err, sqlite.ErrInvalid) {
				t.Fatalf("invalid message %+v: %v, want ErrInvalid", m, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("InsertMessages(%+v): %v", m, err)
		}
		got, err := e.db.Message(t.Context(), res[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if !res[0].Duplicate && (got.Sender != sender || got.Body != body || got.OriginID != origin || got.XMLID != xmlID ||
			(stanzaID != "" && (len(got.StanzaIDs) != 1 || got.StanzaIDs[0].ID != stanzaID))) {
			t.Fatalf("stored %+v, read back %+v", m, got)
		}
		again, err := e.db.InsertMessages(t.Context(), []client.Message{m})
		if err != nil {
			t.Fatal(err)
		}
		if dup := origin != "" || stanzaID != ""; again[0].Duplicate != dup || (dup && again[0].ID != res[0].ID) {
			t.Fatalf("second insert of %+v: %+v after %+v", m, again[0], res[0])
		}
		if _, err := e.db.Search(t.Context(), e.acct, body, 5); err != nil {
			t.Fatalf("Search(%q): %v", body, err)
		}
	})
}

func validKey(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// FuzzOpen: whatever bytes a file holds, Open either opens it or refuses
// it without changing a byte.
func FuzzOpen(f *testing.F) {
	f.Add([]byte("SQLite format 3\x00"))
	f.Add([]byte{})
	dir := f.TempDir()
	n := 0
	f.Fuzz(func(t *testing.T, data []byte) {
		n++
		path := filepath.Join(dir, fmt.Sprintf("f%d.db", n))
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		defer func() {
			for _, s := range []string{"", "-wal", "-shm", ".lock"} {
				os.Remove(path + s)
			}
		}()
		db, err := sqlite.Open(t.Context(), path, sqlite.Options{})
		if err == nil {
			db.Close()
			return
		}
		if !errors.Is(err, sqlite.ErrCorrupt) && !errors.Is(err, sqlite.ErrTooNew) {
			t.Fatalf("Open: %v, want ErrCorrupt or ErrTooNew", err)
		}
		after, rerr := os.ReadFile(path)
		if rerr != nil || !bytes.Equal(after, data) {
			t.Fatalf("Open failed (%v) and changed the file", err)
		}
	})
}
