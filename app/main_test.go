package app_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/tern-im/tern/app"
	"github.com/tern-im/tern/app/chat"
	"github.com/tern-im/tern/app/model"
	"github.com/tern-im/tern/app/widgets"
	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
)

// history is an in-memory client.History.
type history struct {
	mu    sync.Mutex
	convs []client.Conversation
	msgs  map[client.ConversationID][]client.Message
}

func (h *history) Message(_ context.Context, id client.MessageID) (client.Message, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, ms := range h.msgs {
		if i := slices.IndexFunc(ms, func(m client.Message) bool { return m.ID == id }); i >= 0 {
			return ms[i], nil
		}
	}
	return client.Message{}, client.ErrNotFound
}

func (h *history) LatestPage(_ context.Context, conv client.ConversationID, n int) ([]client.Message, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ms := h.msgs[conv]
	return slices.Clone(ms[max(0, len(ms)-n):]), nil
}

func (h *history) PageBefore(context.Context, client.ConversationID, client.MessageID, int) ([]client.Message, error) {
	return nil, nil
}

func (h *history) PageAfter(context.Context, client.ConversationID, client.MessageID, int) ([]client.Message, error) {
	return nil, nil
}

func (h *history) Search(context.Context, client.AccountID, string, int) ([]client.SearchHit, error) {
	return nil, nil
}

func (h *history) Conversations(_ context.Context, acct client.AccountID) ([]client.Conversation, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.convs), nil
}

func (h *history) add(m client.Message) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.msgs[m.Conversation] = append(h.msgs[m.Conversation], m)
}

func (h *history) set(m client.Message) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ms := h.msgs[m.Conversation]
	ms[slices.IndexFunc(ms, func(x client.Message) bool { return x.ID == m.ID })] = m
}

// engine is a fake model.Engine that reports each call on a channel.
type engine struct{ calls chan string }

func (e *engine) SendMessage(_ context.Context, to jid.JID, body string, _ client.SendOptions) (client.MessageID, error) {
	e.calls <- "send " + to.String() + " " + body
	return 99, nil
}

func (e *engine) Retry(_ context.Context, id client.MessageID) error {
	e.calls <- "retry " + itoa(id)
	return nil
}

func (e *engine) Correct(_ context.Context, id client.MessageID, body string) error {
	e.calls <- "correct " + itoa(id) + " " + body
	return errors.New("item-not-found")
}

func (e *engine) MarkRead(_ context.Context, conv client.ConversationID, upTo client.MessageID) error {
	e.calls <- "read " + itoa(client.MessageID(conv)) + " " + itoa(upTo)
	return nil
}

func itoa(id client.MessageID) string { return time.Duration(id).String() }

// next returns the fake engine's next call, skipping read markers unless
// they are asked for.
func (e *engine) next(t *testing.T, reads bool) string {
	t.Helper()
	for {
		select {
		case c := <-e.calls:
			if !reads && len(c) > 5 && c[:5] == "read " {
				continue
			}
			return c
		case <-t.Context().Done():
			t.Fatal("no engine call")
		}
	}
}

func mustJID(t *testing.T, s string) jid.JID {
	t.Helper()
	j, err := jid.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// day is a fixed afternoon; messages are in UTC and the tests run in UTC.
var day = time.Date(2025, 3, 1, 14, 0, 0, 0, time.UTC)

// mainScreen is a main window with two conversations in a headless
// window.
type mainScreen struct {
	h      *history
	e      *engine
	m      *model.Model
	w      *app.Main
	win    fyne.Window
	cancel context.CancelFunc
}

func newMain(t *testing.T) *mainScreen {
	t.Helper()
	time.Local = time.UTC
	test.NewTempApp(t)
	h := &history{msgs: map[client.ConversationID][]client.Message{}}
	h.convs = []client.Conversation{
		{ID: 1, Account: 1, Peer: mustJID(t, "juliet@capulet.lit"), LastActivity: day.Add(3 * time.Minute)},
		{ID: 2, Account: 1, Peer: mustJID(t, "nurse@capulet.lit"), LastActivity: day.Add(-26 * time.Hour), Unread: 2},
	}
	for _, m := range []client.Message{
		{ID: 1, Conversation: 1, Direction: client.Inbound, Sender: "juliet@capulet.lit", Body: "Wherefore art thou Romeo?", Time: day.Add(-25 * time.Hour)},
		{ID: 3, Conversation: 1, Direction: client.Outbound, Sender: "romeo@montague.lit", Body: "By a name I know not how to tell thee who I am", Time: day, State: client.StateRead},
		{ID: 4, Conversation: 1, Direction: client.Outbound, Sender: "romeo@montague.lit", Body: "My name, dear saint, is hateful to myself", Time: day.Add(time.Minute), State: client.StateDelivered,
			LastCorrection: &client.Correction{ID: 5, Body: "My name, dear saint, is hateful to myself!"}},
		{ID: 6, Conversation: 1, Direction: client.Inbound, Sender: "juliet@capulet.lit", Time: day.Add(2 * time.Minute), Retracted: day.Add(2 * time.Minute)},
		{ID: 7, Conversation: 1, Direction: client.Outbound, Sender: "romeo@montague.lit", Body: "Lady, by yonder blessed moon I swear", Time: day.Add(3 * time.Minute), State: client.StateFailed, Failure: "service-unavailable"},
		{ID: 2, Conversation: 2, Direction: client.Inbound, Sender: "nurse@capulet.lit", Body: "Madam!", Time: day.Add(-26 * time.Hour)},
	} {
		h.add(m)
	}
	m := model.New(h)
	ctx, cancel := context.WithCancel(t.Context())
	if _, err := m.AddAccount(ctx, 1, mustJID(t, "romeo@montague.lit")); err != nil {
		t.Fatal(err)
	}
	e := &engine{calls: make(chan string, 16)}
	w := app.NewMain(ctx, m, map[client.AccountID]model.Engine{1: e})
	w.View().Now = func() time.Time { return day.Add(time.Hour) }
	win := test.NewTempWindow(t, w.Content())
	win.Resize(fyne.NewSize(900, 640))
	s := &mainScreen{h: h, e: e, m: m, w: w, win: win, cancel: cancel}
	t.Cleanup(func() { cancel(); w.Wait() })
	return s
}

// open opens conversation conv as a tap on the list does, and waits for it
// to be shown.
func (s *mainScreen) open(t *testing.T, conv client.ConversationID) {
	t.Helper()
	s.w.List().Select(conv)
	if got := s.e.next(t, true); got != "read "+itoa(client.MessageID(conv))+" "+itoa(s.h.msgs[conv][len(s.h.msgs[conv])-1].ID) {
		t.Fatalf("opening sent %q", got)
	}
	if s.w.View().Timeline().Conversation != conv {
		t.Fatal("conversation not shown")
	}
}

// feed runs the event bridge over events and returns when it has applied
// them all.
func (s *mainScreen) feed(t *testing.T, events ...client.Event) {
	t.Helper()
	ch := make(chan client.Event, len(events))
	for _, e := range events {
		ch <- e
	}
	close(ch)
	s.w.Bridge(t.Context(), 1, ch, func(msg string, args ...any) { t.Errorf("bridge: %s %v", msg, args) })
}

func TestMainRenders(t *testing.T) {
	s := newMain(t)
	s.open(t, 1)
	test.AssertRendersToMarkup(t, "main.xml", s.win.Canvas())

	rows := s.w.View().Rows()
	var days, senders []string
	for _, r := range rows {
		days = append(days, r.Day)
		senders = append(senders, r.Sender)
	}
	if !slices.Equal(days, []string{"Yesterday", "Today", "", "", ""}) {
		t.Errorf("day separators = %q", days)
	}
	if !slices.Equal(senders, []string{"juliet@capulet.lit", "You", "", "juliet@capulet.lit", "You"}) {
		t.Errorf("sender grouping = %q", senders)
	}
	for i, want := range []string{"13:00", "14:00 · read ✓✓", "14:01 · edited · delivered ✓✓", "14:02", "14:03 · not sent: service-unavailable"} {
		if got := rows[i].Meta(); got != want {
			t.Errorf("row %d meta = %q, want %q", i, got, want)
		}
	}
	if rows[3].Body() != widgets.RetractedText || rows[2].Body() != "My name, dear saint, is hateful to myself!" {
		t.Errorf("bodies = %q, %q", rows[3].Body(), rows[2].Body())
	}
}

func TestConversationListAndTitle(t *testing.T) {
	s := newMain(t)
	var titles []string
	s.w.OnTitle = func(t string) { titles = append(titles, t) }
	if s.w.Title() != "(2) Tern" {
		t.Fatalf("title = %q", s.w.Title())
	}
	shown := s.w.List().Shown()
	if len(shown) != 2 || shown[0].Name != "juliet@capulet.lit" || shown[1].Unread != 2 {
		t.Fatalf("list = %+v", shown)
	}
	test.Type(s.w.List().Filter(), "nur")
	if shown := s.w.List().Shown(); len(shown) != 1 || shown[0].Name != "nurse@capulet.lit" {
		t.Fatalf("filtered = %+v", shown)
	}
	s.open(t, 2)
	if s.w.Title() != "Tern" || !slices.Contains(titles, "Tern") {
		t.Fatalf("title after reading = %q (%q)", s.w.Title(), titles)
	}
}

func TestEnterSendsShiftEnterBreaksLine(t *testing.T) {
	s := newMain(t)
	s.open(t, 1)
	c := s.w.View().Composer()
	s.win.Canvas().Focus(c)
	test.Type(c, "Hello")
	c.KeyDown(&fyne.KeyEvent{Name: desktop.KeyShiftLeft})
	c.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	c.KeyUp(&fyne.KeyEvent{Name: desktop.KeyShiftLeft})
	test.Type(c, "there")
	if c.Text != "Hello\nthere" {
		t.Fatalf("Shift+Enter: text = %q", c.Text)
	}
	c.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if got := s.e.next(t, false); got != "send juliet@capulet.lit Hello\nthere" {
		t.Fatalf("engine call = %q", got)
	}
	if c.Text != "" {
		t.Fatalf("composer not cleared: %q", c.Text)
	}
	// Enter in an empty composer sends nothing; Escape clears.
	c.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	test.Type(c, "draft")
	c.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if c.Text != "" || len(s.e.calls) != 0 {
		t.Fatalf("after Escape: %q, %d calls", c.Text, len(s.e.calls))
	}
}

func TestUpEditsLastOwnMessage(t *testing.T) {
	s := newMain(t)
	s.open(t, 1)
	c := s.w.View().Composer()
	c.TypedKey(&fyne.KeyEvent{Name: fyne.KeyUp})
	if c.Editing() != 7 || c.Text != "Lady, by yonder blessed moon I swear" || c.PlaceHolder != chat.EditingPlaceholder {
		t.Fatalf("Up: editing %d, %q", c.Editing(), c.Text)
	}
	c.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if c.Editing() != 0 || c.Text != "" {
		t.Fatal("Escape did not cancel the edit")
	}
	c.TypedKey(&fyne.KeyEvent{Name: fyne.KeyUp})
	test.Type(c, "!")
	c.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if got := s.e.next(t, false); got != "correct 7ns Lady, by yonder blessed moon I swear!" {
		t.Fatalf("engine call = %q", got)
	}
	// The fake engine fails the correction: the view says so. The task
	// reports through fyne.Do, which the test driver runs inline; wait
	// for it with Wait after cancelling nothing else is pending.
	s.cancelAndWaitKeepingErrors(t)
	if got := s.w.View().Status(); got != "Could not edit: item-not-found" {
		t.Fatalf("status = %q", got)
	}
}

// cancelAndWaitKeepingErrors waits for the screen's tasks without
// cancelling them first (they have all been answered).
func (s *mainScreen) cancelAndWaitKeepingErrors(t *testing.T) {
	t.Helper()
	s.w.Wait()
}

func TestIncomingMessageUpdatesListAndTimeline(t *testing.T) {
	s := newMain(t)
	s.open(t, 1)
	in := client.Message{ID: 8, Conversation: 1, Direction: client.Inbound, Sender: "juliet@capulet.lit", Body: "O, swear not by the moon", Time: day.Add(4 * time.Minute)}
	s.h.add(in)
	s.feed(t, client.Online{}, client.MessageReceived{Message: in})
	if got := s.e.next(t, true); got != "read 1ns 8ns" {
		t.Fatalf("engine call = %q", got)
	}
	tl := s.w.View().Timeline()
	if n := len(tl.Messages); n != 6 || tl.Messages[n-1].Body != "O, swear not by the moon" {
		t.Fatalf("timeline has %d messages", n)
	}
	if head := s.w.List().Shown()[0]; head.Preview != "O, swear not by the moon" || head.Unread != 0 {
		t.Fatalf("list head = %+v", head)
	}

	// A message to the other conversation moves it first and counts unread.
	other := client.Message{ID: 9, Conversation: 2, Direction: client.Inbound, Sender: "nurse@capulet.lit", Body: "Your mother calls", Time: day.Add(5 * time.Minute)}
	s.h.add(other)
	s.feed(t, client.MessageReceived{Message: other})
	if head := s.w.List().Shown()[0]; head.ID != 2 || head.Unread != 3 || head.Preview != "Your mother calls" {
		t.Fatalf("list head = %+v", head)
	}
	if s.w.Title() != "(3) Tern" {
		t.Fatalf("title = %q", s.w.Title())
	}
	if len(s.w.View().Timeline().Messages) != 6 {
		t.Fatal("the open timeline changed")
	}
}

func TestFailedMessageRetry(t *testing.T) {
	s := newMain(t)
	s.open(t, 1)
	retry := findButton(t, s.win.Canvas().Content(), widgets.RetryLabel)
	if retry == nil {
		t.Fatal("no Retry button for the failed message")
	}
	test.Tap(retry)
	if got := s.e.next(t, false); got != "retry 7ns" {
		t.Fatalf("engine call = %q", got)
	}
	// The engine reports the message pending again: the reason and the
	// button go away.
	m := s.h.msgs[1][4]
	m.State, m.Failure = client.StatePending, ""
	s.h.set(m)
	s.feed(t, client.MessageUpdated{Conversation: 1, ID: 7, State: client.StatePending})
	rows := s.w.View().Rows()
	if got := rows[4].Meta(); got != "14:03 · sending…" {
		t.Fatalf("meta = %q", got)
	}
	if b := findButton(t, s.win.Canvas().Content(), widgets.RetryLabel); b != nil {
		t.Fatal("Retry still shown")
	}
}

func TestConnectionStateShown(t *testing.T) {
	s := newMain(t)
	s.open(t, 1)
	s.feed(t, client.Failed{Err: errors.New("not-authorized")})
	test.AssertRendersToMarkup(t, "main_failed.xml", s.win.Canvas())
}

// findButton returns the visible button labelled text under o, or nil.
func findButton(t *testing.T, o fyne.CanvasObject, text string) *widget.Button {
	if !o.Visible() {
		return nil
	}
	if b, ok := o.(*widget.Button); ok && b.Text == text {
		return b
	}
	var children []fyne.CanvasObject
	switch v := o.(type) {
	case *fyne.Container:
		children = v.Objects
	case fyne.Widget:
		children = test.TempWidgetRenderer(t, v).Objects()
	}
	for _, c := range children {
		if b := findButton(t, c, text); b != nil {
			return b
		}
	}
	return nil
}
