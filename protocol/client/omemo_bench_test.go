package client_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/xmpptest"
)

// BenchmarkOMEMOCatchup measures the archive catch-up of a device that
// was offline while N messages arrived (N from $TERN_BENCH_CATCHUP,
// default 10,000), OMEMO encrypted and in plaintext, through a real
// Prosody: the catch-up's own duration (CatchupDone.Duration: fetching
// the pages, and per message the inbound transaction that decrypts and
// stores it), reported per message. Run it with -benchtime=1x:
//
//	go test ./protocol/client/ -run '^$' -bench OMEMOCatchup -benchtime=1x
//
// TERN_BENCH_ARCHIVE=sql keeps Prosody's archives in SQLite
// (xmpptest.Options.SQLArchive) instead of its default file storage, whose
// cost per page grows with the archive.
func BenchmarkOMEMOCatchup(b *testing.B) {
	sqlArchive := os.Getenv("TERN_BENCH_ARCHIVE") == "sql"
	n := 10000
	if s := os.Getenv("TERN_BENCH_CATCHUP"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			b.Fatalf("TERN_BENCH_CATCHUP=%q: want a positive number", s)
		}
		n = v
	}
	for _, mode := range []string{"plaintext", "omemo"} {
		b.Run(mode, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				srv := xmpptest.StartProsody(b, xmpptest.Options{SQLArchive: sqlArchive})
				for _, u := range []string{"alice", "bob"} {
					srv.CreateAccount(b, u, password)
				}
				bob := jid.MustParse("bob@" + srv.Domain)
				alice := omOpen(b, srv, "alice", "sender")
				b1 := omOpen(b, srv, "bob", "catcher")
				// bob's other client is online, so the server delivers to it
				// and keeps nothing offline for b1: b1 has only the archive.
				b2 := omOpen(b, srv, "bob", "online")
				b2.noE2EE = true
				b1.waitTimeout = 30 * time.Minute
				b1.start()
				b1.stop()
				b2.start()
				alice.start()
				ctx := context.Background()
				if mode == "plaintext" {
					if err := alice.c.SetConversationEncryption(ctx, bob, client.EncryptionDisabled); err != nil {
						b.Fatal(err)
					}
				}
				var last client.MessageID
				for k := range n {
					id, err := alice.c.SendMessage(ctx, bob, fmt.Sprintf("message %05d of the benchmark", k), client.SendOptions{})
					if err != nil {
						b.Fatal(err)
					}
					last = id
				}
				omWait(alice, "the last message acknowledged", func(u client.MessageUpdated) bool {
					return u.ID == last && u.State >= client.StateSent && u.State != client.StateFailed
				})
				if m := alice.message(last); (m.Encryption == client.EncryptionOMEMO) != (mode == "omemo") {
					b.Fatalf("the last message went with encryption %d", m.Encryption)
				}
				b1.start()
				done := omWait(b1, "catch-up", func(client.CatchupDone) bool { return true })
				if done.Err != nil || done.New != n {
					b.Fatalf("catch-up: %+v, want %d new", done, n)
				}
				msgs := b1.messages(jid.MustParse("alice@" + srv.Domain))
				if len(msgs) != min(n, 1000) || msgs[len(msgs)-1].Text() != fmt.Sprintf("message %05d of the benchmark", n-1) ||
					(msgs[0].Encryption == client.EncryptionOMEMO) != (mode == "omemo") {
					b.Fatalf("bob/catcher's newest messages: %d, the last %+v", len(msgs), msgs[len(msgs)-1])
				}
				b.ReportMetric(float64(done.Duration.Microseconds())/float64(n), "µs/msg")
				b.ReportMetric(done.Duration.Seconds(), "s/catchup")
				b1.stop()
				b2.stop()
				alice.stop()
			}
		})
	}
}
