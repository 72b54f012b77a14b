// Package chat is Tern's main screen: the conversation list (XEP-0392
// coloured avatars, unread counts, previews, a filter) and the chat view
// with its virtualized timeline and composer (XEP-0308 corrections with Up).
// Its widgets are only touched on the Fyne thread; engine calls run on
// goroutines it owns and waits for.
package chat

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tern-im/tern/app/model"
	terntheme "github.com/tern-im/tern/app/theme"
	"github.com/tern-im/tern/app/widgets"
	"github.com/tern-im/tern/protocol/client"
)

// Texts of the chat screen that tests and screen readers rely on.
const (
	// FilterPlaceholder is shown in the empty conversation filter.
	FilterPlaceholder = "Filter conversations"
	// ComposerPlaceholder is shown in the empty composer.
	ComposerPlaceholder = "Write a message"
	// EditingPlaceholder is shown in the composer while it edits a message.
	EditingPlaceholder = "Edit message (Escape cancels)"
	// NoConversationText fills the chat view before a conversation is opened.
	NoConversationText = "Select a conversation"
)

// Tasks runs engine calls off the Fyne thread and waits for them.
type Tasks struct {
	ctx context.Context
	wg  sync.WaitGroup
	// ui serialises Do: a real driver runs fyne.Do's functions one at a
	// time on its thread, but the test driver runs them inline on the
	// calling goroutine.
	ui sync.Mutex
}

// NewTasks returns a task group whose tasks run under ctx.
func NewTasks(ctx context.Context) *Tasks { return &Tasks{ctx: ctx} }

// Go runs f on a goroutine of its own.
func (t *Tasks) Go(f func(ctx context.Context)) {
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		f(t.ctx)
	}()
}

// Wait blocks until every task has returned; cancel their context first.
func (t *Tasks) Wait() { t.wg.Wait() }

// Do hands f to the Fyne thread (fyne.Do), the one crossing of DESIGN.md
// §3. Call it from tasks, never from the Fyne thread itself.
func (t *Tasks) Do(f func()) {
	t.ui.Lock()
	defer t.ui.Unlock()
	fyne.Do(f)
}

// List is the conversation list with its filter box: pinned conversations
// first, then the newest activity; archived ones behind a toggle.
type List struct {
	// OnSelected is called with the conversation the user picks.
	OnSelected func(model.Conversation)
	// OnPin and OnArchive are called when the user pins or archives a
	// conversation (or undoes it) from its menu.
	OnPin, OnArchive func(c model.Conversation, on bool)
	// Now returns the current time, for the rows' times (nil: time.Now).
	Now func() time.Time

	all      []model.Conversation
	shown    []model.Conversation
	selected client.ConversationID
	filter   *filterEntry
	archived *widget.Check
	list     *widget.List
	content  fyne.CanvasObject
}

// ShowArchivedLabel is the text of the toggle that shows the archived
// conversations instead of the others.
const ShowArchivedLabel = "Archived"

// NewList returns an empty conversation list.
func NewList() *List {
	l := &List{}
	l.filter = &filterEntry{}
	l.filter.ExtendBaseWidget(l.filter)
	l.filter.SetPlaceHolder(FilterPlaceholder)
	l.filter.ActionItem = widget.NewIcon(theme.SearchIcon())
	l.filter.OnChanged = func(string) { l.apply() }
	l.archived = widget.NewCheck(ShowArchivedLabel, func(bool) { l.apply() })
	l.list = widget.NewList(
		func() int { return len(l.shown) },
		func() fyne.CanvasObject { return newListRow(l) },
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id < len(l.shown) {
				o.(*listRow).set(l.shown[id], l.now())
			}
		},
	)
	l.list.OnSelected = func(id widget.ListItemID) {
		if id < len(l.shown) {
			l.selected = l.shown[id].ID
			if l.OnSelected != nil {
				l.OnSelected(l.shown[id])
			}
		}
	}
	top := container.NewPadded(container.NewBorder(nil, nil, nil, l.archived, l.filter))
	l.content = container.NewBorder(top, nil, nil, nil, l.list)
	return l
}

func (l *List) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// Content returns the list's root object.
func (l *List) Content() fyne.CanvasObject { return l.content }

// Set replaces the conversations (in the model's order).
func (l *List) Set(cs []model.Conversation) {
	l.all = cs
	l.apply()
}

// Shown returns the conversations the filter lets through.
func (l *List) Shown() []model.Conversation { return l.shown }

// Filter returns the filter box.
func (l *List) Filter() *widget.Entry { return &l.filter.Entry }

// FilterBox returns the filter box widget as it sits in the window.
func (l *List) FilterBox() fyne.Shortcutable { return l.filter }

// SetShortcuts offers the filter box's shortcuts to f first (see
// Composer.OnShortcut).
func (l *List) SetShortcuts(f func(fyne.Shortcut) bool) { l.filter.onShortcut = f }

// filterEntry is the filter box: an entry that offers shortcuts to the
// window first.
type filterEntry struct {
	widget.Entry
	onShortcut func(fyne.Shortcut) bool
}

// TypedShortcut implements fyne.Shortcutable.
func (e *filterEntry) TypedShortcut(s fyne.Shortcut) {
	if e.onShortcut != nil && e.onShortcut(s) {
		return
	}
	e.Entry.TypedShortcut(s)
}

// ArchivedToggle returns the toggle that shows the archived conversations.
func (l *List) ArchivedToggle() *widget.Check { return l.archived }

// Select selects the conversation id, if it is shown.
func (l *List) Select(id client.ConversationID) {
	for i, c := range l.shown {
		if c.ID == id {
			l.list.ScrollTo(i)
			l.list.Select(i)
			return
		}
	}
}

// Unselect clears the selection.
func (l *List) Unselect() {
	l.selected = 0
	l.list.UnselectAll()
}

// Step selects the conversation delta rows after (or before, when
// negative) the selected one, and returns it; false when there is none.
func (l *List) Step(delta int) (model.Conversation, bool) {
	if len(l.shown) == 0 {
		return model.Conversation{}, false
	}
	i := slices.IndexFunc(l.shown, func(c model.Conversation) bool { return c.ID == l.selected })
	switch {
	case i < 0 && delta > 0:
		i = 0
	case i < 0:
		i = len(l.shown) - 1
	default:
		i += delta
	}
	if i < 0 || i >= len(l.shown) {
		return model.Conversation{}, false
	}
	l.list.ScrollTo(i)
	l.list.Select(i)
	return l.shown[i], true
}

func (l *List) apply() {
	l.shown = model.Filter(model.Visible(l.all, l.archived.Checked), l.filter.Text)
	// Keep the selection on the same conversation as rows move.
	l.list.UnselectAll()
	if i := slices.IndexFunc(l.shown, func(c model.Conversation) bool { return c.ID == l.selected }); i >= 0 {
		sel := l.list.OnSelected
		l.list.OnSelected = nil
		l.list.Select(i)
		l.list.OnSelected = sel
	}
	l.list.Refresh()
}

// Texts of the conversation list.
const (
	// TypingText replaces the preview while the contact types (XEP-0085).
	TypingText = "typing…"
	// PinLabel, UnpinLabel, ArchiveLabel and UnarchiveLabel are the items
	// of a conversation's menu.
	PinLabel       = "Pin"
	UnpinLabel     = "Unpin"
	ArchiveLabel   = "Archive"
	UnarchiveLabel = "Unarchive"
)

// listRow is one conversation: avatar with presence, name, time, preview
// (or "typing…") and unread badge; a secondary tap opens its menu.
type listRow struct {
	widget.BaseWidget
	list    *List
	c       model.Conversation
	avatar  *widgets.PresenceDot
	name    *widget.Label
	pin     *widget.Icon
	when    *widget.Label
	preview *widget.Label
	unread  *widgets.Badge
}

func newListRow(l *List) *listRow {
	r := &listRow{
		list:    l,
		avatar:  widgets.NewPresenceDot(36),
		name:    widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		pin:     widget.NewIcon(terntheme.PinIcon()),
		when:    widget.NewLabel(""),
		preview: widget.NewLabel(""),
		unread:  widgets.NewBadge(),
	}
	r.name.Truncation = fyne.TextTruncateEllipsis
	r.preview.Truncation = fyne.TextTruncateEllipsis
	r.preview.Importance = widget.LowImportance
	r.preview.SizeName = theme.SizeNameCaptionText
	r.when.SizeName = theme.SizeNameCaptionText
	r.when.Importance = widget.LowImportance
	r.ExtendBaseWidget(r)
	return r
}

// WhenText is the time of a conversation's last activity as the list
// shows it: the time today, the weekday within a week, else the date.
func WhenText(t, now time.Time) string {
	if t.IsZero() {
		return ""
	}
	t, now = t.Local(), now.Local()
	switch {
	case t.Format(time.DateOnly) == now.Format(time.DateOnly):
		return t.Format("15:04")
	case now.Sub(t) < 6*24*time.Hour:
		return t.Format("Mon")
	case t.Year() == now.Year():
		return t.Format("2 Jan")
	}
	return t.Format("2 Jan 2006")
}

func (r *listRow) set(c model.Conversation, now time.Time) {
	r.c = c
	r.avatar.Avatar.Set(c.Peer.String(), c.Name)
	r.avatar.SetPresence(c.Presence)
	r.name.SetText(c.Name)
	r.pin.Hidden = !c.Pinned
	r.pin.Refresh()
	r.when.SetText(WhenText(c.LastActivity, now))
	if c.ChatState == client.ChatComposing {
		r.preview.TextStyle.Italic = true
		r.preview.Importance = widget.HighImportance
		r.preview.SetText(TypingText)
	} else {
		r.preview.TextStyle.Italic = false
		r.preview.Importance = widget.LowImportance
		r.preview.SetText(c.Preview)
	}
	if c.Unread > 0 {
		r.unread.SetText(strconv.Itoa(c.Unread))
		r.unread.Show()
	} else {
		r.unread.SetText("")
		r.unread.Hide()
	}
}

// Tapped implements fyne.Tappable: a click opens the conversation. The
// row must handle it itself: being SecondaryTappable, it is the object a
// real driver's mouse click lands on (the GLFW driver picks the deepest
// object that takes any kind of tap), so the list item around it never
// sees the click. The test driver's Tap only looks for fyne.Tappable and
// hides this.
func (r *listRow) Tapped(*fyne.PointEvent) { r.list.Select(r.c.ID) }

// TappedSecondary implements fyne.SecondaryTappable: the conversation's
// menu (pin, archive).
func (r *listRow) TappedSecondary(e *fyne.PointEvent) {
	c, l := r.c, r.list
	pin := fyne.NewMenuItem(PinLabel, func() {
		if l.OnPin != nil {
			l.OnPin(c, true)
		}
	})
	if c.Pinned {
		pin = fyne.NewMenuItem(UnpinLabel, func() {
			if l.OnPin != nil {
				l.OnPin(c, false)
			}
		})
	}
	archive := fyne.NewMenuItem(ArchiveLabel, func() {
		if l.OnArchive != nil {
			l.OnArchive(c, true)
		}
	})
	if c.Archived {
		archive = fyne.NewMenuItem(UnarchiveLabel, func() {
			if l.OnArchive != nil {
				l.OnArchive(c, false)
			}
		})
	}
	if cv := fyne.CurrentApp().Driver().CanvasForObject(r); cv != nil {
		widget.ShowPopUpMenuAtPosition(fyne.NewMenu("", pin, archive), cv, e.AbsolutePosition)
	}
}

func (r *listRow) CreateRenderer() fyne.WidgetRenderer {
	top := container.NewBorder(nil, nil, nil, container.NewHBox(r.pin, r.when), r.name)
	bottom := container.NewBorder(nil, nil, nil, container.NewCenter(r.unread), r.preview)
	text := container.New(&tightVBox{}, top, bottom)
	return widget.NewSimpleRenderer(container.NewBorder(nil, nil, container.NewCenter(r.avatar), nil, text))
}

// tightVBox stacks objects without padding between them.
type tightVBox struct{}

func (tightVBox) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	y := float32(0)
	for _, o := range objs {
		h := o.MinSize().Height
		o.Move(fyne.NewPos(0, y))
		o.Resize(fyne.NewSize(size.Width, h))
		y += h - theme.InnerPadding()/2
	}
}

func (tightVBox) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var s fyne.Size
	for _, o := range objs {
		m := o.MinSize()
		s.Width = max(s.Width, m.Width)
		s.Height += m.Height - theme.InnerPadding()/2
	}
	return s
}

// DayText is the day separator of a timeline for a message at t, seen at now.
func DayText(t, now time.Time) string {
	t, now = t.Local(), now.Local()
	y1, m1, d1 := t.Date()
	y2, m2, d2 := now.Date()
	switch {
	case y1 == y2 && m1 == m2 && d1 == d2:
		return "Today"
	case now.AddDate(0, 0, -1).Format(time.DateOnly) == t.Format(time.DateOnly):
		return "Yesterday"
	case y1 == y2:
		return t.Format("Monday, 2 January")
	}
	return t.Format("2 January 2006")
}

// groupGap is how far apart two messages of one sender may be and still be
// grouped under one name.
const groupGap = 5 * time.Minute

// Rows turns a timeline into what its rows show: day separators where the
// local day changes, the sender's name on the first message of each group
// of consecutive messages from one sender, the quoted context of replies
// and decryption failures. own names our side.
func Rows(t model.Timeline, own string, now time.Time) []widgets.Row {
	rows := make([]widgets.Row, len(t.Messages))
	var byRef map[string]int // reply references to loaded messages, built on demand
	type date struct {
		y int
		m time.Month
		d int
	}
	var prevDate date
	for i, m := range t.Messages {
		local := m.Time.Local()
		r := widgets.Row{Message: m, Time: local.Format("15:04"), Focus: m.ID == t.Focus && t.Focus != 0}
		r.Author = author(t, m, own)
		var d date
		d.y, d.m, d.d = local.Date()
		newDay := i == 0 || d != prevDate
		prevDate = d
		if newDay {
			r.Day = DayText(m.Time, now)
		}
		if newDay || t.Messages[i-1].Direction != m.Direction || t.Messages[i-1].Sender != m.Sender ||
			m.Time.Sub(t.Messages[i-1].Time) > groupGap {
			r.Sender = r.Author
		}
		if m.DecryptFailed() {
			r.Undecryptable = m.Failure
			r.Repairable = m.SenderDevice != 0
		}
		if m.ReplyTo.ID != "" {
			if byRef == nil {
				byRef = replyIndex(t.Messages)
			}
			if j, ok := byRef[m.ReplyTo.ID]; ok {
				q := t.Messages[j]
				r.Reply = &widgets.Reply{Sender: author(t, q, own), Text: quoteText(q)}
			} else {
				r.Reply = &widgets.Reply{Text: EarlierMessageText}
			}
		}
		rows[i] = r
	}
	return rows
}

// EarlierMessageText stands for the quoted context of a reply to a message
// that is not loaded.
const EarlierMessageText = "Reply to an earlier message"

// quoteLength bounds the quoted context of a reply, in runes.
const quoteLength = 120

// quoteText is the quoted context of a reply to q.
func quoteText(q client.Message) string {
	s := model.Preview(q)
	s = strings.TrimPrefix(s, "You: ")
	if r := []rune(s); len(r) > quoteLength {
		s = string(r[:quoteLength-1]) + "…"
	}
	return s
}

// author names the author of m.
func author(t model.Timeline, m client.Message, own string) string {
	switch {
	case m.Direction == client.Outbound:
		return own
	case m.Sender != "":
		return m.Sender
	}
	return t.Peer.String()
}

// replyIndex maps the ids replies use (XEP-0461: origin-id, stanza id,
// stanza-ids) to the index of their message.
func replyIndex(ms []client.Message) map[string]int {
	idx := make(map[string]int, len(ms))
	for i, m := range ms {
		for _, sid := range m.StanzaIDs {
			idx[sid.ID] = i
		}
		if m.XMLID != "" {
			idx[m.XMLID] = i
		}
		if m.OriginID != "" {
			idx[m.OriginID] = i
		}
	}
	return idx
}
