package sqlite_test

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/storage/sqlite"
)

// The migration tests cover every path to the latest schema: from an empty
// database in one go, one migration at a time, and from every earlier
// version holding data. When a migration is added, the last test asks for
// testdata/migrations/data_NNNN.sql with data of the version before it.

// schemaOf returns the database's schema: every object's SQL.
func schemaOf(t *testing.T, path string) map[string]string {
	t.Helper()
	r := raw(t, path)
	defer r.Close()
	rows, err := r.Query(`SELECT type || ' ' || name, coalesce(sql, '') FROM sqlite_schema`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, s string
		if err := rows.Scan(&name, &s); err != nil {
			t.Fatal(err)
		}
		out[name] = s
	}
	return out
}

// counts returns the number of rows of every table.
func counts(t *testing.T, path string) map[string]int {
	t.Helper()
	r := raw(t, path)
	defer r.Close()
	var tables []string
	rows, err := r.Query(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'messages_fts%' AND name <> 'schema_version'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	out := map[string]int{}
	// Migration 0004 moved each message's first stanza-id into its row:
	// stanza-ids are counted wherever they are.
	var inRows int
	if err := r.QueryRow(`SELECT count(*) FROM pragma_table_info('messages') WHERE name = 'stanza_id'`).Scan(&inRows); err != nil {
		t.Fatal(err)
	}
	if inRows > 0 {
		if err := r.QueryRow(`SELECT count(*) FROM messages WHERE stanza_id IS NOT NULL`).Scan(&inRows); err != nil {
			t.Fatal(err)
		}
	}
	for _, tb := range tables {
		var n int
		if err := r.QueryRow(`SELECT count(*) FROM "` + tb + `"`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out[tb] = n
	}
	out["message_stanza_ids"] += inRows
	return out
}

// checkHealth runs SQLite's and FTS5's integrity checks and the foreign
// key check on a closed database file.
func checkHealth(t *testing.T, path string) {
	t.Helper()
	db := openAt(t, path, sqlite.Options{})
	if err := db.IntegrityCheck(ctx(t)); err != nil {
		t.Error(err)
	}
	db.Close()
	r := raw(t, path)
	defer r.Close()
	rows, err := r.Query(`PRAGMA foreign_key_check`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var table, parent string
		var rowid sql.NullInt64
		var fk int
		rows.Scan(&table, &rowid, &parent, &fk)
		t.Errorf("foreign key violation: %s row %v → %s", table, rowid, parent)
	}
}

func latestVersion(t *testing.T) int {
	t.Helper()
	v, err := sqlite.LatestSchemaVersion()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMigrationsFromEmpty(t *testing.T) {
	latest := latestVersion(t)
	// In one go.
	oneGo := filepath.Join(t.TempDir(), "tern.db")
	openAt(t, oneGo, sqlite.Options{}).Close()
	ref := schemaOf(t, oneGo)
	checkHealth(t, oneGo)
	for _, obj := range []string{"table messages", "table messages_fts", "table omemo_sessions", "trigger messages_fts_insert", "index messages_timeline"} {
		if ref[obj] == "" {
			t.Errorf("%s missing from the schema", obj)
		}
	}
	// 0005: the conversation flags.
	for _, col := range []string{"pinned INTEGER", "archived INTEGER NOT NULL DEFAULT 0"} {
		if !strings.Contains(ref["table conversations"], col) {
			t.Errorf("conversations lacks %q: %s", col, ref["table conversations"])
		}
	}
	// 0006: markable messages.
	if !strings.Contains(ref["table messages"], "markable INTEGER NOT NULL DEFAULT 0") {
		t.Errorf("messages lacks markable: %s", ref["table messages"])
	}
	// 0007: the recheck's state in the cursors.
	for _, col := range []string{"recheck_from INTEGER", "precise INTEGER NOT NULL DEFAULT 0"} {
		if !strings.Contains(ref["table mam_cursors"], col) {
			t.Errorf("mam_cursors lacks %q: %s", col, ref["table mam_cursors"])
		}
	}
	// One migration at a time, each in its own transaction.
	steps := filepath.Join(t.TempDir(), "tern.db")
	for v := 1; v <= latest; v++ {
		if err := sqlite.MigrateTo(ctx(t), steps, v); err != nil {
			t.Fatalf("migrate to %d: %v", v, err)
		}
		r := raw(t, steps)
		var got int
		if err := r.QueryRow(`SELECT max(version) FROM schema_version`).Scan(&got); err != nil || got != v {
			t.Fatalf("after migrating to %d: version %d, %v", v, got, err)
		}
		r.Close()
	}
	openAt(t, steps, sqlite.Options{}).Close()
	if got := schemaOf(t, steps); !reflect.DeepEqual(got, ref) {
		t.Errorf("step-by-step schema differs from the one-go schema:\n%v\n%v", got, ref)
	}
	checkHealth(t, steps)
}

func TestMigrationsKeepData(t *testing.T) {
	latest := latestVersion(t)
	fresh := filepath.Join(t.TempDir(), "tern.db")
	openAt(t, fresh, sqlite.Options{}).Close()
	ref := schemaOf(t, fresh)
	for v := 1; v < latest; v++ {
		t.Run(fmt.Sprintf("from_%d", v), func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "migrations", fmt.Sprintf("data_%04d.sql", v)))
			if err != nil {
				t.Fatalf("every schema version but the latest needs data to migrate from: %v", err)
			}
			path := filepath.Join(t.TempDir(), "tern.db")
			if err := sqlite.MigrateTo(ctx(t), path, v); err != nil {
				t.Fatal(err)
			}
			r := raw(t, path)
			if _, err := r.Exec(`PRAGMA foreign_keys = ON`); err != nil {
				t.Fatal(err)
			}
			if _, err := r.Exec(string(data)); err != nil {
				t.Fatalf("data_%04d.sql: %v", v, err)
			}
			r.Close()
			before := counts(t, path)

			db := openAt(t, path, sqlite.Options{})
			if got, err := db.SchemaVersion(ctx(t)); err != nil || got != latest {
				t.Fatalf("schema version %d, %v; want %d", got, err, latest)
			}
			// The data reads back through the API.
			page, err := db.LatestPage(ctx(t), 1, 10)
			if err != nil || len(page) != 3 {
				t.Fatalf("latest page: %d messages, %v", len(page), err)
			}
			if c := page[2].LastCorrection; c == nil || c.Body != "Parting is such sweet sorrow!" {
				t.Errorf("correction of the last message: %+v", c)
			}
			if page[1].XMLID != "x-2" || page[1].OriginID != "o-2" || len(page[1].Alternatives) != 1 {
				t.Errorf("second message: %+v", page[1])
			}
			wantSIDs := []string{"stanza-2"}
			if v >= 3 {
				wantSIDs = append(wantSIDs, "room-stanza-2")
			}
			var gotSIDs []string
			for _, s := range page[1].StanzaIDs {
				gotSIDs = append(gotSIDs, s.ID)
			}
			if !reflect.DeepEqual(gotSIDs, wantSIDs) {
				t.Errorf("second message's stanza-ids: %v, want %v", gotSIDs, wantSIDs)
			}
			// Conversations from before 0005 are neither pinned nor
			// archived; later ones keep their flags. The flags can be set.
			convs, err := db.Conversations(ctx(t), 1)
			if err != nil || len(convs) == 0 {
				t.Fatalf("conversations: %+v, %v", convs, err)
			}
			for _, c := range convs {
				wantPinned, wantArchived := false, false
				if v >= 5 {
					wantPinned, wantArchived = c.ID == 1, c.ID == 2
				}
				if !c.Pinned.IsZero() != wantPinned || c.Archived != wantArchived {
					t.Errorf("migrated conversation %d: pinned %v, archived %v", c.ID, c.Pinned, c.Archived)
				}
			}
			// Messages from before 0006 are not markable; later ones keep
			// the flag.
			for _, m := range page {
				if want := v >= 6 && m.ID == 2; m.Markable != want {
					t.Errorf("migrated message %d: markable %v, want %v", m.ID, m.Markable, want)
				}
			}
			// Cursors from before 0007 have no recheck pending and do not
			// know the archive's stamps.
			err = db.View(ctx(t), func(tx client.Tx) error {
				c, err := tx.MAMCursor(ctx(t), 1, jid.MustParse("romeo@montague.example"), jid.JID{})
				if v < 2 && errors.Is(err, client.ErrNotFound) {
					return nil // version 1 kept no cursors
				}
				if err != nil || c.Newest != "stanza-4" || !c.RecheckFrom.IsZero() || c.Precise {
					return fmt.Errorf("migrated cursor %+v, %v", c, err)
				}
				return nil
			})
			if err != nil {
				t.Error(err)
			}
			err = db.Update(ctx(t), func(tx client.Tx) error {
				if err := tx.SetPinned(ctx(t), 1, true); err != nil {
					return err
				}
				return tx.SetArchived(ctx(t), 1, true)
			})
			if c, cerr := db.Conversations(ctx(t), 1); err != nil || cerr != nil || c[0].Pinned.IsZero() || !c[0].Archived {
				t.Errorf("flags on a migrated conversation: %+v, %v, %v", c, err, cerr)
			}
			// The correction chain of the last message.
			chain, err := db.Corrections(ctx(t), 3)
			if err != nil || len(chain) != 2 || chain[0].ID != 3 || chain[1].ID != 4 || chain[1].Body != "Parting is such sweet sorrow!" {
				t.Errorf("corrections of message 3: %+v, %v", chain, err)
			}
			hits, err := db.Search(ctx(t), 1, "wherefore", 10)
			if err != nil || len(hits) != 1 || hits[0].Message != 2 {
				t.Errorf("search after migration: %+v, %v", hits, err)
			}
			err = db.Update(ctx(t), func(tx client.Tx) error {
				ver, items, err := tx.Roster(ctx(t), 1)
				if err != nil || ver != "ver7" || len(items) != 2 {
					return fmt.Errorf("roster %q %v: %v", ver, items, err)
				}
				// New messages still dedupe against migrated ones.
				m := msg(1, "juliet@capulet.example", 400, "Wherefore art thou Romeo?")
				m.StanzaIDs = []client.StanzaID{sid("romeo@montague.example", "stanza-2")}
				res, err := tx.InsertMessages(ctx(t), []client.Message{m})
				if err != nil || !res[0].Duplicate || res[0].ID != 2 {
					return fmt.Errorf("insert of a migrated message: %+v, %v", res, err)
				}
				return nil
			})
			if err != nil {
				t.Error(err)
			}
			db.Close()

			after := counts(t, path)
			for table, n := range before {
				if after[table] != n {
					t.Errorf("table %s: %d rows before the migration, %d after", table, n, after[table])
				}
			}
			if got := schemaOf(t, path); !reflect.DeepEqual(got, ref) {
				t.Errorf("schema after migrating from %d differs from a new database's", v)
			}
			checkHealth(t, path)
		})
	}
}
