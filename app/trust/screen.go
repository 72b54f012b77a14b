package trust

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
)

// Runner runs a function on a goroutine it owns and waits for, and hands
// functions to the Fyne thread (chat.Tasks).
type Runner interface {
	Go(f func(ctx context.Context))
	Do(f func())
}

// Labels of the trust controls.
const (
	VerifyLabel   = "Mark as verified"
	TrustLabel    = "Trust"
	DistrustLabel = "Distrust"
	// OwnTitle heads our own device's section.
	OwnTitle = "This device"
	// ScanText explains the QR code.
	ScanText = "Let your contact scan this code to verify this device."
	// NoDevicesText is shown for a contact without OMEMO devices.
	NoDevicesText = "No OMEMO devices are known for this contact: messages cannot be encrypted for them."
	// NoOtherDevicesText is shown for our own account with one device.
	NoOtherDevicesText = "This account has no other OMEMO devices."
)

// qrScale is how many pixels a QR module takes on screen.
const qrScale = 4

// Screen shows the OMEMO devices of a contact (or our own account) with
// their fingerprints and trust, the controls to verify, trust or distrust
// each, warnings for new and changed devices, and our own fingerprint with
// its QR code.
type Screen struct {
	// OnChanged is called (Fyne thread) after a trust decision was stored.
	OnChanged func()

	run    Runner
	engine Engine
	owner  jid.JID

	devices []client.DeviceInfo
	ownFP   string
	ownURI  string
	status  *widget.Label
	list    *fyne.Container
	own     *fyne.Container
	content fyne.CanvasObject
}

// NewScreen returns the screen of owner's devices; call Load to read them.
func NewScreen(run Runner, e Engine, owner jid.JID) *Screen {
	s := &Screen{run: run, engine: e, owner: owner.Bare()}
	s.status = widget.NewLabel("")
	s.status.Wrapping = fyne.TextWrapWord
	s.status.Importance = widget.DangerImportance
	s.status.Hide()
	s.list = container.NewVBox()
	s.own = container.NewVBox()
	title := widget.NewLabelWithStyle("Devices of "+s.owner.String(), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	s.content = container.NewVScroll(container.NewVBox(title, s.status, s.list, widget.NewSeparator(), s.own))
	return s
}

// Content returns the screen's root object.
func (s *Screen) Content() fyne.CanvasObject { return s.content }

// Devices returns the devices shown.
func (s *Screen) Devices() []client.DeviceInfo { return s.devices }

// OwnURI returns the verification URI the QR code shows.
func (s *Screen) OwnURI() string { return s.ownURI }

// Status returns the error shown ("" for none).
func (s *Screen) Status() string {
	if !s.status.Visible() {
		return ""
	}
	return s.status.Text
}

// Load reads the devices and our own fingerprint off the Fyne thread and
// shows them.
func (s *Screen) Load() {
	e, owner := s.engine, s.owner
	s.run.Go(func(ctx context.Context) {
		devs, err := e.Devices(ctx, owner)
		_, fp, ferr := e.OwnFingerprint(ctx)
		uri, uerr := e.OwnURI(ctx)
		s.run.Do(func() {
			switch {
			case err != nil:
				s.showError("Could not read the devices: " + err.Error())
			case ferr != nil:
				s.showError("Could not read this device's fingerprint: " + ferr.Error())
			case uerr != nil:
				s.showError("Could not read this device's fingerprint: " + uerr.Error())
			default:
				s.status.Hide()
			}
			if err == nil {
				s.devices = devs
			}
			if ferr == nil && uerr == nil {
				s.ownFP, s.ownURI = fp, uri
			}
			s.refresh()
		})
	})
}

// Decide records a decision about the device(s) of the owner with the
// fingerprint fp, then reloads.
func (s *Screen) Decide(fp string, t client.DeviceTrust) {
	e, owner := s.engine, s.owner
	s.run.Go(func(ctx context.Context) {
		err := e.SetTrust(ctx, owner, fp, t)
		s.run.Do(func() {
			if err != nil {
				s.showError("Could not save the decision: " + err.Error())
				return
			}
			if s.OnChanged != nil {
				s.OnChanged()
			}
			s.Load()
		})
	})
}

func (s *Screen) showError(msg string) {
	s.status.SetText(msg)
	s.status.Show()
}

// refresh rebuilds the device cards.
func (s *Screen) refresh() {
	s.list.RemoveAll()
	shown := 0
	for _, d := range s.devices {
		if d.Own {
			continue
		}
		s.list.Add(s.card(d))
		shown++
	}
	if shown == 0 {
		text := NoDevicesText
		if slices.ContainsFunc(s.devices, func(d client.DeviceInfo) bool { return d.Own }) {
			text = NoOtherDevicesText
		}
		l := widget.NewLabel(text)
		l.Wrapping = fyne.TextWrapWord
		s.list.Add(l)
	}
	s.own.RemoveAll()
	if s.ownFP != "" {
		s.own.Add(widget.NewLabelWithStyle(OwnTitle, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
		s.own.Add(fingerprintLabel(s.ownFP))
		if img, err := QRImage(s.ownURI, qrScale); err == nil {
			c := canvas.NewImageFromImage(img)
			c.FillMode = canvas.ImageFillOriginal
			c.ScaleMode = canvas.ImageScalePixels
			s.own.Add(container.NewHBox(c))
			s.own.Add(widget.NewLabel(ScanText))
		}
	}
	s.list.Refresh()
	s.own.Refresh()
}

// fingerprintLabel shows a fingerprint in monospace groups of 8.
func fingerprintLabel(fp string) *widget.Label {
	l := widget.NewLabelWithStyle(FormatFingerprint(fp), fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	l.Selectable = true
	return l
}

// card is one device: its id and state, fingerprint, warning and
// controls.
func (s *Screen) card(d client.DeviceInfo) fyne.CanvasObject {
	head := "Device " + strconv.FormatUint(uint64(d.Device), 10)
	if !d.Active {
		head += " (no longer in the device list)"
	}
	k, ok := d.Current()
	state := "fingerprint not known yet"
	if ok {
		state = TrustText(k.Trust)
	}
	box := container.NewVBox(
		widget.NewLabelWithStyle(fmt.Sprintf("%s · %s", head, state), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
	)
	if w := Warning(d); w != "" {
		l := widget.NewLabelWithStyle("⚠ "+w, fyne.TextAlignLeading, fyne.TextStyle{})
		l.Importance = widget.WarningImportance
		l.Wrapping = fyne.TextWrapWord
		box.Add(l)
	}
	if ok {
		box.Add(fingerprintLabel(k.Fingerprint))
		fp := k.Fingerprint
		var buttons []fyne.CanvasObject
		if k.Trust != client.DeviceVerified {
			b := widget.NewButtonWithIcon(VerifyLabel, theme.ConfirmIcon(), func() { s.Decide(fp, client.DeviceVerified) })
			b.Importance = widget.HighImportance
			buttons = append(buttons, b)
		}
		if k.Trust == client.DeviceUndecided || k.Trust == client.DeviceDistrusted {
			buttons = append(buttons, widget.NewButton(TrustLabel, func() { s.Decide(fp, client.DeviceBlind) }))
		}
		if k.Trust != client.DeviceDistrusted {
			b := widget.NewButtonWithIcon(DistrustLabel, theme.CancelIcon(), func() { s.Decide(fp, client.DeviceDistrusted) })
			b.Importance = widget.DangerImportance
			buttons = append(buttons, b)
		}
		box.Add(container.NewHBox(buttons...))
	}
	return container.NewVBox(box, widget.NewSeparator())
}
