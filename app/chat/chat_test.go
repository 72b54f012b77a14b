package chat_test

import (
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
