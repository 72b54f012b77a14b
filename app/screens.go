package app

import (
	"context"
	"errors"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tern-im/tern/app/contacts"
	"github.com/tern-im/tern/app/model"
	"github.com/tern-im/tern/app/search"
	"github.com/tern-im/tern/app/trust"
	"github.com/tern-im/tern/app/widgets"
	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
)

// The screens Main opens over the chat view (search, quick switcher,
// contacts, new chat, devices), the encryption lock, and the keyboard
// shortcuts. An engine that also implements trust.Engine gets the lock and
// the devices screen; one that implements contacts.Engine gets the
// contacts screen, given a Directory (SetDirectory). *client.Client
// implements both.

// Titles of the overlay screens.
const (
	SearchTitle   = "Search"
	SwitchTitle   = "Go to conversation"
	ContactsTitle = "Contacts"
	NewChatTitle  = "New chat"
	DevicesTitle  = "Encryption"
	// SwitchPlaceholder is the quick switcher's hint.
	SwitchPlaceholder = "Type a name"
	// NewChatAddressHint and NewChatMessageHint are the new chat form's
	// hints; NewChatSendLabel its button.
	NewChatAddressHint = "Address (name@example.org)"
	NewChatMessageHint = "First message"
	NewChatSendLabel   = "Send"
	// NewChatLabel is the text of the toolbar button that starts a chat.
	NewChatLabel = "New chat"
)

// ErrNoAccount is shown when a screen needs a running account.
var ErrNoAccount = errors.New("no account is running")

// SetDirectory sets where the contacts screen reads the roster, the
// requests and the block list (cmd/tern: the store).
func (w *Main) SetDirectory(d contacts.Directory) { w.directory = d }

// Overlay returns the title of the screen shown over the chat view, or "".
func (w *Main) Overlay() string {
	if w.overlay == nil || !w.overlay.Visible() {
		return ""
	}
	return w.overlayTitle
}

// canvas returns the canvas the screen is on, or nil.
func (w *Main) canvas() fyne.Canvas {
	return fyne.CurrentApp().Driver().CanvasForObject(w.content)
}

// showOverlay shows content over the main screen with a title and a close
// button. Fyne thread only.
func (w *Main) showOverlay(title string, content fyne.CanvasObject, focus fyne.Focusable) {
	c := w.canvas()
	if c == nil {
		return
	}
	w.closeOverlay()
	closeBtn := widget.NewButtonWithIcon("", theme.CancelIcon(), w.closeOverlay)
	closeBtn.Importance = widget.LowImportance
	head := container.NewBorder(nil, nil, nil, closeBtn, widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
	w.overlay = widget.NewModalPopUp(container.NewBorder(head, nil, nil, nil, content), c)
	w.overlayTitle = title
	size := c.Size()
	w.overlay.Resize(fyne.NewSize(min(640, size.Width*0.9), size.Height*0.8))
	w.overlay.Show()
	if focus != nil {
		c.Focus(focus)
	}
	if w.OnOverlay != nil {
		w.OnOverlay(title)
	}
}

// closeOverlay closes the screen shown over the chat view.
func (w *Main) closeOverlay() {
	if w.overlay != nil {
		w.overlay.Hide()
		w.overlay = nil
		w.overlayTitle = ""
		w.searchScreen, w.contactsScreen, w.devicesScreen, w.switcher = nil, nil, nil, nil
		if w.OnOverlay != nil {
			w.OnOverlay("")
		}
	}
}

// accountIDs lists the accounts.
func (w *Main) accountIDs() []client.AccountID {
	var out []client.AccountID
	for _, a := range w.accounts {
		out = append(out, a.ID)
	}
	return out
}

// convName names a conversation for the search results.
func (w *Main) convName(_ client.AccountID, conv client.ConversationID) string {
	if c, ok := w.model.Conversation(conv); ok {
		return c.Name
	}
	return "Unknown conversation"
}

// ShowSearch opens the global search (Ctrl+F).
func (w *Main) ShowSearch() {
	s := search.NewScreen(w.tasks, w.model, w.accountIDs, w.convName)
	s.OnJump = func(r search.Result) {
		w.closeOverlay()
		w.OpenAt(r.Conversation, r.Message)
	}
	w.overlayKeys(s.Entry())
	w.showOverlay(SearchTitle, s.Content(), s.Entry())
	w.searchScreen = s
}

// SearchScreen returns the search screen shown, or nil.
func (w *Main) SearchScreen() *search.Screen { return w.searchScreen }

// OpenAt opens a conversation around one of its messages (a search
// result), which is highlighted.
func (w *Main) OpenAt(conv client.ConversationID, msg client.MessageID) {
	w.open = conv
	w.selecting = true
	w.list.Select(conv)
	w.selecting = false
	w.tasks.Go(func(ctx context.Context) {
		t, err := w.model.OpenAt(ctx, conv, msg)
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

// QuickSwitcher opens the quick switcher (Ctrl+K): a filter over the
// conversations; Enter opens the first match.
func (w *Main) QuickSwitcher() {
	entry := widgets.NewEntry()
	w.overlayKeys(entry)
	entry.SetPlaceHolder(SwitchPlaceholder)
	var shown []model.Conversation
	list := widget.NewList(
		func() int { return len(shown) },
		func() fyne.CanvasObject { return widget.NewLabel("") },
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id < len(shown) {
				o.(*widget.Label).SetText(shown[id].Name)
			}
		},
	)
	pick := func(c model.Conversation) {
		w.closeOverlay()
		w.list.Select(c.ID)
	}
	update := func(q string) {
		shown = model.Filter(w.convs, q)
		list.Refresh()
	}
	entry.OnChanged = update
	entry.OnSubmitted = func(string) {
		if len(shown) > 0 {
			pick(shown[0])
		}
	}
	list.OnSelected = func(id widget.ListItemID) {
		if id < len(shown) {
			pick(shown[id])
		}
	}
	update("")
	w.showOverlay(SwitchTitle, container.NewBorder(entry, nil, nil, nil, list), entry)
	w.switcher = entry
}

// Switcher returns the quick switcher's entry when it is shown, or nil.
func (w *Main) Switcher() *widgets.Entry { return w.switcher }

// overlayKeys makes an entry of an overlay screen pass the window's
// shortcuts on (Ctrl+W closes the screen) and close the screen on Escape.
func (w *Main) overlayKeys(e *widgets.Entry) {
	e.OnShortcut = w.Shortcut
	e.OnEscape = w.closeOverlay
}

// firstAccount returns the account of the open conversation, or the first
// one.
func (w *Main) firstAccount() (client.AccountID, bool) {
	if w.open != 0 {
		return w.view.Timeline().Account, true
	}
	if len(w.accounts) > 0 {
		return w.accounts[0].ID, true
	}
	return 0, false
}

// ShowContacts opens the contacts screen of the current account.
func (w *Main) ShowContacts() {
	acct, ok := w.firstAccount()
	ce, isContacts := w.engines[acct].(contacts.Engine)
	if !ok || !isContacts || w.directory == nil {
		w.view.Warn("Contacts: " + ErrNoAccount.Error() + ".")
		return
	}
	s := contacts.NewScreen(w.tasks, ce, w.directory, acct)
	s.OnChat = func(j jid.JID) {
		w.closeOverlay()
		w.chatWith(acct, j)
	}
	w.showOverlay(ContactsTitle, s.Content(), nil)
	w.contactsScreen = s
	s.Load()
}

// ContactsScreen returns the contacts screen shown, or nil.
func (w *Main) ContactsScreen() *contacts.Screen { return w.contactsScreen }

// chatWith opens the conversation with j, or the new chat form for it.
func (w *Main) chatWith(acct client.AccountID, j jid.JID) {
	for _, c := range w.convs {
		if c.Account == acct && c.Peer.Bare() == j.Bare() {
			w.list.Select(c.ID)
			return
		}
	}
	w.NewChat()
	if w.newChatAddr != nil {
		w.newChatAddr.SetText(j.String())
	}
}

// NewChat opens the new chat form (Ctrl+N): an address and a first
// message; the conversation opens once the message is queued.
func (w *Main) NewChat() {
	acct, ok := w.firstAccount()
	e := w.engines[acct]
	if !ok || e == nil {
		w.view.Warn("New chat: " + ErrNoAccount.Error() + ".")
		return
	}
	addr := widgets.NewEntry()
	w.overlayKeys(addr)
	addr.SetPlaceHolder(NewChatAddressHint)
	msg := widget.NewMultiLineEntry()
	msg.SetPlaceHolder(NewChatMessageHint)
	status := widget.NewLabel("")
	status.Importance = widget.DangerImportance
	status.Hide()
	send := widget.NewButtonWithIcon(NewChatSendLabel, theme.MailSendIcon(), func() {
		j, err := jid.Parse(strings.TrimSpace(addr.Text))
		if err != nil || j.Local() == "" {
			status.SetText("Enter an address like name@example.org.")
			status.Show()
			return
		}
		text := msg.Text
		if strings.TrimSpace(text) == "" {
			status.SetText("Write a first message.")
			status.Show()
			return
		}
		w.pendingPeer = j.Bare()
		w.closeOverlay()
		w.tasks.Go(func(ctx context.Context) {
			if _, err := e.SendMessage(ctx, j.Bare(), text, client.SendOptions{}); err != nil && ctx.Err() == nil {
				w.tasks.Do(func() { w.view.Warn("Could not send: " + err.Error()) })
			}
		})
	})
	send.Importance = widget.HighImportance
	addr.OnSubmitted = func(string) { w.canvas().Focus(msg) }
	w.showOverlay(NewChatTitle, container.NewVBox(addr, msg, status, container.NewHBox(send)), addr)
	w.newChatAddr = addr
}

// openPending opens the conversation a new chat created, once the list
// has it. Fyne thread only.
func (w *Main) openPending() {
	if w.pendingPeer.IsZero() {
		return
	}
	for _, c := range w.convs {
		if c.Peer.Bare() == w.pendingPeer {
			w.pendingPeer = jid.JID{}
			w.list.Select(c.ID)
			return
		}
	}
}

// CloseConversation closes the open conversation (Ctrl+W), or the screen
// shown over it.
func (w *Main) CloseConversation() {
	if w.overlay != nil {
		w.closeOverlay()
		return
	}
	if w.open == 0 {
		return
	}
	w.view.SaveDraft()
	w.model.Close(w.open)
	w.open = 0
	w.list.Unselect()
	w.view.Clear()
}

// Step opens the next (delta 1) or previous (-1) conversation of the list
// (Alt+Down, Alt+Up).
func (w *Main) Step(delta int) { w.list.Step(delta) }

// shortcuts returns the keyboard shortcuts with their actions: Ctrl+K
// quick switcher, Ctrl+F search, Ctrl+N new chat, Ctrl+W close,
// Alt+Up/Down previous/next conversation, Ctrl+Shift+C contacts,
// Ctrl+Shift+E encryption (the open conversation's devices, else ours).
func (w *Main) shortcuts() map[string]func() {
	m := make(map[string]func())
	add := func(k fyne.KeyName, mod fyne.KeyModifier, f func()) {
		m[(&desktop.CustomShortcut{KeyName: k, Modifier: mod}).ShortcutName()] = f
	}
	add(fyne.KeyK, fyne.KeyModifierShortcutDefault, w.QuickSwitcher)
	add(fyne.KeyF, fyne.KeyModifierShortcutDefault, w.ShowSearch)
	add(fyne.KeyN, fyne.KeyModifierShortcutDefault, w.NewChat)
	add(fyne.KeyW, fyne.KeyModifierShortcutDefault, w.CloseConversation)
	add(fyne.KeyC, fyne.KeyModifierShortcutDefault|fyne.KeyModifierShift, w.ShowContacts)
	add(fyne.KeyE, fyne.KeyModifierShortcutDefault|fyne.KeyModifierShift, w.ShowEncryption)
	add(fyne.KeyUp, fyne.KeyModifierAlt, func() { w.Step(-1) })
	add(fyne.KeyDown, fyne.KeyModifierAlt, func() { w.Step(1) })
	return m
}

// Shortcut runs the action of one of Main's keyboard shortcuts and
// reports whether s was one. The composer and the filter box pass their
// shortcuts here first: a focused entry receives shortcuts instead of the
// canvas.
func (w *Main) Shortcut(s fyne.Shortcut) bool {
	if f, ok := w.shortcuts()[s.ShortcutName()]; ok {
		f()
		return true
	}
	return false
}

// Shortcuts registers the keyboard shortcuts on c (the window's canvas),
// for when no entry has the focus.
func (w *Main) Shortcuts(c fyne.Canvas) {
	for _, k := range []struct {
		key fyne.KeyName
		mod fyne.KeyModifier
	}{
		{fyne.KeyK, fyne.KeyModifierShortcutDefault}, {fyne.KeyF, fyne.KeyModifierShortcutDefault},
		{fyne.KeyN, fyne.KeyModifierShortcutDefault}, {fyne.KeyW, fyne.KeyModifierShortcutDefault},
		{fyne.KeyC, fyne.KeyModifierShortcutDefault | fyne.KeyModifierShift},
		{fyne.KeyE, fyne.KeyModifierShortcutDefault | fyne.KeyModifierShift},
		{fyne.KeyUp, fyne.KeyModifierAlt}, {fyne.KeyDown, fyne.KeyModifierAlt},
	} {
		c.AddShortcut(&desktop.CustomShortcut{KeyName: k.key, Modifier: k.mod}, func(s fyne.Shortcut) { w.Shortcut(s) })
	}
}

// trustEngine returns the trust engine of an account, or nil.
func (w *Main) trustEngine(acct client.AccountID) trust.Engine {
	e, _ := w.engines[acct].(trust.Engine)
	return e
}

// refreshLock reads whether the open conversation is encrypted and shows
// it on the lock.
func (w *Main) refreshLock(t model.Timeline) {
	e := w.trustEngine(t.Account)
	if e == nil {
		w.view.SetEncrypted(false, false)
		return
	}
	w.tasks.Go(func(ctx context.Context) {
		on, err := e.Encrypts(ctx, t.Peer)
		w.tasks.Do(func() {
			if w.open == t.Conversation {
				w.view.SetEncrypted(on && err == nil, true)
			}
		})
	})
}

// setLock changes the open conversation's encryption policy.
func (w *Main) setLock(t model.Timeline, encrypt bool) {
	e := w.trustEngine(t.Account)
	if e == nil {
		return
	}
	p := client.EncryptionDisabled
	if encrypt {
		p = client.EncryptionRequired
	}
	w.tasks.Go(func(ctx context.Context) {
		err := e.SetEncryption(ctx, t.Conversation, p)
		w.tasks.Do(func() {
			if err != nil {
				w.view.Warn("Could not change the encryption: " + err.Error())
				return
			}
			w.setList(w.model.SetEncryption(t.Conversation, p))
			if w.open == t.Conversation {
				w.view.SetEncrypted(encrypt, true)
			}
		})
	})
}

// ShowDevices opens the encryption screen of the open conversation's peer.
func (w *Main) ShowDevices(t model.Timeline) {
	e := w.trustEngine(t.Account)
	if e == nil {
		return
	}
	s := trust.NewScreen(w.tasks, e, t.Peer)
	s.OnChanged = func() { w.refreshLock(w.view.Timeline()) }
	w.showOverlay(DevicesTitle, s.Content(), nil)
	w.devicesScreen = s
	s.Load()
}

// ShowOwnDevices opens the encryption screen of the current account: its
// other devices, and this device's fingerprint with its QR code.
func (w *Main) ShowOwnDevices() {
	acct, ok := w.firstAccount()
	e := w.trustEngine(acct)
	if !ok || e == nil {
		w.view.Warn("Encryption: " + ErrNoAccount.Error() + ".")
		return
	}
	var own jid.JID
	for _, a := range w.accounts {
		if a.ID == acct {
			own = a.JID
		}
	}
	s := trust.NewScreen(w.tasks, e, own)
	w.showOverlay(DevicesTitle, s.Content(), nil)
	w.devicesScreen = s
	s.Load()
}

// ShowEncryption opens the encryption screen of the open conversation's
// peer, or of the current account when no conversation is open
// (Ctrl+Shift+E).
func (w *Main) ShowEncryption() {
	if w.open != 0 {
		w.ShowDevices(w.view.Timeline())
		return
	}
	w.ShowOwnDevices()
}

// DevicesScreen returns the encryption screen shown, or nil.
func (w *Main) DevicesScreen() *trust.Screen { return w.devicesScreen }
