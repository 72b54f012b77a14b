package settings_test

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/tern-im/tern/app/model"
	"github.com/tern-im/tern/app/settings"
	"github.com/tern-im/tern/protocol/client"
)

func TestLoadSaveRoundTrip(t *testing.T) {
	a := test.NewTempApp(t)
	if got := settings.Load(a.Preferences()); got != settings.Default() {
		t.Errorf("fresh settings %+v, want the defaults %+v", got, settings.Default())
	}
	s := settings.Settings{Notifications: false, HideText: true, Theme: settings.ThemeDark, SendTyping: false, SendMarkers: true, Encrypt: false}
	s.Save(a.Preferences())
	if got := settings.Load(a.Preferences()); got != s {
		t.Errorf("loaded %+v, want %+v", got, s)
	}
	a.Preferences().SetString("appearance.theme", "purple")
	if got := settings.Load(a.Preferences()).Theme; got != settings.ThemeSystem {
		t.Errorf("unknown theme loads as %q, want system", got)
	}
}

func TestScreenReportsChanges(t *testing.T) {
	test.NewTempApp(t)
	var changes []settings.Settings
	var enabled []bool
	var removed []client.AccountID
	w := test.NewTempWindow(t, nil)
	sc := settings.New(settings.Default(), []settings.Account{
		{ID: 7, JID: "romeo@montague.example", Enabled: true, State: model.StateOnline},
	}, settings.Actions{
		Changed:    func(s settings.Settings) { changes = append(changes, s) },
		SetEnabled: func(id client.AccountID, on bool) { enabled = append(enabled, on) },
		Remove:     func(id client.AccountID) { removed = append(removed, id) },
	}, w)
	w.SetContent(sc.Content())
	w.Resize(fyne.NewSize(560, 700))

	var checks = map[string]*widget.Check{}
	var radio *widget.RadioGroup
	for _, o := range test.LaidOutObjects(sc.Content()) {
		switch x := o.(type) {
		case *widget.Check:
			checks[x.Text] = x
		case *widget.RadioGroup:
			radio = x
		}
	}
	test.Tap(checks["Hide the message text in notifications"])
	test.Tap(checks["Let contacts see when I am typing"])
	radio.SetSelected("Dark")
	test.Tap(checks[settings.EnabledLabel])
	if len(changes) != 3 {
		t.Fatalf("%d changes, want 3", len(changes))
	}
	last := changes[2]
	if !last.HideText || last.SendTyping || last.Theme != settings.ThemeDark || !last.SendMarkers {
		t.Errorf("settings after the changes: %+v", last)
	}
	if len(enabled) != 1 || enabled[0] {
		t.Errorf("SetEnabled calls %v, want [false]", enabled)
	}
	test.AssertRendersToMarkup(t, "settings.xml", w.Canvas())
}
