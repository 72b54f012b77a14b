// Package settings is Tern's settings screen and the non-secret settings
// it edits: accounts (add, enable, remove), notifications, theme, privacy
// (XEP-0085 chat states and XEP-0333 read markers) and the default for
// end-to-end encryption (XEP-0384 OMEMO). Settings are kept in the Fyne
// application's preferences; passwords never are.
package settings

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	fynetheme "fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tern-im/tern/app/model"
	"github.com/tern-im/tern/protocol/client"
)

// Theme is the user's choice of colours.
type Theme string

// The themes.
const (
	ThemeSystem Theme = "system" // follow the desktop's light/dark preference
	ThemeLight  Theme = "light"
	ThemeDark   Theme = "dark"
)

// Settings are the user's choices. The zero value is not the default: use
// Default.
type Settings struct {
	// Notifications shows desktop notifications for messages that arrive
	// while the window is not focused.
	Notifications bool
	// HideText keeps message text out of notifications.
	HideText bool
	// Theme is the colour theme.
	Theme Theme
	// SendTyping sends chat states (XEP-0085): typing, paused, active.
	SendTyping bool
	// SendMarkers sends read markers (XEP-0333 displayed).
	SendMarkers bool
	// Encrypt makes new conversations end-to-end encrypted by default.
	Encrypt bool
}

// Default returns the settings of a new installation.
func Default() Settings {
	return Settings{Notifications: true, Theme: ThemeSystem, SendTyping: true, SendMarkers: true, Encrypt: true}
}

// Preference keys.
const (
	keyNotifications = "notifications.enabled"
	keyHideText      = "notifications.hideText"
	keyTheme         = "appearance.theme"
	keySendTyping    = "privacy.sendTyping"
	keySendMarkers   = "privacy.sendMarkers"
	keyEncrypt       = "encryption.default"
)

// Load reads the settings from p; missing ones have their default.
func Load(p fyne.Preferences) Settings {
	d := Default()
	s := Settings{
		Notifications: p.BoolWithFallback(keyNotifications, d.Notifications),
		HideText:      p.BoolWithFallback(keyHideText, d.HideText),
		Theme:         Theme(p.StringWithFallback(keyTheme, string(d.Theme))),
		SendTyping:    p.BoolWithFallback(keySendTyping, d.SendTyping),
		SendMarkers:   p.BoolWithFallback(keySendMarkers, d.SendMarkers),
		Encrypt:       p.BoolWithFallback(keyEncrypt, d.Encrypt),
	}
	switch s.Theme {
	case ThemeSystem, ThemeLight, ThemeDark:
	default:
		s.Theme = d.Theme
	}
	return s
}

// Save writes the settings to p.
func (s Settings) Save(p fyne.Preferences) {
	p.SetBool(keyNotifications, s.Notifications)
	p.SetBool(keyHideText, s.HideText)
	p.SetString(keyTheme, string(s.Theme))
	p.SetBool(keySendTyping, s.SendTyping)
	p.SetBool(keySendMarkers, s.SendMarkers)
	p.SetBool(keyEncrypt, s.Encrypt)
}

// Account is an account as the settings screen lists it.
type Account struct {
	ID      client.AccountID
	JID     string
	Enabled bool
	State   model.ConnState
}

// Actions are what the screen asks of the rest of Tern; each is called on
// the Fyne thread and must not block.
type Actions struct {
	// Changed receives the settings after every change.
	Changed func(Settings)
	// AddAccount opens the sign-in or registration screen.
	AddAccount func()
	// SetEnabled connects (on) or disconnects (off) an account and
	// remembers the choice.
	SetEnabled func(id client.AccountID, on bool)
	// Remove forgets an account, its history and its password (the user
	// has confirmed).
	Remove func(id client.AccountID)
}

// Labels the screen uses.
const (
	AddAccountLabel = "Add account"
	RemoveLabel     = "Remove"
	EnabledLabel    = "Connect"
)

// Name returns the theme as the screen shows it.
func (t Theme) Name() string {
	switch t {
	case ThemeLight:
		return "Light"
	case ThemeDark:
		return "Dark"
	}
	return "Follow the system"
}

// themes lists the themes in the order the screen shows them.
func themes() []Theme { return []Theme{ThemeSystem, ThemeLight, ThemeDark} }

// Screen is the settings screen. Fyne thread only.
type Screen struct {
	s        Settings
	actions  Actions
	win      fyne.Window
	accounts *fyne.Container
	content  fyne.CanvasObject
}

// New builds the settings screen for s and the accounts; dialogs (such as
// the confirmation before removing an account) open on win.
func New(s Settings, accounts []Account, actions Actions, win fyne.Window) *Screen {
	sc := &Screen{s: s, actions: actions, win: win}
	sc.accounts = container.NewVBox()
	sc.SetAccounts(accounts)
	add := widget.NewButtonWithIcon(AddAccountLabel, fynetheme.ContentAddIcon(), func() {
		if actions.AddAccount != nil {
			actions.AddAccount()
		}
	})

	check := func(label string, v *bool) *widget.Check {
		c := widget.NewCheck(label, nil)
		c.SetChecked(*v)
		c.OnChanged = func(on bool) {
			*v = on
			sc.changed()
		}
		return c
	}
	notifications := check("Show notifications for new messages", &sc.s.Notifications)
	hide := check("Hide the message text in notifications", &sc.s.HideText)

	var names []string
	for _, t := range themes() {
		names = append(names, t.Name())
	}
	theme := widget.NewRadioGroup(names, nil)
	theme.Horizontal = true
	theme.Required = true
	theme.SetSelected(sc.s.Theme.Name())
	theme.OnChanged = func(name string) {
		for _, t := range themes() {
			if t.Name() == name {
				sc.s.Theme = t
			}
		}
		sc.changed()
	}
	typing := check("Let contacts see when I am typing", &sc.s.SendTyping)
	markers := check("Let contacts see when I have read their messages", &sc.s.SendMarkers)
	encrypt := check("Encrypt new conversations end to end (OMEMO)", &sc.s.Encrypt)

	sc.content = container.NewVScroll(container.NewVBox(
		section("Accounts"), sc.accounts, container.NewHBox(add),
		section("Notifications"), notifications, hide,
		section("Appearance"), theme,
		section("Privacy"), typing, markers,
		section("Encryption"), encrypt,
	))
	return sc
}

// section is a heading of the screen.
func section(title string) fyne.CanvasObject {
	l := widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	l.SizeName = fynetheme.SizeNameSubHeadingText
	return l
}

// Content returns the screen's root object.
func (sc *Screen) Content() fyne.CanvasObject { return sc.content }

// Settings returns the settings as the screen shows them.
func (sc *Screen) Settings() Settings { return sc.s }

// changed reports the settings.
func (sc *Screen) changed() {
	if sc.actions.Changed != nil {
		sc.actions.Changed(sc.s)
	}
}

// SetAccounts shows the accounts.
func (sc *Screen) SetAccounts(accounts []Account) {
	rows := make([]fyne.CanvasObject, 0, len(accounts))
	for _, a := range accounts {
		name := widget.NewLabel(a.JID)
		name.Truncation = fyne.TextTruncateEllipsis
		state := widget.NewLabel(a.State.String())
		state.Importance = stateImportance(a.State)
		enabled := widget.NewCheck(EnabledLabel, nil)
		enabled.SetChecked(a.Enabled)
		enabled.OnChanged = func(on bool) {
			if sc.actions.SetEnabled != nil {
				sc.actions.SetEnabled(a.ID, on)
			}
		}
		remove := widget.NewButtonWithIcon(RemoveLabel, fynetheme.DeleteIcon(), func() {
			dialog.ShowConfirm("Remove "+a.JID+"?",
				"Tern forgets this account, its history and its stored password. The account itself stays on its server.",
				func(ok bool) {
					if ok && sc.actions.Remove != nil {
						sc.actions.Remove(a.ID)
					}
				}, sc.win)
		})
		remove.Importance = widget.DangerImportance
		rows = append(rows, container.NewBorder(nil, nil, nil, container.NewHBox(state, enabled, remove), name))
	}
	if len(rows) == 0 {
		rows = append(rows, widget.NewLabel("No account yet."))
	}
	sc.accounts.Objects = rows
	sc.accounts.Refresh()
}

// stateImportance colours a connection state.
func stateImportance(s model.ConnState) widget.Importance {
	switch s {
	case model.StateOnline:
		return widget.SuccessImportance
	case model.StateFailed:
		return widget.DangerImportance
	case model.StateConnecting:
		return widget.MediumImportance
	}
	return widget.LowImportance
}
