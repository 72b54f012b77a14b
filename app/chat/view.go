package chat

import (
	"context"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tern-im/tern/app/model"
	"github.com/tern-im/tern/app/widgets"
	"github.com/tern-im/tern/protocol/client"
)

// LoadOlderLabel is the text of the button above the timeline that loads
// older messages.
const LoadOlderLabel = "Load older messages"

// View is the chat view: a header with the peer, the timeline (a
// virtualized list of message rows) and the composer.
type View struct {
	// OnLoadOlder is called when the user asks for older messages.
	OnLoadOlder func(client.ConversationID)
	// Now returns the current time, for day separators (nil: time.Now).
	Now func() time.Time

	tasks   *Tasks
	engine  func(client.AccountID) model.Engine
	ownName func(client.AccountID) string

	tl       model.Timeline
	rows     []widgets.Row
	width    float32 // the width row heights were measured for
	measure  *widgets.MessageRow
	title    *widget.Label
	status   *widget.Label
	older    *widget.Button
	list     *timelineList
	composer *Composer
	content  fyne.CanvasObject
	empty    fyne.CanvasObject
	root     *fyne.Container
}

// NewView returns an empty chat view. engine returns the engine of an
// account (nil when it has none); ownName our name on an account. Engine
// calls run as tasks.
func NewView(tasks *Tasks, engine func(client.AccountID) model.Engine, ownName func(client.AccountID) string) *View {
	v := &View{tasks: tasks, engine: engine, ownName: ownName, measure: widgets.NewMessageRow()}
	v.title = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	v.status = widget.NewLabel("")
	v.status.Importance = widget.DangerImportance
	v.status.Wrapping = fyne.TextWrapWord
	v.status.Hide()
	v.older = widget.NewButton(LoadOlderLabel, func() {
		if v.OnLoadOlder != nil {
			v.OnLoadOlder(v.tl.Conversation)
		}
	})
	v.older.Importance = widget.LowImportance
	v.older.Hide()
	v.list = &timelineList{onResize: v.resized}
	v.list.Length = func() int { return len(v.rows) }
	v.list.CreateItem = func() fyne.CanvasObject {
		r := widgets.NewMessageRow()
		r.OnRetry = v.retry
		return r
	}
	v.list.UpdateItem = func(id widget.ListItemID, o fyne.CanvasObject) {
		if id < len(v.rows) {
			o.(*widgets.MessageRow).Set(v.rows[id], v.width)
		}
	}
	v.list.ExtendBaseWidget(v.list)
	v.composer = newComposer(v)
	header := container.NewVBox(container.NewPadded(v.title), widget.NewSeparator())
	bottom := container.NewVBox(v.status, container.NewPadded(v.composer))
	v.content = container.NewBorder(container.NewVBox(header, v.older), bottom, nil, nil, v.list)
	v.empty = container.NewCenter(widget.NewLabel(NoConversationText))
	v.root = container.NewStack(v.empty)
	return v
}

// Content returns the view's root object.
func (v *View) Content() fyne.CanvasObject { return v.root }

// Composer returns the composer.
func (v *View) Composer() *Composer { return v.composer }

// Timeline returns the timeline shown.
func (v *View) Timeline() model.Timeline { return v.tl }

// Rows returns what the timeline's rows show.
func (v *View) Rows() []widgets.Row { return v.rows }

// Status returns the text of the error line ("" when hidden).
func (v *View) Status() string {
	if !v.status.Visible() {
		return ""
	}
	return v.status.Text
}

// SetTitle sets the header: the peer and the account's connection state.
func (v *View) SetTitle(s string) { v.title.SetText(s) }

// Show shows a timeline snapshot; it scrolls to the newest message when the
// conversation changes or a message is appended.
func (v *View) Show(t model.Timeline) {
	prev := v.tl
	v.tl = t
	if len(v.root.Objects) != 1 || v.root.Objects[0] != v.content {
		v.root.Objects = []fyne.CanvasObject{v.content}
		v.root.Refresh()
	}
	if prev.Conversation != t.Conversation {
		v.composer.reset()
		v.status.Hide()
	}
	v.older.Hidden = !t.HasOlder
	v.older.Refresh()
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	v.rows = Rows(t, v.ownName(t.Account), now())
	v.measureRows()
	v.list.Refresh()
	last := func(t model.Timeline) client.MessageID {
		if len(t.Messages) == 0 {
			return 0
		}
		return t.Messages[len(t.Messages)-1].ID
	}
	if prev.Conversation != t.Conversation || last(prev) != last(t) {
		v.list.ScrollToBottom()
	}
}

// resized re-measures the rows when the timeline's width changes.
func (v *View) resized(width float32) {
	if width == v.width {
		return
	}
	v.width = width
	v.measureRows()
	v.list.Refresh()
}

// measureRows sets each row's height for the current width: the list is
// virtualized, so heights are known without creating every row.
func (v *View) measureRows() {
	if v.width <= 0 {
		return
	}
	for i, r := range v.rows {
		v.measure.Set(r, v.width)
		v.list.SetItemHeight(i, v.measure.MinSize().Height)
	}
}

// showError shows a failed engine call. Fyne thread only.
func (v *View) showError(msg string) {
	v.status.SetText(msg)
	v.status.Show()
}

// run runs an engine call of the shown conversation's account as a task;
// a failure is shown in the status line.
func (v *View) run(what string, f func(ctx context.Context, e model.Engine) error) {
	e := v.engine(v.tl.Account)
	if e == nil {
		v.showError(what + ": the account is not running.")
		return
	}
	conv := v.tl.Conversation
	v.status.Hide()
	v.tasks.Go(func(ctx context.Context) {
		if err := f(ctx, e); err != nil && ctx.Err() == nil {
			fyne.Do(func() {
				if v.tl.Conversation == conv {
					v.showError(what + ": " + err.Error())
				}
			})
		}
	})
}

// retry sends a failed message again.
func (v *View) retry(id client.MessageID) {
	v.run("Could not retry", func(ctx context.Context, e model.Engine) error { return e.Retry(ctx, id) })
}

// send sends text, or corrects the message being edited. Fyne thread only.
func (v *View) send(text string, editing client.MessageID) bool {
	if strings.TrimSpace(text) == "" || v.tl.Conversation == 0 {
		return false
	}
	if editing != 0 {
		v.run("Could not edit", func(ctx context.Context, e model.Engine) error { return e.Correct(ctx, editing, text) })
		return true
	}
	peer := v.tl.Peer
	v.run("Could not send", func(ctx context.Context, e model.Engine) error {
		_, err := e.SendMessage(ctx, peer, text, client.SendOptions{})
		return err
	})
	return true
}

// timelineList is a widget.List that reports its width changes.
type timelineList struct {
	widget.List
	onResize func(width float32)
}

// Resize implements fyne.CanvasObject.
func (l *timelineList) Resize(s fyne.Size) {
	l.List.Resize(s)
	l.onResize(s.Width - theme.ScrollBarSize())
}

// Composer is the message entry: Enter sends, Shift+Enter starts a new
// line, Escape clears (or cancels an edit), and Up in an empty composer
// edits our last message (XEP-0308).
type Composer struct {
	widget.Entry
	view    *View
	shift   bool
	editing client.MessageID
}

func newComposer(v *View) *Composer {
	c := &Composer{view: v}
	c.MultiLine = true
	c.Wrapping = fyne.TextWrapWord
	c.SetMinRowsVisible(2)
	c.ExtendBaseWidget(c)
	c.SetPlaceHolder(ComposerPlaceholder)
	return c
}

// Editing returns the message being edited, or 0.
func (c *Composer) Editing() client.MessageID { return c.editing }

// KeyDown implements desktop.Keyable: it tracks Shift.
func (c *Composer) KeyDown(k *fyne.KeyEvent) {
	if k.Name == desktop.KeyShiftLeft || k.Name == desktop.KeyShiftRight {
		c.shift = true
	}
	c.Entry.KeyDown(k)
}

// KeyUp implements desktop.Keyable.
func (c *Composer) KeyUp(k *fyne.KeyEvent) {
	if k.Name == desktop.KeyShiftLeft || k.Name == desktop.KeyShiftRight {
		c.shift = false
	}
	c.Entry.KeyUp(k)
}

// TypedKey implements fyne.Focusable.
func (c *Composer) TypedKey(k *fyne.KeyEvent) {
	switch k.Name {
	case fyne.KeyReturn, fyne.KeyEnter:
		if c.shift {
			// The entry has no OnSubmitted, so Shift+Enter is a new line.
			c.Entry.TypedKey(k)
			return
		}
		if c.view.send(c.Text, c.editing) {
			c.reset()
		}
		return
	case fyne.KeyEscape:
		c.reset()
		return
	case fyne.KeyUp:
		if c.Text == "" && c.editing == 0 {
			if m, ok := c.view.tl.LastOwn(); ok {
				c.editing = m.ID
				c.SetPlaceHolder(EditingPlaceholder)
				body := m.Body
				if m.LastCorrection != nil {
					body = m.LastCorrection.Body
				}
				c.SetText(body)
				// The cursor goes to the end, to go on typing.
				lines := strings.Split(body, "\n")
				c.CursorRow = len(lines) - 1
				c.CursorColumn = len([]rune(lines[len(lines)-1]))
				c.Refresh()
				return
			}
		}
	}
	c.Entry.TypedKey(k)
}

// reset empties the composer and ends an edit.
func (c *Composer) reset() {
	c.editing = 0
	c.SetPlaceHolder(ComposerPlaceholder)
	c.SetText("")
}
