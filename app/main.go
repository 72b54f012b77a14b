package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

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

// Main is the main window's content after sign-in: the accounts' connection
// states and the conversation list on the left, the chat view on the right.
// Its widgets belong to the Fyne thread: the runner's event bridge (run.go)
// applies engine events to the model off that thread and hands the
// changes to Apply through fyne.Do, the one crossing (DESIGN.md §3).
type Main struct {
	model   *model.Model
	engines map[client.AccountID]model.Engine
	tasks   *chat.Tasks

	// OnTitle is called (Fyne thread) with the window title whenever the
	// unread count changes.
	OnTitle func(string)
	// OnOverlay is called (Fyne thread) with the title of a screen shown
	// over the chat view (SearchTitle, …), and with "" when it closes.
	OnOverlay func(title string)

	accounts []model.Account // Fyne thread
	convs    []model.Conversation
	open     client.ConversationID
	// archiveDone holds the conversations whose archive has nothing
	// older (LoadOlder said so).
	archiveDone map[client.ConversationID]bool
	states      *widget.Label
	list        *chat.List
	view        *chat.View
	content     fyne.CanvasObject
	// notice shows, under the tools, why a change to the list (a pin, an
	// archive) could not be kept.
	notice *widget.Label

	// The screens over the chat view (screens.go).
	directory      contacts.Directory
	overlay        *widget.PopUp
	overlayTitle   string
	searchScreen   *search.Screen
	contactsScreen *contacts.Screen
	devicesScreen  *trust.Screen
	switcher       *widgets.Entry
	newChatAddr    *widgets.Entry
	// pendingPeer is the peer of a new chat, opened once its
	// conversation appears.
	pendingPeer jid.JID
	// selecting is set while Main selects a list row itself (the row's
	// OnSelected must not open the latest page).
	selecting bool
}

// NewMain builds the main screen on the Fyne thread. engines maps the
// accounts to their running engines: its owner adds and deletes entries
// on the Fyne thread only, as engines start and stop (Main reads it there
// and hands the engines to its tasks). tasks run under ctx; call Close,
// then cancel ctx and call Wait before dropping the screen.
func NewMain(ctx context.Context, m *model.Model, engines map[client.AccountID]model.Engine) *Main {
	w := &Main{model: m, engines: engines, tasks: chat.NewTasks(ctx), archiveDone: make(map[client.ConversationID]bool)}
	w.states = widget.NewLabel("")
	w.states.Wrapping = fyne.TextWrapWord
	w.list = chat.NewList()
	w.list.OnSelected = func(c model.Conversation) {
		if !w.selecting {
			w.Open(c.ID)
		}
	}
	w.notice = widget.NewLabel("")
	w.notice.Importance = widget.DangerImportance
	w.notice.Wrapping = fyne.TextWrapWord
	w.notice.Hide()
	w.list.OnPin = w.setPinned
	w.list.OnArchive = w.setArchived
	w.view = chat.NewView(w.tasks, func(a client.AccountID) model.Engine { return w.engines[a] }, w.ownName)
	w.view.OnLoadOlder = w.loadOlder
	w.view.OnLoadNewer = w.loadNewer
	w.view.OnLock = w.setLock
	w.view.OnDevices = w.ShowDevices
	w.view.Composer().OnShortcut = w.Shortcut
	w.list.SetShortcuts(w.Shortcut)
	tool := func(label string, icon fyne.Resource, f func()) *widget.Button {
		b := widget.NewButtonWithIcon(label, icon, f)
		b.Importance = widget.LowImportance
		return b
	}
	tools := container.NewHBox(
		tool(NewChatLabel, theme.MailComposeIcon(), w.NewChat),
		tool("", theme.SearchIcon(), w.ShowSearch),
		tool("", theme.AccountIcon(), w.ShowContacts),
		tool("", terntheme.LockIcon(), w.ShowOwnDevices),
	)
	left := container.NewBorder(container.NewVBox(w.states, tools, w.notice, widget.NewSeparator()), nil, nil, nil, w.list.Content())
	split := container.NewHSplit(left, w.view.Content())
	split.Offset = 0.32
	w.content = split
	w.Apply(model.Change{Accounts: m.Accounts(), Conversations: m.Conversations()})
	return w
}

// Content returns the screen's root object.
func (w *Main) Content() fyne.CanvasObject { return w.content }

// List returns the conversation list.
func (w *Main) List() *chat.List { return w.list }

// View returns the chat view.
func (w *Main) View() *chat.View { return w.view }

// Tasks returns the screen's task group (its Do serialises functions
// handed to the Fyne thread, which the test driver runs inline).
func (w *Main) Tasks() *chat.Tasks { return w.tasks }

// Wait blocks until the screen's tasks have returned (cancel their context
// first).
func (w *Main) Wait() { w.tasks.Wait() }

// Title returns the window title: Tern's name, after the unread count when
// there are unread messages.
func (w *Main) Title() string {
	if n := model.Unread(w.convs); n > 0 {
		return fmt.Sprintf("(%d) %s", n, WindowTitle)
	}
	return WindowTitle
}

// ownName is how our messages are labelled on an account.
func (w *Main) ownName(client.AccountID) string { return "You" }

// Apply shows a change of the model. Fyne thread only.
func (w *Main) Apply(ch model.Change) {
	if ch.Accounts != nil {
		w.accounts = ch.Accounts
		var lines []string
		for _, a := range ch.Accounts {
			s := a.JID.String() + " · " + a.State.String()
			if a.Err != "" {
				s += ": " + a.Err
			}
			lines = append(lines, s)
		}
		w.states.SetText(strings.Join(lines, "\n"))
		w.setTitle()
	}
	if ch.Conversations != nil {
		w.setList(ch.Conversations)
		w.openPending()
		if w.open != 0 && !slices.ContainsFunc(ch.Conversations, func(c model.Conversation) bool { return c.ID == w.open }) {
			// Its account was removed.
			w.open = 0
			w.list.Unselect()
			w.view.Clear()
		}
	}
	if n := ch.TrustNeeded; n != nil && w.open != 0 && w.view.Timeline().Peer.Bare() == n.Owner.Bare() {
		w.view.Warn(fmt.Sprintf("%d new or changed device(s) of %s wait for your decision: open Devices.", len(n.Devices), n.Owner))
	}
	if ch.Contacts && w.contactsScreen != nil {
		w.contactsScreen.Load()
	}
	if ch.Timeline != nil && ch.Timeline.Conversation == w.open {
		w.view.Show(*ch.Timeline)
		if ch.Received != nil && ch.Received.Conversation == w.open {
			w.markRead(w.open, ch.Received.ID)
		}
	}
}

// setList shows a new conversation list (nil: no change). Fyne thread
// only.
func (w *Main) setList(cs []model.Conversation) {
	if cs == nil {
		return
	}
	w.convs = cs
	w.list.Set(cs)
	w.setTitle()
	if i := slices.IndexFunc(cs, func(c model.Conversation) bool { return c.ID == w.open }); i >= 0 {
		w.view.SetPeerState(cs[i].ChatState)
	}
}

// setPinned pins or unpins a conversation: the list shows it at once, the
// engine stores it off the Fyne thread, and if the store fails the row
// goes back to where it was, with the reason under the tools. Fyne thread
// only.
func (w *Main) setPinned(c model.Conversation, on bool) {
	what := "pin"
	if !on {
		what = "unpin"
	}
	w.keepFlag(c, what, w.model.SetPinned(c.ID, on),
		func(ctx context.Context, e model.Engine) error { return e.SetPinned(ctx, c.ID, on) },
		func() []model.Conversation { return w.model.SetPinnedAt(c.ID, c.PinnedAt) })
}

// setArchived archives a conversation or brings it back, like setPinned.
// Fyne thread only.
func (w *Main) setArchived(c model.Conversation, on bool) {
	what := "archive"
	if !on {
		what = "unarchive"
	}
	w.keepFlag(c, what, w.model.SetArchived(c.ID, on),
		func(ctx context.Context, e model.Engine) error { return e.SetArchived(ctx, c.ID, on) },
		func() []model.Conversation { return w.model.SetArchived(c.ID, c.Archived) })
}

// keepFlag shows cs (the list with the user's change, nil when it changed
// nothing) and stores the change with store as a task; when that fails,
// undo puts the row back and the notice says why. Fyne thread only.
func (w *Main) keepFlag(c model.Conversation, what string, cs []model.Conversation,
	store func(context.Context, model.Engine) error, undo func() []model.Conversation) {
	if cs == nil {
		return
	}
	w.setList(cs)
	fail := func(err error) {
		w.setList(undo())
		w.notice.SetText(fmt.Sprintf("Could not %s %s: %v", what, c.Name, err))
		w.notice.Show()
	}
	e := w.engines[c.Account]
	if e == nil {
		fail(errAccountNotRunning)
		return
	}
	w.tasks.Go(func(ctx context.Context) {
		err := store(ctx, e)
		w.tasks.Do(func() {
			switch {
			case err == nil:
				w.notice.Hide()
			case ctx.Err() == nil:
				fail(err)
			}
		})
	})
}

// errAccountNotRunning: the conversation's account has no engine (it is
// disabled or was removed), so nothing can be stored for it.
var errAccountNotRunning = errors.New("the account is not running")

// Notice returns the text of the notice under the tools ("" when hidden):
// why a pin or an archive could not be kept.
func (w *Main) Notice() string {
	if !w.notice.Visible() {
		return ""
	}
	return w.notice.Text
}

// SetSendTyping says whether contacts are told when the user types
// (XEP-0085), the user's privacy setting.
func (w *Main) SetSendTyping(on bool) { w.view.SetSendTyping(on) }

// SetDrafts sets where the composer keeps the drafts of the conversations
// (nil: nowhere). Call it before opening a conversation.
func (w *Main) SetDrafts(d chat.DraftStore) { w.view.Drafts = d }

// closeTimeout bounds Close's wait for the draft store.
const closeTimeout = 2 * time.Second

// Close saves the state that must survive a restart (the draft of the
// open conversation) and returns once it is saved, so that it is done
// before the program exits. Call it on the Fyne thread, or once the event
// loop has stopped, before cancelling the screen's context; it blocks on
// the draft store for at most two seconds.
func (w *Main) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	w.view.FlushDraft(ctx)
}

// setTitle reports the title and updates the header. Fyne thread only.
func (w *Main) setTitle() {
	if w.open != 0 {
		w.view.SetTitle(w.header(w.view.Timeline()))
	}
	if w.OnTitle != nil {
		w.OnTitle(w.Title())
	}
}

// header is the chat view's title: the peer and, unless online, the
// account's state.
func (w *Main) header(t model.Timeline) string {
	s := t.Peer.String()
	for _, a := range w.accounts {
		if a.ID == t.Account && a.State != model.StateOnline {
			s += " (" + a.JID.String() + " " + a.State.String() + ")"
		}
	}
	return s
}

// Open shows a conversation: its latest page is read off the Fyne thread.
func (w *Main) Open(conv client.ConversationID) {
	w.open = conv
	w.tasks.Go(func(ctx context.Context) {
		t, err := w.model.Open(ctx, conv)
		w.tasks.Do(func() {
			if w.open != conv {
				return
			}
			if err != nil {
				w.view.SetTitle("Could not open the conversation: " + err.Error())
				return
			}
			w.showTimeline(t)
		})
	})
}

// showTimeline shows a conversation just opened. Fyne thread only.
func (w *Main) showTimeline(t model.Timeline) {
	w.view.Show(t)
	w.view.SetArchive(!w.archiveDone[t.Conversation] && w.engines[t.Account] != nil)
	w.view.SetTitle(w.header(t))
	if c, ok := w.model.Conversation(t.Conversation); ok {
		w.view.SetPeerState(c.ChatState)
	}
	w.refreshLock(t)
	if n := len(t.Messages); n > 0 && !t.HasNewer {
		w.markRead(t.Conversation, t.Messages[n-1].ID)
	}
}

// markRead marks conv read up to msg in the model and the engine. Fyne
// thread only.
func (w *Main) markRead(conv client.ConversationID, msg client.MessageID) {
	if cs := w.model.MarkRead(conv); cs != nil {
		w.convs = cs
		w.list.Set(cs)
		w.setTitle()
	}
	e := w.engines[w.view.Timeline().Account]
	if e == nil {
		return
	}
	w.tasks.Go(func(ctx context.Context) {
		// A failure only leaves the conversation unread elsewhere.
		_ = e.MarkRead(ctx, conv, msg)
	})
}

// loadOlder prepends the previous page of the open timeline: from the
// store, and when the store has nothing older, from the archive through
// the engine (XEP-0313), then from the store again. The view's spinner
// turns meanwhile; nothing blocks the Fyne thread.
func (w *Main) loadOlder(conv client.ConversationID) {
	e := w.engines[w.view.Timeline().Account]
	done := w.archiveDone[conv]
	w.tasks.Go(func(ctx context.Context) {
		t, err := w.model.LoadOlder(ctx, conv)
		var complete bool
		var archiveErr error
		if err == nil && !t.HasOlder && !done && e != nil {
			var added int
			added, complete, archiveErr = e.LoadOlder(ctx, conv, model.PageSize)
			if archiveErr == nil && added > 0 {
				w.model.MoreStored(conv)
				t, err = w.model.LoadOlder(ctx, conv)
			}
		}
		w.tasks.Do(func() {
			if complete {
				w.archiveDone[conv] = true
			}
			if w.open != conv {
				return
			}
			w.view.SetLoading(false)
			if err != nil {
				if ctx.Err() == nil {
					w.view.Warn("Could not load older messages: " + err.Error())
				}
				return
			}
			w.view.Show(t)
			w.view.SetArchive(!w.archiveDone[conv] && e != nil)
			// Offline, the archive waits for the next scroll; other
			// failures are shown.
			if archiveErr != nil && ctx.Err() == nil && !errors.Is(archiveErr, client.ErrOffline) {
				w.view.Warn("Could not load older messages from the server: " + archiveErr.Error())
			}
		})
	})
}

// loadNewer appends the next page of a timeline opened around a message.
func (w *Main) loadNewer(conv client.ConversationID) {
	w.tasks.Go(func(ctx context.Context) {
		t, err := w.model.LoadNewer(ctx, conv)
		if err != nil {
			return
		}
		w.tasks.Do(func() {
			if w.open == conv {
				w.view.Show(t)
			}
		})
	})
}
