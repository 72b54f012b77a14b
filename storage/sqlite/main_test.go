package sqlite_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/storage/sqlite"
	"testing"
)

// The tests re-execute their own binary as a second process: to hold the
// database while the test opens it (TestLockedByAnotherProcess), and to be
// killed while writing (TestSurvivesSIGKILL). TERN_SQLITE_CHILD selects
// the role and TERN_SQLITE_PATH the database.
const (
	childEnv = "TERN_SQLITE_CHILD"
	pathEnv  = "TERN_SQLITE_PATH"
	seedEnv  = "TERN_SQLITE_SEED"
)

func TestMain(m *testing.M) {
	switch os.Getenv(childEnv) {
	case "":
		os.Exit(m.Run())
	case "hold":
		os.Exit(childHold(os.Getenv(pathEnv)))
	case "crash":
		seed, _ := strconv.ParseUint(os.Getenv(seedEnv), 10, 64)
		os.Exit(childWrite(os.Getenv(pathEnv), seed))
	default:
		fmt.Fprintln(os.Stderr, "unknown child role")
		os.Exit(2)
	}
}

// childSetup opens the database and returns the test account's
// conversation, creating both on first use.
func childSetup(ctx context.Context, path string) (*sqlite.DB, client.AccountID, client.ConversationID, error) {
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		return nil, 0, 0, err
	}
	var conv client.ConversationID
	var acct client.AccountID
	err = db.Update(ctx, func(tx client.Tx) error {
		as, err := tx.Accounts(ctx)
		if err != nil {
			return err
		}
		if len(as) > 0 {
			acct = as[0].ID
		} else if acct, err = tx.PutAccount(ctx, client.Account{JID: jid.MustParse("child@example.org")}); err != nil {
			return err
		}
		conv, err = tx.EnsureConversation(ctx, acct, jid.MustParse("peer@example.org"), client.KindChat)
		return err
	})
	if err != nil {
		db.Close()
		return nil, 0, 0, err
	}
	return db, acct, conv, nil
}

// childHold opens the database, says "ready", then stores a message for
// every "write" line on stdin (answering "ok ID"), until stdin closes.
func childHold(path string) int {
	ctx := context.Background()
	db, _, conv, err := childSetup(ctx, path)
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	defer db.Close()
	fmt.Println("ready")
	in := bufio.NewScanner(os.Stdin)
	for n := 0; in.Scan(); n++ {
		res, err := db.InsertMessages(ctx, []client.Message{{
			Conversation: conv, Direction: client.Inbound, Type: client.TypeChat,
			Sender: "peer@example.org", OriginID: fmt.Sprintf("hold-%d-%d", os.Getpid(), n),
			Received: time.Now(), Body: "written while another process tried to open the database",
		}})
		if err != nil {
			fmt.Println("error:", err)
			return 1
		}
		fmt.Println("ok", res[0].ID)
	}
	return 0
}

// childWrite writes messages until it is killed, printing "id N" after the
// commit of each stored message N has returned. It mixes batch inserts,
// single inserts with an outbox item, state changes and deletions.
func childWrite(path string, seed uint64) int {
	ctx := context.Background()
	db, acct, conv, err := childSetup(ctx, path)
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	defer db.Close()
	out := bufio.NewWriter(os.Stdout)
	for n := 0; ; n++ {
		var committed []client.MessageID
		mk := func(i int) client.Message {
			origin := fmt.Sprintf("crash-%d-%d-%d", seed, n, i)
			return client.Message{
				Conversation: conv, Direction: client.Inbound, Type: client.TypeChat,
				Sender: "peer@example.org", OriginID: origin, XMLID: origin,
				StanzaIDs: []client.StanzaID{{Archive: jid.MustParse("child@example.org"), ID: "s-" + origin}},
				Received:  time.Now(), Body: fmt.Sprintf("message %d of batch %d, run %d: the quick brown fox", i, n, seed),
			}
		}
		switch n % 3 {
		case 0, 1: // an archive page
			batch := make([]client.Message, 1+(n*7+int(seed))%60)
			for i := range batch {
				batch[i] = mk(i)
			}
			res, err := db.InsertMessages(ctx, batch)
			if err != nil {
				fmt.Println("error:", err)
				return 1
			}
			for _, r := range res {
				committed = append(committed, r.ID)
			}
		case 2: // an outbound message through the outbox, then sent
			m := mk(0)
			m.Direction, m.Sender, m.State = client.Outbound, "child@example.org", client.StatePending
			err := db.Update(ctx, func(tx client.Tx) error {
				res, err := tx.InsertMessages(ctx, []client.Message{m})
				if err != nil {
					return err
				}
				if _, err := tx.Enqueue(ctx, client.OutboxItem{Account: acct, Message: res[0].ID}); err != nil {
					return err
				}
				if _, err := tx.SetState(ctx, res[0].ID, client.StateSent, ""); err != nil {
					return err
				}
				committed = append(committed, res[0].ID)
				return nil
			})
			if err != nil {
				fmt.Println("error:", err)
				return 1
			}
		}
		for _, id := range committed {
			fmt.Fprintf(out, "id %d\n", id)
		}
		out.Flush()
	}
}
