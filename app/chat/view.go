package chat

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tern-im/tern/app/model"
	terntheme "github.com/tern-im/tern/app/theme"
	"github.com/tern-im/tern/app/widgets"
	"github.com/tern-im/tern/protocol/client"
)

// Texts of the chat view.
const (
	// LoadOlderLabel is the text of the button above the timeline that
	// loads older messages.
	LoadOlderLabel = "Load older messages"
	// LoadNewerLabel is the text of the button under a timeline opened
	// around a search result.
	LoadNewerLabel = "Load newer messages"
	// ReplyLabel, CopyLabel, RetractLabel and ReactLabel are items of a
	// message's menu.
	ReplyLabel   = "Reply"
	CopyLabel    = "Copy text"
	RetractLabel = "Retract"
	ReactLabel   = "React"
	// EncryptedText and PlaintextText describe the lock toggle's state.
	EncryptedText = "Messages are end-to-end encrypted (OMEMO). Tap to send in plaintext."
	PlaintextText = "Messages are sent in plaintext. Tap to encrypt them (OMEMO)."
	// DevicesLabel is the text of the button that shows the contact's
	// devices and their trust.
	DevicesLabel = "Devices"
)

// DraftStore keeps the unsent text of each conversation across restarts.
// cmd/tern provides it (Fyne preferences or the store). Its methods are
// called off the Fyne thread.
type DraftStore interface {
	// Draft returns the draft of conv ("" for none).
	Draft(ctx context.Context, conv client.ConversationID) (string, error)
	// SetDraft records the draft of conv; "" forgets it.
	SetDraft(ctx context.Context, conv client.ConversationID, text string) error
}

// View is the chat view: a header with the peer, the contact's typing
// state and the lock toggle, the timeline (a virtualized list of message
// rows that loads older messages when scrolled to the top) and the
// composer.
type View struct {
	// OnLoadOlder is called when the user scrolls to the top of the loaded
	// messages or asks for older ones; call Loading(false) when done.
	OnLoadOlder func(client.ConversationID)
	// OnLoadNewer is called when the user asks for newer messages of a
	// window opened around a message.
	OnLoadNewer func(client.ConversationID)
	// OnLock is called when the user taps the lock: encrypt is the state
	// asked for.
	OnLock func(t model.Timeline, encrypt bool)
	// OnDevices is called when the user asks for the contact's devices.
	OnDevices func(model.Timeline)
	// Drafts keeps the drafts (nil: they are not kept).
	Drafts DraftStore
	// Now returns the current time, for day separators (nil: time.Now).
	Now func() time.Time

	tasks   *Tasks
	engine  func(client.AccountID) model.Engine
	ownName func(client.AccountID) string

	tl         model.Timeline
	timeline   timelineRows
	rows       []widgets.Row // timeline.rows()
	width      float32       // the width row heights were measured for
	heights    map[client.MessageID]rowHeight
	measure    *widgets.MessageRow
	loading    bool
	armed      bool // the user may trigger loading older messages by scrolling
	archive    bool // the archive may hold messages older than the store
	bulk       bool // measureRows is setting heights; rows are updated after
	typing     bool // the chat state "composing" was sent for the draft
	sendTyping bool
	encrypted  bool
	replyTo    *widgets.Row
	title      *widget.Label
	peerState  *widget.Label
	lock       *widget.Button
	devices    *widget.Button
	status     *widget.Label
	older      *widget.Button
	newer      *widget.Button
	spinner    *widget.Activity
	list       *timelineList
	replyBox   *fyne.Container
	replyText  *widget.Label
	composer   *Composer
	emoji      *widget.Button
	content    fyne.CanvasObject
	empty      fyne.CanvasObject
	root       *fyne.Container
}

// rowHeight is the measured height of a row, valid for one width and one
// content signature.
type rowHeight struct {
	width float32
	sig   string
	h     float32
}

// NewView returns an empty chat view. engine returns the engine of an
// account (nil when it has none); ownName our name on an account. Engine
// calls run as tasks.
func NewView(tasks *Tasks, engine func(client.AccountID) model.Engine, ownName func(client.AccountID) string) *View {
	v := &View{
		tasks: tasks, engine: engine, ownName: ownName,
		measure: widgets.NewMessageRow(), heights: make(map[client.MessageID]rowHeight), sendTyping: true,
	}
	v.title = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	v.title.Truncation = fyne.TextTruncateEllipsis
	v.peerState = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Italic: true})
	v.peerState.SizeName = theme.SizeNameCaptionText
	v.peerState.Importance = widget.LowImportance
	v.peerState.Hide()
	v.lock = widget.NewButtonWithIcon("", terntheme.UnlockIcon(), func() {
		if v.OnLock != nil {
			v.OnLock(v.tl, !v.encrypted)
		}
	})
	v.lock.Importance = widget.LowImportance
	v.devices = widget.NewButton(DevicesLabel, func() {
		if v.OnDevices != nil {
			v.OnDevices(v.tl)
		}
	})
	v.devices.Importance = widget.LowImportance
	v.status = widget.NewLabel("")
	v.status.Importance = widget.DangerImportance
	v.status.Wrapping = fyne.TextWrapWord
	v.status.Hide()
	v.older = widget.NewButton(LoadOlderLabel, v.loadOlder)
	v.older.Importance = widget.LowImportance
	v.older.Hide()
	v.newer = widget.NewButton(LoadNewerLabel, func() {
		if v.OnLoadNewer != nil {
			v.OnLoadNewer(v.tl.Conversation)
		}
	})
	v.newer.Importance = widget.LowImportance
	v.newer.Hide()
	v.spinner = widget.NewActivity()
	v.spinner.Hide()
	v.list = &timelineList{onResize: v.resized}
	v.list.Length = func() int { return len(v.rows) }
	v.list.CreateItem = func() fyne.CanvasObject {
		r := widgets.NewMessageRow()
		r.OnRetry = v.retry
		r.OnRepair = v.repair
		r.OnHistory = v.showHistory
		r.OnMenu = v.showMenu
		return r
	}
	v.list.UpdateItem = func(id widget.ListItemID, o fyne.CanvasObject) {
		if v.bulk {
			// measureRows sets many heights, each refreshing the list:
			// the rows are set once, by the Refresh that follows.
			return
		}
		if id < len(v.rows) {
			o.(*widgets.MessageRow).Set(v.rows[id], v.width)
		}
		if id == 0 && v.armed {
			// The oldest loaded message is on screen: fetch older ones.
			v.loadOlder()
		}
	}
	v.list.HideSeparators = true
	// Rows are not selectable: a tap on a message is not a selection.
	v.list.OnSelected = func(id widget.ListItemID) { v.list.Unselect(id) }
	v.list.ExtendBaseWidget(v.list)
	v.composer = newComposer(v)
	v.emoji = widget.NewButtonWithIcon("", terntheme.EmojiIcon(), func() {
		v.showEmojiPicker(v.emoji, func(e string) {
			v.composer.insert(e)
		})
	})
	v.emoji.Importance = widget.LowImportance
	v.replyText = widget.NewLabel("")
	v.replyText.Truncation = fyne.TextTruncateEllipsis
	v.replyText.SizeName = theme.SizeNameCaptionText
	cancelReply := widget.NewButtonWithIcon("", theme.CancelIcon(), func() { v.setReply(nil) })
	cancelReply.Importance = widget.LowImportance
	v.replyBox = container.NewBorder(nil, nil, widget.NewIcon(theme.MailReplyIcon()), cancelReply, v.replyText)
	v.replyBox.Hide()

	heading := container.NewBorder(nil, nil, nil, container.NewHBox(v.devices, v.lock), container.New(&tightVBox{}, v.title, v.peerState))
	header := container.NewVBox(container.NewPadded(heading), widget.NewSeparator())
	top := container.NewVBox(header, container.NewStack(v.older, container.NewCenter(v.spinner)))
	entry := container.NewBorder(nil, nil, nil, v.emoji, v.composer)
	bottom := container.NewVBox(v.newer, v.status, v.replyBox, container.NewPadded(entry))
	v.content = container.NewBorder(top, bottom, nil, nil, v.list)
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

// Rows returns what the timeline's rows show. The slice is the view's
// own: it is valid until the next Show, which may change it in place.
func (v *View) Rows() []widgets.Row { return v.rows }

// PeerState returns the contact's typing state as shown ("" for none).
func (v *View) PeerState() string { return v.peerState.Text }

// Encrypted reports whether the lock shows the conversation encrypted.
func (v *View) Encrypted() bool { return v.encrypted }

// LockButton returns the lock toggle.
func (v *View) LockButton() *widget.Button { return v.lock }

// Loading reports whether older messages are being loaded (the spinner
// turns).
func (v *View) Loading() bool { return v.loading }

// Status returns the text of the error line ("" when hidden).
func (v *View) Status() string {
	if !v.status.Visible() {
		return ""
	}
	return v.status.Text
}

// SetTitle sets the header: the peer and the account's connection state.
func (v *View) SetTitle(s string) { v.title.SetText(s) }

// SetSendTyping says whether the contact is told when we type (XEP-0085);
// the user's privacy setting.
func (v *View) SetSendTyping(on bool) { v.sendTyping = on }

// SetPeerState shows the contact's chat state.
func (v *View) SetPeerState(st client.ChatState) {
	text := ""
	switch st {
	case client.ChatComposing:
		text = TypingText
	case client.ChatPaused:
		text = "stopped typing"
	}
	if text != v.peerState.Text {
		v.peerState.SetText(text)
	}
	v.peerState.Hidden = text == ""
}

// SetEncrypted shows whether messages of the conversation are encrypted
// (the lock); available says whether the toggle can be used.
func (v *View) SetEncrypted(on, available bool) {
	v.encrypted = on
	if on {
		v.lock.SetIcon(terntheme.LockIcon())
		v.lock.Importance = widget.SuccessImportance
	} else {
		v.lock.SetIcon(terntheme.UnlockIcon())
		v.lock.Importance = widget.LowImportance
	}
	if available {
		v.lock.Enable()
		v.devices.Show()
	} else {
		v.lock.Disable()
		v.devices.Hide()
	}
	v.lock.Refresh()
}

// LockText describes the state of the lock toggle.
func (v *View) LockText() string {
	if v.encrypted {
		return EncryptedText
	}
	return PlaintextText
}

// SetLoading shows or hides the spinner of older messages being loaded.
func (v *View) SetLoading(on bool) {
	v.loading = on
	if on {
		v.older.Hide()
		v.spinner.Show()
		v.spinner.Start()
		return
	}
	v.spinner.Stop()
	v.spinner.Hide()
	v.older.Hidden = !v.moreOlder()
	v.older.Refresh()
}

// SetArchive says whether the server's archive may hold messages older
// than the store's (then scrolling up goes on loading).
func (v *View) SetArchive(more bool) {
	v.archive = more
	v.older.Hidden = !v.moreOlder() || v.loading
	v.older.Refresh()
	v.armed = v.moreOlder()
}

// moreOlder reports whether older messages may be loaded.
func (v *View) moreOlder() bool { return v.tl.HasOlder || v.archive }

// loadOlder asks for older messages unless a load is under way.
func (v *View) loadOlder() {
	if v.loading || !v.moreOlder() || v.OnLoadOlder == nil || v.tl.Conversation == 0 {
		return
	}
	v.armed = false
	v.SetLoading(true)
	v.OnLoadOlder(v.tl.Conversation)
}

// Show shows a timeline snapshot; it scrolls to the newest message when the
// conversation changes or a message is appended, to the focused message of
// a window opened around one, and keeps the first message read in place
// when older ones are prepended.
func (v *View) Show(t model.Timeline) {
	prev := v.tl
	v.tl = t
	if len(v.root.Objects) != 1 || v.root.Objects[0] != v.content {
		v.root.Objects = []fyne.CanvasObject{v.content}
		v.root.Refresh()
	}
	switched := prev.Conversation != t.Conversation
	if switched {
		v.saveDraft(prev.Conversation, v.composer.Text)
		v.composer.reset()
		v.setReply(nil)
		v.status.Hide()
		v.SetPeerState("")
		v.heights = make(map[client.MessageID]rowHeight)
		v.loadDraft(t.Conversation)
	}
	v.newer.Hidden = !t.HasNewer
	v.newer.Refresh()
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	d := v.timeline.update(t, v.ownName(t.Account), now())
	v.rows = v.timeline.rows()
	v.applyRows(d, switched)
	first := func(t model.Timeline) client.MessageID {
		if len(t.Messages) == 0 {
			return 0
		}
		return t.Messages[0].ID
	}
	last := func(t model.Timeline) client.MessageID {
		if len(t.Messages) == 0 {
			return 0
		}
		return t.Messages[len(t.Messages)-1].ID
	}
	switch {
	case t.Focus != 0 && (switched || prev.Focus != t.Focus):
		if i := slices.IndexFunc(t.Messages, func(m client.Message) bool { return m.ID == t.Focus }); i >= 0 {
			v.list.ScrollTo(i)
		}
	case switched || last(prev) != last(t) && !t.HasNewer:
		v.list.ScrollToBottom()
	case first(prev) != first(t):
		// Older messages were prepended: keep the message that was first
		// at the top.
		if i := slices.IndexFunc(t.Messages, func(m client.Message) bool { return m.ID == first(prev) }); i > 0 {
			v.list.ScrollTo(i)
		}
	}
	if switched {
		v.archive = false // Main says (SetArchive)
	}
	v.older.Hidden = !v.moreOlder() || v.loading
	v.older.Refresh()
	v.armed = v.moreOlder() && !v.loading
}

// ScrollTo scrolls the timeline to offset (pixels from the top).
func (v *View) ScrollTo(offset float32) { v.list.ScrollToOffset(offset) }

// ScrollToTop scrolls the timeline to its oldest loaded message (which
// loads older ones).
func (v *View) ScrollToTop() { v.list.ScrollToTop() }

// Clear closes the conversation shown: the view shows the empty state.
func (v *View) Clear() {
	v.composer.reset()
	v.setReply(nil)
	v.status.Hide()
	v.tl = model.Timeline{}
	v.timeline = timelineRows{}
	v.rows = nil
	v.heights = make(map[client.MessageID]rowHeight)
	v.list.Refresh()
	v.root.Objects = []fyne.CanvasObject{v.empty}
	v.root.Refresh()
}

// resized re-measures the rows when the timeline's width changes, and
// keeps the timeline where the user was: at the newest message when it was
// there (or had not been laid out yet), else at the same first message.
func (v *View) resized(width float32) {
	if width == v.width {
		return
	}
	first := v.width <= 0
	atBottom := first || v.list.GetScrollOffset()+v.list.Size().Height >= v.contentHeight()-1
	v.width = width
	v.measureRows()
	v.list.Refresh()
	switch {
	case first && v.tl.Focus != 0:
		if i := slices.IndexFunc(v.tl.Messages, func(m client.Message) bool { return m.ID == v.tl.Focus }); i >= 0 {
			v.list.ScrollTo(i)
		}
	case atBottom:
		v.list.ScrollToBottom()
	}
}

// contentHeight is the height of the measured rows.
func (v *View) contentHeight() float32 {
	var h float32
	for _, r := range v.rows {
		h += v.heights[r.Message.ID].h
	}
	return h
}

// applyRows measures and redraws the rows an update changed: every row
// when the conversation was switched or the update was not incremental;
// else only the rows built again (a live message, a delivery state), and
// the visible ones when a page was prepended (the rows moved).
func (v *View) applyRows(d rowsDelta, switched bool) {
	if d.all || switched {
		v.measureRows()
		v.list.Refresh()
		return
	}
	if v.width > 0 {
		v.bulk = true
		for _, i := range d.changed {
			v.measureRow(i)
		}
		if d.prepended > 0 {
			// The list keeps heights by index: every row moved.
			for i := range v.rows {
				if h, ok := v.heights[v.rows[i].Message.ID]; ok && h.width == v.width {
					v.list.SetItemHeight(i, h.h)
				} else {
					v.measureRow(i)
				}
			}
		}
		v.bulk = false
	}
	if d.prepended > 0 {
		v.list.Refresh()
		return
	}
	for _, i := range d.changed {
		v.list.RefreshItem(i)
	}
}

// signature identifies what a row's height depends on.
func signature(r *widgets.Row) string {
	var b strings.Builder
	b.WriteString(r.Day)
	b.WriteByte(0)
	b.WriteString(r.Sender)
	b.WriteByte(0)
	b.WriteString(r.Body())
	b.WriteByte(0)
	b.WriteString(r.Meta())
	b.WriteByte(0)
	b.WriteString(r.Reactions())
	if r.Reply != nil {
		b.WriteByte(0)
		b.WriteString(r.Reply.Sender)
		b.WriteString(r.Reply.Text)
	}
	if r.Repairable {
		b.WriteByte(1)
	}
	if r.Own() && r.Message.State == client.StateFailed {
		b.WriteByte(2)
	}
	return b.String()
}

// measureRows sets each row's height for the current width: the list is
// virtualized, so heights are known without creating every row. Heights
// are cached per message, so that a change or a new page only measures
// the rows it touches.
func (v *View) measureRows() {
	if v.width <= 0 {
		return
	}
	v.bulk = true
	defer func() { v.bulk = false }()
	for i := range v.rows {
		v.measureRow(i)
	}
}

// measureRow sets the height of row i, measuring it unless the cache has
// its height for the current width and content. v.width > 0.
func (v *View) measureRow(i int) {
	r := &v.rows[i]
	sig := signature(r)
	h, ok := v.heights[r.Message.ID]
	if !ok || h.width != v.width || h.sig != sig {
		v.measure.Set(*r, v.width)
		h = rowHeight{width: v.width, sig: sig, h: v.measure.MinSize().Height}
		v.heights[r.Message.ID] = h
	}
	v.list.SetItemHeight(i, h.h)
}

// showError shows a failed engine call. Fyne thread only.
func (v *View) showError(msg string) {
	v.status.Importance = widget.DangerImportance
	v.status.SetText(msg)
	v.status.Show()
}

// Warn shows a warning above the composer (a device needing a trust
// decision). Fyne thread only.
func (v *View) Warn(msg string) {
	v.status.Importance = widget.WarningImportance
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
			v.tasks.Do(func() {
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

// repair heals the OMEMO session behind a message that could not be
// decrypted; a device whose key changed needs the user's decision first,
// so the devices are shown.
func (v *View) repair(id client.MessageID) {
	t := v.tl
	e := v.engine(t.Account)
	if e == nil {
		v.showError("Could not repair: the account is not running.")
		return
	}
	v.status.Hide()
	v.tasks.Go(func(ctx context.Context) {
		err := e.Repair(ctx, id)
		if err == nil || ctx.Err() != nil {
			return
		}
		v.tasks.Do(func() {
			if v.tl.Conversation != t.Conversation {
				return
			}
			if errors.Is(err, client.ErrTrustDecision) {
				v.showError("The device's identity key changed: decide whether to trust it, then repair again.")
				if v.OnDevices != nil {
					v.OnDevices(t)
				}
				return
			}
			v.showError("Could not repair: " + err.Error())
		})
	})
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
	var opts client.SendOptions
	if v.replyTo != nil {
		opts.ReplyTo = v.replyTo.Message.ID
	}
	v.setReply(nil)
	v.typing = false // a content message carries <active/> (XEP-0085 §5.2)
	v.run("Could not send", func(ctx context.Context, e model.Engine) error {
		_, err := e.SendMessage(ctx, peer, text, opts)
		return err
	})
	return true
}

// composed reacts to the composer's text changing: it tells the contact
// that we type, or stopped (XEP-0085 §5.2), when the user allows it.
func (v *View) composed(text string) {
	if !v.sendTyping || v.tl.Conversation == 0 || v.composer.editing != 0 {
		return
	}
	switch {
	case text != "" && !v.typing:
		v.typing = true
		v.chatState(client.ChatComposing)
	case text == "" && v.typing:
		v.typing = false
		v.chatState(client.ChatActive)
	}
}

// paused tells the contact that we stopped typing for now (the composer
// lost the focus with a draft in it).
func (v *View) paused() {
	if v.sendTyping && v.typing {
		v.typing = false
		v.chatState(client.ChatPaused)
	}
}

// chatState sends a chat state to the peer; failures do not matter to the
// user (a chat state is a hint).
func (v *View) chatState(st client.ChatState) {
	e := v.engine(v.tl.Account)
	if e == nil {
		return
	}
	peer := v.tl.Peer
	v.tasks.Go(func(ctx context.Context) { _ = e.SendChatState(ctx, peer, st) })
}

// saveDraft records the draft of conv off the Fyne thread.
func (v *View) saveDraft(conv client.ConversationID, text string) {
	if v.Drafts == nil || conv == 0 {
		return
	}
	d := v.Drafts
	v.tasks.Go(func(ctx context.Context) { _ = d.SetDraft(ctx, conv, text) })
}

// SaveDraft records the draft of the open conversation off the Fyne
// thread (when switching conversations).
func (v *View) SaveDraft() { v.saveDraft(v.tl.Conversation, v.composer.Text) }

// FlushDraft records the draft of the open conversation and returns once
// the draft store has it (or ctx ends): for when the window closes and
// the program is about to exit. A failure loses only the draft.
func (v *View) FlushDraft(ctx context.Context) {
	if v.Drafts == nil || v.tl.Conversation == 0 {
		return
	}
	_ = v.Drafts.SetDraft(ctx, v.tl.Conversation, v.composer.Text)
}

// loadDraft reads the draft of conv and puts it in the composer, unless the
// user started typing meanwhile.
func (v *View) loadDraft(conv client.ConversationID) {
	if v.Drafts == nil || conv == 0 {
		return
	}
	d := v.Drafts
	v.tasks.Go(func(ctx context.Context) {
		text, err := d.Draft(ctx, conv)
		if err != nil || text == "" {
			return
		}
		v.tasks.Do(func() {
			if v.tl.Conversation == conv && v.composer.Text == "" && v.composer.editing == 0 {
				v.composer.SetText(text)
				v.composer.cursorToEnd()
			}
		})
	})
}

// setReply starts answering a message, or stops (nil).
func (v *View) setReply(r *widgets.Row) {
	v.replyTo = r
	if r == nil {
		v.replyBox.Hide()
		return
	}
	q := quoteText(r.Message)
	v.replyText.SetText(ReplyLabel + " to " + r.Author + ": " + q)
	v.replyBox.Show()
}

// ReplyingTo returns the message being answered, or 0.
func (v *View) ReplyingTo() client.MessageID {
	if v.replyTo == nil {
		return 0
	}
	return v.replyTo.Message.ID
}

// QuickReactions returns the reactions the message menu offers.
func QuickReactions() []string { return []string{"👍", "❤️", "😂", "😮", "😢", "🙏"} }

// MenuItems returns the actions of a message: reply, react, copy and, for
// our own messages, retract.
func (v *View) MenuItems(r widgets.Row) []*fyne.MenuItem {
	if !r.Message.Retracted.IsZero() || r.Undecryptable != "" {
		return nil
	}
	row := r
	reply := fyne.NewMenuItem(ReplyLabel, func() {
		v.setReply(&row)
		if c := fyne.CurrentApp().Driver().CanvasForObject(v.composer); c != nil {
			c.Focus(v.composer)
		}
	})
	react := fyne.NewMenuItem(ReactLabel, nil)
	var emoji []*fyne.MenuItem
	for _, e := range QuickReactions() {
		emoji = append(emoji, fyne.NewMenuItem(e, func() { v.react(row, e) }))
	}
	react.ChildMenu = fyne.NewMenu("", emoji...)
	copyText := fyne.NewMenuItem(CopyLabel, func() {
		fyne.CurrentApp().Clipboard().SetContent(row.Body())
	})
	items := []*fyne.MenuItem{reply, react, copyText}
	if r.Own() {
		items = append(items, fyne.NewMenuItem(RetractLabel, func() {
			id := row.Message.ID
			v.run("Could not retract", func(ctx context.Context, e model.Engine) error { return e.Retract(ctx, id) })
		}))
	}
	return items
}

// react toggles our reaction e on a message (XEP-0444 sends the full set).
func (v *View) react(r widgets.Row, e string) {
	own := ""
	for _, m := range v.tl.Messages {
		if m.Direction == client.Outbound {
			own = m.Sender
			break
		}
	}
	var mine []string
	for _, re := range r.Message.Reactions {
		if re.Sender == own && own != "" {
			mine = slices.Clone(re.Emojis)
		}
	}
	if i := slices.Index(mine, e); i >= 0 {
		mine = slices.Delete(mine, i, i+1)
	} else {
		mine = append(mine, e)
	}
	id := r.Message.ID
	v.run("Could not react", func(ctx context.Context, eng model.Engine) error { return eng.React(ctx, id, mine) })
}

// showMenu opens a message's menu at pos.
func (v *View) showMenu(r widgets.Row, pos fyne.Position) {
	items := v.MenuItems(r)
	c := fyne.CurrentApp().Driver().CanvasForObject(v.list)
	if len(items) == 0 || c == nil {
		return
	}
	widget.ShowPopUpMenuAtPosition(fyne.NewMenu("", items...), c, pos)
}

// HistoryText describes every version of a corrected message (XEP-0308),
// as Engine.Corrections returns them: the original, then each edit, oldest
// first (the newest last), each with its time ("15:04", with the date
// when it is not the original's day).
func HistoryText(versions []client.Message) string {
	if len(versions) == 0 {
		return ""
	}
	day := versions[0].Time.Local()
	var b strings.Builder
	for i, m := range versions {
		if i == 0 {
			b.WriteString("Original")
		} else {
			b.WriteString("\n\nEdited")
		}
		if !m.Time.IsZero() {
			at := m.Time.Local()
			layout := "15:04"
			if y, mo, d := at.Date(); y != day.Year() || mo != day.Month() || d != day.Day() {
				layout = "2 Jan 2006 15:04"
			}
			b.WriteString(" (" + at.Format(layout) + ")")
		}
		b.WriteString(":\n" + m.Body)
	}
	return b.String()
}

// showHistory shows every version of a corrected message in a popup. The
// versions are read through the engine off the Fyne thread; while the
// account is not running, the popup shows what the row knows (the original
// and the latest text).
func (v *View) showHistory(r widgets.Row) {
	conv := v.tl.Conversation
	show := func(versions []client.Message) {
		c := fyne.CurrentApp().Driver().CanvasForObject(v.list)
		if c == nil || v.tl.Conversation != conv {
			return
		}
		text := widget.NewLabel(HistoryText(versions))
		text.Wrapping = fyne.TextWrapWord
		var pop *widget.PopUp
		closeBtn := widget.NewButton("Close", func() { pop.Hide() })
		box := container.NewBorder(widget.NewLabelWithStyle("Edit history", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
			container.NewHBox(closeBtn), nil, nil, container.NewVScroll(text))
		pop = widget.NewModalPopUp(container.NewPadded(box), c)
		// As tall as the wrapped text needs, scrolling when a long chain
		// would not fit in the window.
		width := min(420, c.Size().Width-40)
		text.Resize(fyne.NewSize(width-4*theme.Padding(), text.MinSize().Height))
		height := box.MinSize().Height + text.MinSize().Height + 2*theme.Padding()
		pop.Resize(fyne.NewSize(width, min(height, c.Size().Height-40)))
		pop.Show()
	}
	m := r.Message
	if v.engine(v.tl.Account) == nil {
		known := []client.Message{m}
		if lc := m.LastCorrection; lc != nil {
			known = append(known, client.Message{ID: lc.ID, Conversation: m.Conversation, Body: lc.Body, Time: lc.Time, Replaces: m.ID})
		}
		show(known)
		return
	}
	v.run("Could not load the edit history", func(ctx context.Context, e model.Engine) error {
		versions, err := e.Corrections(ctx, m.ID)
		if err != nil {
			return err
		}
		v.tasks.Do(func() { show(versions) })
		return nil
	})
}

// CommonEmoji returns the emoji the picker offers.
func CommonEmoji() []string {
	return []string{
		"😀", "😂", "🙂", "😉", "😊", "😍", "😘", "😎",
		"🤔", "😮", "😢", "😭", "😡", "😴", "🥳", "🙄",
		"👍", "👎", "👏", "🙏", "💪", "👋", "🤝", "✌️",
		"❤️", "💔", "🔥", "✨", "🎉", "☕", "🍕", "✅",
	}
}

// EmojiPicker returns the emoji picker's grid: a button per common emoji
// that calls pick.
func EmojiPicker(pick func(string)) *fyne.Container {
	grid := container.NewGridWithColumns(8)
	for _, e := range CommonEmoji() {
		b := widget.NewButton(e, func() { pick(e) })
		b.Importance = widget.LowImportance
		grid.Add(b)
	}
	return grid
}

// showEmojiPicker opens the picker above anchor.
func (v *View) showEmojiPicker(anchor fyne.CanvasObject, pick func(string)) {
	c := fyne.CurrentApp().Driver().CanvasForObject(anchor)
	if c == nil {
		return
	}
	var pop *widget.PopUp
	pop = widget.NewPopUp(EmojiPicker(func(e string) {
		pop.Hide()
		pick(e)
		c.Focus(v.composer)
	}), c)
	size := pop.MinSize()
	pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(anchor)
	pop.ShowAtPosition(fyne.NewPos(max(0, pos.X+anchor.Size().Width-size.Width), max(0, pos.Y-size.Height)))
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
// line, Escape clears (or cancels an edit or a reply), and Up in an empty
// composer edits our last message (XEP-0308).
type Composer struct {
	widget.Entry
	// OnShortcut is offered every shortcut first (the window's shortcuts:
	// a focused entry receives them instead of the canvas); it reports
	// whether it handled it.
	OnShortcut func(fyne.Shortcut) bool
	view       *View
	shift      bool
	editing    client.MessageID
}

// TypedShortcut implements fyne.Shortcutable.
func (c *Composer) TypedShortcut(s fyne.Shortcut) {
	if c.OnShortcut != nil && c.OnShortcut(s) {
		return
	}
	c.Entry.TypedShortcut(s)
}

func newComposer(v *View) *Composer {
	c := &Composer{view: v}
	c.MultiLine = true
	c.Wrapping = fyne.TextWrapWord
	c.SetMinRowsVisible(2)
	c.ExtendBaseWidget(c)
	c.SetPlaceHolder(ComposerPlaceholder)
	c.OnChanged = v.composed
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

// FocusLost implements fyne.Focusable: a draft left alone is "paused".
func (c *Composer) FocusLost() {
	c.view.paused()
	c.Entry.FocusLost()
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
		c.view.setReply(nil)
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
				c.cursorToEnd()
				return
			}
		}
	}
	c.Entry.TypedKey(k)
}

// cursorToEnd puts the cursor after the text, to go on typing.
func (c *Composer) cursorToEnd() {
	lines := strings.Split(c.Text, "\n")
	c.CursorRow = len(lines) - 1
	c.CursorColumn = len([]rune(lines[len(lines)-1]))
	c.Refresh()
}

// insert types s at the cursor.
func (c *Composer) insert(s string) {
	for _, r := range s {
		c.TypedRune(r)
	}
}

// reset empties the composer and ends an edit.
func (c *Composer) reset() {
	c.editing = 0
	c.SetPlaceHolder(ComposerPlaceholder)
	c.SetText("")
}
