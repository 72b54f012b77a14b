// Package chat is Tern's main screen: the conversation list (XEP-0392
// coloured avatars, unread counts, previews, a filter) and the chat view
// with its virtualized timeline and composer (XEP-0308 corrections with Up).
// Its widgets are only touched on the Fyne thread; engine calls run on
// goroutines it owns and waits for.
package chat

import (
	"context"
	"strconv"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tern-im/tern/app/model"
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

// List is the conversation list with its filter box.
type List struct {
	// OnSelected is called with the conversation the user picks.
	OnSelected func(model.Conversation)

	all     []model.Conversation
	shown   []model.Conversation
	filter  *widget.Entry
	list    *widget.List
	content fyne.CanvasObject
}

// NewList returns an empty conversation list.
func NewList() *List {
	l := &List{}
	l.filter = widget.NewEntry()
	l.filter.SetPlaceHolder(FilterPlaceholder)
	l.filter.ActionItem = widget.NewIcon(theme.SearchIcon())
	l.filter.OnChanged = func(string) { l.apply() }
	l.list = widget.NewList(
		func() int { return len(l.shown) },
		func() fyne.CanvasObject { return newListRow() },
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id < len(l.shown) {
				o.(*listRow).set(l.shown[id])
			}
		},
	)
	l.list.OnSelected = func(id widget.ListItemID) {
		if id < len(l.shown) && l.OnSelected != nil {
			l.OnSelected(l.shown[id])
		}
	}
	l.content = container.NewBorder(container.NewPadded(l.filter), nil, nil, nil, l.list)
	return l
}

// Content returns the list's root object.
func (l *List) Content() fyne.CanvasObject { return l.content }

// Set replaces the conversations (newest activity first).
func (l *List) Set(cs []model.Conversation) {
	l.all = cs
	l.apply()
}

// Shown returns the conversations the filter lets through.
func (l *List) Shown() []model.Conversation { return l.shown }

// Filter returns the filter box.
func (l *List) Filter() *widget.Entry { return l.filter }

// Select selects the conversation id, if it is shown.
func (l *List) Select(id client.ConversationID) {
	for i, c := range l.shown {
		if c.ID == id {
			l.list.Select(i)
			return
		}
	}
}

func (l *List) apply() {
	l.shown = model.Filter(l.all, l.filter.Text)
	l.list.Refresh()
}

// listRow is one conversation: avatar, name, preview and unread badge.
type listRow struct {
	widget.BaseWidget
	avatar  *widgets.Avatar
	name    *widget.Label
	preview *widget.Label
	unread  *widget.Label
}

func newListRow() *listRow {
	r := &listRow{
		avatar:  widgets.NewAvatar("", "", 36),
		name:    widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		preview: widget.NewLabel(""),
		unread:  widget.NewLabelWithStyle("", fyne.TextAlignTrailing, fyne.TextStyle{Bold: true}),
	}
	r.name.Truncation = fyne.TextTruncateEllipsis
	r.preview.Truncation = fyne.TextTruncateEllipsis
	r.preview.Importance = widget.LowImportance
	r.preview.SizeName = theme.SizeNameCaptionText
	r.unread.Importance = widget.HighImportance
	r.ExtendBaseWidget(r)
	return r
}

func (r *listRow) set(c model.Conversation) {
	r.avatar.Set(c.Peer.String(), c.Name)
	r.name.SetText(c.Name)
	r.preview.SetText(c.Preview)
	if c.Unread > 0 {
		r.unread.SetText(strconv.Itoa(c.Unread))
		r.unread.Show()
	} else {
		r.unread.SetText("")
		r.unread.Hide()
	}
}

func (r *listRow) CreateRenderer() fyne.WidgetRenderer {
	text := container.NewVBox(r.name, r.preview)
	return widget.NewSimpleRenderer(container.NewBorder(nil, nil, container.NewCenter(r.avatar), r.unread, text))
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
// local day changes, and the sender's name on the first message of each
// group of consecutive messages from one sender. own names our side.
func Rows(t model.Timeline, own string, now time.Time) []widgets.Row {
	rows := make([]widgets.Row, len(t.Messages))
	for i, m := range t.Messages {
		r := widgets.Row{Message: m, Time: m.Time.Local().Format("15:04")}
		day := DayText(m.Time, now)
		newDay := i == 0 || DayText(t.Messages[i-1].Time, now) != day
		if newDay {
			r.Day = day
		}
		if newDay || t.Messages[i-1].Direction != m.Direction || t.Messages[i-1].Sender != m.Sender ||
			m.Time.Sub(t.Messages[i-1].Time) > groupGap {
			switch {
			case m.Direction == client.Outbound:
				r.Sender = own
			case m.Sender != "":
				r.Sender = m.Sender
			default:
				r.Sender = t.Peer.String()
			}
		}
		rows[i] = r
	}
	return rows
}
