package notify_test

import (
	"bytes"
	"context"
	"image/png"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/tern-im/tern/app/notify"
	"github.com/tern-im/tern/assets"
	"github.com/tern-im/tern/protocol/client"
)

// recorder is a Notifier that hands every notification to the test.
type recorder chan [2]string

func (r recorder) Notify(title, body string) error {
	r <- [2]string{title, body}
	return nil
}

func TestCenterNotifiesOnlyWhenUnfocused(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	rec := make(recorder, 4)
	ctx, cancel := context.WithCancel(t.Context())
	c := notify.NewCenter(ctx, rec, notify.Settings{Enabled: true}, func() time.Time { return now }, nil)
	t.Cleanup(func() { cancel(); c.Wait() })
	msg := client.Message{Direction: client.Inbound, Body: "Hello\nthere", Time: now.Add(-time.Minute)}

	if c.Received("juliet@capulet.example", msg) {
		t.Error("notified while the window is focused")
	}
	c.SetFocused(false)
	if !c.Received("juliet@capulet.example", msg) {
		t.Fatal("not notified while the window is not focused")
	}
	select {
	case n := <-rec:
		if n != [2]string{"juliet@capulet.example", "Hello there"} {
			t.Errorf("notification %q, want sender and one-line text", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the notifier was not called")
	}

	out := msg
	out.Direction = client.Outbound
	old := msg
	old.Time = now.Add(-time.Hour)
	for name, m := range map[string]client.Message{"outbound": out, "archived": old} {
		if c.Received("juliet@capulet.example", m) {
			t.Errorf("%s message notified", name)
		}
	}
	c.SetSettings(notify.Settings{Enabled: false})
	if c.Received("juliet@capulet.example", msg) {
		t.Error("notified with notifications off")
	}
}

func TestTextHidesTheMessageWhenAsked(t *testing.T) {
	msg := client.Message{Direction: client.Inbound, Body: "the secret plan"}
	if title, body := notify.Text("romeo@montague.example", msg, true); title != "romeo@montague.example" || strings.Contains(body, "secret") {
		t.Errorf("hidden: %q, %q", title, body)
	}
	long := client.Message{Body: strings.Repeat("x", 500)}
	if _, body := notify.Text("a", long, false); len([]rune(body)) != notify.MaxPreview {
		t.Errorf("long body is %d runes, want %d", len([]rune(body)), notify.MaxPreview)
	}
	retracted := client.Message{Retracted: time.Now()}
	if _, body := notify.Text("a", retracted, false); body != "Message retracted" {
		t.Errorf("retracted: %q", body)
	}
}

func TestUnreadIcon(t *testing.T) {
	b, err := notify.UnreadIcon(assets.Icon)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if s := img.Bounds().Size(); s.X != 64 || s.Y != 64 {
		t.Errorf("size %v, want 64×64", s)
	}
	r, g, bl, _ := img.At(64-64/6, 64/6).RGBA()
	if r>>8 < 0xc0 || g>>8 > 0x60 || bl>>8 > 0x60 {
		t.Errorf("the mark is not red: %x %x %x", r>>8, g>>8, bl>>8)
	}
	if _, err := notify.UnreadIcon([]byte("not a png")); err == nil {
		t.Error("UnreadIcon accepted garbage")
	}
}

func TestStatusShow(t *testing.T) {
	want := map[notify.Status][2]string{
		notify.Available: {"Available", ""}, notify.Away: {"Away", "away"},
		notify.DoNotDisturb: {"Do not disturb", "dnd"}, notify.Offline: {"Offline", ""},
	}
	for _, s := range notify.Statuses() {
		if got := [2]string{s.String(), s.Show()}; got != want[s] {
			t.Errorf("%d: %q, want %q", s, got, want[s])
		}
	}
}

func TestNoTrayWithoutDesktop(t *testing.T) {
	// The test driver's app is no desktop.App: there is no tray.
	if tr := notify.NewTray(test.NewTempApp(t), assets.Icon, notify.TrayActions{}); tr != nil {
		t.Errorf("NewTray = %v on an app without a tray", tr)
	}
}

// trayApp is a test app with a system tray that records what it is given.
type trayApp struct {
	fyne.App
	menu *fyne.Menu
	icon fyne.Resource
}

func (a *trayApp) SetSystemTrayMenu(m *fyne.Menu)    { a.menu = m }
func (a *trayApp) SetSystemTrayIcon(r fyne.Resource) { a.icon = r }
func (a *trayApp) SetSystemTrayWindow(fyne.Window)   {}

func TestTrayMenuAndUnreadIcon(t *testing.T) {
	a := &trayApp{App: test.NewTempApp(t)}
	var shown, quit int
	var statuses []notify.Status
	tr := notify.NewTray(a, assets.Icon, notify.TrayActions{
		Show:      func() { shown++ },
		SetStatus: func(s notify.Status) { statuses = append(statuses, s) },
		Quit:      func() { quit++ },
	})
	if tr == nil || a.menu == nil || a.icon == nil {
		t.Fatal("no tray menu or icon installed")
	}
	var labels []string
	for _, it := range a.menu.Items {
		labels = append(labels, it.Label)
	}
	if got := strings.Join(labels, ","); got != "Show Tern,,Status,,Quit" {
		t.Fatalf("menu %q", got)
	}
	a.menu.Items[0].Action()
	a.menu.Items[4].Action()
	status := a.menu.Items[2].ChildMenu
	status.Items[2].Action() // Do not disturb
	if shown != 1 || quit != 1 || len(statuses) != 1 || statuses[0] != notify.DoNotDisturb {
		t.Errorf("shown %d, quit %d, statuses %v", shown, quit, statuses)
	}
	if !a.menu.Items[2].ChildMenu.Items[2].Checked || a.menu.Items[2].ChildMenu.Items[0].Checked {
		t.Error("the chosen status is not the checked one")
	}
	normal := a.icon
	tr.SetUnread(true)
	if a.icon == normal || a.icon.Name() != "tern-tray-unread.png" {
		t.Errorf("unread icon %v", a.icon.Name())
	}
	tr.SetUnread(false)
	if !bytes.Equal(a.icon.Content(), assets.Icon) {
		t.Error("the icon did not come back after reading")
	}
}
