package chat_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/tern-im/tern/app/chat"
	"github.com/tern-im/tern/app/model"
	"github.com/tern-im/tern/app/widgets"
	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/storage/sqlite"
)

// Benchmarks of the UI budgets (issue 7, "Performance"): the
// contact filter over 5,000 conversations (≤ 30 ms), opening the latest
// page of a conversation with 100,000 stored messages in a real SQLite
// database (≤ 50 ms), and the cost of a timeline frame while scrolling
// (≤ 16 ms). They run headless (fyne.io/fyne/v2/test, software text
// measurement), so they measure the work Tern does, not GPU drawing.

// conversations returns n list rows.
func conversations(b *testing.B, n int) []model.Conversation {
	out := make([]model.Conversation, n)
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := range out {
		j, err := jid.Parse(fmt.Sprintf("contact%04d@example%d.org", i, i%37))
		if err != nil {
			b.Fatal(err)
		}
		out[i] = model.Conversation{ID: client.ConversationID(i + 1), Account: 1, Peer: j, Name: j.String(),
			LastActivity: t0.Add(-time.Duration(i) * time.Minute), Preview: fmt.Sprintf("message number %d about things", i)}
	}
	return out
}

// BenchmarkFilter5000 is the filter box answering one keystroke over 5,000
// conversations: filtering and refreshing the list widget.
func BenchmarkFilter5000(b *testing.B) {
	test.NewTempApp(b)
	l := chat.NewList()
	w := test.NewTempWindow(b, l.Content())
	w.Resize(fyne.NewSize(320, 800))
	l.Set(conversations(b, 5000))
	queries := []string{"contact12", "example3", "number 4", "zzz", ""}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		l.Filter().SetText(queries[i%len(queries)])
	}
}

// BenchmarkFilterModel5000 is the filter alone.
func BenchmarkFilterModel5000(b *testing.B) {
	cs := conversations(b, 5000)
	for b.Loop() {
		model.Filter(cs, "Contact12")
	}
}

// history100k returns a database holding one conversation of 100,000
// messages (in a temporary directory).
func history100k(b *testing.B) (*sqlite.DB, client.ConversationID) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, b.TempDir()+"/tern.db", sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	me, _ := jid.Parse("romeo@montague.lit")
	peer, _ := jid.Parse("juliet@capulet.lit")
	var conv client.ConversationID
	err = db.Update(ctx, func(tx client.Tx) error {
		acct, err := tx.PutAccount(ctx, client.Account{JID: me, Enabled: true})
		if err != nil {
			return err
		}
		conv, err = tx.EnsureConversation(ctx, acct, peer, client.KindChat)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Date(2024, 1, 1, 8, 0, 0, 0, time.UTC)
	words := strings.Fields("wherefore art thou romeo deny thy father and refuse thy name or if thou wilt not be but sworn my love")
	const total, batch = 100_000, 10_000
	for start := 0; start < total; start += batch {
		msgs := make([]client.Message, 0, batch)
		for i := start; i < start+batch; i++ {
			dir, sender := client.Inbound, peer.String()
			if i%3 == 0 {
				dir, sender = client.Outbound, me.String()
			}
			n := 3 + i%17
			body := strings.Join(words[i%5:min(len(words), i%5+n)], " ")
			if i%11 == 0 {
				body = "*" + body + "* see https://example.org/" + fmt.Sprint(i)
			}
			m := client.Message{Conversation: conv, Direction: dir, Type: client.TypeChat, Sender: sender,
				OriginID: fmt.Sprintf("o%d", i), Body: body, Sent: t0.Add(time.Duration(i) * 37 * time.Second)}
			if dir == client.Outbound {
				m.State = client.StateRead
			}
			msgs = append(msgs, m)
		}
		if _, err := db.InsertMessages(ctx, msgs); err != nil {
			b.Fatal(err)
		}
	}
	return db, conv
}

// BenchmarkOpenLatestPage100k is opening a conversation of 100,000 stored
// messages: the model reads the latest page from SQLite, the view builds
// and measures its rows and lays out the visible ones.
func BenchmarkOpenLatestPage100k(b *testing.B) {
	test.NewTempApp(b)
	db, conv := history100k(b)
	ctx := context.Background()
	tasks := chat.NewTasks(ctx)
	v := chat.NewView(tasks, func(client.AccountID) model.Engine { return nil }, func(client.AccountID) string { return "You" })
	w := test.NewTempWindow(b, v.Content())
	w.Resize(fyne.NewSize(700, 700))
	for b.Loop() {
		m := model.New(db)
		t, err := m.Open(ctx, conv)
		if err != nil || len(t.Messages) != model.PageSize {
			b.Fatalf("open: %d messages, %v", len(t.Messages), err)
		}
		v.Show(t)
		v.Show(model.Timeline{}) // the next open is a switch again
	}
}

// BenchmarkScrollFrame is one frame of scrolling through a loaded
// timeline of 5,000 messages: the list moves by 120 px and updates the
// rows that came into view.
func BenchmarkScrollFrame(b *testing.B) {
	test.NewTempApp(b)
	ctx := context.Background()
	tasks := chat.NewTasks(ctx)
	v := chat.NewView(tasks, func(client.AccountID) model.Engine { return nil }, func(client.AccountID) string { return "You" })
	w := test.NewTempWindow(b, v.Content())
	w.Resize(fyne.NewSize(700, 700))
	t0 := time.Date(2024, 1, 1, 8, 0, 0, 0, time.UTC)
	var msgs []client.Message
	for i := range 5000 {
		dir := client.Inbound
		if i%3 == 0 {
			dir = client.Outbound
		}
		msgs = append(msgs, client.Message{ID: client.MessageID(i + 1), Conversation: 1, Direction: dir, Sender: "x",
			Body: strings.Repeat("*styled* text with a https://example.org/link ", 1+i%4), Time: t0.Add(time.Duration(i) * time.Minute)})
	}
	v.Show(model.Timeline{Conversation: 1, Messages: msgs})
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		v.ScrollTo(float32(i%2000) * 120)
	}
}

// BenchmarkMessageRowSet is the cost of showing one message in a recycled
// row (styling, wrapping, layout).
func BenchmarkMessageRowSet(b *testing.B) {
	test.NewTempApp(b)
	r := widgets.NewMessageRow()
	test.NewTempWindow(b, r)
	row := widgets.Row{Message: client.Message{ID: 1, Direction: client.Inbound,
		Body: "Hi *there*, see https://tern.im/docs and `code` — _really_ ~not~ now. " + strings.Repeat("word ", 20)}, Time: "09:41", Sender: "juliet"}
	// Two messages in turn: Set skips a row it shows already.
	other := row
	other.Message.ID = 2
	rows := []widgets.Row{row, other}
	for i := 0; b.Loop(); i++ {
		r.Set(rows[i%2], 600)
		r.Resize(r.MinSize())
	}
}

// BenchmarkLiveMessage is a live message arriving in an open timeline
// whose loaded window holds 200, 5,000 or 20,000 messages (the user
// scrolled far back): only the new row is built, measured and drawn. The
// snapshots are made as the model makes them: appended to the array of
// the one before, clipped.
func BenchmarkLiveMessage(b *testing.B) {
	for _, n := range []int{200, 5000, 20000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) { benchLiveMessage(b, n) })
	}
}

// loadedView returns a view showing a timeline of n inbound messages, a
// minute apart (every other one ours when own is set), and its messages.
func loadedView(b *testing.B, n int, own bool) (*chat.View, []client.Message) {
	test.NewTempApp(b)
	tasks := chat.NewTasks(context.Background())
	v := chat.NewView(tasks, func(client.AccountID) model.Engine { return nil }, func(client.AccountID) string { return "You" })
	w := test.NewTempWindow(b, v.Content())
	w.Resize(fyne.NewSize(700, 700))
	t0 := time.Date(2024, 1, 1, 8, 0, 0, 0, time.UTC)
	var msgs []client.Message
	for i := range n {
		m := client.Message{ID: client.MessageID(i + 1), Conversation: 1, Direction: client.Inbound, Sender: "x",
			Body: "a message of some words " + fmt.Sprint(i), Time: t0.Add(time.Duration(i) * time.Minute)}
		if own && i%2 == 0 {
			m.Direction, m.Sender, m.State = client.Outbound, "me", client.StateSent
		}
		msgs = append(msgs, m)
	}
	v.Show(model.Timeline{Conversation: 1, Messages: slices.Clip(msgs)})
	// Collect the garbage of measuring every row now, not in the loop.
	runtime.GC()
	return v, msgs
}

func benchLiveMessage(b *testing.B, n int) {
	v, msgs := loadedView(b, n, false)
	t0 := msgs[n-1].Time
	for i := 0; b.Loop(); i++ {
		m := client.Message{ID: client.MessageID(100_000 + i), Conversation: 1, Direction: client.Inbound, Sender: "x",
			Body: "live " + fmt.Sprint(i), Time: t0.Add(time.Duration(1+i) * time.Minute)}
		msgs = append(msgs, m)
		v.Show(model.Timeline{Conversation: 1, Messages: slices.Clip(msgs)})
	}
}

// BenchmarkStatusChange is the delivery state of one of our messages
// changing in an open timeline of 5,000 messages: the model hands a copy
// of the window with the message replaced; one row is built again.
func BenchmarkStatusChange(b *testing.B) {
	v, msgs := loadedView(b, 5000, true)
	for i := 0; b.Loop(); i++ {
		next := slices.Clone(msgs)
		j := len(next) - 2*(1+i%100)
		next[j].State = client.StateDelivered + client.DeliveryState(i%2)
		msgs = next
		v.Show(model.Timeline{Conversation: 1, Messages: msgs})
	}
}
