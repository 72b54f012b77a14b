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
	var refs replyIndex
	rows := make([]widgets.Row, len(t.Messages))
	for i := range rows {
		rows[i] = makeRow(t, i, own, now, &refs)
	}
	return rows
}

// day is a calendar day in local time.
type day struct {
	y int
	m time.Month
	d int
}

// dayOf returns the local day of t.
func dayOf(t time.Time) day {
	var d day
	d.y, d.m, d.d = t.Local().Date()
	return d
}

// makeRow builds row i of t. It depends on message i, on the message
// before it (day separator and grouping), on the message a reply quotes,
// on the focus, on own and on the day of now: nothing else.
func makeRow(t model.Timeline, i int, own string, now time.Time, refs *replyIndex) widgets.Row {
	m := &t.Messages[i]
	local := m.Time.Local()
	r := widgets.Row{Message: *m, Time: local.Format("15:04"), Focus: m.ID == t.Focus && t.Focus != 0}
	r.Author = author(t, *m, own)
	newDay := i == 0
	var prev *client.Message
	if i > 0 {
		prev = &t.Messages[i-1]
		newDay = dayOf(prev.Time) != dayOf(m.Time)
	}
	if newDay {
		r.Day = DayText(m.Time, now)
	}
	if newDay || prev.Direction != m.Direction || prev.Sender != m.Sender || m.Time.Sub(prev.Time) > groupGap {
		r.Sender = r.Author
	}
	if m.DecryptFailed() {
		r.Undecryptable = m.Failure
		r.Repairable = m.SenderDevice != 0
	}
	if m.ReplyTo.ID != "" {
		if j, ok := refs.find(t.Messages, m.ReplyTo.ID); ok {
			q := t.Messages[j]
			r.Reply = &widgets.Reply{Sender: author(t, q, own), Text: quoteText(q)}
		} else {
			r.Reply = &widgets.Reply{Text: EarlierMessageText}
		}
	}
	return r
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
// stanza-ids) to the index of their message; when messages share an id,
// the newest one has it. It is built when a reply first needs it, and
// keeps positions relative to base, so that prepending messages does not
// rewrite the entries of the others.
type replyIndex struct {
	pos  map[string]int // index - base; nil until built
	base int
}

// find returns the index in ms (the messages indexed) of the message with
// id, building the index on first use.
func (x *replyIndex) find(ms []client.Message, id string) (int, bool) {
	if x.pos == nil {
		x.pos, x.base = make(map[string]int, len(ms)), 0
		x.add(ms, 0)
	}
	p, ok := x.pos[id]
	return p + x.base, ok
}

// add indexes ms[from:], which follow the messages indexed (appended);
// their ids win over those of older messages. Nothing is done before the
// index is built.
func (x *replyIndex) add(ms []client.Message, from int) {
	if x.pos == nil {
		return
	}
	for i := from; i < len(ms); i++ {
		eachRefID(&ms[i], func(id string) { x.pos[id] = i - x.base })
	}
}

// prepend indexes ms[:k], put before the messages indexed; an id that a
// newer message has keeps naming it.
func (x *replyIndex) prepend(ms []client.Message, k int) {
	if x.pos == nil {
		return
	}
	x.base += k
	for i := k - 1; i >= 0; i-- {
		eachRefID(&ms[i], func(id string) {
			if _, ok := x.pos[id]; !ok {
				x.pos[id] = i - x.base
			}
		})
	}
}

// eachRefID calls f with each id by which a reply may name m (XEP-0461).
func eachRefID(m *client.Message, f func(id string)) {
	for _, sid := range m.StanzaIDs {
		if sid.ID != "" {
			f(sid.ID)
		}
	}
	if m.XMLID != "" {
		f(m.XMLID)
	}
	if m.OriginID != "" {
		f(m.OriginID)
	}
}

// timelineRows are the rows of the timeline a view shows, kept up to date
// as new snapshots of it come: only the rows a change touches are built
// again (the messages added or changed, the row after each of them, whose
// day separator and grouping depend on its predecessor, and the replies
// quoting them), so that a live message or a delivery state costs the
// same with 50 or 50,000 messages loaded. The result is always what Rows
// returns for the snapshot.
type timelineRows struct {
	tl    model.Timeline
	own   string
	today day // the day of now the day separators were written for
	built bool
	// The rows are buf[start:]; the room before start takes the pages of
	// older messages.
	buf   []widgets.Row
	start int
	refs  replyIndex
	// replies holds, ascending, the indices (minus base) of the rows that
	// quote a message; base grows as pages are prepended.
	replies []int
	base    int
}

// rowsDelta says which rows an update changed.
type rowsDelta struct {
	// all says that any row may have changed or moved.
	all bool
	// prepended rows were put before the first one: the others moved down.
	prepended int
	// changed are the rows built again, ascending (unless all).
	changed []int
}

// rows returns the rows. They are valid until the next update, which may
// change them in place.
func (x *timelineRows) rows() []widgets.Row { return x.buf[x.start:] }

// update makes the rows those of t, seen by own at now, and reports which
// changed.
func (x *timelineRows) update(t model.Timeline, own string, now time.Time) rowsDelta {
	old := x.tl
	today := dayOf(now)
	if !x.built || t.Conversation != old.Conversation || t.Account != old.Account || t.Peer != old.Peer ||
		t.Focus != old.Focus || own != x.own || today != x.today {
		x.rebuild(t, own, now, today)
		return rowsDelta{all: true}
	}
	k, changed, ok := align(old.Messages, t.Messages)
	if !ok {
		x.rebuild(t, own, now, today)
		return rowsDelta{all: true}
	}
	a, b := len(old.Messages), len(t.Messages)
	// A message whose ids or reply changed in place changes the reply
	// index and the list of replies: both are made again.
	reindex := false
	for _, i := range changed {
		if o, n := &old.Messages[i-k], &t.Messages[i]; o.ReplyTo != n.ReplyTo || !sameRefIDs(o, n) {
			reindex = true
		}
	}
	x.tl = t

	// Room for the new rows.
	if k > 0 {
		if x.start < k {
			n := len(x.buf) - x.start
			room := k + n // as much room again for the next pages
			buf := make([]widgets.Row, room+n)
			copy(buf[room:], x.buf[x.start:])
			x.buf, x.start = buf, room
		}
		x.start -= k
	}
	if added := b - a - k; added > 0 {
		x.buf = slices.Grow(x.buf, added)[:len(x.buf)+added]
	}

	// The rows to build: the new ones, the changed ones and their
	// successors.
	build := changed
	for i := range k {
		build = append(build, i)
	}
	for i := k + a; i < b; i++ {
		build = append(build, i)
	}
	for _, i := range build {
		if i+1 < b {
			build = append(build, i+1)
		}
	}
	// Replies whose quoted message is new or changed.
	if reindex {
		x.refs = replyIndex{}
		x.replies, x.base = x.replies[:0], 0
		for i := range t.Messages {
			if t.Messages[i].ReplyTo.ID != "" {
				x.replies = append(x.replies, i)
				build = append(build, i)
			}
		}
	} else {
		x.refs.prepend(t.Messages, k)
		x.refs.add(t.Messages, k+a)
		x.base += k
		if len(x.replies) > 0 && len(build) > 0 {
			x.quoting(t.Messages, build, func(i int) { build = append(build, i) })
		}
		var front []int
		for i := range k {
			if t.Messages[i].ReplyTo.ID != "" {
				front = append(front, i-x.base)
			}
		}
		if front != nil {
			x.replies = append(front, x.replies...)
		}
		for i := k + a; i < b; i++ {
			if t.Messages[i].ReplyTo.ID != "" {
				x.replies = append(x.replies, i-x.base)
			}
		}
	}
	slices.Sort(build)
	build = slices.Compact(build)
	rows := x.rows()
	for _, i := range build {
		rows[i] = makeRow(t, i, own, now, &x.refs)
	}
	return rowsDelta{prepended: k, changed: build}
}

// quoting calls f with the index of each loaded reply (of x.replies)
// that quotes one of the messages ms[i] for i in of.
func (x *timelineRows) quoting(ms []client.Message, of []int, f func(int)) {
	ids := make(map[string]struct{})
	for _, i := range of {
		eachRefID(&ms[i], func(id string) { ids[id] = struct{}{} })
	}
	if len(ids) == 0 {
		return
	}
	for _, r := range x.replies {
		if i := r + x.base; i < len(ms) {
			if _, ok := ids[ms[i].ReplyTo.ID]; ok {
				f(i)
			}
		}
	}
}

// rebuild builds every row.
func (x *timelineRows) rebuild(t model.Timeline, own string, now time.Time, today day) {
	*x = timelineRows{tl: t, own: own, today: today, built: true}
	x.buf = make([]widgets.Row, len(t.Messages))
	for i := range x.buf {
		x.buf[i] = makeRow(t, i, own, now, &x.refs)
		if t.Messages[i].ReplyTo.ID != "" {
			x.replies = append(x.replies, i)
		}
	}
}

// align finds how snapshot n of a window follows snapshot o: k messages
// were put before o's, its messages follow in the same order (those at
// the indices changed of n were replaced by a different value), then new
// ones were appended. ok is false when n is not such a successor of o (a
// message was removed, or one inserted among o's).
func align(o, n []client.Message) (k int, changed []int, ok bool) {
	a, b := len(o), len(n)
	switch {
	case a == 0:
		return 0, nil, true
	case b < a:
		return 0, nil, false
	case &n[0] == &o[0]:
		// The model appends to the array of the snapshot before, whose
		// messages snapshots never change.
		return 0, nil, true
	}
	k = -1
	for j := 0; j <= b-a; j++ {
		if n[j].ID == o[0].ID {
			k = j
			break
		}
	}
	if k < 0 {
		return 0, nil, false
	}
	for i := range o {
		if n[k+i].ID != o[i].ID {
			return 0, nil, false
		}
		if !sameMessage(&n[k+i], &o[i]) {
			changed = append(changed, k+i)
		}
	}
	return k, changed, true
}

// sameMessage reports whether b is a copy of a. Slices and pointers
// compare by identity, so that comparing is cheap and a message read
// again from the store counts as changed. It must compare every field
// (TestIncrementalRowsEveryField changes each one).
func sameMessage(a, b *client.Message) bool {
	return a.ID == b.ID && a.Conversation == b.Conversation && a.Direction == b.Direction && a.Type == b.Type &&
		a.Sender == b.Sender && a.XMLID == b.XMLID && a.OriginID == b.OriginID && sameSlice(a.StanzaIDs, b.StanzaIDs) &&
		a.Sent == b.Sent && a.Server == b.Server && a.Received == b.Received && a.Time == b.Time &&
		a.Body == b.Body && a.Lang == b.Lang && sameSlice(a.Alternatives, b.Alternatives) && a.Thread == b.Thread &&
		a.ReplyTo == b.ReplyTo && a.State == b.State && a.Failure == b.Failure && a.Replaces == b.Replaces &&
		a.LastCorrection == b.LastCorrection && a.Retracted == b.Retracted && a.Encryption == b.Encryption &&
		a.SenderDevice == b.SenderDevice && a.Trust == b.Trust && sameSlice(a.Attachments, b.Attachments) &&
		a.Markable == b.Markable && sameSlice(a.Reactions, b.Reactions)
}

// sameSlice reports whether a and b are the same elements of one array.
func sameSlice[T any](a, b []T) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// sameRefIDs reports whether a and b have the same ids for replies.
func sameRefIDs(a, b *client.Message) bool {
	return a.XMLID == b.XMLID && a.OriginID == b.OriginID && slices.Equal(a.StanzaIDs, b.StanzaIDs)
}
