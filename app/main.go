package app

import (
	"context"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/tern-im/tern/app/chat"
	"github.com/tern-im/tern/app/model"
	"github.com/tern-im/tern/protocol/client"
)

// Main is the main window's content after sign-in: the accounts' connection
// states and the conversation list on the left, the chat view on the right.
// Its widgets belong to the Fyne thread; Bridge feeds it engine events
// through fyne.Do, the one crossing into that thread (DESIGN.md §3).
type Main struct {
	model   *model.Model
	engines map[client.AccountID]model.Engine
	tasks   *chat.Tasks

	// OnTitle is called (Fyne thread) with the window title whenever the
	// unread count changes.
	OnTitle func(string)

	accounts []model.Account // Fyne thread
	convs    []model.Conversation
	open     client.ConversationID
	states   *widget.Label
	list     *chat.List
	view     *chat.View
	content  fyne.CanvasObject
}

// NewMain builds the main screen on the Fyne thread. engines are the
// accounts' engines (read only afterwards); tasks run under ctx, cancel it
// and call Wait before dropping the screen.
func NewMain(ctx context.Context, m *model.Model, engines map[client.AccountID]model.Engine) *Main {
	w := &Main{model: m, engines: engines, tasks: chat.NewTasks(ctx)}
	w.states = widget.NewLabel("")
	w.states.Wrapping = fyne.TextWrapWord
	w.list = chat.NewList()
	w.list.OnSelected = func(c model.Conversation) { w.Open(c.ID) }
	w.view = chat.NewView(w.tasks, func(a client.AccountID) model.Engine { return w.engines[a] }, w.ownName)
	w.view.OnLoadOlder = w.loadOlder
	left := container.NewBorder(container.NewVBox(w.states, widget.NewSeparator()), nil, nil, nil, w.list.Content())
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
		w.convs = ch.Conversations
		w.list.Set(ch.Conversations)
		w.setTitle()
	}
	if ch.Timeline != nil && ch.Timeline.Conversation == w.open {
		w.view.Show(*ch.Timeline)
		if ch.Received != nil && ch.Received.Conversation == w.open {
			w.markRead(w.open, ch.Received.ID)
		}
	}
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
		fyne.Do(func() {
			if w.open != conv {
				return
			}
			if err != nil {
				w.view.SetTitle("Could not open the conversation: " + err.Error())
				return
			}
			w.view.Show(t)
			w.view.SetTitle(w.header(t))
			if n := len(t.Messages); n > 0 {
				w.markRead(conv, t.Messages[n-1].ID)
			}
		})
	})
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

// loadOlder prepends the previous page of the open timeline.
func (w *Main) loadOlder(conv client.ConversationID) {
	w.tasks.Go(func(ctx context.Context) {
		t, err := w.model.LoadOlder(ctx, conv)
		if err != nil {
			return // closed meanwhile, or the store failed: the button stays
		}
		fyne.Do(func() {
			if w.open == conv {
				w.view.Show(t)
			}
		})
	})
}

// Bridge applies an account's events to the model and shows each change on
// the Fyne thread, until events is closed or ctx ends. It is the event
// bridge of DESIGN.md §3: the model (and the store reads it needs) runs on
// the calling goroutine, never on the Fyne thread. Errors are logged to
// log (nil discards).
func (w *Main) Bridge(ctx context.Context, acct client.AccountID, events <-chan client.Event, log func(msg string, args ...any)) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			ch, err := w.model.Apply(ctx, acct, ev)
			if err != nil {
				if log != nil {
					log("applying an engine event", "err", err)
				}
				continue
			}
			if !ch.Empty() {
				fyne.Do(func() { w.Apply(ch) })
			}
		}
	}
}
