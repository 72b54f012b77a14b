package sqlite_test

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/storage/sqlite"
)

// Benchmarks of the timeline, search and archive import on realistic
// histories (gen_test.go). The 1,000,000-message database takes a few
// minutes to generate; it is cached in os.TempDir() under a name keyed by
// the migrations' contents and the generator version, and reused by later
// runs.
// Delete tern-bench-*.db there to regenerate.

// genVersion changes whenever the generator does, invalidating the cache.
const genVersion = 1

const benchConversations = 1000

type benchHistory struct {
	path  string
	acct  client.AccountID
	me    string
	convs []client.ConversationID
	peers []string
	n     int
}

// benchDB returns a database holding n messages in benchConversations
// conversations, generating and caching it when needed.
func benchDB(b *testing.B, n int) *benchHistory {
	b.Helper()
	v, err := sqlite.SchemaFingerprint()
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(os.TempDir(), fmt.Sprintf("tern-bench-%s-g%d-%d.db", v, genVersion, n))
	h := &benchHistory{path: path, me: "me@example.org", n: n}
	if _, err := os.Stat(path + ".done"); err != nil {
		b.Logf("generating %d messages into %s (cached for later runs)", n, path)
		for _, suffix := range []string{"", "-wal", "-shm", ".done"} {
			os.Remove(path + suffix)
		}
		start := time.Now()
		generate(b, path, n)
		if err := os.WriteFile(path+".done", nil, 0o600); err != nil {
			b.Fatal(err)
		}
		b.Logf("generated in %v", time.Since(start).Round(time.Second))
	}
	db := openAt(b, path, sqlite.Options{})
	defer db.Close()
	err = db.View(b.Context(), func(tx client.Tx) error {
		as, err := tx.Accounts(b.Context())
		if err != nil || len(as) != 1 {
			return fmt.Errorf("accounts %v: %w", as, err)
		}
		h.acct = as[0].ID
		cs, err := tx.Conversations(b.Context(), h.acct)
		for _, c := range cs {
			h.convs = append(h.convs, c.ID)
			h.peers = append(h.peers, c.Peer.String())
		}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return h
}

// fill adds conversations for benchConversations peers to a database.
func (h *benchHistory) fill(b *testing.B, db *sqlite.DB) {
	err := db.Update(b.Context(), func(tx client.Tx) error {
		var err error
		h.acct, err = tx.PutAccount(b.Context(), client.Account{JID: jid.MustParse(h.me), Enabled: true})
		if err != nil {
			return err
		}
		for i := range benchConversations {
			p := fmt.Sprintf("contact%04d@example.net", i)
			c, err := tx.EnsureConversation(b.Context(), h.acct, jid.MustParse(p), client.KindChat)
			if err != nil {
				return err
			}
			h.convs, h.peers = append(h.convs, c), append(h.peers, p)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

func generate(b *testing.B, path string, n int) {
	tmp := path + ".tmp"
	for _, suffix := range []string{"", "-wal", "-shm", ".lock"} {
		os.Remove(tmp + suffix)
	}
	db, err := sqlite.Open(b.Context(), tmp, sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	h := &benchHistory{me: "me@example.org"}
	h.fill(b, db)
	g := newGenerator(1, benchConversations)
	last := time.Now()
	for done := 0; done < n; {
		page := g.page(h.me, h.convs, h.peers, min(100, n-done))
		if _, err := db.InsertMessages(b.Context(), page); err != nil {
			b.Fatal(err)
		}
		done += len(page)
		if time.Since(last) > 10*time.Second {
			b.Logf("%d messages", done)
			last = time.Now()
		}
	}
	// Read every conversation up to its newest message, as a user who
	// keeps up would have; a few stay unread.
	err = db.Update(b.Context(), func(tx client.Tx) error {
		for _, c := range h.convs {
			p, err := tx.LatestPage(b.Context(), c, 1)
			if err != nil {
				return err
			}
			if len(p) > 0 {
				if err := tx.SetLastRead(b.Context(), c, p[0].ID); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		b.Fatal(err)
	}
	os.Remove(tmp + ".lock")
}

// anchor is a message and its conversation.
type anchor struct {
	conv client.ConversationID
	msg  client.MessageID
}

// anchors returns k random messages that have at least 50 older ones in
// their conversation: conversations are picked by activity, like the ones
// a user opens, and every page read is a full one.
func (h *benchHistory) anchors(b *testing.B, db *sqlite.DB, k int) []anchor {
	r := rand.New(rand.NewPCG(7, 7))
	var out []anchor
	for tries := 0; len(out) < k; tries++ {
		if tries > 100*k {
			b.Fatalf("only %d of %d messages with 50 older ones found", len(out), k)
		}
		m, err := db.Message(b.Context(), client.MessageID(1+r.IntN(h.n)))
		if err != nil {
			b.Fatal(err)
		}
		if m.Replaces != 0 {
			continue
		}
		p, err := db.PageBefore(b.Context(), m.Conversation, m.ID, 50)
		if err != nil {
			b.Fatal(err)
		}
		if len(p) == 50 {
			out = append(out, anchor{m.Conversation, m.ID})
		}
	}
	return out
}

// reportCPU reports the process's CPU time per operation since cpu0: on a
// shared machine it varies less than the wall-clock time.
func reportCPU(b *testing.B, cpu0 time.Duration) {
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
	}
}

func fileSize(path string) int64 {
	var total int64
	for _, s := range []string{"", "-wal"} {
		if fi, err := os.Stat(path + s); err == nil {
			total += fi.Size()
		}
	}
	return total
}

var histories = []struct {
	name string
	n    int
}{{"1k", 1_000}, {"1M", 1_000_000}}

// BenchmarkLatestPage opens conversations: the newest 50 messages of the
// conversation of a random message.
func BenchmarkLatestPage(b *testing.B) {
	for _, hs := range histories {
		b.Run(hs.name, func(b *testing.B) {
			h := benchDB(b, hs.n)
			db := openAt(b, h.path, sqlite.Options{})
			as := h.anchors(b, db, 500)
			b.ReportMetric(float64(fileSize(h.path))/float64(h.n), "dbB/msg")
			i := 0
			cpu := cpuTime()
			for b.Loop() {
				p, err := db.LatestPage(b.Context(), as[i%len(as)].conv, 50)
				if err != nil || len(p) != 50 {
					b.Fatal(len(p), err)
				}
				i++
			}
			reportCPU(b, cpu)
		})
	}
}

// BenchmarkPageBefore scrolls back: the 50 messages before a random
// message of the history.
func BenchmarkPageBefore(b *testing.B) {
	for _, hs := range histories {
		b.Run(hs.name, func(b *testing.B) {
			h := benchDB(b, hs.n)
			db := openAt(b, h.path, sqlite.Options{})
			as := h.anchors(b, db, 500)
			i := 0
			cpu := cpuTime()
			for b.Loop() {
				a := as[i%len(as)]
				if p, err := db.PageBefore(b.Context(), a.conv, a.msg, 50); err != nil || len(p) != 50 {
					b.Fatal(len(p), err)
				}
				i++
			}
			reportCPU(b, cpu)
		})
	}
}

// BenchmarkSearch runs full-text queries for the top 50 hits on the
// 1,000,000-message history, from rare words to the most common ones.
func BenchmarkSearch(b *testing.B) {
	h := benchDB(b, 1_000_000)
	db := openAt(b, h.path, sqlite.Options{})
	for _, q := range []string{"lisbon", "coffee", "meeting", "tomorrow", "thanks", "good", "the", "you", "cafe", "dinner tomorrow", "tom*", "w1f3a"} {
		b.Run(q, func(b *testing.B) {
			var hits int
			cpu := cpuTime()
			for b.Loop() {
				res, err := db.Search(b.Context(), h.acct, q, 50)
				if err != nil {
					b.Fatal(err)
				}
				hits = len(res)
			}
			reportCPU(b, cpu)
			b.ReportMetric(float64(hits), "hits")
		})
	}
}

// BenchmarkInsertMessages imports archive pages of 100 messages, 10 of
// which were already stored (overlap between live traffic and catch-up),
// into a new database and into a copy of the 1,000,000-message one. One op
// is one page. The sub-benchmarks commit every page on its own (tx1, as a
// live page or the sync engine's first page), or N pages per transaction
// (txN: N InsertMessages calls in one transaction, as the sync engine does
// during catch-up; callN: the N pages concatenated into one call).
func BenchmarkInsertMessages(b *testing.B) {
	for _, target := range []string{"new", "1M"} {
		for _, mode := range []struct {
			name    string
			perTx   int
			oneCall bool
		}{{"tx1", 1, false}, {"tx10", 10, false}, {"call10", 10, true}} {
			b.Run(target+"/"+mode.name, func(b *testing.B) {
				benchInsert(b, target, mode.perTx, mode.oneCall)
			})
		}
	}
}

func benchInsert(b *testing.B, target string, perTx int, oneCall bool) {
	path := filepath.Join(b.TempDir(), "tern.db")
	h := &benchHistory{me: "me@example.org"}
	if target == "1M" {
		src := benchDB(b, 1_000_000)
		copyFile(b, src.path, path)
		h = src
		h.path = path
	}
	db := openAt(b, path, sqlite.Options{})
	if target == "new" {
		h.fill(b, db)
	}
	g := newGenerator(uint64(time.Now().UnixNano()), benchConversations)
	g.now = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	// Pages are made before the clock starts: page i has 90 new messages
	// and 10 of page i-1 again.
	pages := make([][]client.Message, b.N+1)
	pages[0] = g.page(h.me, h.convs, h.peers, 100)
	for i := 1; i <= b.N; i++ {
		p := append(g.page(h.me, h.convs, h.peers, 90), pages[i-1][:10]...)
		rand.Shuffle(len(p), func(i, j int) { p[i], p[j] = p[j], p[i] })
		pages[i] = p
	}
	if _, err := db.InsertMessages(b.Context(), pages[0]); err != nil {
		b.Fatal(err)
	}
	msgs, dups := 0, 0
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 1; i <= b.N; i += perTx {
		batch := pages[i:min(i+perTx, b.N+1)]
		if oneCall {
			batch = [][]client.Message{slices.Concat(batch...)}
		}
		err := db.Update(b.Context(), func(tx client.Tx) error {
			for _, p := range batch {
				res, err := tx.InsertMessages(b.Context(), p)
				if err != nil {
					return err
				}
				for _, r := range res {
					if r.Duplicate {
						dups++
					}
				}
				msgs += len(p)
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	cpu := cpuTime() - cpu0
	if dups != 10*b.N {
		b.Fatalf("%d duplicates detected in %d pages, want %d", dups, b.N, 10*b.N)
	}
	b.ReportMetric(float64(msgs)/b.Elapsed().Seconds(), "msgs/s")
	if cpu > 0 {
		b.ReportMetric(float64(msgs)/cpu.Seconds(), "msgs/cpu-s")
	}
}

func copyFile(b *testing.B, src, dst string) {
	in, err := os.Open(src)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		b.Fatal(err)
	}
	if err := out.Close(); err != nil {
		b.Fatal(err)
	}
}
