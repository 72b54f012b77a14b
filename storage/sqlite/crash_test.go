package sqlite_test

import (
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/storage/sqlite"
)

// TestSurvivesSIGKILL kills a process writing to the database 50 times, at
// random moments (during start-up and migration too), and checks after
// each kill that the file is intact and holds every message whose commit
// had returned.
func TestSurvivesSIGKILL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tern.db")
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 1))
	committed := map[client.MessageID]bool{}
	start := time.Now()
	for round := range 50 {
		cmd, stdin, out := startChild(t, "crash", path, seedEnv+"="+strconv.FormatUint(seed+uint64(round), 10))
		// Kill after reading k commits; k = 0 kills it while it starts.
		k := 0
		if round%10 != 0 {
			k = 1 + r.IntN(300)
		}
		read := func() {
			line := out.Text()
			id, ok := strings.CutPrefix(line, "id ")
			n, err := strconv.ParseInt(id, 10, 64)
			if !ok || err != nil {
				t.Fatalf("round %d: child said %q", round, line)
			}
			committed[client.MessageID(n)] = true
		}
		for n := 0; n < k && out.Scan(); n++ {
			read()
		}
		if err := cmd.Process.Kill(); err != nil { // SIGKILL on Unix
			t.Fatal(err)
		}
		// What it reported before dying counts too.
		for out.Scan() {
			read()
		}
		stdin.Close()
		cmd.Wait()
		if err := out.Err(); err != nil {
			t.Fatal(err)
		}

		db, err := sqlite.Open(ctx(t), path, sqlite.Options{})
		if err != nil {
			t.Fatalf("round %d: open after the kill: %v", round, err)
		}
		if err := db.IntegrityCheck(ctx(t)); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		db.Close()
		stored := map[client.MessageID]bool{}
		rdb := raw(t, path)
		rows, err := rdb.Query(`SELECT id FROM messages`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id client.MessageID
			rows.Scan(&id)
			stored[id] = true
		}
		rows.Close()
		rdb.Close()
		for id := range committed {
			if !stored[id] {
				t.Fatalf("round %d: message %d was committed but is gone", round, id)
			}
		}
	}
	t.Logf("%d committed messages checked after 50 kills in %v", len(committed), time.Since(start).Round(time.Millisecond))
	if len(committed) < 1000 {
		t.Errorf("only %d messages committed: the child barely ran", len(committed))
	}
}
