package sqlite_test

import (
	"strings"
	"testing"

	"github.com/tern-im/tern/storage/sqlite"
)

// TestQueryPlans: the hot queries seek in their indexes and never sort or
// scan a table, so their cost does not grow with the history (the
// benchmarks measure it).
func TestQueryPlans(t *testing.T) {
	e := newEnv(t)
	e.db.Close()
	r := raw(t, e.path)
	want := map[string][]string{
		"latest page":       {"SEARCH m USING INDEX messages_timeline (conversation=?)", "messages_corrections (replaces=?)"},
		"page before":       {"SEARCH m USING INDEX messages_timeline (conversation=? AND ts<?)"},
		"page after":        {"SEARCH m USING INDEX messages_timeline (conversation=? AND ts>?)"},
		"stanza-id lookup":  {"SEARCH m USING COVERING INDEX messages_stanza_id (archive=? AND stanza_id=?)", "SEARCH s USING PRIMARY KEY (archive=? AND stanza_id=?)"},
		"origin-id lookup":  {"SEARCH m USING COVERING INDEX messages_origin (conversation=? AND sender=? AND origin_id=?)"},
		"search candidates": {"SCAN f VIRTUAL TABLE", "SEARCH m USING INTEGER PRIMARY KEY", "SEARCH c USING INTEGER PRIMARY KEY"},
		"search rank":       {"SCAN messages_fts VIRTUAL TABLE"},
		"corrections":       {"SEARCH m USING INDEX messages_corrections (replaces=?)"},
		"last messages":     {"SEARCH v USING COVERING INDEX", "SEARCH x USING INDEX messages_timeline (conversation=?)", "SEARCH m USING INTEGER PRIMARY KEY (rowid=?)"},
		"newest markable":   {"SEARCH m USING INDEX messages_timeline (conversation=? AND ts<?)"},
	}
	for name, q := range sqlite.Queries {
		rows, err := r.Query("EXPLAIN QUERY PLAN "+q, 1, 2, 3, 4, 5)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		all := strings.Join(plan, "\n")
		for _, w := range want[name] {
			if !strings.Contains(all, w) {
				t.Errorf("%s: plan lacks %q:\n%s", name, w, all)
			}
		}
		for _, bad := range []string{"TEMP B-TREE", "SCAN m\n", "SCAN messages\n", "SCAN message_stanza_ids"} {
			if strings.Contains(all+"\n", bad) {
				t.Errorf("%s: plan has %q:\n%s", name, strings.TrimSpace(bad), all)
			}
		}
		if len(want[name]) == 0 {
			t.Errorf("%s: no expected plan", name)
		}
	}
}
