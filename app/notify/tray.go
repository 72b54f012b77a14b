package notify

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
)

// Status is the availability the user chooses for every account.
type Status uint8

// The statuses of the tray menu (RFC 6121 §4.7.2.1 show values, and
// unavailable presence for Offline).
const (
	Available Status = iota
	Away
	DoNotDisturb
	Offline
)

// Statuses returns the statuses in menu order.
func Statuses() []Status { return []Status{Available, Away, DoNotDisturb, Offline} }

// String returns the status as the menu shows it.
func (s Status) String() string {
	switch s {
	case Available:
		return "Available"
	case Away:
		return "Away"
	case DoNotDisturb:
		return "Do not disturb"
	case Offline:
		return "Offline"
	}
	return "invalid"
}

// Show returns the presence <show/> value of s ("" for available and
// offline).
func (s Status) Show() string {
	switch s {
	case Away:
		return "away"
	case DoNotDisturb:
		return "dnd"
	}
	return ""
}

// Menu labels of the tray.
const (
	ShowLabel   = "Show Tern"
	StatusLabel = "Status"
	QuitLabel   = "Quit"
)

// TrayActions are what the tray menu does; each runs on the Fyne thread.
type TrayActions struct {
	Show      func()
	SetStatus func(Status)
	Quit      func()
}

// Tray is Tern's system tray icon and menu, where the platform has a tray.
// Fyne thread only.
type Tray struct {
	app     desktop.App
	actions TrayActions
	icon    []byte
	status  Status
	unread  bool
	dot     fyne.Resource // the icon with an unread mark, made on first use
}

// NewTray installs the tray icon and menu on a, or returns nil when a has
// no system tray. icon is Tern's icon (PNG).
func NewTray(a fyne.App, icon []byte, actions TrayActions) *Tray {
	d, ok := a.(desktop.App)
	if !ok {
		return nil
	}
	t := &Tray{app: d, actions: actions, icon: icon}
	t.app.SetSystemTrayMenu(t.Menu())
	t.app.SetSystemTrayIcon(fyne.NewStaticResource("tern-tray.png", icon))
	return t
}

// Menu returns the tray menu: Show, the Status submenu with the current
// status checked, and Quit.
func (t *Tray) Menu() *fyne.Menu {
	var items []*fyne.MenuItem
	for _, s := range Statuses() {
		item := fyne.NewMenuItem(s.String(), func() { t.SetStatus(s) })
		item.Checked = s == t.status
		items = append(items, item)
	}
	status := fyne.NewMenuItem(StatusLabel, nil)
	status.ChildMenu = fyne.NewMenu("", items...)
	show := fyne.NewMenuItem(ShowLabel, func() {
		if t.actions.Show != nil {
			t.actions.Show()
		}
	})
	quit := fyne.NewMenuItem(QuitLabel, func() {
		if t.actions.Quit != nil {
			t.actions.Quit()
		}
	})
	quit.IsQuit = true
	return fyne.NewMenu("Tern", show, fyne.NewMenuItemSeparator(), status, fyne.NewMenuItemSeparator(), quit)
}

// Status returns the status chosen in the menu.
func (t *Tray) Status() Status { return t.status }

// SetStatus checks s in the menu and reports it to the actions.
func (t *Tray) SetStatus(s Status) {
	t.status = s
	t.app.SetSystemTrayMenu(t.Menu())
	if t.actions.SetStatus != nil {
		t.actions.SetStatus(s)
	}
}

// SetUnread shows whether there are unread messages: the icon gains a
// mark.
func (t *Tray) SetUnread(unread bool) {
	if unread == t.unread {
		return
	}
	t.unread = unread
	if !unread {
		t.app.SetSystemTrayIcon(fyne.NewStaticResource("tern-tray.png", t.icon))
		return
	}
	if t.dot == nil {
		b, err := UnreadIcon(t.icon)
		if err != nil {
			return // the icon stays as it is
		}
		t.dot = fyne.NewStaticResource("tern-tray-unread.png", b)
	}
	t.app.SetSystemTrayIcon(t.dot)
}

// trayIconSize is the side of the tray icons, in pixels.
const trayIconSize = 64

// TrayIcon returns icon (a PNG) scaled to a tray icon, as a PNG: what the
// tray shows, and a small image to decode and send where the desktop
// asks for pixels.
func TrayIcon(icon []byte) ([]byte, error) {
	dst, err := scaled(icon)
	if err != nil {
		return nil, err
	}
	return encode(dst)
}

// scaled decodes icon (a PNG) and scales it to a tray icon.
func scaled(icon []byte) (*image.NRGBA, error) {
	src, err := png.Decode(bytes.NewReader(icon))
	if err != nil {
		return nil, fmt.Errorf("tray icon: %w", err)
	}
	b := src.Bounds()
	if b.Dx() <= 0 || b.Dy() <= 0 {
		return nil, fmt.Errorf("tray icon: empty image")
	}
	const n = trayIconSize
	dst := image.NewNRGBA(image.Rect(0, 0, n, n))
	for y := range n {
		for x := range n {
			dst.Set(x, y, src.At(b.Min.X+x*b.Dx()/n, b.Min.Y+y*b.Dy()/n))
		}
	}
	return dst, nil
}

// encode encodes a tray icon as a PNG.
func encode(img image.Image) ([]byte, error) {
	var out bytes.Buffer
	if err := png.Encode(&out, img); err != nil {
		return nil, fmt.Errorf("tray icon: %w", err)
	}
	return out.Bytes(), nil
}

// UnreadIcon returns icon (a PNG) scaled to a tray icon with a red mark in
// its upper right corner, as a PNG.
func UnreadIcon(icon []byte) ([]byte, error) {
	dst, err := scaled(icon)
	if err != nil {
		return nil, err
	}
	const n = trayIconSize
	// The mark: a red disc with a white ring, a quarter of the icon wide.
	cx, cy, r := n-n/6, n/6, n/6
	for y := cy - r - 2; y <= cy+r+2; y++ {
		for x := cx - r - 2; x <= cx+r+2; x++ {
			d := (x-cx)*(x-cx) + (y-cy)*(y-cy)
			switch {
			case d <= r*r:
				dst.Set(x, y, color.NRGBA{R: 0xd9, G: 0x30, B: 0x25, A: 0xff})
			case d <= (r+2)*(r+2):
				dst.Set(x, y, color.NRGBA{R: 0xff, G: 0xff, B: 0xff, A: 0xff})
			}
		}
	}
	return encode(dst)
}
