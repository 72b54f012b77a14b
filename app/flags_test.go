package app_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/tern-im/tern/app/model"
	"github.com/tern-im/tern/app/widgets"
	"github.com/tern-im/tern/protocol/client"
)

// labelTexts returns the texts of the visible labels under o.
func labelTexts(t *testing.T, o fyne.CanvasObject) []string {
	if !o.Visible() {
		return nil
	}
	if l, ok := o.(*widget.Label); ok {
		return []string{l.Text}
	}
	var children []fyne.CanvasObject
	switch v := o.(type) {
	case *fyne.Container:
		children = v.Objects
	case fyne.Widget:
		children = test.TempWidgetRenderer(t, v).Objects()
	}
	var out []string
	for _, c := range children {
		out = append(out, labelTexts(t, c)...)
	}
	return out
}

func shownNames(cs []model.Conversation) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

// TestPinArchiveWriteThrough: a pin or an archive shows at once, is stored
// through the engine off the Fyne thread, and goes back with a visible
// reason when the store refuses it.
func TestPinArchiveWriteThrough(t *testing.T) {
	s := newMain(t)
	l := s.w.List()
	s.e.flagErr = errors.New("database is locked")
	nurse := l.Shown()[1]
	l.OnPin(nurse, true)
	if got := l.Shown(); got[0].Name != "nurse@capulet.lit" || !got[0].Pinned {
		t.Fatalf("not pinned at once: %v", shownNames(got))
	}
	s.e.expect(t, "pinned 2ns true")
	s.w.Wait()
	if got := l.Shown(); got[0].Name != "juliet@capulet.lit" || got[1].Pinned {
		t.Fatalf("a refused pin stayed: %+v", got)
	}
	if c, _ := s.m.Conversation(2); c.Pinned {
		t.Fatal("a refused pin stayed in the model")
	}
	if got := s.w.Notice(); got != "Could not pin nurse@capulet.lit: database is locked" {
		t.Fatalf("notice = %q", got)
	}
	if !slices.Contains(labelTexts(t, s.win.Canvas().Content()), s.w.Notice()) {
		t.Fatal("the notice is not on screen")
	}

	juliet := l.Shown()[0]
	l.OnArchive(juliet, true)
	if got := l.Shown(); len(got) != 1 {
		t.Fatalf("not archived at once: %v", shownNames(got))
	}
	s.e.expect(t, "archived 1ns true")
	s.w.Wait()
	if got := l.Shown(); len(got) != 2 || got[0].Archived {
		t.Fatalf("a refused archive stayed: %v", shownNames(got))
	}
	if got := s.w.Notice(); got != "Could not archive juliet@capulet.lit: database is locked" {
		t.Fatalf("notice = %q", got)
	}

	// The store takes it: the choice stays, the notice goes.
	s.e.flagErr = nil
	l.OnPin(l.Shown()[1], true)
	s.e.expect(t, "pinned 2ns true")
	s.w.Wait()
	if got := l.Shown(); got[0].Name != "nurse@capulet.lit" || !got[0].Pinned || s.w.Notice() != "" {
		t.Fatalf("after a kept pin: %v, notice %q", shownNames(got), s.w.Notice())
	}
	l.OnPin(l.Shown()[0], false)
	s.e.expect(t, "pinned 2ns false")
	l.OnArchive(l.Shown()[0], true)
	s.e.expect(t, "archived 1ns true")
	s.w.Wait()
	if got := l.Shown(); len(got) != 1 || got[0].Name != "nurse@capulet.lit" || got[0].Pinned {
		t.Fatalf("after unpinning the nurse and archiving juliet: %+v", got)
	}
	// An unpin refused: the pin comes back with its time (its place among
	// the pins).
	l.OnPin(l.Shown()[0], true)
	s.e.expect(t, "pinned 2ns true")
	s.w.Wait()
	pinnedAt := l.Shown()[0].PinnedAt
	s.e.flagErr = errors.New("disk full")
	l.OnPin(l.Shown()[0], false)
	s.e.expect(t, "pinned 2ns false")
	s.w.Wait()
	if got := l.Shown(); !got[0].Pinned || !got[0].PinnedAt.Equal(pinnedAt) || s.w.Notice() != "Could not unpin nurse@capulet.lit: disk full" {
		t.Fatalf("after a refused unpin: %+v, notice %q", got, s.w.Notice())
	}
}

// TestEditHistoryPopup: the History button of a corrected message reads
// every version through the engine and lists them, newest last.
func TestEditHistoryPopup(t *testing.T) {
	s := newMain(t)
	s.e.versions = map[client.MessageID][]client.Message{4: {
		{ID: 4, Conversation: 1, Direction: client.Outbound, Body: "My name, dear saint, is hateful to myself", Time: day.Add(time.Minute)},
		{ID: 5, Conversation: 1, Direction: client.Outbound, Replaces: 4, Body: "My name, dear saint, is hateful to myself!", Time: day.Add(2 * time.Minute)},
		{ID: 8, Conversation: 1, Direction: client.Outbound, Replaces: 4, Body: "My name, dear saint, is hateful to myself,\nbecause it is an enemy to thee", Time: day.Add(5 * time.Minute)},
		{ID: 9, Conversation: 1, Direction: client.Outbound, Replaces: 4, Body: "Had I it written, I would tear the word.", Time: day.Add(19*time.Hour + 30*time.Minute)},
	}}
	s.open(t, 1)
	var history *widgets.TapIcon
	for _, r := range messageRows(t, s.win.Canvas().Content()) {
		if r.Row().Message.ID == 4 && r.History().Visible() {
			history = r.History()
		}
	}
	if history == nil {
		t.Fatal("no History button on the corrected message")
	}
	test.Tap(history)
	s.e.expect(t, "corrections 4ns")
	s.w.Wait()
	pop := s.win.Canvas().Overlays().Top()
	if pop == nil {
		t.Fatal("no edit history shown")
	}
	want := "Original (14:01):\nMy name, dear saint, is hateful to myself" +
		"\n\nEdited (14:02):\nMy name, dear saint, is hateful to myself!" +
		"\n\nEdited (14:05):\nMy name, dear saint, is hateful to myself,\nbecause it is an enemy to thee" +
		"\n\nEdited (2 Mar 2025 09:30):\nHad I it written, I would tear the word."
	if texts := labelTexts(t, pop); !slices.Contains(texts, want) {
		t.Fatalf("popup shows %q, want %q", texts, want)
	}
	test.Tap(findButton(t, pop, "Close"))
	if s.win.Canvas().Overlays().Top() != nil {
		t.Fatal("Close left the popup open")
	}

	// The engine cannot read it: the status line says so.
	s.e.versions = nil
	test.Tap(history)
	s.e.expect(t, "corrections 4ns")
	s.w.Wait()
	if s.win.Canvas().Overlays().Top() != nil || !strings.HasPrefix(s.w.View().Status(), "Could not load the edit history: ") {
		t.Fatalf("status %q", s.w.View().Status())
	}
}
