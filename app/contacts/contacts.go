// Package contacts is Tern's contacts screen (RFC 6121 roster and
// subscriptions, XEP-0191 blocking): add a contact with a subscription
// request, rename it, set its groups, remove it; approve or deny incoming
// subscription requests; block and unblock. The engine does the work
// through Engine; reads come from a Directory. Engine calls and reads run
// off the Fyne thread on goroutines the screen's Runner owns.
package contacts

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
)

// Engine is what the contacts screen asks of an account's engine.
// *client.Client implements it.
type Engine interface {
	AddContact(ctx context.Context, j jid.JID, name string, groups []string) error
	RenameContact(ctx context.Context, j jid.JID, name string) error
	SetGroups(ctx context.Context, j jid.JID, groups []string) error
	RemoveContact(ctx context.Context, j jid.JID) error
	RequestSubscription(ctx context.Context, j jid.JID) error
	ApproveSubscription(ctx context.Context, j jid.JID) error
	DenySubscription(ctx context.Context, j jid.JID) error
	Block(ctx context.Context, jids ...jid.JID) error
	Unblock(ctx context.Context, jids ...jid.JID) error
}

// Directory reads what the screen lists from the store (cmd/tern
// implements it with client.Store's View: Roster, SubscriptionRequests,
// Blocklist).
type Directory interface {
	Roster(ctx context.Context, acct client.AccountID) ([]client.RosterItem, error)
	SubscriptionRequests(ctx context.Context, acct client.AccountID) ([]client.SubscriptionRequest, error)
	Blocklist(ctx context.Context, acct client.AccountID) ([]jid.JID, error)
}

// Runner runs a function on a goroutine it owns and waits for, and hands
// functions to the Fyne thread (chat.Tasks).
type Runner interface {
	Go(f func(ctx context.Context))
	Do(f func())
}

// Labels and texts of the screen.
const (
	AddLabel      = "Add contact"
	ApproveLabel  = "Approve"
	DenyLabel     = "Deny"
	SaveLabel     = "Save"
	RemoveLabel   = "Remove"
	BlockLabel    = "Block"
	UnblockLabel  = "Unblock"
	ChatLabel     = "Chat"
	AddressHint   = "Address (name@example.org)"
	NameHint      = "Name (optional)"
	GroupsHint    = "Groups, separated by commas"
	RequestsTitle = "Requests"
	ContactsTitle = "Contacts"
)

// ErrBadAddress is shown when the address typed is not a bare JID.
var ErrBadAddress = errors.New("enter an address like name@example.org")

// Contact is one row of the screen.
type Contact struct {
	client.RosterItem
	Blocked bool
}

// Screen is the contacts screen of one account.
type Screen struct {
	// OnChat is called when the user wants to chat with a contact.
	OnChat func(jid.JID)

	run  Runner
	e    Engine
	dir  Directory
	acct client.AccountID

	contacts []Contact
	requests []client.SubscriptionRequest
	blocked  []jid.JID
	selected int

	address, name, groups *widget.Entry
	editName, editGroups  *widget.Entry
	status                *widget.Label
	reqBox                *fyne.Container
	list                  *widget.List
	editor                *fyne.Container
	blockBtn              *widget.Button
	content               fyne.CanvasObject
}

// NewScreen returns the contacts screen of account acct; call Load.
func NewScreen(run Runner, e Engine, dir Directory, acct client.AccountID) *Screen {
	s := &Screen{run: run, e: e, dir: dir, acct: acct, selected: -1}
	s.address, s.name, s.groups = widget.NewEntry(), widget.NewEntry(), widget.NewEntry()
	s.address.SetPlaceHolder(AddressHint)
	s.name.SetPlaceHolder(NameHint)
	s.groups.SetPlaceHolder(GroupsHint)
	add := widget.NewButtonWithIcon(AddLabel, theme.ContentAddIcon(), s.add)
	add.Importance = widget.HighImportance
	s.address.OnSubmitted = func(string) { s.add() }
	s.status = widget.NewLabel("")
	s.status.Wrapping = fyne.TextWrapWord
	s.status.Hide()
	s.reqBox = container.NewVBox()
	s.list = widget.NewList(
		func() int { return len(s.contacts) },
		func() fyne.CanvasObject {
			name := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
			name.Truncation = fyne.TextTruncateEllipsis
			info := widget.NewLabel("")
			info.SizeName = theme.SizeNameCaptionText
			info.Importance = widget.LowImportance
			info.Truncation = fyne.TextTruncateEllipsis
			return container.NewVBox(name, info)
		},
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id >= len(s.contacts) {
				return
			}
			c := s.contacts[id]
			box := o.(*fyne.Container)
			box.Objects[0].(*widget.Label).SetText(DisplayName(c.RosterItem))
			box.Objects[1].(*widget.Label).SetText(Info(c))
		},
	)
	s.list.OnSelected = func(id widget.ListItemID) { s.selectContact(id) }
	s.editName, s.editGroups = widget.NewEntry(), widget.NewEntry()
	s.editName.SetPlaceHolder(NameHint)
	s.editGroups.SetPlaceHolder(GroupsHint)
	save := widget.NewButtonWithIcon(SaveLabel, theme.DocumentSaveIcon(), s.save)
	remove := widget.NewButtonWithIcon(RemoveLabel, theme.DeleteIcon(), s.remove)
	remove.Importance = widget.DangerImportance
	s.blockBtn = widget.NewButton(BlockLabel, s.toggleBlock)
	chat := widget.NewButtonWithIcon(ChatLabel, theme.MailComposeIcon(), func() {
		if c, ok := s.Selected(); ok && s.OnChat != nil {
			s.OnChat(c.JID)
		}
	})
	s.editor = container.NewVBox(widget.NewSeparator(), s.editName, s.editGroups, container.NewHBox(chat, save, s.blockBtn, remove))
	s.editor.Hide()
	addForm := container.NewVBox(s.address, container.NewGridWithColumns(2, s.name, s.groups), container.NewHBox(add))
	top := container.NewVBox(addForm, s.status, s.reqBox,
		widget.NewLabelWithStyle(ContactsTitle, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
	s.content = container.NewBorder(top, s.editor, nil, nil, s.list)
	return s
}

// Content returns the screen's root object.
func (s *Screen) Content() fyne.CanvasObject { return s.content }

// Contacts returns the contacts shown, by name.
func (s *Screen) Contacts() []Contact { return s.contacts }

// Requests returns the subscription requests shown.
func (s *Screen) Requests() []client.SubscriptionRequest { return s.requests }

// Status returns the message line ("" when hidden).
func (s *Screen) Status() string {
	if !s.status.Visible() {
		return ""
	}
	return s.status.Text
}

// Form returns the add form's entries: address, name and groups.
func (s *Screen) Form() (address, name, groups *widget.Entry) { return s.address, s.name, s.groups }

// Editor returns the selected contact's name and groups entries.
func (s *Screen) Editor() (name, groups *widget.Entry) { return s.editName, s.editGroups }

// DisplayName is a contact's name, or its address when it has none.
func DisplayName(it client.RosterItem) string {
	if it.Name != "" {
		return it.Name
	}
	return it.JID.String()
}

// Info is the line under a contact's name: address, groups, subscription
// and blocking.
func Info(c Contact) string {
	parts := []string{c.JID.String()}
	if len(c.Groups) > 0 {
		parts = append(parts, strings.Join(c.Groups, ", "))
	}
	switch {
	case c.Subscription == client.SubscriptionBoth:
	case c.Subscription == client.SubscriptionTo:
		parts = append(parts, "does not see your presence")
	case c.Ask:
		parts = append(parts, "request sent")
	case c.Subscription == client.SubscriptionFrom:
		parts = append(parts, "you do not see their presence")
	default:
		parts = append(parts, "no subscription")
	}
	if c.Blocked {
		parts = append(parts, "blocked")
	}
	return strings.Join(parts, " · ")
}

// ParseGroups reads a comma-separated list of groups: trimmed, without
// empty or repeated names.
func ParseGroups(s string) []string {
	var out []string
	for _, g := range strings.Split(s, ",") {
		if g = strings.TrimSpace(g); g != "" && !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out
}

// Load reads the roster, the requests and the block list off the Fyne
// thread and shows them.
func (s *Screen) Load() {
	dir, acct := s.dir, s.acct
	s.run.Go(func(ctx context.Context) {
		items, err := dir.Roster(ctx, acct)
		var reqs []client.SubscriptionRequest
		var blocked []jid.JID
		if err == nil {
			reqs, err = dir.SubscriptionRequests(ctx, acct)
		}
		if err == nil {
			blocked, err = dir.Blocklist(ctx, acct)
		}
		s.run.Do(func() {
			if err != nil {
				s.show("Could not read the contacts: "+err.Error(), true)
				return
			}
			s.set(items, reqs, blocked)
		})
	})
}

// set shows the contacts, requests and block list. Fyne thread only.
func (s *Screen) set(items []client.RosterItem, reqs []client.SubscriptionRequest, blocked []jid.JID) {
	var sel jid.JID
	if c, ok := s.Selected(); ok {
		sel = c.JID
	}
	s.blocked = blocked
	s.contacts = s.contacts[:0]
	for _, it := range items {
		s.contacts = append(s.contacts, Contact{RosterItem: it, Blocked: slices.Contains(blocked, it.JID.Bare())})
	}
	slices.SortFunc(s.contacts, func(a, b Contact) int {
		return strings.Compare(strings.ToLower(DisplayName(a.RosterItem)), strings.ToLower(DisplayName(b.RosterItem)))
	})
	s.requests = reqs
	s.reqBox.RemoveAll()
	if len(reqs) > 0 {
		s.reqBox.Add(widget.NewLabelWithStyle(RequestsTitle, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
	}
	for _, r := range reqs {
		who := r.JID.String()
		if r.Nick != "" {
			who = r.Nick + " (" + who + ")"
		}
		text := who + " wants to see your presence"
		if r.Status != "" {
			text += ": “" + r.Status + "”"
		}
		l := widget.NewLabel(text)
		l.Wrapping = fyne.TextWrapWord
		j := r.JID
		approve := widget.NewButtonWithIcon(ApproveLabel, theme.ConfirmIcon(), func() { s.answer(j, true) })
		approve.Importance = widget.HighImportance
		deny := widget.NewButtonWithIcon(DenyLabel, theme.CancelIcon(), func() { s.answer(j, false) })
		s.reqBox.Add(container.NewBorder(nil, nil, nil, container.NewHBox(approve, deny), l))
	}
	s.reqBox.Refresh()
	s.list.UnselectAll()
	s.selected = -1
	s.editor.Hide()
	s.list.Refresh()
	if i := slices.IndexFunc(s.contacts, func(c Contact) bool { return c.JID == sel }); i >= 0 && !sel.IsZero() {
		s.list.Select(i)
	}
}

// Selected returns the contact being edited.
func (s *Screen) Selected() (Contact, bool) {
	if s.selected < 0 || s.selected >= len(s.contacts) {
		return Contact{}, false
	}
	return s.contacts[s.selected], true
}

// Select selects the contact j for editing.
func (s *Screen) Select(j jid.JID) {
	if i := slices.IndexFunc(s.contacts, func(c Contact) bool { return c.JID == j }); i >= 0 {
		s.list.Select(i)
	}
}

func (s *Screen) selectContact(id int) {
	if id >= len(s.contacts) {
		return
	}
	s.selected = id
	c := s.contacts[id]
	s.editName.SetText(c.Name)
	s.editGroups.SetText(strings.Join(c.Groups, ", "))
	s.blockBtn.SetText(BlockLabel)
	if c.Blocked {
		s.blockBtn.SetText(UnblockLabel)
	}
	s.editor.Show()
}

// show shows a message (an error when failed).
func (s *Screen) show(msg string, failed bool) {
	s.status.Importance = widget.MediumImportance
	if failed {
		s.status.Importance = widget.DangerImportance
	}
	s.status.SetText(msg)
	s.status.Show()
}

// do runs an engine call; done (Fyne thread) follows success, and the
// screen reloads either way.
func (s *Screen) do(what string, f func(ctx context.Context, e Engine) error, done string) {
	e := s.e
	s.status.Hide()
	s.run.Go(func(ctx context.Context) {
		err := f(ctx, e)
		s.run.Do(func() {
			if err != nil {
				s.show(fmt.Sprintf("%s: %v", what, err), true)
			} else if done != "" {
				s.show(done, false)
			}
			s.Load()
		})
	})
}

// add adds the contact of the form and asks for its presence.
func (s *Screen) add() {
	j, err := jid.Parse(strings.TrimSpace(s.address.Text))
	if err != nil || j.Local() == "" || !j.IsBare() {
		s.show(ErrBadAddress.Error(), true)
		return
	}
	name, groups := strings.TrimSpace(s.name.Text), ParseGroups(s.groups.Text)
	s.address.SetText("")
	s.name.SetText("")
	s.groups.SetText("")
	s.do("Could not add "+j.String(), func(ctx context.Context, e Engine) error {
		if err := e.AddContact(ctx, j, name, groups); err != nil {
			return err
		}
		return e.RequestSubscription(ctx, j)
	}, "Added "+j.String()+"; a request to see their presence was sent.")
}

// answer approves or denies a subscription request.
func (s *Screen) answer(j jid.JID, approve bool) {
	if approve {
		s.do("Could not approve "+j.String(), func(ctx context.Context, e Engine) error { return e.ApproveSubscription(ctx, j) }, "")
		return
	}
	s.do("Could not deny "+j.String(), func(ctx context.Context, e Engine) error { return e.DenySubscription(ctx, j) }, "")
}

// save stores the selected contact's name and groups.
func (s *Screen) save() {
	c, ok := s.Selected()
	if !ok {
		return
	}
	name, groups := strings.TrimSpace(s.editName.Text), ParseGroups(s.editGroups.Text)
	s.do("Could not save "+c.JID.String(), func(ctx context.Context, e Engine) error {
		if name != c.Name {
			if err := e.RenameContact(ctx, c.JID, name); err != nil {
				return err
			}
		}
		if !slices.Equal(groups, c.Groups) {
			return e.SetGroups(ctx, c.JID, groups)
		}
		return nil
	}, "")
}

// remove removes the selected contact from the roster.
func (s *Screen) remove() {
	c, ok := s.Selected()
	if !ok {
		return
	}
	s.do("Could not remove "+c.JID.String(), func(ctx context.Context, e Engine) error { return e.RemoveContact(ctx, c.JID) }, "")
}

// toggleBlock blocks or unblocks the selected contact.
func (s *Screen) toggleBlock() {
	c, ok := s.Selected()
	if !ok {
		return
	}
	if c.Blocked {
		s.do("Could not unblock "+c.JID.String(), func(ctx context.Context, e Engine) error { return e.Unblock(ctx, c.JID) }, "")
		return
	}
	s.do("Could not block "+c.JID.String(), func(ctx context.Context, e Engine) error { return e.Block(ctx, c.JID) }, "")
}
