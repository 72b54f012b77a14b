package chat_test

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"github.com/tern-im/tern/app/chat"
	"github.com/tern-im/tern/app/model"
	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
)

func TestDayText(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.Local)
	for _, tc := range []struct {
		t    time.Time
		want string
	}{
		{now.Add(-time.Hour), "Today"},
		{now.AddDate(0, 0, -1), "Yesterday"},
		{time.Date(2025, 1, 6, 9, 0, 0, 0, time.Local), "Monday, 6 January"},
		{time.Date(2024, 12, 31, 9, 0, 0, 0, time.Local), "31 December 2024"},
	} {
		if got := chat.DayText(tc.t, now); got != tc.want {
			t.Errorf("DayText(%v) = %q, want %q", tc.t, got, tc.want)
		}
	}
}

func TestRowsGroupBySenderAndGap(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.Local)
	at := func(min int) time.Time { return now.Add(time.Duration(min) * time.Minute) }
	in := func(id, min int) client.Message {
		return client.Message{ID: client.MessageID(id), Direction: client.Inbound, Sender: "juliet@capulet.lit", Time: at(min)}
	}
	out := func(id, min int) client.Message {
		return client.Message{ID: client.MessageID(id), Direction: client.Outbound, Sender: "romeo@montague.lit", Time: at(min)}
	}
	tl := model.Timeline{Messages: []client.Message{in(1, -60), in(2, -59), out(3, -58), out(4, -40), in(5, -39)}}
	rows := chat.Rows(tl, "You", now)
	want := []string{"juliet@capulet.lit", "", "You", "You", "juliet@capulet.lit"}
	for i, r := range rows {
		if r.Sender != want[i] {
			t.Errorf("row %d sender = %q, want %q", i, r.Sender, want[i])
		}
	}
	if rows[0].Day != "Today" || rows[1].Day != "" {
		t.Errorf("days = %q %q", rows[0].Day, rows[1].Day)
	}
}

// clickTarget returns the object a mouse click at pos (absolute) on the
// canvas lands on in the real (GLFW) driver: the last visible object under
// pos, in drawing order, that takes any tap, the focus or mouse buttons.
// The test driver's TapCanvas only looks for fyne.Tappable, so it cannot
// show a row whose secondary-tap handler swallows the primary click.
func clickTarget(t *testing.T, c fyne.Canvas, pos fyne.Position) fyne.CanvasObject {
	t.Helper()
	var found fyne.CanvasObject
	var walk func(o fyne.CanvasObject, off fyne.Position)
	walk = func(o fyne.CanvasObject, off fyne.Position) {
		if !o.Visible() {
			return
		}
		p, s := off.Add(o.Position()), o.Size()
		if pos.X < p.X || pos.Y < p.Y || pos.X >= p.X+s.Width || pos.Y >= p.Y+s.Height {
			return
		}
		switch o.(type) {
		case fyne.Tappable, fyne.SecondaryTappable, fyne.DoubleTappable, fyne.Focusable, desktop.Mouseable:
			found = o
		}
		var children []fyne.CanvasObject
		switch v := o.(type) {
		case fyne.Widget:
			children = test.TempWidgetRenderer(t, v).Objects()
		case *fyne.Container:
			children = v.Objects
		}
		for _, ch := range children {
			walk(ch, p)
		}
	}
	if top := c.Overlays().Top(); top != nil {
		walk(top, fyne.Position{})
	} else {
		walk(c.Content(), fyne.Position{})
	}
	return found
}

// TestListRowClickOpens clicks a conversation as the real driver does:
// the click must reach a Tappable that selects the row.
func TestListRowClickOpens(t *testing.T) {
	test.NewTempApp(t)
	l := chat.NewList()
	var opened []client.ConversationID
	l.OnSelected = func(c model.Conversation) { opened = append(opened, c.ID) }
	w := test.NewTempWindow(t, l.Content())
	w.Resize(fyne.NewSize(320, 400))
	l.Set([]model.Conversation{
		{ID: 7, Account: 1, Peer: jid.MustParse("bob@example.org"), Name: "bob@example.org", Unread: 1, Preview: "Hello"},
		{ID: 8, Account: 1, Peer: jid.MustParse("carol@example.org"), Name: "carol@example.org"},
	})
	// Below the filter box: the first row, then the second.
	filter := l.FilterBox().(fyne.CanvasObject)
	d := fyne.CurrentApp().Driver()
	below := d.AbsolutePositionForObject(filter).Y + filter.Size().Height
	for i, want := range []client.ConversationID{7, 8} {
		pos := fyne.NewPos(60, below+theme.Padding()*2+float32(i)*60+20)
		target := clickTarget(t, w.Canvas(), pos)
		tap, ok := target.(fyne.Tappable)
		if !ok {
			t.Fatalf("a click at %v lands on %T, which is not Tappable", pos, target)
		}
		tap.Tapped(&fyne.PointEvent{AbsolutePosition: pos})
		if len(opened) != i+1 || opened[i] != want {
			t.Fatalf("after clicking row %d, opened %v; want conversation %d last", i, opened, want)
		}
	}
}

// rowsView returns a headless chat view laid out at a fixed time.
func rowsView(t *testing.T, now time.Time) *chat.View {
	t.Helper()
	test.NewTempApp(t)
	v := chat.NewView(chat.NewTasks(t.Context()), func(client.AccountID) model.Engine { return nil },
		func(client.AccountID) string { return "You" })
	v.Now = func() time.Time { return now }
	w := test.NewTempWindow(t, v.Content())
	w.Resize(fyne.NewSize(600, 500))
	return v
}

// checkRows shows tl and checks that the view's rows, built incrementally
// from the snapshot before, are those a full rebuild makes.
func checkRows(t *testing.T, v *chat.View, tl model.Timeline, now time.Time, step string) {
	t.Helper()
	v.Show(tl)
	got, want := v.Rows(), chat.Rows(tl, "You", now)
	if len(got) != len(want) {
		t.Fatalf("%s: %d rows, want %d", step, len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("%s: row %d (message %d) is\n%+v\nwant\n%+v", step, i, want[i].Message.ID, got[i], want[i])
		}
	}
}

// TestIncrementalRowsMatchRebuild changes an open timeline as the model
// does (live messages appended to the array of the snapshot before,
// changed messages in a copy, older pages prepended) and checks after
// each change that the rows the view updated are those a full rebuild
// makes: day separators, grouping by sender, delivery states,
// corrections, retractions, quoted replies.
func TestIncrementalRowsMatchRebuild(t *testing.T) {
	now := time.Date(2025, 3, 2, 12, 0, 0, 0, time.Local)
	v := rowsView(t, now)
	day1 := time.Date(2025, 3, 1, 22, 0, 0, 0, time.Local)
	next := client.MessageID(100)
	msg := func(dir client.Direction, at time.Time, body string) client.Message {
		next++
		m := client.Message{ID: next, Conversation: 1, Direction: dir, Sender: "juliet@capulet.lit", Time: at, Body: body,
			OriginID: fmt.Sprintf("o%d", next)}
		if dir == client.Outbound {
			m.Sender, m.State = "romeo@montague.lit", client.StateSent
		}
		return m
	}
	var msgs []client.Message
	for i := range 6 {
		dir := client.Inbound
		if i%3 == 2 {
			dir = client.Outbound
		}
		msgs = append(msgs, msg(dir, day1.Add(time.Duration(i)*time.Minute), fmt.Sprint("message ", i)))
	}
	msgs[3].ReplyTo = client.Reply{ID: msgs[1].OriginID}
	msgs[4].ReplyTo = client.Reply{ID: "earlier"}
	tl := model.Timeline{Conversation: 1, Account: 1, Peer: jid.MustParse("juliet@capulet.lit"), HasOlder: true}
	show := func(step string) {
		t.Helper()
		tl.Messages = slices.Clip(msgs)
		checkRows(t, v, tl, now, step)
	}
	show("open")
	// Live messages, appended to the array of the snapshot before.
	msgs = slices.Grow(msgs, 16)
	last := msgs[len(msgs)-1].Time
	msgs = append(msgs, msg(client.Outbound, last.Add(time.Minute), "same sender as the one before"))
	show("append, same sender")
	msgs = append(msgs, msg(client.Outbound, last.Add(2*time.Minute), "grouped"))
	show("append, grouped")
	msgs = append(msgs, msg(client.Outbound, last.Add(20*time.Minute), "after a gap"))
	show("append after the group gap")
	msgs = append(msgs, msg(client.Inbound, last.Add(3*time.Hour), "the next day"))
	show("append across a day boundary")
	msgs = append(msgs, msg(client.Inbound, last.Add(3*time.Hour+time.Minute), "grouped the next day"),
		msg(client.Outbound, last.Add(3*time.Hour+2*time.Minute), "two at once"))
	show("append two")

	// Changes in place, in a copy of the window.
	change := func(step string, i int, f func(m *client.Message)) {
		t.Helper()
		msgs = slices.Clone(msgs)
		f(&msgs[i])
		show(step)
	}
	change("delivered", 7, func(m *client.Message) { m.State = client.StateDelivered })
	change("read", 7, func(m *client.Message) { m.State = client.StateRead })
	change("failed", 8, func(m *client.Message) { m.State, m.Failure = client.StateFailed, "service-unavailable" })
	change("correction of a quoted message", 1, func(m *client.Message) {
		m.LastCorrection = &client.Correction{Body: "corrected text"}
	})
	change("retraction of a quoted message", 1, func(m *client.Message) {
		m.Retracted, m.Body, m.LastCorrection = day1.Add(time.Hour), "", nil
	})
	change("decryption failure", 0, func(m *client.Message) {
		m.Encryption, m.Failure, m.SenderDevice, m.Body = client.EncryptionOMEMO, "no session", 7, ""
	})
	change("time moved to the day before", 6, func(m *client.Message) { m.Time = msgs[5].Time.Add(time.Second) })
	change("reply added", 9, func(m *client.Message) { m.ReplyTo = client.Reply{ID: msgs[2].OriginID} })
	change("stanza-id added to a quoted message", 2, func(m *client.Message) {
		m.StanzaIDs = []client.StanzaID{{Archive: jid.MustParse("juliet@capulet.lit"), ID: "sid-2"}}
	})
	change("reaction", 4, func(m *client.Message) {
		m.Reactions = []client.Reaction{{Sender: "romeo@montague.lit", Emojis: []string{"👍"}}}
	})

	// An older page, with the message a reply quotes, put before the
	// window in a new array.
	older := []client.Message{msg(client.Inbound, day1.Add(-2*time.Hour), "older 1"),
		msg(client.Outbound, day1.Add(-time.Hour), "older 2")}
	older[0].XMLID = "earlier"
	older[1].ReplyTo = client.Reply{ID: msgs[3].OriginID}
	msgs = append(older, msgs...)
	tl.HasOlder = false
	show("prepend an older page")
	older2 := []client.Message{msg(client.Inbound, day1.Add(-50*time.Hour), "from two days before")}
	msgs = append(older2, msgs...)
	show("prepend across a day boundary")

	// A live message with an id a reply quotes: the newest message with
	// that id is quoted.
	msgs = slices.Grow(msgs, 4)
	dup := msg(client.Inbound, msgs[len(msgs)-1].Time.Add(time.Minute), "has the id of an older message")
	dup.OriginID = "earlier"
	msgs = append(msgs, dup)
	show("append with a quoted id")
	// A late message placed among the loaded ones (a new array).
	late := msg(client.Inbound, msgs[4].Time.Add(time.Second), "late from the archive")
	msgs = slices.Insert(slices.Clip(msgs), 5, late)
	show("insert among the loaded messages")
	// Fewer messages (a window opened again), then another conversation.
	msgs = slices.Clone(msgs[3:])
	show("fewer messages")
	tl.Conversation, tl.Peer = 2, jid.MustParse("nurse@capulet.lit")
	show("another conversation")
}

// TestIncrementalRowsEveryField changes each field of one message in turn,
// as a message read again from the store does: the view must show the new
// message, whatever the field.
func TestIncrementalRowsEveryField(t *testing.T) {
	now := time.Date(2025, 3, 2, 12, 0, 0, 0, time.Local)
	v := rowsView(t, now)
	base := []client.Message{
		{ID: 1, Conversation: 1, Direction: client.Inbound, Sender: "a", Time: now.Add(-time.Hour), Body: "one"},
		{ID: 2, Conversation: 1, Direction: client.Outbound, Sender: "b", Time: now.Add(-time.Minute), Body: "two"},
		{ID: 3, Conversation: 1, Direction: client.Inbound, Sender: "a", Time: now, Body: "three"},
	}
	typ := reflect.TypeFor[client.Message]()
	for f := range typ.NumField() {
		field := typ.Field(f)
		if field.Name == "ID" {
			continue // a different message
		}
		tl := model.Timeline{Conversation: 1, Messages: slices.Clone(base)}
		checkRows(t, v, tl, now, "before "+field.Name)
		tl.Messages = slices.Clone(tl.Messages)
		setNonZero(t, reflect.ValueOf(&tl.Messages[1]).Elem().Field(f))
		checkRows(t, v, tl, now, "changed "+field.Name)
		if !reflect.DeepEqual(v.Rows()[1].Message, tl.Messages[1]) {
			t.Errorf("a change of %s is not shown", field.Name)
		}
	}
}

// setNonZero sets v to a value different from its current one.
func setNonZero(t *testing.T, v reflect.Value) {
	t.Helper()
	switch v.Kind() {
	case reflect.String:
		v.SetString(v.String() + "x")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(v.Int() + 1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(v.Uint() + 1)
	case reflect.Bool:
		v.SetBool(!v.Bool())
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(v.Interface().(time.Time).Add(time.Minute)))
			return
		}
		setNonZero(t, v.Field(0))
	default:
		t.Fatalf("setNonZero: %s", v.Type())
	}
}
