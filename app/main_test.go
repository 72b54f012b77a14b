package app_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tern-im/tern/app"
	"github.com/tern-im/tern/app/chat"
	"github.com/tern-im/tern/app/contacts"
	"github.com/tern-im/tern/app/model"
	"github.com/tern-im/tern/app/search"
	terntheme "github.com/tern-im/tern/app/theme"
	"github.com/tern-im/tern/app/trust"
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

func (h *history) LastMessages(_ context.Context, acct client.AccountID) ([]client.Message, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []client.Message
	for _, c := range h.convs {
		if ms := h.msgs[c.ID]; c.Account == acct && len(ms) > 0 {
			out = append(out, ms[len(ms)-1])
		}
	}
	return out, nil
}

func (h *history) PageBefore(_ context.Context, conv client.ConversationID, before client.MessageID, n int) ([]client.Message, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ms := h.msgs[conv]
	i := slices.IndexFunc(ms, func(m client.Message) bool { return m.ID == before })
	if i < 0 {
		return nil, client.ErrNotFound
	}
	return slices.Clone(ms[max(0, i-n):i]), nil
}

func (h *history) PageAfter(_ context.Context, conv client.ConversationID, after client.MessageID, n int) ([]client.Message, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ms := h.msgs[conv]
	i := slices.IndexFunc(ms, func(m client.Message) bool { return m.ID == after })
	if i < 0 {
		return nil, client.ErrNotFound
	}
	return slices.Clone(ms[i+1 : min(len(ms), i+1+n)]), nil
}

// prepend adds older messages at the start of a conversation.
func (h *history) prepend(conv client.ConversationID, msgs []client.Message) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.msgs[conv] = append(slices.Clone(msgs), h.msgs[conv]...)
}

// Search finds the messages whose body contains query (a stand-in for
// the store's FTS5 index), newest first.
func (h *history) Search(_ context.Context, _ client.AccountID, query string, limit int) ([]client.SearchHit, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []client.SearchHit
	for conv, ms := range h.msgs {
		for _, m := range ms {
			if i := strings.Index(strings.ToLower(m.Body), strings.ToLower(query)); i >= 0 && query != "" {
				out = append(out, client.SearchHit{Conversation: conv, Message: m.ID, Time: m.Time, Score: 1,
					Snippet: []client.SnippetPart{{Text: m.Body[:i]}, {Text: m.Body[i : i+len(query)], Match: true}, {Text: m.Body[i+len(query):]}}})
			}
		}
	}
	slices.SortFunc(out, func(a, b client.SearchHit) int { return b.Time.Compare(a.Time) })
	return out[:min(len(out), limit)], nil
}

// Corrections returns what the fake keeps of an edit history: the message
// and its latest correction.
func (h *history) Corrections(ctx context.Context, id client.MessageID) ([]client.Message, error) {
	m, err := h.Message(ctx, id)
	if err != nil {
		return nil, err
	}
	out := []client.Message{m}
	if c := m.LastCorrection; c != nil {
		out = append(out, client.Message{ID: c.ID, Conversation: m.Conversation, Body: c.Body, Time: c.Time, Replaces: m.ID})
	}
	return out, nil
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
type engine struct {
	calls   chan string
	h       *history
	archive []client.Message // what LoadOlder finds in the archive
	// archiveGate, when set, holds LoadOlder until it is closed.
	archiveGate chan struct{}
	repairErr   error
	encrypts    atomic.Bool
	// flagErr is what SetPinned and SetArchived fail with (nil: they
	// succeed); versions are the edit histories Corrections knows.
	flagErr  error
	versions map[client.MessageID][]client.Message
}

func (e *engine) SendMessage(_ context.Context, to jid.JID, body string, opts client.SendOptions) (client.MessageID, error) {
	c := "send " + to.String() + " " + body
	if opts.ReplyTo != 0 {
		c += " reply=" + itoa(opts.ReplyTo)
	}
	e.calls <- c
	return 99, nil
}

// The trust facet (trust.Engine): the lock and the devices screen.

func (e *engine) OwnFingerprint(context.Context) (uint32, string, error) {
	return 1001, strings.Repeat("0f", 32), nil
}

func (e *engine) OwnURI(context.Context) (string, error) {
	return "xmpp:romeo@montague.lit?omemo-sid-1001=" + strings.Repeat("0f", 32), nil
}

func (e *engine) Devices(context.Context, jid.JID) ([]client.DeviceInfo, error) { return nil, nil }

func (e *engine) SetTrust(context.Context, jid.JID, string, client.DeviceTrust) error { return nil }

func (e *engine) SetEncryption(_ context.Context, conv client.ConversationID, p client.EncryptionPolicy) error {
	e.calls <- "encryption " + itoa(client.MessageID(conv)) + " " + strconv.Itoa(int(p))
	e.encrypts.Store(p == client.EncryptionRequired)
	return nil
}

func (e *engine) Encrypts(context.Context, jid.JID) (bool, error) { return e.encrypts.Load(), nil }

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

func (e *engine) Retract(_ context.Context, id client.MessageID) error {
	e.calls <- "retract " + itoa(id)
	return nil
}

func (e *engine) React(_ context.Context, id client.MessageID, emojis []string) error {
	e.calls <- "react " + itoa(id) + " " + strings.Join(emojis, ",")
	return nil
}

func (e *engine) SendChatState(_ context.Context, to jid.JID, st client.ChatState) error {
	e.calls <- "state " + to.String() + " " + string(st)
	return nil
}

// LoadOlder plays the archive: it stores e.archive (older messages) in the
// history once, then reports the archive complete.
func (e *engine) LoadOlder(ctx context.Context, conv client.ConversationID, n int) (int, bool, error) {
	e.calls <- "archive " + itoa(client.MessageID(conv))
	if e.archiveGate != nil {
		select {
		case <-e.archiveGate:
		case <-ctx.Done():
			return 0, false, ctx.Err()
		}
	}
	if e.archive == nil {
		return 0, true, nil
	}
	msgs := e.archive
	e.archive = nil
	e.h.prepend(conv, msgs)
	return len(msgs), true, nil
}

func (e *engine) Repair(_ context.Context, id client.MessageID) error {
	e.calls <- "repair " + itoa(id)
	return e.repairErr
}

func (e *engine) SetPinned(_ context.Context, conv client.ConversationID, on bool) error {
	e.calls <- "pinned " + itoa(client.MessageID(conv)) + " " + strconv.FormatBool(on)
	return e.flagErr
}

func (e *engine) SetArchived(_ context.Context, conv client.ConversationID, on bool) error {
	e.calls <- "archived " + itoa(client.MessageID(conv)) + " " + strconv.FormatBool(on)
	return e.flagErr
}

func (e *engine) Corrections(_ context.Context, id client.MessageID) ([]client.Message, error) {
	e.calls <- "corrections " + itoa(id)
	if v, ok := e.versions[id]; ok {
		return v, nil
	}
	return nil, client.ErrNotFound
}

func itoa(id client.MessageID) string { return time.Duration(id).String() }

// expect waits for the engine call want, skipping others.
func (e *engine) expect(t *testing.T, want string) {
	t.Helper()
	for {
		select {
		case c := <-e.calls:
			if c == want {
				return
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no engine call %q", want)
		}
	}
}

// next returns the fake engine's next call, skipping read markers, chat
// states and archive queries (a short conversation asks the archive for
// more as soon as it opens) unless they are asked for.
func (e *engine) next(t *testing.T, reads bool) string {
	t.Helper()
	for {
		select {
		case c := <-e.calls:
			if !reads && (strings.HasPrefix(c, "read ") || strings.HasPrefix(c, "state ") || strings.HasPrefix(c, "archive ")) {
				continue
			}
			return c
		case <-time.After(10 * time.Second):
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
	fyne.CurrentApp().Settings().SetTheme(terntheme.NewVariant(theme.VariantLight))
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
	e := &engine{calls: make(chan string, 64), h: h}
	w := app.NewMain(ctx, m, map[client.AccountID]model.Engine{1: e})
	w.View().Now = func() time.Time { return day.Add(time.Hour) }
	w.List().Now = w.View().Now
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
	s.e.expect(t, "read "+itoa(client.MessageID(conv))+" "+itoa(s.h.msgs[conv][len(s.h.msgs[conv])-1].ID))
	s.w.Wait()
	if s.w.View().Timeline().Conversation != conv {
		t.Fatal("conversation not shown")
	}
}

// feed applies events of account 1 as the runner's event bridge does
// (run.go): the model first, then the change on the screen (the test
// driver runs fyne.Do inline), and returns when the tasks they started
// are done.
func (s *mainScreen) feed(t *testing.T, events ...client.Event) {
	t.Helper()
	for _, ev := range events {
		ch, err := s.m.Apply(t.Context(), 1, ev)
		if err != nil {
			t.Errorf("applying %T: %v", ev, err)
			continue
		}
		if !ch.Empty() {
			s.w.Apply(ch)
		}
	}
	s.w.Wait()
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
	s.w.Wait()
	for len(s.e.calls) > 0 {
		if call := <-s.e.calls; !strings.HasPrefix(call, "state ") {
			t.Fatalf("after Escape: engine call %q", call)
		}
	}
	if c.Text != "" {
		t.Fatalf("after Escape: %q", c.Text)
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
	s.e.expect(t, "read 1ns 8ns")
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

// TestMainLooks renders the main screen in the light and the dark theme
// to golden images (reviewed by eye when they change).
func TestMainLooks(t *testing.T) {
	for _, v := range []struct {
		name    string
		variant fyne.ThemeVariant
	}{{"light", theme.VariantLight}, {"dark", theme.VariantDark}} {
		t.Run(v.name, func(t *testing.T) {
			s := newMain(t)
			fyne.CurrentApp().Settings().SetTheme(terntheme.NewVariant(v.variant))
			s.w.List().Now = func() time.Time { return day.Add(time.Hour) }
			s.open(t, 1)
			test.AssertImageMatches(t, "main_"+v.name+".png", s.win.Canvas().Capture())
		})
	}
}

// The engine offers what the screens need (compile-time checks).
var (
	_ model.Engine    = (*client.Client)(nil)
	_ trust.Engine    = (*client.Client)(nil)
	_ contacts.Engine = (*client.Client)(nil)
	_ search.Searcher = (*model.Model)(nil)
)

// drafts is an in-memory chat.DraftStore.
type drafts struct {
	mu sync.Mutex
	m  map[client.ConversationID]string
}

func (d *drafts) Draft(_ context.Context, conv client.ConversationID) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.m[conv], nil
}

func (d *drafts) SetDraft(_ context.Context, conv client.ConversationID, text string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.m[conv] = text
	return nil
}

// rows returns the message rows on screen.
func messageRows(t *testing.T, o fyne.CanvasObject) []*widgets.MessageRow {
	if !o.Visible() {
		return nil
	}
	if r, ok := o.(*widgets.MessageRow); ok {
		return []*widgets.MessageRow{r}
	}
	var children []fyne.CanvasObject
	switch v := o.(type) {
	case *fyne.Container:
		children = v.Objects
	case fyne.Widget:
		children = test.TempWidgetRenderer(t, v).Objects()
	}
	var out []*widgets.MessageRow
	for _, c := range children {
		out = append(out, messageRows(t, c)...)
	}
	return out
}

func TestScrollUpLoadsFromStoreThenArchive(t *testing.T) {
	s := newMain(t)
	// 60 more messages before the first one: the store holds 65.
	var older []client.Message
	for i := range 60 {
		older = append(older, client.Message{ID: client.MessageID(1000 + i), Conversation: 1, Direction: client.Inbound,
			Sender: "juliet@capulet.lit", Body: "old " + strconv.Itoa(i), Time: day.Add(-48*time.Hour + time.Duration(i)*time.Minute)})
	}
	s.h.prepend(1, older)
	s.e.archive = []client.Message{{ID: 500, Conversation: 1, Direction: client.Inbound, Sender: "juliet@capulet.lit",
		Body: "from the archive", Time: day.Add(-72 * time.Hour)}}
	s.open(t, 1)
	v := s.w.View()
	if n := len(v.Timeline().Messages); n != model.PageSize || !v.Timeline().HasOlder {
		t.Fatalf("opened with %d messages", n)
	}
	// Scrolling to the top loads the rest of the store and, as that is
	// less than a page, asks the archive for more, with a spinner.
	s.e.archiveGate = make(chan struct{})
	v.ScrollToTop()
	s.e.expect(t, "archive 1ns")
	if !v.Loading() {
		t.Fatal("no spinner while loading older messages")
	}
	close(s.e.archiveGate)
	s.w.Wait()
	tl := v.Timeline()
	if len(tl.Messages) != 66 || tl.Messages[0].Body != "from the archive" || v.Loading() {
		t.Fatalf("after scrolling up: %d messages, first %q, loading %v", len(tl.Messages), tl.Messages[0].Body, v.Loading())
	}
	// The archive said it is complete: scrolling up asks nothing more.
	v.ScrollToTop()
	s.w.Wait()
	for len(s.e.calls) > 0 {
		if c := <-s.e.calls; strings.HasPrefix(c, "archive") {
			t.Fatalf("archive asked again: %q", c)
		}
	}
	if findButton(t, s.win.Canvas().Content(), chat.LoadOlderLabel) != nil {
		t.Fatal("Load older shown with nothing older")
	}
}

func TestTypingPresenceAndChatStates(t *testing.T) {
	s := newMain(t)
	s.open(t, 1)
	juliet := mustJID(t, "juliet@capulet.lit/balcony")
	s.feed(t, client.PresenceChanged{Presence: client.ResourcePresence{JID: juliet, Show: "away"}, Available: true},
		client.ChatStateChanged{From: juliet, State: client.ChatComposing})
	if s.w.View().PeerState() != chat.TypingText {
		t.Fatalf("peer state = %q", s.w.View().PeerState())
	}
	head := s.w.List().Shown()[0]
	if head.Presence != model.PresenceAway || head.ChatState != client.ChatComposing {
		t.Fatalf("list head = %+v", head)
	}
	// A message from juliet ends her typing notification.
	in := client.Message{ID: 8, Conversation: 1, Direction: client.Inbound, Sender: "juliet@capulet.lit", Body: "Romeo!", Time: day.Add(5 * time.Minute)}
	s.h.add(in)
	s.feed(t, client.MessageReceived{Message: in})
	if s.w.View().PeerState() != "" {
		t.Fatalf("peer state after her message = %q", s.w.View().PeerState())
	}

	// Our typing is sent as chat states, unless the user turned it off.
	c := s.w.View().Composer()
	test.Type(c, "Hi")
	s.e.expect(t, "state juliet@capulet.lit composing")
	c.SetText("")
	s.e.expect(t, "state juliet@capulet.lit active")
	s.w.SetSendTyping(false)
	test.Type(c, "secret")
	s.w.Wait()
	for len(s.e.calls) > 0 {
		if call := <-s.e.calls; strings.HasPrefix(call, "state ") {
			t.Fatalf("a chat state was sent with typing notifications off: %q", call)
		}
	}
}

func TestDraftsSurviveSwitchAndRestart(t *testing.T) {
	s := newMain(t)
	d := &drafts{m: map[client.ConversationID]string{}}
	s.w.SetDrafts(d)
	s.open(t, 1)
	test.Type(s.w.View().Composer(), "half a thought")
	s.open(t, 2)
	s.w.Wait()
	if d.m[1] != "half a thought" || s.w.View().Composer().Text != "" {
		t.Fatalf("drafts = %v, composer %q", d.m, s.w.View().Composer().Text)
	}
	s.open(t, 1)
	s.w.Wait()
	if got := s.w.View().Composer().Text; got != "half a thought" {
		t.Fatalf("draft not restored: %q", got)
	}
	// A new screen (a restart) on the same draft store.
	s2 := newMain(t)
	s2.w.SetDrafts(d)
	s2.open(t, 1)
	s2.w.Wait()
	if got := s2.w.View().Composer().Text; got != "half a thought" {
		t.Fatalf("draft after a restart: %q", got)
	}
	// Closing the window saves the open draft before Close returns (the
	// program exits right after).
	test.Type(s2.w.View().Composer(), ", and more")
	s2.w.Close()
	if got, _ := d.Draft(t.Context(), 1); got != "half a thought, and more" {
		t.Fatalf("draft saved by Close: %q", got)
	}
}

func TestMessageActions(t *testing.T) {
	s := newMain(t)
	s.open(t, 1)
	v := s.w.View()
	rows := v.Rows()
	item := func(r widgets.Row, label string) *fyne.MenuItem {
		for _, it := range v.MenuItems(r) {
			if it.Label == label {
				return it
			}
		}
		t.Fatalf("no %q in the menu of message %d", label, r.Message.ID)
		return nil
	}
	// Reply to juliet's first message, then send.
	item(rows[0], chat.ReplyLabel).Action()
	if v.ReplyingTo() != 1 {
		t.Fatalf("replying to %d", v.ReplyingTo())
	}
	test.Type(v.Composer(), "Here")
	v.Composer().TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if got := s.e.next(t, false); got != "send juliet@capulet.lit Here reply=1ns" {
		t.Fatalf("engine call = %q", got)
	}
	// React with a thumbs up; retract our own message; a peer's message
	// cannot be retracted, a retracted one has no actions.
	item(rows[0], chat.ReactLabel).ChildMenu.Items[0].Action()
	if got := s.e.next(t, false); got != "react 1ns 👍" {
		t.Fatalf("engine call = %q", got)
	}
	item(rows[1], chat.RetractLabel).Action()
	if got := s.e.next(t, false); got != "retract 3ns" {
		t.Fatalf("engine call = %q", got)
	}
	for _, it := range v.MenuItems(rows[0]) {
		if it.Label == chat.RetractLabel {
			t.Fatal("a peer's message offers Retract")
		}
	}
	if len(v.MenuItems(rows[3])) != 0 {
		t.Fatal("a retracted message has actions")
	}
	// The edit history of the corrected message, as far as the row knows
	// it (TestEditHistoryPopup reads the whole chain).
	versions := []client.Message{rows[2].Message, {Body: rows[2].Message.LastCorrection.Body}}
	if got := chat.HistoryText(versions); got != "Original (14:01):\nMy name, dear saint, is hateful to myself\n\nEdited:\nMy name, dear saint, is hateful to myself!" {
		t.Fatalf("history = %q", got)
	}
}

func TestStylingLinksRepairAndReply(t *testing.T) {
	s := newMain(t)
	for _, m := range []client.Message{
		{ID: 20, Conversation: 1, Direction: client.Inbound, Sender: "juliet@capulet.lit", OriginID: "o-20",
			Body: "*Soft!* what light through _yonder_ window breaks? https://example.org/balcony", Time: day.Add(10 * time.Minute)},
		{ID: 21, Conversation: 1, Direction: client.Outbound, Sender: "romeo@montague.lit", Body: "It is the east",
			ReplyTo: client.Reply{ID: "o-20"}, Time: day.Add(11 * time.Minute), State: client.StateSent, Encryption: client.EncryptionOMEMO},
		{ID: 22, Conversation: 1, Direction: client.Inbound, Sender: "juliet@capulet.lit", Encryption: client.EncryptionOMEMO,
			SenderDevice: 31415, Failure: "no session with this device", Time: day.Add(12 * time.Minute)},
		{ID: 23, Conversation: 1, Direction: client.Inbound, Sender: "juliet@capulet.lit", Body: "/me sighs", Time: day.Add(13 * time.Minute)},
	} {
		s.h.add(m)
	}
	s.open(t, 1)
	rows := s.w.View().Rows()
	n := len(rows)
	if r := rows[n-3]; r.Reply == nil || r.Reply.Sender != "juliet@capulet.lit" || !strings.HasPrefix(r.Reply.Text, "*Soft!*") || !r.Encrypted() {
		t.Fatalf("reply row = %+v", r.Reply)
	}
	if r := rows[n-2]; r.Undecryptable != "no session with this device" || !r.Repairable || r.Encrypted() {
		t.Fatalf("undecryptable row = %+v", r)
	}
	test.AssertImageMatches(t, "timeline_styled.png", s.win.Canvas().Capture())

	var links []string
	var me string
	for _, r := range messageRows(t, s.win.Canvas().Content()) {
		links = append(links, r.Links()...)
		if r.Row().Message.ID == 23 {
			me = r.BodyText()
		}
	}
	if !slices.Contains(links, "https://example.org/balcony") {
		t.Fatalf("links = %q", links)
	}
	if me != "* juliet@capulet.lit sighs" {
		t.Fatalf("/me shown as %q", me)
	}
	test.Tap(findButton(t, s.win.Canvas().Content(), widgets.RepairLabel))
	if got := s.e.next(t, false); got != "repair 22ns" {
		t.Fatalf("engine call = %q", got)
	}
	// A changed identity key needs the user's decision first: the devices
	// screen opens.
	s.w.Wait()
	s.e.repairErr = client.ErrTrustDecision
	test.Tap(findButton(t, s.win.Canvas().Content(), widgets.RepairLabel))
	s.e.next(t, false)
	s.w.Wait()
	if s.w.Overlay() != app.DevicesTitle || !strings.Contains(s.w.View().Status(), "identity key changed") {
		t.Fatalf("overlay %q, status %q", s.w.Overlay(), s.w.View().Status())
	}
}

func TestPinArchiveAndLock(t *testing.T) {
	s := newMain(t)
	l := s.w.List()
	l.OnPin(l.Shown()[1], true) // the nurse
	if got := l.Shown(); got[0].Name != "nurse@capulet.lit" || !got[0].Pinned {
		t.Fatalf("after pinning: %+v", got)
	}
	s.e.expect(t, "pinned 2ns true")
	l.OnArchive(l.Shown()[1], true) // juliet
	if got := l.Shown(); len(got) != 1 || got[0].Name != "nurse@capulet.lit" {
		t.Fatalf("after archiving: %+v", got)
	}
	s.e.expect(t, "archived 1ns true")
	s.w.Wait()
	l.ArchivedToggle().SetChecked(true)
	if got := l.Shown(); len(got) != 1 || got[0].Name != "juliet@capulet.lit" {
		t.Fatalf("archived: %+v", got)
	}
	l.ArchivedToggle().SetChecked(false)
	// A new message brings juliet back.
	in := client.Message{ID: 8, Conversation: 1, Direction: client.Inbound, Sender: "juliet@capulet.lit", Body: "Romeo?", Time: day.Add(time.Hour)}
	s.h.add(in)
	s.feed(t, client.MessageReceived{Message: in})
	if got := l.Shown(); len(got) != 2 || got[1].Name != "juliet@capulet.lit" {
		t.Fatalf("after her message: %+v", got)
	}

	// The lock: plaintext until the user turns encryption on.
	s.open(t, 1)
	s.w.Wait()
	v := s.w.View()
	if v.Encrypted() || v.LockButton().Disabled() {
		t.Fatalf("lock: encrypted %v, disabled %v", v.Encrypted(), v.LockButton().Disabled())
	}
	test.Tap(v.LockButton())
	if got := s.e.next(t, false); got != "encryption 1ns 1" {
		t.Fatalf("engine call = %q", got)
	}
	s.w.Wait()
	if !v.Encrypted() || v.LockText() != chat.EncryptedText {
		t.Fatal("the lock did not close")
	}
	if c, _ := s.m.Conversation(1); c.Encryption != client.EncryptionRequired {
		t.Fatalf("model encryption = %v", c.Encryption)
	}
}

func TestSearchJumpsToMessage(t *testing.T) {
	s := newMain(t)
	var many []client.Message
	for i := range 200 {
		many = append(many, client.Message{ID: client.MessageID(2000 + i), Conversation: 2, Direction: client.Inbound,
			Sender: "nurse@capulet.lit", Body: "chatter " + strconv.Itoa(i), Time: day.Add(-100*time.Hour + time.Duration(i)*time.Minute)})
	}
	many[100].Body = "Where is the ring?"
	s.h.prepend(2, many)
	s.w.Shortcuts(s.win.Canvas())
	s.win.Canvas().(fyne.Shortcutable).TypedShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyF, Modifier: fyne.KeyModifierShortcutDefault})
	if s.w.Overlay() != app.SearchTitle {
		t.Fatalf("Ctrl+F showed %q", s.w.Overlay())
	}
	sc := s.w.SearchScreen()
	s.w.Tasks().Do(func() { sc.Entry().SetText("ring") }) // one query (typing queries at every key)
	s.w.Wait()
	res := sc.Results()
	if len(res) != 1 || res[0].Message != 2100 || res[0].Name != "nurse@capulet.lit" {
		t.Fatalf("results = %+v", res)
	}
	test.AssertRendersToMarkup(t, "search.xml", s.win.Canvas())
	sc.OnJump(res[0])
	s.w.Wait()
	tl := s.w.View().Timeline()
	if s.w.Overlay() != "" || tl.Conversation != 2 || tl.Focus != 2100 || !tl.HasOlder || !tl.HasNewer {
		t.Fatalf("after the jump: overlay %q, timeline conv %d focus %d older %v newer %v", s.w.Overlay(), tl.Conversation, tl.Focus, tl.HasOlder, tl.HasNewer)
	}
	if i := slices.IndexFunc(tl.Messages, func(m client.Message) bool { return m.ID == 2100 }); i != model.PageSize/2 || !s.w.View().Rows()[i].Focus {
		t.Fatalf("focused message at %d", i)
	}
	// Newer pages follow on demand; a live message is not appended to a
	// window that does not reach the newest.
	test.Tap(findButton(t, s.win.Canvas().Content(), chat.LoadNewerLabel))
	s.w.Wait()
	if n := len(s.w.View().Timeline().Messages); n != model.PageSize+model.PageSize+1 {
		t.Fatalf("after loading newer: %d messages", n)
	}
}

func TestKeyboardShortcuts(t *testing.T) {
	s := newMain(t)
	s.w.Shortcuts(s.win.Canvas())
	// A key press runs on "the Fyne thread": the test driver runs the
	// tasks' fyne.Do functions inline, so the press takes their lock.
	press := func(k fyne.KeyName, mod fyne.KeyModifier) {
		s.w.Tasks().Do(func() {
			s.win.Canvas().(fyne.Shortcutable).TypedShortcut(&desktop.CustomShortcut{KeyName: k, Modifier: mod})
		})
	}
	// Alt+Down opens the first conversation, again the next one; Alt+Up
	// goes back.
	press(fyne.KeyDown, fyne.KeyModifierAlt)
	s.e.expect(t, "read 1ns 7ns")
	s.w.Wait()
	press(fyne.KeyDown, fyne.KeyModifierAlt)
	s.e.expect(t, "read 2ns 2ns")
	s.w.Wait()
	if c := s.w.View().Timeline().Conversation; c != 2 {
		t.Fatalf("Alt+Down twice opened %d", c)
	}
	press(fyne.KeyUp, fyne.KeyModifierAlt)
	s.w.Wait()
	if c := s.w.View().Timeline().Conversation; c != 1 {
		t.Fatalf("Alt+Up opened %d", c)
	}
	// Ctrl+K: the quick switcher; Enter opens the first match.
	press(fyne.KeyK, fyne.KeyModifierShortcutDefault)
	if s.w.Overlay() != app.SwitchTitle {
		t.Fatalf("Ctrl+K showed %q", s.w.Overlay())
	}
	ui := func(f func()) { s.w.Tasks().Do(f); s.w.Wait() }
	ui(func() {
		test.Type(s.w.Switcher(), "nur")
		s.w.Switcher().TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	})
	if s.w.Overlay() != "" || s.w.View().Timeline().Conversation != 2 {
		t.Fatalf("switcher: overlay %q, conversation %d", s.w.Overlay(), s.w.View().Timeline().Conversation)
	}
	// Ctrl+N: a new chat; its first message creates the conversation,
	// which opens.
	press(fyne.KeyN, fyne.KeyModifierShortcutDefault)
	if s.w.Overlay() != app.NewChatTitle {
		t.Fatalf("Ctrl+N showed %q", s.w.Overlay())
	}
	// Ctrl+W closes the overlay, then the conversation.
	press(fyne.KeyW, fyne.KeyModifierShortcutDefault)
	if s.w.Overlay() != "" {
		t.Fatal("Ctrl+W did not close the new chat form")
	}
	press(fyne.KeyW, fyne.KeyModifierShortcutDefault)
	if s.w.View().Timeline().Conversation != 0 {
		t.Fatal("Ctrl+W did not close the conversation")
	}
	// A focused entry receives the shortcuts instead of the canvas: the
	// composer and the filter box pass Main's on, and keep their own.
	c := s.w.View().Composer()
	ui(func() {
		test.Type(c, "draft")
		c.TypedShortcut(&fyne.ShortcutSelectAll{})
	})
	if c.SelectedText() != "draft" {
		t.Fatalf("Ctrl+A in the composer selected %q", c.SelectedText())
	}
	ui(func() {
		c.TypedShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyF, Modifier: fyne.KeyModifierShortcutDefault})
	})
	if s.w.Overlay() != app.SearchTitle {
		t.Fatalf("Ctrl+F in the composer showed %q", s.w.Overlay())
	}
	// The overlay's focused entry passes Ctrl+W on: it closes the screen.
	ui(func() {
		s.w.SearchScreen().Entry().TypedShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyW, Modifier: fyne.KeyModifierShortcutDefault})
	})
	if s.w.Overlay() != "" {
		t.Fatalf("Ctrl+W in the search box left %q shown", s.w.Overlay())
	}
	// Escape closes the quick switcher.
	press(fyne.KeyK, fyne.KeyModifierShortcutDefault)
	ui(func() { s.w.Switcher().TypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape}) })
	if s.w.Overlay() != "" {
		t.Fatalf("Escape in the switcher left %q shown", s.w.Overlay())
	}
	ui(func() {
		s.w.List().FilterBox().TypedShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyK, Modifier: fyne.KeyModifierShortcutDefault})
	})
	if s.w.Overlay() != app.SwitchTitle {
		t.Fatalf("Ctrl+K in the filter box showed %q", s.w.Overlay())
	}
	// Ctrl+Shift+E: the encryption screen (ours, with no conversation
	// open); OnOverlay follows the screens.
	var shown []string
	s.w.OnOverlay = func(title string) { shown = append(shown, title) }
	press(fyne.KeyW, fyne.KeyModifierShortcutDefault)
	press(fyne.KeyE, fyne.KeyModifierShortcutDefault|fyne.KeyModifierShift)
	s.w.Wait()
	if s.w.Overlay() != app.DevicesTitle || s.w.DevicesScreen() == nil {
		t.Fatalf("Ctrl+Shift+E showed %q", s.w.Overlay())
	}
	if want := []string{"", app.DevicesTitle}; !slices.Equal(shown, want) {
		t.Errorf("OnOverlay saw %q, want %q", shown, want)
	}
}

func TestNewChatEmojiAndTrustWarning(t *testing.T) {
	s := newMain(t)
	s.w.Shortcuts(s.win.Canvas())
	s.win.Canvas().(fyne.Shortcutable).TypedShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyN, Modifier: fyne.KeyModifierShortcutDefault})
	over := s.win.Canvas().Overlays().Top()
	if over == nil || s.w.Overlay() != app.NewChatTitle {
		t.Fatalf("Ctrl+N showed %q", s.w.Overlay())
	}
	entries := findEntries(t, over)
	if len(entries) != 2 {
		t.Fatalf("%d entries in the new chat form", len(entries))
	}
	test.Type(entries[0], "mercutio@verona.lit")
	test.Type(entries[1], "A plague o' both your houses!")
	test.Tap(findButton(t, over, app.NewChatSendLabel))
	if got := s.e.next(t, false); got != "send mercutio@verona.lit A plague o' both your houses!" {
		t.Fatalf("engine call = %q", got)
	}
	// The engine queues it in a new conversation: it opens.
	s.h.mu.Lock()
	s.h.convs = append(s.h.convs, client.Conversation{ID: 3, Account: 1, Peer: mustJID(t, "mercutio@verona.lit"), LastActivity: day.Add(time.Hour)})
	s.h.mu.Unlock()
	out := client.Message{ID: 30, Conversation: 3, Direction: client.Outbound, Sender: "romeo@montague.lit", Body: "A plague o' both your houses!", Time: day.Add(time.Hour), State: client.StatePending}
	s.h.add(out)
	s.feed(t, client.MessageQueued{Message: out})
	s.w.Wait()
	if tl := s.w.View().Timeline(); tl.Conversation != 3 || len(tl.Messages) != 1 {
		t.Fatalf("new conversation not opened: %d (%d messages)", tl.Conversation, len(tl.Messages))
	}

	// The emoji picker types into the composer.
	emoji := findIconButton(t, s.win.Canvas().Content(), "tern-emoji.svg")
	if emoji == nil {
		t.Fatal("no emoji button")
	}
	test.Tap(emoji)
	pick := s.win.Canvas().Overlays().Top()
	test.Tap(findButton(t, pick, chat.CommonEmoji()[0]))
	if got := s.w.View().Composer().Text; got != chat.CommonEmoji()[0] {
		t.Fatalf("composer = %q", got)
	}

	// A new device of the contact asks for a decision.
	s.feed(t, client.TrustNeeded{Owner: mustJID(t, "mercutio@verona.lit"), Devices: []uint32{7}})
	if got := s.w.View().Status(); !strings.Contains(got, "wait for your decision") {
		t.Fatalf("status = %q", got)
	}
}

// findEntries returns the visible entries under o.
func findEntries(t *testing.T, o fyne.CanvasObject) []*widget.Entry {
	if !o.Visible() {
		return nil
	}
	switch e := o.(type) {
	case *widget.Entry:
		return []*widget.Entry{e}
	case *widgets.Entry:
		return []*widget.Entry{&e.Entry}
	}
	var children []fyne.CanvasObject
	switch v := o.(type) {
	case *fyne.Container:
		children = v.Objects
	case fyne.Widget:
		children = test.TempWidgetRenderer(t, v).Objects()
	}
	var out []*widget.Entry
	for _, c := range children {
		out = append(out, findEntries(t, c)...)
	}
	return out
}

// findIconButton returns the visible button whose icon is the resource
// named name.
func findIconButton(t *testing.T, o fyne.CanvasObject, name string) *widget.Button {
	if !o.Visible() {
		return nil
	}
	if b, ok := o.(*widget.Button); ok && b.Icon != nil && strings.Contains(b.Icon.Name(), name) {
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
		if b := findIconButton(t, c, name); b != nil {
			return b
		}
	}
	return nil
}
