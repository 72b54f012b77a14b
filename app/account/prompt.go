package account

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	fynetheme "fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// UnlockLabel is the text of the button that unlocks Tern's data with the
// passphrase.
const UnlockLabel = "Unlock"

// Unlock is the screen that asks for the passphrase protecting Tern's
// data when the system has no keyring to keep its key (the key is then
// derived from the passphrase with Argon2id). The caller checks the
// passphrase off the UI thread and reports a failure with Failed.
type Unlock struct {
	entry   *widget.Entry
	button  *widget.Button
	status  *widget.Label
	submit  func(string)
	content fyne.CanvasObject
}

// NewUnlock builds the passphrase screen; create says that no data exists
// yet (the passphrase is being chosen). submit receives the passphrase on
// the Fyne thread; the screen stays busy until Failed or until it is
// replaced. Fyne thread only.
func NewUnlock(create bool, submit func(passphrase string)) *Unlock {
	u := &Unlock{submit: submit}
	u.entry = widget.NewPasswordEntry()
	u.entry.OnSubmitted = func(string) { u.send() }
	u.button = widget.NewButtonWithIcon(UnlockLabel, fynetheme.LoginIcon(), u.send)
	u.button.Importance = widget.HighImportance
	u.status = widget.NewLabel("")
	u.status.Wrapping = fyne.TextWrapWord
	u.status.Alignment = fyne.TextAlignCenter
	u.status.Hide()
	text := "There is no system keyring to protect Tern's data. Enter the passphrase that protects it."
	if create {
		text = "There is no system keyring to protect Tern's data. Choose a passphrase to protect it; you will enter it each time Tern starts."
		u.button.SetText("Continue")
	}
	intro := widget.NewLabel(text)
	intro.Wrapping = fyne.TextWrapWord
	intro.Alignment = fyne.TextAlignCenter
	logo := canvas.NewImageFromResource(icon())
	logo.FillMode = canvas.ImageFillContain
	logo.SetMinSize(fyne.NewSquareSize(64))
	column := container.NewVBox(container.NewCenter(logo), intro, u.entry, u.button, u.status)
	u.content = container.New(&columnLayout{width: 400}, column)
	return u
}

// Content returns the screen's root object.
func (u *Unlock) Content() fyne.CanvasObject { return u.content }

// FocusTarget returns the widget to focus when the screen is shown: the
// passphrase field.
func (u *Unlock) FocusTarget() fyne.Focusable { return u.entry }

func (u *Unlock) send() {
	if u.entry.Text == "" || u.button.Disabled() {
		return
	}
	pp := u.entry.Text
	u.entry.Disable()
	u.button.Disable()
	u.status.Importance = widget.MediumImportance
	u.status.SetText("Unlocking…")
	u.status.Show()
	u.submit(pp)
}

// Failed shows why the passphrase did not unlock the data and lets the
// user try again. Fyne thread only.
func (u *Unlock) Failed(msg string) {
	u.entry.SetText("")
	u.entry.Enable()
	u.button.Enable()
	u.status.Importance = widget.DangerImportance
	u.status.SetText(msg)
	u.status.Show()
}

// AskPassword shows a dialog on win asking for the password of account,
// which the keyring does not keep; reason, when not empty, comes first.
// submit receives it on the Fyne thread; nothing happens when the user
// chooses "Not now".
func AskPassword(win fyne.Window, account, reason string, submit func(password string)) {
	pw := widget.NewPasswordEntry()
	text := "Enter the password of " + account + "."
	if reason != "" {
		text = reason + " " + text
	}
	note := widget.NewLabel(text)
	note.Wrapping = fyne.TextWrapWord
	body := container.NewVBox(note, widget.NewForm(widget.NewFormItem("Password", pw)))
	d := dialog.NewCustomConfirm("Sign in", SignInLabel, "Not now", body, func(ok bool) {
		if ok && pw.Text != "" {
			submit(pw.Text)
		}
	}, win)
	pw.OnSubmitted = func(string) {
		d.Hide()
		if pw.Text != "" {
			submit(pw.Text)
		}
	}
	d.Resize(fyne.NewSize(400, 220))
	d.Show()
	win.Canvas().Focus(pw)
}
