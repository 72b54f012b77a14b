package client_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/mam"
	"github.com/tern-im/tern/protocol/rsm"
	"github.com/tern-im/tern/protocol/sid"
	"github.com/tern-im/tern/protocol/stanza"
	"github.com/tern-im/tern/protocol/xmpptest"
	"github.com/tern-im/tern/storage/sqlite"
)

// BenchmarkSyncCatchup: the catch-up of 10,000 archived one-to-one
// messages (TERN_CATCHUP_N to change the number) from the harness Prosody —
// fetched, parsed, deduplicated and stored in a new SQLite store — against
// the raw rate at which the same server hands out the same pages to a
// client that only reads them, measured in the same iteration. Each
// iteration is one raw read and one engine catch-up; metrics:
// raw-msgs/s, msgs/s (the engine, end to end), ratio (engine/raw),
// catchup-s (the engine's time for all of them) and heap-growth-MB (the
// largest live heap during the catch-up minus before it).
//
// Two server set-ups: "file" is Prosody's default storage, which reads a
// user's whole archive file for every page (so a page costs O(archive));
// "sql" keeps archives in SQLite (mod_storage_sql), as large deployments do.
func BenchmarkSyncCatchup(b *testing.B) {
	n := 10000
	if v, err := strconv.Atoi(os.Getenv("TERN_CATCHUP_N")); err == nil && v > 0 {
		n = v
	}
	for _, sqlArchive := range []bool{false, true} {
		name := "file"
		if sqlArchive {
			name = "sql"
		}
		b.Run(name, func(b *testing.B) { benchCatchup(b, n, sqlArchive) })
	}
}

func benchCatchup(b *testing.B, n int, sqlArchive bool) {
	srv := xmpptest.StartProsody(b, xmpptest.Options{SQLArchive: sqlArchive})
	for _, u := range []string{"alice", "bob"} {
		srv.CreateAccount(b, u, password)
	}
	since := time.Now().UTC().Add(-time.Second)
	populateArchive(b, srv, n)

	var raw, engine time.Duration
	var growth uint64
	for i := range b.N {
		raw += rawArchiveRead(b, srv, since, n)
		d, g := engineCatchup(b, srv, since, n, i)
		engine += d
		growth = max(growth, g)
	}
	msgs := float64(n * b.N)
	b.ReportMetric(msgs/raw.Seconds(), "raw-msgs/s")
	b.ReportMetric(msgs/engine.Seconds(), "msgs/s")
	b.ReportMetric(raw.Seconds()/engine.Seconds(), "ratio")
	b.ReportMetric(engine.Seconds()/float64(b.N), "catchup-s")
	b.ReportMetric(float64(growth)/(1<<20), "heap-growth-MB")
}

// populateArchive has bob send n chat messages to alice while another
// device of alice's is online (so they are archived and delivered, not
// kept as offline messages that would be flooded at the next login), and
// waits until that device received them all.
func populateArchive(b *testing.B, srv *xmpptest.Server, n int) {
	b.Helper()
	keeper := mtDial(b, srv, "alice", "keeper")
	mtSend(b, keeper, `<presence/>`)
	bob := mtDial(b, srv, "bob", "b")
	to := jid.MustParse("alice@" + srv.Domain)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		for i := range n {
			id := sid.NewOriginID()
			el := xmlstream.New(stanza.NSClient, "message", "to", to.String(), "type", "chat", "id", id).Append(
				xmlstream.New(stanza.NSClient, "body").SetText(fmt.Sprintf("archived message %05d: a sentence of everyday length, about lunch", i)),
				sid.OriginID(id))
			if err := bob.Send(ctx, el); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	got := 0
	for got < n {
		select {
		case it, ok := <-keeper.Items():
			if !ok || it.Err != nil {
				b.Fatalf("keeper: connection lost after %d messages: %v", got, it.Err)
			}
			if it.Stanza != nil && it.Stanza.Name.Local == "message" && it.Stanza.Child(stanza.NSClient, "body") != nil {
				got++
			}
		case err := <-errc:
			if err != nil {
				b.Fatal(err)
			}
			errc = nil
		case <-ctx.Done():
			b.Fatalf("populating the archive: %d of %d delivered", got, n)
		}
	}
}

// rawArchiveRead pages forward through alice's archive from since with
// the server's page size, reading the results and doing nothing with
// them, and returns the time from the first query to the last page's end.
func rawArchiveRead(b *testing.B, srv *xmpptest.Server, since time.Time, n int) time.Duration {
	b.Helper()
	s := mtDial(b, srv, "alice", "raw")
	defer s.Close(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// Results come on the inbound queue; count them there.
	var mu sync.Mutex
	counts := map[string]int{}
	lastID := map[string]string{}
	arrived := make(chan struct{}, 1)
	var wg sync.WaitGroup
	wg.Go(func() {
		for it := range s.Items() {
			if it.Stanza == nil {
				continue
			}
			if r := it.Stanza.Child(mam.NS, "result"); r != nil {
				mu.Lock()
				counts[r.Get("queryid")]++
				lastID[r.Get("queryid")] = r.Get("id")
				mu.Unlock()
				select {
				case arrived <- struct{}{}:
				default:
				}
			}
		}
	})
	defer wg.Wait()
	defer s.Close(context.Background())
	start := time.Now()
	total, after := 0, ""
	for {
		// As the engine pages: from a time, then after the last result.
		q := mam.Query{QueryID: mam.NewQueryID(), Start: since, RSM: rsm.Set{Max: 50}}
		if after != "" {
			q = mam.Query{QueryID: mam.NewQueryID(), RSM: rsm.Set{Max: 50, After: after}}
		}
		res, err := s.SendIQ(ctx, q.Request(jid.JID{}))
		if err != nil {
			b.Fatal(err)
		}
		fin, err := mam.ParseFin(res)
		if err != nil {
			b.Fatal(err)
		}
		if fin.Set.Last != "" {
			// The page's results precede the IQ result on the wire but
			// reach us through the inbound queue: wait for all of them.
			for {
				mu.Lock()
				got, last := counts[q.QueryID], lastID[q.QueryID]
				mu.Unlock()
				if last == fin.Set.Last {
					total += got
					break
				}
				select {
				case <-arrived:
				case <-ctx.Done():
					b.Fatalf("raw read: page incomplete (%d results)", got)
				}
			}
		}
		if fin.Complete || fin.Set.Last == "" {
			break
		}
		after = fin.Set.Last
	}
	d := time.Since(start)
	if total != n {
		b.Fatalf("raw read: %d results, want %d", total, n)
	}
	return d
}

// engineCatchup runs a new device of alice's (a new store whose cursor
// says "caught up until since") and returns how long its catch-up took
// and how much the live heap grew during it.
func engineCatchup(b *testing.B, srv *xmpptest.Server, since time.Time, n, i int) (time.Duration, uint64) {
	b.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "catchup.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	own := jid.MustParse("alice@" + srv.Domain)
	var acct client.AccountID
	err = db.Update(ctx, func(tx client.Tx) error {
		if acct, err = tx.PutAccount(ctx, client.Account{JID: own, Enabled: true}); err != nil {
			return err
		}
		return tx.PutMAMCursor(ctx, acct, client.MAMCursor{Archive: own, NewestTime: since})
	})
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.HeapAlloc
	peak := before

	c := client.New(client.Config{Session: sessionConfig(srv, "alice", fmt.Sprintf("engine%d", i), srv.Addr()), Store: db, Account: acct})
	c.SetSyncOptions(client.SyncOptions{PageSize: 50})
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- c.Run(rctx) }()
	var sum client.CatchupDone
	timeout := time.After(5 * time.Minute)
wait:
	for {
		select {
		case ev := <-c.Events():
			switch e := ev.(type) {
			case client.CatchupProgress:
				if e.Fetched%1000 == 0 {
					runtime.ReadMemStats(&ms)
					peak = max(peak, ms.HeapAlloc)
				}
			case client.CatchupDone:
				sum = e
				break wait
			case client.Failed:
				b.Fatal(e.Err)
			}
		case <-timeout:
			b.Fatal("catch-up timed out")
		}
	}
	cancel()
	for range c.Events() {
	}
	<-done
	if sum.Err != nil || sum.New != n {
		b.Fatalf("catch-up: %+v, want %d new", sum, n)
	}
	return sum.Duration, peak - before
}
